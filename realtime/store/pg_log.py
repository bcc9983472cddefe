"""The PostgreSQL store's log operations: a batch of posts, edits, deletes, reactions
and read markers in one transaction (:class:`Txn`), and the row conversions.

A batch first creates its posts' new rooms and locks every room it touches
(``realtime_rooms`` rows, in room order), then reads what its operations
need (the messages they name, stored cids, read markers) in the same
round trip.  While the rooms are locked nobody else can change them, so
the operations are applied in Python, in order, with the same rules as
every store (:mod:`realtime.store.entries`); ids come from the locked
counters.  The writes are queued and sent together (a pipeline) at the end,
or before a read marker needs counts that must include them::

    with conn.transaction():
        out = Txn(conn).run(ops)

A new kind of operation is a method here and an entry in
:attr:`Txn.HANDLERS` (plus what it needs in :meth:`Txn._begin`).

Unread counts without scanning what was read: ``realtime_rooms.messages``
and ``realtime_authors`` count every message (deleted ones too); a read
marker stores ``seen`` / ``own_seen``, the number of messages (own
messages) with ids up to it when it was set.  Then::

    unread = (total - seen) - (own_total - own_seen) - deleted others' above read

where the last term uses the small partial index of deleted messages.
Removing old messages (retention) must keep these counts true: subtract the
removed messages from both counters and from each marker's ``seen`` /
``own_seen`` (those at or below its ``read``), in the same transaction.
"""

import json
import re
from collections import Counter

from . import entries, pgsql
from .base import Delete, Edit, Post, React, Read, Refused, message, update
from .. import words as wordrule

_FAR = 5000          # counting more messages than this above a marker: count the span
MAX_LEXEME = 500     # characters of a word kept in the index (PostgreSQL: 2047 bytes)


def escape(text):
    # Injective, and a no-op for text without backslash or NUL.
    return text.replace("\\", "\\\\").replace("\x00", "\\0")


_ESCAPED = re.compile(r"\\(.)", re.S)
_ASCII_WORD = re.compile(r"[a-z0-9]+")


def unescape(text):
    return _ESCAPED.sub(lambda m: "\x00" if m.group(1) == "0" else m.group(1), text)


def stored_text(text):
    """``(text as stored, escaped)``: PostgreSQL text cannot hold NUL."""
    if "\x00" in text:
        return escape(text), True
    return text, False


def words(room, text):
    """The ``words`` parameter of a message: ``#room`` and the text's words, case-folded,
    each at most :data:`MAX_LEXEME` characters (a search then checks the exact rule)."""
    if text.isascii():
        # The word rule on ASCII (the message path's usual case, 4x cheaper):
        # words are runs of [a-z0-9] after lower(), which is casefold() here.
        found = set(_ASCII_WORD.findall(text.lower()))
    else:
        found = set(wordrule.words(text))
    if len(text) > MAX_LEXEME:
        found = {w[:MAX_LEXEME] for w in found}
    found.add("#" + room)
    return " ".join(found)


def tsquery(room, query):
    """The tsquery of a search: the room's lexeme and each query word as a prefix."""
    terms = ["'#%s'" % room] + ["'%s':*" % w[:MAX_LEXEME].replace("\\", "\\\\")
                                .replace("'", "''") for w in query]
    return " & ".join(terms)


def dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def message_row(r):
    """A row of :data:`pgsql.COLUMNS` as the message object."""
    text = unescape(r[3]) if r[4] else r[3]
    if r[6] is None and r[7] is None and r[8] is None and r[9] is None:
        return {"id": r[0], "room": r[1], "name": r[2], "text": text, "ts": r[5]}
    return message(r[0], r[1], r[2], text, r[5], reply_to=r[6], edited=r[7],
                   deleted=r[8] is not None, reactions=json.loads(r[9]) if r[9] else None)


def update_row(r):
    """A ``realtime_updates`` row (id, room, kind, target, by, ts, state) as the update."""
    return update(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]))


def _columns(rows):
    """Rows as parallel lists, one per column (the arrays of an ``unnest``)."""
    return [list(column) for column in zip(*rows)]


def unread(total, own, seen, own_seen, gone):
    return (total - seen) - (own - own_seen) - gone


