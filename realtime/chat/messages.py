"""Posting and reading messages, typing, direct messages, the room list."""

import logging

from .. import rules
from ..rules import Invalid
from ..store import Post
from .common import Feature, now_ms, ok, user_room

log = logging.getLogger("realtime.chat")


class Messages(Feature):
    """``message``, ``history``, ``typing``, ``dm`` and ``rooms``."""

    events = ("message", "history", "typing", "dm", "rooms")

    def on_message(self, sid, conn, data):
        chat = self.chat
        if not chat.allowed(conn, "message"):
            return {"ok": False, "error": "rate limited"}
        room, text, cid = rules.check_message(data, chat.config.max_text)
        reply_to = rules.check_reply_to(data)
        chat.member(conn, room)
        chat.unmuted(conn, room)
        if reply_to is None:
            op = (room, conn.name, text, cid, now_ms())
        else:
            op = Post(room, conn.name, text, cid, now_ms(), reply_to)
        # Stored, then broadcast, then acked, in the order this connection
        # sent them; the connection's next event need not wait for the disk.
        return chat.after_store(op, self._stored)

    def _stored(self, result):
        msg, created = result
        if created:
            self.chat.metrics.stored.inc()
            try:
                self.chat.broadcast(msg["room"], msg)
            except Exception:
                # Stored is stored: the ack must still go out, and
                # members catch up with `join` + `since`.
                log.exception("broadcast of message %s failed", msg["id"])
        return ok(message=msg)

    def on_history(self, sid, conn, data):
        room, before, limit = rules.check_history(data)
        archive = self.chat.archive
        if before is None:
            messages, more = archive.latest(room, limit)
        else:
            messages, more = archive.before(room, before, limit)
        if not messages:
            self.chat.known(room)
        return ok(messages=messages, more=more)

    def on_typing(self, sid, conn, data):
        room, typing = rules.check_typing(data)
        self.chat.member(conn, room)
        self.chat.emit("typing", {"room": room, "name": conn.name, "typing": typing},
                       room=room, skip_sid=sid)
        return ok()

    def on_dm(self, sid, conn, data):
        chat = self.chat
        if not chat.allowed(conn, "message"):
            return {"ok": False, "error": "rate limited"}
        to, text = rules.check_dm(data, chat.config.max_text)
        if not chat.presence.online(to):
            raise Invalid("%s is not connected." % to)
        msg = {"id": chat.archive.next_dm_id(), "from": conn.name, "to": to,
               "text": text, "ts": now_ms()}
        chat.emit("dm", msg, room=user_room(to), skip_sid=sid)
        if to != conn.name:
            chat.emit("dm", msg, room=user_room(conn.name), skip_sid=sid)
        chat.metrics.dms.inc()
        return ok(message=msg)

    def on_rooms(self, sid, conn, data):
        rules.check_rooms(data)
        return ok(rooms=[{"room": room, "members": count}
                         for room, count in self.chat.presence.rooms()])
