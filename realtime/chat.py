"""The chat on the default namespace ``/``: one method per protocol event.

Each ``on_<event>`` gets the connection's state and the raw payload, checks
it with :mod:`realtime.rules`, and returns the ack object.  Failures never
escape: :meth:`ChatNamespace.trigger_event` turns them into
``{"ok": false, "error": ...}``.  Events of one connection run one at a time
(``async_handlers=False``), which keeps each connection's messages in order.
"""

import logging
import time

import socketio

from . import auth, rules
from .rules import Invalid
from .store import StoreError

log = logging.getLogger("realtime.chat")

EVENTS = ("join", "leave", "message", "history", "typing", "dm", "rooms")

# After a join, live copies of messages already in the join ack are dropped
# for this long: a message stored by another process may arrive through
# Redis after the ack that already held it.
FLOOR_SECONDS = 10.0


def now_ms():
    return time.time_ns() // 1_000_000


def ok(**fields):
    fields["ok"] = True
    return fields


def fail(error):
    return {"ok": False, "error": error}


def user_room(name):
    """The Socket.IO room holding every connection of one person.

    Chat room names cannot contain ``:``, so these never collide with them.
    """
    return "user:" + name


class Conn:
    """What the server keeps per connection."""

    __slots__ = ("name", "rooms", "limiter")

    def __init__(self, name, limiter):
        self.name = name
        self.rooms = set()
        self.limiter = limiter


