"""The archive runs store calls off the gevent hub and commits in groups."""

import time

import gevent
import pytest

from realtime.store.archive import Archive
from realtime.store import StoreError
from realtime.store.sqlite import SQLiteStore


class SlowSQLite(SQLiteStore):
    """A real SQLite store whose commits take 200 ms (a slow disk)."""

    def append_batch(self, items):
        time.sleep(0.2)
        return super().append_batch(items)


@pytest.fixture
def archive(tmp_path):
    a = Archive(SlowSQLite("sqlite:///" + str(tmp_path / "a.db")))
    yield a
    a.close()


def test_slow_commit_does_not_stall_the_hub(archive):
    """While a commit takes 200 ms, other greenlets keep running."""
    ticks = []

    def ticker():
        while True:
            ticks.append(time.perf_counter())
            gevent.sleep(0.01)
    t = gevent.spawn(ticker)
    gevent.sleep(0)
    archive.append("r", "alice", "hi", None, 1)
    t.kill()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert len(ticks) > 5 and max(gaps) < 0.1


def test_concurrent_appends_share_commits(archive):
    """Appends that arrive during a commit go together in the next one."""
    jobs = [gevent.spawn(archive.append, "r", "u%d" % i, "t", None, 1) for i in range(40)]
    gevent.joinall(jobs, raise_error=True)
    ids = [job.value[0]["id"] for job in jobs]
    assert sorted(ids) == list(range(1, 41))
    assert archive.batches <= 3 and archive.batched == 40


def test_appends_keep_their_order(archive):
    """Within a batch, messages are stored in the order they were queued."""
    jobs = [gevent.spawn(archive.append, "r", "a", str(i), None, 1) for i in range(10)]
    gevent.joinall(jobs, raise_error=True)
    assert [m["text"] for m in archive.latest("r", 10)[0]] == [str(i) for i in range(10)]


class FailingSQLite(SQLiteStore):
    """A real SQLite store whose disk fails on every commit."""

    def append_batch(self, items):
        raise StoreError("the message store is unavailable (disk I/O error)")


def test_store_failure_reaches_every_waiter(tmp_path):
    """When a batch fails, each caller gets StoreError and nothing is stored."""
    archive = Archive(FailingSQLite("sqlite:///" + str(tmp_path / "b.db")))
    jobs = [gevent.spawn(archive.append, "r", "a", str(i), None, 1) for i in range(3)]
    gevent.joinall(jobs)
    assert all(isinstance(job.exception, StoreError) for job in jobs)
    assert archive.latest("r", 10) == ([], False)
    archive.close()
