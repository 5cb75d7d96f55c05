// The supervision bureau's open and overdue cases (督办工单): the list from
// /api/v1/supervision/open in the API's order (the most overdue first), with
// the unit and overdue-only filters (also in the CSV link and the page's
// address), and a case's deadlines, timeline and the ladder's buttons
// (提醒/催办/通报) — only those the case's `allowed` lists, each asking for
// the deadline it is about. The live feed keeps the list current.
import { api, chinese } from "./shared/api.js";
import { DEADLINES, countyTime, span } from "./shared/county.js";
import { h, replaceChildren } from "./shared/dom.js";
import { startShell } from "./shared/shell.js";

// The case time that meets each deadline (the case JSON's `times`).
const MET_BY = { sign_for: "signed", arrive: "arrived", feedback: "fed_back", close: "closed" };
const LADDER = { remind: "提醒", notice: "催办", bulletin: "通报" };
// States on a unit's clock, where deadlines bind and the ladder runs (records/core/lifecycle.py).
const ON_THE_CLOCK = new Set(["dispatched", "signed", "on_scene", "fed_back", "return_requested"]);
const NOTICES = {
  queued: "待呼叫",
  calling: "呼叫中",
  accepted: "已按键签收",
  declined: "已按键退单",
  unreached: "未送达",
  cancelled: "已取消",
};
// Timeline entries: the commands, and the entries the server writes itself.
const ENTRIES = {
  open: "受理",
  classify: "分类定性",
  refer_to_110: "转110",
  accept_police: "110受理",
  refer_to_12345: "转12345",
  police_feedback: "警情反馈",
  send_back: "退回",
  police_close: "警情办结",
  dispatch: "派发",
  sign: "签收",
  arrive: "到场",
  feed_back: "反馈进展",
  reply: "办结回复",
  approve_reply: "审核通过",
  reject_reply: "审核不通过",
  close: "办结",
  answer_directly: "直接答复办结",
  request_return: "申请退单",
  redispatch: "改派",
  reject_return: "退单驳回",
  request_extension: "申请延期",
  approve_extension: "同意延期",
  refuse_extension: "不同意延期",
  follow_up: "回访",
  reopen: "重办",
  archive: "归档",
  merge: "并单",
  cancel: "撤销",
  remind: "提醒",
  notice: "催办",
  bulletin: "通报",
  absorb: "并入",
  link_call: "关联来电",
  callback: "回拨",
  menu: "语音菜单",
  follow_up_call: "回访电话",
};
// What a timeline entry's data says, in this order.
const SAYS = [
  ["note", ""],
  ["reason", "原因："],
  ["measures", "措施："],
  ["result", "结果："],
];
const $ = (id) => document.getElementById(id);

let units = new Map(); // code → name, from the roster
let rows = [];
let skew = 0; // the server's clock minus this browser's
let open = null; // the case shown (GET /api/v1/cases/{n})
let wanted = null; // the case last asked for: a late answer about another is dropped
let viewing = 0; // the latest case request
let asking = null; // the ladder command whose form is open
let asked = 0; // the latest list request: older answers are dropped
let unitsLoaded;
const ready = new Promise((resolve) => {
  unitsLoaded = resolve;
});

const serverNow = () => Date.now() + skew;

// ------------------------------------------------------------------ the list

function filterQuery(extra = {}) {
  const params = new URLSearchParams(extra);
  const unit = $("filter-unit").value;
  if (unit) params.set("unit", unit);
  if ($("filter-overdue").checked) params.set("overdue", "true");
  return params.toString();
}

async function loadUnits() {
  const { status, data } = await api("GET", "/api/v1/units");
  if (status === 200) {
    units = new Map(data.units.map((u) => [u.code, u.name]));
    const select = $("filter-unit");
    replaceChildren(
      select,
      h("option", { value: "" }, "全部单位"),
      data.units.map((u) => h("option", { value: u.code }, u.name)),
    );
  }
  // The filters the address carries (a reload or a shared link keeps them).
  const given = new URLSearchParams(location.search);
  if (units.has(given.get("unit"))) $("filter-unit").value = given.get("unit");
  $("filter-overdue").checked = given.get("overdue") === "true";
  unitsLoaded();
}

