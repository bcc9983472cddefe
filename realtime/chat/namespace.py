"""The chat on the default namespace ``/``: a thin dispatcher over the feature modules.

Each client event goes to one ``on_<event>(sid, conn, data)`` of a feature
(:mod:`.joining`, :mod:`.messages`, :mod:`.updates`, :mod:`.reads`,
:mod:`.search`, :mod:`.moderation`), which checks the payload with :mod:`realtime.rules` and
returns the ack object, or a :class:`~realtime.transport.deferred.Later`
for one that is sent once the write is durable.  Failures never escape:
:meth:`ChatNamespace.handle_event` turns them into ``{"ok": false, "error":
...}``.  Events of one connection run one at a time (``async_handlers=False``),
and its writes are stored, broadcast and acked in the order it sent them.
"""

import logging
import time

import socketio

from .. import auth, rules
from ..rules import Invalid
from ..store import Refused, StoreError
from ..transport.deferred import Later
from ..transport.limits import connection_address
from .base import Namespace
from .common import UNAVAILABLE, Conn, fail, user_room
from .control import LocalControl
from .joining import HoldBack, Joining
from .messages import Messages
from .moderation import Moderation
from .reads import Reads
from .search import Search
from .updates import Updates

log = logging.getLogger("realtime.chat")

FEATURES = (Joining, Messages, Updates, Reads, Search, Moderation)
EVENTS = tuple(event for feature in FEATURES for event in feature.events)


