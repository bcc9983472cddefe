"""Test support for deployments: a real redis-server and gunicorn from the Procfile.

    with RedisServer() as redis_url: ...           # redis-server on a free port
    srv = GunicornProcess(env={...}).start()       # the Procfile's web: line
"""

import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import requests

from support import ROOT, env_for, timeout

REDIS_BIN = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """``redis-server`` on a free port (persistent with ``persist=True``); ``restart()`` keeps the port."""

    def __init__(self, persist=False):
        self.persist = persist      # appendonly + fsync always: data survives restart()
        self.dir = tempfile.mkdtemp(prefix="realtime-redis-")
        self.port = free_port()
        self.url = "redis://127.0.0.1:%d/0" % self.port
        self.proc = None

    def start(self):
        log = open(os.path.join(self.dir, "redis.log"), "ab")
        self.proc = subprocess.Popen(
            [REDIS_BIN, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes" if self.persist else "no", "--appendfsync", "always",
             "--dir", self.dir],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        import redis
        deadline = time.monotonic() + timeout(10)
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return self
            except redis.RedisError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.02)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout(5))

    def restart(self):
        self.stop()
        return self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def procfile_command(port, path=os.path.join(ROOT, "Procfile")):
    """The Procfile's ``web:`` line as argv, ``$PORT`` replaced by ``port``."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("web:"):
                words = shlex.split(line[len("web:"):])
                return [w.replace("$PORT", str(port)).replace("${PORT}", str(port))
                        for w in words]
    raise AssertionError("no web: line in the Procfile")


class GunicornProcess:
    """gunicorn exactly as the Procfile says, on a free port, logs to a file.

    ``replace`` swaps argv words (e.g. the worker class) to build a broken
    set-up on purpose; ``extra`` appends flags.  ``--no-control-socket``
    is always added: parallel gunicorns would share ``~/.gunicorn/gunicorn.ctl``.
    """

    def __init__(self, env=None, replace=None, extra=(), store=None):
        self.dir = tempfile.mkdtemp(prefix="realtime-gunicorn-")
        self.env = {"REALTIME_STORE": store or "sqlite:///" + os.path.join(self.dir, "chat.db"),
                    "REALTIME_RATE": "0"}
        self.env.update(env or {})
        self.replace = replace or {}
        self.extra = list(extra)
        self.log_path = os.path.join(self.dir, "gunicorn.log")
        self.proc = None
        self.port = None
        self.url = None

    def command(self):
        argv = procfile_command(self.port)
        argv = [self.replace.get(w, w) for w in argv]
        if shutil.which(argv[0]) is None and argv[0] == "gunicorn":
            argv = [os.path.join(os.path.dirname(os.path.realpath(
                __import__("sys").executable)), "gunicorn")] + argv[1:]
        return argv + ["--no-control-socket"] + self.extra

    def start(self, wait_healthy=True):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        env = env_for(dict(self.env, PORT=str(self.port)))
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                     cwd=self.dir, env=env)
        log.close()
        deadline = time.monotonic() + timeout(20)
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + self.log())
            try:
                r = requests.get(self.url + "/healthz", timeout=timeout(1))
                if not wait_healthy or r.status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("gunicorn did not answer:\n" + self.log())
            time.sleep(0.05)

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_log(self, text, units=5):
        """Wait until ``text`` appears in the log; return the log."""
        deadline = time.monotonic() + timeout(units)
        while text not in self.log():
            if time.monotonic() > deadline:
                raise AssertionError("%r not in the log:\n%s" % (text, self.log()))
            time.sleep(0.05)
        return self.log()

    def stop(self, sig=signal.SIGTERM, units=30):
        """Signal gunicorn and wait; return the exit code."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                return self.proc.wait(timeout(units))
            except subprocess.TimeoutExpired:
                self.kill()
                raise
        return self.proc.returncode if self.proc else None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            # gunicorn's worker is its child: SIGINT stops both within a second.
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout(5))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout(5))
