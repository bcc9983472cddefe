"""Retention: remove old messages in the background (``--retention-days``,
``--retention-per-room``).

One greenlet wakes every ``interval`` seconds and trims every room of the
store (:meth:`Store.trim <realtime.store.base.Store.trim>`), a few hundred
messages per step; each step runs like any store call (in the thread pool
for blocking stores, between the writer's batches), so a big trim never
stalls the hub nor holds SQLite's write lock for long::

    retention = Retention(archive, days=30, per_room=10000)   # starts it
    retention.run_once()          # one pass now (tests); returns messages removed
    retention.stop()

A pass removes, per room, the messages beyond the newest ``per_room`` and
those older than ``days`` (from the oldest on, up to the first younger one),
each with its updates.  With a shared store (Redis) one process per
interval does the pass.
"""

import logging
import time

import gevent

from .base import StoreError

log = logging.getLogger("realtime.store")

FIRST_DELAY = 5.0     # seconds after start before the first pass
DAY_MS = 86_400_000


class Retention:
    def __init__(self, archive, days=0, per_room=0, interval=300.0, clock=time.time,
                 batch=None, start=True, first_delay=FIRST_DELAY, metrics=None):
        self.archive = archive
        self.days = days
        self.per_room = per_room
        self.interval = interval
        self.clock = clock
        # messages per trim step (one short transaction)
        self.batch = batch or archive.store.trim_batch
        self.pause_max = 1.0      # seconds, between two steps
        self.metrics = metrics    # realtime.metrics.Metrics, for the trimmed counter
        self.removed = 0          # messages removed since start
        self.passes = 0
        self._failing = False
        self._greenlet = gevent.spawn_later(min(first_delay, interval), self._loop) \
            if start else None

    @property
    def enabled(self):
        return bool(self.days or self.per_room)

    def _loop(self):
        while True:
            try:
                if self.archive.claim("retention", self.interval * 0.9):
                    self.run_once()
            except StoreError as exc:
                if not self._failing:
                    log.warning("retention: trimming failed (retried in %.0f s): %s",
                                self.interval, exc)
                self._failing = True
            except Exception:
                log.exception("retention: trimming failed (retried in %.0f s)", self.interval)
            else:
                self._failing = False
            gevent.sleep(self.interval)

    def run_once(self):
        """Trim every room once; return how many messages were removed."""
        before_ts = None
        if self.days:
            before_ts = int(self.clock() * 1000 - self.days * DAY_MS)
        keep = self.per_room or None
        removed = 0
        for room in self.archive.rooms():
            while True:
                started = time.monotonic()
                n = self.archive.trim(room, before_ts, keep, self.batch)
                removed += n
                if self.metrics is not None and n:
                    self.metrics.trimmed.inc(n)
                if n < self.batch:
                    break
                # Pause as long as the step took: a long trim takes at most
                # about half of the store's write time, and writes queued
                # meanwhile go first.
                gevent.sleep(min(self.pause_max, time.monotonic() - started))
        self.removed += removed
        self.passes += 1
        if removed:
            log.info("retention: removed %d old message(s)", removed)
        return removed

    def stop(self):
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
