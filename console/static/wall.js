// The supervision bureau's wall: callers waiting per desk and the longest
// wait, operators by state, today's answer rate within 15 s, today's cases,
// notices nobody answered, overdue cases by unit. It follows the live feed
// without reloading the page: each event redraws the figures it touches.
import { api } from "./shared/api.js";
import { h, replaceChildren } from "./shared/dom.js";
import { startShell } from "./shared/shell.js";

const STATES = { idle: "空闲", ringing: "振铃", talking: "通话中", paused: "示忙", wrap_up: "话后整理" };
const $ = (id) => document.getElementById(id);

// County midnight today (UTC+8, no summer time), for "today" figures.
function todayFrom() {
  const county = new Date(Date.now() + 8 * 3600e3);
  return `${county.toISOString().slice(0, 10)}T00:00:00+08:00`;
}

async function desks() {
  const { status, data } = await api("GET", "/api/v1/desks");
  if (status !== 200) return;
  for (const desk of data.desks) {
    const tile = $(`desk-${desk.desk}`);
    if (!tile) continue;
    tile.querySelector('[data-figure="waiting"]').textContent = `${desk.waiting.length} 人`;
    tile.querySelector('[data-figure="longest"]').textContent = `最长等待 ${Math.round(desk.longest_wait_s)} 秒`;
    const counts = {};
    for (const op of desk.operators) if (op.state !== "logged_out") counts[op.state] = (counts[op.state] ?? 0) + 1;
    const parts = Object.entries(counts).map(([state, n]) => `${STATES[state] ?? state} ${n}`);
    tile.querySelector('[data-figure="operators"]').textContent = parts.length ? `坐席：${parts.join("，")}` : "无人签入";
    tile.classList.toggle("alarm", desk.waiting.length > 0 && desk.logged_in === 0);
  }
}

async function answered() {
  const { status, data } = await api("GET", `/api/v1/supervision/desks?from=${encodeURIComponent(todayFrom())}`);
  if (status !== 200) return;
  let offered = 0;
  let inTime = 0;
  for (const desk of data.desks) {
    offered += desk.total.offered;
    inTime += desk.total.answered_within_target;
  }
  $("service-level").textContent = offered ? `${Math.round((inTime / offered) * 100)}%` : "—";
  $("service-detail").textContent = `来电 ${offered}，15 秒内接听 ${inTime}`;
}

async function cases() {
  const { status, data } = await api("GET", `/api/v1/cases?since=${encodeURIComponent(todayFrom())}&limit=1000`);
  if (status !== 200) return;
  const closed = data.cases.filter((c) => c.times.closed).length;
  $("cases-opened").textContent = `${data.cases.length} 件`;
  $("cases-closed").textContent = `其中已办结 ${closed} 件`;
}

async function units() {
  const [open, figures] = await Promise.all([
    api("GET", "/api/v1/supervision/open?overdue=true"),
    api("GET", `/api/v1/supervision/units?from=${encodeURIComponent(todayFrom())}`),
  ]);
  if (open.status === 200) {
    const byUnit = new Map();
    for (const row of open.data.cases) {
      const name = row.lead_unit_name ?? row.lead_unit ?? "未派单";
      byUnit.set(name, (byUnit.get(name) ?? 0) + 1);
    }
    const sorted = [...byUnit.entries()].sort((a, b) => b[1] - a[1]);
    replaceChildren($("overdue-units"), sorted.length ? sorted.map(([name, n]) => h("li", {}, `${name}：${n} 件`)) : h("li", { class: "quiet" }, "无超时工单"));
  }
  if (figures.status === 200) {
    const notices = figures.data.total.notices;
    $("notices-unreached").textContent = `${notices.unreached} 次`;
    $("notices-made").textContent = `今日通知 ${notices.made} 次，按键签收 ${notices.accepted} 次`;
  }
}

// Which figures an event touches; each group redrawn at most every 300 ms.
const GROUPS = { desks, answered, cases, units };
const pending = new Set();
let timer = null;
function redraw(...groups) {
  for (const group of groups) pending.add(group);
  if (timer) return;
  timer = setTimeout(async () => {
    const now = [...pending];
    pending.clear();
    timer = null;
    await Promise.all(now.map((g) => GROUPS[g]()));
    $("updated").textContent = `更新于 ${new Date().toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai" })}`;
  }, 300);
}

function onEvent(event) {
  const type = event.type;
  if (type.startsWith("queue.") || type.startsWith("operator.") || type === "desk.alert") redraw("desks", "answered");
  else if (type.startsWith("case.")) redraw("cases", "units");
  else if (type.startsWith("notice.")) redraw("units");
}

const shown = await startShell({ onOpen: () => redraw("desks", "answered", "cases", "units"), onEvent });
if (shown) setInterval(() => redraw("desks"), 5000); // the waits grow between events