class ChatNamespace(socketio.Namespace):
    """The ``/`` namespace; build it with the app's config, archive and presence."""

    def __init__(self, config, archive, presence, metrics):
        super().__init__("/")
        self.config = config
        self.archive = archive
        self.presence = presence
        self.metrics = metrics
        self.conns = {}
        # room -> {sid: buffered messages} for connections inside join(): their
        # live copies are held back and merged into the join ack instead, so a
        # message is neither missed nor delivered twice around a join.
        self._joining = {}
        # room -> {sid: (highest id in its join ack, expiry)}: see FLOOR_SECONDS.
        self._floors = {}
        self._rate = config.rate_limit
        self.stopping = False     # graceful stop: refuse new work (App.shutdown)
        self.inflight = 0         # events being handled now

    # -- dispatch ---------------------------------------------------------

    def trigger_event(self, event, *args):
        if event in ("connect", "disconnect"):
            return super().trigger_event(event, *args)
        sid, payload = args[0], args[1:]
        started = time.perf_counter()
        if event not in EVENTS:
            result = fail("unknown event %r." % str(event)[:40])
            event = "unknown"
        elif self.stopping:
            result = fail("the server is shutting down; reconnect and try again.")
        else:
            self.inflight += 1
            try:
                result = self._dispatch(event, sid, payload)
            finally:
                self.inflight -= 1
        self.metrics.event(event, result.get("ok", False), time.perf_counter() - started)
        return result

    def _dispatch(self, event, sid, payload):
        conn = self.conns.get(sid)
        if conn is None:
            return fail("not connected.")
        if len(payload) > 1:
            return fail("%s takes a single payload object." % event)
        data = payload[0] if payload else None
        try:
            return getattr(self, "on_" + event)(sid, conn, data)
        except Invalid as exc:
            return fail(str(exc))
        except StoreError as exc:
            log.warning("%s from %s failed: %s", event, sid, exc)
            return fail("the message store is unavailable; please try again.")
        except Exception:
            log.exception("%s handler failed", event)
            return fail("internal server error; the event was not processed.")

    # -- connection -------------------------------------------------------

    def on_connect(self, sid, environ, auth_data=None):
        if self.stopping:
            raise socketio.exceptions.ConnectionRefusedError("the server is shutting down")
        try:
            name, token = rules.check_auth(auth_data)
            if self.config.secret:
                auth.verify(self.config.secret, name, token)
        except Invalid as exc:
            self.metrics.refused.inc()
            raise socketio.exceptions.ConnectionRefusedError(str(exc))
        self.conns[sid] = Conn(name, rules.RateLimiter(*self._rate))
        self.presence.connect(name)
        self.enter_room(sid, user_room(name))
        self.metrics.connections.inc()

    def on_disconnect(self, sid, reason=None):
        conn = self.conns.pop(sid, None)
        if conn is None:
            return
        self.metrics.connections.dec()
        for room in sorted(conn.rooms):
            self._exit(sid, conn, room)
        self.presence.disconnect(conn.name)

    def _exit(self, sid, conn, room):
        conn.rooms.discard(room)
        floors = self._floors.get(room)
        if floors and floors.pop(sid, None) and not floors:
            del self._floors[room]
        last, count = self.presence.exit(room, conn.name)
        if last:
            self.emit("presence", {"room": room, "name": conn.name, "event": "leave",
                                   "count": count}, room=room, skip_sid=sid)

    # -- events -----------------------------------------------------------

    def on_join(self, sid, conn, data):
        room, since = rules.check_join(data)
        fresh = room not in conn.rooms
        if fresh:
            conn.rooms.add(room)
            self.enter_room(sid, room)
            first, count = self.presence.enter(room, conn.name)
            if first:
                self.emit("presence", {"room": room, "name": conn.name, "event": "join",
                                       "count": count}, room=room, skip_sid=sid)
            held = self._joining.setdefault(room, {})[sid] = []
        try:
            if since is None:
                history, more = self.archive.latest(room, rules.JOIN_HISTORY)
            else:
                history, more = self.archive.after(room, since, rules.SINCE_LIMIT)
        except StoreError:
            if fresh:
                self._stop_holding(room, sid)
                self.leave_room(sid, room)
                self._exit(sid, conn, room)
            raise
        if fresh:
            self._stop_holding(room, sid)
            top = history[-1]["id"] if history else (since or 0)
            if not (since is not None and more):
                history = history + [m for m in held if m["id"] > top]
            if history:
                self._floors.setdefault(room, {})[sid] = (
                    history[-1]["id"], time.monotonic() + FLOOR_SECONDS)
        return ok(room=room, members=self.presence.members(room), history=history,
                  more=more)

    def _stop_holding(self, room, sid):
        holding = self._joining.get(room)
        if holding is not None:
            holding.pop(sid, None)
            if not holding:
                del self._joining[room]

    def on_leave(self, sid, conn, data):
        room = rules.check_leave(data)
        if room not in conn.rooms:
            raise Invalid("you are not in room %s." % room)
        self.leave_room(sid, room)
        self._exit(sid, conn, room)
        return ok(room=room)

    def on_message(self, sid, conn, data):
        if not conn.limiter.allow(time.monotonic()):
            return fail("rate limited")
        room, text, cid = rules.check_message(data, self.config.max_text)
        if room not in conn.rooms:
            raise Invalid("you are not in room %s; join it first." % room)
        msg, created = self.archive.append(room, conn.name, text, cid, now_ms())
        if created:
            self.metrics.stored.inc()
            self.broadcast(room, msg)
        return ok(message=msg)

    def broadcast(self, room, msg):
        """Send a stored message to the room (held back for joiners, see on_join)."""
        skip = self.hold(room, msg)
        self.emit("message", msg, room=room, skip_sid=skip or None)

    def hold(self, room, msg):
        """The sids that must not get ``msg`` live: joiners (it goes into their
        join ack) and fresh joiners whose ack already had it."""
        skip = []
        holding = self._joining.get(room)
        if holding:
            for held in holding.values():
                held.append(msg)
            skip.extend(holding)
        floors = self._floors.get(room)
        if floors:
            now = time.monotonic()
            for sid, (top, until) in list(floors.items()):
                if until < now:
                    del floors[sid]
                elif msg["id"] <= top:
                    skip.append(sid)
            if not floors:
                del self._floors[room]
        return skip

    def on_history(self, sid, conn, data):
        room, before, limit = rules.check_history(data)
        if before is None:
            messages, more = self.archive.latest(room, limit)
        else:
            messages, more = self.archive.before(room, before, limit)
        if not messages and not self.presence.count(room) and not self.archive.has_room(room):
            raise Invalid("unknown room %s." % room)
        return ok(messages=messages, more=more)

    def on_typing(self, sid, conn, data):
        room, typing = rules.check_typing(data)
        if room not in conn.rooms:
            raise Invalid("you are not in room %s; join it first." % room)
        self.emit("typing", {"room": room, "name": conn.name, "typing": typing},
                  room=room, skip_sid=sid)
        return ok()

    def on_dm(self, sid, conn, data):
        if not conn.limiter.allow(time.monotonic()):
            return fail("rate limited")
        to, text = rules.check_dm(data, self.config.max_text)
        if not self.presence.online(to):
            raise Invalid("%s is not connected." % to)
        msg = {"id": self.archive.next_dm_id(), "from": conn.name, "to": to,
               "text": text, "ts": now_ms()}
        self.emit("dm", msg, room=user_room(to), skip_sid=sid)
        if to != conn.name:
            self.emit("dm", msg, room=user_room(conn.name), skip_sid=sid)
        self.metrics.dms.inc()
        return ok(message=msg)

    def on_rooms(self, sid, conn, data):
        rules.check_rooms(data)
        return ok(rooms=[{"room": room, "members": count}
                         for room, count in self.presence.rooms()])
