/* Acting on a message: its menu (quick reactions, more reactions, reply,
 * edit, delete), the emoji picker, the delete confirmation, reaction chips
 * (click toggles; hover or a long press shows who reacted) and reply quotes
 * (click jumps to the parent).
 *
 * One listener on #logs handles every message's buttons (they carry data-*
 * attributes), so messages rebuilt after an update need no wiring.
 *
 *   wireActions();               // once, at start
 */
import * as UI from "./ui.js";
import {$, S, EMOJI, QUICK_EMOJI} from "./state.js";
import {canDelete, canEdit, snippet} from "./message.js";
import {jumpTo} from "./rooms.js";
import {remove, toggleReaction} from "./updates.js";
import {startEdit, startReply} from "./compose.js";
var el = UI.el;

var LONG_PRESS_MS = 500;
var target = null;   // {view, id, trigger}: the message the menu or picker is for

function viewOf(node) {
  var log = node.closest(".log");
  return log ? S.views.get(log.dataset.key) : null;
}

function messageOf(node) {
  var li = node.closest("li.msg[data-id]");
  var view = li && viewOf(li);
  return li && view && view.kind === "room" ? {view: view, id: Number(li.dataset.id), li: li}
    : null;
}

/** Place a popover next to its trigger (phones: CSS makes it a bottom sheet). */
function place(pop, trigger) {
  if (window.matchMedia("(max-width: 720px)").matches) {
    pop.style.top = pop.style.left = "";
    return;
  }
  var r = trigger.getBoundingClientRect();
  var w = pop.offsetWidth, h = pop.offsetHeight;
  var left = Math.min(Math.max(8, r.right - w), window.innerWidth - w - 8);
  var top = r.bottom + 4;
  if (top + h > window.innerHeight - 8) top = Math.max(8, r.top - h - 4);
  pop.style.left = left + "px";
  pop.style.top = top + "px";
}

function items(pop) {
  return Array.prototype.filter.call(pop.querySelectorAll("button"),
                                     function (b) { return !b.hidden; });
}

/** Arrow keys, Home and End move between a popover's buttons. */
function roving(pop) {
  pop.addEventListener("keydown", function (e) {
    var list = items(pop);
    var i = list.indexOf(document.activeElement);
    var step = {ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1}[e.key];
    if (step) i = (i + step + list.length) % list.length;
    else if (e.key === "Home") i = 0;
    else if (e.key === "End") i = list.length - 1;
    else return;
    e.preventDefault();
    list[i].focus();
  });
}

function openPopover(pop, trigger) {
  if (!pop.matches(":popover-open")) pop.showPopover();
  place(pop, trigger);
  items(pop)[0].focus();
}

export function openMenu(view, id, trigger) {
  var state = view.states.get(id);
  if (!state || state.deleted) return;
  target = {view: view, id: id, trigger: trigger};
  var menu = $("msg-menu");
  $("menu-edit").hidden = !canEdit(state);
  $("menu-delete").hidden = !canDelete(state);
  var mine = state.reactions || {};
  Array.prototype.forEach.call(menu.querySelectorAll(".quick"), function (b) {
    var on = (mine[b.dataset.emoji] || []).indexOf(S.me) >= 0;
    b.setAttribute("aria-checked", String(on));
  });
  $("menu-title").textContent = state.name + ": " + snippet(state.text);
  openPopover(menu, trigger);
}

function openPicker() {
  var picker = $("emoji-picker");
  if (!target) return;
  $("msg-menu").hidePopover();
  openPopover(picker, target.trigger);
}

function closeAll() {
  ["msg-menu", "emoji-picker"].forEach(function (id) {
    var pop = $(id);
    if (pop.matches(":popover-open")) pop.hidePopover();
  });
}

function chosen(emoji) {
  var t = target;
  closeAll();
  if (t) toggleReaction(t.view, t.id, emoji);
}

/** Ask before deleting; resolves true when the person confirms. */
export function confirmDelete(state) {
  var dialog = $("confirm-delete");
  $("confirm-quote").textContent = snippet(state.text);
  $("confirm-who").textContent = state.name === S.me ? "your message" : state.name + "'s message";
  dialog.returnValue = "";
  dialog.showModal();
  $("confirm-cancel").focus();
  return new Promise(function (resolve) {
    dialog.addEventListener("close", function () { resolve(dialog.returnValue === "delete"); },
                            {once: true});
  });
}

