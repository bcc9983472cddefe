"""join, leave, presence and rooms over both transports."""

from support import Client


def test_join_ack_shape(connect, room):
    """join acks with room, sorted members, history and more, plus the second release's
    updates, read and unread."""
    ack = connect("alice").call("join", {"room": room})
    assert ack == {"ok": True, "room": room, "members": ["alice"], "history": [], "more": False,
                   "updates": [], "read": 0, "unread": 0}


def test_members_are_sorted_names(connect, room):
    """members lists the people present, sorted."""
    for name in ("carol", "alice"):
        connect(name).call("join", {"room": room})
    assert connect("bob").call("join", {"room": room})["members"] == ["alice", "bob", "carol"]


def test_join_sends_presence_to_others_only(connect, room):
    """Others get presence join with the new count; the joiner learns from its ack."""
    a, b = connect("alice"), connect("bob")
    a.call("join", {"room": room})
    b.call("join", {"room": room})
    assert a.wait_for("presence") == {"room": room, "name": "bob", "event": "join", "count": 2}
    b.quiet("presence")


def test_second_tab_causes_no_presence(connect, room):
    """A person already present does not 'join' again."""
    a = connect("alice")
    a.call("join", {"room": room})
    connect("bob").call("join", {"room": room})
    a.wait_for("presence", lambda p: p["name"] == "bob")
    connect("bob").call("join", {"room": room})
    a.quiet("presence", lambda p: p["name"] == "bob" and p["count"] != 2)
    assert len(a.events("presence")) == 1


def test_leave_acks_and_tells_others(connect, room):
    """leave acks with the room; others get presence leave with the count."""
    a, b = connect("alice"), connect("bob")
    a.call("join", {"room": room})
    b.call("join", {"room": room})
    assert b.call("leave", {"room": room}) == {"ok": True, "room": room}
    assert a.wait_for("presence", lambda p: p["event"] == "leave") == {
        "room": room, "name": "bob", "event": "leave", "count": 1}


def test_one_of_several_tabs_leaving_is_silent(connect, room):
    """Presence leave only when the last connection of a person goes."""
    a, b1, b2 = connect("alice"), connect("bob"), connect("bob")
    for c in (a, b1, b2):
        c.call("join", {"room": room})
    b1.call("leave", {"room": room})
    a.quiet("presence", lambda p: p["event"] == "leave")
    b2.call("leave", {"room": room})
    assert a.wait_for("presence", lambda p: p["event"] == "leave")["count"] == 1


def test_disconnect_sends_leave_to_every_room(server_factory, transport, room):
    """On disconnect the person's leave goes to each room they are no longer in."""
    # python-engineio's polling client may drop its final packets when it
    # disconnects; short pings let the server notice the loss itself.
    srv = server_factory("--ping-interval", "1", "--ping-timeout", "2")
    a = Client(srv.url, "alice", transport=transport)
    b = Client(srv.url, "bob", transport=transport)
    for r in (room, room + "-2"):
        a.call("join", {"room": r})
        b.call("join", {"room": r})
    b.disconnect()
    left = a.wait_count("presence", 2, lambda p: p["event"] == "leave", units=10)
    assert sorted(p["room"] for p in left) == [room, room + "-2"]
    assert all(p["name"] == "bob" and p["count"] == 1 for p in left)
    a.disconnect()


def test_leave_of_room_not_joined_fails(connect, room):
    """Leaving a room the connection is not in is a failure ack."""
    ack = connect("alice").call("leave", {"room": room})
    assert ack["ok"] is False and room in ack["error"]


def test_membership_is_per_connection(connect, room):
    """A second tab that did not join gets no messages from the room."""
    a1, a2 = connect("alice"), connect("alice")
    a1.call("join", {"room": room})
    a1.call("message", {"room": room, "text": "hi"})
    a1.wait_for("message")
    a2.quiet("message")
    assert a2.call("message", {"room": room, "text": "x"})["ok"] is False


def test_rooms_lists_rooms_with_members(connect, room):
    """rooms gives each room with at least one member and its people count."""
    a, b, b2 = connect("alice"), connect("bob"), connect("bob")
    for c in (a, b, b2):
        c.call("join", {"room": room})
    b.call("join", {"room": room + "-x"})
    b.call("leave", {"room": room + "-x"})
    listed = {r["room"]: r["members"] for r in a.call("rooms", {})["rooms"]}
    assert listed[room] == 2 and room + "-x" not in listed


def test_rooms_lists_only_rooms_with_people_sorted(connect, room):
    """rooms: sorted by name; a room with stored messages but nobody in it is not listed."""
    a = connect("alice")
    for name in (room + "-b", room + "-a"):
        a.call("join", {"room": name})
    a.call("message", {"room": room + "-a", "text": "stays stored"})
    a.call("leave", {"room": room + "-a"})
    listed = [r["room"] for r in a.call("rooms", {})["rooms"]]
    assert listed == sorted(listed)
    assert room + "-b" in listed and room + "-a" not in listed
    assert a.call("history", {"room": room + "-a"})["messages"][0]["text"] == "stays stored"


def test_rooms_without_payload(connect):
    """rooms may be called with no payload at all."""
    assert connect("alice").call("rooms")["ok"] is True


def test_server_joins_no_room_by_itself(connect):
    """A fresh connection is in no room: it cannot post to the lobby."""
    ack = connect("alice").call("message", {"room": "lobby", "text": "x"})
    assert ack["ok"] is False and "join" in ack["error"]
