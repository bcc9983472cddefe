"""message, history, typing and dm over both transports."""

import itertools

_cids = itertools.count()


def joined(connect, room, *names):
    clients = [connect(n) for n in names]
    for c in clients:
        c.call("join", {"room": room})
    return clients


def test_message_is_stored_acked_and_broadcast(connect, room):
    """The ack carries the stored message; every member gets it, sender included."""
    a, b = joined(connect, room, "alice", "bob")
    ack = a.call("message", {"room": room, "text": "hello"})
    msg = ack["message"]
    assert ack["ok"] is True and set(msg) == {"id", "room", "name", "text", "ts"}
    assert (msg["room"], msg["name"], msg["text"]) == (room, "alice", "hello")
    assert isinstance(msg["id"], int) and isinstance(msg["ts"], int) and msg["ts"] > 1.7e12
    assert b.wait_for("message") == msg and a.wait_for("message") == msg


def test_sender_gets_the_broadcast_before_the_ack(connect, room):
    """The stored message's broadcast reaches the sender before its ack (docs/protocol.md)."""
    a, = joined(connect, room, "alice")
    for i in range(5):
        ack = a.call("message", {"room": room, "text": "order %d" % i})
        # The test client handles packets in arrival order: when the ack is
        # handled, the broadcast that came before it is already recorded.
        assert ack["message"] in a.events("message")


def test_text_is_sent_as_given(connect, room):
    """HTML and white space arrive untouched."""
    a, b = joined(connect, room, "alice", "bob")
    text = "  <img src=x onerror=alert(1)> & \u202e\u200b 😀\n"
    a.call("message", {"room": room, "text": text})
    assert b.wait_for("message")["text"] == text


def test_non_members_do_not_receive(connect, room):
    """Only members of the room get its messages."""
    a, = joined(connect, room, "alice")
    outsider = connect("eve")
    outsider.call("join", {"room": room + "-other"})
    a.call("message", {"room": room, "text": "private"})
    a.wait_for("message")
    outsider.quiet("message")


def test_ids_increase_in_send_order(connect, room):
    """One connection's messages are stored, acked and broadcast in order."""
    a, b = joined(connect, room, "alice", "bob")
    for i in range(30):
        a.emit("message", {"room": room, "text": str(i)})
    got = b.wait_count("message", 30)
    assert [m["text"] for m in got] == [str(i) for i in range(30)]
    assert [m["id"] for m in got] == sorted(m["id"] for m in got)


def test_cid_resend_is_idempotent(connect, room):
    """The same name+cid gets the stored message back, not stored or broadcast twice."""
    a, b = joined(connect, room, "alice", "bob")
    cid = "cid-%d" % next(_cids)
    first = a.call("message", {"room": room, "text": "once", "cid": cid})["message"]
    again = a.call("message", {"room": room, "text": "once", "cid": cid})
    assert again == {"ok": True, "message": first}
    b.wait_for("message")
    b.quiet("message", lambda m: m["id"] != first["id"])
    assert len(b.events("message")) == 1
    assert [m["id"] for m in b.call("history", {"room": room})["messages"]] == [first["id"]]


def test_cid_is_scoped_to_the_name_across_connections(connect, room):
    """Another connection of the same name with the same cid is a resend."""
    a1, a2 = joined(connect, room, "alice", "alice")
    cid = "cid-%d" % next(_cids)
    first = a1.call("message", {"room": room, "text": "x", "cid": cid})["message"]
    assert a2.call("message", {"room": room, "text": "x", "cid": cid})["message"] == first


def test_same_cid_from_another_name_is_new(connect, room):
    """cids of different people do not collide."""
    a, b = joined(connect, room, "alice", "bob")
    cid = "cid-%d" % next(_cids)
    m1 = a.call("message", {"room": room, "text": "x", "cid": cid})["message"]
    m2 = b.call("message", {"room": room, "text": "x", "cid": cid})["message"]
    assert m1["id"] != m2["id"]


def test_join_returns_last_50_with_more(connect, room):
    """join without since gives the last 50 messages, oldest first, and more."""
    a, = joined(connect, room, "alice")
    ids = [a.call("message", {"room": room, "text": str(i)})["message"]["id"] for i in range(55)]
    ack = connect("bob").call("join", {"room": room})
    assert [m["id"] for m in ack["history"]] == ids[-50:] and ack["more"] is True


def test_join_with_since_returns_everything_newer(connect, room):
    """join with since gives every message with a higher id, oldest first."""
    a, = joined(connect, room, "alice")
    ids = [a.call("message", {"room": room, "text": str(i)})["message"]["id"] for i in range(8)]
    ack = connect("bob").call("join", {"room": room, "since": ids[2]})
    assert [m["id"] for m in ack["history"]] == ids[3:] and ack["more"] is False


