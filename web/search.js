/* Searching the room on screen (`search`): a box under the room's header,
 * results (newest first) over the messages, each rendered as text with the
 * matching word starts marked; choosing one jumps to the message, loading
 * older history when needed.
 *
 *   openSearch();  closeSearch();
 */
import * as UI from "./ui.js";
import {$, S, call} from "./state.js";
import {jumpTo} from "./rooms.js";
var el = UI.el;

var WORD = /[\p{L}\p{N}]+/gu;   // the server's word rule: runs of letters and digits
var seq = 0;                    // answers to older searches are ignored

function words(q) {
  return (q.match(WORD) || []).map(function (w) { return w.toLowerCase(); });
}

/** Text with each word start that a query word matches wrapped in <mark>. */
export function highlighted(text, query) {
  var qs = words(query);
  var p = el("p", "result-text");
  var last = 0;
  String(text).replace(WORD, function (word, at) {
    var low = word.toLowerCase();
    var len = 0;
    qs.forEach(function (q) { if (low.startsWith(q) && q.length > len) len = q.length; });
    if (!len) return word;
    p.appendChild(document.createTextNode(text.slice(last, at)));
    p.appendChild(el("mark", null, word.slice(0, len)));
    last = at + len;
    return word;
  });
  p.appendChild(document.createTextNode(text.slice(last)));
  return p;
}

export function openSearch() {
  var view = S.current;
  if (!view || view.kind !== "room") return;
  $("search-form").hidden = false;
  $("search-toggle").setAttribute("aria-expanded", "true");
  $("search-input").placeholder = "Search #" + view.target;
  $("search-input").focus();
  $("search-input").select();
}

export function closeSearch() {
  if ($("search-form").hidden && $("search-results").hidden) return;
  var hadFocus = $("search-form").contains(document.activeElement) ||
    $("search-results").contains(document.activeElement);
  seq++;
  $("search-form").hidden = true;
  $("search-results").hidden = true;
  $("search-toggle").setAttribute("aria-expanded", "false");
  UI.clear($("search-list"));
  if (hadFocus) $("search-toggle").focus();
}

function resultEl(view, msg, query) {
  var li = el("li");
  var b = el("button", "result");
  b.type = "button";
  b.dataset.id = String(msg.id);
  var meta = el("p", "meta");
  meta.appendChild(el("span", "author " + UI.colour(msg.name), msg.name));
  meta.appendChild(UI.timeEl(msg.ts));
  if (msg.edited) meta.appendChild(el("span", "edited", "(edited)"));
  b.appendChild(meta);
  b.appendChild(highlighted(msg.text, query));
  b.addEventListener("click", function () {
    hideResults();
    jumpTo(view, msg.id);
  });
  li.appendChild(b);
  return li;
}

function hideResults() {
  seq++;
  $("search-results").hidden = true;
  UI.clear($("search-list"));
}

function run(query) {
  var view = S.current;
  if (!view || view.kind !== "room") return;
  var mine = ++seq;
  var status = $("search-status");
  var list = $("search-list");
  UI.clear(list);
  $("search-results").hidden = false;
  status.textContent = "Searching #" + view.target + "…";
  if (!S.socket || !S.socket.connected) {
    status.textContent = "Search needs a connection: try again once connected.";
    return;
  }
  call("search", {room: view.target, q: query, limit: 50}).then(function (ack) {
    if (mine !== seq) return;
    if (!ack.ok) { status.textContent = "Search failed: " + ack.error; return; }
    var n = ack.messages.length;
    status.textContent = n ? UI.plural(n, "message", "messages") + " in #" + view.target +
      " match “" + query + "”" + (n >= 50 ? " (the newest 50)" : "") + "."
      : "No message in #" + view.target + " matches “" + query + "”.";
    ack.messages.forEach(function (m) { list.appendChild(resultEl(view, m, query)); });
  }, function () {
    if (mine === seq) status.textContent = "No answer from the server. Try again.";
  });
}

export function wireSearch() {
  $("search-toggle").addEventListener("click", function () {
    if ($("search-form").hidden) openSearch();
    else closeSearch();
  });
  $("search-close").addEventListener("click", closeSearch);
  $("search-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var q = $("search-input").value.trim();
    if (q) run(q);
    else hideResults();
  });
  [$("search-form"), $("search-results")].forEach(function (node) {
    node.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); closeSearch(); }
    });
  });
  $("search-results").addEventListener("keydown", function (e) {
    var list = Array.prototype.slice.call($("search-list").querySelectorAll(".result"));
    var i = list.indexOf(document.activeElement);
    if (i < 0 || (e.key !== "ArrowDown" && e.key !== "ArrowUp")) return;
    e.preventDefault();
    var next = list[i + (e.key === "ArrowDown" ? 1 : -1)];
    if (next) next.focus();
  });
}
