/* Outgoing messages and direct messages until the server confirms them.
 *
 * A message shows at once as pending.  Room messages carry a `cid`, so one
 * resent after a lost ack (a reconnect, a timeout, Retry) is stored once.
 * Messages typed while offline wait, and go out in order once every joined
 * room has caught up.
 *
 *   send("hello");               // to the conversation on screen
 *   send("yes", 42);             // a reply to message 42 of the room on screen
 *   flushQueue();                // after a reconnect
 */
import * as UI from "./ui.js";
import {S, makeCid, call} from "./state.js";
import {addMessages, scrollToBottom} from "./views.js";
import {quoteEl} from "./message.js";
import {mutedNotice} from "./moderation.js";
var el = UI.el;

export function send(text, replyTo) {
  var view = S.current;
  if (!view || !text.trim()) return;
  var p = {view: view, text: text, cid: makeCid(), attempt: 0,
           state: "queued", ts: Date.now(), replyTo: view.kind === "room" ? replyTo : null};
  p.li = UI.messageEl({name: S.me, text: text, ts: p.ts}, S.me);
  p.li.classList.add("is-pending");
  if (p.replyTo) p.li.querySelector(".bubble").insertBefore(quoteEl(view, p.replyTo),
                                                            p.li.querySelector(".body"));
  var actions = el("div", "pending-actions");
  var retry = el("button", "retry-btn", "Retry");
  retry.type = "button";
  var discard = el("button", "discard-btn", "Discard");
  discard.type = "button";
  actions.appendChild(retry);
  actions.appendChild(discard);
  p.li.querySelector(".bubble").appendChild(actions);
  retry.addEventListener("click", function () { trySend(p); });
  discard.addEventListener("click", function () { finish(p); });
  view.pending.appendChild(p.li);
  S.pendings.push(p);
  scrollToBottom(view);
  trySend(p);
}

export function setState(p, state, error) {
  p.state = state;
  p.li.dataset.state = state;
  var label = {queued: "waiting for connection…", sending: "sending…",
               failed: "not sent: " + (error || "error")}[state];
  p.li.querySelector(".state").textContent = label;
  p.li.classList.toggle("is-failed", state === "failed");
}

export function canSend(p) {
  if (!S.socket || !S.socket.connected) return false;
  return p.view.kind === "dm" || (p.view.joined && p.view.synced && !p.view.resyncing);
}

/** Send (or re-send) a pending message; a room message keeps its cid, so a
 * resend after a lost ack is stored once. */
export function trySend(p) {
  if (!canSend(p)) { setState(p, "queued"); return; }
  setState(p, "sending");
  var attempt = ++p.attempt;
  var event = p.view.kind === "room" ? "message" : "dm";
  var payload = p.view.kind === "room" ? {room: p.view.target, text: p.text, cid: p.cid}
    : {to: p.view.target, text: p.text};
  if (p.replyTo) payload.reply_to = p.replyTo;
  call(event, payload).then(function (ack) {
    if (attempt !== p.attempt) return;
    if (!ack.ok) { setState(p, "failed", mutedNotice(ack.error) || ack.error); restore(p); return; }
    finish(p);
    addMessages(p.view, [ack.message], false);
    if (p.view === S.current) scrollToBottom(p.view);
  }, function () {
    if (attempt !== p.attempt) return;
    if (p.view.kind === "dm") { setState(p, "failed", "no confirmation, it may not have arrived"); return; }
    setState(p, "queued");   // resent with the same cid once connected again
    if (canSend(p)) trySend(p);
  });
}

export function finish(p) {
  p.attempt++;
  p.li.remove();
  S.pendings = S.pendings.filter(function (x) { return x !== p; });
}

export function restore(p) {
  if (!p.li.isConnected) p.view.pending.appendChild(p.li);
}

/** Our own message came back as a broadcast before its ack: hide the pending copy. */
export function echoed(view, msg) {
  if (msg.name !== S.me) return;
  for (var i = 0; i < S.pendings.length; i++) {
    var p = S.pendings[i];
    if (p.view === view && p.state === "sending" && p.text === msg.text && p.li.isConnected) {
      p.li.remove();
      return;
    }
  }
}

export function flushQueue() {
  S.pendings.slice().forEach(function (p) { if (p.state === "queued") trySend(p); });
}
