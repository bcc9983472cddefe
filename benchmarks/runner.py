"""Run the scenarios against the chat server and the bare baseline.

:func:`run` starts each server under test itself (a fresh process per
scenario run, so memory figures start clean), drives it with generator
processes (:mod:`benchmarks.worker`) and returns raw figures per run;
:mod:`benchmarks.report` turns them into medians, ratios and a table.
"""

import math
import multiprocessing
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from array import array

from . import worker

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PER_PROCESS = 7000          # idle connections per generator process (fd limit 20,000)


class BenchError(Exception):
    pass


def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(math.ceil(q / 100.0 * len(values))) - 1))
    return values[k]


def _unpack(blob):
    out = array("d")
    out.frombytes(blob)
    return out


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise BenchError("no VmRSS for pid %d" % pid)


def cpu_s(pid):
    """User + system CPU seconds of a process (and its threads) so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _raise_nofile():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# -- servers under test ------------------------------------------------------

class Server:
    """A server subprocess that prints ``listening on http://HOST:PORT`` first."""

    def __init__(self, kind, cpus=None, extra_args=()):
        self.kind = kind
        self.cpus = cpus
        self.dir = tempfile.mkdtemp(prefix="realtime-bench-")
        self.log_path = os.path.join(self.dir, "server.log")
        if kind == "chat":
            self.cmd = [sys.executable, "-m", "realtime", "serve", "--host", "127.0.0.1",
                        "--port", "0", "--rate", "0", "--log-level", "warning",
                        "--store", "sqlite:///" + os.path.join(self.dir, "chat.db")]
            # Every client comes from 127.0.0.1: the per-address flood limits,
            # the connection cap and the slow-reader cap would measure themselves.
            self.cmd += ["--address-rate", "0", "--join-rate", "0",
                         "--address-join-rate", "0", "--connect-rate", "0",
                         "--max-conns-per-address", "0", "--max-conns", "0",
                         "--packet-rate", "0", "--max-queue", "0"]
        elif kind == "bare":
            self.cmd = [sys.executable, "-m", "benchmarks.bare", "--port", "0"]
        else:
            raise ValueError(kind)
        self.cmd += list(extra_args)
        self.proc = None
        self.host = self.port = None

    def start(self, wait=30.0):
        env = dict(os.environ)
        env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
        env["PYTHONUNBUFFERED"] = "1"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=log,
                                         env=env, cwd=self.dir, preexec_fn=_raise_nofile)
        if self.cpus:
            os.sched_setaffinity(self.proc.pid, self.cpus)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(raw.decode().strip())
                                         for raw in self.proc.stdout],
                         daemon=True).start()
        try:
            line = lines.get(timeout=wait)
        except queue.Empty:
            self.stop()
            raise BenchError("%s server did not start: %s" % (self.kind, self.log()))
        if not line.startswith("listening on http://"):
            self.stop()
            raise BenchError("%s server said %r: %s" % (self.kind, line, self.log()))
        url = urllib.parse.urlsplit(line.split()[-1])
        self.host, self.port = url.hostname, url.port
        return self

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except (subprocess.TimeoutExpired, KeyboardInterrupt):
                self.proc.kill()      # never leave a server behind
                self.proc.wait(5)


class Remote:
    """A server already running at ``--url`` (optionally with ``--server-pid``)."""

    def __init__(self, url, pid=None):
        parts = urllib.parse.urlsplit(url)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise BenchError("--url must be a loopback address, got %s" % parts.hostname)
        self.kind = "chat"
        self.host, self.port = parts.hostname, parts.port or 80
        self.remote_pid = pid

    def start(self):
        return self

    @property
    def pid(self):
        return self.remote_pid

    def stop(self):
        pass


# -- generator processes -----------------------------------------------------

