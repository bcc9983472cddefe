/* Roles on the page.  The server decides who may do what; the page only
 * offers what the person's role allows (S.moderator): a moderator's message
 * menu offers Delete on every message (message.js canDelete), and the people
 * list has a place for kick and mute (memberTools).  Being kicked or muted
 * shows a notice.
 *
 *   var tools = memberTools(view, "bob");  // null unless a moderator
 *   onKicked({room: "random", by: "mod"});
 */
import * as UI from "./ui.js";
import {S, call, LOBBY} from "./state.js";
var el = UI.el;

/** Kick and mute buttons for one person of the people list (moderators only). */
export function memberTools(view, name) {
  if (!S.moderator || name === S.me || view.kind !== "room") return null;
  var box = el("span", "member-tools");
  var kick = el("button", "tool-btn", "Kick");
  kick.type = "button";
  kick.setAttribute("aria-label", "Remove " + name + " from #" + view.target);
  kick.addEventListener("click", function () {
    call("kick", {room: view.target, name: name}).then(function (ack) {
      UI.toast(ack.ok ? name + " was removed from #" + view.target : "Could not kick: " + ack.error);
    }, function () { UI.toast("Could not kick: no answer from the server."); });
  });
  var mute = el("button", "tool-btn", "Mute");
  mute.type = "button";
  mute.setAttribute("aria-label", "Mute " + name + " in #" + view.target + " for 10 minutes");
  mute.addEventListener("click", function () {
    call("mute", {room: view.target, name: name, seconds: 600}).then(function (ack) {
      UI.toast(ack.ok ? name + " is muted in #" + view.target + " for 10 minutes"
        : "Could not mute: " + ack.error);
    }, function () { UI.toast("Could not mute: no answer from the server."); });
  });
  box.appendChild(kick);
  box.appendChild(mute);
  return box;
}

/** `kicked` {room, by}: say so and drop the room (it is not re-joined). */
export function onKicked(d, dropView) {
  var view = d && S.views.get("room:" + d.room);
  if (!view) return;
  UI.toast("You were removed from #" + d.room + (d.by ? " by " + d.by : "") + ".");
  view.joined = false;
  if (d.room === LOBBY) {
    view.synced = false;
    return;
  }
  dropView(view);
}

/** A failure ack of a muted person: "you are muted in ROOM" -> a notice. */
export function mutedNotice(error) {
  var m = /^you are muted in (\S+?)\.?$/i.exec(String(error || ""));
  if (m) UI.toast("You are muted in #" + m[1] + ": you can read, but not write, for now.");
  return !!m;
}
