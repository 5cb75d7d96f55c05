// The operator's desk: my phone's state and its buttons, my desk's waiting
// line, and the screen pop: the moment my phone rings, the caller and what
// is known of them (the case this call opened, their open cases to attach
// the call to, their earlier cases, what the menu recorded).
import { api, chinese } from "./shared/api.js";
import { countyTime } from "./shared/county.js";
import { h, replaceChildren } from "./shared/dom.js";
import { startShell } from "./shared/shell.js";
import { currentCase, openCase, startCaseForm } from "./case_form.js";

const STATES = {
  logged_out: "未签入",
  idle: "空闲",
  ringing: "振铃",
  talking: "通话中",
  paused: "示忙",
  wrap_up: "话后整理",
};
const TRANSFER_STATES = {
  requested: "正在呼叫",
  ringing: "对方振铃",
  answered: "对方已接听",
  completed: "已转接",
  cancelled: "已取消",
  failed: "转接失败",
  abandoned: "来电已挂断",
};
const TRANSFER_NOTICES = {
  busy: "对方忙",
  no_answer: "对方无人接听",
  failed: "对方无法接通",
  congestion: "线路拥塞",
  target_hung_up: "对方已挂断",
  caller_hung_up: "来电人已挂断",
  returned_to_desk: "超时未接，来电已回到坐席",
  pbx_restarted: "交换机重启，转接中断",
};
const MODES = { blind: "一键转接", attended: "协商转接", conference: "三方通话" };
const VIAS = { citizen: "直接来电", menu: "语音菜单", emergency: "紧急键", transfer: "转接" };
const $ = (id) => document.getElementById(id);

let phone = null;
let desk = null;
let transfer = null; // the transfer of the current call I started, as the live feed last told
let current = null; // the call on my phone: {callId, uniqueid, ringingAt, answeredAt, endedAt, candidates}
const myLegs = new Map(); // my phone's legs: uniqueid → call id
const citizens = new Map(); // call id → the citizen's leg as it started (number, name)
window.__ldPops = []; // when each pop was drawn (for the tests and benchmarks)

// ------------------------------------------------------------------ phone state and line

async function loadDesks() {
  const { status, data } = await api("GET", "/api/v1/desks");
  if (status !== 200) return;
  const mine = data.desks.find((d) => d.desk === desk);
  const reasons = data.pause_reasons;
  const select = $("pause-reason");
  if (select.options.length !== reasons.length) {
    replaceChildren(select, reasons.map((r) => h("option", { value: r }, r)));
  }
  const operator = mine?.operators.find((o) => o.phone === phone);
  showPhone(operator);
  showLine(mine);
}

function showPhone(operator) {
  const state = operator?.state ?? "logged_out";
  $("phone-state").textContent = STATES[state] + (operator?.reason ? `（${operator.reason}）` : "");
  $("phone-state").dataset.state = state;
  $("phone-since").textContent = operator?.since ? `自 ${clock(operator.since)}` : "";
  $("login").disabled = state !== "logged_out";
  $("logout").disabled = state === "logged_out";
  $("pause").disabled = state === "logged_out" || state === "paused";
  $("ready").disabled = !["paused", "wrap_up"].includes(state);
}

function showLine(mine) {
  const waiting = mine?.waiting ?? [];
  $("line-summary").textContent = waiting.length
    ? `${waiting.length} 位来电排队，最长等待 ${Math.round(mine.longest_wait_s)} 秒`
    : "无人排队";
  replaceChildren(
    $("line-list"),
    waiting.map((w) =>
      h("li", { "data-call": w.call_id }, `${w.caller_number ?? "未知号码"} · ${VIAS[w.via] ?? w.via} · 入队 ${clock(w.joined_at)}`),
    ),
  );
}

let reloadTimer = null;
function reloadDesksSoon() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(loadDesks, 150);
}

async function act(action) {
  const error = $("phone-error");
  error.hidden = true;
  const body = action === "pause" ? { reason: $("pause-reason").value } : undefined;
  const { status, data } = await api("POST", `/api/v1/operators/${encodeURIComponent(phone)}/${action}`, body);
  if (status === 202) {
    reloadDesksSoon();
    return;
  }
  const said = {
    503: "交换机暂不可用：请用话机按键操作（*71 签入，*72 签出，*73 示忙，*70 就绪）。",
    403: "不能操作这部话机。",
    404: "这部话机不在坐席台配置中。",
  };
  error.textContent = said[status] ?? chinese(data?.error?.message ?? `操作失败（${status}）`);
  error.hidden = false;
}

// ------------------------------------------------------------------ screen pop

