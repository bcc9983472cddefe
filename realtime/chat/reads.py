"""Read markers: ``read`` moves the person's marker of a room forward.

The marker belongs to the person (the name), not the connection: it is
stored (through the archive, like a message, so it survives restarts) and
the person's other connections get a ``read`` event when it moves, on
every process (through the ``user:NAME`` room, which Redis pub/sub spans).
No membership is needed: one reads a room one has joined on another tab.
"""

from .. import rules
from ..store import Read
from .common import Feature, ok, user_room


class Reads(Feature):
    events = ("read",)

    def on_read(self, sid, conn, data):
        room, id = rules.check_read(data)

        def stored(result):
            read, unread, moved = result
            if moved:
                self.chat.emit("read", {"room": room, "read": read, "unread": unread},
                               room=user_room(conn.name), skip_sid=sid)
            return ok(room=room, read=read, unread=unread)
        return self.chat.after_store(Read(room, conn.name, id), stored)