class Txn:
    """One batch of operations inside the caller's transaction, on one connection."""

    def __init__(self, conn):
        self.conn = conn
        self.tops = {}          # room -> last id (the room's row is locked)
        self.states = {}        # (room, id) -> current message state
        self.cids = {}          # (name, cid) -> (room, id)
        self.markers = {}       # (room, name) -> (read, seen, own_seen), as written
        self._pending()

    def _pending(self):
        self.posts = []         # INSERT_POSTS rows
        self.changed = {}       # (room, id) -> SET_STATES row
        self.new_updates = []   # update objects to insert (scrubbed on a later delete)
        self.scrubs = {}        # (room, target) -> deleted state (JSON) for stored updates
        self.added = Counter()  # room -> messages added
        self.by_author = Counter()   # (room, name) -> messages added
        self.moved = set()      # rooms whose last id moved
        self.marks = {}         # (room, name) -> marker to write

    def run(self, ops):
        """Apply ``ops`` (operations, not plain tuples) in order; one result each."""
        self._begin(ops)
        out = []
        for op in ops:
            handler = self.HANDLERS.get(type(op))
            if handler is None:
                raise TypeError("unknown operation %r" % (op,))
            try:
                out.append(handler(self, op))
            except Refused as exc:
                out.append(exc)
        self.flush()
        return out

    # -- the start: lock and read what the batch needs --------------------------

    def _begin(self, ops):
        conn = self.conn
        rooms = sorted({op.room for op in ops})
        new_rooms = sorted({op.room for op in ops if type(op) is Post})
        targets = {(op.room, op.id) for op in ops if type(op) in (Edit, Delete, React)}
        targets.update((op.room, op.reply_to) for op in ops
                       if type(op) is Post and op.reply_to is not None)
        cids = {escape(op.cid): op.cid for op in ops if type(op) is Post and op.cid is not None}
        names = [op.name for op in ops if type(op) is Post and op.cid is not None]
        readers = {(op.room, op.name) for op in ops if type(op) is Read}
        # One round trip: the server runs them in order, so the reads start
        # once every room is locked and see the rooms' last committed state.
        with conn.pipeline():
            if new_rooms:
                conn.execute(pgsql.CREATE_ROOMS, (new_rooms,))
            locked = conn.execute(pgsql.LOCK_ROOMS, (rooms,))
            states = conn.execute(pgsql.STATES, ([r for r, _ in targets],
                                                 [i for _, i in targets])) if targets else None
            stored = conn.execute(pgsql.BY_CID, (
                names, [escape(op.cid) for op in ops if type(op) is Post and op.cid is not None]
            )) if cids else None
            marks = conn.execute(pgsql.MARKERS, ([r for r, _ in readers],
                                                 [n for _, n in readers])) if readers else None
        self.tops = dict(locked.fetchall())
        for row in states.fetchall() if states else ():
            self.states[(row[1], row[0])] = message_row(row)
        for row in stored.fetchall() if stored else ():
            self.states[(row[1], row[0])] = message_row(row)
            self.cids[(row[2], cids.get(row[10], row[10]))] = (row[1], row[0])
        for room, name, *marker in marks.fetchall() if marks else ():
            self.markers[(room, name)] = tuple(marker)

    def _next_id(self, room):
        self.tops[room] += 1
        self.moved.add(room)
        return self.tops[room]

    # -- operations -----------------------------------------------------------

    def post(self, op):
        if op.cid is not None:
            at = self.cids.get((op.name, op.cid))
            if at is not None:
                return self.states[at], False
        if op.reply_to is not None:
            parent = self.states.get((op.room, op.reply_to))
            if parent is None or parent.get("deleted"):
                raise entries.bad_reply(op.room)
        id = self._next_id(op.room)
        msg = message(id, op.room, op.name, op.text, op.ts, reply_to=op.reply_to)
        self.states[(op.room, id)] = msg
        if op.cid is not None:
            self.cids[(op.name, op.cid)] = (op.room, id)
        text, escaped = stored_text(op.text)
        self.posts.append((op.room, id, op.name, text, escaped, op.ts,
                           None if op.cid is None else escape(op.cid), op.reply_to,
                           words(op.room, op.text)))
        self.added[op.room] += 1
        self.by_author[(op.room, op.name)] += 1
        return msg, True

    def change(self, op):
        state = self.states.get((op.room, op.id))
        if state is None:
            raise entries.missing(op.room, op.id)
        kind = type(op)
        if kind is Edit:
            name, by, new = "edit", op.name, entries.edit(state, op.name, op.text, op.ts)
        elif kind is Delete:
            name, by, new = "delete", op.by, entries.delete(state, op.by, op.moderator, op.ts)
        else:
            name, by, new = "react", op.name, entries.react(state, op.name, op.emoji, op.on)
        if new is None:
            return state, None
        key = (op.room, op.id)
        self.states[key] = new
        if name == "delete":
            row = (op.room, op.id, "", False, None, op.ts, None, None, "")
            for i, upd in enumerate(self.new_updates):
                if upd["room"] == op.room and upd["target"] == op.id:
                    self.new_updates[i] = entries.scrubbed(upd, new)
            self.scrubs[key] = dumps(new)
        else:
            text, escaped = stored_text(new["text"])
            reactions = new.get("reactions")
            row = (op.room, op.id, text, escaped, new.get("edited"), None,
                   dumps(reactions) if reactions else None, new.get("reply_to"),
                   words(op.room, new["text"]) if name == "edit" else None)
        self.changed[key] = row
        upd = update(self._next_id(op.room), op.room, name, op.id, by, op.ts, new)
        self.new_updates.append(upd)
        return new, upd

    def read(self, op):
        if op.id > self.tops.get(op.room, 0):
            raise entries.above_top(op.id, op.room)
        key = (op.room, op.name)
        old = self.marks.get(key) or self.markers.get(key) or (0, 0, 0)
        if op.id <= old[0]:
            total, own, _, _, gone = self._counts(op.room, op.name, old[0], 0)
            return old[0], unread(total, own, old[1], old[2], gone), False
        total, own, above, own_above, gone = self._counts(op.room, op.name, op.id, _FAR)
        if above < _FAR:
            seen, own_seen = total - above, own - own_above
        else:
            span, own_span = self.conn.execute(pgsql.SPAN, (op.name, op.room, old[0],
                                                            op.id)).fetchone()
            seen, own_seen = old[1] + span, old[2] + own_span
        self.marks[key] = (op.id, seen, own_seen)
        return op.id, unread(total, own, seen, own_seen, gone), True

    HANDLERS = {Post: post, Edit: change, Delete: change, React: change, Read: read}

    def _counts(self, room, name, id, far):
        """(total, own, above, own above, others' deleted above) at marker ``id``,
        this batch's writes included."""
        self.flush()
        return self.conn.execute(pgsql.COUNTS, {"room": room, "name": name, "id": id,
                                                "far": far}).fetchone()

    # -- writing --------------------------------------------------------------

    def flush(self):
        """Send the queued writes (one round trip); the transaction stays open."""
        if not (self.posts or self.changed or self.new_updates or self.moved or self.marks):
            return
        conn = self.conn
        with conn.pipeline():
            if self.posts:
                conn.execute(pgsql.INSERT_POSTS, _columns(self.posts))
            if self.changed:
                conn.execute(pgsql.SET_STATES, _columns(self.changed.values()))
            if self.new_updates:
                conn.execute(pgsql.INSERT_UPDATES, _columns(
                    (u["room"], u["id"], u["target"], u["kind"], u["by"], u["ts"],
                     dumps(u["message"])) for u in self.new_updates))
            if self.scrubs:
                conn.execute(pgsql.SCRUB, ([r for r, _ in self.scrubs],
                                           [t for _, t in self.scrubs],
                                           list(self.scrubs.values())))
            if self.moved:
                rooms = sorted(self.moved)
                conn.execute(pgsql.SET_ROOMS, (rooms, [self.tops[r] for r in rooms],
                                               [self.added[r] for r in rooms]))
            if self.by_author:
                keys = sorted(self.by_author)
                conn.execute(pgsql.ADD_AUTHORS, ([r for r, _ in keys], [n for _, n in keys],
                                                 [self.by_author[k] for k in keys]))
            if self.marks:
                keys = sorted(self.marks)
                conn.execute(pgsql.SET_MARKERS, (
                    [r for r, _ in keys], [n for _, n in keys],
                    *[[self.marks[k][i] for k in keys] for i in range(3)]))
        self.markers.update(self.marks)
        self._pending()
