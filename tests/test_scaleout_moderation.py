"""Moderation across processes behind one real Redis: kick and mute from a connection
on one process reach connections on another; the Python API (chat.kick,
chat.disconnect_user, chat.mute) run from a process holding no connection counts
every process's; a silent process bounds the wait; mutes survive restarting every
process."""

import json
import subprocess
import sys
import threading
import time

import pytest
import redis

from realtime import auth
from support import Client, ServerProcess, env_for, timeout
from support_deploy import RedisServer

SECRET = "scaleout-moderation-secret"

# A process of the deployment with no connections, as the HTTP API or an embedder
# calls the chat: prints the result of one API call as JSON.
API = """
from gevent import monkey; monkey.patch_all()
import json, sys, time
from realtime import create_app, Config
url, call, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
app = create_app(Config(redis=url, store=url, secret="x"))
started = time.monotonic()
result = getattr(app.chat, call)(*args)
print(json.dumps({"result": result, "seconds": time.monotonic() - started}))
app.close()
"""


def api(redis_url, call, *args):
    out = subprocess.run([sys.executable, "-c", API, redis_url, call, json.dumps(args)],
                         env=env_for(), capture_output=True, text=True, timeout=timeout(20))
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def redis_server():
    with RedisServer() as r:
        yield r


@pytest.fixture(scope="module")
def cluster(redis_server):
    servers = [ServerProcess(["--secret", SECRET, "--redis", redis_server.url],
                             store=redis_server.url).start() for _ in range(2)]
    yield servers
    for s in servers:
        s.kill()


@pytest.fixture
def person():
    made = []

    def make(server, name, role="member", transport="websocket", room=None):
        c = Client(server.url, auth={"name": name,
                                     "token": auth.issue(SECRET, name, 3600, role=role)},
                   transport=transport)
        made.append(c)
        if room is not None:
            assert c.call("join", {"room": room})["ok"]
        return c
    yield make
    for c in made:
        c.disconnect()


def test_kick_reaches_connections_on_every_process(cluster, person, room):
    """A kick sent to process A removes eve's tabs on A and B and counts both; bob on
    B hears one presence leave."""
    mod = person(cluster[0], "mod", "moderator", room=room)
    eve_a = person(cluster[0], "eve", room=room)
    eve_b = person(cluster[1], "eve", transport="polling", room=room)
    bob = person(cluster[1], "bob", room=room)
    ack = mod.call("kick", {"room": room, "name": "eve"})
    assert ack == {"ok": True, "room": room, "name": "eve", "connections": 2}
    for eve in (eve_a, eve_b):
        assert eve.wait_for("kicked") == {"room": room, "by": "mod"}
    leave = {"room": room, "name": "eve", "event": "leave", "count": 2}
    assert bob.wait_for("presence", lambda p: p["event"] == "leave") == leave
    assert mod.call("join", {"room": room})["members"] == ["bob", "mod"]
    assert eve_b.call("join", {"room": room})["ok"]     # not a ban, on any process


def test_mute_holds_on_every_process_once_acked(cluster, person, room):
    """Muted through A, eve's message on B is refused right after the ack; lifted
    through B, she posts on A right after that ack."""
    mod_a = person(cluster[0], "mod", "moderator", room=room)
    mod_b = person(cluster[1], "mod", "moderator", room=room)
    eve_a = person(cluster[0], "eve", room=room)
    eve_b = person(cluster[1], "eve", room=room)
    until = mod_a.call("mute", {"room": room, "name": "eve", "seconds": 600})["until"]
    assert eve_b.call("message", {"room": room, "text": "x"}) == {
        "ok": False, "error": "you are muted in %s" % room}
    assert eve_b.wait_for("muted") == {"room": room, "until": until, "by": "mod"}
    assert mod_b.call("mute", {"room": room, "name": "eve", "seconds": 0})["until"] == 0
    assert eve_a.call("message", {"room": room, "text": "free"})["ok"]


