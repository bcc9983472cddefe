"""search over both transports: the word rule end to end, after edits and deletes."""

import pytest


def post(client, room, text):
    return client.call("message", {"room": room, "text": text})["message"]


def test_search_finds_newest_first_in_current_state(connect, room):
    """Messages containing every query word (as word starts), newest first, with limit."""
    a = connect("alice")
    a.call("join", {"room": room})
    texts = ["Deploy finished", "deploying now", "the DEPLOY failed", "unrelated", "deploy, again"]
    msgs = [post(a, room, t) for t in texts]
    ack = a.call("search", {"room": room, "q": "deploy"})
    assert ack["ok"] and [m["id"] for m in ack["messages"]] == [
        msgs[4]["id"], msgs[2]["id"], msgs[1]["id"], msgs[0]["id"]]
    assert [m["text"] for m in a.call("search", {"room": room, "q": "DEP fail"})["messages"]] \
        == ["the DEPLOY failed"]
    assert len(a.call("search", {"room": room, "q": "deploy", "limit": 2})["messages"]) == 2
    assert a.call("search", {"room": room, "q": "ploy"})["messages"] == []


def test_search_after_edits_and_deletes(connect, room):
    """An edited message is found by its new words only; a deleted one not at all."""
    a = connect("alice")
    a.call("join", {"room": room})
    first = post(a, room, "meeting at noon")
    second = post(a, room, "meeting moved")
    a.call("edit", {"room": room, "id": first["id"], "text": "lunch at noon"})
    a.call("delete", {"room": room, "id": second["id"]})
    assert a.call("search", {"room": room, "q": "meeting"})["messages"] == []
    found = a.call("search", {"room": room, "q": "lunch"})["messages"]
    assert [m["id"] for m in found] == [first["id"]] and found[0]["edited"]


def test_search_needs_no_membership(connect, room):
    """Like history, anyone may search a room."""
    a = connect("alice")
    a.call("join", {"room": room})
    post(a, room, "public words")
    a.call("leave", {"room": room})
    assert connect("bob").call("search", {"room": room, "q": "words"})["messages"][0][
        "text"] == "public words"


@pytest.mark.parametrize("payload, error", [
    ({"room": "UNKNOWN", "q": "x"}, "unknown room"),
    ({"room": "ROOM"}, "q is required"),
    ({"room": "ROOM", "q": ""}, "q must be 1 to 200 characters"),
    ({"room": "ROOM", "q": "x" * 201}, "q must be 1 to 200 characters"),
    ({"room": "ROOM", "q": "!!!"}, "q must contain a word"),
    ({"room": "ROOM", "q": "x", "limit": 51}, "limit must be between 1 and 50"),
    ({"room": "ROOM", "q": "x", "limit": 0}, "limit must be between 1 and 50"),
    ({"q": "x"}, "room is required"),
    (["x"], "search payload must be an object"),
])
def test_bad_search_gets_failure_ack(connect, room, payload, error):
    """One sentence back, the connection stays."""
    a = connect("alice")
    a.call("join", {"room": room})
    if isinstance(payload, dict):
        payload = {k: {"ROOM": room, "UNKNOWN": room + "-none"}.get(v, v)
                   for k, v in payload.items()}
    ack = a.call("search", payload)
    assert ack["ok"] is False and error in ack["error"] and ack["error"].count(". ") == 0
    assert a.sio.connected


def test_search_of_a_room_with_members_but_no_match(connect, room):
    """A known room with no match answers an empty list."""
    a = connect("alice")
    a.call("join", {"room": room})
    assert a.call("search", {"room": room, "q": "anything"}) == {"ok": True, "messages": []}
