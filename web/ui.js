/* DOM helpers of the chat page (no network, no state).
 *
 * Every piece of user-supplied text (names, room names, messages) goes into
 * the page through textContent, here in el(); nothing in the page ever parses
 * a string as HTML.
 *
 *   import * as UI from "./ui.js";
 *   var li = UI.messageEl({id: 1, name: "bob", text: "hi", ts: 0}, "alice");
 *   UI.insertById(list, li);
 */
const GROUP_MS = 5 * 60 * 1000;   // same author within 5 minutes: one group

export function el(tag, className, text) {
  var node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** A stable colour class c0..c7 for a name. */
export function colour(name) {
  var h = 0;
  for (var i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) | 0;
  return "c" + (Math.abs(h) % 8);
}

export function initial(name) {
  var first = Array.from(String(name).trim())[0] || "?";
  return first.toUpperCase();
}

export function avatar(name, small) {
  var a = el("span", "avatar " + colour(name) + (small ? " small" : ""), initial(name));
  a.setAttribute("aria-hidden", "true");
  return a;
}

var fmtTime = new Intl.DateTimeFormat(undefined, {hour: "2-digit", minute: "2-digit"});
var fmtDay = new Intl.DateTimeFormat(undefined, {month: "short", day: "numeric",
                                                 hour: "2-digit", minute: "2-digit"});
var fmtFull = new Intl.DateTimeFormat(undefined, {dateStyle: "full", timeStyle: "medium"});
var fmtClock = new Intl.DateTimeFormat(undefined, {hour: "2-digit", minute: "2-digit",
                                                   second: "2-digit"});

/** A <time> showing local time (with the date when not today), full date on hover. */
export function timeEl(ts) {
  var d = new Date(ts);
  var today = d.toDateString() === new Date().toDateString();
  var t = el("time", "ts", (today ? fmtTime : fmtDay).format(d));
  t.dateTime = d.toISOString();
  t.title = fmtFull.format(d);
  return t;
}

export function fullTime(ts) {
  return fmtFull.format(new Date(ts));
}

export function clockText(ts) {
  return fmtClock.format(new Date(ts));
}

/** A message <li>: msg is {id?, name, text, ts}; me is the viewer's name. */
export function messageEl(msg, me) {
  var mine = msg.name === me;
  var li = el("li", "msg" + (mine ? " mine" : ""));
  li.tabIndex = -1;   // focusable from script (jumps, menus), not a Tab stop
  li.dataset.name = msg.name;
  li.dataset.ts = String(msg.ts);
  if (msg.id !== undefined && msg.id !== null) li.dataset.id = String(msg.id);
  li.appendChild(avatar(msg.name));
  var bubble = el("div", "bubble");
  var meta = el("p", "meta");
  meta.appendChild(el("span", "author " + colour(msg.name), msg.name));
  if (mine) meta.appendChild(el("span", "you", "(you)"));
  meta.appendChild(timeEl(msg.ts));
  meta.appendChild(el("span", "state"));
  bubble.appendChild(meta);
  var body = el("p", "body");
  body.appendChild(el("span", "text", msg.text));
  bubble.appendChild(body);
  li.appendChild(bubble);
  return li;
}

/** Mark li as a continuation when the message before it is by the same author. */
export function regroup(li) {
  if (!li) return;
  var prev = li.previousElementSibling;
  var gap = prev ? Number(li.dataset.ts) - Number(prev.dataset.ts) : Infinity;
  li.classList.toggle("cont", !!prev && prev.dataset.name === li.dataset.name &&
                      gap >= 0 && gap < GROUP_MS);
}

/** Insert li into list ordered by data-id; false when that id is already there. */
export function insertById(list, li) {
  var id = Number(li.dataset.id);
  var first = list.firstElementChild;
  var after = list.lastElementChild;
  if (first && id < Number(first.dataset.id)) {
    after = null;
  } else {
    while (after && Number(after.dataset.id) > id) after = after.previousElementSibling;
  }
  if (after && Number(after.dataset.id) === id) return false;
  list.insertBefore(li, after ? after.nextElementSibling : list.firstElementChild);
  regroup(li);
  regroup(li.nextElementSibling);
  return true;
}

/** "alice is typing…", "alice and bob are typing…", "4 people are typing…". */
export function typingText(names) {
  if (!names.length) return "";
  if (names.length === 1) return names[0] + " is typing…";
  if (names.length === 2) return names[0] + " and " + names[1] + " are typing…";
  if (names.length === 3) return names[0] + ", " + names[1] + " and " + names[2] + " are typing…";
  return names.length + " people are typing…";
}

export function plural(n, one, many) {
  return n + " " + (n === 1 ? one : many);
}

var toastTimer = null;

/** A short notice at the bottom of the screen (errors of edit, react, search...). */
export function toast(text) {
  var box = document.getElementById("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(function () { box.hidden = true; }, 6000);
}

/** Remove every child of a node. */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/** Open or close a drawer ("nav" or "members") of the narrow layouts. */
export function setDrawer(which, open) {
  var body = document.body;
  var wasOpen = body.classList.contains(which + "-open");
  body.classList.toggle(which + "-open", open);
  var btn = document.getElementById(which === "nav" ? "nav-toggle" : "members-toggle");
  btn.setAttribute("aria-expanded", String(open));
  document.getElementById("backdrop").hidden = !body.classList.contains("nav-open") &&
    !body.classList.contains("members-open");
  var drawer = document.getElementById(which);
  if (open && !wasOpen) {
    // Keyboard users land inside the drawer (once its slide-in made it visible).
    setTimeout(function () { drawer.querySelector(".drawer-close").focus(); }, 50);
  } else if (!open && wasOpen && drawer.contains(document.activeElement)) {
    btn.focus();
  }
}

export function closeDrawers() {
  setDrawer("nav", false);
  setDrawer("members", false);
}
