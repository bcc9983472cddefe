"""``postgresql://USER:PASS@HOST:PORT/DB``: messages in PostgreSQL, shared by every process.

    store = open_store("postgresql://realtime:secret@10.0.0.6:5432/realtime")

The store for deployments of several processes or hosts (with ``--redis``
for broadcasts and presence).  ``postgres://`` works too, and so does any
libpq URI parameter (``?sslmode=require``, ``?connect_timeout=5``, ...).

- **Schema**: created on first start and migrated by version on later
  starts (:func:`realtime.store.pgschema.migrate`), under an advisory lock,
  so processes starting together on an empty database do not race.  A
  server older than its database refuses to start.
- **Ids**: per-room counter rows locked until commit (see
  :mod:`.pgschema`): within a room, messages and updates share one id
  sequence, strictly increasing across every process and committed in id
  order.
- **Group commit**: each batch of the archive is one transaction; it returns
  (and the acks go out) only once committed.  A batch of posts without
  ``reply_to`` (the message path) is one statement; any other batch locks
  its rooms and applies its operations in order (:mod:`.pg_log`).
- **Search**: each message's words (Unicode case-folded, as
  :mod:`realtime.words` splits them) are stored as a ``tsvector`` with a GIN
  index, written with the message and rewritten by edits and deletes; a
  query is a ``tsquery`` of prefixes, and the exact word rule checks each
  hit.
- **gevent**: psycopg 3 detects a gevent-patched ``select`` and then waits
  through it (``wait_poll``) instead of its C ``wait_c``: every query yields
  to the hub while PostgreSQL works, so the store is not ``blocking`` and
  runs on the hub like the Redis store (no thread pool, no GIL hand-offs).
  Import psycopg only after monkey-patching (the entry points do).
- **Failures**: psycopg_pool keeps up to 8 connections; a call waits at most
  :data:`POOL_TIMEOUT` s for one, then fails with :class:`StoreError`.
  Dead idle connections are found on checkout without a round trip and
  replaced, so the store recovers by itself once PostgreSQL is back.
- **Secrets**: the password never reaches a log (:meth:`describe`, errors).
"""

import contextlib
import itertools
import logging
import threading
import time
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import errors as pgerrors
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool, PoolTimeout

from . import pg_mutes, pg_trim, pgsql
from .pg_conn import alive, check_cooperative, connection_kwargs, \
    hide_password  # noqa: F401  (hide_password is re-exported)
from .base import Mute, Post, Snapshot, Store, StoreError, as_op
from .pg_log import Txn, escape, message_row, stored_text, tsquery, unescape, unread, \
    update_row, words
from .pgschema import migrate
from .. import words as wordrule

log = logging.getLogger("realtime.store")

POOL_MIN = 1
POOL_MAX = 8
POOL_TIMEOUT = 2.0        # s a call waits for a connection before it fails
RECONNECT_TIMEOUT = 3.0   # s the pool retries one lost connection; the next call tries anew
STARTUP_WAIT = 10.0       # s to wait at start for PostgreSQL to accept us
DM_TIMEOUT = 0.5          # s a dm waits for a fresh block of ids
DM_RETRY = 5.0            # s between block requests while PostgreSQL is down
RETRIES = 3               # attempts of a batch that lost a deadlock
INDEX_CHUNK = 2000        # messages given their words per index() call

