"""How long the gevent hub stalls while a store takes a burst, store by store.

    python -m benchmarks.storestall                     # SQLite and PostgreSQL (fsync on)
    python -m benchmarks.storestall --seconds 5 --writers 200 --edits

Each store runs in a fresh gevent-patched process: the chat's
:class:`~realtime.store.archive.Archive` (group commit, the thread pool for
blocking stores) takes posts from ``--writers`` greenlets, each waiting for
its ack before the next (``--edits``: every other write edits the writer's
last message), while a ticker greenlet sleeps 5 ms again and again and
records how late it wakes: the hub's stall.  Prints acks/s and the ticker's
lateness (median, p99, max, in ms) per store; run it a few times on a
shared machine and quote medians.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
from gevent import monkey; monkey.patch_all()
import json, sys, time, gevent
from realtime.store import Edit, open_store
from realtime.store.archive import Archive

url, seconds, writers, edits = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
archive = Archive(open_store(url))
lates, acks, stop = [], [0], [False]

def tick():
    while not stop[0]:
        began = time.perf_counter()
        gevent.sleep(0.005)
        lates.append(time.perf_counter() - began - 0.005)

def writer(n):
    last = None
    i = 0
    while not stop[0]:
        if edits and last is not None and i % 2:
            op = Edit("room%d" % (n % 50), last, "w%d" % n, "edited %d" % i, 2)
        else:
            # the first release's tuple form: the same for every store version
            op = ("room%d" % (n % 50), "w%d" % n, "message %d from w%d" % (i, n), None, 1)
        done = gevent.event.AsyncResult()
        archive.submit(op, done.set)
        result = done.get()
        if isinstance(result, Exception):
            raise result
        if type(op) is tuple:
            last = result[0]["id"]
        acks[0] += 1
        i += 1

import gevent.event
ticker = gevent.spawn(tick)
gevent.sleep(0.2)
lates.clear()
workers = [gevent.spawn(writer, n) for n in range(writers)]
began = time.perf_counter()
gevent.sleep(seconds)
stop[0] = True
elapsed = time.perf_counter() - began
count = acks[0]
gevent.joinall(workers, timeout=10)
lates.sort()
pick = lambda q: lates[min(len(lates) - 1, int(q * len(lates)))] * 1000
print(json.dumps({"acks_per_s": count / elapsed, "lag_p50_ms": pick(0.5),
                  "lag_p99_ms": pick(0.99), "lag_max_ms": lates[-1] * 1000}))
archive.close()
"""


def run(url, args):
    env = dict(os.environ)
    env["PYTHONPATH"] = args.code + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", CHILD, url, str(args.seconds),
                          str(args.writers), "1" if args.edits else "0"],
                         env=env, capture_output=True, text=True, timeout=args.seconds + 60)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--writers", type=int, default=100)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--edits", action="store_true", help="every other write is an edit")
    p.add_argument("--code", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                   help="checkout whose realtime package the stores come from (to compare "
                        "versions)")
    args = p.parse_args(argv)
    from realtime.store.pgtemp import TempPostgres
    pg = TempPostgres(durable=True).start()
    results = {"sqlite": [], "postgresql": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(args.repeat):
                results["sqlite"].append(run("sqlite:///%s/s%d.db" % (tmp, r), args))
                results["postgresql"].append(run(pg.create_database("stall_%d" % r), args))
    finally:
        pg.remove()
    print("store       acks/s   lag p50 ms  lag p99 ms  lag max ms   (median of %d runs, %d "
          "writers%s)" % (args.repeat, args.writers, ", half edits" if args.edits else ""))
    for store, runs in results.items():
        med = {k: sorted(r[k] for r in runs)[len(runs) // 2] for k in runs[0]}
        print("%-10s %7.0f %11.2f %11.2f %11.2f" % (store, med["acks_per_s"], med["lag_p50_ms"],
                                                   med["lag_p99_ms"], med["lag_max_ms"]))
    return results


if __name__ == "__main__":
    main()
