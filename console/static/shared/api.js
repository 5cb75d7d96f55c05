// The JSON API with the sign-in cookie: every change carries the sign-in's
// CSRF token; a 401 sends the person to the sign-in page saying why.
let csrfToken = null;

export const WHY = {
  signed_out: "您已退出登录。",
  disabled: "账号已停用，请联系管理员。",
  expired: "登录已过期，请重新登录。",
  password_changed: "密码已更改，请用新密码登录。",
  unknown: "请先登录。",
};

export function leave(why) {
  const next = location.pathname + location.search;
  const query = new URLSearchParams({ why: why || "unknown", next });
  location.replace(`/console/sign-in?${query}`);
}

// The Chinese part of an API message ("用户名或密码错误 (wrong login or password)").
export function chinese(message) {
  const cut = message.indexOf(" (");
  return cut > 0 && /[\u4e00-\u9fff]/.test(message.slice(0, cut)) ? message.slice(0, cut) : message;
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.status === 401 && path !== "/api/v1/session") {
    leave(data?.error?.details?.reason);
  }
  return { status: response.status, data };
}

// Who is signed in; keeps the CSRF token for the changes this page makes.
export async function session() {
  const { status, data } = await api("GET", "/api/v1/session");
  if (status !== 200) {
    leave(data?.error?.details?.reason);
    return null;
  }
  csrfToken = data.csrf_token;
  return data;
}

export async function signOut() {
  await api("DELETE", "/api/v1/session");
  location.replace("/console/sign-in?why=signed_out");
}
