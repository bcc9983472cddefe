/* The Socket.IO connections (chat on `/`, the clock on `/clock`), the
 * connection indicator, and the sign-in dialog (name, and a token when the
 * server has a secret).
 *
 *   connect();                   // with S.me (and S.token) set
 */
import * as UI from "./ui.js";
import {$, S, applyToken, storage, tokenInfo, KEY_NAME, KEY_NOTICE, OFFLINE_AFTER} from "./state.js";
import {addMessages, dmView, renderHeader, renderLists, renderMembers, renderTypingLine, setTyping} from "./views.js";
import {dropView, joinedRooms, refreshRooms, refreshRoomsSoon, syncRoom} from "./rooms.js";
import {applyUpdate} from "./updates.js";
import {onRead} from "./reads.js";
import {onKicked, onMuted} from "./moderation.js";
import {echoed, flushQueue, setState} from "./outbox.js";
import {forgetTyping} from "./typing.js";

var reconnectAttempts = 0;

// The chat and the clock share one connection (one Socket.IO Manager), built
// with the options of whichever io() call comes first: both pass these.
// Long-polling first (it passes any proxy), then the upgrade; a server run
// with --websocket-only refuses polling with a 400, and tryAllTransports
// makes the client go on to WebSocket instead of retrying polling forever.
var TRANSPORTS = {transports: ["polling", "websocket"], tryAllTransports: true};

export function setConn(state, text) {
  var box = $("conn");
  box.dataset.state = state;
  $("conn-text").textContent = text || state;
  document.body.dataset.conn = state;
}

export function authData() {
  // A JWT names its holder itself; the name sent beside it is the token's own,
  // so it cannot mismatch (and a demo server, which checks no token, has one).
  var info = tokenInfo(S.token);
  var auth = {name: info.jwt && info.name ? info.name : S.me};
  if (S.token) auth.token = S.token;
  return auth;
}

export function connect() {
  $("me-name").textContent = S.me;
  $("change-name").setAttribute("aria-label", "Signed in as " + S.me + ". Change name");
  $("me-avatar").textContent = UI.initial(S.me);
  $("me-avatar").className = "avatar small " + UI.colour(S.me);
  if (S.socket) {
    S.socket.auth = authData();
    S.socket.connect();
    return;
  }
  S.socket = io(Object.assign({auth: authData()}, TRANSPORTS));
  S.socket.on("connect", onConnect);
  S.socket.on("disconnect", function (reason) {
    S.pendings.forEach(function (p) {
      if (p.state === "sending") {
        p.attempt++;
        if (p.view.kind === "dm") setState(p, "failed", "connection lost before confirmation");
        else setState(p, "queued");
      }
    });
    S.views.forEach(function (v) {
      v.typing.forEach(function (t) { clearTimeout(t); });
      v.typing.clear();
      v.resyncing = v.kind === "room";
    });
    renderTypingLine();
    forgetTyping();
    if (reason === "io client disconnect") {
      setConn("offline", "offline");
      return;
    }
    setConn("reconnecting", "reconnecting…");
    // The client library retries by itself except after a server-side
    // disconnect (e.g. a server shutting down): come back all the same.
    if (reason === "io server disconnect") setTimeout(function () { S.socket.connect(); }, 1000);
  });
  S.socket.on("connect_error", function (err) {
    if (S.socket.active) {   // a network error: the client retries by itself
      setConn(reconnectAttempts >= OFFLINE_AFTER || !navigator.onLine ? "offline" : "reconnecting",
              reconnectAttempts >= OFFLINE_AFTER || !navigator.onLine ? "offline, retrying…"
                : "reconnecting…");
      return;
    }
    setConn("offline", "not signed in");
    openLogin(err && err.message ? err.message : "the server refused the connection");
  });
  S.socket.io.on("reconnect_attempt", function (n) { reconnectAttempts = n; });
  S.socket.io.on("reconnect", function () { reconnectAttempts = 0; });
  S.socket.on("message", function (msg) {
    var view = S.views.get("room:" + msg.room);
    if (!view) return;
    echoed(view, msg);
    addMessages(view, [msg], true);
  });
  S.socket.on("update", function (upd) {
    var view = upd && S.views.get("room:" + upd.room);
    if (view) applyUpdate(view, upd);
  });
  S.socket.on("read", onRead);
  S.socket.on("kicked", function (d) { onKicked(d, dropView); });
  S.socket.on("muted", onMuted);
  S.socket.on("presence", function (d) {
    var view = S.views.get("room:" + d.room);
    if (view) {
      if (d.event === "join") view.members.add(d.name);
      else { view.members.delete(d.name); setTyping(view, d.name, false); }
      view.count = d.count;
      if (view === S.current) { renderHeader(); renderMembers(); }
    }
    refreshRoomsSoon();
    renderLists();
  });
  S.socket.on("typing", function (d) {
    var view = S.views.get("room:" + d.room);
    if (view && d.name !== S.me) setTyping(view, d.name, !!d.typing);
  });
  S.socket.on("dm", function (msg) {
    var peer = msg.from === S.me ? msg.to : msg.from;
    var view = dmView(peer);
    addMessages(view, [msg], true);
    renderLists();
  });
}

