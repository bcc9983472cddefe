"""reply_to, edit, delete and react over both transports: acks, `update` broadcasts,
every failure case, rate limits."""

import pytest

from support import Client


def joined(connect, room, *names):
    clients = [connect(n) for n in names]
    for c in clients:
        assert c.call("join", {"room": room})["ok"]
    return clients


def post(client, room, text="hello", **extra):
    ack = client.call("message", dict({"room": room, "text": text}, **extra))
    assert ack["ok"], ack
    return ack["message"]


def test_reply_to_is_stored_and_broadcast(connect, room):
    """A reply names its parent; members get it with reply_to; history keeps it."""
    a, b = joined(connect, room, "alice", "bob")
    parent = post(a, room, "question?")
    reply = post(b, room, "answer", reply_to=parent["id"])
    assert reply["reply_to"] == parent["id"]
    assert a.wait_for("message", lambda m: m["id"] == reply["id"]) == reply
    assert b.call("history", {"room": room})["messages"][-1] == reply


def test_edit_is_acked_and_broadcast_as_an_update(connect, room):
    """The author's edit: ack with the new state; every member, sender included, gets
    an update of kind edit carrying it."""
    a, b = joined(connect, room, "alice", "bob")
    msg = post(a, room, "teh")
    ack = a.call("edit", {"room": room, "id": msg["id"], "text": "the"})
    state = ack["message"]
    assert ack["ok"] and state["text"] == "the" and state["edited"] >= msg["ts"]
    assert {k: v for k, v in state.items() if k not in ("text", "edited")} == {
        k: v for k, v in msg.items() if k != "text"}
    for c in (a, b):
        upd = c.wait_for("update", lambda u: u["target"] == msg["id"])
        assert upd["kind"] == "edit" and upd["by"] == "alice" and upd["message"] == state
        assert upd["room"] == room and upd["id"] > msg["id"] and isinstance(upd["ts"], int)
    assert b.call("history", {"room": room})["messages"] == [state]


def test_delete_leaves_an_empty_deleted_entry(connect, room):
    """The author deletes: text empty, deleted true, reactions and reply gone."""
    a, b = joined(connect, room, "alice", "bob")
    parent = post(b, room, "p")
    msg = post(a, room, "regret", reply_to=parent["id"])
    b.call("react", {"room": room, "id": msg["id"], "emoji": "👍", "on": True})
    ack = a.call("delete", {"room": room, "id": msg["id"]})
    gone = {"id": msg["id"], "room": room, "name": "alice", "text": "", "ts": msg["ts"],
            "deleted": True}
    assert ack == {"ok": True, "message": gone}
    upd = b.wait_for("update", lambda u: u["kind"] == "delete")
    assert upd["message"] == gone and upd["by"] == "alice"
    assert b.call("history", {"room": room})["messages"][-1] == gone
    again = a.call("delete", {"room": room, "id": msg["id"]})
    assert again == {"ok": True, "message": gone}
    b.quiet("update", lambda u: u["kind"] == "delete" and u["id"] != upd["id"])


def test_reactions_toggle_and_broadcast(connect, room):
    """Any member reacts; names sorted; a no-op is acked and broadcasts nothing."""
    a, b, c = joined(connect, room, "alice", "bob", "carol")
    msg = post(a, room, "vote")
    c.call("react", {"room": room, "id": msg["id"], "emoji": "👍", "on": True})
    ack = b.call("react", {"room": room, "id": msg["id"], "emoji": "👍", "on": True})
    assert ack["message"]["reactions"] == {"👍": ["bob", "carol"]}
    a.wait_count("update", 2)
    same = b.call("react", {"room": room, "id": msg["id"], "emoji": "👍", "on": True})
    assert same == ack
    off = c.call("react", {"room": room, "id": msg["id"], "emoji": "👍", "on": False})
    assert off["message"]["reactions"] == {"👍": ["bob"]}
    ups = a.wait_count("update", 3)
    assert [u["message"].get("reactions") for u in ups] == [
        {"👍": ["carol"]}, {"👍": ["bob", "carol"]}, {"👍": ["bob"]}]
    a.quiet("update", lambda u: u not in ups)


