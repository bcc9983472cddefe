"""The store as the chat uses it under gevent: off the hub, group-committed.

:class:`Archive` wraps any :class:`~realtime.store.Store`.  Every write (a
post, edit, delete, reaction, read marker or mute: :mod:`realtime.store.base`)
is queued and written by one writer greenlet in batches (one transaction, one
fsync per batch).  When a batch is durable, one delivery greenlet calls each
write's callback in commit order, so whatever the callbacks send (broadcast,
ack) goes out in the order the writes were submitted.  Blocking stores run
in a small native thread pool so a commit, a search or a read never stalls
the hub.  Between batches, and when idle, the writer lets the store bring
its derived data (the search index) up to date (:meth:`Store.index`)::

    archive = Archive(open_store(url), corked=transport.websocket.corked)
    archive.submit(Post("lobby", "alice", "hi", None, ts), callback)  # callback((msg, created))
    msg, created = archive.append("lobby", "alice", "hi", None, ts)  # or wait for it
"""

import contextlib
import logging

import gevent
import gevent.event
import gevent.lock
import gevent.queue
import gevent.threadpool

from .base import StoreError

log = logging.getLogger("realtime.store")

MAX_BATCH = 512
DELIVERY_SLICE = 16
INDEX_EVERY = 2000        # messages written before the writer indexes them
INDEX_CHUNK = 5000        # messages per index step
INDEX_IDLE = 1.0          # seconds without writes before it indexes the rest


def _captured(fn, *args):
    try:
        return False, fn(*args)
    except Exception as exc:
        return True, exc


