"""`realtime say` and `realtime listen` against the real server subprocess."""

import json
import queue
import signal
import subprocess
import sys
import threading

import pytest

from support import Client, env_for, timeout

CLI = [sys.executable, "-m", "realtime"]


def run_cli(*args, stdin=None, units=20):
    """Run one `realtime ...` command to completion."""
    return subprocess.run(CLI + [str(a) for a in args], input=stdin, capture_output=True,
                          text=True, env=env_for(), timeout=timeout(units))


class Listener:
    """`realtime listen ...` in the background; its JSON lines on a queue."""

    def __init__(self, *args):
        self.proc = subprocess.Popen(CLI + ["listen"] + [str(a) for a in args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env_for())
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)

    def next(self, units=10):
        try:
            return json.loads(self.lines.get(timeout=timeout(units)))
        except queue.Empty:
            raise AssertionError("listen printed nothing; stderr: %s" % self.stop()[1])

    def nothing(self, units=0.5):
        with pytest.raises(queue.Empty):
            self.lines.get(timeout=timeout(units))

    def stop(self):
        """SIGINT; return (exit code, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(timeout(10))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("listen did not stop on SIGINT")
        return code, self.proc.stderr.read()


@pytest.fixture
def listeners():
    started = []

    def start(*args):
        lst = Listener(*args)
        started.append(lst)
        return lst
    yield start
    for lst in started:
        if lst.proc.poll() is None:
            lst.proc.kill()
            lst.proc.wait()


def wait_joined(client, room, name):
    """Wait until `name` is in `room` (the listener's join reached the server)."""
    client.wait_for("presence", lambda p: p["room"] == room and p["name"] == name
                    and p["event"] == "join", units=10)


def test_say_prints_stored_message_as_json(server, room):
    """say posts the text and prints the stored message object on stdout."""
    watcher = Client(server.url, "watcher")
    watcher.call("join", {"room": room})
    result = run_cli("say", "--url", server.url, "--name", "alice", "--room", room,
                     "hello", "there")
    assert result.returncode == 0, result.stderr
    msg = json.loads(result.stdout)
    assert set(msg) == {"id", "room", "name", "text", "ts"}
    assert (msg["room"], msg["name"], msg["text"]) == (room, "alice", "hello there")
    assert watcher.wait_for("message", lambda m: m["room"] == room) == msg
    watcher.disconnect()


def test_say_over_polling(server, room):
    """say works with the long-polling transport forced."""
    result = run_cli("say", "--url", server.url, "--name", "bob", "--room", room,
                     "--transport", "polling", "via polling")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["text"] == "via polling"


def test_say_same_cid_is_stored_once(server, room):
    """Two says with the same --cid print the same stored message."""
    args = ("say", "--url", server.url, "--name", "carol", "--room", room, "--cid", "c-1")
    first = run_cli(*args, "once")
    second = run_cli(*args, "once")
    assert first.returncode == second.returncode == 0
    assert json.loads(first.stdout) == json.loads(second.stdout)


def test_say_failure_ack_exits_1(server):
    """A failure ack (bad room name) exits 1 with the server's sentence on stderr."""
    result = run_cli("say", "--url", server.url, "--name", "dan", "--room", "no spaces", "hi")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "room must be" in result.stderr


def test_say_refused_connection_exits_1(server_factory, room):
    """Without a token on a server with a secret, say exits 1 and says why."""
    srv = server_factory(env={"REALTIME_SECRET": "s3cret-for-tests"})
    result = run_cli("say", "--url", srv.url, "--name", "eve", "--room", room, "hi")
    assert result.returncode == 1
    assert "connection refused" in result.stderr and "token" in result.stderr


def test_say_token_from_stdin(server_factory, room):
    """`--token -` reads the token printed by `realtime token` from stdin."""
    secret = {"REALTIME_SECRET": "s3cret-for-tests"}
    srv = server_factory(env=secret)
    token = subprocess.run(CLI + ["token", "frank"], capture_output=True, text=True,
                           env=env_for(secret), timeout=timeout(20)).stdout
    result = run_cli("say", "--url", srv.url, "--name", "frank", "--room", room,
                     "--token", "-", "signed", stdin=token)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["name"] == "frank"


def test_say_unreachable_server_exits_1():
    """A server that is not there exits 1 with a message, not a traceback."""
    result = run_cli("say", "--url", "http://127.0.0.1:9", "--name", "gus", "--room", "lobby",
                     "--timeout", "2", "hi")
    assert result.returncode == 1
    assert "cannot connect" in result.stderr and "Traceback" not in result.stderr


def test_say_usage_error_exits_2(server):
    """A missing argument is a usage error: exit 2."""
    result = run_cli("say", "--url", server.url, "--name", "hal", "hi")
    assert result.returncode == 2
    assert "--room" in result.stderr


def test_listen_prints_live_messages_as_json_lines(server, room, listeners, transport):
    """listen prints each new message of the room as one JSON line, on either transport."""
    watcher = Client(server.url, "watcher")
    watcher.call("join", {"room": room})
    lst = listeners("--url", server.url, "--name", "log", "--room", room,
                    "--transport", transport)
    wait_joined(watcher, room, "log")
    stored = [watcher.call("message", {"room": room, "text": "m%d" % i})["message"]
              for i in range(3)]
    assert [lst.next() for _ in range(3)] == stored
    watcher.disconnect()


def test_listen_sigint_exits_0_quietly(server, room, listeners):
    """SIGINT stops listen with exit code 0 and nothing on stderr."""
    watcher = Client(server.url, "watcher")
    watcher.call("join", {"room": room})
    lst = listeners("--url", server.url, "--name", "log", "--room", room)
    wait_joined(watcher, room, "log")
    assert lst.stop() == (0, "")
    watcher.disconnect()


def test_listen_since_replays_then_follows(server, room, listeners):
    """--since prints every stored message after ID, then live ones."""
    poster = Client(server.url, "poster")
    poster.call("join", {"room": room})
    old = [poster.call("message", {"room": room, "text": "old%d" % i})["message"]
           for i in range(3)]
    lst = listeners("--url", server.url, "--name", "log", "--room", room,
                    "--since", old[0]["id"])
    assert [lst.next(), lst.next()] == old[1:]
    new = poster.call("message", {"room": room, "text": "new"})["message"]
    assert lst.next() == new
    poster.disconnect()


def test_listen_refused_exits_1(server, listeners):
    """A bad room makes listen exit 1 with the reason on stderr."""
    lst = listeners("--url", server.url, "--name", "log", "--room", "bad room!")
    assert lst.proc.wait(timeout(20)) == 1
    assert "room must be" in lst.proc.stderr.read()


def test_listen_reconnects_after_restart_without_loss(server_factory, room, listeners):
    """After a server crash and restart, listen replays what it missed, once each."""
    srv = server_factory()
    lst = listeners("--url", srv.url, "--name", "log", "--room", room)
    poster = Client(srv.url, "poster")
    poster.call("join", {"room": room})
    wait_joined(poster, room, "log")
    first = poster.call("message", {"room": room, "text": "before"})["message"]
    assert lst.next() == first
    poster.disconnect()
    srv.kill()
    srv.restart()
    # Posted as soon as the server is back: the listener sees it live or by replay.
    poster = Client(srv.url, "poster")
    poster.call("join", {"room": room})
    after = [poster.call("message", {"room": room, "text": "after%d" % i})["message"]
             for i in range(3)]
    assert [lst.next(units=20) for _ in range(3)] == after
    lst.nothing()
    poster.disconnect()


def test_listen_exits_0_when_reader_closes_pipe(server, room):
    """`listen | head -n 1`: once head is gone, listen exits 0 without a traceback."""
    poster = Client(server.url, "poster")
    poster.call("join", {"room": room})
    listen = subprocess.Popen(CLI + ["listen", "--url", server.url, "--name", "log",
                                     "--room", room],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env_for())
    head = subprocess.Popen(["head", "-n", "1"], stdin=listen.stdout, stdout=subprocess.PIPE,
                            text=True)
    listen.stdout.close()   # head holds the only read end now
    try:
        wait_joined(poster, room, "log")
        poster.call("message", {"room": room, "text": "first"})
        out, _ = head.communicate(timeout=timeout(10))
        assert json.loads(out)["text"] == "first"
        # The next messages make listen write into the closed pipe.
        for i in range(3):
            poster.call("message", {"room": room, "text": "more%d" % i})
        assert listen.wait(timeout(10)) == 0
        assert "Traceback" not in listen.stderr.read()
    finally:
        for proc in (listen, head):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        poster.disconnect()
