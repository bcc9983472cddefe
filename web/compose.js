/* What the message box does: send a new message, send a reply (a bar above
 * the box quotes the parent), or edit one of the person's own messages (the
 * box holds its text; Enter saves).  Escape or × goes back to a plain
 * message; Up in an empty box edits the person's last message.
 *
 *   startReply(view, 42);   startEdit(view, 40);   cancelCompose();
 *   submitComposer();       // the form's submit
 */
import * as UI from "./ui.js";
import {$, S} from "./state.js";
import {snippet} from "./message.js";
import {send} from "./outbox.js";
import {edit} from "./updates.js";
import {stopTyping, onComposerInput} from "./typing.js";

function input() { return $("composer-input"); }

function showBar(label, state) {
  $("compose-mode-label").textContent = label;
  $("compose-mode-quote").textContent = state ? (state.deleted ? "message deleted" : snippet(state.text)) : "";
  $("compose-mode").hidden = false;
  $("composer").classList.toggle("editing", S.compose.kind === "edit");
  $("send-btn").textContent = S.compose.kind === "edit" ? "Save" : "Send";
  $("compose-cancel").setAttribute("aria-label", S.compose.kind === "edit" ? "Cancel the edit"
    : "Cancel the reply");
}

export function startReply(view, id) {
  if (S.compose && S.compose.kind === "edit") cancelCompose();
  var state = view.states.get(id);
  if (!state || state.deleted) return;
  S.compose = {kind: "reply", view: view, id: id};
  showBar("Replying to " + state.name, state);
  input().focus();
}

export function startEdit(view, id) {
  var state = view.states.get(id);
  if (!state || state.deleted || state.name !== S.me) return;
  var draft = S.compose && S.compose.kind === "edit" ? S.compose.draft : input().value;
  S.compose = {kind: "edit", view: view, id: id, draft: draft};
  showBar("Editing your message", null);
  input().value = state.text;
  onComposerInput();
  input().focus();
  input().setSelectionRange(input().value.length, input().value.length);
}

/** Back to plain messages; an edit gives the box back the draft it replaced. */
export function cancelCompose() {
  var was = S.compose;
  if (!was) return;
  S.compose = null;
  $("compose-mode").hidden = true;
  $("composer").classList.remove("editing");
  $("send-btn").textContent = "Send";
  if (was.kind === "edit") {
    input().value = was.draft || "";
    onComposerInput();
  }
}

/** Up in an empty box: edit the person's newest message of the room on screen. */
export function editLast() {
  var view = S.current;
  if (!view || view.kind !== "room") return false;
  var mine = view.msgs.querySelectorAll("li.msg.mine:not(.deleted)");
  if (!mine.length) return false;
  startEdit(view, Number(mine[mine.length - 1].dataset.id));
  return true;
}

export function submitComposer() {
  var text = input().value;
  var mode = S.compose;
  if (mode && mode.kind === "edit") {
    var state = mode.view.states.get(mode.id);
    if (!text.trim()) {
      UI.toast("A message cannot be empty. To remove it, use Delete in its menu.");
      return;
    }
    if (state && state.text === text) { cancelCompose(); return; }
    stopTyping();
    $("send-btn").disabled = true;
    edit(mode.view, mode.id, text).then(function (ok) {
      $("send-btn").disabled = false;
      if (ok && S.compose === mode) cancelCompose();
    });
    return;
  }
  if (!text.trim()) return;
  stopTyping();
  send(text, mode && mode.kind === "reply" && mode.view === S.current ? mode.id : null);
  cancelCompose();
  input().value = "";
  onComposerInput();
}

export function wireComposer() {
  $("compose-cancel").addEventListener("click", function () {
    cancelCompose();
    input().focus();
  });
  input().addEventListener("keydown", function (e) {
    if (e.key === "Escape" && S.compose) {
      e.preventDefault();
      e.stopPropagation();
      cancelCompose();
    } else if (e.key === "ArrowUp" && !input().value && !S.compose && !e.shiftKey &&
               !e.altKey && !e.ctrlKey && !e.metaKey) {
      if (editLast()) e.preventDefault();
    }
  });
}
