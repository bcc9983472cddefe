/* Being in rooms: join, catch up after a reconnect (`join` with `since`,
 * repeated while `more`), older pages (`history` with `before`), leave, and
 * the list of rooms (`rooms`).
 *
 *   openRoom("random");          // join if needed and show it
 *   syncRoom(view, false);       // after a reconnect: fetch what was missed
 */
import {$, S, storage, call, KEY_ROOMS, LOBBY} from "./state.js";
import {addMessages, renderHeader, renderLists, renderMembers, roomView, show, updateTop} from "./views.js";
import {flushQueue} from "./outbox.js";
import {applyUpdate} from "./updates.js";
import {fromJoin} from "./reads.js";
import * as UI from "./ui.js";

export function openRoom(room) {
  var view = roomView(room);
  if (!view.joined && S.socket && S.socket.connected) syncRoom(view, true);
  else view.joined = true;
  saveRooms();
  show(view);
  return view;
}

export function saveRooms() {
  var rooms = [];
  S.views.forEach(function (v) { if (v.kind === "room" && v.joined) rooms.push(v.target); });
  storage(KEY_ROOMS, JSON.stringify(rooms));
}

export function joinedRooms() {
  var rooms = [];
  S.views.forEach(function (v) { if (v.kind === "room" && v.joined) rooms.push(v); });
  return rooms;
}

/** Join (or re-join after a reconnect) and fetch what was missed, looping while `more`. */
export function syncRoom(view, userAsked) {
  view.joined = true;
  var payload = {room: view.target};
  if (view.lastId !== null) payload.since = view.lastId;
  else if (view.synced) payload.since = 0;
  return call("join", payload).then(function (ack) {
    if (!ack.ok) {
      view.joined = false;
      if (userAsked) $("room-error").textContent = ack.error;
      dropView(view);
      return;
    }
    var catchUp = view.synced;   // a first join's history is not "new"
    view.members = new Set(ack.members);
    view.count = ack.members.length;
    if (!view.synced) view.olderMore = payload.since === undefined && ack.more;
    view.synced = true;
    view.log.dataset.synced = "true";
    // Catching up: the edits, deletes and reactions missed, in id order,
    // then the messages missed (already in their current state).
    (ack.updates || []).forEach(function (u) { applyUpdate(view, u); });
    addMessages(view, ack.history, catchUp);
    fromJoin(view, ack, !catchUp);
    updateTop(view);
    if (view === S.current) { renderHeader(); renderMembers(); }
    renderLists();
    if (payload.since !== undefined && ack.more) return syncRoom(view, false);
    if (!view.resyncing) flushQueue();
    if (view === S.current && view.olderMore && view.log.scrollHeight <= view.log.clientHeight) {
      loadOlder(view);
    }
  }, function () { /* dropped: the next connect syncs again */ });
}

/** Fetch the page of messages before the oldest shown; resolves when it is in. */
export function loadOlder(view, limit) {
  if (view.loadingOlder) return view.loadingOlder;
  if (view.kind !== "room" || !view.olderMore || !S.socket || !S.socket.connected) {
    return Promise.resolve(false);
  }
  var first = view.msgs.querySelector("li.msg");
  if (!first) return Promise.resolve(false);
  view.loadingOlder = call("history", {room: view.target, before: Number(first.dataset.id),
                                       limit: limit || 50})
    .then(function (ack) {
      if (!ack.ok) return false;
      var log = view.log;
      var fromEnd = log.scrollHeight - log.scrollTop;
      addMessages(view, ack.messages, false);
      view.olderMore = ack.more;
      log.scrollTop = log.scrollHeight - fromEnd;   // keep the reader's place
      return true;
    }, function () { return false; })
    .then(function (ok) {
      view.loadingOlder = false;
      updateTop(view);
      return ok;
    });
  updateTop(view);
  return view.loadingOlder;
}

/** Scroll to message ``id`` of the room, loading older pages until it is there. */
export function jumpTo(view, id) {
  var li = view.msgs.querySelector('li.msg[data-id="' + id + '"]');
  if (li) {
    li.scrollIntoView({block: "center"});
    li.classList.remove("flash");
    void li.offsetWidth;   // restart the highlight
    li.classList.add("flash");
    setTimeout(function () { li.classList.remove("flash"); }, 2500);
    li.focus({preventScroll: true});
    return Promise.resolve(true);
  }
  var first = view.msgs.querySelector("li.msg");
  if (!view.olderMore || (first && Number(first.dataset.id) < id)) {
    UI.toast("That message is not in this room's history any more.");
    return Promise.resolve(false);
  }
  return loadOlder(view, 100).then(function (ok) {
    if (!ok) { UI.toast("Could not load older messages. Try again."); return false; }
    return jumpTo(view, id);
  });
}

export function dropView(view) {
  S.views.delete(view.key);
  view.log.remove();
  S.pendings = S.pendings.filter(function (p) { return p.view !== view; });
  if (S.current === view) {
    S.current = null;
    show(roomView(LOBBY));
  }
  saveRooms();
  renderLists();
}

export function leaveCurrent() {
  var view = S.current;
  if (!view) return;
  if (view.kind === "room") {
    if (view.target === LOBBY) return;
    view.joined = false;
    if (S.socket.connected) call("leave", {room: view.target}).then(refreshRooms, function () {});
  }
  dropView(view);
}

var roomsTimer = null;

export function refreshRooms() {
  if (!S.socket || !S.socket.connected) return;
  call("rooms", {}).then(function (ack) {
    if (ack.ok) { S.serverRooms = ack.rooms; renderLists(); }
  }, function () {});
}

export function refreshRoomsSoon() {
  clearTimeout(roomsTimer);
  roomsTimer = setTimeout(refreshRooms, 400);
}
