"""What every chat feature module shares: acks, the connection state, names."""

import time

UNAVAILABLE = "the message store is unavailable; please try again."
MEMBER = "member"
MODERATOR = "moderator"


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
    """What the server keeps per connection.

    ``role`` is ``member`` or ``moderator`` (see :func:`realtime.store.entries.may_delete`),
    from the connection's token.  ``room_patterns``: the rooms it may join
    (a JWT's ``rooms`` claim, see :func:`realtime.auth.may_join`); None for any.
    """

    __slots__ = ("name", "rooms", "limiter", "address", "joins", "role", "room_patterns")

    def __init__(self, name, limiter, address=None, joins=None, role=MEMBER,
                 room_patterns=None):
        self.name = name
        self.rooms = set()
        self.limiter = limiter
        self.address = address
        self.joins = joins
        self.role = role
        self.room_patterns = room_patterns

    @property
    def moderator(self):
        return self.role == MODERATOR


class Feature:
    """A group of event handlers; ``on_<event>(sid, conn, data)`` for each of ``events``."""

    events = ()

    def __init__(self, chat):
        self.chat = chat
