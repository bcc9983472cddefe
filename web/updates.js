/* Messages that change: `update` entries (edit, delete, react) live and on
 * catch-up, and the page's own edit, delete and react requests.
 *
 * An update carries the message's whole new state, so applying one twice
 * changes nothing.  Each message remembers the id of the last update applied
 * to it (view.versions): an older state never overwrites a newer one, and an
 * ack (which has no id) is applied only when no update for that message came
 * while it was on its way.
 *
 *   applyUpdate(view, upd);                      // from the `update` event or a join ack
 *   react(view, 42, "👍", true);                  // toggles through the server
 */
import * as UI from "./ui.js";
import {S, call} from "./state.js";
import {fillQuote, refreshMessage} from "./message.js";
import {renderLists} from "./views.js";
import {cancelCompose} from "./compose.js";
import {mutedNotice} from "./moderation.js";

/** Apply an update entry of view's room; returns false for one already applied. */
export function applyUpdate(view, upd) {
  if (!upd || !upd.message) return false;
  if (view.lastId === null || upd.id > view.lastId) view.lastId = upd.id;
  var before = view.versions.get(upd.target);
  if (before !== undefined && before >= upd.id) return false;
  view.versions.set(upd.target, upd.id);
  applyState(view, upd.message);
  return true;
}

/** Show a message's new state wherever it appears (its entry, quotes of it). */
export function applyState(view, state) {
  var old = view.states.get(state.id);
  view.states.set(state.id, state);
  if (state.deleted && old && !old.deleted && state.name !== S.me && state.id > view.readId &&
      view.unread > 0 && view !== S.current) {
    view.unread--;   // an unread message taken back no longer counts
    renderLists();
  }
  if (view.ids.has(state.id)) refreshMessage(view, state.id);
  refreshQuotes(view, state.id);
  if (S.compose && S.compose.view === view && S.compose.id === state.id && state.deleted) {
    cancelCompose();
  }
}

export function refreshQuotes(view, id) {
  var quotes = view.log.querySelectorAll('.quote[data-parent="' + id + '"]');
  Array.prototype.forEach.call(quotes, function (q) { fillQuote(view, q); });
}

var fetching = new Map();   // "room:id" -> promise

/** Fetch one message that a reply quotes but the page does not hold. */
export function fetchParent(view, id) {
  var key = view.target + ":" + id;
  if (fetching.has(key) || !S.socket || !S.socket.connected) return;
  fetching.set(key, call("history", {room: view.target, before: id + 1, limit: 1})
    .then(function (ack) {
      var m = ack.ok && ack.messages && ack.messages[0];
      if (m && m.id === id && !view.states.has(id)) {
        view.states.set(id, m);
        refreshQuotes(view, id);
      }
    }, function () {})
    .then(function () { fetching.delete(key); }));
}

/** Send edit, delete or react; the ack's state shows at once, the error as a notice. */
function change(view, event, payload, what) {
  var id = payload.id;
  var version = view.versions.get(id);
  return call(event, payload).then(function (ack) {
    if (!ack.ok) {
      if (!mutedNotice(ack.error)) UI.toast("Could not " + what + ": " + ack.error);
      return false;
    }
    if (view.versions.get(id) === version) applyState(view, ack.message);
    return true;
  }, function () {
    UI.toast("Could not " + what + ": no answer from the server. Try again.");
    return false;
  });
}

export function edit(view, id, text) {
  return change(view, "edit", {room: view.target, id: id, text: text}, "edit the message");
}

export function remove(view, id) {
  return change(view, "delete", {room: view.target, id: id}, "delete the message");
}

export function react(view, id, emoji, on) {
  return change(view, "react", {room: view.target, id: id, emoji: emoji, on: on}, "react");
}

/** Toggle the viewer's reaction: on if they have not reacted with it yet. */
export function toggleReaction(view, id, emoji) {
  var state = view.states.get(id);
  if (!state || state.deleted) return Promise.resolve(false);
  var who = (state.reactions && state.reactions[emoji]) || [];
  return react(view, id, emoji, who.indexOf(S.me) < 0);
}
