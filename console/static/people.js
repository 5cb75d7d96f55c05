// The admin's accounts page: every person's account and its state, a form to
// make one, and on each row the changes that apply to it now (disable,
// enable, unlock, a new password). The API is the judge of every input: a
// 400 names the field (details.field) and the page says it by that field, in
// Chinese where the API's words are known. The page checks only what needs
// no server: that the fields are filled and the two passwords agree.
import { api, chinese } from "./shared/api.js";
import { countyTime } from "./shared/county.js";
import { h, replaceChildren } from "./shared/dom.js";
import { startShell } from "./shared/shell.js";

// As console/http.py's ROLE_NAMES, in the order the command line offers them.
const ROLE_NAMES = {
  admin: "管理员",
  operator_110: "110 接警员",
  operator_12345: "12345 话务员",
  supervisor: "督查",
  unit: "成员单位",
};
const OPERATORS = new Set(["operator_110", "operator_12345"]);
const MIN_PASSWORD = 10; // people/core/accounts.py
// The API's words (people/core/accounts.py, people/http.py) in Chinese, by field.
const PROBLEMS = {
  login: [
    [/is taken/, "该用户名已被占用，请换一个"],
    [/is required/, "请填写用户名"],
    [/2 to 64 characters/, "用户名须为 2 至 64 个字符：小写字母、数字、“.”“_”“-”，以字母或数字开头（如 zhang110）"],
  ],
  name: [[/./, "请填写姓名，如“110坐席 张警官”（办理记录中显示）"]],
  role: [[/./, "请选择角色"]],
  phone: [
    [/only for the operator/, "只有接警员、话务员需要坐席话机"],
    [/needs a desk phone|is required/, "接警员、话务员须填写坐席话机（如 op110-1）"],
  ],
  unit: [
    [/not in the roster/, "该单位不在单位名录中"],
    [/only for role unit/, "只有成员单位账号需要所属单位"],
    [/needs a unit|is required/, "成员单位账号须选择所属单位"],
  ],
  password: [
    [/at least/, `密码至少 ${MIN_PASSWORD} 个字符`],
    [/at most/, "密码最多 256 个字符"],
    [/digits only/, "密码不能全是数字"],
    [/contain the login/, "密码不能包含用户名"],
    [/so few characters/, "密码所用的字符太少，请勿大量重复"],
    [/is required/, "请填写密码"],
  ],
};
const DONE = {
  disable: (who) => `已停用 ${who}的账号：其已打开的页面已退出登录。`,
  enable: (who) => `已启用 ${who}的账号，可以重新登录。`,
  unlock: (who) => `已解锁 ${who}的账号。`,
  password: (who) => `已为 ${who}设置新密码：其已打开的页面需用新密码重新登录。`,
};
const $ = (id) => document.getElementById(id);

let myId = null; // the admin's own account: never disabled from here
let users = [];
const units = new Map(); // roster code → name
let editing = null; // { id, row }: the account whose new-password form is open

// ------------------------------------------------------------------ the table

async function load() {
  const { status, data } = await api("GET", "/api/v1/users");
  if (status !== 200) {
    fail(chinese(data?.error?.message ?? `读取账号失败（${status}）`));
    return;
  }
  users = data.users;
  draw();
}

function stateOf(user) {
  const locked = user.locked_until !== null && Date.parse(user.locked_until) > Date.now();
  const parts = [];
  if (user.disabled_at) parts.push("已停用");
  if (locked) parts.push(`已锁定至 ${clock(user.locked_until)}`);
  return { disabled: Boolean(user.disabled_at), locked, label: parts.length ? parts.join("；") : "正常" };
}

function draw() {
  const states = users.map(stateOf);
  const disabled = states.filter((s) => s.disabled).length;
  const locked = states.filter((s) => s.locked).length;
  $("people-summary").textContent =
    `共 ${users.length} 个账号` + (disabled ? `，已停用 ${disabled} 个` : "") + (locked ? `，已锁定 ${locked} 个` : "");
  if (editing && !users.some((u) => u.id === editing.id)) editing = null;
  replaceChildren(
    $("people-rows"),
    users.flatMap((user, i) => [row(user, states[i]), editing?.id === user.id ? editing.row : null]),
  );
}

function row(user, state) {
  const self = user.id === myId;
  return h(
    "tr",
    { "data-id": user.id, "data-login": user.login, class: state.disabled ? "disabled" : null },
    h("th", { scope: "row" }, user.login),
    h("td", {}, user.name, self ? h("span", { class: "quiet" }, "（本人）") : null),
    h("td", {}, ROLE_NAMES[user.role] ?? user.role),
    h("td", {}, bound(user)),
    h("td", { class: "state" }, state.label),
    h("td", {}, user.last_sign_in_at ? clock(user.last_sign_in_at) : "从未登录"),
    h("td", {}, h("div", { class: "actions" }, buttons(user, state, self))),
  );
}