function pop(callId, uniqueid) {
  current = { callId, uniqueid, ringingAt: null, answeredAt: null, endedAt: null, candidates: [] };
  transfer = null;
  $("transfer-state").textContent = "";
  transferSays("");
  showTransferButtons();
  $("pop-empty").hidden = true;
  $("pop-call").hidden = false;
  // Drawn at once from the live feed (the citizen's leg started first); the
  // details follow from the API.
  const citizen = citizens.get(callId);
  $("pop-number").textContent = citizen?.caller_number || "号码查询中…";
  $("pop-name").textContent = citizen?.caller_name || "";
  replaceChildren($("pop-details"));
  showCallState();
  window.__ldPops.push({ call_id: callId, drawn_at: Date.now() });
  // The call reaches the records a moment after the live feed tells of it.
  setTimeout(loadCall, 200);
}

async function loadCall(tries = 8) {
  if (!current) return;
  const callId = current.callId;
  const { status, data: call } = await api("GET", `/api/v1/calls/${encodeURIComponent(callId)}`);
  if (status === 404 && tries > 1 && current?.callId === callId) {
    setTimeout(() => loadCall(tries - 1), 300); // not recorded yet
    return;
  }
  if (status !== 200 || current?.callId !== callId) return;
  const citizen = call.legs.find((leg) => leg.role === "citizen") ?? call;
  $("pop-number").textContent = citizen.caller_number || "号码未知";
  $("pop-name").textContent = citizen.caller_name || "";
  current.candidates = call.case_candidates ?? [];
  const number = citizen.caller_number;
  let earlier = [];
  let calls = [];
  if (number) {
    const asked = encodeURIComponent(number);
    const [cases, before] = await Promise.all([
      api("GET", `/api/v1/cases?caller_number=${asked}&limit=20`),
      api("GET", `/api/v1/calls?caller_number=${asked}&limit=${EARLIER_CALLS + 1}`),
    ]);
    if (cases.status === 200) earlier = cases.data.cases;
    if (before.status === 200) calls = before.data.calls.filter((c) => c.id !== call.id).slice(0, EARLIER_CALLS);
    if (current?.callId !== callId) return;
  }
  showDetails(call, earlier, calls);
}

const EARLIER_CALLS = 5; // the caller's latest calls the pop lists

function callLine(c) {
  const how = c.answered_at ? `已接听 · 通话 ${duration((Date.parse(c.ended_at ?? c.answered_at) - Date.parse(c.answered_at)) / 1000)}` : c.active ? "进行中" : "未接通";
  return `${clock(c.started_at, true)} · ${c.trunk ?? "—"} · ${how}`;
}

function showDetails(call, earlier, calls) {
  if (call.cases.length && currentCase() !== call.cases[0]) openCase(call.cases[0]);
  const open = earlier.filter((c) => current.candidates.includes(c.number));
  const rest = earlier.filter((c) => !current.candidates.includes(c.number) && !call.cases.includes(c.number));
  const caseLine = (c) => `${c.number} · ${c.state_label}${c.category ? ` · ${c.category}` : ""} · ${clock(c.times.created, true)}`;
  replaceChildren(
    $("pop-details"),
    h("h3", {}, "本次来电工单"),
    call.cases.length ? h("ul", { id: "pop-cases" }, call.cases.map((n) => h("li", {}, n))) : h("p", { class: "quiet" }, "尚未建单"),
    h("h3", {}, "该号码未结工单"),
    open.length
      ? h(
          "ul",
          { id: "pop-open" },
          open.map((c, i) =>
            h("li", {}, caseLine(c), " ", h("button", { type: "button", "data-case": c.number, onclick: () => attach(c.number) }, i === 0 ? "关联此来电 (Alt+A)" : "关联此来电")),
          ),
        )
      : h("p", { class: "quiet" }, "无"),
    h("h3", {}, "历史工单"),
    rest.length ? h("ul", { id: "pop-earlier" }, rest.map((c) => h("li", {}, caseLine(c)))) : h("p", { class: "quiet" }, "无"),
    h("h3", {}, "该号码此前来电"),
    calls.length ? h("ul", { id: "pop-calls" }, calls.map((c) => h("li", { "data-call": c.id }, callLine(c)))) : h("p", { class: "quiet" }, "无"),
    h("h3", {}, "语音菜单与排队"),
    h(
      "ul",
      { id: "pop-menu" },
      (call.menu_steps ?? []).map((s) => h("li", {}, `${s.node}${s.key ? ` 按 ${s.key}` : ""}${s.mark ? ` · ${s.mark}` : ""}`)),
      (call.queue_waits ?? []).map((w) => h("li", {}, `排队 ${Math.round(w.waited_s ?? 0)} 秒（${VIAS[w.via] ?? w.via}）`)),
    ),
  );
}

