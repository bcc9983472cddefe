"""Moderators' ``kick`` and ``mute``, and the same actions for Python code.

The chat's Python API (used by the HTTP API and embedders; call it from a
greenlet, it waits boundedly for the other processes)::

    chat.kick("lobby", "eve", by="mod")      # connections removed, deployment-wide
    chat.mute("lobby", "eve", 600, by="mod") # until (ms epoch); 0 seconds lifts
    chat.disconnect_user("eve")              # connections disconnected, deployment-wide
    chat.muted_until("lobby", "eve")         # 0 unless muted now

Each action is a command of the control channel
(:mod:`realtime.scaleout.control`), run on every process by
:meth:`Moderation.execute`.  A **kick** takes each of NAME's connections
out of the room (it gets ``kicked`` ``{"room", "by"}``, then the room gets
the usual presence ``leave``); it is not a ban: the person may join again.
A **mute** is written to the store first (it survives restarts), then
every process puts it in its in-memory :class:`~.mutes.Mutes`, so checking
a ``message``, ``edit`` or ``react`` costs a dict lookup and no I/O.  The
muted person's connections get ``muted`` ``{"room", "until", "by"}`` when
it changes, and on joining a room where they are muted.
"""

import itertools
import logging

import gevent
import gevent.event

from .. import rules
from ..rules import Invalid
from ..store import StoreError
from ..store.base import Mute
from ..transport.deferred import Later
from .common import UNAVAILABLE, Feature, fail, now_ms, ok, user_room
from .mutes import Mutes

log = logging.getLogger("realtime.chat")

RELOAD_RETRY = (1, 2, 5, 10)    # seconds between attempts to load the mutes


