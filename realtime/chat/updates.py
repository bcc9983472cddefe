"""Changing messages: ``edit``, ``delete`` and ``react``.

Each is one write of the room's log (:class:`~realtime.store.base.Edit`,
``Delete``, ``React``), queued behind the connection's earlier writes: it is
stored durably, then its ``update`` is broadcast to the room (sender
included), then acked with the message's new state.  A change that changes
nothing (the same text, a reaction already there or gone, a message
already deleted) is acked with the current state and broadcasts nothing.
Like ``message``, each counts against the connection's and the address's
rate limit, and only members of the room may send them; a muted person's
``edit`` and ``react`` are refused (a muted person may still delete).
"""

import logging

from .. import rules
from ..store import Delete, Edit, React
from .common import Feature, now_ms, ok

log = logging.getLogger("realtime.chat")


class Updates(Feature):
    events = ("edit", "delete", "react")

    def on_edit(self, sid, conn, data):
        if not self.chat.allowed(conn, "message"):
            return {"ok": False, "error": "rate limited"}
        room, id, text = rules.check_edit(data, self.chat.config.max_text)
        self.chat.member(conn, room)
        self.chat.unmuted(conn, room)
        return self.chat.after_store(Edit(room, id, conn.name, text, now_ms()), self._stored)

    def on_delete(self, sid, conn, data):
        if not self.chat.allowed(conn, "message"):
            return {"ok": False, "error": "rate limited"}
        room, id = rules.check_delete(data)
        self.chat.member(conn, room)
        # The store applies the rule (the author, or a moderator), knowing the author.
        op = Delete(room, id, conn.name, now_ms(), moderator=conn.moderator)
        return self.chat.after_store(op, self._stored)

    def on_react(self, sid, conn, data):
        if not self.chat.allowed(conn, "message"):
            return {"ok": False, "error": "rate limited"}
        room, id, emoji, on = rules.check_react(data)
        self.chat.member(conn, room)
        self.chat.unmuted(conn, room)
        return self.chat.after_store(React(room, id, conn.name, emoji, on, now_ms()),
                                     self._stored)

    def _stored(self, result):
        state, upd = result
        if upd is not None:
            self.chat.metrics.updates.inc()
            try:
                self.chat.broadcast(upd["room"], upd, event="update")
            except Exception:
                log.exception("broadcast of update %s failed", upd["id"])
        return ok(message=state)