async function attach(caseNumber) {
  if (!current) return;
  const { status, data } = await api("POST", `/api/v1/calls/${encodeURIComponent(current.callId)}/case`, { case: caseNumber });
  if (status >= 300) {
    $("phone-error").textContent = chinese(data?.error?.message ?? `关联失败（${status}）`);
    $("phone-error").hidden = false;
  }
  loadCall();
}

function showCallState() {
  if (!current) return;
  const state = current.endedAt ? "已结束" : current.answeredAt ? "通话中" : "振铃中";
  $("pop-state").textContent = state;
  $("pop-state").dataset.state = state;
}

function tick() {
  if (!current) return;
  const from = current.answeredAt ?? current.ringingAt;
  if (!from) return;
  const to = current.endedAt ? Date.parse(current.endedAt) : Date.now();
  $("pop-timer").textContent = duration((to - Date.parse(from)) / 1000);
}

// ------------------------------------------------------------------ transfers

async function loadTargets() {
  const other = desk === "110" ? "12345" : "110";
  const options = [h("option", { value: other }, `${other} 坐席`)];
  const { status, data } = await api("GET", "/api/v1/units");
  if (status === 200) {
    for (const unit of data.units.filter((u) => u.line)) {
      options.push(h("option", { value: `unit:${unit.code}` }, `${unit.name}（线路 ${unit.line}）`));
    }
  }
  replaceChildren($("transfer-to"), options);
}

async function startTransfer(mode) {
  if (!current || current.endedAt) return transferSays("没有可转接的通话。");
  const to = $("transfer-to").value;
  const path = mode === "conference" ? "conference" : "transfer";
  const body = mode === "conference" ? { to } : { to, mode };
  const { status, data } = await api("POST", `/api/v1/calls/${encodeURIComponent(current.callId)}/${path}`, body);
  if (status === 201) {
    showTransfer(data);
    return;
  }
  transferSays(refusal(status, data));
}

async function stepTransfer(step) {
  if (!transfer || transfer.ended) return;
  if (!takes(step)) return transferSays(step === "complete" ? "此时不能完成转接。" : "此时不能取消转接。");
  const { status, data } = await api("POST", `/api/v1/transfers/${encodeURIComponent(transfer.id)}/${step}`);
  if (status === 200 || status === 202) {
    if (data?.id) showTransfer(data);
    return;
  }
  transferSays(refusal(status, data));
}

function refusal(status, data) {
  const said = {
    409: "该通话已有转接在进行，或当前状态不能这样操作。",
    503: "交换机暂不可用：可用话机按键 *1 一键转接。",
    403: "只能转接本话机上的通话。",
  };
  return said[status] ?? chinese(data?.error?.message ?? `操作失败（${status}）`);
}

function transferSays(message) {
  $("transfer-error").textContent = message;
  $("transfer-error").hidden = !message;
}

// A transfer's answer to the button and its live updates may cross: the
// answer to POST can come after the feed told "answered". The longer timeline
// is the newer (steps are only ever added), so an older copy never wins.
function isOlder(data) {
  return transfer?.id === data.id && (data.timeline?.length ?? 0) < (transfer.timeline?.length ?? 0);
}

function showTransfer(data) {
  if (isOlder(data)) return;
  transfer = data;
  transferSays("");
  const target = data.target?.startsWith?.("unit:") ? `成员单位 ${data.target.slice(5)}` : `${data.target} 坐席`;
  $("transfer-state").textContent = `${MODES[data.mode] ?? data.mode} → ${target}：${TRANSFER_STATES[data.state] ?? data.state}`;
  $("transfer-state").dataset.state = data.state;
  showTransferButtons();
}

function showTransferButtons() {
  const live = current && !current.endedAt;
  const running = transfer && !transfer.ended;
  for (const id of ["transfer-blind", "transfer-attended", "transfer-conference"]) $(id).disabled = !live || running;
  $("transfer-complete").disabled = !(running && takes("complete"));
  $("transfer-cancel").disabled = !(running && takes("cancel"));
}

// The transfer's `allowed` names the events its state takes now (the API's
// steps are CompleteRequested and CancelRequested).
const STEP_EVENTS = { complete: "CompleteRequested", cancel: "CancelRequested" };

function takes(step) {
  return (transfer?.allowed ?? []).includes(STEP_EVENTS[step]);
}

// ------------------------------------------------------------------ the live feed

