"""``memory://``: the whole log in this process only, gone on exit (tests, demos).

Pure Python, so it never blocks the hub, except that :meth:`search` scans
the room's messages (newest first, until ``limit`` matches): fine for tests
and demos, not for big rooms.
"""

import bisect
import itertools

from . import entries
from .base import Delete, Edit, Mute, Post, React, Read, Refused, Snapshot, Store, as_op, \
    message, update
from .. import words as wordrule


def _remove(sorted_list, value):
    i = bisect.bisect_left(sorted_list, value)
    if i < len(sorted_list) and sorted_list[i] == value:
        del sorted_list[i]


def _count_above(sorted_list, value):
    return len(sorted_list) - bisect.bisect_right(sorted_list, value)


class _Room:
    __slots__ = ("msgs", "ids", "pos", "upds", "upd_ids", "targets", "top", "live", "own")

    def __init__(self):
        self.msgs = []          # current states, id order
        self.ids = []
        self.pos = {}           # id -> index in msgs
        self.upds = []          # updates, id order
        self.upd_ids = []
        self.targets = {}       # message id -> indexes in upds
        self.top = 0
        self.live = []          # ids of messages not deleted
        self.own = {}           # name -> ids of their messages not deleted


class MemoryStore(Store):
    """In-process store; fast and pure Python."""

    kind = "memory"
    keeps_mutes = True

    def __init__(self, url="memory://"):
        self._rooms = {}
        self._cids = {}       # (name, cid) -> (room, id)
        self._reads = {}      # (room, name) -> marker
        self._mutes = {}      # (room, name) -> (until, ts)
        self._next = itertools.count(1)
        self._dm = itertools.count(1)

    def _room(self, room, create=False):
        r = self._rooms.get(room)
        if r is None and create:
            r = self._rooms[room] = _Room()
        return r

    def _state(self, room, id):
        r = self._rooms.get(room)
        i = r.pos.get(id) if r is not None else None
        if i is None:
            raise entries.missing(room, id)
        return r, i, r.msgs[i]

    # -- writes -----------------------------------------------------------

    def append_batch(self, items):
        out = []
        for item in items:
            op = as_op(item)
            try:
                if isinstance(op, Post):
                    out.append(self._post(op))
                elif isinstance(op, Read):
                    out.append(self._read(op))
                elif isinstance(op, Mute):
                    out.append(self._mute(op))
                else:
                    out.append(self._change(op))
            except Refused as exc:
                out.append(exc)
        return out

    def _post(self, op):
        if op.cid is not None and (op.name, op.cid) in self._cids:
            room, id = self._cids[(op.name, op.cid)]
            return self._state(room, id)[2], False
        if op.reply_to is not None:
            r = self._rooms.get(op.room)
            i = r.pos.get(op.reply_to) if r is not None else None
            if i is None or r.msgs[i].get("deleted"):
                raise entries.bad_reply(op.room)
        msg = message(next(self._next), op.room, op.name, op.text, op.ts,
                      reply_to=op.reply_to)
        r = self._room(op.room, create=True)
        r.pos[msg["id"]] = len(r.msgs)
        r.msgs.append(msg)
        r.ids.append(msg["id"])
        r.live.append(msg["id"])
        r.own.setdefault(op.name, []).append(msg["id"])
        r.top = msg["id"]
        if op.cid is not None:
            self._cids[(op.name, op.cid)] = (op.room, msg["id"])
        return msg, True

    def _change(self, op):
        r, i, state = self._state(op.room, op.id)
        if isinstance(op, Edit):
            kind, by, new = "edit", op.name, entries.edit(state, op.name, op.text, op.ts)
        elif isinstance(op, Delete):
            kind, by, new = "delete", op.by, entries.delete(state, op.by, op.moderator, op.ts)
        elif isinstance(op, React):
            kind, by, new = "react", op.name, entries.react(state, op.name, op.emoji, op.on)
        else:
            raise TypeError("unknown operation %r" % (op,))
        if new is None:
            return state, None
        r.msgs[i] = new
        upd = update(next(self._next), op.room, kind, op.id, by, op.ts, new)
        if kind == "delete":
            _remove(r.live, op.id)
            _remove(r.own.get(state["name"], []), op.id)
            for j in r.targets.get(op.id, ()):
                r.upds[j] = entries.scrubbed(r.upds[j], new)
        r.targets.setdefault(op.id, []).append(len(r.upds))
        r.upds.append(upd)
        r.upd_ids.append(upd["id"])
        r.top = upd["id"]
        return new, upd

    def _read(self, op):
        r = self._rooms.get(op.room)
        top = r.top if r is not None else 0
        if op.id > top:
            raise entries.above_top(op.id, op.room)
        key = (op.room, op.name)
        marker = self._reads.get(key, 0)
        moved = op.id > marker
        if moved:
            marker = self._reads[key] = op.id
        return marker, self._unread(r, op.name, marker), moved

    def _mute(self, op):
        key = (op.room, op.name)
        old = self._mutes.get(key)
        if old is not None and old[1] > op.ts:
            return old[0]
        self._mutes[key] = (op.until, op.ts)
        return op.until

    def mutes(self, now):
        return [(room, name, until, ts) for (room, name), (until, ts) in self._mutes.items()
                if until > now]

    def _unread(self, r, name, marker):
        if r is None:
            return 0
        return _count_above(r.live, marker) - _count_above(r.own.get(name, []), marker)

    # -- reads ------------------------------------------------------------

    def latest(self, room, limit):
        msgs = self._rooms[room].msgs if room in self._rooms else []
        return msgs[-limit:], len(msgs) > limit

    def after(self, room, since, limit):
        r = self._rooms.get(room)
        if r is None:
            return [], False
        start = bisect.bisect_right(r.ids, since)
        return r.msgs[start:start + limit], len(r.msgs) - start > limit

    def before(self, room, before, limit):
        r = self._rooms.get(room)
        if r is None:
            return [], False
        end = bisect.bisect_left(r.ids, before)
        start = max(0, end - limit)
        return r.msgs[start:end], start > 0

    def replay(self, room, since, limit, reader=None):
        r = self._rooms.get(room)
        read = self._reads.get((room, reader), 0) if reader is not None else 0
        unread = self._unread(r, reader, read) if reader is not None else 0
        if r is None:
            return Snapshot([], [], False, 0, read, unread)
        if since is None:
            history, more = self.latest(room, limit)
            return Snapshot(list(history), [], more, r.top, read, unread)
        ms = r.msgs[bisect.bisect_right(r.ids, since):][:limit + 1]
        us = r.upds[bisect.bisect_right(r.upd_ids, since):][:limit + 1]
        merged = sorted(ms + us, key=lambda e: e["id"])
        more = len(merged) > limit
        merged = merged[:limit]
        history = [e for e in merged if "kind" not in e]
        updates = [e for e in merged if "kind" in e]
        return Snapshot(history, updates, more, r.top, read, unread)

    def search(self, room, words, limit):
        r = self._rooms.get(room)
        found = []
        for msg in reversed(r.msgs if r is not None else ()):
            if not msg.get("deleted") and wordrule.matches(words, msg["text"]):
                found.append(msg)
                if len(found) >= limit:
                    break
        return found

    def has_room(self, room):
        return room in self._rooms

    def next_dm_id(self):
        return next(self._dm)
