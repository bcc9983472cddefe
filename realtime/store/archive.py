"""The store as the chat uses it under gevent: off the hub, group-committed.

:class:`Archive` wraps any :class:`~realtime.store.Store`.  Appends are
queued and written by one writer greenlet in batches (one transaction, one
fsync per batch).  When a batch is durable, one delivery greenlet calls each
append's callback in commit order, so whatever the callbacks send (broadcast,
ack) goes out in the order the appends were submitted.  Blocking stores run
in a small native thread pool so a commit never stalls the hub::

    archive = Archive(open_store(url))
    archive.submit(("lobby", "alice", "hi", None, ts), callback)   # callback((msg, created))
    msg, created = archive.append("lobby", "alice", "hi", None, ts)  # or wait for it
"""

import logging

import gevent
import gevent.event
import gevent.queue
import gevent.threadpool

from .base import StoreError

log = logging.getLogger("realtime.store")

MAX_BATCH = 512
DELIVERY_SLICE = 16


def _captured(fn, *args):
    try:
        return False, fn(*args)
    except Exception as exc:
        return True, exc


class Archive:
    def __init__(self, store, threads=2):
        self.store = store
        self._pool = gevent.threadpool.ThreadPool(threads) if store.blocking else None
        self._pending = []
        self._wake = gevent.event.Event()
        self._closing = False
        self._busy = False        # a batch is being written
        self._delivery = gevent.queue.Queue()
        self._delivering = 0      # batches queued or running in delivery
        self._writer = gevent.spawn(self._write_loop)
        self._deliverer = gevent.spawn(self._deliver_loop)
        self.batches = 0          # for /metrics
        self.batched = 0
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
        """Queue ``(room, name, text, cid, ts)``; later ``callback((msg, created))``.

        On failure the callback gets a :class:`StoreError` instead.  Callbacks
        run on one delivery greenlet, in submission order.
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

    def _write_loop(self):
        while True:
            self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
                self._busy = True
                try:
                    results = self._call(self.store.append_batch, [item for item, _ in batch])
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

    def _deliver_loop(self):
        for batch in self._delivery:
            for n, (callback, result) in enumerate(batch, 1):
                try:
                    callback(result)
                except Exception:
                    log.exception("delivering a stored message failed")
                if n % DELIVERY_SLICE == 0:
                    # A big batch fans out to many sockets: let other
                    # greenlets (pings, reads, the clock) run in between.
                    gevent.sleep(0)
            self._delivering -= 1

    def latest(self, room, limit):
        return self._call(self.store.latest, room, limit)

    def after(self, room, since, limit):
        return self._call(self.store.after, room, since, limit)

    def before(self, room, before, limit):
        return self._call(self.store.before, room, before, limit)

    def has_room(self, room):
        return self._call(self.store.has_room, room)

    def next_dm_id(self):
        return self.store.next_dm_id()

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
