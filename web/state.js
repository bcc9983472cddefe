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
  unverified: null,     // from /healthz: true (demo mode), false (tokens), null (unknown)
  socket: null,         // the chat connection on "/"
  clockSocket: null,    // the "/clock" connection
  views: new Map(),     // view key -> view
  current: null,        // the view on screen
  pendings: [],         // messages and dms not yet confirmed, in send order
  serverRooms: [],      // the last `rooms` answer
  // A moderator may delete anyone's message (and kick and mute, in the
  // people list). The server enforces roles; this only decides what the page
  // offers. Set from the token (its role part or `role` claim), see roleFromToken().
  moderator: false,
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

/** True when the token names the moderator role: a secret token
 * `v2.moderator.EXPIRY.SIG`, or a JWT whose payload says `"role": "moderator"`.
 * Nothing is verified here: the server decides what is allowed. */
export function roleFromToken(token) {
  var parts = String(token || "").split(".");
  if (parts.length === 4 && parts[0] === "v2") return parts[1] === "moderator";
  if (parts.length !== 3 || parts[0].slice(0, 2) !== "ey") return false;
  try {
    var json = atob(parts[1].replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(json).role === "moderator";
  } catch (e) {
    return false;
  }
}

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
