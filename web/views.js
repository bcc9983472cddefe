/* Conversations on screen: one scrolling log per room or direct-message thread,
 * the side lists, the header, the people list and the typing line.
 *
 * Messages are keyed by id: whatever path a message arrives by (join ack, live
 * event, history page, catch-up after a reconnect) it shows once, in id order.
 *
 *   var view = roomView("lobby");
 *   addMessages(view, [{id: 1, room: "lobby", name: "bob", text: "hi", ts: 0}], true);
 *   show(view);
 */
import * as UI from "./ui.js";
import {$, S, storage, KEY_VIEW, LOBBY, TYPING_EXPIRE_MS} from "./state.js";
import {loadOlder, openRoom} from "./rooms.js";
import {buildMessage} from "./message.js";
import {fetchParent, refreshQuotes} from "./updates.js";
import {markReadSoon, placeDivider, revealDivider} from "./reads.js";
import {stopTyping} from "./typing.js";
import {cancelCompose} from "./compose.js";
import {closeSearch} from "./search.js";
import {memberTools, renderMuteNote} from "./moderation.js";
var el = UI.el;

var announceBuffer = [], announceTimer = null;

/** Tell screen readers about new messages, at most one summary every 2 s. */
export function announce(text) {
  announceBuffer.push(text);
  if (announceTimer) return;
  announceTimer = setTimeout(function () {
    $("announcer").textContent = announceBuffer.length === 1 ? announceBuffer[0]
      : announceBuffer.length + " new messages";
    announceBuffer = [];
    announceTimer = null;
  }, 2000);
}

export function makeView(kind, target) {
  var key = kind + ":" + target;
  var view = S.views.get(key);
  if (view) return view;
  var log = el("section", "log");
  log.tabIndex = 0;
  log.setAttribute("aria-label", kind === "room" ? "Messages in #" + target
    : "Direct messages with " + target);
  log.dataset.key = key;
  log.hidden = true;
  var top = el("div", "log-top");
  var older = el("button", "older-btn", "Load older messages");
  older.type = "button";
  older.hidden = true;
  var start = el("p", "log-start", kind === "room" ? "This is the start of #" + target + "."
    : "Direct messages are not stored: they reach " + target + " only while online.");
  start.hidden = true;
  top.appendChild(older);
  top.appendChild(start);
  var msgs = el("ol", "msgs");
  var pend = el("ol", "msgs pending");
  log.appendChild(top);
  log.appendChild(msgs);
  log.appendChild(pend);
  $("logs").appendChild(log);
  view = {key: key, kind: kind, target: target, log: log, msgs: msgs, pending: pend,
          olderBtn: older, startNote: start, ids: new Set(), lastId: null,
          olderMore: false, loadingOlder: false, joined: false, synced: false,
          members: new Set(), count: 0, typing: new Map(), unread: 0, stick: true,
          fromBottom: 0,
          // Rooms: every known message state by id (shown, or fetched for a
          // quote), the id of the last update applied to each (versions), and
          // the person's read marker.  lastId is the cursor: the highest id
          // seen among messages and updates.
          states: new Map(), versions: new Map(), readId: 0};
  older.addEventListener("click", function () { loadOlder(view); });
  log.addEventListener("scroll", function () {
    view.fromBottom = log.scrollHeight - log.scrollTop - log.clientHeight;
    view.stick = view.fromBottom < 40;
    if (view.stick && view === S.current) { $("jump").hidden = true; markReadSoon(view); }
    if (log.scrollTop < 80) loadOlder(view);
  });
  if (kind === "dm") start.hidden = false;
  S.views.set(key, view);
  return view;
}

export function roomView(room) { return makeView("room", room); }

export function dmView(peer) { return makeView("dm", peer); }

export function updateTop(view) {
  if (view.kind !== "room") return;
  view.olderBtn.hidden = !view.olderMore;
  view.olderBtn.disabled = !!view.loadingOlder;
  view.olderBtn.textContent = view.loadingOlder ? "Loading older messages…"
    : "Load older messages";
  view.startNote.hidden = view.olderMore || !view.synced;
}

export function scrollToBottom(view) {
  view.log.scrollTop = view.log.scrollHeight;
  view.stick = true;
  view.fromBottom = 0;
}

/** Add stored messages (any order, duplicates ignored); returns how many were new.
 * ``live``: they arrived while the page was connected (or on catch-up), so
 * they count as unread unless the person is looking at the room. */
export function addMessages(view, list, live) {
  var added = 0;
  var keepBottom = view.stick;
  var room = view.kind === "room";
  list.forEach(function (m) {
    if (!m) return;
    if (room) {
      if (view.lastId === null || m.id > view.lastId) view.lastId = m.id;
      // A state from a live update may be newer than a page read before it.
      if (view.versions.has(m.id) && view.states.has(m.id)) m = view.states.get(m.id);
      else view.states.set(m.id, m);
    }
    if (view.ids.has(m.id)) return;
    var li = room ? buildMessage(view, m)
      : UI.messageEl({id: m.id, name: m.from, text: m.text, ts: m.ts}, S.me);
    if (!UI.insertById(view.msgs, li)) return;
    view.ids.add(m.id);
    added++;
    var name = room ? m.name : m.from;
    if (room) {
      refreshQuotes(view, m.id);
      if (m.reply_to && !view.states.has(m.reply_to)) fetchParent(view, m.reply_to);
    }
    if (live && name !== S.me && !m.deleted) {
      if (view === S.current && !document.hidden) {
        announce(name + ": " + m.text);
      } else {
        view.unread++;
        if (view.kind === "dm") announce("Direct message from " + name);
      }
    }
    if (view.typing.has(name)) setTyping(view, name, false);
  });
  if (added && view === S.current) {
    if (keepBottom) scrollToBottom(view);
    else if (live) $("jump").hidden = false;
    if (room && live) markReadSoon(view);
  }
  if (added && live) renderLists();
  return added;
}

