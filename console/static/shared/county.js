// What the pages say about cases the same way: the deadlines' names, times
// in the county's zone (UTC+8, no summer time) whatever the browser's, and
// spans of time as a duty officer reads them.
export const DEADLINES = { sign_for: "签收", arrive: "到场", feedback: "反馈", close: "办结" };

// "12/03 14:05" by default; { year } adds it, { date: false } leaves the day
// out, { seconds } adds them.
export function countyTime(iso, { date = true, year = false, seconds = false } = {}) {
  if (!iso) return "—";
  const options = { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", hour12: false };
  if (date) Object.assign(options, { month: "2-digit", day: "2-digit" });
  if (year) options.year = "numeric";
  if (seconds) options.second = "2-digit";
  return new Date(iso).toLocaleString("zh-CN", options);
}

// "3 小时 5 分", "2 天 4 小时" past two days; the sign is the caller's to say.
export function span(ms) {
  const m = Math.round(Math.abs(ms) / 60000);
  if (m >= 48 * 60) return `${Math.floor(m / 1440)} 天 ${Math.floor((m % 1440) / 60)} 小时`;
  return m >= 60 ? `${Math.floor(m / 60)} 小时 ${m % 60} 分` : `${m} 分`;
}
