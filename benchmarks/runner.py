"""Run the scenarios against the chat server and the bare baseline.

:func:`run` starts each server under test itself (a fresh process per
scenario run, so memory figures start clean), drives it with generator
processes (:mod:`benchmarks.scenarios`) and returns raw figures per run;
:mod:`benchmarks.report` turns them into medians, ratios and a table.
"""

import itertools
import os
import signal
import subprocess
import time

from . import searchbench
from .procs import BenchError, Remote, Server, node_peer
from .scenarios import capacity, fan_out, message_path
from .worker import raise_nofile


def _profile(opts, server, kind, scenario):
    """``py-spy record`` on the server for the whole run (``--profile DIR``)."""
    if not opts.profile or not server.pid:
        return None
    os.makedirs(opts.profile, exist_ok=True)
    out = os.path.join(opts.profile, "%s-%s.txt" % (kind, scenario.replace(":", "-")))
    return subprocess.Popen(["py-spy", "record", "--pid", str(server.pid), "--format", "raw",
                             "--rate", "250", "--nonblocking", "-o", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


SCENARIOS = ("message", "message500", "fanout", "capacity", "search")
#: scenarios also run with the chat on PostgreSQL (kind ``chat-pg``)
POSTGRES_SCENARIOS = ("message", "message500")


class Postgres:
    """The PostgreSQL of a benchmark run (durable, like SQLite's synchronous=FULL):
    one throwaway server, a fresh database per chat-pg server."""

    def __init__(self):
        from realtime.store.pgtemp import TempPostgres
        self.server = TempPostgres(durable=True).start()
        # The runner pinned itself to the generator's CPUs (--pin); PostgreSQL
        # stands for another machine: let it (and its backends) use any CPU.
        os.sched_setaffinity(self.server.proc.pid, range(os.cpu_count() or 1))
        self._n = itertools.count(1)

    def fresh_url(self):
        return self.server.create_database("bench_%d" % next(self._n))

    def close(self):
        self.server.remove()


def start_postgres(progress):
    """A :class:`Postgres`, or None (with a note) where PostgreSQL cannot run."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
        return Postgres()
    except Exception as exc:       # missing binaries or driver: SQLite still runs
        progress("PostgreSQL store skipped: %s" % exc)
        return None


def run_one(opts, kind, scenario):
    """Start a fresh server of ``kind`` and run one scenario against it."""
    if kind == "chat" and opts.url:
        if scenario == "search":
            return {"error": "the search scenario seeds the store of a server it starts"}
        server = Remote(opts.url, opts.server_pid)
    elif kind == "chat-pg":
        server = Server(kind, opts.server_cpus, opts.server_args.split(),
                        store=opts.postgres_db.fresh_url())
        server.db_pid = opts.postgres_db.server.proc.pid
    else:
        extra = {"chat": opts.server_args, "bare": opts.bare_args}.get(kind, "")
        server = Server(kind, opts.server_cpus, extra.split())
    if scenario == "search":
        # Seeded straight into the server's SQLite file before it starts.
        seeded = searchbench.seed(server.store_path, opts.search_messages)
    server.start()
    started = time.monotonic()
    spy = None
    # py-spy starts at the first measured window (Session.mark), not during set-up.
    opts.start_profile = lambda: _profile(opts, server, kind, scenario)
    try:
        if scenario == "message":
            result = message_path(opts, server, 1)
        elif scenario == "message500":
            result = message_path(opts, server, opts.window500)
        elif scenario == "fanout":
            result = fan_out(opts, server)
        elif scenario.startswith("capacity"):
            result = capacity(opts, server, int(scenario.split(":")[1]))
        elif scenario == "search":
            result = searchbench.search(opts, server, *seeded)
        else:
            raise BenchError("unknown scenario %s" % scenario)
    except BenchError as exc:
        result = {"error": str(exc)}
    finally:
        spy = opts.spy
        opts.spy = None
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            try:
                spy.wait(30)
            except subprocess.TimeoutExpired:
                spy.kill()
        server.stop()
    result["wall_s"] = time.monotonic() - started
    return result


def run(opts, progress=print):
    """All selected scenarios x repeats x (bare, chat); returns the raw runs."""
    opts.spy = None
    raise_nofile()
    if opts.gen_cpus:
        os.sched_setaffinity(0, opts.gen_cpus)
    runs = []
    plan = []
    for scenario in opts.scenarios:
        if scenario == "capacity":
            plan += ["capacity:%d" % n for n in opts.capacity]
        else:
            plan.append(scenario)
    peers = []
    if opts.node and not opts.url:
        skipped = node_peer()
        if skipped:
            progress(skipped)
        else:
            peers.append("node")
    opts.postgres_db = None
    if opts.postgres and not opts.url and any(s in POSTGRES_SCENARIOS for s in plan):
        opts.postgres_db = start_postgres(progress)
    try:
        for rep in range(opts.repeat):
            for scenario in plan:
                # The bare baseline and the Node peer have no store to search.
                kinds = ["chat"] if scenario == "search" else \
                    (["bare", "chat"] if opts.baseline else ["chat"]) + peers
                if opts.postgres_db and scenario in POSTGRES_SCENARIOS:
                    kinds.append("chat-pg")
                for kind in kinds if rep % 2 == 0 else kinds[::-1]:
                    progress("run %d/%d  %-15s %-7s ..."
                             % (rep + 1, opts.repeat, scenario, kind))
                    result = run_one(opts, kind, scenario)
                    runs.append({"repeat": rep, "scenario": scenario, "kind": kind,
                                 "result": result})
                    progress("    %s" % _brief(result))
    finally:
        if opts.postgres_db:
            opts.postgres_db.close()
    return runs


def _brief(result):
    if "error" in result:
        return "ERROR " + result["error"][:300]
    if "steps" in result:
        return "; ".join("%g/s: %.0f deliv/s p99 %s ms (%.0f%%) cpu %s, %s us/deliv"
                         % (r["rate"], r["delivered_per_s"], _fmt(r["p99_ms"]),
                            100 * (r["complete"] or 0), _fmt(r.get("server_cpu")),
                            _fmt(r.get("cpu_us_per_delivery")))
                         for r in result["steps"])
    keys = [k for k in ("acks_per_s", "ack_p99_ms", "connect_s", "kb_per_conn", "failed",
                        "search_p50_ms", "search_p99_ms", "index_s", "stall_ms",
                        "hub_lag_max_ms", "server_cpu", "cpu_us_per_ack") if k in result]
    return ", ".join("%s=%s" % (k, _fmt(result[k])) for k in keys)


def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return "%.1f" % v
    return str(v)