def test_updates_reach_members_only(connect, room):
    """Non-members get no update."""
    a, = joined(connect, room, "alice")
    outsider = connect("eve")
    outsider.call("join", {"room": room + "-x"})
    msg = post(a, room)
    a.call("edit", {"room": room, "id": msg["id"], "text": "changed"})
    a.wait_for("update")
    outsider.quiet("update")


def test_one_connections_changes_keep_their_order(connect, room):
    """Edits, reactions and a delete sent back to back are stored and broadcast in order."""
    a, b = joined(connect, room, "alice", "bob")
    msg = post(a, room, "v0")
    for i in range(1, 6):
        a.emit("edit", {"room": room, "id": msg["id"], "text": "v%d" % i})
        a.emit("react", {"room": room, "id": msg["id"], "emoji": "e%d" % i, "on": True})
    a.emit("delete", {"room": room, "id": msg["id"]})
    got = b.wait_count("update", 11)
    assert [u["kind"] for u in got] == ["edit", "react"] * 5 + ["delete"]
    assert [u["id"] for u in got] == sorted(u["id"] for u in got)
    assert [u["message"]["text"] for u in got[:10:2]] == ["v1", "v2", "v3", "v4", "v5"]


def test_a_moderator_branch_is_not_reachable_without_a_role(connect, room):
    """A member deleting another's message gets the moderator sentence; nothing changes."""
    a, b = joined(connect, room, "alice", "bob")
    msg = post(a, room, "mine")
    ack = b.call("delete", {"room": room, "id": msg["id"]})
    assert ack == {"ok": False,
                   "error": "only a moderator can delete another person's message."}
    a.quiet("update")
    assert b.call("history", {"room": room})["messages"] == [msg]


BAD = [
    ("message", {"reply_to": "ID+1000"}, "reply_to must name a message of room ROOM"),
    ("message", {"reply_to": "OTHER"}, "reply_to must name a message"),
    ("message", {"reply_to": "DELETED"}, "not deleted"),
    ("message", {"reply_to": 0}, "reply_to must be at least 1"),
    ("message", {"reply_to": "x"}, "reply_to must be an integer"),
    ("edit", {"id": "ID", "text": "x", "room": "NOTJOINED"}, "join it first"),
    ("edit", {"id": "BOBS", "text": "x"}, "only the author can edit message"),
    ("edit", {"id": "DELETED", "text": "x"}, "is deleted"),
    ("edit", {"id": "ID+1000", "text": "x"}, "there is no message"),
    ("edit", {"id": "ID", "text": " "}, "text must contain"),
    ("edit", {"id": "ID", "text": "x" * 2001}, "text is too long"),
    ("edit", {"id": "ID"}, "text is required"),
    ("edit", {"text": "x"}, "id is required"),
    ("edit", {"id": "1", "text": "x"}, "id must be an integer"),
    ("delete", {"id": "BOBS"}, "only a moderator can delete"),
    ("delete", {"id": "ID+1000"}, "there is no message"),
    ("delete", {"id": "ID", "room": "NOTJOINED"}, "join it first"),
    ("delete", {"id": -2}, "id must be at least 1"),
    ("react", {"id": "DELETED", "emoji": "👍", "on": True}, "is deleted"),
    ("react", {"id": "ID+1000", "emoji": "👍", "on": True}, "there is no message"),
    ("react", {"id": "ID", "emoji": "👍", "on": True, "room": "NOTJOINED"}, "join it first"),
    ("react", {"id": "ID", "emoji": "two words", "on": True}, "white space"),
    ("react", {"id": "ID", "emoji": "x" * 17, "on": True}, "emoji must be 1 to 16"),
    ("react", {"id": "ID", "emoji": "\x01", "on": True}, "control characters"),
    ("react", {"id": "ID", "emoji": "👍", "on": "yes"}, "on must be true or false"),
    ("react", {"id": "ID", "on": True}, "emoji is required"),
    ("edit", "not an object", "edit payload must be an object"),
    ("delete", None, "delete payload must be an object"),
    ("react", [1], "react payload must be an object"),
]