class Moderation(Feature):
    """``kick`` and ``mute`` (moderators only), plus what every process runs."""

    events = ("kick", "mute")

    def __init__(self, chat):
        super().__init__(chat)
        self.mutes = Mutes()
        self.keeps = getattr(chat.archive.store, "keeps_mutes", False)
        if not self.keeps:
            log.warning("the %s store does not keep mutes: they last until the server "
                        "restarts", chat.archive.store.kind)
        chat.control.handler = self.execute
        chat.control.on_subscribe = self.reload
        self._retrying = None
        self.reload()

    # -- client events ----------------------------------------------------

    def on_kick(self, sid, conn, data):
        if not conn.moderator:
            raise Invalid("only a moderator can kick.")
        room, name = rules.check_kick(data)
        return self._later(lambda: ok(room=room, name=name,
                                      connections=self.kick(room, name, conn.name)))

    def on_mute(self, sid, conn, data):
        if not conn.moderator:
            raise Invalid("only a moderator can mute.")
        room, name, seconds = rules.check_mute(data)
        return self._later(lambda: ok(room=room, name=name,
                                      until=self.mute(room, name, seconds, conn.name)))

    def _later(self, action):
        """Run ``action`` (it may wait for other processes) off the connection's
        greenlet; its result is the ack."""
        later = Later()

        def run():
            try:
                ack = action()
            except Invalid as exc:
                ack = fail(str(exc))
            except StoreError as exc:
                log.warning("moderation not stored: %s", exc)
                ack = fail(UNAVAILABLE)
            except Exception:
                log.exception("moderation failed")
                ack = fail("internal server error; the event was not processed.")
            later.resolve(ack)
        gevent.spawn(run)
        return later

    # -- the Python API ---------------------------------------------------

    def kick(self, room, name, by=None):
        """Take every connection of ``name`` out of ``room``; return how many."""
        return self.chat.control.request({"op": "kick", "room": room, "name": name, "by": by})

    def disconnect_user(self, name):
        """Disconnect every connection of ``name``; return how many."""
        return self.chat.control.request({"op": "disconnect", "name": name})

    def mute(self, room, name, seconds, by=None):
        """Mute ``name`` in ``room`` for ``seconds`` (0 lifts); return the end (ms
        epoch, 0 when lifted).  Raises :class:`Invalid` for bad arguments and
        :class:`StoreError` when the store fails (then nothing changed)."""
        room, name, seconds = rules.check_mute({"room": room, "name": name,
                                                "seconds": seconds})
        ts = now_ms()
        until = rules.mute_until(seconds, ts)
        if self.keeps:
            self._store(Mute(room, name, until, by, ts))
        self.chat.control.request({"op": "mute", "room": room, "name": name,
                                   "until": until, "ts": ts})
        self.chat.emit("muted", {"room": room, "until": until, "by": by},
                       room=user_room(name))
        return until

    def muted_until(self, room, name):
        """When ``name``'s mute in ``room`` ends (ms epoch), or 0 when not muted."""
        return self.mutes.until(room, name, now_ms())

    def check(self, conn, room):
        """Raise unless ``conn``'s person may post, edit or react in ``room``."""
        # The message path: a dict lookup; the clock only for a muted name.
        if self.mutes.holds(room, conn.name) and self.mutes.until(room, conn.name, now_ms()):
            raise Invalid("you are muted in %s" % room)

    def joined(self, sid, name, room):
        """Tell a connection joining a room where its person is muted."""
        until = self.muted_until(room, name)
        if until:
            self.chat.emit("muted", {"room": room, "until": until, "by": None}, to=sid,
                           ignore_queue=True)

    def _store(self, op):
        result = gevent.event.AsyncResult()
        self.chat.archive.submit(op, result.set)
        value = result.get()
        if isinstance(value, Exception):
            raise value if isinstance(value, StoreError) else Invalid(str(value))
        return value

    # -- what every process runs (the control channel's handler) -----------

    def execute(self, command):
        """Carry out one control command on this process; return its count."""
        try:
            op = command["op"]
            if op == "kick":
                return self._kick_here(command["room"], command["name"], command.get("by"))
            if op == "disconnect":
                return self._disconnect_here(command["name"])
            if op == "mute":
                self.mutes.set(command["room"], command["name"], int(command["until"]),
                               int(command["ts"]))
                return 0
        except (KeyError, TypeError, ValueError):
            pass
        log.warning("ignoring an unknown control command %r", command)
        return 0

    def _sids(self, name):
        return [sid for sid, _ in self.chat.server.manager.get_participants(
            "/", user_room(name))]

    def _kick_here(self, room, name, by):
        chat = self.chat
        count = 0
        for sid in self._sids(name):
            conn = chat.conns.get(sid)
            if conn is None or room not in conn.rooms:
                continue
            count += 1
            chat.emit("kicked", {"room": room, "by": by}, to=sid, ignore_queue=True)
            chat.leave_room(sid, room)
            chat.exit(sid, conn, room)
        return count

    def _disconnect_here(self, name):
        sids = [sid for sid in self._sids(name) if sid in self.chat.conns]
        for sid in sids:
            self.chat.server.disconnect(sid, namespace="/", ignore_queue=True)
        return len(sids)

    # -- loading ------------------------------------------------------------

    def reload(self):
        """Load the mutes from the store (at start, and after control-channel
        outages); on failure retry in the background.  True once loaded."""
        if not self.keeps:
            return True
        started = now_ms()
        try:
            rows = self.chat.archive.mutes(started)
        except StoreError as exc:
            log.warning("cannot load mutes (retrying): %s", exc)
            if self._retrying is None:
                self._retrying = gevent.spawn(self._retry)
            return False
        self.mutes.replace(rows, started)
        return True

    def _retry(self):
        try:
            for delay in itertools.chain(RELOAD_RETRY, itertools.repeat(RELOAD_RETRY[-1])):
                gevent.sleep(delay)
                started = now_ms()
                try:
                    rows = self.chat.archive.mutes(started)
                except StoreError:
                    continue
                self.mutes.replace(rows, started)
                log.info("mutes loaded (%d)", len(self.mutes))
                return
        finally:
            self._retrying = None
