/* Read markers: what the person has read, on every tab and device.
 *
 * The server keeps one marker per person and room.  The page moves it
 * forward (`read`) when the room is on screen, the tab is visible and the
 * log is scrolled to the bottom; the person's other tabs get a `read` event
 * and clear their badge.  The unread count of a room comes from the join
 * ack, the read ack and `read` events, plus live messages from others.
 *
 * The "New messages" divider goes before the first unread message when the
 * room is opened (or the tab comes back) with unread messages.
 *
 *   markReadSoon(view);          // after showing, scrolling, a live message
 *   onRead({room, read, unread}) // the `read` event
 */
import * as UI from "./ui.js";
import {S, call} from "./state.js";
import {renderLists} from "./views.js";

var READ_DELAY_MS = 300;

function looking(view) {
  return view === S.current && !document.hidden && view.stick && view.synced &&
    S.socket && S.socket.connected;
}

/** Move the read marker to the room's cursor shortly, if the person is looking. */
export function markReadSoon(view) {
  if (view.kind !== "room") return;
  clearTimeout(view.readTimer);
  view.readTimer = setTimeout(function () { markRead(view); }, READ_DELAY_MS);
}

function markRead(view) {
  if (!looking(view) || view.lastId === null || view.lastId <= view.readId) return;
  var id = view.lastId;
  call("read", {room: view.target, id: id}).then(function (ack) {
    if (!ack.ok) return;
    view.readId = Math.max(view.readId, ack.read);
    view.unread = view === S.current && !document.hidden ? 0 : ack.unread;
    renderLists();
  }, function () { /* the next look tries again */ });
}

/** The `read` event: another tab or device of this person read the room. */
export function onRead(d) {
  var view = S.views.get("room:" + d.room);
  if (!view || typeof d.read !== "number") return;
  view.readId = Math.max(view.readId, d.read);
  view.unread = looking(view) ? 0 : Math.max(0, d.unread | 0);
  renderLists();
}

/** From a join ack: the marker and the server's unread count. */
export function fromJoin(view, ack, first) {
  if (typeof ack.read === "number") view.readId = Math.max(view.readId, ack.read);
  if (typeof ack.unread === "number") view.unread = ack.unread;
  if (view === S.current && !document.hidden) {
    if (first) { placeDivider(view); revealDivider(view); }
    view.unread = 0;
    markReadSoon(view);
  }
}

/** Put "New messages" before the first unread message (none when all is read). */
export function placeDivider(view) {
  var old = view.msgs.querySelector("li.divider");
  if (old) old.remove();
  if (!view.unread || !view.readId) return;
  var items = view.msgs.querySelectorAll("li.msg");
  for (var i = 0; i < items.length; i++) {
    var li = items[i];
    if (Number(li.dataset.id) > view.readId && li.dataset.name !== S.me && !li.dataset.deleted) {
      var line = UI.el("li", "divider");
      line.setAttribute("role", "separator");
      line.dataset.id = String(Number(li.dataset.id) - 0.5);   // keeps insertById's order
      line.appendChild(UI.el("span", "divider-label", "New messages"));
      view.msgs.insertBefore(line, li);
      UI.regroup(li);
      return;
    }
  }
}

/** Scroll up to the divider when it is above what the log shows. */
export function revealDivider(view) {
  var line = view.msgs.querySelector("li.divider");
  if (!line || view !== S.current) return;
  var top = line.offsetTop - 8;   // .log is positioned: offsets are within it
  if (top < view.log.scrollTop) view.log.scrollTop = Math.max(0, top);
}

/** The tab came back: show where the person left off, then mark the room read. */
export function onVisible() {
  var view = S.current;
  if (!view) return;
  if (view.kind === "room" && view.unread) { placeDivider(view); revealDivider(view); }
  view.unread = 0;
  renderLists();
  markReadSoon(view);
}
