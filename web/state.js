/* Shared state and small helpers of the chat page.
 *
 * A "view" is one conversation: a room ("room:NAME") or a direct-message
 * thread with one person ("dm:NAME"); see views.js.  Modules read and write
 * the shared values through S (imported bindings are read-only):
 *
 *   import {S, call} from "./state.js";
 *   call("rooms", {}).then(function (ack) { ... });   // ack object, or rejects
 */

export var KEY_NAME = "realtime.name", KEY_TOKEN = "realtime.token";
export var KEY_ROOMS = "realtime.rooms", KEY_VIEW = "realtime.view";
export var KEY_NOTICE = "realtime.demo-notice-hidden";   // sessionStorage: hidden until the tab closes
export var LOBBY = "lobby";
export var ROOM_RE = /^[A-Za-z0-9._-]{1,64}$/;
export var ACK_MS = 10000;            // an ack later than this: treat the send as lost
export var TYPING_IDLE_MS = 2500;     // stop "typing" after this much quiet
export var TYPING_REPEAT_MS = 3000;   // re-announce while typing, so receivers keep it
export var TYPING_EXPIRE_MS = 6000;   // receivers drop a "typing" not renewed in time
export var OFFLINE_AFTER = 3;         // failed reconnect attempts before saying "offline"

export var S = {
  me: storage(KEY_NAME) || "",
  token: storage(KEY_TOKEN) || "",
  role: "member",       // from the token (see applyToken): "member" or "moderator"
  hostLogin: false,     // from /healthz: the host app signs people in (no token needed)
  unverified: null,     // from /healthz: true (demo mode), false (tokens), null (unknown)
  socket: null,         // the chat connection on "/"
  clockSocket: null,    // the "/clock" connection
  views: new Map(),     // view key -> view
  current: null,        // the view on screen
  pendings: [],         // messages and dms not yet confirmed, in send order
  serverRooms: [],      // the last `rooms` answer
  // A moderator may delete anyone's message (and kick and mute, in the
  // people list). The server enforces roles; this only decides what the page
  // offers. It follows the token's role (its role part or `role` claim).
  get moderator() { return this.role === "moderator"; },
  compose: null         // {kind: "reply" or "edit", view, id, draft}: what Enter does
};

export var QUICK_EMOJI = ["👍", "❤️", "😂", "🎉", "👀"];
export var EMOJI = [
  ["👍", "thumbs up"], ["👎", "thumbs down"], ["❤️", "heart"], ["😂", "tears of joy"],
  ["🎉", "party"], ["👀", "eyes"], ["😮", "surprised"], ["😢", "sad"],
  ["🙏", "thanks"], ["🔥", "fire"], ["✅", "done"], ["❌", "no"],
  ["🚀", "rocket"], ["💯", "hundred"], ["🤔", "thinking"], ["😅", "phew"],
  ["👏", "clapping"], ["🙌", "hooray"], ["😍", "love it"], ["😎", "cool"],
  ["🤝", "deal"], ["💡", "idea"], ["⚠️", "warning"], ["➕", "plus one"]
];

export function $(id) {
  return document.getElementById(id);
}

/** Read (one argument), write or remove (value null) a localStorage entry. */
export function storage(key, value) {
  try {
    if (value === undefined) return window.localStorage.getItem(key);
    if (value === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
  } catch (e) { /* private mode: nothing is remembered */ }
  return null;
}

export function makeCid() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
}

/** Emit with an ack; resolves with the ack object, rejects on timeout or drop. */
export function call(event, payload) {
  return new Promise(function (resolve, reject) {
    S.socket.timeout(ACK_MS).emit(event, payload, function (err, ack) {
      if (err) reject(err);
      else resolve(ack && typeof ack === "object" ? ack : {ok: false, error: "bad answer"});
    });
  });
}

/** What a token says about its holder, read without checking it (the server
 * checks): a JWT's name (claim `name`, else `sub`) and role; a v2 secret
 * token's role (v2.ROLE.EXPIRY.SIG; its name is the one typed beside it).
 * Returns {jwt, name, role}; name is "" when the token does not carry one. */
export function tokenInfo(token) {
  var info = {jwt: false, name: "", role: "member"};
  var parts = (token || "").split(".");
  if (parts[0] === "v2" && parts.length === 4 && parts[1] === "moderator") info.role = "moderator";
  if (parts.length !== 3 || parts[0] === "v1") return info;
  try {
    var b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    var bytes = Uint8Array.from(atob(b64 + "===".slice((b64.length + 3) % 4)),
                                function (c) { return c.charCodeAt(0); });
    var claims = JSON.parse(new TextDecoder().decode(bytes));
    var name = typeof claims.name === "string" ? claims.name : claims.sub;
    info.jwt = true;
    info.name = typeof name === "string" ? name.trim() : "";
    if (claims.role === "moderator") info.role = "moderator";
  } catch (e) { /* not a JWT: the server decides */ }
  return info;
}

/** Use ``token`` from now on: remembered like a typed one; a JWT names the person. */
export function applyToken(token) {
  var info = tokenInfo(token);
  S.token = token;
  S.role = info.role;
  if (info.name) {
    S.me = info.name;
    storage(KEY_NAME, S.me);
  }
  storage(KEY_TOKEN, token || null);
  return info;
}

/** A token handed in the address (``/#token=...``): taken, then removed from the
 * address bar and the history, so it is not kept, shared or logged. */
export function takeHashToken() {
  if (!/^#(.*&)?token=/.test(window.location.hash)) return false;
  var token = new URLSearchParams(window.location.hash.slice(1)).get("token") || "";
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  if (!token) return false;
  applyToken(token.trim());
  return true;
}