async function loadList() {
  await ready;
  const mine = ++asked;
  const query = filterQuery();
  $("csv").href = `/api/v1/supervision/open?${filterQuery({ format: "csv" })}`;
  history.replaceState(null, "", query ? `${location.pathname}?${query}` : location.pathname);
  const { status, data } = await api("GET", `/api/v1/supervision/open${query ? `?${query}` : ""}`);
  if (mine !== asked) return; // the filters changed meanwhile
  if (status !== 200) {
    showListError(chinese(data?.error?.message ?? `工单列表加载失败（${status}）`));
    return;
  }
  showListError("");
  skew = Date.parse(data.now) - Date.now();
  rows = data.cases;
  const overdue = rows.filter((r) => r.overdue).length;
  const scope = [data.unit ? `承办单位：${units.get(data.unit) ?? data.unit}` : "", data.overdue_only ? "仅超时" : ""].filter(Boolean);
  const within = scope.length ? `（${scope.join("，")}）` : "";
  const summary = rows.length
    ? `共 ${rows.length} 件未办结工单${overdue ? `，其中 ${overdue} 件已超时` : ""}${within}`
    : `没有未办结工单${within}`;
  if ($("list-summary").textContent !== summary) $("list-summary").textContent = summary;
  drawList();
}

function showListError(message) {
  $("list-error").textContent = message;
  $("list-error").hidden = !message;
}

function drawList() {
  // A redraw (the live feed, a filter) keeps the focus on the row it was on.
  const focused = document.activeElement?.closest?.("#rows button")?.dataset.case;
  replaceChildren(
    $("rows"),
    rows.map((row) => {
      const shown = open?.number === row.number;
      return h(
        "tr",
        { class: row.overdue ? "overdue" : null, "data-case": row.number, "aria-current": shown ? "true" : null },
        h(
          "td",
          {},
          h("button", { type: "button", class: "row-open", "data-case": row.number, onclick: () => openCase(row.number, { scroll: true }) }, row.number),
        ),
        h("td", {}, row.state_label),
        h("td", {}, row.desk),
        h("td", {}, row.category_name ?? row.category ?? "—"),
        h("td", {}, row.township_name ?? row.township ?? "—"),
        h("td", {}, row.lead_unit_name ?? row.lead_unit ?? "未派单"),
        h("td", {}, clock(row.created_at)),
        h("td", { class: "next-deadline" }, nextDeadline(row)),
        h("td", { class: "ladder-count", "data-ladder": "remind" }, row.ladder.remind),
        h("td", { class: "ladder-count", "data-ladder": "notice" }, row.ladder.notice),
        h("td", { class: "ladder-count", "data-ladder": "bulletin" }, row.ladder.bulletin),
        h("td", { class: "notice-state" }, noticeState(row.notice)),
      );
    }),
  );
  if (focused) $("rows").querySelector(`button[data-case="${CSS.escape(focused)}"]`)?.focus();
}

// The countdowns move on: only the deadline cells are redrawn.
function tick() {
  const byNumber = new Map(rows.map((row) => [row.number, row]));
  for (const tr of $("rows").children) {
    const row = byNumber.get(tr.dataset.case);
    if (row) replaceChildren(tr.querySelector(".next-deadline"), nextDeadline(row));
  }
}

// An overdue row: its most overdue deadline, marked in words. Otherwise the
// first deadline not yet met, counting down while the unit's clock runs.
function nextDeadline(row) {
  const entries = Object.entries(row.deadlines);
  if (row.overdue) {
    const late = entries.filter(([, d]) => d.overdue).sort((a, b) => Date.parse(a[1].due) - Date.parse(b[1].due))[0];
    if (late) {
      const [name, d] = late;
      return [h("strong", { class: "late-tag" }, "超时"), ` ${DEADLINES[name]}已超时 ${span(serverNow() - Date.parse(d.due))}`];
    }
  }
  const next = entries.find(([, d]) => !d.done_at && d.due);
  if (!next) return "—";
  const [name, d] = next;
  const left = Date.parse(d.due) - serverNow();
  if (!ON_THE_CLOCK.has(row.state)) return `${DEADLINES[name]}时限 ${dueClock(d.due)}（不计时）`;
  return left >= 0 ? `${DEADLINES[name]}剩余 ${span(left)}` : `${DEADLINES[name]}已到期`;
}

function noticeState(state) {
  if (!state) return "—";
  const label = NOTICES[state] ?? state;
  return state === "unreached" ? h("strong", { class: "alert" }, `${label}（无人确认）`) : label;
}

