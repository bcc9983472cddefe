"""Read markers over both transports: the ack, the person's other connections,
unread in join, survival across a restart."""

import pytest

from support import Client, ServerProcess


def post(client, room, text="x"):
    return client.call("message", {"room": room, "text": text})["message"]


def test_read_syncs_the_persons_other_connections(connect, room):
    """read acks the marker and unread; the person's other tabs get `read`, others nothing."""
    tab1, tab2, bob = connect("alice"), connect("alice"), connect("bob")
    for c in (tab1, bob):
        c.call("join", {"room": room})
    msgs = [post(bob, room, str(i)) for i in range(4)]
    ack = tab1.call("read", {"room": room, "id": msgs[1]["id"]})
    assert ack == {"ok": True, "room": room, "read": msgs[1]["id"], "unread": 2}
    assert tab2.wait_for("read") == {"room": room, "read": msgs[1]["id"], "unread": 2}
    tab1.quiet("read", units=0.2)
    bob.quiet("read", units=0.1)


def test_a_marker_never_moves_back_and_then_sends_nothing(connect, room):
    """A lower or equal id is acked with the marker unchanged; no `read` goes out."""
    tab1, tab2 = connect("alice"), connect("alice")
    tab1.call("join", {"room": room})
    msgs = [post(tab1, room, str(i)) for i in range(3)]
    tab1.call("read", {"room": room, "id": msgs[2]["id"]})
    tab2.wait_for("read")
    back = tab1.call("read", {"room": room, "id": msgs[0]["id"]})
    assert back == {"ok": True, "room": room, "read": msgs[2]["id"], "unread": 0}
    tab2.quiet("read", lambda r: r["read"] != msgs[2]["id"], units=0.3)
    assert len(tab2.events("read")) == 1


def test_join_carries_read_and_unread(connect, room):
    """join's ack has the person's marker and unread count (others' live messages above it)."""
    bob = connect("bob")
    bob.call("join", {"room": room})
    msgs = [post(bob, room, str(i)) for i in range(5)]
    bob.call("delete", {"room": room, "id": msgs[4]["id"]})
    alice = connect("alice")
    first = alice.call("join", {"room": room})
    assert (first["read"], first["unread"]) == (0, 4)
    post(alice, room, "mine")
    alice.call("read", {"room": room, "id": msgs[1]["id"]})
    again = connect("alice").call("join", {"room": room, "since": 0})
    assert (again["read"], again["unread"]) == (msgs[1]["id"], 2)
    assert bob.call("join", {"room": room})["unread"] == 1        # alice's "mine"


@pytest.mark.parametrize("payload, error", [
    ({"room": "ROOM", "id": "TOP+1"}, "is above the last entry of room ROOM"),
    ({"room": "ROOM"}, "id is required"),
    ({"room": "ROOM", "id": -1}, "id must be at least 0"),
    ({"room": "ROOM", "id": "5"}, "id must be an integer"),
    ({"id": 1}, "room is required"),
    ("lobby", "read payload must be an object"),
])
def test_bad_read_gets_failure_ack(connect, room, payload, error):
    """A bad read changes no marker and tells no other tab."""
    tab1, tab2 = connect("alice"), connect("alice")
    tab1.call("join", {"room": room})
    top = post(tab1, room)["id"]
    if isinstance(payload, dict):
        payload = {k: (room if v == "ROOM" else top + 1 if v == "TOP+1" else v)
                   for k, v in payload.items()}
    ack = tab1.call("read", payload)
    assert ack["ok"] is False and error.replace("ROOM", room) in ack["error"]
    tab2.quiet("read", units=0.2)
    assert tab2.call("join", {"room": room})["read"] == 0


def test_read_markers_survive_sigkill_and_restart(transport, room):
    """An acked read marker is on disk: after kill -9 the join ack still has it."""
    srv = ServerProcess().start()
    try:
        a = Client(srv.url, "alice", transport=transport)
        b = Client(srv.url, "bob", transport=transport)
        b.call("join", {"room": room})
        msgs = [post(b, room, str(i)) for i in range(3)]
        assert a.call("read", {"room": room, "id": msgs[1]["id"]})["ok"]
        srv.kill()
        a.disconnect()
        b.disconnect()
        srv.restart()
        a = Client(srv.url, "alice", transport=transport)
        ack = a.call("join", {"room": room})
        assert (ack["read"], ack["unread"]) == (msgs[1]["id"], 1)
        a.disconnect()
    finally:
        srv.kill()
