// The live feed (WS /api/v1/live) with the sign-in cookie. A feed that drops
// or falls behind reconnects with backoff and the page reloads its state
// (onOpen); a feed closed because the sign-in ended (4001) leaves the page.
import { api, leave } from "./api.js";

const ENDED = 4001;

export function connectLive({ onOpen, onEvent, onState }) {
  let delay = 500;
  let stopped = false;

  function open() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/api/v1/live`);
    onState?.("connecting");
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "hello") {
        delay = 500;
        onState?.("live");
        onOpen?.();
        return;
      }
      onEvent?.(event);
    });
    socket.addEventListener("close", async (close) => {
      if (stopped) return;
      if (close.code === ENDED) {
        onState?.("ended");
        // Ask why (signed out, disabled, expired): the sign-in page says it.
        const { data } = await api("GET", "/api/v1/session");
        leave(data?.error?.details?.reason || "signed_out");
        return;
      }
      onState?.("reconnecting");
      const wait = delay * (0.75 + Math.random() / 2);
      delay = Math.min(delay * 2, 10000);
      setTimeout(open, wait);
    });
  }

  open();
  return () => {
    stopped = true;
  };
}
