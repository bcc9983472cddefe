"""Run the scenarios against the chat server and the bare baseline.

:func:`run` starts each server under test itself (a fresh process per
scenario run, so memory figures start clean), drives it with generator
processes (:mod:`benchmarks.scenarios`) and returns raw figures per run;
:mod:`benchmarks.report` turns them into medians, ratios and a table.
"""

import os
import signal
import subprocess
import time

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


SCENARIOS = ("message", "message500", "fanout", "capacity")


def run_one(opts, kind, scenario):
    """Start a fresh server of ``kind`` and run one scenario against it."""
    if kind == "chat" and opts.url:
        server = Remote(opts.url, opts.server_pid)
    else:
        extra = {"chat": opts.server_args, "bare": opts.bare_args}.get(kind, "")
        server = Server(kind, opts.server_cpus, extra.split())
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
    kinds = ["bare", "chat"] if opts.baseline else ["chat"]
    if opts.node and not opts.url:
        skipped = node_peer()
        if skipped:
            progress(skipped)
        else:
            kinds.append("node")
    for rep in range(opts.repeat):
        for scenario in plan:
            for kind in kinds if rep % 2 == 0 else kinds[::-1]:
                progress("run %d/%d  %-15s %-5s ..." % (rep + 1, opts.repeat, scenario, kind))
                result = run_one(opts, kind, scenario)
                runs.append({"repeat": rep, "scenario": scenario, "kind": kind,
                             "result": result})
                progress("    %s" % _brief(result))
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
                        "stall_ms", "server_cpu", "cpu_us_per_ack") if k in result]
    return ", ".join("%s=%s" % (k, _fmt(result[k])) for k in keys)


def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return "%.1f" % v
    return str(v)
