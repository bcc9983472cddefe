"""The Limits table: text length, packet size, rate of message and dm."""

import time

import pytest

from support import Client, timeout


def test_max_text_is_configurable(server_factory, transport, room):
    """--max-text changes the allowed text length."""
    srv = server_factory("--max-text", "5")
    a = Client(srv.url, "alice", transport=transport)
    a.call("join", {"room": room})
    assert a.call("message", {"room": room, "text": "12345"})["ok"] is True
    ack = a.call("message", {"room": room, "text": "123456"})
    assert ack["ok"] is False and "at most 5" in ack["error"]
    a.disconnect()


def test_rate_limit_counts_message_and_dm(server_factory, transport, room):
    """At most COUNT message+dm events per window, valid or not; then 'rate limited'."""
    srv = server_factory(rate="4/60")
    a = Client(srv.url, "alice", transport=transport)
    a.call("join", {"room": room})
    acks = [a.call("message", {"room": room, "text": "1"}),
            a.call("message", {"room": room, "text": ""}),      # invalid still counts
            a.call("dm", {"to": "alice", "text": "x"}),
            a.call("message", {"room": room, "text": "2"}),
            a.call("message", {"room": room, "text": "3"}),
            a.call("dm", {"to": "alice", "text": "y"})]
    assert [x["ok"] for x in acks] == [True, False, True, True, False, False]
    assert acks[4] == {"ok": False, "error": "rate limited"} == acks[5]
    assert a.call("join", {"room": room + "-2"})["ok"] is True   # other events unaffected
    a.disconnect()


def test_rate_limit_is_per_connection(server_factory, room):
    """One connection's limit does not block another's."""
    srv = server_factory(rate="1/60")
    a, b = Client(srv.url, "alice"), Client(srv.url, "alice")
    for c in (a, b):
        c.call("join", {"room": room})
        assert c.call("message", {"room": room, "text": "x"})["ok"] is True
    assert a.call("message", {"room": room, "text": "x"})["error"] == "rate limited"
    a.disconnect()
    b.disconnect()


def test_rate_zero_turns_limit_off(server_factory, room):
    """--rate 0 allows any burst."""
    srv = server_factory(rate="0")
    a = Client(srv.url, "alice")
    a.call("join", {"room": room})
    assert all(a.call("message", {"room": room, "text": str(i)})["ok"] for i in range(40))
    a.disconnect()


def test_default_rate_is_20_per_10s(server_factory, room):
    """Without --rate, the 21st message in 10 s is refused."""
    srv = server_factory(rate="20/10")
    a = Client(srv.url, "alice")
    a.call("join", {"room": room})
    oks = [a.call("message", {"room": room, "text": str(i)})["ok"] for i in range(21)]
    assert oks == [True] * 20 + [False]
    a.disconnect()


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_oversized_packet_closes_only_that_connection(server_factory, transport, room):
    """A packet over --max-packet drops its sender; others stay."""
    srv = server_factory("--max-packet", "4096", "--max-text", "100000")
    other = Client(srv.url, "bob", transport=transport)
    other.call("join", {"room": room})
    big = Client(srv.url, "mallory", transport=transport)
    big.call("join", {"room": room})
    big.emit("message", {"room": room, "text": "x" * 10000})
    deadline = time.monotonic() + timeout(10)
    while big.sio.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not big.sio.connected
    assert other.call("message", {"room": room, "text": "still here"})["ok"] is True
    other.quiet("message", lambda m: m["name"] == "mallory")
    other.disconnect()
