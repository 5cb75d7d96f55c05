// The supervision bureau's statistics over a period: each member unit's
// on-time rate and handling times (median and 90th percentile), returns,
// the ladder, re-handling, satisfaction and unreached notices; the cases
// sent back between the desks, per operator and category; calls per hour at
// each desk. Charts by Apache ECharts, served from this server (vendor/);
// every chart has its table of the same figures, and each table its CSV.
import * as echarts from "./vendor/echarts-6.1.0/echarts.esm.min.js";
import { api, chinese } from "./shared/api.js";
import { h, replaceChildren } from "./shared/dom.js";
import { startShell } from "./shared/shell.js";

const $ = (id) => document.getElementById(id);
const DAY = 24 * 3600e3;
const COUNTY = 8 * 3600e3; // the county's offset from UTC (no summer time)
const DESKS = { 110: "110", 12345: "12345" };

// ------------------------------------------------------------------ the period
// Dates are county days, "YYYY-MM-DD"; the API takes [from, to) and a plain
// date means 00:00 county time, so the last day shown is `to` minus one.

const countyToday = () => new Date(Date.now() + COUNTY).toISOString().slice(0, 10);
const asDate = (day) => new Date(`${day}T00:00:00Z`);
const dayOf = (date) => date.toISOString().slice(0, 10);
const addDays = (day, n) => dayOf(new Date(asDate(day).getTime() + n * DAY));

function preset(name) {
  const today = countyToday();
  const date = asDate(today);
  const first = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1));
  const nextFirst = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1));
  switch (name) {
    case "today":
      return [today, today];
    case "week":
      return [addDays(today, -((date.getUTCDay() + 6) % 7)), today]; // from Monday
    case "last-month": {
      const lastFirst = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - 1, 1));
      return [dayOf(lastFirst), addDays(dayOf(first), -1)];
    }
    default:
      return [dayOf(first), addDays(dayOf(nextFirst), -1)];
  }
}

function chosenPeriod() {
  const from = $("from").value;
  const to = $("to").value;
  if (!from || !to) return { problem: "请选择起止日期。" };
  if (to < from) return { problem: "截止日期不能早于起始日期。" };
  return { from, to, query: `from=${from}&to=${addDays(to, 1)}` };
}

// ------------------------------------------------------------------ formatting

