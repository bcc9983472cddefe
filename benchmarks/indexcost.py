"""``python -m benchmarks.indexcost``: CPU the SQLite search index costs per message.

Writes N messages the way the message path does (batches of 50 plain posts
in 50 rooms, short texts), then times the store's index steps (FTS5 and the
unread counters, what the archive runs every 2,000 messages) in thread CPU
time, and prints microseconds per message.  Medians of --repeat runs.
"""

import argparse
import random
import statistics
import tempfile
import time


def once(count):
    from realtime.store.sqlite import SQLiteStore
    store = SQLiteStore("sqlite:///%s/cost.db" % tempfile.mkdtemp(prefix="realtime-bench-"))
    rnd = random.Random(1)
    try:
        for start in range(0, count, 50):
            store.append_batch([("room%d" % (i % 50), "gen%d" % (i % 50),
                                 "%.6f|%d" % (1000 + rnd.random(), i % 10), None, 1)
                                for i in range(start, start + 50)])
        started = time.thread_time()
        while store.index(2000):
            pass
        return (time.thread_time() - started) / count * 1e6
    finally:
        store.close()


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.indexcost", description=__doc__)
    p.add_argument("--messages", type=int, default=60000)
    p.add_argument("--repeat", type=int, default=3)
    opts = p.parse_args(argv)
    runs = [once(opts.messages) for _ in range(opts.repeat)]
    print("index CPU per message: %.2f us (median of %s)"
          % (statistics.median(runs), ", ".join("%.2f" % r for r in runs)))


if __name__ == "__main__":
    main()
