"""The moderation Python API in one process without Redis (the control channel's local
form): chat.kick and chat.disconnect_user count this process's connections, chat.mute
and chat.muted_until work, as the HTTP API and embedders call them."""

import json
import subprocess
import sys
import time

import pytest

from support import Client, env_for, timeout

# Serves create_app on a free port; each stdin line is a JSON [method, args...] for
# app.chat, answered by one JSON line on stdout.
SCRIPT = """
from gevent import monkey; monkey.patch_all()
import json, sys
import gevent, gevent.fileobject
from realtime import create_app, Config
from realtime.server import Server
app = create_app(Config(store="memory://", rate="0"))
server = Server(("127.0.0.1", 0), app)
server.start()
print("listening on http://127.0.0.1:%d" % server.server_port, flush=True)
for line in gevent.fileobject.FileObjectThread(sys.stdin):
    method, *args = json.loads(line)
    try:
        result = {"result": getattr(app.chat, method)(*args)}
    except Exception as exc:
        result = {"error": "%s: %s" % (type(exc).__name__, exc)}
    print(json.dumps(result), flush=True)
"""


class Process:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", SCRIPT], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env_for())
        line = self.proc.stdout.readline()
        assert line.startswith("listening on "), line
        self.url = line.split()[-1]

    def call(self, method, *args):
        self.proc.stdin.write(json.dumps([method, *args]) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout(5))


@pytest.fixture(scope="module")
def process():
    p = Process()
    yield p
    p.kill()


def test_kick_and_disconnect_count_this_process(process, room):
    """kick returns 2 for two tabs in the room and they get kicked (by null);
    disconnect_user returns 3 for three tabs and closes each."""
    tabs = [Client(process.url, "eve", transport="polling") for _ in range(3)]
    bob = Client(process.url, "bob", transport="polling")
    try:
        for t in tabs[:2] + [bob]:
            assert t.call("join", {"room": room})["ok"]
        assert process.call("kick", room, "eve", None) == {"result": 2}
        for t in tabs[:2]:
            assert t.wait_for("kicked") == {"room": room, "by": None}
        assert bob.wait_for("presence", lambda p: p["event"] == "leave")["name"] == "eve"
        assert process.call("disconnect_user", "eve") == {"result": 3}
        deadline = time.monotonic() + timeout(5)
        while any(t.sio.connected for t in tabs) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(t.sio.connected for t in tabs)
        assert process.call("disconnect_user", "eve") == {"result": 0}
        assert bob.call("rooms")["rooms"] == [{"room": room, "members": 1}]
    finally:
        for c in tabs + [bob]:
            c.disconnect()


def test_mute_and_muted_until(process, room):
    """mute returns until and the person is refused; muted_until reports it; a bad
    number of seconds raises the rule's sentence."""
    eve = Client(process.url, "eve", transport="polling")
    try:
        assert eve.call("join", {"room": room})["ok"]
        until = process.call("mute", room, "eve", 60, "api")["result"]
        assert process.call("muted_until", room, "eve") == {"result": until}
        assert eve.call("message", {"room": room, "text": "x"}) == {
            "ok": False, "error": "you are muted in %s" % room}
        assert process.call("mute", room, "eve", 2592001, None) == {
            "error": "Invalid: seconds must be between 0 and 2592000 (30 days)."}
        assert process.call("mute", room, "eve", 0, None) == {"result": 0}
        assert process.call("muted_until", room, "eve") == {"result": 0}
        assert eve.call("message", {"room": room, "text": "x"})["ok"]
    finally:
        eve.disconnect()