const pct = (rate) => (rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`);
const hours = (minutes) => (minutes === null || minutes === undefined ? null : Math.round((minutes / 60) * 10) / 10);

function duration(minutes) {
  if (minutes === null || minutes === undefined) return "—";
  return minutes < 60 ? `${Math.round(minutes)} 分钟` : `${(minutes / 60).toFixed(1)} 小时`;
}

const medianAndP90 = (d) => (d && d.count ? `${duration(d.median_minutes)} / ${duration(d.p90_minutes)}` : "—");

function countyHour(iso) {
  const local = new Date(new Date(iso).getTime() + COUNTY).toISOString();
  return `${local.slice(5, 10)} ${local.slice(11, 13)}时`;
}

// ------------------------------------------------------------------ charts

const charts = {};
window.__ldCharts = charts; // for the tests and the curious: the live ECharts instances

function draw(id, option, empty) {
  const chart = (charts[id] ??= echarts.init($(id), null, { renderer: "svg" }));
  chart.setOption(
    {
      animation: false,
      aria: { enabled: true },
      // Plain-text tooltips: the HTML ones carry inline styles the page's CSP refuses.
      tooltip: { trigger: "axis", renderMode: "richText" },
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      legend: { top: 0 },
      title: empty ? { text: empty, left: "center", top: "middle", textStyle: { color: "#666", fontSize: 14 } } : { show: false },
      ...option,
    },
    { notMerge: true },
  );
}

const bar = (name, data, extra = {}) => ({ type: "bar", name, data, ...extra });

// ------------------------------------------------------------------ units

async function showUnits(period) {
  const { status, data } = await api("GET", `/api/v1/supervision/units?${period.query}`);
  if (status !== 200) return said(status, data);
  const active = data.units.filter((u) => u.dispatched > 0);
  const names = active.map((u) => u.unit_name ?? u.unit);
  const none = active.length ? null : "所选期间没有派单";
  draw(
    "chart-on-time",
    {
      xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 6 ? 30 : 0 } },
      yAxis: { type: "value", name: "按时办结率 %", max: 100, nameTextStyle: { align: "left" } },
      series: [bar("按时办结率", active.map((u) => (u.on_time_rate === null ? null : Math.round(u.on_time_rate * 1000) / 10)))],
    },
    none,
  );
  drawDurations(active, none);
  $("step").onchange = () => drawDurations(active, none);
  const row = (u, scope) =>
    h(
      "tr",
      { "data-unit": u.unit ?? "total" },
      h("th", { scope }, u.unit_name ?? u.unit),
      h("td", {}, u.dispatched),
      h("td", {}, u.closed),
      h("td", {}, u.open),
      h("td", {}, pct(u.on_time_rate)),
      h("td", {}, medianAndP90(u.durations.sign_for)),
      h("td", {}, medianAndP90(u.durations.arrive)),
      h("td", {}, medianAndP90(u.durations.close)),
      h("td", {}, u.returns),
      h("td", {}, `${u.ladder.remind} / ${u.ladder.notice} / ${u.ladder.bulletin}`),
      h("td", {}, u.re_handles),
      h("td", {}, u.extensions),
      h("td", {}, u.satisfaction.rated ? `${pct(u.satisfaction.satisfied_rate)}（${u.satisfaction.rated}）` : "—"),
      h("td", { class: u.notices.unreached ? "alarm-text" : null }, `${u.notices.unreached} / ${u.notices.made}`),
    );
  // The roster's order; units with nothing dispatched only when asked for.
  const listed = $("all-units").checked ? data.units : active;
  replaceChildren($("units-table").querySelector("tbody"), listed.map((u) => row(u, "row")));
  $("all-units").onchange = () => showUnits(period);
  replaceChildren($("units-table").querySelector("tfoot"), row(data.total, "row"));
}

function drawDurations(active, none) {
  const step = $("step").value;
  const label = $("step").selectedOptions[0].textContent;
  draw(
    "chart-durations",
    {
      xAxis: { type: "category", data: active.map((u) => u.unit_name ?? u.unit), axisLabel: { interval: 0 } },
      yAxis: { type: "value", name: `${label}用时（小时）`, nameTextStyle: { align: "left" } },
      series: [
        bar("中位数", active.map((u) => hours(u.durations[step]?.median_minutes))),
        bar("90% 分位", active.map((u) => hours(u.durations[step]?.p90_minutes))),
      ],
    },
    none,
  );
}

// ------------------------------------------------------------------ wrong transfers

async function showTransfers(period) {
  const { status, data } = await api("GET", `/api/v1/supervision/wrong-transfers?${period.query}`);
  if (status !== 200) return said(status, data);
  const operators = data.operators;
  draw(
    "chart-wrong-operators",
    {
      yAxis: { type: "category", data: operators.map((o) => `${o.operator}（${DESKS[o.desk] ?? o.desk}）`), inverse: true },
      xAxis: { type: "value", name: "件", minInterval: 1 },
      series: [bar("转办", operators.map((o) => o.handovers)), bar("被退回", operators.map((o) => o.sent_back))],
    },
    operators.length ? null : "所选期间没有转办",
  );
  replaceChildren(
    $("categories-table").querySelector("tbody"),
    data.categories.map((c) =>
      h("tr", {}, h("th", { scope: "row" }, c.category_name ?? c.category ?? "未分类"), h("td", {}, c.handovers), h("td", {}, c.sent_back), h("td", {}, pct(c.rate))),
    ),
  );
}

// ------------------------------------------------------------------ calls per hour

async function showDesks(period) {
  const { status, data } = await api("GET", `/api/v1/supervision/desks?${period.query}`);
  if (status !== 200) return said(status, data);
  const slots = data.desks[0]?.hours ?? [];
  const offered = data.desks.reduce((n, d) => n + d.total.offered, 0);
  draw(
    "chart-hours",
    {
      xAxis: { type: "category", data: slots.map((s) => countyHour(s.start)) },
      yAxis: { type: "value", name: "通", minInterval: 1 },
      dataZoom: slots.length > 48 ? [{ type: "slider", bottom: 0 }, { type: "inside" }] : [],
      grid: { left: 8, right: 16, top: 40, bottom: slots.length > 48 ? 48 : 8, containLabel: true },
      series: data.desks.flatMap((d) => [
        { type: "line", name: `${d.desk} 呼入`, data: d.hours.map((s) => s.offered), showSymbol: false },
        { type: "line", name: `${d.desk} 接听`, data: d.hours.map((s) => s.answered), showSymbol: false },
      ]),
    },
    offered ? null : "所选期间没有来电",
  );
  const met = (t) => (t.connection_rate_met && t.service_level_met ? "达标" : t.offered ? "未达标" : "—");
  replaceChildren(
    $("desks-table").querySelector("tbody"),
    data.desks.map((d) =>
      h(
        "tr",
        { "data-desk": d.desk },
        h("th", { scope: "row" }, d.desk),
        h("td", {}, d.total.offered),
        h("td", {}, d.total.answered),
        h("td", {}, d.total.abandoned),
        h("td", {}, pct(d.total.connection_rate)),
        h("td", {}, pct(d.total.service_level)),
        h("td", {}, d.total.average_wait_s ?? "—"),
        h("td", {}, met(d.total)),
      ),
    ),
  );
}

// ------------------------------------------------------------------ the page

function said(status, data) {
  const message = chinese(data?.error?.message ?? `查询失败（${status}）`);
  $("period-error").textContent = message;
  $("period-error").hidden = false;
}

async function show() {
  const period = chosenPeriod();
  $("period-error").hidden = true;
  if (period.problem) return said(400, { error: { message: period.problem } });
  history.replaceState(null, "", `?from=${period.from}&to=${period.to}`);
  $("units-csv").href = `/api/v1/supervision/units?format=csv&${period.query}`;
  $("transfers-csv").href = `/api/v1/supervision/wrong-transfers?format=csv&${period.query}`;
  $("desks-csv").href = `/api/v1/supervision/desks?format=csv&${period.query}`;
  document.body.dataset.loading = "true";
  await Promise.all([showUnits(period), showTransfers(period), showDesks(period)]);
  $("period-shown").textContent = `统计期间：${period.from} 至 ${period.to}（县时间，含首尾两日）`;
  delete document.body.dataset.loading;
}

async function main() {
  if (!(await startShell())) return;
  const asked = new URLSearchParams(location.search);
  const [from, to] = preset("month");
  $("from").value = asked.get("from") ?? from;
  $("to").value = asked.get("to") ?? to;
  $("period").addEventListener("submit", (event) => {
    event.preventDefault();
    show();
  });
  for (const button of document.querySelectorAll("[data-preset]")) {
    button.addEventListener("click", () => {
      [$("from").value, $("to").value] = preset(button.dataset.preset);
      show();
    });
  }
  window.addEventListener("resize", () => Object.values(charts).forEach((chart) => chart.resize()));
  await show();
}

main();