@pytest.mark.parametrize("event, payload, error", BAD,
                         ids=["%s-%d" % (b[0], i) for i, b in enumerate(BAD)])
def test_bad_change_gets_failure_ack_and_changes_nothing(connect, room, event, payload, error):
    """One sentence back; no broadcast; the stored state is unchanged."""
    a, observer = joined(connect, room, "alice", "bob")
    other = connect("carol")
    other.call("join", {"room": room + "-o"})
    elsewhere = [post(other, room + "-o", "o%d" % i) for i in range(3)][-1]
    mine = post(a, room, "mine")
    bobs = post(observer, room, "bob's")
    dead = post(a, room, "dead")
    a.call("delete", {"room": room, "id": dead["id"]})
    observer.wait_for("update")
    before = observer.call("history", {"room": room})["messages"]
    values = {"ID": mine["id"], "ID+1000": mine["id"] + 1000, "BOBS": bobs["id"],
              "DELETED": dead["id"], "OTHER": elsewhere["id"]}
    if isinstance(payload, dict):
        payload = {k: values.get(v, v) for k, v in payload.items()}
        payload.setdefault("room", room)
        if payload["room"] == "NOTJOINED":
            payload["room"] = room + "-o"
        if event == "message":
            payload.setdefault("text", "a reply")
    ack = a.call(event, payload)
    assert ack["ok"] is False and set(ack) == {"ok", "error"}, ack
    assert error.replace("ROOM", room) in ack["error"] and ack["error"].count(". ") == 0
    observer.quiet("update", lambda u: u["kind"] != "delete", units=0.3)
    observer.quiet("message", lambda m: m["id"] > dead["id"], units=0.1)
    assert observer.call("history", {"room": room})["messages"] == before
    assert a.sio.connected


def test_edits_deletes_and_reactions_count_against_the_rate(server_factory, transport, room):
    """The per-connection rate counts edit, delete and react like message."""
    srv = server_factory(rate="5/60")
    a = Client(srv.url, "alice", transport=transport)
    try:
        a.call("join", {"room": room})
        msg = post(a, room, "1")
        acks = [a.call("edit", {"room": room, "id": msg["id"], "text": "2"}),
                a.call("react", {"room": room, "id": msg["id"], "emoji": "x", "on": True}),
                a.call("react", {"room": room, "id": msg["id"], "emoji": "", "on": True}),
                a.call("delete", {"room": room, "id": msg["id"]}),
                a.call("edit", {"room": room, "id": msg["id"], "text": "3"}),
                a.call("message", {"room": room, "text": "4"})]
        assert [x["ok"] for x in acks] == [True, True, False, True, False, False]
        assert acks[4] == acks[5] == {"ok": False, "error": "rate limited"}
    finally:
        a.disconnect()


def test_changes_count_against_the_address_rate(server_factory, room):
    """--address-rate counts the changes of all connections of an address."""
    srv = server_factory("--address-rate", "4/60")
    a, b = Client(srv.url, "alice"), Client(srv.url, "bob")
    try:
        for c in (a, b):
            c.call("join", {"room": room})
        msg = post(a, room)
        acks = [b.call("react", {"room": room, "id": msg["id"], "emoji": "1", "on": True}),
                a.call("edit", {"room": room, "id": msg["id"], "text": "e"}),
                b.call("react", {"room": room, "id": msg["id"], "emoji": "2", "on": True}),
                a.call("delete", {"room": room, "id": msg["id"]})]
        assert [x["ok"] for x in acks] == [True, True, True, False]
        assert acks[3]["error"] == "rate limited"
    finally:
        a.disconnect()
        b.disconnect()
