"""``python -m benchmarks.trimstall``: the hub stall and write delay while retention
trims a big room.

Seeds one room with --messages messages (indexed for search, with read
markers), then, in this gevent-patched process, runs one retention pass
(``--retention-per-room`` --keep) through the archive exactly as the server
does, while a ticker greenlet measures how late the hub runs timers and a
poster submits a message every 10 ms and times its ack.  The same is
measured for a quiet period first (posts only) as the baseline.  Prints the
trim rate, the longest trim step (one transaction: how long a writer can
wait for the lock), and hub lag / post delay percentiles::

    python -m benchmarks.trimstall                          # SQLite, 200,000 messages
    python -m benchmarks.trimstall --store redis://127.0.0.1:6379/15 --messages 100000
    python -m benchmarks.trimstall --temp-postgres --messages 100000   # a throwaway PostgreSQL
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402


def seed(store, room, count, ts):
    from realtime.store import Read
    for start in range(0, count, 500):
        store.append_batch([(room, "gen%d" % (i % 20), "message %d about walrus %d" % (i, i % 97),
                             None, ts + i) for i in range(start, min(count, start + 500))])
    while store.index(5000):
        pass
    top = store.latest(room, 1)[0][0]["id"]
    store.append_batch([Read(room, "reader%d" % i, top * i // 50) for i in range(1, 50)])


def _pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else 0.0


def measure(archive, work, room):
    """Run ``work()`` while ticking and posting; (seconds, lags, post delays)."""
    from realtime.store import Post
    lags, delays, stop = [], [], []

    def tick():
        while not stop:
            t = time.perf_counter()
            gevent.sleep(0.005)
            lags.append(max(0.0, time.perf_counter() - t - 0.005))

    def post():
        n = 0
        while not stop:
            t = time.perf_counter()
            done = gevent.event.Event()
            archive.submit(Post(room + "-live", "poster", "live %d" % n, None, 1),
                           lambda result: done.set())
            done.wait()
            delays.append(time.perf_counter() - t)
            n += 1
            gevent.sleep(0.01)
    import gevent.event
    greenlets = [gevent.spawn(tick), gevent.spawn(post)]
    started = time.perf_counter()
    work()
    took = time.perf_counter() - started
    stop.append(True)
    gevent.joinall(greenlets)
    return took, lags, delays


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.trimstall", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", help="store URL (default: a fresh SQLite file)")
    p.add_argument("--temp-postgres", action="store_true",
                   help="start a throwaway PostgreSQL server (realtime.store.pgtemp) and use it")
    p.add_argument("--messages", type=int, default=200_000)
    p.add_argument("--keep", type=int, default=1000)
    p.add_argument("--batch", type=int, default=None, help="messages per trim step")
    p.add_argument("--quiet", type=float, default=20.0, help="seconds of the baseline")
    opts = p.parse_args(argv)
    if opts.temp_postgres:
        from realtime.store.pgtemp import TempPostgres
        with TempPostgres() as pg:
            opts.store = pg.create_database("trimstall")
            return run(opts)
    return run(opts)


def run(opts):
    from realtime.store import open_store
    from realtime.store.archive import Archive
    from realtime.store.retention import Retention
    url = opts.store or "sqlite:///%s/trim.db" % tempfile.mkdtemp(prefix="realtime-bench-")
    store = open_store(url)
    room = "big-%d" % time.time_ns()
    t = time.perf_counter()
    seed(store, room, opts.messages, 1)
    print("seeded %d messages in %.1f s (%s)" % (opts.messages, time.perf_counter() - t,
                                                 store.describe()))
    steps = []
    trim = store.trim

    def timed_trim(*args):
        t0 = time.perf_counter()
        try:
            return trim(*args)
        finally:
            steps.append(time.perf_counter() - t0)
    store.trim = timed_trim
    archive = Archive(store)
    retention = Retention(archive, per_room=opts.keep, batch=opts.batch, start=False)
    try:
        rows = [("quiet (posts only)",) + measure(archive, lambda: gevent.sleep(opts.quiet), room)]
        removed = []
        rows.append(("retention pass",) + measure(
            archive, lambda: removed.append(retention.run_once()), room))
        print("trimmed %d messages in %.2f s (%.0f/s) in %d steps; longest step %.1f ms, "
              "median %.1f ms" % (removed[0], rows[1][1], removed[0] / rows[1][1], len(steps),
                                  max(steps) * 1e3, statistics.median(steps) * 1e3))
        slow = sorted(range(len(steps)), key=lambda i: -steps[i])[:5]
        print("slowest steps (index: ms): " + ", ".join("%d: %.0f" % (i, steps[i] * 1e3)
                                                         for i in slow))
        print("%-20s %8s %8s %8s %8s %8s" % ("", "lag p50", "lag p99", "lag max",
                                             "post p50", "post max"))
        for name, _, lags, delays in rows:
            print("%-20s %6.1fms %6.1fms %6.1fms %6.1fms %6.1fms" % (
                name, _pct(lags, .5) * 1e3, _pct(lags, .99) * 1e3, max(lags) * 1e3,
                _pct(delays, .5) * 1e3, max(delays) * 1e3))
        assert store.latest(room, opts.keep + 1)[0].__len__() == opts.keep
    finally:
        archive.close()


if __name__ == "__main__":
    main()
