/* Telling the room that we are typing: one `typing: true` when typing starts
 * (renewed every few seconds while it goes on), `typing: false` after a
 * quiet moment, on send, or on leaving the box.
 */
import {$, S, TYPING_IDLE_MS, TYPING_REPEAT_MS} from "./state.js";

var typingRoom = null, typingSentAt = 0, typingIdle = null;

export function onComposerInput() {
  var input = $("composer-input");
  input.style.height = "auto";
  input.style.height = Math.min(input.scrollHeight + 2, 160) + "px";
  input.style.overflowY = input.scrollHeight + 2 > 160 ? "auto" : "hidden";
  if (!S.current || S.current.kind !== "room" || !S.socket || !S.socket.connected) return;
  if (S.compose && S.compose.kind === "edit") { stopTyping(); return; }   // fixing, not writing
  if (!input.value.trim()) { stopTyping(); return; }
  var now = Date.now();
  if (typingRoom !== S.current.target || now - typingSentAt > TYPING_REPEAT_MS) {
    if (typingRoom && typingRoom !== S.current.target) stopTyping();
    typingRoom = S.current.target;
    typingSentAt = now;
    S.socket.emit("typing", {room: typingRoom, typing: true});
  }
  clearTimeout(typingIdle);
  typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
}

/** After a disconnect: the server forgot our typing state, so do we. */
export function forgetTyping() {
  clearTimeout(typingIdle);
  typingRoom = null;
  typingSentAt = 0;
}

export function stopTyping() {
  clearTimeout(typingIdle);
  if (typingRoom && S.socket && S.socket.connected) {
    S.socket.emit("typing", {room: typingRoom, typing: false});
  }
  typingRoom = null;
  typingSentAt = 0;
}