class Workers:
    """A set of worker processes sharing one role."""

    def __init__(self, ctx, server, role, count, cpus=None):
        self.procs, self.pipes = [], []
        for _ in range(count):
            parent, child = ctx.Pipe()
            spec = {"host": server.host, "port": server.port, "role": role}
            p = ctx.Process(target=worker.main, args=(child, spec), daemon=True)
            p.start()
            child.close()
            if cpus:
                os.sched_setaffinity(p.pid, cpus)
            self.procs.append(p)
            self.pipes.append(parent)

    def ask(self, cmds, timeout):
        """Send one command per worker (or the same to all); return the replies."""
        if isinstance(cmds, dict):
            cmds = [cmds] * len(self.pipes)
        for pipe, cmd in zip(self.pipes, cmds):
            pipe.send(cmd)
        replies = []
        deadline = time.monotonic() + timeout
        for pipe, proc in zip(self.pipes, self.procs):
            while not pipe.poll(0.2):
                if time.monotonic() > deadline:
                    raise BenchError("worker %s timed out on %s" % (proc.pid, cmds[0]["op"]))
                if not proc.is_alive():
                    raise BenchError("worker %s died (exit %s)" % (proc.pid, proc.exitcode))
            reply = pipe.recv()
            if "error" in reply and reply["error"] and cmds[0]["op"] != "run":
                raise BenchError("worker: %s" % reply["error"])
            replies.append(reply)
        return replies

    def stop(self):
        for pipe in self.pipes:
            try:
                pipe.send({"op": "stop"})
            except (OSError, BrokenPipeError):
                pass
        deadline = time.monotonic() + 20
        for p in self.procs:
            p.join(max(0.1, deadline - time.monotonic()))
            if p.is_alive():
                p.terminate()
                p.join(2)


def _split(items, parts):
    return [items[i::parts] for i in range(parts)]


class Session:
    """Generator processes around one server; stops everything on exit."""

    def __init__(self, opts, server):
        self.opts = opts
        self.server = server
        self.ctx = multiprocessing.get_context("spawn")
        self.groups = []

    def workers(self, role, count):
        w = Workers(self.ctx, self.server, role, count, self.opts.gen_cpus)
        self.groups.append(w)
        return w

    def __enter__(self):
        self.clock = self.workers("clock", 1)
        self.clock.ask({"op": "setup"}, 30)
        return self

    def mark(self):
        if self.opts.profile and getattr(self.opts, "spy", None) is None:
            self.opts.spy = self.opts.start_profile()
            time.sleep(0.3)           # py-spy attaches
        self.clock.ask({"op": "mark"}, 10)
        self.marked = time.monotonic()
        self.cpu0 = cpu_s(self.server.pid) if self.server.pid else None

    def stall(self):
        """Longest /clock tick gap since mark(), and the server's CPU use."""
        gap = self.clock.ask({"op": "collect"}, 10)[0]["max_gap"]
        out = {"tick_gap_ms": gap * 1000.0, "stall_ms": max(0.0, gap - 1.0) * 1000.0}
        if self.cpu0 is not None:
            out["server_cpu_s"] = cpu_s(self.server.pid) - self.cpu0
            out["server_cpu"] = out["server_cpu_s"] / (time.monotonic() - self.marked)
        return out

    def __exit__(self, *exc):
        for w in reversed(self.groups):
            w.stop()


# -- scenarios -----------------------------------------------------------------

def message_path(opts, server, window):
    """Scenario 1: ``opts.senders`` connections posting with ``window`` acks outstanding."""
    with Session(opts, server) as s:
        ids = list(range(opts.senders))
        parts = _split(ids, min(opts.procs, len(ids)))
        w = s.workers("senders", len(parts))
        w.ask([{"op": "setup", "ids": p} for p in parts], 120)
        s.mark()
        t0 = time.monotonic() + 0.5
        replies = w.ask([{"op": "run", "ids": p, "t0": t0, "duration": opts.duration,
                          "warm": opts.warm, "window": window, "cid": opts.cid}
                         for p in parts],
                        opts.duration + 30)
        stall = s.stall()
    for r in replies:
        if r.get("error"):
            raise BenchError(r["error"])
    lat = [x for r in replies for x in _unpack(r["lat"])]
    acks = sum(r["acks"] for r in replies)
    seconds = opts.duration - opts.warm
    out = {"acks_per_s": acks / seconds, "ack_p50_ms": _ms(percentile(lat, 50)),
           "ack_p99_ms": _ms(percentile(lat, 99)),
           "failed_acks": sum(r["failed"] for r in replies),
           "first_failure": next((r["first_failure"] for r in replies if r["first_failure"]),
                                 None),
           "unanswered": sum(r["unanswered"] for r in replies),
           "outstanding": window * opts.senders}
    out.update(stall)
    total = sum(r["all_acks"] for r in replies)
    if "server_cpu_s" in out and total:
        out["cpu_us_per_ack"] = out["server_cpu_s"] / total * 1e6
    return out


