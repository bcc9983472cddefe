"""``sqlite:///path``: the durable log in one SQLite file (WAL mode).

Every commit is fsynced (``synchronous=FULL``), so an acked message, edit,
delete, reaction or read marker survives ``kill -9`` and power loss.  Calls
block, so the chat layer runs them in a thread pool; writes arrive in
batches (group commit).  The schema is versioned (:mod:`.sqlite_schema`).

Search uses an FTS5 index of each message's words, and unread counts use
per-room counters; both are *derived* data, built by :meth:`SQLiteStore.index`
in batches of thousands (the archive calls it in the background, and
:meth:`search` first catches up), so the message path pays nothing for
them.  Edits and deletes of indexed messages update the index in their own
transaction.  See :mod:`.sqlite_log` for the log operations.
"""

import itertools
import os
import sqlite3
import threading
import time
import unicodedata

from . import sqlite_log as log_ops
from . import sqlite_mutes, sqlite_schema
from .base import BadStoreURL, Mute, Post, Snapshot, Store, StoreError, as_op
from .sqlite_log import COLUMNS, entry_row, message_row, room_token
from .. import words as wordrule

_INSERT_CHUNK = 500       # rows per INSERT (5 variables each; SQLite allows 32766)
INDEX_CHUNK = 5000        # messages per index() transaction


