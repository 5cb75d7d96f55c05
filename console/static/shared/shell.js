// What every signed-in page has: who is signed in, the pages they may open,
// the live feed's state, and signing out.
import { session, signOut } from "./api.js";
import { connectLive } from "./live.js";
import { h, replaceChildren } from "./dom.js";

const LIVE_STATES = {
  connecting: "实时连接：连接中…",
  live: "实时连接：已连接",
  reconnecting: "实时连接：中断，正在重连…",
  ended: "实时连接：已结束",
};

export async function startShell({ onOpen, onEvent } = {}) {
  const who = await session();
  if (!who) return null;
  const me = await (await fetch("/console/me", { credentials: "same-origin" })).json();
  const state = h("span", { id: "live-state", class: "live-state" }, LIVE_STATES.connecting);
  const nav = h(
    "nav",
    { "aria-label": "页面" },
    me.pages.map((page) =>
      h("a", { href: `/console/${page.name}`, "aria-current": location.pathname.endsWith(`/${page.name}`) ? "page" : null }, page.title),
    ),
  );
  let stopLive = () => {};
  const leaving = () => {
    stopLive(); // the feed's close on sign-out is ours, not news to act on
    signOut();
  };
  const out = h("button", { type: "button", id: "sign-out", onclick: leaving }, "退出登录");
  const bound = who.phone ? `话机 ${who.phone}` : who.unit ? `单位 ${who.unit}` : "";
  replaceChildren(
    document.querySelector("header"),
    h("strong", { class: "brand" }, "联动"),
    nav,
    h("span", { id: "who", class: "who" }, `已登录：${who.name}（${me.role_name}）`, bound ? ` ${bound}` : ""),
    state,
    out,
  );
  stopLive = connectLive({
    onOpen,
    onEvent,
    onState: (name) => {
      state.textContent = LIVE_STATES[name];
      state.dataset.state = name;
    },
  });
  return { who, me };
}