def _ms(seconds):
    return None if seconds is None else seconds * 1000.0


def fan_out(opts, server):
    """Scenario 2: ``opts.members`` in one room, one sender at each rate in turn."""
    room = "fan"
    receivers = opts.members - 1           # the sender is a member too
    steps = []
    with Session(opts, server) as s:
        ids = list(range(receivers))
        parts = _split(ids, opts.procs)
        members = s.workers("members", len(parts))
        members.ask([{"op": "setup", "ids": p, "room": room} for p in parts], 300)
        sender = s.workers("fan_sender", 1)
        sender.ask({"op": "setup", "room": room}, 60)
        # Each join sent a presence event to the whole room: let that flood
        # drain before measuring, or the first rate measures the backlog.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if min(r["idle"] for r in members.ask({"op": "quiet"}, 10)) > 1.0:
                break
            time.sleep(0.5)
        for step, rate in enumerate(opts.rates, 1):
            count = max(1, int(rate * opts.fan_duration))
            members.ask({"op": "run", "step": step}, 30)
            s.mark()
            t0 = time.monotonic() + 0.3
            sent = sender.ask({"op": "run", "step": step, "t0": t0, "rate": rate,
                               "count": count, "room": room}, opts.fan_duration + 60)[0]
            got = members.ask([{"op": "collect", "expect": count * len(p),
                                "wait": opts.drain} for p in parts], opts.drain + 30)
            stall = s.stall()
            lat = [x for r in got for x in _unpack(r["lat"])]
            delivered = sum(r["got"] for r in got)
            expected = count * receivers
            last = max((r["last"] for r in got if r["last"]), default=sent["last"])
            span = max(last - sent["first"], count / rate)
            ack = list(_unpack(sent["ack_lat"]))
            row = {"rate": rate, "delivered_per_s": delivered / span,
                   "offered_per_s": rate * receivers,
                   "complete": delivered / expected if expected else None,
                   "p50_ms": _ms(percentile(lat, 50)), "p99_ms": _ms(percentile(lat, 99)),
                   "ack_p99_ms": _ms(percentile(ack, 99)), "sender_late": sent["late"]}
            row.update(stall)
            if "server_cpu_s" in row and delivered:
                row["cpu_us_per_delivery"] = row["server_cpu_s"] / delivered * 1e6
            steps.append(row)
            if row["complete"] < 0.98 or (row["p99_ms"] or 0) > opts.saturation_ms:
                break                     # saturated: higher rates only queue up
            time.sleep(0.5)
    return {"steps": steps}


def capacity(opts, server, count):
    """Scenario 3: ``count`` idle connections; connect rate and server RSS per connection."""
    with Session(opts, server) as s:
        nprocs = max(opts.procs, int(math.ceil(count / PER_PROCESS)))
        parts = _split(list(range(count)), nprocs)
        w = s.workers("idle", nprocs)
        w.ask({"op": "setup"}, 30)
        time.sleep(0.5)
        before = rss_kb(server.pid) if server.pid else None
        s.mark()
        t0 = time.monotonic() + 0.3
        replies = w.ask([{"op": "run", "ids": p, "t0": t0, "concurrency": opts.concurrency}
                         for p in parts], 180)
        stall = s.stall()
        time.sleep(1.0)
        after = rss_kb(server.pid) if server.pid else None
    connected = sum(r["connected"] for r in replies)
    seconds = max(r["last"] for r in replies) - min(r["first"] for r in replies)
    out = {"connections": count, "connected": connected,
           "failed": sum(r["failed"] for r in replies),
           "first_error": next((r["error"] for r in replies if r["error"]), None),
           "connect_s": seconds, "connects_per_s": connected / seconds if seconds else None,
           "rss_before_mb": before / 1024.0 if before else None,
           "rss_after_mb": after / 1024.0 if after else None,
           "kb_per_conn": (after - before) / connected if before and connected else None}
    out.update(stall)
    return out


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
        server = Server(kind, opts.server_cpus,
                        (opts.server_args if kind == "chat" else opts.bare_args).split())
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
    _raise_nofile()
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
