"""realtime.jsoncodec: same values as the stdlib codec, and bad text still fails cleanly."""

import json

import pytest
from engineio import json as stdlib_codec

from realtime import jsoncodec

EDGE_CASES = [
    '{"a":"\\ud800"}', '["\\udc00x"]', '[NaN]', '[Infinity]', '[1e400]', '{"a":1,"a":2}',
    '[123456789012345678901234567890]', '[-9223372036854775809]', '[18446744073709551616]',
    '[9223372036854775807]', '[1.5,-0,0.1,1E2,1e-7]', '{"t":"h\\u00e9llo \\ud83d\\ude00"}',
    '[' + '9' * 200 + ']', '{"a":"\x01"}', '  [1] ', '[1,]', '', '["\\u0000"]', '{"a":',
]


def _outcome(fn, text):
    try:
        value = fn(text)
    except ValueError as exc:
        return ("error", type(exc).__name__)
    return ("ok", repr(value))


@pytest.mark.parametrize("text", EDGE_CASES)
def test_loads_matches_the_stdlib_codec(text):
    """Every edge case decodes to the same value (or fails) as with the stdlib codec."""
    assert _outcome(jsoncodec.loads, text) == _outcome(stdlib_codec.loads, text)


@pytest.mark.parametrize("text", EDGE_CASES + ['{"method":"emit","data":[1]}'])
def test_loads_of_bytes_matches_the_stdlib_codec(text):
    """Bytes (as Redis pub/sub delivers them) decode like the stdlib codec decodes them."""
    raw = text.encode("utf-8", "surrogatepass")
    assert _outcome(jsoncodec.loads, raw) == _outcome(stdlib_codec.loads, raw)


@pytest.mark.parametrize("value", [
    {"a": "\ud800"}, {1: 2}, [2 ** 70], {"t": "é😀"}, (1, 2),
    {"x": None, "y": True, "z": 1.25}, "plain"])
def test_dumps_gives_the_same_value_as_the_stdlib_codec(value):
    """Encoded text parses back to what the stdlib codec's text parses to."""
    ours = jsoncodec.dumps(value, separators=(",", ":"))
    theirs = stdlib_codec.dumps(value, separators=(",", ":"))
    assert isinstance(ours, str)
    assert repr(json.loads(ours)) == repr(json.loads(theirs))


def test_non_finite_floats_encode_as_null():
    """NaN becomes null (valid JSON) where the stdlib wrote NaN, which browsers reject."""
    assert jsoncodec.dumps([float("nan"), float("inf")]) == "[null,null]"


def test_lone_surrogate_text_gets_a_failure_ack(connect, room):
    """A message whose text holds a lone surrogate escape gets a one-sentence failure ack."""
    alice = connect("alice")
    assert alice.call("join", {"room": room})["ok"]
    ack = alice.call("message", {"room": room, "text": "bad \ud800 text"})
    assert ack == {"ok": False, "error": "text contains unpaired surrogate characters."}
    assert alice.call("message", {"room": room, "text": "still here"})["ok"]


def test_non_ascii_text_round_trips_unchanged(connect, room):
    """Text outside ASCII comes back in the ack and the broadcast exactly as sent."""
    alice = connect("alice")
    alice.call("join", {"room": room})
    text = "héllo 😀 \u2028 \"quoted\" \\ back"
    ack = alice.call("message", {"room": room, "text": text})
    assert ack["message"]["text"] == text
    assert alice.wait_for("message", lambda m: m["id"] == ack["message"]["id"])["text"] == text


def test_long_integer_beside_a_float_stays_an_integer():
    """A payload with floats is still checked for integers beyond 64 bits."""
    assert jsoncodec.loads('[1.5, {"n": 123456789012345678901234}]') == \
        [1.5, {"n": 123456789012345678901234}]
    assert isinstance(jsoncodec.loads(b'[0.5, 18446744073709551616]')[1], int)


def test_deep_nesting_with_a_float_decodes():
    """Nesting deeper than Python's recursion limit still decodes (stdlib fallback)."""
    assert jsoncodec.loads("[" * 1100 + "1.5" + "]" * 1100) is not None
