/* Roles on the page.  The server decides who may do what; the page only
 * offers what the person's role allows (S.moderator): a moderator's message
 * menu offers Delete on every message (message.js canDelete), and the people
 * list has Kick and Mute (10 minutes; Unmute for a mute this page set) next
 * to everyone else (memberTools).  The person acted on is told: `kicked`
 * shows "You were removed from #room by NAME." and drops the room; `muted`
 * {room, until, by} shows "You are muted in #room until TIME" above the
 * message box while it lasts, and a refused send says until when.
 *
 *   var tools = memberTools(view, "bob");  // null unless a moderator
 *   onKicked({room: "random", by: "mod"}, dropView);
 *   onMuted({room: "random", until: 1767000000000, by: "mod"});
 */
import * as UI from "./ui.js";
import {$, S, call, LOBBY} from "./state.js";
import {renderLists, renderMembers} from "./views.js";
var el = UI.el;

var MUTE_SECONDS = 600;      // what Mute offers: 10 minutes
var mutes = new Map();       // room -> {until, by, timer}: the person's own mutes
var mutedByMe = new Map();   // "room\nname" -> until: mutes this page set, for Unmute

function toolButton(label, aria, onClick) {
  var b = el("button", "tool-btn", label);
  b.type = "button";
  b.setAttribute("aria-label", aria);
  b.addEventListener("click", onClick);
  return b;
}

/** Kick and mute buttons for one person of the people list (moderators only). */
export function memberTools(view, name) {
  if (!S.moderator || name === S.me || view.kind !== "room") return null;
  var room = view.target;
  var box = el("span", "member-tools");
  box.appendChild(toolButton("Kick", "Remove " + name + " from #" + room, function () {
    call("kick", {room: room, name: name}).then(function (ack) {
      UI.toast(ack.ok ? name + " was removed from #" + room + "." : "Could not kick: " + ack.error);
    }, function () { UI.toast("Could not kick: no answer from the server."); });
  }));
  var key = room + "\n" + name;
  var lifting = (mutedByMe.get(key) || 0) > Date.now();
  box.appendChild(toolButton(lifting ? "Unmute" : "Mute",
    lifting ? "Unmute " + name + " in #" + room
      : "Mute " + name + " in #" + room + " for 10 minutes",
    function () {
      call("mute", {room: room, name: name, seconds: lifting ? 0 : MUTE_SECONDS}).then(function (ack) {
        if (!ack.ok) { UI.toast("Could not " + (lifting ? "unmute" : "mute") + ": " + ack.error); return; }
        if (ack.until) mutedByMe.set(key, ack.until);
        else mutedByMe.delete(key);
        UI.toast(ack.until ? name + " is muted in #" + room + " until " + timeText(ack.until) + "."
          : name + " may write in #" + room + " again.");
        if (S.current === view) refocus(name);
      }, function () { UI.toast("Could not mute: no answer from the server."); });
    }));
  return box;
}

/** Rebuild the people list (Mute became Unmute or back), keeping the keyboard's place. */
function refocus(name) {
  var had = document.activeElement && document.activeElement.closest("#member-list");
  renderMembers();
  if (!had) return;
  var li = Array.prototype.filter.call(document.querySelectorAll("#member-list li"), function (l) {
    return l.querySelector(".member").dataset.name === name;
  })[0];
  var btn = li && li.querySelectorAll(".tool-btn")[1];
  if (btn) btn.focus();
}

function timeText(ts) {
  return UI.timeEl(ts).textContent;
}

/** `kicked` {room, by}: say so and drop the room (it is not re-joined). */
export function onKicked(d, dropView) {
  var view = d && S.views.get("room:" + d.room);
  if (!view) return;
  var by = typeof d.by === "string" && d.by ? " by " + d.by : "";
  view.joined = false;
  if (d.room === LOBBY) {
    // The lobby stays on screen; selecting it in the room list joins again.
    view.synced = false;
    view.log.dataset.synced = "false";
    UI.toast("You were removed from #" + LOBBY + by + ". Select #" + LOBBY + " to join again.");
    renderLists();
    return;
  }
  // The room's unsent messages go with it (they could not be sent there now): say so.
  var unsent = S.pendings.filter(function (p) { return p.view === view; }).length;
  UI.toast("You were removed from #" + d.room + by + "." + (unsent ? " " +
    UI.plural(unsent, "unsent message", "unsent messages") + " to it " +
    (unsent === 1 ? "was" : "were") + " not sent." : ""));
  dropView(view);
}

/** `muted` {room, until, by}: the person's mute in a room was set (or lifted: until 0). */
export function onMuted(d) {
  if (!d || typeof d.room !== "string" || typeof d.until !== "number") return;
  var old = mutes.get(d.room);
  if (old) clearTimeout(old.timer);
  mutes.delete(d.room);
  var by = typeof d.by === "string" && d.by ? d.by : "";
  if (d.until > Date.now()) {
    var m = {until: d.until, by: by || (old && old.until === d.until ? old.by : "")};
    // Ends by itself: no event comes then.  (setTimeout holds at most ~24 days.)
    m.timer = setTimeout(function () { lift(d.room); }, Math.min(d.until - Date.now() + 500, 2e9));
    mutes.set(d.room, m);
    if (!old || old.until !== d.until) UI.toast(mutedText(d.room) + ".");
  } else if (old) {
    UI.toast("You may write in #" + d.room + " again.");
  }
  renderMuteNote();
}

function lift(room) {
  var m = mutes.get(room);
  if (m && m.until <= Date.now()) mutes.delete(room);
  renderMuteNote();
}

/** The person's mute in ``room`` ({until, by}), or null. */
export function muteOf(room) {
  var m = mutes.get(room);
  return m && m.until > Date.now() ? m : null;
}

function mutedText(room) {
  var m = muteOf(room);
  if (!m) return "You are muted in #" + room;
  return "You are muted in #" + room + " until " + timeText(m.until) + (m.by ? " by " + m.by : "");
}

/** Show (or hide) the note above the message box for the room on screen. */
export function renderMuteNote() {
  var note = $("mute-note");
  var view = S.current;
  var m = view && view.kind === "room" ? muteOf(view.target) : null;
  note.hidden = !m;
  UI.clear(note);
  if (!m) return;
  note.appendChild(document.createTextNode("You are muted in #" + view.target + " until "));
  var t = UI.timeEl(m.until);
  t.className = "";
  note.appendChild(t);
  note.appendChild(document.createTextNode((m.by ? " by " + m.by : "") +
                                           ". You can read, but not write, until then."));
}

/** A failure ack of a muted person ("you are muted in ROOM"): a notice saying until
 * when, when the page knows; returns the short reason for the message's state, or "". */
export function mutedNotice(error) {
  var match = /^you are muted in (\S+?)\.?$/i.exec(String(error || ""));
  if (!match) return "";
  var room = match[1], m = muteOf(room);
  UI.toast(mutedText(room) + (m ? "." : ": you can read, but not write, for now."));
  return m ? "you are muted until " + timeText(m.until) : "you are muted in #" + room;
}