def test_join_with_since_caps_at_500(connect, room):
    """More than 500 newer: the 500 oldest come with more, then the rest."""
    a, = joined(connect, room, "alice")
    for i in range(0, 520, 40):
        for j in range(i, min(i + 40, 520)):
            a.emit("message", {"room": room, "text": str(j)})
        a.wait_count("message", min(i + 40, 520), units=20)
    ids = [m["id"] for m in a.events("message")]
    b = connect("bob")
    first = b.call("join", {"room": room, "since": 0})
    assert [m["id"] for m in first["history"]] == ids[:500] and first["more"] is True
    rest = b.call("join", {"room": room, "since": first["history"][-1]["id"]})
    assert [m["id"] for m in rest["history"]] == ids[500:] and rest["more"] is False


def test_history_pages_backwards(connect, room):
    """history with before and limit pages through older messages."""
    a, = joined(connect, room, "alice")
    ids = [a.call("message", {"room": room, "text": str(i)})["message"]["id"] for i in range(12)]
    page = a.call("history", {"room": room, "before": ids[10], "limit": 4})
    assert [m["id"] for m in page["messages"]] == ids[6:10] and page["more"] is True
    page = a.call("history", {"room": room, "before": ids[3], "limit": 4})
    assert [m["id"] for m in page["messages"]] == ids[:3] and page["more"] is False


def test_history_defaults_to_latest_50(connect, room):
    """Without before, history gives the newest page of 50."""
    a, = joined(connect, room, "alice")
    ids = [a.call("message", {"room": room, "text": str(i)})["message"]["id"] for i in range(52)]
    page = a.call("history", {"room": room})
    assert [m["id"] for m in page["messages"]] == ids[2:] and page["more"] is True


def test_history_does_not_need_membership(connect, room):
    """Anyone may read a room's history."""
    a, = joined(connect, room, "alice")
    a.call("message", {"room": room, "text": "x"})
    a.call("leave", {"room": room})
    assert connect("bob").call("history", {"room": room})["messages"][0]["text"] == "x"


def test_history_of_room_with_members_but_no_messages(connect, room):
    """A room that has members exists even without messages."""
    joined(connect, room, "alice")
    assert connect("bob").call("history", {"room": room}) == {
        "ok": True, "messages": [], "more": False}


def test_history_of_unknown_room_fails(connect, room):
    """No members and no messages: the room is unknown."""
    ack = connect("bob").call("history", {"room": room})
    assert ack["ok"] is False and "unknown room" in ack["error"]


def test_typing_reaches_other_connections_only(connect, room):
    """typing goes to the room's other connections, not back to the sender."""
    a, b = joined(connect, room, "alice", "bob")
    a.emit("typing", {"room": room, "typing": True})
    assert b.wait_for("typing") == {"room": room, "name": "alice", "typing": True}
    a.quiet("typing")


def test_typing_with_ack(connect, room):
    """typing needs no ack, but one requested gets ok."""
    a, = joined(connect, room, "alice")
    assert a.call("typing", {"room": room, "typing": False}) == {"ok": True}


def test_typing_outside_room_is_not_relayed(connect, room):
    """A non-member's typing reaches nobody."""
    b, = joined(connect, room, "bob")
    ack = connect("alice").call("typing", {"room": room, "typing": True})
    assert ack["ok"] is False
    b.quiet("typing")


def test_dm_reaches_recipient_and_senders_other_connections(connect):
    """A dm goes to every connection of the recipient and the sender's other ones."""
    a1, a2, b1, b2, c = (connect(n) for n in ("alice", "alice", "bob", "bob", "carol"))
    ack = a1.call("dm", {"to": "bob", "text": "psst"})
    msg = ack["message"]
    assert ack["ok"] and set(msg) == {"id", "from", "to", "text", "ts"}
    assert (msg["from"], msg["to"], msg["text"]) == ("alice", "bob", "psst")
    for client in (b1, b2, a2):
        assert client.wait_for("dm") == msg
    a1.quiet("dm")
    c.quiet("dm")


def test_dm_to_oneself_reaches_other_connections(connect):
    """A dm to oneself reaches one's other connections, once each."""
    a1, a2 = connect("alice"), connect("alice")
    msg = a1.call("dm", {"to": "alice", "text": "note"})["message"]
    assert a2.wait_for("dm") == msg
    a1.quiet("dm")
    assert len(a2.events("dm")) == 1


def test_dm_to_absent_person_fails(connect):
    """A dm to a name with no connection is a failure ack."""
    ack = connect("alice").call("dm", {"to": "nobody-here", "text": "x"})
    assert ack["ok"] is False and "nobody-here is not connected" in ack["error"]


def test_dm_is_not_stored(connect, room):
    """dms are not replayed by history or join."""
    a, b = joined(connect, room, "alice", "bob")
    a.call("dm", {"to": "bob", "text": "secret"})
    b.wait_for("dm")
    assert connect("carol").call("join", {"room": room})["history"] == []
