"""Joining and leaving rooms, and the join hold-back that keeps replay exact.

An entry (message or update) is committed before it is broadcast, and a
join's read of the log runs concurrently; so around a join the same entry
could come both in the ack and live, or (read before commit, broadcast
before entering) not at all.  While a join reads, its live copies are held
(:class:`HoldBack`) and merged into the ack (:func:`merge_held`);
afterwards broadcasts at or below what the ack covered skip the connection.
"""

from .. import rules
from ..store import StoreError
from ..store.base import is_update
from .common import Feature, ok

# A floor above any id: a connection catching up gets no live entries.
CATCHING_UP = float("inf")


class HoldBack:
    """Per room: connections inside ``join`` (their held entries) and floors."""

    def __init__(self):
        self._joining = {}      # room -> {sid: held entries}
        self._floors = {}       # room -> {sid: id}: broadcasts up to it skip sid
        # One process broadcasts in id order; with Redis, other processes'
        # entries arrive in any order, so floors stay until leave or rejoin.
        self.ordered = True

    def hold(self, room, sid):
        """Start holding ``room``'s broadcasts for ``sid``; returns the list they go to."""
        self._floors.get(room, {}).pop(sid, None)
        held = []
        self._joining.setdefault(room, {})[sid] = held
        return held

    def release(self, room, sid, floor):
        """Stop holding; ``floor`` (or None) is the highest id the ack covered."""
        holding = self._joining.get(room)
        if holding is not None:
            holding.pop(sid, None)
            if not holding:
                del self._joining[room]
        if floor is not None:
            self._floors.setdefault(room, {})[sid] = floor

    def forget(self, room, sid):
        floors = self._floors.get(room)
        if floors is not None:
            floors.pop(sid, None)
            if not floors:
                del self._floors[room]

    def skip(self, room, entry):
        """The sids that must not get ``entry`` live (held, or already in their ack)."""
        skip = None
        holding = self._joining.get(room)
        if holding:
            for held in holding.values():
                held.append(entry)
            skip = list(holding)
        floors = self._floors.get(room)
        if floors:
            for sid, floor in list(floors.items()):
                if entry["id"] <= floor:
                    skip = (skip or []) + [sid]
                elif self.ordered:
                    # Broadcasts go out in id order: nothing lower will follow.
                    del floors[sid]
            if not floors:
                del self._floors[room]
        return skip


def _counts(entry, reader, read):
    """How a live entry changes the reader's unread count (+1, -1 or 0)."""
    if is_update(entry):
        state = entry["message"]
        if entry["kind"] == "delete" and state["name"] != reader and state["id"] > read:
            return -1
        return 0
    return 1 if entry["name"] != reader and entry["id"] > read else 0


def merge_held(snap, held, since, reader, limit):
    """Fold the entries broadcast while the join read (``held``) into its ack.

    Returns ``(history, updates, more, unread, floor)``: without ``since``
    held updates replace their message's state in the history; with it,
    held entries follow the replay up to ``limit`` entries in all.  ``floor``
    is the id up to which later broadcasts skip the connection.
    """
    fresh = sorted((e for e in held if e["id"] > snap.top), key=lambda e: e["id"])
    history, updates, more, unread = list(snap.history), list(snap.updates), snap.more, \
        snap.unread
    floor = max(snap.top, since or 0)
    if since is not None and more:
        # Catching up: live entries would jump ahead of the pages still to
        # fetch, so none go to this connection until it joins again.
        return history, updates, more, unread, CATCHING_UP
    if since is not None and len(history) + len(updates) + len(fresh) > limit:
        fresh = fresh[:limit - len(history) - len(updates)]
        more = True
        floor = CATCHING_UP
    where = {m["id"]: i for i, m in enumerate(history)} if since is None else None
    for entry in fresh:
        unread += _counts(entry, reader, snap.read)
        if floor is not CATCHING_UP:
            floor = max(floor, entry["id"])
        if not is_update(entry):
            if where is not None:
                where[entry["id"]] = len(history)
            history.append(entry)
        elif where is None:
            updates.append(entry)
        elif entry["target"] in where:
            history[where[entry["target"]]] = entry["message"]
    return history, updates, more, unread, floor


class Joining(Feature):
    """``join`` and ``leave``."""

    events = ("join", "leave")

    def on_join(self, sid, conn, data):
        chat = self.chat
        if not chat.allowed(conn, "join"):
            return {"ok": False, "error": "rate limited"}
        room, since = rules.check_join(data)
        fresh = room not in conn.rooms
        # Hold before entering: Redis presence yields in enter(), and an entry
        # delivered then would come both live and in the ack.
        held = chat.holdback.hold(room, sid)
        if fresh:
            conn.rooms.add(room)
            chat.enter_room(sid, room)
            first, count = chat.presence.enter(room, conn.name)
            if first:
                chat.announce(room, conn.name, "join", count, skip_sid=sid)
        limit = rules.JOIN_HISTORY if since is None else rules.SINCE_LIMIT
        try:
            snap = chat.archive.replay(room, since, limit, conn.name)
        except StoreError:
            chat.holdback.release(room, sid, None)
            if fresh:
                chat.leave_room(sid, room)
                chat.exit(sid, conn, room)
            raise
        history, updates, more, unread, floor = merge_held(snap, held, since, conn.name, limit)
        chat.holdback.release(room, sid, floor if room in conn.rooms else None)
        chat.moderation.joined(sid, conn.name, room)
        return ok(room=room, members=chat.presence.members(room), history=history,
                  more=more, updates=updates, read=snap.read, unread=unread)

    def on_leave(self, sid, conn, data):
        room = rules.check_leave(data)
        if room not in conn.rooms:
            raise rules.Invalid("you are not in room %s." % room)
        self.chat.leave_room(sid, room)
        self.chat.exit(sid, conn, room)
        return ok(room=room)
