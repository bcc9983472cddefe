"""The processes of a benchmark run: the server under test and the generators.

:class:`Server` starts ``python -m realtime serve`` (or the bare baseline) on
a free port and reads its ``listening on`` line; :class:`Remote` stands for a
server already running at ``--url``; :class:`Workers` is a group of load
generator processes (:mod:`benchmarks.worker`) driven over pipes.
"""

import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from realtime.config import NO_FLOOD_LIMITS

from . import worker
from .worker import raise_nofile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


NODE_DIR = os.path.join(ROOT, "benchmarks", "node")


class BenchError(Exception):
    pass


def node_peer():
    """None when the Node.js peer can run (installing it with ``npm ci`` first
    if needed), else the one-line reason it is skipped."""
    if not shutil.which("node") or not shutil.which("npm"):
        return "node/npm not found: the Node.js socket.io peer is skipped"
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "socket.io")):
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"],
                              cwd=NODE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            return "npm ci in benchmarks/node failed, the Node.js peer is skipped: %s" % (
                done.stdout.decode(errors="replace").strip().splitlines() or ["?"])[-1]
    return None


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


def tree_cpu_s(pid):
    """CPU seconds of ``pid`` and its direct children (PostgreSQL's postmaster and backends)."""
    total = cpu_s(pid)
    for stat in os.listdir("/proc"):
        if stat.isdigit():
            try:
                with open("/proc/%s/stat" % stat) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue                  # a backend that just ended
            if int(fields[1]) == pid:
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


# -- servers under test ------------------------------------------------------

class Server:
    """A server subprocess that prints ``listening on http://HOST:PORT`` first."""

    def __init__(self, kind, cpus=None, extra_args=(), store=None):
        self.kind = kind
        self.cpus = cpus
        self.dir = tempfile.mkdtemp(prefix="realtime-bench-")
        self.log_path = os.path.join(self.dir, "server.log")
        self.store_path = os.path.join(self.dir, "chat.db")
        if kind in ("chat", "chat-pg"):
            # chat-pg: the caller passes a PostgreSQL URL (see runner.Postgres).
            self.cmd = [sys.executable, "-m", "realtime", "serve", "--host", "127.0.0.1",
                        "--port", "0", "--rate", "0", "--log-level", "warning",
                        "--store", store or "sqlite:///" + self.store_path]
            # Every client comes from 127.0.0.1: the per-address flood limits,
            # the connection cap and the slow-reader cap would measure themselves.
            self.cmd += NO_FLOOD_LIMITS
        elif kind == "bare":
            self.cmd = [sys.executable, "-m", "benchmarks.bare", "--port", "0"]
        elif kind == "node":
            self.cmd = ["node", os.path.join(NODE_DIR, "server.js"), "--port", "0"]
        else:
            raise ValueError(kind)
        self.cmd += list(extra_args)
        self.proc = None
        self.host = self.port = None
        self.db_pid = None            # chat-pg: PostgreSQL's postmaster, for its CPU

    def start(self, wait=30.0):
        env = dict(os.environ)
        env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
        env["PYTHONUNBUFFERED"] = "1"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=log,
                                         env=env, cwd=self.dir, preexec_fn=raise_nofile)
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
