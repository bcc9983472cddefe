"""Who is in which room, counted per person (several tabs count once).

The chat layer tracks each connection's rooms itself; this module answers
the person-level questions across the deployment.  :class:`LocalPresence`
covers one process; a Redis-backed class with the same methods covers many::

    presence = LocalPresence()
    first, count = presence.enter("lobby", "alice")   # first: alice was absent
    last, count = presence.exit("lobby", "alice")     # last: alice is gone
"""

import collections


class LocalPresence:
    """Presence of this process only (no scale-out)."""

    kind = "local"

    def __init__(self):
        self._rooms = {}                          # room -> Counter(name -> connections)
        self._online = collections.Counter()      # name -> connections

    def connect(self, name):
        self._online[name] += 1

    def disconnect(self, name):
        self._online[name] -= 1
        if self._online[name] <= 0:
            del self._online[name]

    def online(self, name):
        return self._online.get(name, 0) > 0

    def enter(self, room, name):
        """Count one more connection of ``name`` in ``room``; return (first, count)."""
        people = self._rooms.setdefault(room, collections.Counter())
        people[name] += 1
        return people[name] == 1, len(people)

    def exit(self, room, name):
        """Count one connection less; return (last, count)."""
        people = self._rooms.get(room)
        if not people or name not in people:
            return False, len(people or ())
        people[name] -= 1
        last = people[name] <= 0
        if last:
            del people[name]
        count = len(people)
        if not people:
            del self._rooms[room]
        return last, count

    def members(self, room):
        return sorted(self._rooms.get(room, ()))

    def count(self, room):
        return len(self._rooms.get(room, ()))

    def rooms(self):
        """``[(room, people), ...]`` sorted by room, rooms with people only."""
        return sorted((room, len(people)) for room, people in self._rooms.items())

    def ping(self):
        """Always answers: this process is its own presence backend."""

    def close(self):
        pass
