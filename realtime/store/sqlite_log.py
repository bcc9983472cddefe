"""The SQLite store's log operations: edits, deletes, reactions, read markers,
unread counts and the derived data (search index, counters).

Everything here runs inside a transaction the caller opened
(:class:`Txn` inside ``BEGIN IMMEDIATE``), on one connection.

Unread counts without scanning what was read: ``room_stats`` and
``author_stats`` count the messages (deleted ones too) with ids up to the
watermark ``meta.indexed``; the few above it are counted directly.  A read
marker stores ``seen`` and ``own_seen``, the number of messages (own
messages) with ids up to it when it was set.  Then::

    unread = (total - seen) - (own_total - own_seen) - deleted others' above read

where the last term uses the small partial index of deleted messages.
Setting a marker counts the messages above it (usually none: one reads up
to the end), or, when that is far, the ones between the old and new marker.

Removing old messages (retention) must keep these counts true: subtract
the removed messages from ``room_stats``/``author_stats`` (those at or below
the watermark) and from each marker's ``seen``/``own_seen`` (those at or
below its ``read``), and remove their rows from the search index
(:func:`unindex`), in the same transaction: :mod:`.sqlite_trim` does.
"""

import json

from . import entries
from .base import Delete, Edit, React, Read, Refused, message, update
from .. import words as wordrule

COLUMNS = "id, room, name, text, ts, reply_to, edited, deleted, reactions"
_FAR = 5000       # counting more than this many messages above a marker: count the span


def message_row(r):
    """A ``messages`` row (:data:`COLUMNS`) as the message object."""
    if r[5] is None and r[6] is None and r[7] is None and r[8] is None:
        return {"id": r[0], "room": r[1], "name": r[2], "text": r[3], "ts": r[4]}
    return message(r[0], r[1], r[2], r[3], r[4], reply_to=r[5], edited=r[6],
                   deleted=r[7] is not None, reactions=json.loads(r[8]) if r[8] else None)


def entry_row(r):
    return json.loads(r[0])


def dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def room_token(room, _cache={}):
    """The room as one token of the ``ascii`` tokenizer (rooms are case-sensitive)."""
    token = _cache.get(room)
    if token is None:
        if len(_cache) > 10000:
            _cache.clear()
        token = _cache[room] = "x" + room.encode("ascii").hex()
    return token


def index(conn, id, room, text):
    conn.execute("INSERT INTO search (rowid, room, words) VALUES (?, ?, ?)",
                 (id, room_token(room), wordrule.joined(text)))


def unindex(conn, id, room, text):
    """Remove a message from the contentless index: its exact indexed values again."""
    conn.execute("INSERT INTO search (search, rowid, room, words) VALUES ('delete', ?, ?, ?)",
                 (id, room_token(room), wordrule.joined(text)))


def top(conn, room):
    """The room's highest id, messages and updates."""
    row = conn.execute("SELECT (SELECT max(id) FROM messages WHERE room = ?), "
                       "(SELECT max(id) FROM updates WHERE room = ?), "
                       "(SELECT top FROM trimmed WHERE room = ?)", (room, room, room)).fetchone()
    return max(row[0] or 0, row[1] or 0, row[2] or 0)


def watermark(conn):
    return conn.execute("SELECT value FROM meta WHERE key = 'indexed'").fetchone()[0]