const clock = (iso) => countyTime(iso);

// A deadline as the county writes it (the CSV's way): a limit that runs to
// local midnight ends at 24:00 of its last day, not at 00:00 of the next.
function dueClock(iso) {
  const county = new Date(Date.parse(iso) + 8 * 3600e3); // UTC+8, no summer time
  if (county.getUTCHours() || county.getUTCMinutes() || county.getUTCSeconds()) return clock(iso);
  const day = new Date(county.getTime() - 86400e3);
  const two = (n) => String(n).padStart(2, "0");
  return `${two(day.getUTCMonth() + 1)}/${two(day.getUTCDate())} 24:00`;
}

// ------------------------------------------------------------------ one case

async function openCase(number, { scroll = false } = {}) {
  wanted = number;
  const mine = ++viewing;
  const { status, data } = await api("GET", `/api/v1/cases/${encodeURIComponent(number)}`);
  if (mine !== viewing) return; // another case (or a fresher answer) was asked for meanwhile
  if (status !== 200) {
    showListError(chinese(data?.error?.message ?? `工单 ${number} 打开失败（${status}）`));
    return;
  }
  showCase(data);
  if (scroll) $("detail").scrollIntoView({ block: "nearest" });
}

function showCase(data) {
  const another = open?.number !== data.number;
  open = data;
  if (another) {
    closeForm();
    say("", "");
  }
  $("detail").hidden = false;
  $("detail-number").textContent = data.number;
  $("detail-state").textContent = data.state_label;
  $("detail-what").textContent = data.description ?? "";
  const where = [
    data.location.address,
    data.location.township ? units.get(data.location.township) ?? data.location.township : null,
    data.lead_unit ? `承办单位：${units.get(data.lead_unit) ?? data.lead_unit}` : "未派单",
    data.co_units.length ? `协办单位：${data.co_units.map((c) => units.get(c) ?? c).join("、")}` : null,
  ];
  $("detail-where").textContent = where.filter(Boolean).join(" · ");
  replaceChildren(
    $("detail-deadlines"),
    Object.entries(data.due)
      .filter(([, due]) => due)
      .map(([name, due]) => h("li", {}, `${DEADLINES[name] ?? name}时限 ${dueClock(due)}`, " ", deadlineState(data, name, due))),
  );
  if (!$("detail-deadlines").children.length) $("detail-deadlines").append(h("li", { class: "quiet" }, "尚未派发，没有时限"));
  drawLadder();
  replaceChildren($("detail-timeline"), data.timeline.map(entry));
  for (const tr of $("rows").children) {
    if (tr.dataset.case === data.number) tr.setAttribute("aria-current", "true");
    else tr.removeAttribute("aria-current");
  }
}

function deadlineState(data, name, due) {
  const met = data.times[MET_BY[name]];
  if (met) return h("span", { class: "quiet" }, `（已于 ${clock(met)} 完成）`);
  const left = Date.parse(due) - serverNow();
  if (!ON_THE_CLOCK.has(data.state)) return h("span", { class: "quiet" }, "（不计时）");
  if (left >= 0) return h("span", {}, `（剩余 ${span(left)}）`);
  return h("strong", { class: "alert" }, `（已超时 ${span(left)}）`);
}

function entry(e) {
  const data = e.data ?? {};
  // A linkage notice's call is named `notice` like 催办; its facts sit under data.notice.
  const linkage = e.command === "notice" && typeof data.notice === "object" && data.notice !== null;
  const name = linkage ? "联动通知" : ENTRIES[e.command] ?? e.command;
  const about = data.deadline && DEADLINES[data.deadline] ? `（${DEADLINES[data.deadline]}时限）` : "";
  const unit = e.command === "dispatch" || e.command === "redispatch" ? data.lead_unit : null;
  const says = SAYS.filter(([key]) => typeof data[key] === "string" && data[key]).map(([key, label]) => `${label}${data[key]}`);
  return h(
    "li",
    { "data-command": linkage ? "linkage_notice" : e.command },
    h("time", { datetime: e.at }, clock(e.at)),
    ` ${e.actor ?? ""} `,
    h("strong", {}, name),
    about,
    unit ? ` → ${units.get(unit) ?? unit}` : "",
    says.length ? `：${says.join("；")}` : "",
  );
}

// ------------------------------------------------------------------ the ladder

