"""``sqlite:///path``: durable messages in one SQLite file (WAL mode).

Every commit is fsynced (``synchronous=FULL``), so an acked message survives
``kill -9`` and power loss.  Calls block, so the chat layer runs them in a
thread pool; writes arrive in batches (group commit).
"""

import itertools
import os
import sqlite3
import threading
import time

from .base import BadStoreURL, Store, StoreError, message

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    room TEXT NOT NULL,
    name TEXT NOT NULL,
    text TEXT NOT NULL,
    ts   INTEGER NOT NULL,
    cid  TEXT
);
CREATE INDEX IF NOT EXISTS messages_room_id ON messages (room, id);
CREATE UNIQUE INDEX IF NOT EXISTS messages_name_cid ON messages (name, cid)
    WHERE cid IS NOT NULL;
CREATE TABLE IF NOT EXISTS health (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL);
"""

_COLUMNS = "id, room, name, text, ts"
_INSERT_CHUNK = 500       # rows per INSERT (5 variables each; SQLite allows 32766)
_LOOKUP_CHUNK = 400       # (name, cid) pairs per look-up


def path_from_url(url):
    """``sqlite:///rel.db`` -> ``rel.db``; ``sqlite:////abs.db`` -> ``/abs.db``."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise BadStoreURL("sqlite URL must look like sqlite:///path/to/file.db")
    return url[len(prefix):]


def _insert(conn, items, indexes, out):
    """Insert ``items[i]`` for each index with one statement; fill ``out[i]``."""
    cur = conn.execute(
        "INSERT INTO messages (room, name, text, ts, cid) VALUES "
        + ",".join(["(?, ?, ?, ?, ?)"] * len(indexes)),
        [v for i in indexes
         for v in (items[i][0], items[i][1], items[i][2], items[i][4], items[i][3])])
    if cur.rowcount != len(indexes):
        raise sqlite3.DatabaseError("inserted %d of %d rows" % (cur.rowcount, len(indexes)))
    # One statement holding the write lock: AUTOINCREMENT gives the rows
    # consecutive ids ending at lastrowid.
    next_id = cur.lastrowid - len(indexes) + 1
    for i in indexes:
        room, name, text, cid, ts = items[i]
        out[i] = (message(next_id, room, name, text, ts), True)
        next_id += 1


class SQLiteStore(Store):
    """One file; a connection per thread; writes serialised by the caller."""

    blocking = True
    kind = "sqlite"

    def __init__(self, url):
        self.path = path_from_url(url)
        self._local = threading.local()
        # Seeded from the clock (microseconds) so dm ids keep increasing
        # across restarts without a write per dm.
        self._dm = itertools.count(time.time_ns() // 1000)
        # Only the file is created: a missing directory is most likely a typo
        # (sqlite:///var/... is relative; sqlite:////var/... is absolute).
        directory = os.path.dirname(os.path.abspath(self.path))
        if os.path.isdir(self.path):
            raise StoreError("%s is a directory, not a database file" % self.path)
        if not os.path.isdir(directory):
            raise StoreError("the directory %s does not exist (create it first)" % directory)
        try:
            conn = self._conn()
            with conn:
                conn.executescript(_SCHEMA)
            self._inode = os.stat(self.path).st_ino
        except (sqlite3.Error, OSError) as exc:
            self.close()
            raise StoreError("cannot open %s (%s)" % (self.path, exc)) from None

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

    def append_batch(self, items):
        return self._run(self._append_batch, items)

    @staticmethod
    def _append_batch(conn, items):
        # A handful of statements per batch, not one per message: this runs in
        # a pool thread, and each statement gives the GIL back and must win it
        # again from the busy hub thread (up to a switch interval each time).
        out = [None] * len(items)
        if len(items) <= _INSERT_CHUNK and all(item[3] is None for item in items):
            # No cid to look up: one INSERT in autocommit mode is a durable
            # transaction of its own, so the batch is a single statement.
            _insert(conn, items, range(len(items)), out)
            return out
        fresh = []                  # indexes to insert, in order
        first_of = {}               # (name, cid) -> index of its first copy in this batch
        conn.execute("BEGIN IMMEDIATE")
        try:
            keys = list({(name, cid) for _, name, _, cid, _ in items if cid is not None})
            stored = {}
            for start in range(0, len(keys), _LOOKUP_CHUNK):
                chunk = keys[start:start + _LOOKUP_CHUNK]
                rows = conn.execute(
                    "SELECT %s, cid FROM messages WHERE cid IS NOT NULL AND (%s)"
                    % (_COLUMNS, " OR ".join(["(name = ? AND cid = ?)"] * len(chunk))),
                    [v for key in chunk for v in key]).fetchall()
                for row in rows:
                    stored[(row[2], row[5])] = message(*row[:5])
            for i, (room, name, text, cid, ts) in enumerate(items):
                if cid is not None:
                    key = (name, cid)
                    if key in stored:
                        out[i] = (stored[key], False)
                        continue
                    if key in first_of:
                        out[i] = first_of[key]      # filled in below
                        continue
                    first_of[key] = i
                fresh.append(i)
            for start in range(0, len(fresh), _INSERT_CHUNK):
                _insert(conn, items, fresh[start:start + _INSERT_CHUNK], out)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        for i, res in enumerate(out):
            if isinstance(res, int):                # a resend within the same batch
                out[i] = (out[res][0], False)
        return out

    def _page(self, sql, args, limit, reverse):
        def run(conn):
            rows = conn.execute(sql, args + (limit + 1,)).fetchall()
            more = len(rows) > limit
            rows = rows[:limit]
            if reverse:
                rows.reverse()
            return [message(*r) for r in rows], more
        return self._run(run)

    def latest(self, room, limit):
        return self._page("SELECT %s FROM messages WHERE room = ? ORDER BY id DESC LIMIT ?"
                          % _COLUMNS, (room,), limit, True)

    def after(self, room, since, limit):
        return self._page("SELECT %s FROM messages WHERE room = ? AND id > ? ORDER BY id LIMIT ?"
                          % _COLUMNS, (room, since), limit, False)

    def before(self, room, before, limit):
        return self._page("SELECT %s FROM messages WHERE room = ? AND id < ? "
                          "ORDER BY id DESC LIMIT ?" % _COLUMNS, (room, before), limit, True)

    def has_room(self, room):
        return self._run(lambda conn: conn.execute(
            "SELECT 1 FROM messages WHERE room = ? LIMIT 1", (room,)).fetchone() is not None)

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