class Txn:
    """Log operations inside one transaction (the watermark is read once)."""

    def __init__(self, conn):
        self.conn = conn
        self._watermark = None

    @property
    def indexed(self):
        if self._watermark is None:
            self._watermark = watermark(self.conn)
        return self._watermark

    def apply(self, op):
        """One Edit, Delete, React or Read; its result or a :class:`Refused`."""
        try:
            if isinstance(op, Read):
                return self.read(op)
            return self.change(op)
        except Refused as exc:
            return exc

    # -- posts ------------------------------------------------------------

    def cids(self, keys, chunk=400):
        """``{(name, cid): current message}`` of those stored."""
        keys = list(set(keys))
        stored = {}
        for start in range(0, len(keys), chunk):
            part = keys[start:start + chunk]
            rows = self.conn.execute(
                "SELECT %s, cid FROM messages WHERE cid IS NOT NULL AND (%s)"
                % (COLUMNS, " OR ".join(["(name = ? AND cid = ?)"] * len(part))),
                [v for key in part for v in key]).fetchall()
            for row in rows:
                stored[(row[2], row[9])] = message_row(row)
        return stored

    def check_reply(self, room, id):
        row = self.conn.execute("SELECT deleted FROM messages WHERE id = ? AND room = ?",
                                (id, room)).fetchone()
        if row is None or row[0] is not None:
            return entries.bad_reply(room)
        return None

    # -- edit, delete, react ----------------------------------------------

    def _state(self, room, id):
        row = self.conn.execute("SELECT %s FROM messages WHERE id = ? AND room = ?"
                                % COLUMNS, (id, room)).fetchone()
        if row is None:
            raise entries.missing(room, id)
        return message_row(row)

    def _allocate(self):
        # Updates take their id from the messages' AUTOINCREMENT sequence, so
        # messages and updates share one strictly increasing sequence.
        return self.conn.execute("UPDATE sqlite_sequence SET seq = seq + 1 "
                                 "WHERE name = 'messages' RETURNING seq").fetchone()[0]

    def change(self, op):
        state = self._state(op.room, op.id)
        conn = self.conn
        if isinstance(op, Edit):
            kind, by = "edit", op.name
            new = entries.edit(state, op.name, op.text, op.ts)
        elif isinstance(op, Delete):
            kind, by = "delete", op.by
            new = entries.delete(state, op.by, op.moderator, op.ts)
        elif isinstance(op, React):
            kind, by = "react", op.name
            new = entries.react(state, op.name, op.emoji, op.on)
        else:
            raise TypeError("unknown operation %r" % (op,))
        if new is None:
            return state, None
        indexed = op.id <= self.indexed
        if kind == "edit":
            conn.execute("UPDATE messages SET text = ?, edited = ? WHERE id = ?",
                         (new["text"], new["edited"], op.id))
            if indexed:
                unindex(conn, op.id, op.room, state["text"])
                index(conn, op.id, op.room, new["text"])
        elif kind == "delete":
            conn.execute("UPDATE messages SET text = '', deleted = ?, edited = NULL, "
                         "reactions = NULL, reply_to = NULL WHERE id = ?", (op.ts, op.id))
            if indexed:
                unindex(conn, op.id, op.room, state["text"])
        else:
            reactions = new.get("reactions")
            conn.execute("UPDATE messages SET reactions = ? WHERE id = ?",
                         (dumps(reactions) if reactions else None, op.id))
        uid = self._allocate()
        upd = update(uid, op.room, kind, op.id, by, op.ts, new)
        if kind == "delete":
            # No stored update may still carry the deleted text or reactions.
            for old_id, entry in conn.execute(
                    "SELECT id, entry FROM updates WHERE room = ? AND target = ?",
                    (op.room, op.id)).fetchall():
                conn.execute("UPDATE updates SET entry = ? WHERE id = ?",
                             (dumps(entries.scrubbed(json.loads(entry), new)), old_id))
        conn.execute("INSERT INTO updates (id, room, target, entry) VALUES (?, ?, ?, ?)",
                     (uid, op.room, op.id, dumps(upd)))
        return new, upd

    # -- read markers -----------------------------------------------------

    def _totals(self, room, name):
        """(messages, own messages) of the room, deleted ones included."""
        conn = self.conn
        row = conn.execute(
            "SELECT (SELECT messages FROM room_stats WHERE room = ?), "
            "(SELECT messages FROM author_stats WHERE room = ? AND name = ?)",
            (room, room, name)).fetchone()
        tail = conn.execute("SELECT count(*), total(name = ?) FROM messages "
                            "WHERE room = ? AND id > ?", (name, room, self.indexed)).fetchone()
        return (row[0] or 0) + tail[0], (row[1] or 0) + int(tail[1])

    def _unread(self, room, name, read, seen, own_seen):
        total, own = self._totals(room, name)
        gone = self.conn.execute(
            "SELECT count(*) FROM messages WHERE room = ? AND id > ? AND deleted IS NOT NULL "
            "AND name != ?", (room, read, name)).fetchone()[0]
        return (total - seen) - (own - own_seen) - gone

    def _marker_row(self, room, name):
        return self.conn.execute("SELECT read, seen, own_seen FROM reads WHERE room = ? "
                                 "AND name = ?", (room, name)).fetchone() or (0, 0, 0)

    def marker(self, room, name):
        """(read, unread) of ``name`` in ``room``."""
        read, seen, own_seen = self._marker_row(room, name)
        return read, self._unread(room, name, read, seen, own_seen)

    def read(self, op):
        if op.id > top(self.conn, op.room):
            raise entries.above_top(op.id, op.room)
        old = self._marker_row(op.room, op.name)
        if op.id <= old[0]:
            return old[0], self._unread(op.room, op.name, *old), False
        conn = self.conn
        above, own_above = conn.execute(
            "SELECT count(*), total(name = ?) FROM (SELECT name FROM messages "
            "WHERE room = ? AND id > ? ORDER BY id LIMIT ?)",
            (op.name, op.room, op.id, _FAR)).fetchone()
        if above < _FAR:
            total, own = self._totals(op.room, op.name)
            seen, own_seen = total - above, own - int(own_above)
        else:
            span, own_span = conn.execute(
                "SELECT count(*), total(name = ?) FROM messages WHERE room = ? AND id > ? "
                "AND id <= ?", (op.name, op.room, old[0], op.id)).fetchone()
            seen, own_seen = old[1] + span, old[2] + int(own_span)
        conn.execute("INSERT OR REPLACE INTO reads (room, name, read, seen, own_seen) "
                     "VALUES (?, ?, ?, ?, ?)", (op.room, op.name, op.id, seen, own_seen))
        return op.id, self._unread(op.room, op.name, op.id, seen, own_seen), True


