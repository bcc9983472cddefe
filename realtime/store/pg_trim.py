"""Retention for the PostgreSQL store: remove a room's oldest messages in short
transactions (``PostgresStore.trim``; the contract: :meth:`Store.trim
<realtime.store.base.Store.trim>`).

One call is one transaction over at most ``limit`` messages of one room.
It locks the room's ``realtime_rooms`` row first, as every writer of the
room does, so it waits for (and is waited for by) writers of that room
only, and cannot deadlock with them (one room, locked first).  In the same
transaction it keeps the derived data true: the room's and authors'
message counters, and the ``seen`` / ``own_seen`` of read markers (see
:mod:`.pg_log`); a message's search words live in its row and go with it.
``realtime_rooms.last_id`` is never lowered: ids never go back.
"""

ROOMS = "SELECT room FROM realtime_rooms WHERE messages > 0"
LOCK_ROOM = "SELECT messages FROM realtime_rooms WHERE room = %s FOR UPDATE"
OLDEST = "SELECT id, name, ts FROM realtime_messages WHERE room = %s ORDER BY id LIMIT %s"
DROP_UPDATES = "DELETE FROM realtime_updates WHERE room = %s AND target <= %s"
DROP_MESSAGES = "DELETE FROM realtime_messages WHERE room = %s AND id <= %s"
COUNT_ROOM = "UPDATE realtime_rooms SET messages = messages - %s WHERE room = %s"
COUNT_AUTHORS = """
UPDATE realtime_authors a SET messages = a.messages - g.n
  FROM unnest(%s::text[], %s::bigint[]) AS g(name, n)
 WHERE a.room = %s AND a.name = g.name"""
# A marker at or below the cut had seen only removed messages; one above it
# had seen all of them (and its own among them).
MARKERS_BELOW = """
UPDATE realtime_reads SET seen = 0, own_seen = 0
 WHERE room = %s AND read <= %s AND (seen <> 0 OR own_seen <> 0)"""
MARKERS_ABOVE = """
UPDATE realtime_reads r
   SET seen = r.seen - %(n)s,
       own_seen = r.own_seen - coalesce((SELECT g.n FROM unnest(%(names)s::text[],
                      %(counts)s::bigint[]) AS g(name, n) WHERE g.name = r.name), 0)
 WHERE r.room = %(room)s AND r.read > %(high)s"""


def rooms(conn):
    return [r[0] for r in conn.execute(ROOMS)]


def trim(conn, room, before_ts, keep, limit):
    """Remove up to ``limit`` of the room's oldest messages; return how many."""
    with conn.transaction():
        row = conn.execute(LOCK_ROOM, (room,)).fetchone()
        if row is None:
            return 0
        over = row[0] - keep if keep is not None else 0
        if over <= 0 and before_ts is None:
            return 0
        if over <= 0:
            # Only the age rule: most passes find the oldest message young enough.
            oldest = conn.execute(OLDEST, (room, 1)).fetchone()
            if oldest is None or oldest[2] >= before_ts:
                return 0
        rows = conn.execute(OLDEST, (room, limit)).fetchall()
        n = 0
        while n < len(rows) and (n < over or (before_ts is not None
                                              and rows[n][2] < before_ts)):
            n += 1
        if not n:
            return 0
        high = rows[n - 1][0]
        authors = {}
        for _, name, _ in rows[:n]:
            authors[name] = authors.get(name, 0) + 1
        names, counts = list(authors), list(authors.values())
        conn.execute(DROP_UPDATES, (room, high))
        conn.execute(DROP_MESSAGES, (room, high))
        conn.execute(COUNT_ROOM, (n, room))
        conn.execute(COUNT_AUTHORS, (names, counts, room))
        conn.execute(MARKERS_BELOW, (room, high))
        conn.execute(MARKERS_ABOVE, {"high": high, "n": n, "names": names, "counts": counts,
                                     "room": room})
        return n
