// Signing in: POST /api/v1/session with the login and password; the server
// sets the cookie. Then on to the page asked for, or the role's home.
import { WHY, chinese } from "./shared/api.js";

const params = new URLSearchParams(location.search);
const form = document.getElementById("sign-in-form");
const error = document.getElementById("error");
const why = params.get("why");

if (why && WHY[why]) {
  const notice = document.getElementById("why");
  notice.textContent = WHY[why];
  notice.hidden = false;
}

// Only a page of ours: never an address another site put in the link.
function nextPage() {
  const next = params.get("next") || "";
  return /^\/console\/[a-z0-9-]*(\?[^#]*)?$/.test(next) ? next : "/console/";
}

function show(message) {
  error.textContent = message;
  error.hidden = false;
}

form.addEventListener("submit", async (submit) => {
  submit.preventDefault();
  error.hidden = true;
  const button = document.getElementById("submit");
  button.disabled = true;
  try {
    const response = await fetch("/api/v1/session", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({ login: form.login.value.trim(), password: form.password.value }),
    });
    if (response.status === 201) {
      location.replace(nextPage());
      return;
    }
    const body = await response.json().catch(() => null);
    const message = body?.error?.message ? chinese(body.error.message) : `登录失败（${response.status}）`;
    if (response.status === 429 && body?.error?.details?.locked_until) {
      const until = new Date(body.error.details.locked_until);
      const clock = until.toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit" });
      show(`${message}，请于 ${clock} 后再试或联系管理员解锁。`);
    } else {
      show(message);
    }
    form.password.value = "";
    form.password.focus();
  } catch {
    show("无法连接服务器，请稍后再试。");
  } finally {
    button.disabled = false;
  }
});
