"""The HTTP API's rooms, members and disconnect paths, keys and routing (realtime/api)."""

import time

import pytest
import requests

from support import Client, ServerProcess, timeout
from support_api import KEY, OTHER_KEY, ApiClient


@pytest.fixture(scope="module")
def server():
    srv = ServerProcess(["--api-key", "%s,%s" % (KEY, OTHER_KEY), "--api-rate", "0"]).start()
    yield srv
    srv.kill()


@pytest.fixture
def api(server):
    client = ApiClient(server.url)
    yield client
    client.close()


@pytest.fixture
def member(server):
    clients = []

    def make(name, *rooms, transport="websocket"):
        c = Client(server.url, name, transport=transport, connect=False)
        # Events in the client's own threads (support._ordered undone): a
        # server-side disconnect handled on the read loop cannot join it.
        eio = c.sio.eio
        eio._trigger_event = type(eio)._trigger_event.__get__(eio)
        c.connect()
        clients.append(c)
        for room in rooms:
            assert c.call("join", {"room": room})["ok"]
        return c
    yield make
    for c in clients:
        c.disconnect()


def test_rooms_is_the_rooms_event(api, member, room):
    """GET /api/rooms answers what the rooms event acks, rooms with members only."""
    alice = member("alice", room, room + "-2")
    member("bob", room)
    member("bob", room)                 # a second tab counts once
    api.post("/rooms/%s-empty/messages" % room, {"name": "bot", "text": "x"})
    status, body = api.get("/rooms")
    assert status == 200
    assert body == {"rooms": alice.call("rooms", {})["rooms"]}
    counts = {r["room"]: r["members"] for r in body["rooms"]}
    assert counts[room] == 2 and counts[room + "-2"] == 1
    assert room + "-empty" not in counts


def test_members_sorted_names(api, member, room):
    """GET members: the room's people, sorted, each once."""
    member("carol", room)
    member("alice", room)
    member("alice", room)
    assert api.get("/rooms/%s/members" % room) == (200, {"room": room,
                                                         "members": ["alice", "carol"]})


def test_members_of_room_with_only_messages_is_empty(api, room):
    """A room known by its messages has no members: 200 and []."""
    api.post("/rooms/%s/messages" % room, {"name": "bot", "text": "x"})
    assert api.get("/rooms/%s/members" % room) == (200, {"room": room, "members": []})


def test_members_of_unknown_room_is_404(api, room):
    """No members and no messages: 404; a bad room name: 400."""
    assert api.get("/rooms/%s/members" % room)[0] == 404
    assert api.get("/rooms/a%%2Cb/members")[0] == 400


def test_disconnect_closes_every_connection_of_name(api, member, room):
    """POST disconnect: each of NAME's connections closes; the count comes back."""
    tabs = [member("dave", room), member("dave", room, transport="polling")]
    other = member("erin", room)
    status, body = api.post("/users/dave/disconnect")
    assert (status, body) == (200, {"name": "dave", "connections": 2})
    deadline = time.monotonic() + timeout(5)
    while any(tab.sio.connected for tab in tabs) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(tab.sio.connected for tab in tabs)
    other.wait_for("presence", lambda p: p["name"] == "dave" and p["event"] == "leave")
    assert other.sio.connected
    assert api.get("/rooms/%s/members" % room)[1]["members"] == ["erin"]
    assert api.post("/users/dave/disconnect")[1]["connections"] == 0


def test_disconnect_name_is_trimmed_and_may_hold_a_slash(api, member):
    """The name follows the connect rules: trimmed; any character but controls."""
    member("a/b c")
    status, body = api.post("/users/%20a%2Fb%20c%20/disconnect")
    assert (status, body) == (200, {"name": "a/b c", "connections": 1})


def test_disconnect_bad_name_is_400(api):
    """A name of control characters or too long: 400."""
    assert api.post("/users/%07/disconnect")[0] == 400
    assert api.post("/users/%s/disconnect" % ("x" * 33))[0] == 400


def test_missing_key_is_401(api, room):
    """No Authorization header: 401 with WWW-Authenticate: Bearer."""
    resp = requests.get(api.url + "/api/rooms", timeout=timeout(5))
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    assert "Bearer" in resp.json()["error"]


@pytest.mark.parametrize("header", ["Bearer nope", "Bearer " + KEY + "x", "Basic " + KEY,
                                    KEY, "Bearer"])
def test_wrong_key_is_401_and_nothing_posted(api, room, header):
    """A wrong key (or scheme): 401 and the message is not stored."""
    status, body = api.post("/rooms/%s/messages" % room, {"name": "bot", "text": "x"},
                            key=None, headers={"Authorization": header})
    assert status == 401 and "unauthorized" in body["error"]
    assert api.get("/rooms/%s/messages" % room)[0] == 404


def test_each_configured_key_works(api, room):
    """Every key of the comma-separated list is accepted."""
    assert api.post("/rooms/%s/messages" % room, {"name": "b", "text": "1"})[0] == 201
    assert api.post("/rooms/%s/messages" % room, {"name": "b", "text": "2"},
                    key=OTHER_KEY)[0] == 201


def test_openapi_needs_no_key(api):
    """/api/openapi.json answers without a key and describes every path."""
    resp = requests.get(api.url + "/api/openapi.json", timeout=timeout(5))
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/json"
    doc = resp.json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {"/api/rooms", "/api/rooms/{room}/messages",
                                 "/api/rooms/{room}/messages/{id}",
                                 "/api/rooms/{room}/members",
                                 "/api/users/{name}/disconnect", "/api/openapi.json"}
    assert set(doc["paths"]["/api/rooms/{room}/messages"]) >= {"get", "post"}


def test_unknown_path_is_404_and_wrong_method_405(api):
    """An unknown path below /api/: 404 (after the key check); a known one with another
    method: 405 with Allow."""
    assert api.get("/nothing")[0] == 404
    assert api.get("/nothing", key=None)[0] == 401
    resp = requests.put(api.url + "/api/rooms", headers={"Authorization": "Bearer " + KEY},
                        timeout=timeout(5))
    assert resp.status_code == 405 and resp.headers["Allow"] == "GET"
    assert "error" in resp.json()
