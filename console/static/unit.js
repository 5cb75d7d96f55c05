// A member unit's page, phone-first: its open cases with the next deadline
// counting down (overdue first, as the API orders them), and a case's
// timeline and forms. The buttons are the moves the API allows now.
import { api, chinese } from "./shared/api.js";
import { DEADLINES, countyTime, span } from "./shared/county.js";
import { h, replaceChildren } from "./shared/dom.js";
import { startShell } from "./shared/shell.js";

const LABELS = { measures: "措施与进展", result: "办理结果", handler: "承办人", reason: "原因", days: "延期天数" };
const FIELDS = {
  sign: ["note"],
  arrive: ["note"],
  feed_back: ["measures", "note"],
  reply: ["measures", "result", "handler", "note"],
  request_return: ["reason"],
  request_extension: ["days", "reason"],
};
const $ = (id) => document.getElementById(id);

let rows = [];
let skew = 0; // the server's clock minus this browser's
let open = null; // the case shown

async function loadList() {
  const { status, data } = await api("GET", "/api/v1/supervision/open");
  if (status !== 200) return;
  skew = Date.parse(data.now) - Date.now();
  rows = data.cases;
  const overdue = rows.filter((r) => r.overdue).length;
  $("list-summary").textContent = rows.length ? `${rows.length} 件未办结${overdue ? `，其中 ${overdue} 件已超时` : ""}` : "暂无未办结工单";
  drawList();
}

function drawList() {
  replaceChildren(
    $("cases"),
    rows.map((row) => {
      const next = nextDeadline(row);
      return h(
        "li",
        { class: row.overdue ? "overdue" : null },
        h(
          "button",
          { type: "button", class: "case-row", "data-case": row.number, onclick: () => openCase(row.number) },
          h("strong", {}, row.number),
          ` ${row.category_name ?? row.category ?? ""} · ${row.state_label}`,
          h("br"),
          next ? h("span", { class: "countdown" }, countdown(next)) : "",
        ),
      );
    }),
  );
}

// The first deadline not yet met, with its name.
function nextDeadline(row) {
  for (const [name, deadline] of Object.entries(row.deadlines)) {
    if (!deadline.done_at && deadline.due) return { name, due: deadline.due };
  }
  return null;
}

function countdown({ name, due }) {
  const left = Date.parse(due) - (Date.now() + skew);
  return left >= 0 ? `${DEADLINES[name]}剩余 ${span(left)}` : `${DEADLINES[name]}已超时 ${span(left)}`;
}

async function openCase(number) {
  const { status, data } = await api("GET", `/api/v1/cases/${encodeURIComponent(number)}`);
  if (status !== 200) return;
  const another = open?.number !== data.number;
  open = data;
  $("case").hidden = false;
  $("case-number").textContent = data.number;
  $("case-state").textContent = data.state_label;
  $("case-description").textContent = data.description ?? "";
  $("case-address").textContent = data.location.address ?? "";
  $("case-caller").textContent = data.caller.number ? `来电 ${data.caller.number}` : "";
  replaceChildren(
    $("case-deadlines"),
    Object.entries(data.due)
      .filter(([, due]) => due)
      .map(([name, due]) => h("li", {}, `${DEADLINES[name === "sign_for" ? "sign_for" : name] ?? name}期限 ${clock(due)}`)),
  );
  for (const button of document.querySelectorAll("#moves button")) {
    button.disabled = !data.allowed.includes(button.dataset.command);
  }
  replaceChildren(
    $("timeline"),
    data.timeline.map((e) => h("li", {}, `${clock(e.at)} ${e.actor ?? ""} ${e.command}`)),
  );
  if (another) say(""); // a refusal stays shown while the same case refreshes
}

async function move(command) {
  if (!open) return;
  const body = {};
  for (const field of FIELDS[command]) {
    const value = $(field).value.trim();
    if (value) body[field] = field === "days" ? Number(value) : value;
  }
  const { status, data } = await api("POST", `/api/v1/cases/${encodeURIComponent(open.number)}/${command}`, body);
  if (status >= 300) {
    const field = LABELS[data?.error?.details?.field];
    if (status === 409) say("工单当前状态不能这样操作。");
    else if (status === 400 && field) say(`请填写或更正「${field}」。`);
    else say(chinese(data?.error?.message ?? `操作失败（${status}）`));
    return;
  }
  for (const field of FIELDS[command]) $(field).value = "";
  await openCase(open.number);
  loadList();
}

function say(message) {
  $("case-error").textContent = message;
  $("case-error").hidden = !message;
}

const clock = (iso) => countyTime(iso);

let reload = null;
const shown = await startShell({
  onOpen: loadList,
  onEvent: (event) => {
    if (!event.type.startsWith("case.")) return;
    clearTimeout(reload);
    reload = setTimeout(() => {
      loadList();
      if (open && event.data.case === open.number) openCase(open.number);
    }, 200);
  },
});
if (shown) {
  for (const button of document.querySelectorAll("#moves button")) {
    button.addEventListener("click", () => move(button.dataset.command));
  }
  setInterval(drawList, 30000); // the countdowns move on
}