def test_python_api_counts_across_processes(cluster, redis_server, person, room):
    """chat.kick and chat.disconnect_user from a process with no connections count
    the connections of both others, which are kicked and then disconnected."""
    eve_a = person(cluster[0], "eve", room=room)
    eve_b = person(cluster[1], "eve", transport="polling", room=room)
    other = person(cluster[1], "bob", room=room)
    done = api(redis_server.url, "kick", room, "eve", None)
    assert done["result"] == 2
    for eve in (eve_a, eve_b):
        assert eve.wait_for("kicked") == {"room": room, "by": None}
    assert api(redis_server.url, "disconnect_user", "eve")["result"] == 2
    deadline = time.monotonic() + timeout(5)
    while (eve_a.sio.connected or eve_b.sio.connected) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not eve_a.sio.connected and not eve_b.sio.connected
    assert other.sio.connected and other.call("rooms")["ok"]
    assert api(redis_server.url, "disconnect_user", "eve")["result"] == 0


def test_python_api_mute_reaches_running_processes(cluster, redis_server, person, room):
    """chat.mute from another process is enforced by the running ones at once."""
    eve = person(cluster[1], "eve", room=room)
    until = api(redis_server.url, "mute", room, "eve", 60, None)["result"]
    assert until > 0
    assert eve.call("message", {"room": room, "text": "x"}) == {
        "ok": False, "error": "you are muted in %s" % room}
    assert eve.wait_for("muted") == {"room": room, "until": until, "by": None}
    assert api(redis_server.url, "muted_until", room, "eve")["result"] == until
    assert api(redis_server.url, "mute", room, "eve", 0, None)["result"] == 0
    assert eve.call("message", {"room": room, "text": "x"})["ok"]


def test_a_silent_process_bounds_the_wait(cluster, redis_server, person, room):
    """A subscriber that never answers (a hung process) costs the bounded wait, and
    the count still holds every live process's connections."""
    silent = redis.Redis.from_url(redis_server.url).pubsub()
    silent.subscribe("rt:ctl")
    stop = threading.Event()

    def drain():
        while not stop.is_set():
            silent.get_message(timeout=0.1)
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        person(cluster[0], "eve", room=room)
        person(cluster[1], "eve", room=room)
        done = api(redis_server.url, "kick", room, "eve", "mod")
        assert done["result"] == 2
        assert 1.5 <= done["seconds"] < 2 + timeout(2)
    finally:
        stop.set()
        reader.join(timeout(2))
        silent.close()


@pytest.mark.parametrize("store", ["redis", "postgresql"])
def test_mutes_survive_restarting_every_process(redis_server, person, room, store, request):
    """Both processes killed (-9) and started again still refuse the muted person,
    with the Redis store and with PostgreSQL."""
    url = redis_server.url if store == "redis" else request.getfixturevalue("postgres_url")
    servers = [ServerProcess(["--secret", SECRET, "--redis", redis_server.url],
                             store=url).start() for _ in range(2)]
    try:
        mod = person(servers[0], "mod", "moderator", room=room)
        assert mod.call("mute", {"room": room, "name": "eve", "seconds": 600})["ok"]
        for s in servers:
            s.kill()
        for s in servers:
            s.restart()
        for s in servers:
            eve = person(s, "eve", room=room)
            assert eve.call("message", {"room": room, "text": "x"}) == {
                "ok": False, "error": "you are muted in %s" % room}
    finally:
        for s in servers:
            s.kill()


def test_control_channel_answers_and_ignores_garbage(cluster, redis_server, person, room):
    """Each process answers a request on the requester's inbox with its count; a
    malformed message or an unknown command changes nothing and counts 0."""
    eve = person(cluster[1], "eve", room=room)
    r = redis.Redis.from_url(redis_server.url, decode_responses=True)
    inbox = r.pubsub(ignore_subscribe_messages=True)
    inbox.subscribe("rt:ctl:test-requester")
    try:
        r.publish("rt:ctl", "not json")
        r.publish("rt:ctl", json.dumps({"id": "q1", "from": "test-requester",
                                        "cmd": {"op": "bogus", "name": "eve"}}))
        assert r.publish("rt:ctl", json.dumps({
            "id": "q2", "from": "test-requester",
            "cmd": {"op": "kick", "room": room, "name": "eve", "by": "script"}})) == 2
        replies = {}
        deadline = time.monotonic() + timeout(5)
        while len(replies) < 4 and time.monotonic() < deadline:
            message = inbox.get_message(timeout=0.1)
            if message:
                reply = json.loads(message["data"])
                replies.setdefault(reply["id"], []).append(reply["count"])
        assert sorted(replies["q1"]) == [0, 0]
        assert sorted(replies["q2"]) == [0, 1]
        assert eve.wait_for("kicked") == {"room": room, "by": "script"}
        assert eve.sio.connected
    finally:
        inbox.close()
        r.close()
