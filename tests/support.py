"""Test support: the real server as a subprocess and recording Socket.IO clients.

Timeouts scale from one unit (``REALTIME_TEST_UNIT`` seconds, default 1) so a
slow machine stretches them instead of failing.
"""

import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time

import socketio

from realtime.config import NO_FLOOD_LIMITS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNIT = float(os.environ.get("REALTIME_TEST_UNIT", "1"))


def timeout(units=5):
    """A bounded wait: ``units`` times the test unit, in seconds."""
    return units * UNIT


def env_for(extra=None):
    """Environment for a server subprocess running this checkout's code."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REALTIME_")}
    env.pop("PORT", None)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def interrupt(proc, units=15):
    """SIGINT a process and wait for it; SIGKILL it if it outlives the wait."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout(units))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

def die_with_parent():
    """In a child before exec: get SIGKILL when the test process dies (Linux)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class ServerProcess:
    """``python -m realtime serve`` on a free port, logs to a file.

    ``args`` are extra command-line flags; by default the store is a fresh
    SQLite file and the rate limit is off.  ``defaults=True`` keeps every
    flood limit at its shipped default (and ``--rate`` at ``20/10``).
    """

    def __init__(self, args=(), env=None, store=None, rate="0", cwd=None, command=None,
                 defaults=False):
        self.dir = tempfile.mkdtemp(prefix="realtime-test-")
        self.store = store or "sqlite:///" + os.path.join(self.dir, "chat.db")
        self.args = list(args)
        self.env = env or {}
        self.rate = rate
        self.cwd = cwd or self.dir
        self.command = command
        self.defaults = defaults
        self.proc = None
        self.url = None
        self.port = None
        self.log_path = os.path.join(self.dir, "server.log")
        self.starts = 0

    def start(self, port=0):
        cmd = self.command or [sys.executable, "-m", "realtime", "serve"]
        # Every test client comes from 127.0.0.1, so the per-address flood
        # limits are off unless a test passes its own flags (later flags win).
        limits = [] if self.defaults else ["--rate", self.rate, *NO_FLOOD_LIMITS]
        cmd = cmd + ["--host", "127.0.0.1", "--port", str(port), "--store", self.store,
                     *limits, *self.args]
        self.starts += 1
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, cwd=self.cwd,
                                     env=env_for(self.env), preexec_fn=die_with_parent)
        log.close()
        lines = queue.Queue()
        threading.Thread(target=self._read, args=(self.proc.stdout, lines), daemon=True).start()
        try:
            line = lines.get(timeout=timeout(20))
        except queue.Empty:
            self.kill()
            raise RuntimeError("server did not start:\n" + self.log())
        if not line.startswith("listening on http://"):
            self.kill()
            raise RuntimeError("unexpected first line %r:\n%s" % (line, self.log()))
        self.url = line.split()[-1]
        self.port = int(self.url.rsplit(":", 1)[1])
        return self

    @staticmethod
    def _read(stream, lines):
        for raw in stream:
            lines.put(raw.decode("utf-8", "replace").strip())

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def kill(self):
        """SIGKILL: a crash, nothing flushed."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout(10))

    def stop(self, sig=signal.SIGINT):
        """A clean stop; returns the exit code."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                return self.proc.wait(timeout(15))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout(5))
                raise
        return self.proc.returncode if self.proc else None

    def restart(self, same_port=True):
        """Start again on the same store (and port, so clients can reconnect)."""
        return self.start(self.port if same_port else 0)


def _ordered(sio):
    """Handle incoming packets in arrival order.

    python-engineio's client runs each received message in a new thread, so a
    test could record a connection's events out of the order the server sent
    them; the contract's ordering is only observable without that.
    """
    eio = sio.eio
    trigger = eio._trigger_event

    def ordered(event, *args, **kwargs):
        if event == "message":
            kwargs["run_async"] = False
        return trigger(event, *args, **kwargs)
    eio._trigger_event = ordered


class Client:
    """A python-socketio client that records every event it receives.

    ::

        c = Client(url, "alice", transport="polling")
        c.call("join", {"room": "lobby"})
        msg = c.wait_for("message", lambda m: m["text"] == "hi")
    """

    def __init__(self, url, name=None, transport="websocket", auth=None, connect=True,
                 namespaces=None, reconnection=False, headers=None, **client_kwargs):
        self.url = url
        self.transport = transport
        self.headers = headers or {}
        self.auth = auth if auth is not None else ({"name": name} if name is not None else None)
        self.namespaces = namespaces or ["/"]
        self.sio = socketio.Client(reconnection=reconnection, **client_kwargs)
        _ordered(self.sio)
        self.received = []
        self._cond = threading.Condition()
        self.sio.on("*", self._record)
        self.sio.on("connect_error", lambda data=None: self._record("connect_error", data))
        for ns in self.namespaces:
            if ns != "/":
                self.sio.on("*", self._record_ns(ns), namespace=ns)
        if connect:
            self.connect()

    def _record(self, event, *args):
        with self._cond:
            self.received.append((event, args[0] if len(args) == 1 else args))
            self._cond.notify_all()

    def _record_ns(self, ns):
        def record(event, *args):
            self._record(ns + ":" + event, *args)
        return record

    def connect(self):
        """Connect; raises socketio.exceptions.ConnectionError when refused."""
        self.sio.connect(self.url, auth=self.auth, transports=[self.transport],
                         namespaces=self.namespaces, headers=self.headers,
                         wait_timeout=timeout(5))
        return self

    def refusal(self):
        """The message of the last connect_error (after a refused connect)."""
        errors = self.events("connect_error")
        return errors[-1].get("message") if errors and isinstance(errors[-1], dict) else errors

    def call(self, event, data=None, namespace="/"):
        args = () if data is None else (data,)
        return self.sio.call(event, *args, namespace=namespace, timeout=timeout(10))

    def emit(self, event, data=None):
        self.sio.emit(event, data)

    def events(self, event):
        with self._cond:
            return [data for name, data in self.received if name == event]

    def wait_for(self, event, predicate=lambda data: True, units=5):
        """The first received ``event`` whose data matches, waiting boundedly."""
        deadline = time.monotonic() + timeout(units)
        with self._cond:
            while True:
                for name, data in self.received:
                    if name == event and predicate(data):
                        return data
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no %r event matching within %.1fs; got %r"
                                         % (event, timeout(units), self.received[-10:]))
                self._cond.wait(left)

    def wait_count(self, event, count, predicate=lambda data: True, units=5):
        """Wait until ``count`` matching events arrived; return them."""
        deadline = time.monotonic() + timeout(units)
        with self._cond:
            while True:
                found = [d for n, d in self.received if n == event and predicate(d)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("%d of %d %r events within %.1fs"
                                         % (len(found), count, event, timeout(units)))
                self._cond.wait(left)

    def quiet(self, event, predicate=lambda data: True, units=0.5):
        """Assert no matching ``event`` arrives within a short wait."""
        time.sleep(timeout(units))
        found = [d for d in self.events(event) if predicate(d)]
        assert not found, "unexpected %r events: %r" % (event, found)

    def disconnect(self):
        try:
            self.sio.disconnect()
        except Exception:
            pass


def assert_round_trip(url, room, text, transport="websocket"):
    """Two clients join ``room``; one posts ``text``, the other gets the stored message."""
    alice = Client(url, "alice", transport=transport)
    bob = Client(url, "bob", transport=transport)
    try:
        alice.call("join", {"room": room})
        bob.call("join", {"room": room})
        ack = alice.call("message", {"room": room, "text": text})
        assert ack["ok"] is True
        assert bob.wait_for("message", lambda m: m["room"] == room) == ack["message"]
    finally:
        alice.disconnect()
        bob.disconnect()
