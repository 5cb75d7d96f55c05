// The case beside the pop: the desk's form to classify a matter (with the
// routing catalogue's suggestion as the operator types, and why), dispatch
// it to a unit, refer it to the other desk, or answer it directly. The
// buttons are the moves the API says this person may make now (`allowed`).
import { api, chinese } from "./shared/api.js";
import { countyTime } from "./shared/county.js";
import { h, replaceChildren } from "./shared/dom.js";

const DEMANDS_12345 = { enquiry: "咨询", help: "求助", complaint: "投诉", report: "举报", suggestion: "意见建议" };
const DEMANDS_110 = { police_report: "报警", police_help: "紧急求助", police_complaint: "投诉（涉警）" };
const ROUTES = {
  hotline: "12345 受理派单",
  answer: "直接答复",
  police: "转 110 处置",
  ambiguous: "先转 110（警情不明）",
  excluded: "不予受理（按话术答复）",
};
// The API names a bad field (details.field); the page says it by its label.
const LABELS = {
  description: "诉求描述",
  address: "地址",
  demand_type: "诉求类型",
  route: "去向",
  category: "类别",
  township: "乡镇",
  lead_unit: "承办单位",
  answer: "答复内容",
  officer: "处警民警",
  findings: "现场核实情况",
  measures: "先期处置措施",
  result: "处置结果",
  police_ticket: "接警单号",
  reason: "退回原因",
};
const $ = (id) => document.getElementById(id);

let shown = null; // the case as the API last returned it
let units = [];

export async function startCaseForm(desk) {
  $("police").hidden = desk !== "110";
  const demands = desk === "110" ? { ...DEMANDS_110, ...DEMANDS_12345 } : DEMANDS_12345;
  replaceChildren($("case-demand"), Object.entries(demands).map(([v, label]) => h("option", { value: v }, label)));
  replaceChildren($("case-route"), Object.entries(ROUTES).map(([v, label]) => h("option", { value: v }, label)));
  const { status, data } = await api("GET", "/api/v1/units");
  units = status === 200 ? data.units : [];
  const townships = units.filter((u) => u.type === "township");
  replaceChildren($("case-township"), h("option", { value: "" }, "—"), townships.map((u) => h("option", { value: u.code }, u.name)));
  replaceChildren($("case-lead-unit"), h("option", { value: "" }, "—"), units.map((u) => h("option", { value: u.code }, u.name)));
  let typing = null;
  for (const id of ["case-description", "case-address", "case-demand", "case-township"]) {
    $(id).addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(suggest, 300);
    });
  }
  for (const id of ["case-route", "case-lead-unit", "case-category"]) {
    $(id).addEventListener("change", () => ($(id).dataset.touched = "1")); // the operator chose
  }
  for (const button of document.querySelectorAll("#case-form button[data-command]")) {
    button.addEventListener("click", () => move(button.dataset.command));
  }
  $("case-open").addEventListener("click", () => openCase($("case-open-number").value.trim()));
}

export async function openCase(number) {
  if (!number) return;
  const { status, data } = await api("GET", `/api/v1/cases/${encodeURIComponent(number)}`);
  if (status !== 200) {
    say(status === 404 ? `没有工单 ${number}` : chinese(data?.error?.message ?? `打开失败（${status}）`));
    $("case-form").hidden = false;
    return;
  }
  const first = shown?.number !== data.number;
  if (first) {
    for (const id of ["case-route", "case-lead-unit", "case-category"]) delete $(id).dataset.touched;
  }
  shown = data;
  $("case-number").textContent = data.number;
  $("case-state").textContent = data.state_label;
  $("case-form").hidden = false;
  if (first) {
    $("case-description").value = data.description ?? "";
    $("case-address").value = data.location.address ?? "";
    if (data.demand_type) $("case-demand").value = data.demand_type;
    $("case-urgency").value = data.urgency;
    if (data.route.decided) $("case-route").value = data.route.decided;
    $("case-category").value = data.category ?? "";
    $("case-township").value = data.location.township ?? "";
    $("case-lead-unit").value = data.lead_unit ?? "";
    suggest();
  }
  for (const button of document.querySelectorAll("#case-form button[data-command]")) {
    button.disabled = !data.allowed.includes(button.dataset.command);
  }
  replaceChildren(
    $("case-timeline"),
    data.timeline.map((e) => h("li", {}, `${clock(e.at)} ${e.actor ?? ""} ${e.command}${e.to ? ` → ${e.to}` : ""}`)),
  );
}

export function currentCase() {
  return shown?.number ?? null;
}

async function suggest() {
  if (!shown) return;
  const query = new URLSearchParams();
  const text = [$("case-description").value, $("case-address").value].filter(Boolean).join(" ");
  if (text) query.set("text", text);
  query.set("demand_type", $("case-demand").value);
  if ($("case-township").value) query.set("township", $("case-township").value);
  const { status, data } = await api("GET", `/api/v1/cases/${encodeURIComponent(shown.number)}/suggestion?${query}`);
  if (status !== 200) return;
  $("suggestion").textContent = `建议：${ROUTES[data.route] ?? data.route}（${data.reason}）`;
  $("suggestion").hidden = false;
  $("suggestion-answer").textContent = data.answer ? `话术：${data.answer}` : "";
  $("suggestion-answer").hidden = !data.answer;
  // The suggestion fills what the operator has not chosen; the decision stays theirs.
  const untouched = (id) => !$(id).dataset.touched;
  if (untouched("case-route")) $("case-route").value = data.route;
  if (data.category && untouched("case-category")) $("case-category").value = data.category;
  if (data.lead_unit && untouched("case-lead-unit")) $("case-lead-unit").value = data.lead_unit;
}

async function move(command) {
  if (!shown) return;
  const body = {};
  if (command === "classify") {
    Object.assign(body, {
      demand_type: $("case-demand").value,
      route: $("case-route").value,
      urgency: $("case-urgency").value,
    });
    for (const [field, id] of [["description", "case-description"], ["address", "case-address"], ["category", "case-category"], ["township", "case-township"]]) {
      if ($(id).value.trim()) body[field] = $(id).value.trim();
    }
  } else if (command === "dispatch") {
    body.lead_unit = $("case-lead-unit").value;
  } else if (command.startsWith("police_") || command === "accept_police") {
    const fields = {
      accept_police: { police_ticket: "police-ticket" },
      police_feedback: { officer: "police-officer", findings: "police-findings", measures: "police-measures", police_ticket: "police-ticket" },
      police_close: { result: "police-result", police_ticket: "police-ticket" },
    }[command];
    for (const [field, id] of Object.entries(fields)) {
      if ($(id).value.trim()) body[field] = $(id).value.trim();
    }
  } else if (command === "send_back") {
    body.reason = $("send-back-reason").value.trim();
  } else if (command === "answer_directly") {
    const answer = $("suggestion-answer").hidden ? $("case-description").value : $("suggestion-answer").textContent.replace(/^话术：/, "");
    body.answer = answer;
  }
  const { status, data } = await api("POST", `/api/v1/cases/${encodeURIComponent(shown.number)}/${command}`, body);
  if (status >= 300) {
    const field = LABELS[data?.error?.details?.field];
    if (status === 409) say("工单当前状态不能这样操作。");
    else if (status === 400 && field) say(`请填写或更正「${field}」。`);
    else say(chinese(data?.error?.message ?? `操作失败（${status}）`));
    return;
  }
  say("");
  openCase(shown.number);
}

function say(message) {
  $("case-error").textContent = message;
  $("case-error").hidden = !message;
}

const clock = (iso) => countyTime(iso, { date: false });
