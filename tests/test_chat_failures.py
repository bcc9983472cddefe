"""Every bad payload gets a one-sentence failure ack and changes nothing."""

import pytest

BAD = [
    ("join", None, "payload must be an object"),
    ("join", "lobby", "payload must be an object"),
    ("join", {}, "room is required"),
    ("join", {"room": "no spaces"}, "room must be"),
    ("join", {"room": "r", "since": "1"}, "since must be an integer"),
    ("join", {"room": "r", "since": -1}, "since must be at least 0"),
    ("leave", [], "payload must be an object"),
    ("leave", {"room": 3}, "room must be a string"),
    ("message", {"room": "ROOM", "text": ""}, "text must contain"),
    ("message", {"room": "ROOM", "text": "   "}, "text must contain"),
    ("message", {"room": "ROOM"}, "text is required"),
    ("message", {"room": "ROOM", "text": ["x"]}, "text must be a string"),
    ("message", {"room": "ROOM", "text": "x" * 2001}, "text is too long"),
    ("message", {"room": "ROOM", "text": "x", "cid": ""}, "cid must be"),
    ("message", {"room": "ROOM", "text": "x", "cid": "c" * 65}, "cid must be"),
    ("message", {"room": "ROOM", "text": "x", "cid": 5}, "cid must be a string"),
    ("message", {"room": "ROOM-not-joined", "text": "x"}, "join it first"),
    ("history", {"room": "ROOM", "limit": 0}, "limit must be between 1 and 100"),
    ("history", {"room": "ROOM", "limit": 101}, "limit must be between 1 and 100"),
    ("history", {"room": "ROOM", "before": "x"}, "before must be an integer"),
    ("typing", {"room": "ROOM", "typing": 1}, "typing must be true or false"),
    ("dm", {"text": "x"}, "to is required"),
    ("dm", {"to": "bob"}, "text is required"),
    ("dm", {"to": "bob", "text": "x" * 2001}, "text is too long"),
    ("rooms", "all", "payload must be an object"),
    ("no-such-event", {}, "unknown event"),
]


@pytest.mark.parametrize("event, payload, error", BAD, ids=[
    "%s-%d" % (b[0], i) for i, b in enumerate(BAD)])
def test_bad_payload_gets_failure_ack(connect, room, event, payload, error):
    """The ack says what is wrong in one sentence; nobody else sees anything."""
    a, observer = connect("alice"), connect("bob")
    a.call("join", {"room": room})
    observer.call("join", {"room": room})
    if isinstance(payload, dict) and isinstance(payload.get("room"), str):
        payload = dict(payload, room=payload["room"].replace("ROOM", room))
    ack = a.call(event, payload)
    assert ack["ok"] is False and set(ack) == {"ok", "error"}
    assert error in ack["error"] and "Traceback" not in ack["error"]
    assert ack["error"].count(". ") == 0
    assert a.sio.connected
    observer.quiet("message", units=0.2)
    assert not observer.events("typing")
    assert observer.call("history", {"room": room})["messages"] == []


def test_extra_arguments_are_refused(connect):
    """An event with two payloads gets a failure ack."""
    a = connect("alice")
    ack = a.sio.call("rooms", ({}, {}), timeout=5)
    assert ack["ok"] is False and "single payload" in ack["error"]


def test_failure_does_not_disconnect(connect, room):
    """After a failure the same connection keeps working."""
    a = connect("alice")
    a.call("join", {"room": "bad room"})
    assert a.call("join", {"room": room})["ok"] is True
