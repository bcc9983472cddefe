"""Moderators' kick and mute over both transports: acks, the kicked and muted events,
presence, what a muted person may not do, lifting, expiry, the 30-day bound,
members refused, and mutes surviving kill -9."""

import time

import pytest

from realtime import auth
from support import Client, ServerProcess, timeout

SECRET = "moderation-test-secret"


@pytest.fixture(scope="module")
def server():
    srv = ServerProcess(["--secret", SECRET]).start()
    yield srv
    srv.kill()


def token(name, role="member"):
    return auth.issue(SECRET, name, 3600, role=role)


@pytest.fixture
def people(server, transport):
    """``people("mod", "moderator")``: a connected client with a token for the name."""
    made = []

    def make(name, role="member", url=None):
        c = Client(url or server.url, auth={"name": name, "token": token(name, role)},
                   transport=transport)
        made.append(c)
        return c
    yield make
    for c in made:
        c.disconnect()


def joined(room, *clients):
    for c in clients:
        assert c.call("join", {"room": room})["ok"]
    return clients


def now_ms():
    return time.time_ns() // 1_000_000


def test_kick_removes_every_connection_of_the_person(people, room):
    """Both of eve's tabs leave the room and get kicked; the ack counts them; the
    room hears one presence leave."""
    mod, eve1, eve2, bob = joined(room, people("mod", "moderator"), people("eve"),
                                  people("eve"), people("bob"))
    ack = mod.call("kick", {"room": room, "name": "eve"})
    assert ack == {"ok": True, "room": room, "name": "eve", "connections": 2}
    for eve in (eve1, eve2):
        assert eve.wait_for("kicked") == {"room": room, "by": "mod"}
        assert eve.call("message", {"room": room, "text": "still here?"}) == {
            "ok": False, "error": "you are not in room %s; join it first." % room}
    leave = {"room": room, "name": "eve", "event": "leave", "count": 2}
    assert bob.wait_for("presence", lambda p: p["event"] == "leave") == leave
    time.sleep(timeout(0.5))
    assert [p for p in bob.events("presence") if p["event"] == "leave"] == [leave]


def test_a_kick_is_not_a_ban(people, room):
    """The kicked person may join again at once, and the room sees them come back."""
    mod, eve, bob = joined(room, people("mod", "moderator"), people("eve"), people("bob"))
    mod.call("kick", {"room": room, "name": "eve"})
    eve.wait_for("kicked")
    again = eve.call("join", {"room": room})
    assert again["ok"] and again["members"] == ["bob", "eve", "mod"]
    assert eve.call("message", {"room": room, "text": "back"})["ok"]
    assert bob.wait_for("presence", lambda p: p["name"] == "eve" and p["event"] == "join") \
        == {"room": room, "name": "eve", "event": "join", "count": 3}


def test_kick_takes_only_that_room(people, room):
    """A person kicked from one room stays in their other rooms."""
    other = room + "-other"
    mod, eve = people("mod", "moderator"), people("eve")
    joined(room, mod, eve)
    joined(other, mod, eve)
    assert mod.call("kick", {"room": room, "name": "eve"})["connections"] == 1
    sent = mod.call("message", {"room": other, "text": "hi eve"})["message"]
    assert eve.wait_for("message", lambda m: m["room"] == other) == sent


def test_kick_of_someone_absent_counts_nothing(people, room):
    """Kicking a name that is not in the room is acked with 0; nobody gets kicked."""
    mod, eve = people("mod", "moderator"), people("eve")
    joined(room, mod)
    assert mod.call("kick", {"room": room, "name": "eve"}) == {
        "ok": True, "room": room, "name": "eve", "connections": 0}
    eve.quiet("kicked")


@pytest.mark.parametrize("event, data", [
    ("kick", {"name": "bob"}),
    ("mute", {"name": "bob", "seconds": 60}),
])
def test_a_member_may_not_moderate(people, room, event, data):
    """A member's kick or mute gets the moderator sentence and changes nothing."""
    eve, bob = joined(room, people("eve"), people("bob"))
    ack = eve.call(event, dict(data, room=room))
    assert ack == {"ok": False, "error": "only a moderator can %s." % event}
    bob.quiet("kicked")
    assert bob.call("message", {"room": room, "text": "fine"})["ok"]


@pytest.mark.parametrize("data, error", [
    ("nope", "kick payload must be an object."),
    ({"room": "lobby"}, "name is required."),
    ({"room": "bad room", "name": "eve"}, "room must be 1 to 64 characters"),
])
def test_bad_kick_payloads(people, data, error):
    """A moderator's malformed kick gets a failure ack naming the problem."""
    ack = people("mod", "moderator").call("kick", data)
    assert ack["ok"] is False and ack["error"].startswith(error)


def test_mute_refuses_message_edit_and_react(people, room):
    """While muted, message, edit and react get `you are muted in ROOM`; nothing is
    broadcast; deleting one's own message still works; others are unaffected."""
    mod, eve, bob = joined(room, people("mod", "moderator"), people("eve"), people("bob"))
    msg = eve.call("message", {"room": room, "text": "before"})["message"]
    before = now_ms()
    ack = mod.call("mute", {"room": room, "name": "eve", "seconds": 60})
    assert ack["ok"] and ack["room"] == room and ack["name"] == "eve"
    assert before + 60_000 <= ack["until"] <= now_ms() + 60_000
    muted = {"ok": False, "error": "you are muted in %s" % room}
    assert eve.call("message", {"room": room, "text": "spam"}) == muted
    assert eve.call("edit", {"room": room, "id": msg["id"], "text": "edited"}) == muted
    assert eve.call("react", {"room": room, "id": msg["id"], "emoji": "👍", "on": True}) \
        == muted
    bob.quiet("message", lambda m: m["name"] == "eve" and m["id"] != msg["id"])
    bob.quiet("update")
    assert bob.call("message", {"room": room, "text": "bob is fine"})["ok"]
    assert eve.call("delete", {"room": room, "id": msg["id"]})["ok"]
    history = bob.call("history", {"room": room})["messages"]
    assert [m["text"] for m in history] == ["", "bob is fine"]