class Archive:
    """``corked``: a context manager factory wrapped around each slice of
    deliveries, so the sends of a slice can be joined per connection
    (:func:`realtime.transport.websocket.corked`)."""

    def __init__(self, store, threads=2, corked=contextlib.nullcontext):
        self.store = store
        self._corked = corked
        self._pool = gevent.threadpool.ThreadPool(threads) if store.blocking else None
        self._pending = []
        self._wake = gevent.event.Event()
        self._closing = False
        self._busy = False        # a batch is being written
        # Held by whoever writes (the writer, a retention trim of a
        # single-writer store), so a trim never makes a batch wait on
        # SQLite's busy timeout (it sleeps).
        self._write_lock = gevent.lock.Semaphore()
        self._delivery = gevent.queue.Queue()
        self._delivering = 0      # batches queued or running in delivery
        self._writer = gevent.spawn(self._write_loop)
        self._deliverer = gevent.spawn(self._deliver_loop)
        self.batches = 0          # for /metrics
        self.batched = 0
        self._unindexed = 0       # writes since the last index step
        self._index_failing = False
        # The last write failure, until a write succeeds: reads may still work
        # on a full or read-only disk, so /healthz needs this too.
        self.write_error = None

    def _call(self, fn, *args):
        try:
            if self._pool is not None:
                # gevent prints a traceback for any exception a pool thread
                # raises (a full disk would flood the log): carry it back instead.
                failed, value = self._pool.apply(_captured, (fn,) + args)
                if failed:
                    raise value
                return value
            return fn(*args)
        except StoreError:
            raise
        except Exception as exc:
            log.exception("store call %s failed", getattr(fn, "__name__", fn))
            raise StoreError("the message store is unavailable (%s)"
                             % type(exc).__name__) from exc

    def submit(self, item, callback):
        """Queue one write operation; later ``callback(result)``.

        ``result`` is what the store's ``append_batch`` gives for it (a
        :class:`~realtime.store.base.Refused` when a rule refused it), or a
        :class:`StoreError` when the store failed.  Callbacks run on one
        delivery greenlet, in submission order.
        """
        if self._closing:
            self._delivering += 1
            self._delivery.put([(callback, StoreError("the server is shutting down"))])
            return
        self._pending.append((item, callback))
        self._wake.set()

    def append(self, room, name, text, cid, ts):
        """Store one message durably and wait; return ``(message, created)``."""
        result = gevent.event.AsyncResult()

        def done(value):
            if isinstance(value, StoreError):
                result.set_exception(value)
            else:
                result.set(value)
        self.submit((room, name, text, cid, ts), done)
        return result.get()

    def _index(self):
        """One step of the store's background indexing; True when more is left."""
        self._unindexed = 0
        try:
            with self._write_lock:
                done = self._call(self.store.index, INDEX_CHUNK)
        except StoreError as exc:
            if not self._index_failing:     # once per outage, not every second
                log.warning("indexing for search failed (searches catch up "
                            "themselves): %s", exc)
            self._index_failing = True
            return False
        self._index_failing = False
        return done >= INDEX_CHUNK

    def _write_loop(self):
        indexes = self.store.indexes
        while True:
            if not self._wake.wait(INDEX_IDLE if indexes else None):
                # Idle: index what is left (also other processes' writes).
                while indexes and not self._pending and not self._closing and self._index():
                    gevent.sleep(0)
                continue
            self._wake.clear()
            while self._pending:
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
                self._busy = True
                try:
                    with self._write_lock:
                        results = self._call(self.store.append_batch,
                                             [item for item, _ in batch])
                except StoreError as exc:
                    self.write_error = str(exc)
                    results = [StoreError(str(exc))] * len(batch)
                else:
                    self.write_error = None
                    self.batches += 1
                    self.batched += len(batch)
                finally:
                    self._busy = False
                self._delivering += 1
                self._delivery.put([(callback, res) for (_, callback), res in zip(batch, results)])
                self._unindexed += len(batch)
                if indexes and self._unindexed >= INDEX_EVERY:
                    self._index()

    def _deliver_loop(self):
        corked = self._corked
        queue = self._delivery
        for batch in queue:
            for start in range(0, len(batch), DELIVERY_SLICE):
                with corked():
                    for callback, result in batch[start:start + DELIVERY_SLICE]:
                        try:
                            callback(result)
                        except Exception:
                            log.exception("delivering a stored message failed")
                if start + DELIVERY_SLICE < len(batch) or queue.qsize():
                    # A big batch fans out to many sockets: let other
                    # greenlets (pings, reads, the clock) run in between.
                    gevent.sleep(0)
            self._delivering -= 1

    def latest(self, room, limit):
        return self._call(self.store.latest, room, limit)

    def after(self, room, since, limit):
        return self._call(self.store.after, room, since, limit)

    def replay(self, room, since, limit, reader=None):
        return self._call(self.store.replay, room, since, limit, reader)

    def search(self, room, words, limit):
        return self._call(self.store.search, room, words, limit)

    def before(self, room, before, limit):
        return self._call(self.store.before, room, before, limit)

    def has_room(self, room):
        return self._call(self.store.has_room, room)

    def mutes(self, now):
        return self._call(self.store.mutes, now)

    def next_dm_id(self):
        return self.store.next_dm_id()

    def rooms(self):
        return self._call(self.store.rooms)

    def trim(self, room, before_ts, keep, limit):
        """One retention step (:meth:`Store.trim`); for a single-writer store
        (SQLite) between the writer's batches, else beside them (Redis and
        PostgreSQL lock only what the step touches)."""
        if not self.store.single_writer:
            return self._call(self.store.trim, room, before_ts, keep, limit)
        with self._write_lock:
            return self._call(self.store.trim, room, before_ts, keep, limit)

    def claim(self, name, seconds):
        return self._call(self.store.claim, name, seconds)

    def ping(self):
        """Raise StoreError unless the store answers and, after a failed write,
        a probe write succeeds again (so /healthz recovers by itself)."""
        self._call(self.store.ping)
        if self.write_error:
            self._call(self.store.probe_write)
            self.write_error = None

    def drain(self, timeout):
        """Refuse new appends and wait up to ``timeout`` s for queued ones."""
        self._closing = True
        with gevent.Timeout(timeout, False):
            while self._pending or self._busy or self._delivering:
                gevent.sleep(0.01)

    def close(self):
        self._writer.kill(block=False)
        self._deliverer.kill(block=False)
        self._call(self.store.close)
        if self._pool is not None:
            self._pool.kill()