class ChatNamespace(Namespace):
    """The ``/`` namespace; build it with the app's config, archive and presence.

    ``control`` carries moderation commands to every process
    (:mod:`realtime.scaleout.control`; this process only when None).
    """

    def __init__(self, config, archive, presence, metrics, limits=None, control=None):
        super().__init__("/")
        self.control = control if control is not None else LocalControl()
        self.limits = limits      # per-address rates (realtime.transport.limits), optional
        self.config = config
        self.archive = archive
        self.presence = presence
        self.metrics = metrics
        self.conns = {}
        self.holdback = HoldBack()
        self._rate = config.rate_limit
        self._handlers = {}
        for feature in FEATURES:
            instance = feature(self)
            if feature is Moderation:
                self.moderation = instance
            for event in feature.events:
                self._handlers[event] = getattr(instance, "on_" + event)
        self.stopping = False     # graceful stop: refuse new work (App.shutdown)
        self.inflight = 0         # events being handled now

    @property
    def ordered(self):
        """Whether broadcasts arrive in id order (one process); False with Redis."""
        return self.holdback.ordered

    @ordered.setter
    def ordered(self, value):
        self.holdback.ordered = value

    # -- dispatch ---------------------------------------------------------

    def handle_event(self, event, *args):
        if event in ("connect", "disconnect"):
            return super().handle_event(event, *args)
        sid, payload = args[0], args[1:]
        started = time.perf_counter()
        handler = self._handlers.get(event)
        if handler is None:
            result = fail("unknown event %r." % str(event)[:40])
            event = "unknown"
        elif self.stopping:
            result = fail("the server is shutting down; reconnect and try again.")
        else:
            self.inflight += 1      # until the ack is out (App.shutdown waits)
            try:
                result = self._dispatch(handler, event, sid, payload)
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

    def _dispatch(self, handler, event, sid, payload):
        conn = self.conns.get(sid)
        if conn is None:
            return fail("not connected.")
        if len(payload) > 1:
            return fail("%s takes a single payload object." % event)
        try:
            return handler(sid, conn, payload[0] if payload else None)
        except Invalid as exc:
            return fail(str(exc))
        except StoreError as exc:
            log.warning("%s from %s failed: %s", event, sid, exc)
            return fail(UNAVAILABLE)
        except Exception:
            log.exception("%s handler failed", event)
            return fail("internal server error; the event was not processed.")

    # -- what the features share ------------------------------------------

    def allowed(self, conn, kind):
        """Count one event (``message``: every write; ``join``) against the
        connection's and the address's rate."""
        now = time.monotonic()
        own = conn.limiter if kind == "message" else conn.joins
        if own is not None and not own.allow(now):
            return False
        if self.limits is None:
            return True
        check = self.limits.allow_message if kind == "message" else self.limits.allow_join
        return check(conn.address, now)

    def member(self, conn, room):
        """Raise unless this connection joined ``room``."""
        if room not in conn.rooms:
            raise Invalid("you are not in room %s; join it first." % room)

    def unmuted(self, conn, room):
        """Raise while the connection's person is muted in ``room``."""
        self.moderation.check(conn, room)

    # The Python API of moderation (see realtime.chat.moderation); call from a greenlet.

    def kick(self, room, name, by=None):
        """Take every connection of ``name`` out of ``room``, deployment-wide; return
        how many."""
        return self.moderation.kick(room, name, by)

    def mute(self, room, name, seconds, by=None):
        """Mute ``name`` in ``room`` for ``seconds`` (0 lifts); return until (ms epoch)."""
        return self.moderation.mute(room, name, seconds, by)

    def muted_until(self, room, name):
        """When ``name``'s mute in ``room`` ends (ms epoch), 0 when not muted."""
        return self.moderation.muted_until(room, name)

    def disconnect_user(self, name):
        """Disconnect every connection of ``name``, deployment-wide; return how many."""
        return self.moderation.disconnect_user(name)

    def known(self, room):
        """Raise for a room with no members and no stored messages."""
        if not self.presence.count(room) and not self.archive.has_room(room):
            raise Invalid("unknown room %s." % room)

    def after_store(self, op, done):
        """Queue the write ``op``; ack with ``done(result)`` once it is durable.

        A refused write or a store failure is acked with a failure instead,
        and nothing is broadcast.
        """
        later = Later()

        def stored(result):
            if isinstance(result, StoreError):
                log.warning("%s not stored: %s", type(op).__name__, result)
                later.resolve(fail(UNAVAILABLE))
            elif isinstance(result, Refused):
                later.resolve(fail(str(result)))
            else:
                try:
                    ack = done(result)
                except Exception:
                    log.exception("answering a stored %s failed", type(op).__name__)
                    ack = fail("internal server error after the change was stored.")
                later.resolve(ack)
        self.archive.submit(op, stored)
        return later

    def broadcast(self, room, entry, event="message"):
        """Send a stored entry to the room, minus connections that have it (see joining)."""
        self.emit(event, entry, room=room, skip_sid=self.holdback.skip(room, entry))

    def hold(self, room, entry):
        """The sids that must not get ``entry`` live; realtime.scaleout.pubsub calls it
        for entries that other processes stored."""
        return self.holdback.skip(room, entry)

    def announce(self, room, name, event, count, skip_sid=None):
        """Send a ``presence`` event (``join`` or ``leave``) to the room."""
        self.emit("presence", {"room": room, "name": name, "event": event, "count": count},
                  room=room, skip_sid=skip_sid)

    def exit(self, sid, conn, room):
        """Take the connection out of ``room``'s bookkeeping; announce a last leave."""
        conn.rooms.discard(room)
        self.holdback.forget(room, sid)
        last, count = self.presence.exit(room, conn.name)
        if last:
            self.announce(room, conn.name, "leave", count, skip_sid=sid)

    # -- connection -------------------------------------------------------

    def on_connect(self, sid, environ, auth_data=None):
        if self.stopping:
            raise socketio.exceptions.ConnectionRefusedError("the server is shutting down")
        try:
            name, token = rules.check_auth(auth_data)
            role = auth.MEMBER
            if self.config.secret:
                role = auth.verify(self.config.secret, name, token)
        except Invalid as exc:
            self.metrics.refused.inc()
            raise socketio.exceptions.ConnectionRefusedError(str(exc))
        self.conns[sid] = Conn(name, rules.RateLimiter(*self._rate),
                               connection_address(environ),
                               rules.RateLimiter(*self.config.parse("join_rate")), role)
        self.presence.connect(name)
        self.enter_room(sid, user_room(name))
        self.metrics.connections.inc()

    def on_disconnect(self, sid, reason=None):
        conn = self.conns.pop(sid, None)
        if conn is None:
            return
        self.metrics.connections.dec()
        for room in sorted(conn.rooms):
            self.exit(sid, conn, room)
        self.presence.disconnect(conn.name)
