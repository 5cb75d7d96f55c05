// The home page: who is signed in and the live feed's state; the desk, unit
// and wall pages come in later slices of [console].
import { startShell } from "./shared/shell.js";

let seen = 0;
const shown = await startShell({
  onEvent: () => {
    seen += 1;
    document.getElementById("events").textContent = `实时事件：${seen}`;
  },
});
if (shown) {
  document.getElementById("greeting").textContent = `${shown.who.name}，您好。`;
}