function askDelete(t) {
  var state = t.view.states.get(t.id);
  if (!state || state.deleted) return;
  confirmDelete(state).then(function (yes) {
    if (yes) remove(t.view, t.id);
    var li = t.view.msgs.querySelector('li.msg[data-id="' + t.id + '"]');
    if (li) li.focus({preventScroll: true});
  });
}

/** A small note naming who reacted, for touch screens (no hover). */
function showWho(chip) {
  var tip = $("react-tip");
  tip.textContent = chip.dataset.emoji + " " + chip.title;
  tip.hidden = false;
  var r = chip.getBoundingClientRect();
  tip.style.left = Math.max(8, Math.min(r.left, window.innerWidth - tip.offsetWidth - 8)) + "px";
  tip.style.top = Math.max(8, r.top - tip.offsetHeight - 6) + "px";
  clearTimeout(showWho.timer);
  showWho.timer = setTimeout(function () { tip.hidden = true; }, 3000);
}

function wireLongPress(logs) {
  var timer = null, pressed = null;
  logs.addEventListener("pointerdown", function (e) {
    var chip = e.target.closest(".reaction");
    if (!chip) return;
    pressed = null;
    clearTimeout(timer);
    timer = setTimeout(function () { pressed = chip; showWho(chip); }, LONG_PRESS_MS);
  });
  ["pointerup", "pointercancel", "pointerleave"].forEach(function (type) {
    logs.addEventListener(type, function () { clearTimeout(timer); });
  });
  logs.addEventListener("contextmenu", function (e) {
    if (e.target.closest(".reaction")) e.preventDefault();   // a long press is not a menu
  });
  // A long press shows who reacted; it does not also toggle.
  logs.addEventListener("click", function (e) {
    if (pressed && e.target.closest(".reaction") === pressed) {
      pressed = null;
      e.stopImmediatePropagation();
      e.preventDefault();
    }
  }, true);
}

function buildPopovers() {
  var quick = $("menu-quick");
  QUICK_EMOJI.forEach(function (emoji) {
    var b = el("button", "quick", emoji);
    b.type = "button";
    b.setAttribute("role", "menuitemcheckbox");
    b.dataset.emoji = emoji;
    var name = EMOJI.filter(function (p) { return p[0] === emoji; })[0];
    b.setAttribute("aria-label", "React with " + (name ? name[1] : emoji));
    b.title = name ? name[1] : emoji;
    quick.appendChild(b);
  });
  var grid = $("emoji-grid");
  EMOJI.forEach(function (pair) {
    var b = el("button", "pick", pair[0]);
    b.type = "button";
    b.dataset.emoji = pair[0];
    b.title = pair[1];
    b.setAttribute("aria-label", pair[1]);
    grid.appendChild(b);
  });
}

export function wireActions() {
  buildPopovers();
  var logs = $("logs");
  wireLongPress(logs);
  logs.addEventListener("click", function (e) {
    var btn = e.target.closest("button");
    var m = btn && messageOf(btn);
    if (!m) return;
    if (btn.classList.contains("msg-actions")) openMenu(m.view, m.id, btn);
    else if (btn.classList.contains("reaction")) toggleReaction(m.view, m.id, btn.dataset.emoji);
    else if (btn.classList.contains("quote")) jumpTo(m.view, Number(btn.dataset.parent));
  });
  [$("msg-menu"), $("emoji-picker")].forEach(roving);
  $("msg-menu").addEventListener("click", function (e) {
    var b = e.target.closest("button");
    if (!b || !target) return;
    var t = target;
    if (b.classList.contains("quick")) { chosen(b.dataset.emoji); return; }
    if (b.id === "menu-more") { openPicker(); return; }
    closeAll();
    if (b.id === "menu-reply") startReply(t.view, t.id);
    else if (b.id === "menu-edit") startEdit(t.view, t.id);
    else if (b.id === "menu-delete") askDelete(t);
  });
  $("emoji-picker").addEventListener("click", function (e) {
    var b = e.target.closest("button.pick");
    if (b) chosen(b.dataset.emoji);
  });
  ["msg-menu", "emoji-picker"].forEach(function (id) {
    // Closed by Escape or a click elsewhere: focus goes back to the message.
    $(id).addEventListener("toggle", function (e) {
      if (e.newState !== "closed" || !target) return;
      var t = target;
      setTimeout(function () {
        if (document.activeElement === document.body || !document.activeElement) {
          (t.trigger.isConnected ? t.trigger : $("composer-input")).focus({preventScroll: true});
        }
      }, 0);
    });
  });
}
