/* The chat page's entry point: wires the DOM to the other modules and starts.
 *
 * Modules: state.js (shared state, helpers), ui.js (DOM building), views.js
 * (what is on screen), message.js (one message), rooms.js (joining, catching
 * up, older pages, jumps), outbox.js (sending), compose.js (reply and edit
 * modes), updates.js (edits, deletes, reactions), actions.js (message menu,
 * emoji picker), reads.js (read markers, unread, divider), search.js,
 * moderation.js (roles), typing.js, connection.js (sockets and sign-in).
 */
import * as UI from "./ui.js";
import {$, S, applyToken, storage, takeHashToken, KEY_NOTICE, KEY_ROOMS, KEY_VIEW, LOBBY, ROOM_RE} from "./state.js";
import {dmView, renderLists, roomView, scrollToBottom, show} from "./views.js";
import {leaveCurrent, openRoom, refreshRooms} from "./rooms.js";
import {onComposerInput, stopTyping} from "./typing.js";
import {submitComposer, wireComposer} from "./compose.js";
import {wireActions} from "./actions.js";
import {wireSearch} from "./search.js";
import {onVisible} from "./reads.js";
import {checkServer, closeLogin, connect, onLoginSubmit, openLogin, setConn, startClock, validName} from "./connection.js";

export function wire() {
  var input = $("composer-input");
  $("composer").addEventListener("submit", function (e) {
    e.preventDefault();
    submitComposer();
  });
  wireComposer();
  wireActions();
  wireSearch();
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $("composer").requestSubmit();
    }
  });
  input.addEventListener("input", onComposerInput);
  input.addEventListener("blur", stopTyping);
  $("room-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var room = $("room-input").value.trim().replace(/^#/, "");
    if (!ROOM_RE.test(room)) {
      $("room-error").textContent = "Use 1 to 64 letters, digits, -, _ or .";
      return;
    }
    $("room-error").textContent = "";
    $("room-input").value = "";
    openRoom(room);
    input.focus();
  });
  $("dm-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var to = $("dm-input").value.trim();
    var problem = validName(to);
    $("dm-error").textContent = problem;
    if (problem) return;
    $("dm-input").value = "";
    show(dmView(to));
    input.focus();
  });
  $("leave-btn").addEventListener("click", leaveCurrent);
  $("demo-dismiss").addEventListener("click", function () {
    $("demo-notice").hidden = true;
    try { sessionStorage.setItem(KEY_NOTICE, "1"); } catch (e) { /* not remembered */ }
    input.focus();
  });
  $("change-name").addEventListener("click", function () { openLogin(""); });
  $("login-form").addEventListener("submit", onLoginSubmit);
  $("login-cancel").addEventListener("click", closeLogin);
  $("login").addEventListener("cancel", function (e) {
    if (!(S.socket && S.socket.connected)) e.preventDefault();   // a name is needed first
  });
  $("jump").addEventListener("click", function () {
    if (S.current) scrollToBottom(S.current);
    $("jump").hidden = true;
    input.focus();
  });
  $("nav-toggle").addEventListener("click", function () {
    UI.setDrawer("nav", !document.body.classList.contains("nav-open"));
  });
  $("members-toggle").addEventListener("click", function () {
    UI.setDrawer("members", !document.body.classList.contains("members-open"));
  });
  $("backdrop").addEventListener("click", UI.closeDrawers);
  Array.prototype.forEach.call(document.querySelectorAll(".drawer-close"), function (b) {
    b.addEventListener("click", function () { UI.setDrawer(b.dataset.drawer, false); });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") UI.closeDrawers();
  });
  window.addEventListener("online", function () {
    if (S.socket && !S.socket.connected) setConn("reconnecting", "reconnecting…");
  });
  window.addEventListener("offline", function () {
    if (S.socket && !S.socket.connected) setConn("offline", "offline");
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) onVisible();
  });
  // A token link opened in a tab already showing the page: a new person, a fresh page.
  window.addEventListener("hashchange", function () {
    if (takeHashToken()) window.location.reload();
  });
  setInterval(refreshRooms, 15000);
}

export function restoreViews() {
  var rooms = [];
  try { rooms = JSON.parse(storage(KEY_ROOMS) || "[]"); } catch (e) { rooms = []; }
  if (!Array.isArray(rooms)) rooms = [];
  [LOBBY].concat(rooms).forEach(function (room) {
    if (typeof room === "string" && ROOM_RE.test(room)) roomView(room).joined = true;
  });
  var saved = storage(KEY_VIEW) || "";
  var view = S.views.get(saved) || roomView(LOBBY);
  show(view);
}

export function main() {
  if (!takeHashToken() && S.token) applyToken(S.token);   // role (and a JWT's name)
  wire();
  restoreViews();
  startClock();
  setConn("connecting", "connecting…");
  checkServer().then(function () {
    if (S.me && !validName(S.me) && (S.unverified !== false || S.token || S.hostLogin)) connect();
    else openLogin("");
  });
}

main();
