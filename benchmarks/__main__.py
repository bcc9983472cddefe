"""``python -m benchmarks``: run the benchmark and print the table.

    python -m benchmarks                         # everything, 3 repeats
    python -m benchmarks --quick                 # a short smoke run
    python -m benchmarks --pin --repeat 5        # server on CPU 0, generator on the rest
    python -m benchmarks --scenarios fanout --rates 20,40,80
    python -m benchmarks --scenarios search      # a 100,000-message room on SQLite
    python -m benchmarks --url http://127.0.0.1:5000 --server-pid 1234
    python -m benchmarks --scenarios message,message500 --no-baseline   # SQLite vs PostgreSQL
"""

import argparse
import os
import sys

from . import report, runner

HERE = os.path.dirname(os.path.abspath(__file__))


def _ints(text):
    return [int(x) for x in text.split(",") if x.strip()]


def _floats(text):
    return [float(x) for x in text.split(",") if x.strip()]


def parse(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="benchmark a running chat server (loopback only) "
                                 "instead of starting one")
    p.add_argument("--server-pid", type=int, help="its PID, to read its RSS")
    p.add_argument("--server-args", default="",
                   help="extra flags for the chat server, e.g. '--store memory://'")
    p.add_argument("--bare-args", default="", help="extra flags for benchmarks/bare.py")
    p.add_argument("--no-baseline", dest="baseline", action="store_false",
                   help="skip the bare python-socketio baseline")
    p.add_argument("--no-postgres", dest="postgres", action="store_false",
                   help="skip the message path on the PostgreSQL store (run by default "
                        "where PostgreSQL's server binaries are installed)")
    p.add_argument("--no-node", dest="node", action="store_false",
                   help="skip the Node.js socket.io 4.8 peer")
    p.add_argument("--quick", action="store_true", help="short smoke run with small sizes")
    p.add_argument("--repeat", type=int, default=None, help="runs per scenario (median)")
    p.add_argument("--pin", action="store_true",
                   help="pin the server to CPU 0 and the generator to the other CPUs")
    p.add_argument("--scenarios", default=",".join(runner.SCENARIOS),
                   help="comma-separated: " + ", ".join(runner.SCENARIOS))
    p.add_argument("--senders", type=int, default=50)
    p.add_argument("--cid", action="store_true",
                   help="message path: send a fresh cid with each message, as the page does")
    p.add_argument("--window500", type=int, default=10,
                   help="acks outstanding per sender in the message500 scenario")
    p.add_argument("--duration", type=float, default=None, help="seconds per message run")
    p.add_argument("--members", type=int, default=None, help="fan-out room size")
    p.add_argument("--rates", type=_floats, default=None, help="fan-out rates, msg/s")
    p.add_argument("--fan-duration", type=float, default=None, help="seconds per rate")
    p.add_argument("--saturation-ms", type=float, default=2000,
                   help="stop raising the fan-out rate once p99 passes this")
    p.add_argument("--capacity", type=_ints, default=None, help="idle connection counts")
    p.add_argument("--concurrency", type=int, default=48,
                   help="handshakes in flight per generator process")
    p.add_argument("--procs", type=int, default=2, help="generator processes per role")
    p.add_argument("--search-messages", type=int, default=None,
                   help="messages in the searched room (default 100,000)")
    p.add_argument("--searches", type=int, default=None,
                   help="searches per search run (default 500)")
    p.add_argument("--profile", metavar="DIR",
                   help="record each server with py-spy (folded stacks) into DIR")
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    opts = p.parse_args(argv)
    quick = opts.quick
    if opts.repeat is None:
        opts.repeat = 1 if quick else 3
    if opts.duration is None:
        opts.duration = 3.0 if quick else 8.0
    opts.warm = 0.5 if quick else 1.0
    if opts.members is None:
        opts.members = 200 if quick else 1000
    if opts.rates is None:
        opts.rates = [20, 80] if quick else [20, 40, 80, 160, 320]
    if opts.fan_duration is None:
        opts.fan_duration = 2.0 if quick else 5.0
    opts.drain = 10.0
    if opts.capacity is None:
        opts.capacity = [1000] if quick else [5000, 15000]
    if opts.search_messages is None:
        opts.search_messages = 10000 if quick else 100000
    if opts.searches is None:
        opts.searches = 100 if quick else 500
    opts.scenarios = [s.strip() for s in opts.scenarios.split(",") if s.strip()]
    for s in opts.scenarios:
        if s not in runner.SCENARIOS:
            p.error("unknown scenario %r" % s)
    ncpu = os.cpu_count() or 1
    if opts.pin and ncpu >= 2:
        opts.server_cpus = {0}
        opts.gen_cpus = set(range(1, ncpu))
    else:
        opts.server_cpus = opts.gen_cpus = None
    return opts


def main(argv=None):
    opts = parse(argv)
    runs = runner.run(opts, progress=lambda line: print(line, flush=True))
    opts_dict = {k: (sorted(v) if isinstance(v, set) else v) for k, v in vars(opts).items()}
    text = report.write(opts.out, runs, opts_dict)
    print()
    print(text)
    print("written: %s/latest.json, latest.md" % opts.out)
    errors = [r for r in runs if "error" in r["result"]]
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