function bound(user) {
  if (user.phone) return `话机 ${user.phone}`;
  if (user.unit) return `单位 ${units.get(user.unit) ?? user.unit}`;
  return "—";
}

// Only the changes that apply to the row now; a button's name says whose row it is.
function buttons(user, state, self) {
  const button = (verb, text, onclick) =>
    h("button", { type: "button", "data-verb": verb, onclick }, text, h("span", { class: "visually-hidden" }, `（${user.name}）`));
  return [
    state.disabled ? button("enable", "启用", () => change(user, "enable")) : null,
    !state.disabled && !self ? button("disable", "停用", () => disable(user)) : null,
    state.locked ? button("unlock", "解锁", () => change(user, "unlock")) : null,
    button("password", "重设密码", () => openPassword(user)),
  ];
}

function disable(user) {
  if (user.id === myId) return; // the API would let an admin shut themselves out; the page does not
  const sure = confirm(
    `确定停用「${user.name}」（${user.login}）的账号吗？\n停用后其已打开的页面立即退出登录，重新启用前不能再登录。`,
  );
  if (sure) change(user, "disable");
}

// A change on one account; the row shows the account as the API returns it.
async function change(user, verb, body) {
  quiet();
  const buttons = document.querySelectorAll(`tr[data-id="${user.id}"] button`);
  for (const b of buttons) b.disabled = true;
  const { status, data } = await api("POST", `/api/v1/users/${user.id}/${verb}`, body);
  for (const b of buttons) b.disabled = false;
  if (status !== 200) {
    if (status === 400) return data; // the password form shows it by its field
    fail(status === 404 ? `账号 ${user.login} 已不存在。` : chinese(data?.error?.message ?? `操作失败（${status}）`));
    if (status === 404) load();
    return null;
  }
  users = users.map((u) => (u.id === data.id ? data : u));
  if (verb === "password") editing = null;
  draw();
  tell(DONE[verb](`${data.name}（${data.login}）`));
  document.querySelector(`tr[data-id="${data.id}"] button`)?.focus(); // focus stays on the row
  return data;
}

// ------------------------------------------------------------------ a new password (inline)

function openPassword(user) {
  quiet();
  const form = h(
    "form",
    { class: "password-form", novalidate: true, "data-for": user.login },
    h(
      "fieldset",
      {},
      h("legend", {}, `为 ${user.name}（${user.login}）设置新密码`),
      h("label", { for: "reset-password" }, "新密码"),
      h("input", {
        id: "reset-password",
        type: "password",
        autocomplete: "new-password",
        minlength: MIN_PASSWORD,
        required: true,
        "aria-describedby": "reset-password-error",
      }),
      h("p", { id: "reset-password-error", class: "error", hidden: true }),
      h("label", { for: "reset-confirm" }, "确认新密码"),
      h("input", { id: "reset-confirm", type: "password", autocomplete: "new-password", required: true, "aria-describedby": "reset-confirm-error" }),
      h("p", { id: "reset-confirm-error", class: "error", hidden: true }),
      h("p", { class: "quiet" }, "设置后，此人已打开的页面会退出登录，需用新密码重新登录。"),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit" }, "保存新密码"),
        h("button", { type: "button", class: "secondary", onclick: () => closePassword(user) }, "取消"),
      ),
    ),
  );
  form.addEventListener("submit", (submit) => {
    submit.preventDefault();
    savePassword(user, form);
  });
  editing = { id: user.id, row: h("tr", { class: "password-row" }, h("td", { colspan: 7 }, form)) };
  draw();
  $("reset-password").focus();
}

function closePassword(user) {
  editing = null;
  draw();
  document.querySelector(`tr[data-id="${user.id}"] button[data-verb="password"]`)?.focus();
}

async function savePassword(user, form) {
  const fields = { password: "reset-password", confirm: "reset-confirm" };
  clearErrors(fields);
  const password = $("reset-password").value;
  const problem = passwordProblem(password, $("reset-confirm").value);
  if (problem) {
    showError(fields, ...problem);
    return;
  }
  const submit = form.querySelector('button[type="submit"]');
  submit.disabled = true;
  const refused = await change(user, "password", { password });
  submit.disabled = false;
  if (refused?.error) showError(fields, "password", inChinese("password", refused.error.message));
}

// ------------------------------------------------------------------ a new account

const CREATE_FIELDS = {
  login: "new-login",
  name: "new-name",
  role: "new-role",
  phone: "new-phone",
  unit: "new-unit",
  password: "new-password",
  confirm: "new-confirm",
};