export function show(view) {
  if (S.current && S.current !== view) S.current.log.hidden = true;
  var switched = S.current !== view;
  S.current = view;
  view.log.hidden = false;
  if (switched && view.kind === "room") placeDivider(view);
  view.unread = 0;
  if (view.stick) scrollToBottom(view);
  else view.log.scrollTop = view.log.scrollHeight - view.log.clientHeight - view.fromBottom;
  if (switched && view.kind === "room") revealDivider(view);
  $("jump").hidden = true;
  var room = view.kind === "room";
  $("view-title").textContent = room ? "#" + view.target : view.target;
  $("composer-input").placeholder = room ? "Message #" + view.target
    : "Message " + view.target;
  $("leave-btn").hidden = room && view.target === LOBBY;
  $("leave-btn").textContent = room ? "Leave" : "Close";
  $("leave-btn").setAttribute("aria-label", room ? "Leave #" + view.target
    : "Close the conversation with " + view.target);
  document.body.classList.toggle("dm-view", !room);
  storage(KEY_VIEW, view.key);
  stopTyping();
  if (switched) { cancelCompose(); closeSearch(); }
  if (view.kind === "room") markReadSoon(view);
  renderHeader();
  renderMembers();
  renderTypingLine();
  renderMuteNote();
  renderLists();
  UI.closeDrawers();
}

export function renderHeader() {
  if (!S.current) return;
  var sub = $("view-sub");
  if (S.current.kind === "room") {
    sub.textContent = S.current.synced ? UI.plural(S.current.members.size, "person", "people") + " here"
      : "joining…";
  } else {
    sub.textContent = "Direct messages";
  }
  $("members-count").textContent = String(S.current.kind === "room" ? S.current.members.size : 0);
}

export function renderMembers() {
  var list = $("member-list");
  UI.clear(list);
  var room = S.current && S.current.kind === "room";
  $("members-title").textContent = room ? "People in #" + S.current.target : "People";
  if (!room) return;
  Array.from(S.current.members).sort().forEach(function (name) {
    var li = el("li");
    var b = el("button", "member");
    b.type = "button";
    b.dataset.name = name;
    b.appendChild(UI.avatar(name, true));
    b.appendChild(el("span", "member-name", name));
    if (name === S.me) b.appendChild(el("span", "you", "(you)"));
    b.setAttribute("aria-label", name === S.me ? name + " (you)" : "Send a direct message to " + name);
    b.addEventListener("click", function () { show(dmView(name)); renderLists(); });
    li.appendChild(b);
    var tools = memberTools(S.current, name);   // kick and mute, for moderators
    if (tools) li.appendChild(tools);
    list.appendChild(li);
  });
}

export function convButton(label, count, unread, active, onClick) {
  var li = el("li");
  var b = el("button", "conv" + (active ? " active" : ""));
  b.type = "button";
  if (active) b.setAttribute("aria-current", "true");
  b.appendChild(el("span", "conv-name", label));
  if (count !== null) {
    var c = el("span", "count", String(count));
    c.title = UI.plural(count, "person", "people");
    b.appendChild(c);
  }
  if (unread) b.appendChild(el("span", "unread", String(unread)));
  var desc = label + (count !== null ? ", " + UI.plural(count, "person", "people") : "") +
    (unread ? ", " + unread + " unread" : "");
  b.setAttribute("aria-label", desc);
  b.addEventListener("click", onClick);
  li.appendChild(b);
  return li;
}

export function renderLists() {
  var counts = new Map();
  S.serverRooms.forEach(function (r) { counts.set(r.room, r.members); });
  S.views.forEach(function (v) {
    if (v.kind === "room" && v.synced && v.joined) counts.set(v.target, v.members.size);
  });
  if (!counts.has(LOBBY)) counts.set(LOBBY, 0);
  var rooms = Array.from(counts.keys()).sort(function (a, b) {
    return a === LOBBY ? -1 : b === LOBBY ? 1 : a.localeCompare(b);
  });
  var list = $("room-list");
  UI.clear(list);
  var totalUnread = 0;
  rooms.forEach(function (room) {
    var v = S.views.get("room:" + room);
    var unread = v ? v.unread : 0;
    totalUnread += unread;
    var li = convButton("#" + room, counts.get(room) || null, unread, v && v === S.current,
                        function () { openRoom(room); });
    if (v && v.joined) li.firstChild.classList.add("joined");
    list.appendChild(li);
  });
  var dms = $("dm-list");
  UI.clear(dms);
  S.views.forEach(function (v) {
    if (v.kind !== "dm") return;
    totalUnread += v.unread;
    dms.appendChild(convButton(v.target, null, v.unread, v === S.current,
                               function () { show(v); }));
  });
  document.title = (totalUnread ? "(" + totalUnread + ") " : "") +
    (S.current ? (S.current.kind === "room" ? "#" : "") + S.current.target + " · " : "") + "realtime chat";
}

export function setTyping(view, name, on) {
  clearTimeout(view.typing.get(name));
  view.typing.delete(name);
  if (on) {
    view.typing.set(name, setTimeout(function () { setTyping(view, name, false); },
                                     TYPING_EXPIRE_MS));
  }
  if (view === S.current) renderTypingLine();
}

export function renderTypingLine() {
  var names = S.current ? Array.from(S.current.typing.keys()).sort() : [];
  $("typing").textContent = UI.typingText(names);
}
