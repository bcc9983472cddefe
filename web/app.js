"use strict";
/* The chat page: state, protocol (PROTOCOL.md) and wiring of the DOM.
 *
 * A "view" is one conversation: a room ("room:NAME") or a direct-message
 * thread with one person ("dm:NAME").  Each view owns its own scrolling log
 * element, so switching keeps scroll positions and nothing is re-rendered.
 * Messages are keyed by id: whatever path a message arrives by (join ack,
 * live event, history page, catch-up after a reconnect), it shows once, in
 * id order.
 */
(function () {
  var UI = window.RealtimeUI;
  var el = UI.el;
  var $ = function (id) { return document.getElementById(id); };

  var KEY_NAME = "realtime.name", KEY_TOKEN = "realtime.token";
  var KEY_ROOMS = "realtime.rooms", KEY_VIEW = "realtime.view";
  var LOBBY = "lobby";
  var ROOM_RE = /^[A-Za-z0-9._-]{1,64}$/;
  var ACK_MS = 10000;            // an ack later than this: treat the send as lost
  var TYPING_IDLE_MS = 2500;     // stop "typing" after this much quiet
  var TYPING_REPEAT_MS = 3000;   // re-announce while typing, so receivers keep it
  var TYPING_EXPIRE_MS = 6000;   // receivers drop a "typing" not renewed in time
  var OFFLINE_AFTER = 3;         // failed reconnect attempts before saying "offline"

  var me = storage(KEY_NAME) || "";
  var token = storage(KEY_TOKEN) || "";
  var unverified = null;         // from /healthz: true (demo mode), false (tokens), null (unknown)
  var socket = null, clockSocket = null;
  var views = new Map();
  var current = null;
  var pendings = [];             // messages and dms not yet confirmed, in send order
  var serverRooms = [];          // last `rooms` answer
  var localSeq = 0;

  // -- small helpers --------------------------------------------------------

  function storage(key, value) {
    try {
      if (value === undefined) return window.localStorage.getItem(key);
      if (value === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, value);
    } catch (e) { /* private mode: nothing is remembered */ }
    return null;
  }

  function makeCid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  /** Emit with an ack; resolves with the ack object, rejects on timeout or drop. */
  function call(event, payload) {
    return new Promise(function (resolve, reject) {
      socket.timeout(ACK_MS).emit(event, payload, function (err, ack) {
        if (err) reject(err);
        else resolve(ack && typeof ack === "object" ? ack : {ok: false, error: "bad answer"});
      });
    });
  }

  var announceBuffer = [], announceTimer = null;
  /** Tell screen readers about new messages, at most one summary every 2 s. */
  function announce(text) {
    announceBuffer.push(text);
    if (announceTimer) return;
    announceTimer = setTimeout(function () {
      $("announcer").textContent = announceBuffer.length === 1 ? announceBuffer[0]
        : announceBuffer.length + " new messages";
      announceBuffer = [];
      announceTimer = null;
    }, 2000);
  }

  // -- views ----------------------------------------------------------------

  function makeView(kind, target) {
    var key = kind + ":" + target;
    var view = views.get(key);
    if (view) return view;
    var log = el("section", "log");
    log.tabIndex = 0;
    log.setAttribute("aria-label", kind === "room" ? "Messages in #" + target
      : "Direct messages with " + target);
    log.dataset.key = key;
    log.hidden = true;
    var top = el("div", "log-top");
    var older = el("button", "older-btn", "Load older messages");
    older.type = "button";
    older.hidden = true;
    var start = el("p", "log-start", kind === "room" ? "This is the start of #" + target + "."
      : "Direct messages are not stored: they reach " + target + " only while online.");
    start.hidden = true;
    top.appendChild(older);
    top.appendChild(start);
    var msgs = el("ol", "msgs");
    var pend = el("ol", "msgs pending");
    log.appendChild(top);
    log.appendChild(msgs);
    log.appendChild(pend);
    $("logs").appendChild(log);
    view = {key: key, kind: kind, target: target, log: log, msgs: msgs, pending: pend,
            olderBtn: older, startNote: start, ids: new Set(), lastId: null,
            olderMore: false, loadingOlder: false, joined: false, synced: false,
            members: new Set(), count: 0, typing: new Map(), unread: 0, stick: true,
            fromBottom: 0};
    older.addEventListener("click", function () { loadOlder(view); });
    log.addEventListener("scroll", function () {
      view.fromBottom = log.scrollHeight - log.scrollTop - log.clientHeight;
      view.stick = view.fromBottom < 40;
      if (view.stick && view === current) $("jump").hidden = true;
      if (log.scrollTop < 80) loadOlder(view);
    });
    if (kind === "dm") start.hidden = false;
    views.set(key, view);
    return view;
  }

  function roomView(room) { return makeView("room", room); }
  function dmView(peer) { return makeView("dm", peer); }

  function updateTop(view) {
    if (view.kind !== "room") return;
    view.olderBtn.hidden = !view.olderMore;
    view.olderBtn.disabled = view.loadingOlder;
    view.olderBtn.textContent = view.loadingOlder ? "Loading older messages…"
      : "Load older messages";
    view.startNote.hidden = view.olderMore || !view.synced;
  }

  function scrollToBottom(view) {
    view.log.scrollTop = view.log.scrollHeight;
    view.stick = true;
    view.fromBottom = 0;
  }

  /** Add stored messages (any order, duplicates ignored); returns how many were new. */
  function addMessages(view, list, live) {
    var added = 0;
    var keepBottom = view.stick;
    list.forEach(function (m) {
      if (!m || view.ids.has(m.id)) return;
      var msg = view.kind === "dm" ? {id: m.id, name: m.from, text: m.text, ts: m.ts} : m;
      if (!UI.insertById(view.msgs, UI.messageEl(msg, me))) return;
      view.ids.add(m.id);
      if (view.kind === "room" && (view.lastId === null || m.id > view.lastId)) view.lastId = m.id;
      added++;
      if (live && msg.name !== me) {
        if (view === current && !document.hidden) {
          announce(msg.name + ": " + msg.text);
        } else {
          view.unread++;
          if (view.kind === "dm") announce("Direct message from " + msg.name);
        }
      }
      if (view.typing.has(msg.name)) setTyping(view, msg.name, false);
    });
    if (added && view === current) {
      if (keepBottom) scrollToBottom(view);
      else if (live) $("jump").hidden = false;
    }
    if (added && live) renderLists();
    return added;
  }

  function show(view) {
    if (current && current !== view) current.log.hidden = true;
    current = view;
    view.log.hidden = false;
    view.unread = 0;
    if (view.stick) scrollToBottom(view);
    else view.log.scrollTop = view.log.scrollHeight - view.log.clientHeight - view.fromBottom;
    $("jump").hidden = true;
    var room = view.kind === "room";
    $("view-title").textContent = room ? "#" + view.target : view.target;
    $("composer-input").placeholder = room ? "Message #" + view.target
      : "Message " + view.target;
    $("leave-btn").hidden = room && view.target === LOBBY;
    $("leave-btn").textContent = room ? "Leave" : "Close";
    $("leave-btn").setAttribute("aria-label", room ? "Leave #" + view.target
      : "Close the conversation with " + view.target);
    document.body.classList.toggle("dm-view", !room);
    storage(KEY_VIEW, view.key);
    stopTyping();
    renderHeader();
    renderMembers();
    renderTypingLine();
    renderLists();
    closeDrawers();
  }

  function openRoom(room) {
    var view = roomView(room);
    if (!view.joined && socket && socket.connected) syncRoom(view, true);
    else view.joined = true;
    saveRooms();
    show(view);
    return view;
  }

  function saveRooms() {
    var rooms = [];
    views.forEach(function (v) { if (v.kind === "room" && v.joined) rooms.push(v.target); });
    storage(KEY_ROOMS, JSON.stringify(rooms));
  }

  function joinedRooms() {
    var rooms = [];
    views.forEach(function (v) { if (v.kind === "room" && v.joined) rooms.push(v); });
    return rooms;
  }

  // -- joining and catching up ----------------------------------------------

  /** Join (or re-join after a reconnect) and fetch what was missed, looping while `more`. */
  function syncRoom(view, userAsked) {
    view.joined = true;
    var payload = {room: view.target};
    if (view.lastId !== null) payload.since = view.lastId;
    else if (view.synced) payload.since = 0;
    return call("join", payload).then(function (ack) {
      if (!ack.ok) {
        view.joined = false;
        if (userAsked) $("room-error").textContent = ack.error;
        dropView(view);
        return;
      }
      var catchUp = view.synced;   // a first join's history is not "new"
      view.members = new Set(ack.members);
      view.count = ack.members.length;
      if (!view.synced) view.olderMore = payload.since === undefined && ack.more;
      view.synced = true;
      view.log.dataset.synced = "true";
      addMessages(view, ack.history, catchUp);
      updateTop(view);
      if (view === current) { renderHeader(); renderMembers(); }
      renderLists();
      if (payload.since !== undefined && ack.more) return syncRoom(view, false);
      if (!view.resyncing) flushQueue();
      if (view === current && view.olderMore && view.log.scrollHeight <= view.log.clientHeight) {
        loadOlder(view);
      }
    }, function () { /* dropped: the next connect syncs again */ });
  }

  function loadOlder(view) {
    if (view.kind !== "room" || view.loadingOlder || !view.olderMore || !socket.connected) return;
    var first = view.msgs.firstElementChild;
    if (!first) return;
    view.loadingOlder = true;
    updateTop(view);
    call("history", {room: view.target, before: Number(first.dataset.id), limit: 50})
      .then(function (ack) {
        if (!ack.ok) return;
        var log = view.log;
        var fromEnd = log.scrollHeight - log.scrollTop;
        addMessages(view, ack.messages, false);
        view.olderMore = ack.more;
        log.scrollTop = log.scrollHeight - fromEnd;   // keep the reader's place
      }, function () {})
      .then(function () {
        view.loadingOlder = false;
        updateTop(view);
      });
  }

  function dropView(view) {
    views.delete(view.key);
    view.log.remove();
    pendings = pendings.filter(function (p) { return p.view !== view; });
    if (current === view) {
      current = null;
      show(roomView(LOBBY));
    }
    saveRooms();
    renderLists();
  }

  function leaveCurrent() {
    var view = current;
    if (!view) return;
    if (view.kind === "room") {
      if (view.target === LOBBY) return;
      view.joined = false;
      if (socket.connected) call("leave", {room: view.target}).then(refreshRooms, function () {});
    }
    dropView(view);
  }

  // -- sending ----------------------------------------------------------------

  function send(text) {
    var view = current;
    if (!view || !text.trim()) return;
    var p = {seq: ++localSeq, view: view, text: text, cid: makeCid(), attempt: 0,
             state: "queued", ts: Date.now()};
    p.li = UI.messageEl({name: me, text: text, ts: p.ts}, me);
    p.li.classList.add("is-pending");
    var actions = el("div", "pending-actions");
    var retry = el("button", "retry-btn", "Retry");
    retry.type = "button";
    var discard = el("button", "discard-btn", "Discard");
    discard.type = "button";
    actions.appendChild(retry);
    actions.appendChild(discard);
    p.li.querySelector(".bubble").appendChild(actions);
    retry.addEventListener("click", function () { trySend(p); });
    discard.addEventListener("click", function () { finish(p); });
    view.pending.appendChild(p.li);
    pendings.push(p);
    scrollToBottom(view);
    trySend(p);
  }

  function setState(p, state, error) {
    p.state = state;
    p.li.dataset.state = state;
    var label = {queued: "waiting for connection…", sending: "sending…",
                 failed: "not sent: " + (error || "error")}[state];
    p.li.querySelector(".state").textContent = label;
    p.li.classList.toggle("is-failed", state === "failed");
  }

  function canSend(p) {
    if (!socket || !socket.connected) return false;
    return p.view.kind === "dm" || (p.view.joined && p.view.synced && !p.view.resyncing);
  }

  /** Send (or re-send) a pending message; a room message keeps its cid, so a
   * resend after a lost ack is stored once. */
  function trySend(p) {
    if (!canSend(p)) { setState(p, "queued"); return; }
    setState(p, "sending");
    var attempt = ++p.attempt;
    var event = p.view.kind === "room" ? "message" : "dm";
    var payload = p.view.kind === "room" ? {room: p.view.target, text: p.text, cid: p.cid}
      : {to: p.view.target, text: p.text};
    call(event, payload).then(function (ack) {
      if (attempt !== p.attempt) return;
      if (!ack.ok) { setState(p, "failed", ack.error); restore(p); return; }
      finish(p);
      addMessages(p.view, [ack.message], false);
      if (p.view === current) scrollToBottom(p.view);
    }, function () {
      if (attempt !== p.attempt) return;
      if (p.view.kind === "dm") { setState(p, "failed", "no confirmation, it may not have arrived"); return; }
      setState(p, "queued");   // resent with the same cid once connected again
      if (canSend(p)) trySend(p);
    });
  }

  function finish(p) {
    p.attempt++;
    p.li.remove();
    pendings = pendings.filter(function (x) { return x !== p; });
  }

  function restore(p) {
    if (!p.li.isConnected) p.view.pending.appendChild(p.li);
  }

  /** Our own message came back as a broadcast before its ack: hide the pending copy. */
  function echoed(view, msg) {
    if (msg.name !== me) return;
    for (var i = 0; i < pendings.length; i++) {
      var p = pendings[i];
      if (p.view === view && p.state === "sending" && p.text === msg.text && p.li.isConnected) {
        p.li.remove();
        return;
      }
    }
  }

  function flushQueue() {
    pendings.slice().forEach(function (p) { if (p.state === "queued") trySend(p); });
  }

  // -- typing -----------------------------------------------------------------

  var typingRoom = null, typingSentAt = 0, typingIdle = null;

  function onComposerInput() {
    var input = $("composer-input");
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 160) + "px";
    input.style.overflowY = input.scrollHeight + 2 > 160 ? "auto" : "hidden";
    if (!current || current.kind !== "room" || !socket || !socket.connected) return;
    if (!input.value.trim()) { stopTyping(); return; }
    var now = Date.now();
    if (typingRoom !== current.target || now - typingSentAt > TYPING_REPEAT_MS) {
      if (typingRoom && typingRoom !== current.target) stopTyping();
      typingRoom = current.target;
      typingSentAt = now;
      socket.emit("typing", {room: typingRoom, typing: true});
    }
    clearTimeout(typingIdle);
    typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    clearTimeout(typingIdle);
    if (typingRoom && socket && socket.connected) {
      socket.emit("typing", {room: typingRoom, typing: false});
    }
    typingRoom = null;
    typingSentAt = 0;
  }

  function setTyping(view, name, on) {
    clearTimeout(view.typing.get(name));
    view.typing.delete(name);
    if (on) {
      view.typing.set(name, setTimeout(function () { setTyping(view, name, false); },
                                       TYPING_EXPIRE_MS));
    }
    if (view === current) renderTypingLine();
  }

  function renderTypingLine() {
    var names = current ? Array.from(current.typing.keys()).sort() : [];
    $("typing").textContent = UI.typingText(names);
  }

  // -- rendering of lists and header --------------------------------------------

  function renderHeader() {
    if (!current) return;
    var sub = $("view-sub");
    if (current.kind === "room") {
      sub.textContent = current.synced ? UI.plural(current.members.size, "person", "people") + " here"
        : "joining…";
    } else {
      sub.textContent = "Direct messages";
    }
    $("members-count").textContent = String(current.kind === "room" ? current.members.size : 0);
  }

  function renderMembers() {
    var list = $("member-list");
    UI.clear(list);
    var room = current && current.kind === "room";
    $("members-title").textContent = room ? "People in #" + current.target : "People";
    if (!room) return;
    Array.from(current.members).sort().forEach(function (name) {
      var li = el("li");
      var b = el("button", "member");
      b.type = "button";
      b.dataset.name = name;
      b.appendChild(UI.avatar(name, true));
      b.appendChild(el("span", "member-name", name));
      if (name === me) b.appendChild(el("span", "you", "(you)"));
      b.setAttribute("aria-label", name === me ? name + " (you)" : "Send a direct message to " + name);
      b.addEventListener("click", function () { show(dmView(name)); renderLists(); });
      li.appendChild(b);
      list.appendChild(li);
    });
  }

  function convButton(label, count, unread, active, onClick) {
    var li = el("li");
    var b = el("button", "conv" + (active ? " active" : ""));
    b.type = "button";
    if (active) b.setAttribute("aria-current", "true");
    b.appendChild(el("span", "conv-name", label));
    if (count !== null) {
      var c = el("span", "count", String(count));
      c.title = UI.plural(count, "person", "people");
      b.appendChild(c);
    }
    if (unread) b.appendChild(el("span", "unread", String(unread)));
    var desc = label + (count !== null ? ", " + UI.plural(count, "person", "people") : "") +
      (unread ? ", " + unread + " unread" : "");
    b.setAttribute("aria-label", desc);
    b.addEventListener("click", onClick);
    li.appendChild(b);
    return li;
  }

  function renderLists() {
    var counts = new Map();
    serverRooms.forEach(function (r) { counts.set(r.room, r.members); });
    views.forEach(function (v) {
      if (v.kind === "room" && v.synced && v.joined) counts.set(v.target, v.members.size);
    });
    if (!counts.has(LOBBY)) counts.set(LOBBY, 0);
    var rooms = Array.from(counts.keys()).sort(function (a, b) {
      return a === LOBBY ? -1 : b === LOBBY ? 1 : a.localeCompare(b);
    });
    var list = $("room-list");
    UI.clear(list);
    var totalUnread = 0;
    rooms.forEach(function (room) {
      var v = views.get("room:" + room);
      var unread = v ? v.unread : 0;
      totalUnread += unread;
      var li = convButton("#" + room, counts.get(room), unread, v && v === current,
                          function () { openRoom(room); });
      if (v && v.joined) li.firstChild.classList.add("joined");
      list.appendChild(li);
    });
    var dms = $("dm-list");
    UI.clear(dms);
    views.forEach(function (v) {
      if (v.kind !== "dm") return;
      totalUnread += v.unread;
      dms.appendChild(convButton(v.target, null, v.unread, v === current,
                                 function () { show(v); }));
    });
    document.title = (totalUnread ? "(" + totalUnread + ") " : "") +
      (current ? (current.kind === "room" ? "#" : "") + current.target + " · " : "") + "realtime chat";
  }

  var roomsTimer = null;
  function refreshRooms() {
    if (!socket || !socket.connected) return;
    call("rooms", {}).then(function (ack) {
      if (ack.ok) { serverRooms = ack.rooms; renderLists(); }
    }, function () {});
  }
  function refreshRoomsSoon() {
    clearTimeout(roomsTimer);
    roomsTimer = setTimeout(refreshRooms, 400);
  }

  // -- connection ---------------------------------------------------------------

  var reconnectAttempts = 0;
  function setConn(state, text) {
    var box = $("conn");
    box.dataset.state = state;
    $("conn-text").textContent = text || state;
    document.body.dataset.conn = state;
  }

  function authData() {
    var auth = {name: me};
    if (token) auth.token = token;
    return auth;
  }

  function connect() {
    $("me-name").textContent = me;
    $("change-name").setAttribute("aria-label", "Signed in as " + me + ". Change name");
    $("me-avatar").textContent = UI.initial(me);
    $("me-avatar").className = "avatar small " + UI.colour(me);
    if (socket) {
      socket.auth = authData();
      socket.connect();
      return;
    }
    socket = io({auth: authData()});
    socket.on("connect", onConnect);
    socket.on("disconnect", function (reason) {
      pendings.forEach(function (p) {
        if (p.state === "sending") {
          p.attempt++;
          if (p.view.kind === "dm") setState(p, "failed", "connection lost before confirmation");
          else setState(p, "queued");
        }
      });
      views.forEach(function (v) {
        v.typing.forEach(function (t) { clearTimeout(t); });
        v.typing.clear();
        v.resyncing = v.kind === "room";
      });
      renderTypingLine();
      typingRoom = null;
      if (reason === "io client disconnect") setConn("offline", "offline");
      else setConn("reconnecting", "reconnecting…");
    });
    socket.on("connect_error", function (err) {
      if (socket.active) {   // a network error: the client retries by itself
        setConn(reconnectAttempts >= OFFLINE_AFTER || !navigator.onLine ? "offline" : "reconnecting",
                reconnectAttempts >= OFFLINE_AFTER || !navigator.onLine ? "offline, retrying…"
                  : "reconnecting…");
        return;
      }
      setConn("offline", "not signed in");
      openLogin(err && err.message ? err.message : "the server refused the connection");
    });
    socket.io.on("reconnect_attempt", function (n) { reconnectAttempts = n; });
    socket.io.on("reconnect", function () { reconnectAttempts = 0; });
    socket.on("message", function (msg) {
      var view = views.get("room:" + msg.room);
      if (!view) return;
      echoed(view, msg);
      addMessages(view, [msg], true);
    });
    socket.on("presence", function (d) {
      var view = views.get("room:" + d.room);
      if (view) {
        if (d.event === "join") view.members.add(d.name);
        else { view.members.delete(d.name); setTyping(view, d.name, false); }
        view.count = d.count;
        if (view === current) { renderHeader(); renderMembers(); }
      }
      refreshRoomsSoon();
      renderLists();
    });
    socket.on("typing", function (d) {
      var view = views.get("room:" + d.room);
      if (view && d.name !== me) setTyping(view, d.name, !!d.typing);
    });
    socket.on("dm", function (msg) {
      var peer = msg.from === me ? msg.to : msg.from;
      var view = dmView(peer);
      addMessages(view, [msg], true);
      renderLists();
    });
  }

  function onConnect() {
    reconnectAttempts = 0;
    setConn("connected", "connected");
    closeLogin();
    if (unverified === null) checkServer();
    var rooms = joinedRooms();
    rooms.forEach(function (v) { v.resyncing = true; });
    Promise.all(rooms.map(function (v) {
      return syncRoom(v, false).then(function () { v.resyncing = false; });
    })).then(function () {
      flushQueue();
      refreshRooms();
    });
  }

  function startClock() {
    clockSocket = io("/clock");
    clockSocket.on("tick", function (t) {
      var c = $("clock");
      c.textContent = UI.clockText(t.ts);
      c.dateTime = t.iso;
      c.classList.remove("stale");
    });
    clockSocket.on("disconnect", function () { $("clock").classList.add("stale"); });
  }

  // -- sign in ------------------------------------------------------------------

  function validName(name) {
    if (!name) return "Please enter a name.";
    if (Array.from(name).length > 32) return "A name has at most 32 characters.";
    if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return "A name cannot contain control characters.";
    return "";
  }

  function openLogin(error) {
    var dialog = $("login");
    $("login-name").value = me;
    $("login-token").value = token;
    var needToken = unverified === false || /token/i.test(error || "");
    $("token-field").hidden = !needToken;
    $("login-demo").hidden = unverified !== true;
    $("login-error").textContent = error || "";
    $("login-cancel").hidden = !(socket && socket.connected);
    if (!dialog.open) dialog.showModal();
    (error && /token/i.test(error) ? $("login-token") : $("login-name")).focus();
  }

  function closeLogin() {
    if ($("login").open) $("login").close();
  }

  function onLoginSubmit(event) {
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
    var changed = name !== me;
    me = name;
    token = $("token-field").hidden ? "" : tok;
    storage(KEY_NAME, me);
    storage(KEY_TOKEN, token || null);
    if (socket && socket.connected) {
      if (changed) window.location.reload();   // a new person: start from a clean page
      else closeLogin();
      return;
    }
    $("login-error").textContent = "Connecting…";
    connect();
  }

  // -- drawers (phone layout) -------------------------------------------------------

  function setDrawer(which, open) {
    var wasOpen = document.body.classList.contains(which + "-open");
    document.body.classList.toggle(which + "-open", open);
    var btn = $(which === "nav" ? "nav-toggle" : "members-toggle");
    btn.setAttribute("aria-expanded", String(open));
    $("backdrop").hidden = !document.body.classList.contains("nav-open") &&
      !document.body.classList.contains("members-open");
    var drawer = $(which);
    if (open && !wasOpen) {
      // Keyboard users land inside the drawer (after its slide-in makes it visible).
      setTimeout(function () { drawer.querySelector(".drawer-close").focus(); }, 50);
    } else if (!open && wasOpen && drawer.contains(document.activeElement)) {
      btn.focus();
    }
  }

  function closeDrawers() {
    setDrawer("nav", false);
    setDrawer("members", false);
  }

  // -- wiring ---------------------------------------------------------------------

  function wire() {
    var input = $("composer-input");
    $("composer").addEventListener("submit", function (e) {
      e.preventDefault();
      var text = input.value;
      if (!text.trim()) return;
      stopTyping();
      send(text);
      input.value = "";
      onComposerInput();
    });
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
    $("change-name").addEventListener("click", function () { openLogin(""); });
    $("login-form").addEventListener("submit", onLoginSubmit);
    $("login-cancel").addEventListener("click", closeLogin);
    $("login").addEventListener("cancel", function (e) {
      if (!(socket && socket.connected)) e.preventDefault();   // a name is needed first
    });
    $("jump").addEventListener("click", function () {
      if (current) scrollToBottom(current);
      $("jump").hidden = true;
      input.focus();
    });
    $("nav-toggle").addEventListener("click", function () {
      setDrawer("nav", !document.body.classList.contains("nav-open"));
    });
    $("members-toggle").addEventListener("click", function () {
      setDrawer("members", !document.body.classList.contains("members-open"));
    });
    $("backdrop").addEventListener("click", closeDrawers);
    Array.prototype.forEach.call(document.querySelectorAll(".drawer-close"), function (b) {
      b.addEventListener("click", function () { setDrawer(b.dataset.drawer, false); });
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape") closeDrawers();
    });
    window.addEventListener("online", function () {
      if (socket && !socket.connected) setConn("reconnecting", "reconnecting…");
    });
    window.addEventListener("offline", function () {
      if (socket && !socket.connected) setConn("offline", "offline");
    });
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && current) { current.unread = 0; renderLists(); }
    });
    setInterval(refreshRooms, 15000);
  }

  function restoreViews() {
    var rooms = [];
    try { rooms = JSON.parse(storage(KEY_ROOMS) || "[]"); } catch (e) { rooms = []; }
    if (!Array.isArray(rooms)) rooms = [];
    [LOBBY].concat(rooms).forEach(function (room) {
      if (typeof room === "string" && ROOM_RE.test(room)) roomView(room).joined = true;
    });
    var saved = storage(KEY_VIEW) || "";
    var view = views.get(saved) || roomView(LOBBY);
    show(view);
  }

  function checkServer() {
    return fetch("/healthz", {cache: "no-store"}).then(function (r) { return r.json(); })
      .then(function (h) {
        if (typeof h.unverified === "boolean") unverified = h.unverified;
        $("demo-notice").hidden = unverified !== true;
      }, function () { /* unknown: a refused connect will tell */ });
  }

  function main() {
    wire();
    restoreViews();
    startClock();
    setConn("connecting", "connecting…");
    checkServer().then(function () {
      if (me && !validName(me) && (unverified !== false || token)) connect();
      else openLogin("");
    });
  }

  main();
})();
