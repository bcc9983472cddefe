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

from .. import auth, rules
from ..rules import Invalid
from ..store import StoreError
from ..transport.deferred import Later
from ..transport.limits import connection_address
from .base import Namespace

log = logging.getLogger("realtime.chat")

# A floor above any id: a connection catching up gets no live messages.
CATCHING_UP = float("inf")

EVENTS = ("join", "leave", "message", "history", "typing", "dm", "rooms")


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

    __slots__ = ("name", "rooms", "limiter", "address", "joins")

    def __init__(self, name, limiter, address=None, joins=None):
        self.name = name
        self.rooms = set()
        self.limiter = limiter
        self.address = address
        self.joins = joins


class ChatNamespace(Namespace):
    """The ``/`` namespace; build it with the app's config, archive and presence."""

    def __init__(self, config, archive, presence, metrics, limits=None):
        super().__init__("/")
        self.limits = limits      # per-address rates (realtime.transport.limits), optional
        self.config = config
        self.archive = archive
        self.presence = presence
        self.metrics = metrics
        self.conns = {}
        # room -> {sid: held messages} for connections inside join().
        self._joining = {}
        # room -> {sid: id}: broadcasts up to that id skip sid (it has them).
        self._floors = {}
        self._rate = config.rate_limit
        # One process broadcasts in id order; with Redis, other processes'
        # messages arrive in any order, so floors stay until leave or rejoin.
        self.ordered = True
        self.stopping = False     # graceful stop: refuse new work (App.shutdown)
        self.inflight = 0         # events being handled now

    # -- dispatch ---------------------------------------------------------

    def handle_event(self, event, *args):
        if event in ("connect", "disconnect"):
            return super().handle_event(event, *args)
        sid, payload = args[0], args[1:]
        started = time.perf_counter()
        if event not in EVENTS:
            result = fail("unknown event %r." % str(event)[:40])
            event = "unknown"
        elif self.stopping:
            result = fail("the server is shutting down; reconnect and try again.")
        else:
            self.inflight += 1      # until the ack is out (App.shutdown waits)
            try:
                result = self._dispatch(event, sid, payload)
            except BaseException:
                self.inflight -= 1
                raise
            if isinstance(result, Later):
                result.then(self._landed)
            else:
                self.inflight -= 1

        def measure(ack):
            self.metrics.event(event, ack.get("ok", False), time.perf_counter() - started)
        if isinstance(result, Later):
            result.then(measure)
        else:
            measure(result)
        return result

    def _landed(self, ack):
        self.inflight -= 1

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
        self.conns[sid] = Conn(name, rules.RateLimiter(*self._rate),
                               connection_address(environ),
                               rules.RateLimiter(*self.config.parse("join_rate")))
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
        self._forget(room, sid)
        last, count = self.presence.exit(room, conn.name)
        if last:
            self.announce(room, conn.name, "leave", count, skip_sid=sid)

    def announce(self, room, name, event, count, skip_sid=None):
        """Send a ``presence`` event (``join`` or ``leave``) to the room."""
        self.emit("presence", {"room": room, "name": name, "event": event, "count": count},
                  room=room, skip_sid=skip_sid)

    # -- events -----------------------------------------------------------

    def _allowed(self, conn, kind):
        """Count one event against the connection's and the address's rate."""
        now = time.monotonic()
        own = conn.limiter if kind == "message" else conn.joins
        if own is not None and not own.allow(now):
            return False
        if self.limits is None:
            return True
        check = self.limits.allow_message if kind == "message" else self.limits.allow_join
        return check(conn.address, now)

    def on_join(self, sid, conn, data):
        if not self._allowed(conn, "join"):
            return fail("rate limited")
        room, since = rules.check_join(data)
        fresh = room not in conn.rooms
        # Hold before entering: Redis presence yields in enter(), and a message
        # delivered then would come both live and in the history.
        held = self._hold(room, sid)
        if fresh:
            conn.rooms.add(room)
            self.enter_room(sid, room)
            first, count = self.presence.enter(room, conn.name)
            if first:
                self.announce(room, conn.name, "join", count, skip_sid=sid)
        try:
            if since is None:
                history, more = self.archive.latest(room, rules.JOIN_HISTORY)
            else:
                history, more = self.archive.after(room, since, rules.SINCE_LIMIT)
        except StoreError:
            self._release(room, sid, None)
            if fresh:
                self.leave_room(sid, room)
                self._exit(sid, conn, room)
            raise
        if since is not None and more:
            # Catching up: live messages would jump ahead of the pages still
            # to fetch, so none go to this connection until it joins again.
            self._release(room, sid, CATCHING_UP)
        else:
            top = history[-1]["id"] if history else (since or 0)
            history = history + [m for m in held if m["id"] > top]
            self._release(room, sid, history[-1]["id"] if history else top)
        return ok(room=room, members=self.presence.members(room), history=history,
                  more=more)

    # A message is committed before it is broadcast, and a join's history read
    # runs concurrently; so around a join the same message could come both in
    # the history and live, or (read before commit, broadcast before entering)
    # not at all.  While a join reads, its live copies are held and merged into
    # the ack; afterwards broadcasts at or below the history's last id skip it.

    def _hold(self, room, sid):
        self._floors.get(room, {}).pop(sid, None)
        held = []
        self._joining.setdefault(room, {})[sid] = held
        return held

    def _release(self, room, sid, floor):
        holding = self._joining.get(room)
        if holding is not None:
            holding.pop(sid, None)
            if not holding:
                del self._joining[room]
        conn = self.conns.get(sid)
        if floor is not None and conn is not None and room in conn.rooms:
            self._floors.setdefault(room, {})[sid] = floor

    def _forget(self, room, sid):
        floors = self._floors.get(room)
        if floors is not None:
            floors.pop(sid, None)
            if not floors:
                del self._floors[room]

    def on_leave(self, sid, conn, data):
        room = rules.check_leave(data)
        if room not in conn.rooms:
            raise Invalid("you are not in room %s." % room)
        self.leave_room(sid, room)
        self._exit(sid, conn, room)
        return ok(room=room)

    def on_message(self, sid, conn, data):
        if not self._allowed(conn, "message"):
            return fail("rate limited")
        room, text, cid = rules.check_message(data, self.config.max_text)
        if room not in conn.rooms:
            raise Invalid("you are not in room %s; join it first." % room)
        # Stored, then broadcast, then acked, in the order this connection
        # sent them; the connection's next event need not wait for the disk.
        later = Later()

        def stored(result):
            if isinstance(result, StoreError):
                log.warning("message from %s not stored: %s", sid, result)
                later.resolve(fail("the message store is unavailable; please try again."))
                return
            msg, created = result
            if created:
                self.metrics.stored.inc()
                try:
                    self.broadcast(room, msg)
                except Exception:
                    # Stored is stored: the ack must still go out, and
                    # members catch up with `join` + `since`.
                    log.exception("broadcast of message %s failed", msg["id"])
            later.resolve(ok(message=msg))
        self.archive.submit((room, conn.name, text, cid, now_ms()), stored)
        return later

    def broadcast(self, room, msg):
        """Send a stored message to the room, minus connections that have it (see on_join)."""
        self.emit("message", msg, room=room, skip_sid=self.hold(room, msg))

    def hold(self, room, msg):
        """The sids that must not get ``msg`` live (see on_join); realtime.scaleout.pubsub
        calls it too, for messages that other processes stored."""
        skip = None
        holding = self._joining.get(room)
        if holding:
            for held in holding.values():
                held.append(msg)
            skip = list(holding)
        floors = self._floors.get(room)
        if floors:
            for sid, floor in list(floors.items()):
                if msg["id"] <= floor:
                    skip = (skip or []) + [sid]
                elif self.ordered:
                    # Broadcasts go out in id order: nothing lower will follow.
                    del floors[sid]
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
        if not self._allowed(conn, "message"):
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