def path_from_url(url):
    """``sqlite:///rel.db`` -> ``rel.db``; ``sqlite:////abs.db`` -> ``/abs.db``."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise BadStoreURL("sqlite URL must look like sqlite:///path/to/file.db")
    return url[len(prefix):]


def _insert(conn, items, indexes, out):
    """Insert the posts ``items[i]`` for each index with one statement; fill ``out[i]``."""
    cur = conn.execute(
        "INSERT INTO messages (room, name, text, ts, cid, reply_to) VALUES "
        + ",".join(["(?, ?, ?, ?, ?, ?)"] * len(indexes)),
        [v for i in indexes
         for v in (items[i][0], items[i][1], items[i][2], items[i][4], items[i][3],
                   items[i][5])])
    if cur.rowcount != len(indexes):
        raise sqlite3.DatabaseError("inserted %d of %d rows" % (cur.rowcount, len(indexes)))
    # One statement holding the write lock: AUTOINCREMENT gives the rows
    # consecutive ids ending at lastrowid.
    next_id = cur.lastrowid - len(indexes) + 1
    for i in indexes:
        room, name, text, cid, ts, reply_to = items[i]
        msg = {"id": next_id, "room": room, "name": name, "text": text, "ts": ts}
        if reply_to is not None:
            msg["reply_to"] = reply_to
        out[i] = (msg, True)
        next_id += 1


def _insert_plain(conn, items, out):
    """The message path: posts without cid or reply_to, one autocommit statement."""
    cur = conn.execute(
        "INSERT INTO messages (room, name, text, ts) VALUES "
        + ",".join(["(?, ?, ?, ?)"] * len(items)),
        [v for item in items for v in (item[0], item[1], item[2], item[4])])
    if cur.rowcount != len(items):
        raise sqlite3.DatabaseError("inserted %d of %d rows" % (cur.rowcount, len(items)))
    next_id = cur.lastrowid - len(items) + 1
    for i, item in enumerate(items):
        out[i] = ({"id": next_id + i, "room": item[0], "name": item[1], "text": item[2],
                   "ts": item[4]}, True)


def _plain(items):
    """Only posts without cid or reply_to (the message path)."""
    for item in items:
        kind = type(item)
        if kind is tuple:
            if item[3] is not None:
                return False
        elif kind is not Post or item.cid is not None or item.reply_to is not None:
            return False
    return True


class SQLiteStore(Store):
    """One file; a connection per thread; writes serialised by the caller."""

    blocking = True
    kind = "sqlite"
    indexes = True
    keeps_mutes = True

    def __init__(self, url):
        self.path = path_from_url(url)
        self._local = threading.local()
        # Seeded from the clock (microseconds) so dm ids keep increasing
        # across restarts without a write per dm.
        self._dm = itertools.count(time.time_ns() // 1000)
        if sqlite3.sqlite_version_info < (3, 38):
            raise StoreError("the sqlite store needs SQLite 3.38 or newer with FTS5; this "
                             "Python has SQLite %s" % sqlite3.sqlite_version)
        # Only the file is created: a missing directory is most likely a typo
        # (sqlite:///var/... is relative; sqlite:////var/... is absolute).
        directory = os.path.dirname(os.path.abspath(self.path))
        if os.path.isdir(self.path):
            raise StoreError("%s is a directory, not a database file" % self.path)
        if not os.path.isdir(directory):
            raise StoreError("the directory %s does not exist (create it first)" % directory)
        try:
            conn = self._conn()
            sqlite_schema.migrate(conn, self.path)
            sqlite_mutes.create(conn)       # at every open: see sqlite_mutes
            self._check_unicode(conn)
            self._inode = os.stat(self.path).st_ino
        except (sqlite_schema.NewerSchema, sqlite3.Error, OSError) as exc:
            self.close()
            raise StoreError("cannot open %s: %s" % (self.path, exc)) from None

    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # SQLite quietly opens a write-protected file read-only; such a
            # connection, once cached, would fail every write after the disk
            # is writable again.  Refuse to cache it.  (Ask with access(), never
            # open()+close(): closing any descriptor of the file drops every
            # POSIX lock this process holds on it, under other connections.)
            if os.path.exists(self.path) and not os.access(self.path, os.W_OK):
                raise sqlite3.OperationalError("database file is not writable")
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            self._local.conn = conn
        return conn

    def _check_unicode(self, conn):
        """The index holds words as this Python's Unicode tables split them: after
        an upgrade that changes them, rebuild it (once, at start)."""
        row = conn.execute("SELECT value FROM meta WHERE key = 'unicode'").fetchone()
        if row is not None and row[0] == unicodedata.unidata_version:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            log_ops.rebuild_search(conn)
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('unicode', ?)",
                         (unicodedata.unidata_version,))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _check_file(self):
        # A deleted or replaced file would take writes into an unlinked inode
        # that no restart will see: refuse instead of acking lost messages.
        try:
            inode = os.stat(self.path).st_ino
        except OSError as exc:
            raise sqlite3.OperationalError("database file unavailable: %s" % exc.strerror)
        if inode != self._inode:
            raise sqlite3.OperationalError("database file was replaced")

    def _run(self, fn, *args):
        try:
            self._check_file()
            return fn(self._conn(), *args)
        except sqlite3.Error as exc:
            # A broken connection (disk gone, file replaced) is rebuilt on retry.
            self._local.conn = None
            raise StoreError("the message store is unavailable (%s)" % exc) from exc

    @staticmethod
    def _read(conn, fn, *args):
        """Run ``fn`` in one read transaction: a consistent snapshot."""
        conn.execute("BEGIN")
        try:
            return fn(conn, *args)
        finally:
            conn.execute("COMMIT")

    # -- writes -----------------------------------------------------------

    def append_batch(self, items):
        return self._run(self._append_batch, items)

    @staticmethod
    def _append_batch(conn, items):
        # A handful of statements per batch, not one per message: this runs in
        # a pool thread, and each statement gives the GIL back and must win it
        # again from the busy hub thread (up to a switch interval each time).
        out = [None] * len(items)
        if len(items) <= _INSERT_CHUNK and _plain(items):
            # No cid to look up, nothing to check: one INSERT in autocommit
            # mode is a durable transaction of its own.
            _insert_plain(conn, items, out)
            return out
        ops = [as_op(item) for item in items]
        conn.execute("BEGIN IMMEDIATE")
        try:
            state = log_ops.Txn(conn)
            i = 0
            while i < len(ops):
                if type(ops[i]) is Post:
                    j = i
                    while j < len(ops) and type(ops[j]) is Post:
                        j += 1
                    SQLiteStore._posts(conn, state, ops, range(i, j), out)
                    i = j
                elif type(ops[i]) is Mute:
                    out[i] = sqlite_mutes.mute(conn, ops[i])
                    i += 1
                else:
                    out[i] = state.apply(ops[i])
                    i += 1
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        for i, res in enumerate(out):
            if isinstance(res, int) and type(ops[i]) is Post:   # a resend in the same batch
                out[i] = (out[res][0], False)
        return out

    @staticmethod
    def _posts(conn, state, ops, indexes, out):
        """A run of posts: cid resends answered from the store, replies checked."""
        fresh = []
        first_of = {}               # (name, cid) -> index of its first copy in this run
        stored = state.cids([(ops[i].name, ops[i].cid) for i in indexes
                             if ops[i].cid is not None])
        for i in indexes:
            op = ops[i]
            if op.cid is not None:
                key = (op.name, op.cid)
                if key in stored:
                    out[i] = (stored[key], False)
                    continue
                if key in first_of:
                    out[i] = first_of[key]      # filled in below
                    continue
                first_of[key] = i
            if op.reply_to is not None:
                refusal = state.check_reply(op.room, op.reply_to)
                if refusal is not None:
                    out[i] = refusal
                    if op.cid is not None:
                        del first_of[(op.name, op.cid)]
                    continue
            fresh.append(i)
        for start in range(0, len(fresh), _INSERT_CHUNK):
            _insert(conn, ops, fresh[start:start + _INSERT_CHUNK], out)

    # -- derived data -----------------------------------------------------

    def index(self, limit=INDEX_CHUNK):
        return self._run(log_ops.index_step, limit)

    # -- reads ------------------------------------------------------------

    def _page(self, sql, args, limit, reverse):
        def run(conn):
            rows = conn.execute(sql, args + (limit + 1,)).fetchall()
            more = len(rows) > limit
            rows = rows[:limit]
            if reverse:
                rows.reverse()
            return [message_row(r) for r in rows], more
        return self._run(run)

    def latest(self, room, limit):
        return self._page("SELECT %s FROM messages WHERE room = ? ORDER BY id DESC LIMIT ?"
                          % COLUMNS, (room,), limit, True)

    def after(self, room, since, limit):
        return self._page("SELECT %s FROM messages WHERE room = ? AND id > ? ORDER BY id LIMIT ?"
                          % COLUMNS, (room, since), limit, False)

    def before(self, room, before, limit):
        return self._page("SELECT %s FROM messages WHERE room = ? AND id < ? "
                          "ORDER BY id DESC LIMIT ?" % COLUMNS, (room, before), limit, True)

    def replay(self, room, since, limit, reader=None):
        return self._run(self._read, self._replay, room, since, limit, reader)

    @staticmethod
    def _replay(conn, room, since, limit, reader):
        if since is None:
            rows = conn.execute("SELECT %s FROM messages WHERE room = ? ORDER BY id DESC "
                                "LIMIT ?" % COLUMNS, (room, limit + 1)).fetchall()
            more = len(rows) > limit
            history = [message_row(r) for r in reversed(rows[:limit])]
            updates = []
        else:
            msgs = [message_row(r) for r in conn.execute(
                "SELECT %s FROM messages WHERE room = ? AND id > ? ORDER BY id LIMIT ?"
                % COLUMNS, (room, since, limit + 1))]
            upds = [entry_row(r) for r in conn.execute(
                "SELECT entry FROM updates WHERE room = ? AND id > ? ORDER BY id LIMIT ?",
                (room, since, limit + 1))]
            merged = sorted(msgs + upds, key=lambda e: e["id"])
            more = len(merged) > limit
            merged = merged[:limit]
            history = [e for e in merged if "kind" not in e]
            updates = [e for e in merged if "kind" in e]
        top = log_ops.top(conn, room)
        read = unread = 0
        if reader is not None:
            read, unread = log_ops.Txn(conn).marker(room, reader)
        return Snapshot(history, updates, more, top, read, unread)

    def search(self, room, words, limit):
        # Catch the index up first (normally at most a few thousand messages
        # behind), then query it: so a search never misses a stored message.
        while self._run(log_ops.index_step, INDEX_CHUNK) == INDEX_CHUNK:
            pass
        return self._run(self._read, self._search, room, words, limit)

    @staticmethod
    def _search(conn, room, words, limit):
        match = 'room : "%s" AND words : (%s)' % (
            room_token(room), " AND ".join('"%s"*' % w.replace('"', '""') for w in words))
        found = []
        chunk = max(2 * limit, 20)
        offset = 0
        while len(found) < limit:
            ids = [r[0] for r in conn.execute(
                "SELECT rowid FROM search WHERE search MATCH ? ORDER BY rowid DESC "
                "LIMIT ? OFFSET ?", (match, chunk, offset))]
            if not ids:
                break
            rows = {r[0]: r for r in conn.execute(
                "SELECT %s FROM messages WHERE id IN (%s)" % (COLUMNS, ",".join("?" * len(ids))),
                ids)}
            for id in ids:
                row = rows.get(id)
                # The index is a candidate list; the exact rule decides.
                if row is not None and row[1] == room and row[7] is None \
                        and wordrule.matches(words, row[3]):
                    found.append(message_row(row))
                    if len(found) == limit:
                        break
            if len(ids) < chunk:
                break
            offset += chunk
        return found

    def has_room(self, room):
        return self._run(lambda conn: conn.execute(
            "SELECT 1 FROM messages WHERE room = ? LIMIT 1", (room,)).fetchone() is not None)

    def mutes(self, now):
        return self._run(sqlite_mutes.active, now)

    def next_dm_id(self):
        return next(self._dm)

    def ping(self):
        self._run(lambda conn: conn.execute("SELECT 1").fetchone())

    def probe_write(self):
        def write(conn):
            conn.execute("INSERT OR REPLACE INTO health (id, ts) VALUES (1, ?)",
                         (time.time_ns() // 1_000_000,))
        self._run(write)

    def describe(self):
        return "sqlite:///" + self.path

    def close(self):
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
