/* One stored room message on screen, built from its current state: author,
 * time, the quote of the message it replies to, the text (or "message
 * deleted"), the "edited" mark, reaction chips and the actions button.
 *
 * Everything user-supplied goes in as text (UI.el sets textContent).  The
 * buttons carry data-* attributes; one listener per log (actions.js) acts
 * on them, so rebuilding a message after an update costs no listeners.
 *
 *   var li = buildMessage(view, {id: 4, room: "lobby", name: "bob", text: "hi", ts: 0,
 *                                reply_to: 2, reactions: {"👍": ["alice"]}});
 */
import * as UI from "./ui.js";
import {S} from "./state.js";
var el = UI.el;

var QUOTE_CHARS = 140;

/** May the viewer delete this message?  Their own, or any as a moderator. */
export function canDelete(msg) {
  return !msg.deleted && (msg.name === S.me || S.moderator);
}

export function canEdit(msg) {
  return !msg.deleted && msg.name === S.me;
}

export function snippet(text) {
  var chars = Array.from(String(text).replace(/\s+/g, " ").trim());
  return chars.length > QUOTE_CHARS ? chars.slice(0, QUOTE_CHARS).join("") + "…" : chars.join("");
}

/** The quote of a reply's parent: a button that jumps to it. */
export function quoteEl(view, parentId) {
  var q = el("button", "quote");
  q.type = "button";
  q.dataset.parent = String(parentId);
  fillQuote(view, q);
  return q;
}

export function fillQuote(view, q) {
  UI.clear(q);
  var parent = view.states.get(Number(q.dataset.parent));
  var who, what;
  if (!parent) {
    who = "";
    what = "a message";
  } else if (parent.deleted) {
    who = parent.name;
    what = "message deleted";
  } else {
    who = parent.name;
    what = snippet(parent.text);
  }
  q.classList.toggle("is-deleted", !!(parent && parent.deleted));
  if (who) q.appendChild(el("span", "quote-author " + UI.colour(who), who));
  q.appendChild(el("span", "quote-text", what));
  q.setAttribute("aria-label", "In reply to " + (who ? who + ": " : "") + what +
                 ". Show that message");
}

function reactionsEl(msg) {
  var names = msg.reactions || {};
  var keys = Object.keys(names);
  if (!keys.length) return null;
  var box = el("div", "reactions");
  keys.forEach(function (emoji) {
    var who = names[emoji] || [];
    var mine = who.indexOf(S.me) >= 0;
    var chip = el("button", "reaction" + (mine ? " mine" : ""));
    chip.type = "button";
    chip.dataset.emoji = emoji;
    chip.setAttribute("aria-pressed", String(mine));
    chip.appendChild(el("span", "reaction-emoji", emoji));
    chip.appendChild(el("span", "reaction-count", String(who.length)));
    var list = who.join(", ");
    chip.title = list;
    chip.setAttribute("aria-label", emoji + " " + who.length + ": " + list +
                      (mine ? ". Press to remove your reaction" : ". Press to react too"));
    box.appendChild(chip);
  });
  return box;
}

/** A message <li> built from the message's state. */
export function buildMessage(view, msg) {
  var li = UI.messageEl(msg, S.me);
  var bubble = li.querySelector(".bubble");
  var body = bubble.querySelector(".body");
  var text = body.querySelector(".text");
  if (msg.deleted) {
    li.classList.add("deleted");
    li.dataset.deleted = "true";
    text.textContent = "message deleted";
  } else {
    if (msg.reply_to) bubble.insertBefore(quoteEl(view, msg.reply_to), body);
    if (msg.edited) {
      var mark = el("span", "edited", "(edited)");
      mark.title = "Edited " + UI.fullTime(msg.edited);
      body.appendChild(document.createTextNode(" "));
      body.appendChild(mark);
      li.dataset.edited = String(msg.edited);
    }
    var chips = reactionsEl(msg);
    if (chips) bubble.appendChild(chips);
    var more = el("button", "msg-actions", "⋯");
    more.type = "button";
    more.setAttribute("aria-haspopup", "menu");
    more.setAttribute("aria-label", "Actions for the message from " + msg.name);
    more.title = "Reply, react, edit or delete";
    li.appendChild(more);
  }
  return li;
}

/** Rebuild a shown message from its state, keeping grouping and focus. */
export function refreshMessage(view, id) {
  var old = view.msgs.querySelector('li.msg[data-id="' + id + '"]');
  var state = view.states.get(id);
  if (!old || !state) return;
  var focused = old.contains(document.activeElement) ? document.activeElement : null;
  var li = buildMessage(view, state);
  li.classList.toggle("cont", old.classList.contains("cont"));
  if (old.classList.contains("flash")) li.classList.add("flash");
  old.replaceWith(li);
  if (focused) {
    var again = focused.dataset.emoji ? li.querySelector('.reaction[data-emoji="' +
                                                        CSS.escape(focused.dataset.emoji) + '"]')
      : focused.classList.contains("msg-actions") ? li.querySelector(".msg-actions") : null;
    (again || li).focus({preventScroll: true});
  }
}