function onEvent(event) {
  const data = event.data;
  switch (event.type) {
    case "leg.started":
      if (data.role === "citizen") citizens.set(data.call_id, data);
      if (data.endpoint === phone) {
        myLegs.set(data.uniqueid, data.call_id);
        pop(data.call_id, data.uniqueid);
      }
      break;
    case "call.ended":
      citizens.delete(data.call_id);
      break;
    case "leg.ringing":
    case "leg.answered":
    case "leg.ended":
      if (current && data.uniqueid === current.uniqueid) {
        const field = { "leg.ringing": "ringingAt", "leg.answered": "answeredAt", "leg.ended": "endedAt" }[event.type];
        current[field] = data.at;
        if (field === "answeredAt" && !current.ringingAt) current.ringingAt = data.at;
        showCallState();
        showTransferButtons();
        tick();
      }
      break;
    case "call.merged":
      if (current && current.callId === data.merged) {
        current.callId = data.into;
        loadCall();
      }
      break;
    case "transfer":
      if (current && (data.call_id === current.callId || data.operator_uniqueid === current.uniqueid)) showTransfer(data);
      break;
    case "transfer_notice":
      if (data.operator_phone === phone) transferSays(TRANSFER_NOTICES[data.reason] ?? data.reason);
      break;
    case "transfer_refused":
      if (data.operator_phone === phone) transferSays(`按键转接未能开始：${data.why}`);
      break;
    case "operator.state":
      if (data.phone === phone) showPhone(data);
      break;
    case "queue.wait":
      if (data.desk === desk) reloadDesksSoon();
      break;
    default:
      if (event.type.startsWith("case.") && data.case === currentCase()) openCase(data.case);
      if (current && event.type.startsWith("case.")) loadCallSoon();
  }
}

let callTimer = null;
function loadCallSoon() {
  clearTimeout(callTimer);
  callTimer = setTimeout(loadCall, 200);
}

// After a (re)connect: the state as it is now, and a call already on my phone.
async function onOpen() {
  loadDesks();
  const { status, data } = await api("GET", "/api/v1/calls?active=true&limit=50");
  if (status !== 200) return;
  for (const call of data.calls) {
    const leg = call.legs.find((l) => l.endpoint === phone && !l.ended_at);
    if (leg && current?.uniqueid !== leg.uniqueid) {
      myLegs.set(leg.uniqueid, call.id);
      const citizen = call.legs.find((l) => l.role === "citizen");
      if (citizen) citizens.set(call.id, citizen);
      pop(call.id, leg.uniqueid);
      Object.assign(current, { ringingAt: leg.ringing_at, answeredAt: leg.answered_at });
      showCallState();
    }
  }
}

// ------------------------------------------------------------------ helpers

// "14:05:09" (today's), or with the date and to the minute: "12/03 14:05".
const clock = (iso, withDate = false) => countyTime(iso, withDate ? {} : { date: false, seconds: true });

function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

// ------------------------------------------------------------------ start

const shown = await startShell({ onOpen, onEvent });
if (shown) {
  phone = shown.who.phone;
  desk = shown.who.role === "operator_110" ? "110" : "12345";
  $("phone-name").textContent = `话机 ${phone}`;
  for (const button of document.querySelectorAll("#phone button[data-action]")) {
    button.addEventListener("click", () => act(button.dataset.action));
  }
  for (const button of document.querySelectorAll("#transfer button[data-mode]")) {
    button.addEventListener("click", () => startTransfer(button.dataset.mode));
  }
  for (const button of document.querySelectorAll("#transfer button[data-step]")) {
    button.addEventListener("click", () => stepTransfer(button.dataset.step));
  }
  loadTargets();
  showTransferButtons();
  startCaseForm(desk);
  document.addEventListener("keydown", (key) => {
    if (!key.altKey) return;
    // By the key's place (layout-independent). Not Alt+digits: Chromium on
    // Linux switches tabs with them before a page sees them.
    const by = {
      KeyR: () => act("ready"),
      KeyP: () => act("pause"),
      KeyA: () => current?.candidates[0] && attach(current.candidates[0]),
      KeyT: () => startTransfer("blind"),
      KeyG: () => startTransfer("attended"),
      KeyS: () => startTransfer("conference"),
      KeyC: () => stepTransfer("complete"),
      KeyX: () => stepTransfer("cancel"),
      KeyK: () => document.querySelector('#case-moves [data-command="classify"]').click(),
      KeyD: () => document.querySelector('#case-moves [data-command="dispatch"]').click(),
    };
    const run = by[key.code];
    if (run) {
      key.preventDefault();
      run();
    }
  });
  setInterval(tick, 1000);
}
