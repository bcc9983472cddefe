"""The Limits table (text length, packet size, rate) and realtime/transport/limits.py flood bookkeeping."""

import time

import pytest

from realtime.config import Config
from realtime.transport.limits import TOO_FAST, TOO_MANY_FROM_ADDRESS, TOO_MANY_IN_TOTAL, Limits
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


# -- realtime/transport/limits.py: per-address flood bookkeeping, pure and in-process ----


def limits(**settings):
    base = dict(max_conns=0, max_conns_per_address=0, connect_rate="0", address_rate="0",
                address_join_rate="0")
    base.update(settings)
    return Limits(Config(**base))


def test_cap_per_address_refuses_the_next_connection():
    """The connection over --max-conns-per-address is refused; other addresses are not."""
    lim = limits(max_conns_per_address=2)
    assert lim.open("a", 0) is None and lim.open("a", 0) is None
    assert lim.open("a", 0) == TOO_MANY_FROM_ADDRESS
    assert lim.open("b", 0) is None


def test_closing_frees_a_slot():
    """A closed connection no longer counts against its address."""
    lim = limits(max_conns_per_address=1)
    assert lim.open("a", 0) is None
    lim.close("a", 1)
    assert lim.open("a", 2) is None
    assert lim.open_from("a") == 1


def test_total_cap_refuses_everyone_over_it():
    """Over --max-conns every address is refused."""
    lim = limits(max_conns=2)
    assert lim.open("a", 0) is None and lim.open("b", 0) is None
    assert lim.open("c", 0) == TOO_MANY_IN_TOTAL
    assert lim.total == 2 and lim.refused == 1


def test_connect_rate_survives_disconnects():
    """Connecting and disconnecting in a loop still hits --connect-rate."""
    lim = limits(connect_rate="3/10")
    for t in range(3):
        assert lim.open("a", t) is None
        lim.close("a", t + 0.5)
    assert lim.open("a", 4) == TOO_FAST
    assert lim.open("a", 10.5) is None


def test_message_rate_is_shared_by_an_address():
    """--address-rate counts every connection of an address together."""
    lim = limits(address_rate="3/10")
    assert all(lim.allow_message("a", 0) for _ in range(3))
    assert not lim.allow_message("a", 1)
    assert lim.allow_message("b", 1)
    assert lim.allow_message("a", 10.1)


def test_idle_addresses_are_forgotten():
    """Addresses with no connection are dropped after the longest window."""
    lim = limits(connect_rate="5/10")
    for i in range(100):
        lim.open("10.0.0.%d" % i, 0)
        lim.close("10.0.0.%d" % i, 0)
    lim.open("x", 100)
    assert lim.addresses() == 1


def test_refused_connections_are_not_counted():
    """A refused connection does not take a slot (its close is a no-op)."""
    lim = limits(max_conns_per_address=1)
    lim.open("a", 0)
    assert lim.open("a", 0) == TOO_MANY_FROM_ADDRESS
    assert lim.total == 1


def test_client_address_groups_ipv6_by_64():
    """IPv6 clients are counted per /64, IPv4 (and mapped IPv4) per address."""
    from realtime.transport.limits import client_address
    assert client_address({"REMOTE_ADDR": "10.1.2.3"}) == "10.1.2.3"
    assert client_address({"REMOTE_ADDR": "::ffff:10.1.2.3"}) == "10.1.2.3"
    a = client_address({"REMOTE_ADDR": "2001:db8:1:2:aaaa::1"})
    assert a == client_address({"REMOTE_ADDR": "2001:db8:1:2:bbbb::9"}) == "2001:db8:1:2::/64"
    assert client_address({"REMOTE_ADDR": "2001:db8:1:3::1"}) != a
    assert client_address({}) == "unknown"


# -- the shipped defaults: a crowd behind one address gets in, one abuser stays bounded ----


def test_defaults_let_a_crowd_of_500_behind_one_address_in():
    """500 connects within 5 s, then 500 joins and 500 messages within 10 s: all allowed."""
    lim = Limits(Config())
    assert all(lim.open("nat", i * 5.0 / 500) is None for i in range(500))
    assert all(lim.allow_join("nat", 5 + i * 5.0 / 500) for i in range(500))
    assert all(lim.allow_message("nat", 5 + i * 5.0 / 500) for i in range(500))


def test_defaults_still_bound_one_abuser_behind_one_address():
    """docs/security.md's figures: 1000 open, 1000 connects, 1000 messages, 2000 joins / 10 s."""
    lim = Limits(Config())
    assert [lim.open("abuser", 0) for _ in range(1001)][-2:] == [None, TOO_MANY_FROM_ADDRESS]
    for _ in range(1000):
        lim.close("abuser", 1)
    assert lim.open("abuser", 2) == TOO_FAST                 # 1000 connects in this window
    assert lim.open("abuser", 10.01) is None
    assert sum(lim.allow_message("abuser", 3) for _ in range(1200)) == 1000
    assert sum(lim.allow_join("abuser", 3) for _ in range(2500)) == 2000
    assert lim.open("bystander", 3) is None and lim.allow_message("bystander", 3)


def test_security_doc_states_the_default_limits():
    """docs/security.md's table gives each per-address limit's shipped default."""
    import os
    doc = open(os.path.join(os.path.dirname(__file__), "..", "docs", "security.md")).read()
    c = Config()
    for setting in ("address_rate", "address_join_rate", "connect_rate"):
        count, seconds = c.parse(setting)
        flag = "--" + setting.replace("_", "-")
        row = next(line for line in doc.splitlines() if "`%s`" % flag in line)
        assert "%d per %g s" % (count, seconds) in row, row
    row = next(line for line in doc.splitlines() if "`--max-conns-per-address`" in line)
    assert "| %d |" % c.max_conns_per_address in row, row