// The buttons are the ladder commands `allowed` lists now, and no others.
function drawLadder() {
  const commands = Object.keys(LADDER).filter((c) => open.allowed.includes(c));
  replaceChildren(
    $("ladder"),
    commands.map((c) =>
      h("button", { type: "button", "data-command": c, "aria-controls": "ladder-form", "aria-expanded": asking === c ? "true" : "false", onclick: () => openForm(c) }, LADDER[c]),
    ),
  );
  $("ladder-none").hidden = commands.length > 0;
  if (asking && !commands.includes(asking)) closeForm();
}

// The deadlines a step can be about now, as the server lists them with the
// case (`ladder_deadlines`: 提醒 a running clock, 催办/通报 one run out).
function deadlinesFor(data, command) {
  return (data.ladder_deadlines?.[command] ?? []).map((name) => [name, data.due[name]]);
}

function openForm(command) {
  if (!open) return;
  asking = command;
  const choices = deadlinesFor(open, command);
  replaceChildren(
    $("ladder-deadline"),
    choices.map(([name, due]) => {
      const left = Date.parse(due) - serverNow();
      const when = left >= 0 ? `剩余 ${span(left)}` : `已超时 ${span(left)}`;
      return h("option", { value: name }, `${DEADLINES[name]}时限 ${dueClock(due)}（${when}）`);
    }),
  );
  $("ladder-legend").textContent = `${LADDER[command]}：选择时限`;
  $("ladder-send").textContent = `发送${LADDER[command]}`;
  $("ladder-send").disabled = choices.length === 0;
  $("ladder-form").hidden = false;
  for (const button of $("ladder").children) button.setAttribute("aria-expanded", button.dataset.command === command ? "true" : "false");
  say("", choices.length ? "" : `没有可${LADDER[command]}的时限。`);
  $("ladder-deadline").focus();
}

function closeForm() {
  asking = null;
  $("ladder-form").hidden = true;
  $("ladder-note").value = "";
  for (const button of $("ladder").children) button.setAttribute("aria-expanded", "false");
}

async function send(event) {
  event.preventDefault();
  if (!open || !asking) return;
  const command = asking;
  const number = open.number;
  const deadline = $("ladder-deadline").value;
  const body = { deadline };
  const note = $("ladder-note").value.trim();
  if (note) body.note = note;
  $("ladder-send").disabled = true;
  const { status, data } = await api("POST", `/api/v1/cases/${encodeURIComponent(number)}/${command}`, body);
  $("ladder-send").disabled = false;
  if (wanted !== number) return; // the person has gone on to another case
  if (status >= 300) {
    say("", refusal(status, data));
    if (status === 409 || status === 403) await openCase(number); // what is allowed now
    return;
  }
  ++viewing; // this answer is fresher than any read still on its way
  closeForm();
  showCase(data);
  say(`已${LADDER[command]}：工单 ${number}，${DEADLINES[deadline]}时限。`, "");
  loadList();
}

function refusal(status, data) {
  const field = data?.error?.details?.field;
  if (status === 409) return "工单情况已变化，不能这样督办；可用的操作已刷新。";
  if (status === 403) return "您的角色不能对此工单督办。";
  if (status === 400 && field === "deadline") return "请选择督办针对的时限。";
  if (status === 400 && field === "note") return "请更正督办意见。";
  return chinese(data?.error?.message ?? `督办失败（${status}）`);
}

function say(result, error) {
  $("ladder-result").textContent = result;
  $("ladder-error").textContent = error;
  $("ladder-error").hidden = !error;
}

// ------------------------------------------------------------------ start

let reload = null;
let reopen = false;
function onEvent(event) {
  const type = event.type ?? "";
  if (!type.startsWith("case.") && !type.startsWith("notice.")) return;
  if (wanted && event.data?.case === wanted) reopen = true;
  clearTimeout(reload);
  reload = setTimeout(() => {
    loadList();
    if (reopen && wanted) openCase(wanted);
    reopen = false;
  }, 200);
}

const shown = await startShell({ onOpen: loadList, onEvent });
if (shown) {
  await loadUnits();
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  $("filter-unit").addEventListener("change", loadList);
  $("filter-overdue").addEventListener("change", loadList);
  $("ladder-form").addEventListener("submit", send);
  $("ladder-cancel").addEventListener("click", () => {
    closeForm();
    say("", "");
  });
  setInterval(tick, 30000); // the countdowns move on
}