export function onConnect() {
  reconnectAttempts = 0;
  setConn("connected", "connected");
  closeLogin();
  if (S.unverified === null) checkServer();
  var rooms = joinedRooms();
  rooms.forEach(function (v) { v.resyncing = true; });
  Promise.all(rooms.map(function (v) {
    return syncRoom(v, false).then(function () { v.resyncing = false; });
  })).then(function () {
    flushQueue();
    refreshRooms();
  });
}

export function startClock() {
  S.clockSocket = io("/clock", TRANSPORTS);
  S.clockSocket.on("tick", function (t) {
    var c = $("clock");
    c.textContent = UI.clockText(t.ts);
    c.dateTime = t.iso;
    c.classList.remove("stale");
  });
  S.clockSocket.on("disconnect", function () { $("clock").classList.add("stale"); });
}

export function checkServer() {
  return fetch("healthz", {cache: "no-store"}).then(function (r) { return r.json(); })
    .then(function (h) {
      if (typeof h.unverified === "boolean") S.unverified = h.unverified;
      S.hostLogin = h.sign_in === "host";   // the host app's login: a name, no token
      var dismissed = false;
      try { dismissed = !!sessionStorage.getItem(KEY_NOTICE); } catch (e) { /* shown */ }
      $("demo-notice").hidden = S.unverified !== true || dismissed;
    }, function () { /* unknown: a refused connect will tell */ });
}

export function validName(name) {
  if (!name) return "Please enter a name.";
  if (Array.from(name).length > 32) return "A name has at most 32 characters.";
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return "A name cannot contain control characters.";
  return "";
}

export function openLogin(error) {
  var dialog = $("login");
  $("login-name").value = S.me;
  $("login-token").value = S.token;
  var needToken = (S.unverified === false && !S.hostLogin) || /token/i.test(error || "");
  $("token-field").hidden = !needToken;
  $("login-demo").hidden = S.unverified !== true;
  $("login-error").textContent = error || "";
  $("login-cancel").hidden = !(S.socket && S.socket.connected);
  if (!dialog.open) dialog.showModal();
  (error && /token/i.test(error) ? $("login-token") : $("login-name")).focus();
}

export function closeLogin() {
  if ($("login").open) $("login").close();
}

export function onLoginSubmit(event) {
  event.preventDefault();
  var name = $("login-name").value.trim();
  var problem = validName(name);
  var tok = $("login-token").value.trim();
  if (!problem && !$("token-field").hidden && !tok) problem = "Please enter your token.";
  if (problem) {
    $("login-error").textContent = problem;
    $("login-name").focus();
    return;
  }
  var changed = name !== S.me;
  S.me = name;
  storage(KEY_NAME, S.me);
  applyToken($("token-field").hidden ? "" : tok);
  if (S.socket && S.socket.connected) {
    if (changed) window.location.reload();   // a new person: start from a clean page
    else closeLogin();
    return;
  }
  $("login-error").textContent = "Connecting…";
  connect();
}