function roleChanged() {
  const role = $("new-role").value;
  $("new-phone-field").hidden = !OPERATORS.has(role);
  $("new-unit-field").hidden = role !== "unit";
}

async function create(submit) {
  submit.preventDefault();
  quiet();
  clearErrors(CREATE_FIELDS);
  $("create-error").hidden = true;
  const value = (field) => $(CREATE_FIELDS[field]).value;
  const role = value("role");
  const body = { login: value("login").trim(), name: value("name").trim(), role }; // in the form's order
  if (OPERATORS.has(role)) body.phone = value("phone").trim();
  if (role === "unit") body.unit = value("unit");
  body.password = value("password");
  const missing = Object.entries(body).find(([, v]) => !v);
  const problem = missing ? [missing[0], inChinese(missing[0], "is required")] : passwordProblem(body.password, value("confirm"));
  if (problem) {
    showError(CREATE_FIELDS, ...problem);
    return;
  }
  const button = $("create-submit");
  button.disabled = true;
  const { status, data } = await api("POST", "/api/v1/users", body);
  button.disabled = false;
  if (status === 201) {
    users = [...users.filter((u) => u.id !== data.id), data];
    draw();
    $("create-form").reset();
    roleChanged();
    tell(`已创建账号 ${data.login}（${data.name}，${ROLE_NAMES[data.role] ?? data.role}）。`);
    $("new-login").focus();
    return;
  }
  const field = data?.error?.details?.field;
  if (status === 400 && field in CREATE_FIELDS) {
    showError(CREATE_FIELDS, field, inChinese(field, data.error.message));
    return;
  }
  $("create-error").textContent = chinese(data?.error?.message ?? `创建失败（${status}）`);
  $("create-error").hidden = false;
}

// ------------------------------------------------------------------ helpers

// What the page can tell without the server: [field, message] or null.
function passwordProblem(password, confirmed) {
  if (!password) return ["password", inChinese("password", "is required")];
  if (password.length < MIN_PASSWORD) return ["password", inChinese("password", "at least")];
  if (password !== confirmed) return ["confirm", "两次输入的密码不一致"];
  return null;
}

function inChinese(field, message) {
  const known = (PROBLEMS[field] ?? []).find(([pattern]) => pattern.test(message));
  return known ? known[1] : chinese(message);
}

// The message by its field; the field is marked and focused, so a screen reader reads both.
function showError(ids, field, message) {
  const input = $(ids[field]);
  const error = $(`${ids[field]}-error`);
  error.textContent = message;
  error.hidden = false;
  input.setAttribute("aria-invalid", "true");
  input.focus();
}

function clearErrors(ids) {
  for (const id of Object.values(ids)) {
    $(id)?.removeAttribute("aria-invalid");
    const error = $(`${id}-error`);
    if (error) {
      error.textContent = "";
      error.hidden = true;
    }
  }
}

function tell(message) {
  $("people-error").hidden = true;
  $("people-status").textContent = message;
  $("people-status").hidden = false;
}

function fail(message) {
  $("people-status").hidden = true;
  $("people-error").textContent = message;
  $("people-error").hidden = false;
}

function quiet() {
  $("people-status").hidden = true;
  $("people-error").hidden = true;
}

const clock = (iso) => countyTime(iso, { year: true });

// ------------------------------------------------------------------ start

let opened = false;
const shown = await startShell({
  // The feed came back after a break: somebody may have changed accounts meanwhile.
  onOpen: () => {
    if (opened) load();
    opened = true;
  },
});
if (shown) {
  myId = shown.who.user_id;
  replaceChildren(
    $("new-role"),
    h("option", { value: "" }, "请选择角色"),
    Object.entries(ROLE_NAMES).map(([value, name]) => h("option", { value }, name)),
  );
  $("new-role").addEventListener("change", roleChanged);
  $("create-form").addEventListener("submit", create);
  const roster = await api("GET", "/api/v1/units");
  if (roster.status === 200) {
    for (const unit of roster.data.units) units.set(unit.code, unit.name);
    replaceChildren(
      $("new-unit"),
      h("option", { value: "" }, "请选择单位"),
      roster.data.units.map((unit) => h("option", { value: unit.code }, `${unit.name}（${unit.code}）`)),
    );
  }
  await load();
  // A lock ends by itself: the row says so when it has.
  setInterval(() => {
    if (users.some((u) => u.locked_until !== null && Date.parse(u.locked_until) <= Date.now())) {
      users = users.map((u) => (u.locked_until !== null && Date.parse(u.locked_until) <= Date.now() ? { ...u, locked_until: null } : u));
      draw();
    }
  }, 30000);
}