def test_mute_is_per_room(people, room):
    """A mute in one room leaves the person free in another."""
    other = room + "-free"
    mod, eve = people("mod", "moderator"), people("eve")
    joined(room, mod, eve)
    joined(other, eve)
    mod.call("mute", {"room": room, "name": "eve", "seconds": 60})
    assert eve.call("message", {"room": other, "text": "here I may"})["ok"]


def test_the_muted_person_is_told(people, room):
    """Every connection of the person gets `muted` with the end and the moderator,
    and again on joining the room while muted; a lift sends until 0."""
    mod, eve = joined(room, people("mod", "moderator"), people("eve"))
    late = people("eve")
    until = mod.call("mute", {"room": room, "name": "eve", "seconds": 60})["until"]
    for c in (eve, late):
        assert c.wait_for("muted") == {"room": room, "until": until, "by": "mod"}
    assert late.call("join", {"room": room})["ok"]
    late.wait_count("muted", 2)
    assert late.events("muted")[1] == {"room": room, "until": until, "by": None}
    mod.call("mute", {"room": room, "name": "eve", "seconds": 0})
    assert eve.wait_for("muted", lambda m: m["until"] == 0) == {
        "room": room, "until": 0, "by": "mod"}


def test_zero_seconds_lifts_a_mute(people, room):
    """seconds 0 is acked with until 0, and the person may post again."""
    mod, eve = joined(room, people("mod", "moderator"), people("eve"))
    mod.call("mute", {"room": room, "name": "eve", "seconds": 600})
    assert eve.call("message", {"room": room, "text": "x"})["ok"] is False
    assert mod.call("mute", {"room": room, "name": "eve", "seconds": 0}) == {
        "ok": True, "room": room, "name": "eve", "until": 0}
    assert eve.call("message", {"room": room, "text": "x"})["ok"]


def test_a_mute_ends_by_itself(people, room):
    """After its seconds have passed the person may post again, with no lift."""
    mod, eve = joined(room, people("mod", "moderator"), people("eve"))
    until = mod.call("mute", {"room": room, "name": "eve", "seconds": 1})["until"]
    assert eve.call("message", {"room": room, "text": "x"})["ok"] is False
    time.sleep(max(0.0, (until - now_ms()) / 1000) + 0.05)
    assert eve.call("message", {"room": room, "text": "free again"})["ok"]


def test_a_mute_lasts_at_most_30_days(people, room):
    """30 days is accepted; one second more is refused and changes nothing."""
    mod, eve = joined(room, people("mod", "moderator"), people("eve"))
    too_long = mod.call("mute", {"room": room, "name": "eve", "seconds": 2592001})
    assert too_long == {"ok": False,
                        "error": "seconds must be between 0 and 2592000 (30 days)."}
    assert eve.call("message", {"room": room, "text": "x"})["ok"]
    start = now_ms()
    ack = mod.call("mute", {"room": room, "name": "eve", "seconds": 2592000})
    assert start + 2592000 * 1000 <= ack["until"] <= now_ms() + 2592000 * 1000


@pytest.mark.parametrize("data, error", [
    ({"name": "eve", "seconds": 60}, "room is required."),
    ({"room": "r", "seconds": 60}, "name is required."),
    ({"room": "r", "name": "eve"}, "seconds is required."),
    ({"room": "r", "name": "eve", "seconds": "60"}, "seconds must be a whole number"),
    ({"room": "r", "name": "eve", "seconds": -5}, "seconds must be between 0 and"),
])
def test_bad_mute_payloads(people, data, error):
    """A moderator's malformed mute gets a failure ack naming the problem."""
    ack = people("mod", "moderator").call("mute", data)
    assert ack["ok"] is False and ack["error"].startswith(error)


def test_a_mute_survives_kill_9_and_restart(transport, room):
    """An acked mute is stored: after SIGKILL and a restart it still holds, and a
    lift acked before a second crash holds too."""
    srv = ServerProcess(["--secret", SECRET]).start()
    made = []

    def person(name, role="member"):
        c = Client(srv.url, auth={"name": name, "token": token(name, role)},
                   transport=transport)
        made.append(c)
        assert c.call("join", {"room": room})["ok"]
        return c
    try:
        mod = person("mod", "moderator")
        assert mod.call("mute", {"room": room, "name": "eve", "seconds": 600})["ok"]
        srv.kill()
        srv.restart()
        eve = person("eve")
        assert eve.call("message", {"room": room, "text": "x"}) == {
            "ok": False, "error": "you are muted in %s" % room}
        mod = person("mod", "moderator")
        assert mod.call("mute", {"room": room, "name": "eve", "seconds": 0})["ok"]
        srv.kill()
        srv.restart()
        assert person("eve").call("message", {"room": room, "text": "x"})["ok"]
    finally:
        for c in made:
            c.disconnect()
        srv.kill()


def test_demo_mode_has_no_moderators(server_factory, transport, room):
    """Without a secret everyone is a member: kick is refused."""
    srv = server_factory()
    c = Client(srv.url, "mod", transport=transport)
    try:
        assert c.call("kick", {"room": room, "name": "eve"}) == {
            "ok": False, "error": "only a moderator can kick."}
    finally:
        c.disconnect()