# -- derived data -------------------------------------------------------------

# ASCII without NUL (length() counts characters up to a NUL, the blob all bytes).
_ASCII = "length(CAST(text AS BLOB)) = length(text)"


def _index_range(conn, low, high):
    """Index the live messages with ``low < id <= high``.

    Few statements, each doing many rows in C: in the pool thread every
    statement step hands the GIL back to the busy hub thread and must win
    it again, so a row-by-row loop would cost far more than the indexing.
    """
    # The ascii tokenizer splits ASCII text at exactly the word rule's
    # boundaries and folds its case the same way: SQLite indexes the text itself.
    conn.execute("INSERT INTO search (rowid, room, words) SELECT id, 'x' || lower(hex(room)), "
                 "text FROM messages WHERE id > ? AND id <= ? AND deleted IS NULL AND " + _ASCII,
                 (low, high))
    rows = conn.execute("SELECT id, room, text FROM messages WHERE id > ? AND id <= ? "
                        "AND deleted IS NULL AND NOT " + _ASCII, (low, high)).fetchall()
    if rows:
        joined = wordrule.joined
        docs = json.dumps([[id, room_token(room), joined(text)] for id, room, text in rows],
                          ensure_ascii=False)
        conn.execute("INSERT INTO search (rowid, room, words) SELECT value ->> 0, "
                     "value ->> 1, value ->> 2 FROM json_each(?)", (docs,))


def index_step(conn, limit):
    """Index and count up to ``limit`` messages above the watermark; return how many."""
    last = conn.execute("SELECT max(id) FROM messages").fetchone()[0]
    if last is None or last <= watermark(conn):
        return 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        low = watermark(conn)
        high, count = conn.execute("SELECT max(id), count(*) FROM (SELECT id FROM messages "
                                   "WHERE id > ? ORDER BY id LIMIT ?)", (low, limit)).fetchone()
        if count:
            _index_range(conn, low, high)
            # Counters of every message, deleted ones too.
            conn.execute("INSERT INTO room_stats (room, messages) SELECT room, count(*) "
                         "FROM messages WHERE id > ? AND id <= ? GROUP BY room "
                         "ON CONFLICT (room) DO UPDATE SET messages = messages + excluded.messages",
                         (low, high))
            conn.execute("INSERT INTO author_stats (room, name, messages) SELECT room, name, "
                         "count(*) FROM messages WHERE id > ? AND id <= ? GROUP BY room, name "
                         "ON CONFLICT (room, name) DO UPDATE SET "
                         "messages = messages + excluded.messages", (low, high))
            conn.execute("UPDATE meta SET value = ? WHERE key = 'indexed'", (high,))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return count


def rebuild_search(conn, chunk=20000):
    """Re-index every live message up to the watermark (inside the caller's transaction)."""
    conn.execute("INSERT INTO search (search) VALUES ('delete-all')")
    top_id = watermark(conn)
    low = 0
    while low < top_id:
        high = min(top_id, conn.execute(
            "SELECT max(id) FROM (SELECT id FROM messages WHERE id > ? ORDER BY id LIMIT ?)",
            (low, chunk)).fetchone()[0] or top_id)
        _index_range(conn, low, high)
        low = high
