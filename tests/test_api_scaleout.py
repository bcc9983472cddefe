"""The HTTP API on a process other than the one holding the connections (Redis)."""

import time

import pytest

from support import Client, ServerProcess, timeout
from support_api import KEY, ApiClient
from support_deploy import RedisServer


@pytest.fixture(scope="module")
def pair():
    """Processes A and B behind one redis-server (store and message queue)."""
    with RedisServer() as redis:
        servers = [ServerProcess(["--redis", redis.url, "--presence-ttl", "3",
                                  "--api-key", KEY, "--api-rate", "0"],
                                 store=redis.url).start() for _ in range(2)]
        yield servers
        for srv in servers:
            srv.kill()


@pytest.fixture
def on_a(pair):
    made = []

    def connect(name, *rooms, transport="websocket"):
        c = Client(pair[0].url, name, transport=transport, connect=False)
        # The client's own threads handle events (support._ordered undone),
        # so a server-side disconnect on the read loop does not deadlock it.
        eio = c.sio.eio
        eio._trigger_event = type(eio)._trigger_event.__get__(eio)
        c.connect()
        made.append(c)
        for room in rooms:
            assert c.call("join", {"room": room})["ok"]
        return c
    yield connect
    for c in made:
        c.disconnect()


@pytest.fixture
def api_b(pair):
    client = ApiClient(pair[1].url)
    yield client
    client.close()


def test_post_to_b_reaches_a_client_on_a(on_a, api_b, room):
    """A message posted through B's API is broadcast to a member connected to A."""
    alice = on_a("alice", room)
    status, body = api_b.post("/rooms/%s/messages" % room, {"name": "ci", "text": "green"})
    assert status == 201
    assert alice.wait_for("message", lambda m: m["id"] == body["message"]["id"]) == \
        body["message"]


def test_delete_on_b_updates_a_client_on_a(on_a, api_b, room):
    """A delete through B's API reaches A's member as an update by null."""
    alice = on_a("alice", room)
    mid = alice.call("message", {"room": room, "text": "oops"})["message"]["id"]
    assert api_b.delete("/rooms/%s/messages/%d" % (room, mid))[0] == 200
    upd = alice.wait_for("update", lambda u: u["target"] == mid)
    assert upd["by"] is None and upd["message"]["deleted"] is True


def test_members_and_rooms_on_b_see_a(on_a, api_b, room):
    """GET members and rooms on B list the people connected to A."""
    on_a("alice", room)
    on_a("bob", room)
    assert api_b.get("/rooms/%s/members" % room) == (200, {"room": room,
                                                           "members": ["alice", "bob"]})
    rooms = {r["room"]: r["members"] for r in api_b.get("/rooms")[1]["rooms"]}
    assert rooms[room] == 2


def test_disconnect_on_b_closes_connections_on_a(on_a, api_b, pair, room):
    """POST disconnect on B closes NAME's connections on A and counts them."""
    tabs = [on_a("mallory", room), on_a("mallory", room, transport="polling")]
    other = on_a("trent", room)
    status, body = api_b.post("/users/mallory/disconnect")
    assert (status, body) == (200, {"name": "mallory", "connections": 2})
    deadline = time.monotonic() + timeout(5)
    while any(t.sio.connected for t in tabs) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.sio.connected for t in tabs)
    assert other.sio.connected
    other.wait_for("presence", lambda p: p["name"] == "mallory" and p["event"] == "leave")
    assert api_b.get("/rooms/%s/members" % room)[1]["members"] == ["trent"]


def test_cid_resend_to_the_other_process_is_idempotent(pair, on_a, room):
    """The same name + cid to A then B: one message, B answers 200 and nothing is sent."""
    alice = on_a("alice", room)
    first = ApiClient(pair[0].url).post("/rooms/%s/messages" % room,
                                        {"name": "ci", "text": "x", "cid": "run-1"})
    again = ApiClient(pair[1].url).post("/rooms/%s/messages" % room,
                                        {"name": "ci", "text": "x", "cid": "run-1"})
    assert first[0] == 201 and again == (200, first[1])
    alice.wait_for("message")
    alice.quiet("message", lambda m: m["id"] != first[1]["message"]["id"])
