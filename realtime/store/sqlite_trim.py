"""Retention for the SQLite store: remove a room's oldest messages in short
transactions (:meth:`SQLiteStore.trim <realtime.store.sqlite.SQLiteStore.trim>`).

One call is one ``BEGIN IMMEDIATE`` transaction over at most ``limit``
messages (a few hundred), so writers wait for the lock a few milliseconds
at most.  Everything derived from the removed messages changes in the same
transaction (see :mod:`.sqlite_log`): their rows in the search index, the
per-room and per-author counters, the ``seen`` counts of read markers, and
their updates.  The room's top id is kept in ``trimmed``.
"""

import json

from .sqlite_log import _ASCII, room_token, top, watermark
from .. import words as wordrule


def rooms(conn):
    """Distinct rooms, one index seek each (SQLite has no loose index scan)."""
    return [r[0] for r in conn.execute(
        "WITH RECURSIVE r(room) AS (SELECT min(room) FROM messages UNION ALL "
        "SELECT (SELECT min(room) FROM messages WHERE room > r.room) FROM r "
        "WHERE r.room IS NOT NULL) SELECT room FROM r WHERE room IS NOT NULL")]


def _room_total(conn, room, indexed):
    row = conn.execute("SELECT (SELECT messages FROM room_stats WHERE room = ?), "
                       "(SELECT count(*) FROM messages WHERE room = ? AND id > ?)",
                       (room, room, indexed)).fetchone()
    return (row[0] or 0) + row[1]


def _unindex(conn, room, high):
    """Remove the live indexed messages of ``room`` with ``id <= high`` from the index."""
    # The same split as sqlite_log._index_range: ASCII text as it is, the
    # rest as the word rule joins it.
    conn.execute("INSERT INTO search (search, rowid, room, words) SELECT 'delete', id, "
                 "'x' || lower(hex(room)), text FROM messages WHERE room = ? AND id <= ? "
                 "AND deleted IS NULL AND " + _ASCII, (room, high))
    rows = conn.execute("SELECT id, text FROM messages WHERE room = ? AND id <= ? "
                        "AND deleted IS NULL AND NOT " + _ASCII, (room, high)).fetchall()
    if rows:
        token = room_token(room)
        docs = json.dumps([[id, token, wordrule.joined(text)] for id, text in rows],
                          ensure_ascii=False)
        conn.execute("INSERT INTO search (search, rowid, room, words) SELECT 'delete', "
                     "value ->> 0, value ->> 1, value ->> 2 FROM json_each(?)", (docs,))


def trim(conn, room, before_ts, keep, limit):
    """Remove up to ``limit`` of the room's oldest messages (see ``Store.trim``)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        removed = _trim(conn, room, before_ts, keep, limit)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return removed


def _trim(conn, room, before_ts, keep, limit):
    indexed = watermark(conn)
    over = 0
    if keep is not None:
        over = _room_total(conn, room, indexed) - keep
        if over <= 0 and before_ts is None:
            return 0
    if over <= 0:
        if before_ts is None:
            return 0
        # Only the age rule: most passes find the oldest message young enough.
        oldest = conn.execute("SELECT ts FROM messages WHERE room = ? ORDER BY id LIMIT 1",
                              (room,)).fetchone()
        if oldest is None or oldest[0] >= before_ts:
            return 0
    rows = conn.execute("SELECT id, name, ts FROM messages WHERE room = ? ORDER BY id LIMIT ?",
                        (room, limit)).fetchall()
    n = 0
    while n < len(rows) and (n < over or (before_ts is not None and rows[n][2] < before_ts)):
        n += 1
    if not n:
        return 0
    rows = rows[:n]
    high = rows[-1][0]
    # Counts of what goes: all of it (for markers above it), by author, and
    # the part at or below the watermark (for the counters).
    authors, counted, counted_by = {}, 0, {}
    for id, name, _ in rows:
        authors[name] = authors.get(name, 0) + 1
        if id <= indexed:
            counted += 1
            counted_by[name] = counted_by.get(name, 0) + 1
    conn.execute("INSERT INTO trimmed (room, top) VALUES (?, ?) ON CONFLICT (room) "
                 "DO UPDATE SET top = max(top, excluded.top)", (room, top(conn, room)))
    if min(high, indexed) > 0:
        _unindex(conn, room, min(high, indexed))
    if counted:
        conn.execute("UPDATE room_stats SET messages = messages - ? WHERE room = ?",
                     (counted, room))
        conn.executemany("UPDATE author_stats SET messages = messages - ? WHERE room = ? "
                         "AND name = ?", [(c, room, name) for name, c in counted_by.items()])
    # A marker at or below the cut had seen only removed messages; one above
    # it had seen all of them.
    conn.execute("UPDATE reads SET seen = 0, own_seen = 0 WHERE room = ? AND read <= ?",
                 (room, high))
    conn.execute("UPDATE reads SET seen = seen - ? WHERE room = ? AND read > ?",
                 (n, room, high))
    conn.executemany("UPDATE reads SET own_seen = own_seen - ? WHERE room = ? AND name = ? "
                     "AND read > ?", [(c, room, name, high) for name, c in authors.items()])
    conn.execute("DELETE FROM updates WHERE room = ? AND target <= ?", (room, high))
    conn.execute("DELETE FROM messages WHERE room = ? AND id <= ?", (room, high))
    return n

