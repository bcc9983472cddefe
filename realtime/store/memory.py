"""``memory://``: messages in this process only, gone on exit (tests, demos)."""

import bisect
import itertools

from .base import Store, message


class MemoryStore(Store):
    """In-process store; fast and pure Python, so it never blocks the hub."""

    kind = "memory"

    def __init__(self, url="memory://"):
        self._rooms = {}      # room -> list of messages in id order
        self._ids = {}        # room -> list of ids (for bisect)
        self._cids = {}       # (name, cid) -> message
        self._next = itertools.count(1)
        self._dm = itertools.count(1)

    def append_batch(self, items):
        out = []
        for room, name, text, cid, ts in items:
            if cid is not None and (name, cid) in self._cids:
                out.append((self._cids[(name, cid)], False))
                continue
            msg = message(next(self._next), room, name, text, ts)
            self._rooms.setdefault(room, []).append(msg)
            self._ids.setdefault(room, []).append(msg["id"])
            if cid is not None:
                self._cids[(name, cid)] = msg
            out.append((msg, True))
        return out

    def latest(self, room, limit):
        msgs = self._rooms.get(room, [])
        return msgs[-limit:], len(msgs) > limit

    def after(self, room, since, limit):
        msgs = self._rooms.get(room, [])
        start = bisect.bisect_right(self._ids.get(room, []), since)
        return msgs[start:start + limit], len(msgs) - start > limit

    def before(self, room, before, limit):
        msgs = self._rooms.get(room, [])
        end = bisect.bisect_left(self._ids.get(room, []), before)
        start = max(0, end - limit)
        return msgs[start:end], start > 0

    def has_room(self, room):
        return bool(self._rooms.get(room))

    def next_dm_id(self):
        return next(self._dm)
