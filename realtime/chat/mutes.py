"""This process's view of who is muted where: a dict, so the check costs no I/O.

The store keeps every mute (so they survive restarts); each process loads
them at start and after every control-channel (re)subscription, and
applies the changes other processes announce
(:mod:`realtime.scaleout.control`).  Every change carries the time it was
made (``ts``); an older change never overrides a newer one, so processes
that hear two moderators' changes in different orders still agree::

    mutes = Mutes()
    mutes.set("lobby", "eve", until=now + 60_000, ts=now)
    mutes.until("lobby", "eve", now)       # > 0 while muted, else 0
"""

PRUNE_AFTER = 60_000      # ms: a lifted or expired mute is forgotten this long after


class Mutes:
    def __init__(self):
        self._mutes = {}        # (room, name) -> (until, ts); until 0: lifted

    def __len__(self):
        return len(self._mutes)

    def holds(self, room, name):
        """Whether any change for ``name`` in ``room`` is held (cheap; see :meth:`until`)."""
        return (room, name) in self._mutes

    def until(self, room, name, now):
        """The end of ``name``'s mute in ``room`` (ms epoch), or 0 when not muted."""
        if not self._mutes:
            return 0
        entry = self._mutes.get((room, name))
        if entry is None or entry[0] <= now:
            return 0
        return entry[0]

    def set(self, room, name, until, ts):
        """Apply one change; return False when a newer one is already here."""
        key = (room, name)
        old = self._mutes.get(key)
        if old is not None and old[1] > ts:
            return False
        self._mutes[key] = (until, ts)
        self._prune(ts)
        return True

    def replace(self, rows, since):
        """Take the store's mutes ``[(room, name, until, ts)]``; changes made here
        at or after ``since`` (ms epoch, when the load began) are kept."""
        fresh = {(room, name): (until, ts) for room, name, until, ts in rows}
        for key, entry in self._mutes.items():
            if entry[1] >= since and (key not in fresh or fresh[key][1] <= entry[1]):
                fresh[key] = entry
        self._mutes = fresh

    def _prune(self, now):
        gone = [key for key, (until, ts) in self._mutes.items()
                if until < now - PRUNE_AFTER and ts < now - PRUNE_AFTER]
        for key in gone:
            del self._mutes[key]

    def active(self, now):
        """``{(room, name): until}`` of the mutes in force at ``now``."""
        return {key: until for key, (until, ts) in self._mutes.items() if until > now}
