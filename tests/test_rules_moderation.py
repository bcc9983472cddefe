"""kick and mute payload rules (realtime.rules) and the per-process mute cache
(realtime.chat.mutes), without sockets."""

import pytest

from realtime import rules
from realtime.chat.mutes import PRUNE_AFTER, Mutes
from realtime.rules import Invalid


def test_kick_payload_gives_room_and_trimmed_name():
    """A kick names a room and a person; the name is trimmed like a connection's."""
    assert rules.check_kick({"room": "lobby", "name": " eve "}) == ("lobby", "eve")


@pytest.mark.parametrize("data, error", [
    (None, "kick payload must be an object."),
    ({"name": "eve"}, "room is required."),
    ({"room": "no room!", "name": "eve"}, "room must be 1 to 64"),
    ({"room": "lobby"}, "name is required."),
    ({"room": "lobby", "name": 7}, "name must be a string."),
    ({"room": "lobby", "name": "x" * 33}, "name must be at most 32 characters."),
    ({"room": "lobby", "name": "a\x00b"}, "name must not contain control characters."),
])
def test_bad_kick_payloads_are_refused(data, error):
    """Each bad kick payload gets one sentence naming the problem."""
    with pytest.raises(Invalid) as exc:
        rules.check_kick(data)
    assert str(exc.value).startswith(error)


def test_mute_payload_and_bounds():
    """seconds runs from 0 (lift) to 30 days, inclusive."""
    assert rules.check_mute({"room": "r", "name": "eve", "seconds": 0}) == ("r", "eve", 0)
    assert rules.check_mute({"room": "r", "name": "eve", "seconds": 30 * 86400})[2] \
        == rules.MAX_MUTE == 2592000


@pytest.mark.parametrize("seconds, error", [
    (None, "seconds is required."),
    (-1, "seconds must be between 0 and 2592000 (30 days)."),
    (2592001, "seconds must be between 0 and 2592000 (30 days)."),
    (1.5, "seconds must be a whole number of seconds."),
    ("60", "seconds must be a whole number of seconds."),
    (True, "seconds must be a whole number of seconds."),
])
def test_bad_mute_seconds_are_refused(seconds, error):
    """Out of range or not an integer: refused with the bound in the sentence."""
    data = {"room": "r", "name": "eve"}
    if seconds is not None:
        data["seconds"] = seconds
    with pytest.raises(Invalid) as exc:
        rules.check_mute(data)
    assert str(exc.value) == error


def test_mute_until_is_zero_for_a_lift():
    """until is now + seconds in ms; 0 seconds gives 0."""
    assert rules.mute_until(60, 1_000_000) == 1_060_000
    assert rules.mute_until(0, 1_000_000) == 0


def test_cache_answers_until_the_end():
    """A mute holds strictly before its end and not at or after it."""
    m = Mutes()
    assert not m and m.until("r", "eve", 0) == 0
    m.set("r", "eve", 5000, ts=1000)
    assert m.until("r", "eve", 4999) == 5000
    assert m.until("r", "eve", 5000) == 0
    assert m.until("other", "eve", 2000) == 0 and m.until("r", "bob", 2000) == 0


def test_cache_keeps_the_latest_decision():
    """A change older than the one held loses, whatever order they arrive in."""
    m = Mutes()
    assert m.set("r", "eve", 0, ts=2000)                 # lifted at 2000
    assert not m.set("r", "eve", 9000, ts=1000)          # an older mute, heard late
    assert m.until("r", "eve", 2500) == 0
    assert m.set("r", "eve", 9000, ts=3000)
    assert m.until("r", "eve", 3500) == 9000


def test_cache_replace_keeps_changes_made_during_the_load():
    """Reloading from the store drops what the store no longer has, but not a change
    made here after the load began."""
    m = Mutes()
    m.set("r", "old", 9000, ts=100)          # lifted elsewhere meanwhile: not in the rows
    m.set("r", "new", 9000, ts=600)          # set here after the load began at 500
    m.replace([("r", "stored", 8000, 50)], since=500)
    assert m.active(1000) == {("r", "stored"): 8000, ("r", "new"): 9000}


def test_cache_forgets_old_entries():
    """Entries that ended long ago are pruned on the next change."""
    m = Mutes()
    m.set("r", "eve", 2000, ts=1000)
    m.set("r", "bob", 0, ts=1000)
    m.set("r", "carol", 10 ** 9, ts=2000 + PRUNE_AFTER + 1)
    assert len(m) == 1