class PostgresStore(Store):
    """Messages in one PostgreSQL database; safe to share between any number of processes."""

    blocking = False
    kind = "postgresql"
    indexes = True
    keeps_mutes = True

    def __init__(self, url, startup_wait=STARTUP_WAIT):
        check_cooperative()
        self.url = url
        self._kwargs = connection_kwargs(url)          # a bad URL fails here, clearly
        self._password = (unquote(urlsplit(url).password or "")
                          or conninfo_to_dict(url).get("password"))
        self._set_up(startup_wait)
        self.pool = ConnectionPool(url, kwargs=self._kwargs, min_size=POOL_MIN,
                                   max_size=POOL_MAX, timeout=POOL_TIMEOUT,
                                   reconnect_timeout=RECONNECT_TIMEOUT,
                                   name="realtime", open=False)
        self.pool.open()
        self._dm_lock = threading.Lock()
        self._dm_next = self._dm_end = 0
        self._dm_retry_at = 0.0
        # While PostgreSQL is down: microseconds since the epoch, far above
        # any block id, so they never repeat one.
        self._dm_local = itertools.count(time.time_ns() // 1000)

    def _set_up(self, wait):
        """Connect (waiting up to ``wait`` s for the server) and migrate the schema."""
        deadline = time.monotonic() + wait
        while True:
            try:
                with psycopg.connect(self.url, **self._kwargs) as conn:
                    migrate(conn)
                    pg_mutes.create(conn)       # at every start: see pg_mutes
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() >= deadline:
                    raise ValueError("cannot reach PostgreSQL at %s within %g s: %s"
                                     % (self.describe(), wait, self._say(exc))) from None
                log.warning("waiting for PostgreSQL at %s: %s", self.describe(), self._say(exc))
                time.sleep(0.5)
            except psycopg.Error as exc:
                raise ValueError("cannot set up the schema in %s: %s"
                                 % (self.describe(), self._say(exc))) from None

    def _say(self, exc):
        """An error in one line, with the password (should libpq quote it) hidden."""
        text = " ".join(str(exc).split()) or type(exc).__name__
        return text.replace(self._password, "***") if self._password else text

    # -- connections ------------------------------------------------------------

    @contextlib.contextmanager
    def _connection(self, timeout=POOL_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            conn = self.pool.getconn(max(0.001, deadline - time.monotonic()))
            if alive(conn):
                break
            conn.close()                 # the pool drops it and connects a new one
            self.pool.putconn(conn)
        try:
            yield conn
        finally:
            self.pool.putconn(conn)

    def _run(self, fn, retry_lost=False, timeout=POOL_TIMEOUT):
        """``fn(conn)`` on a pooled connection; psycopg errors become StoreError.

        A deadlock or a cid stored meanwhile by another process (rolled back,
        so safe) is retried; a lost connection only with ``retry_lost``
        (reads: a write might have committed).
        """
        for attempt in range(1, RETRIES + 1):
            try:
                with self._connection(timeout) as conn:
                    return fn(conn)
            except (pgerrors.DeadlockDetected, pgerrors.SerializationFailure,
                    pgerrors.UniqueViolation) as exc:
                if attempt == RETRIES:
                    raise self._unavailable(exc) from exc
            except PoolTimeout as exc:
                raise self._unavailable(exc) from exc
            except psycopg.OperationalError as exc:
                if not retry_lost or attempt > 1:
                    raise self._unavailable(exc) from exc
            except psycopg.Error as exc:
                raise self._unavailable(exc) from exc

    def _unavailable(self, exc):
        return StoreError("the message store is unavailable (postgresql: %s)" % self._say(exc))

    # -- writes -----------------------------------------------------------------

    def append_batch(self, items):
        ops = [as_op(item) for item in items]
        if any(type(op) is Mute for op in ops):
            return self._run(lambda conn: self._with_mutes(conn, ops))
        for op in ops:
            if type(op) is not Post or op.reply_to is not None:
                # The log: one transaction with the rooms locked (pg_log).
                return self._run(lambda conn: self._log(conn, ops))
        return self._posts(ops)

    @staticmethod
    def _log(conn, ops):
        with conn.transaction():
            return Txn(conn).run(ops)

    @staticmethod
    def _with_mutes(conn, ops):
        """A batch holding mutes: one transaction, the mutes beside the log's operations
        (they touch no room's log, so their place in the batch does not matter)."""
        out = [None] * len(ops)
        rest = [i for i, op in enumerate(ops) if type(op) is not Mute]
        with conn.transaction():
            for i, op in enumerate(ops):
                if type(op) is Mute:
                    out[i] = pg_mutes.mute(conn, op)
            if rest:
                for i, result in zip(rest, Txn(conn).run([ops[i] for i in rest])):
                    out[i] = result
        return out

    def _posts(self, items):
        """The message path: posts without reply_to, one statement (:data:`pgsql.APPEND`)."""
        out = [None] * len(items)
        fresh = []                   # indexes to insert, in order
        first_of = {}                # (name, cid) -> index of its first copy in this batch
        for i, op in enumerate(items):
            if op.cid is not None:
                key = (op.name, op.cid)
                if key in first_of:
                    out[i] = first_of[key]          # a resend within the batch
                    continue
                first_of[key] = i
            fresh.append(i)
        columns = ([], [], [], [], [], [], [])
        for i in fresh:
            room, name, text, cid, ts, _ = items[i]
            text, escaped = stored_text(text)
            for column, value in zip(columns, (room, name, text, escaped, ts,
                                               None if cid is None else escape(cid),
                                               words(room, items[i].text))):
                column.append(value)
        rows = self._run(lambda conn: conn.execute(pgsql.APPEND, columns).fetchall())
        if len(rows) != len(fresh):
            raise StoreError("the message store is unavailable (postgresql: stored %d of %d)"
                             % (len(rows), len(fresh)))
        resent = []
        for ordinal, id, inserted in rows:
            i = fresh[ordinal - 1]
            room, name, text, cid, ts, _ = items[i]
            if inserted:
                out[i] = ({"id": id, "room": room, "name": name, "text": text, "ts": ts}, True)
            else:
                resent.append(i)
        if resent:
            self._fill_resent(items, resent, out)
        for i, res in enumerate(out):
            if isinstance(res, int):
                out[i] = (out[res][0], False)
        return out

    def _fill_resent(self, items, indexes, out):
        """The stored messages of cids that were already there (or stored meanwhile)."""
        names = [items[i].name for i in indexes]
        cids = [escape(items[i].cid) for i in indexes]
        rows = self._run(lambda conn: conn.execute(pgsql.BY_CID, (names, cids)).fetchall(),
                         retry_lost=True)
        stored = {(row[2], row[10]): message_row(row) for row in rows}
        for i, name, cid in zip(indexes, names, cids):
            if (name, cid) not in stored:
                raise StoreError("the message store is unavailable "
                                 "(postgresql: a resent message vanished)")
            out[i] = (stored[(name, cid)], False)

    # -- derived data -------------------------------------------------------------

    def index(self, limit=INDEX_CHUNK):
        """Fill in the words of up to ``limit`` messages written without them (those
        of a version-1 database); new messages get theirs as they are written."""
        # At most INDEX_CHUNK per call: the words are computed on the hub.
        limit = min(limit, INDEX_CHUNK)

        def run(conn):
            rows = conn.execute(pgsql.UNINDEXED, (limit,)).fetchall()
            if rows:
                conn.execute(pgsql.SET_WORDS, (
                    [r[0] for r in rows], [r[1] for r in rows],
                    [words(r[0], unescape(r[2]) if r[3] else r[2]) for r in rows]))
            return len(rows)
        return self._run(run)

    # -- reads --------------------------------------------------------------------

    def _page(self, sql, args, limit, reverse):
        rows = self._run(lambda conn: conn.execute(sql, args + (limit + 1,)).fetchall(),
                         retry_lost=True)
        more = len(rows) > limit
        rows = rows[:limit]
        if reverse:
            rows.reverse()
        return [message_row(r) for r in rows], more

    def latest(self, room, limit):
        return self._page(pgsql.LATEST_PAGE, (room,), limit, True)

    def after(self, room, since, limit):
        return self._page(pgsql.AFTER_PAGE, (room, since), limit, False)

    def before(self, room, before, limit):
        return self._page(pgsql.BEFORE_PAGE, (room, before), limit, True)

    def replay(self, room, since, limit, reader=None):
        return self._run(lambda conn: self._replay(conn, room, since, limit, reader),
                         retry_lost=True)

    @staticmethod
    def _replay(conn, room, since, limit, reader):
        # One snapshot (REPEATABLE READ), sent as one pipeline: one round trip.
        try:
            with conn.pipeline():
                conn.execute(pgsql.SNAPSHOT_BEGIN)
                if since is None:
                    msgs = conn.execute(pgsql.LATEST_PAGE, (room, limit + 1))
                    upds = None
                else:
                    msgs = conn.execute(pgsql.AFTER_PAGE, (room, since, limit + 1))
                    upds = conn.execute(pgsql.UPDATES_AFTER, (room, since, limit + 1))
                top = conn.execute(pgsql.TOP, (room,))
                who = conn.execute(pgsql.READER, {"room": room, "name": reader}) \
                    if reader is not None else None
                conn.execute("COMMIT")
        except BaseException:
            if conn.info.transaction_status != TransactionStatus.IDLE:
                conn.execute("ROLLBACK")
            raise
        if since is None:
            rows = msgs.fetchall()
            more = len(rows) > limit
            history = [message_row(r) for r in reversed(rows[:limit])]
            updates = []
        else:
            merged = sorted([message_row(r) for r in msgs.fetchall()]
                            + [update_row(r) for r in upds.fetchall()], key=lambda e: e["id"])
            more = len(merged) > limit
            merged = merged[:limit]
            history = [e for e in merged if "kind" not in e]
            updates = [e for e in merged if "kind" in e]
        read = unread_count = 0
        if who is not None:
            read, seen, own_seen, total, own, gone = who.fetchone()
            unread_count = unread(total, own, seen, own_seen, gone)
        return Snapshot(history, updates, more, top.fetchone()[0], read, unread_count)

    def search(self, room, query, limit):
        # Messages of a version-1 database get their words first (normally
        # none are left): so a search never misses a stored message.
        while self.index(INDEX_CHUNK) == INDEX_CHUNK:
            pass
        args = {"room": room, "q": tsquery(room, query), "below": 1 << 62,
                "limit": max(2 * limit, 20)}
        found = []
        for sql in (pgsql.SEARCH_RECENT, pgsql.SEARCH_OLDER):
            while len(found) < limit:
                rows = self._run(lambda conn: conn.execute(sql, args).fetchall(),
                                 retry_lost=True)
                for row in rows:
                    msg = message_row(row)
                    # The index keeps words' first MAX_LEXEME characters: the
                    # exact rule decides.
                    if wordrule.matches(query, msg["text"]):
                        found.append(msg)
                        if len(found) == limit:
                            return found
                if rows:
                    args["below"] = rows[-1][0]
                if len(rows) < args["limit"]:
                    break
        return found

    def rooms(self):
        return self._run(pg_trim.rooms, retry_lost=True)

    def mutes(self, now):
        return self._run(lambda conn: pg_mutes.active(conn, now), retry_lost=True)

    def trim(self, room, before_ts=None, keep=None, limit=500):
        return self._run(lambda conn: pg_trim.trim(conn, room, before_ts, keep, limit))

    def has_room(self, room):
        return self._run(lambda conn: conn.execute(pgsql.HAS_ROOM, (room,)).fetchone()[0],
                         retry_lost=True)

    # -- the rest ---------------------------------------------------------------

    def next_dm_id(self):
        with self._dm_lock:
            if self._dm_next >= self._dm_end and time.monotonic() >= self._dm_retry_at:
                try:
                    block = self._run(
                        lambda conn: conn.execute(pgsql.DM_BLOCK_NEXT).fetchone()[0],
                        retry_lost=True, timeout=DM_TIMEOUT)
                except StoreError:
                    self._dm_retry_at = time.monotonic() + DM_RETRY
                else:
                    self._dm_next, self._dm_end = block * pgsql.DM_BLOCK, (block + 1) * pgsql.DM_BLOCK
            if self._dm_next < self._dm_end:
                self._dm_next += 1
                return self._dm_next - 1
        return next(self._dm_local)      # dms do not need PostgreSQL

    def ping(self):
        self._run(lambda conn: conn.execute(pgsql.PING).fetchone(), retry_lost=True)

    def probe_write(self):
        self._run(lambda conn: conn.execute(pgsql.PROBE_WRITE, (time.time_ns() // 1_000_000,)))

    def describe(self):
        return hide_password(self.url)

    def close(self):
        self.pool.close(timeout=2.0)
