"""The client address behind a trusted proxy, against the real server: limits, logs, metrics.

Every test client runs on this machine, so a trusted proxy is 127.0.0.1 (the
default --forwarded-allow-ips) and an untrusted one is 127.0.0.2: any
127.0.0.0/8 address can be bound as a source on Linux.
"""

import re
import time
import urllib.request

import pytest
import socketio

from raw import RawSocket
from support import Client, timeout

A, B = "198.51.100.1", "198.51.100.2"


class _Refused:
    """Equal to a CONNECT_ERROR packet saying the per-address cap is reached."""

    def __eq__(self, packet):
        return packet.startswith("44") and "too many connections from your address" in packet

    def __repr__(self):
        return "44{message: too many connections from your address}"


REFUSED = _Refused()


def xff(address):
    return {"X-Forwarded-For": "6.6.6.6, " + address}     # a forged first entry, as in life


@pytest.fixture
def opened():
    """Raw sockets to close at the end."""
    sockets = []

    def open_(url, name, **kwargs):
        ws = RawSocket(url, **kwargs)
        sockets.append(ws)
        return ws, ws.connect_ns({"name": name})
    yield open_
    for ws in sockets:
        ws.close()


def test_trusted_proxy_header_names_the_client(server_factory, opened):
    """Behind 127.0.0.1 (trusted by default) each forwarded client has its own connection cap."""
    srv = server_factory("--max-conns-per-address", "1")
    assert opened(srv.url, "a1", headers=xff(A))[1].startswith("40{")
    assert opened(srv.url, "b1", headers=xff(B))[1].startswith("40{")
    assert opened(srv.url, "a2", headers=xff(A))[1] == REFUSED
    assert opened(srv.url, "d1", headers={"Forwarded": 'for="[2001:db8::7]:443"'}
                  )[1].startswith("40{")


def test_untrusted_peer_header_is_ignored(server_factory, opened):
    """From 127.0.0.2 (not trusted) the header is ignored: both count as 127.0.0.2."""
    srv = server_factory("--max-conns-per-address", "1")
    assert opened(srv.url, "a1", source="127.0.0.2", headers=xff(A))[1].startswith("40{")
    assert opened(srv.url, "b1", source="127.0.0.2", headers=xff(B))[1] == REFUSED


def test_forwarded_allow_ips_chooses_the_trusted_peers(server_factory, opened):
    """--forwarded-allow-ips 127.0.0.2 trusts that peer and no longer 127.0.0.1."""
    srv = server_factory("--max-conns-per-address", "1", "--forwarded-allow-ips", "127.0.0.2")
    assert opened(srv.url, "a1", source="127.0.0.2", headers=xff(A))[1].startswith("40{")
    assert opened(srv.url, "b1", source="127.0.0.2", headers=xff(B))[1].startswith("40{")
    assert opened(srv.url, "c1", headers=xff(A))[1].startswith("40{")     # counted as 127.0.0.1
    assert opened(srv.url, "c2", headers=xff(B))[1] == REFUSED


def test_star_trusts_any_peer(server_factory, opened):
    """FORWARDED_ALLOW_IPS='*' believes the header whatever the peer."""
    srv = server_factory("--max-conns-per-address", "1", env={"FORWARDED_ALLOW_IPS": "*"})
    assert opened(srv.url, "a1", source="127.0.0.3", headers=xff(A))[1].startswith("40{")
    assert opened(srv.url, "b1", source="127.0.0.3", headers=xff(B))[1].startswith("40{")
    assert opened(srv.url, "a2", source="127.0.0.4", headers=xff(A))[1] == REFUSED


def test_polling_handshake_uses_the_forwarded_address(server_factory):
    """Over long-polling the address comes from the handshake request's header too."""
    srv = server_factory("--max-conns-per-address", "1")
    first = Client(srv.url, "a1", transport="polling", headers=xff(A))
    other = Client(srv.url, "b1", transport="polling", headers=xff(B))
    late = Client(srv.url, "a2", transport="polling", headers=xff(A), connect=False)
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            late.connect()
        assert late.refusal() == "too many connections from your address"
    finally:
        for c in (first, other, late):
            c.disconnect()


def test_message_rate_is_per_forwarded_address(server_factory, room):
    """--address-rate counts per forwarded client: A's budget does not stop B."""
    srv = server_factory("--address-rate", "2/30")
    a = Client(srv.url, "alice", headers=xff(A))
    a2 = Client(srv.url, "alice2", transport="polling", headers=xff(A))
    b = Client(srv.url, "bob", headers=xff(B))
    try:
        for c in (a, a2, b):
            c.call("join", {"room": room})
        assert a.call("message", {"room": room, "text": "1"})["ok"] is True
        assert a2.call("message", {"room": room, "text": "2"})["ok"] is True
        assert a.call("message", {"room": room, "text": "3"}) == {
            "ok": False, "error": "rate limited"}
        assert b.call("message", {"room": room, "text": "b"})["ok"] is True
    finally:
        for c in (a, a2, b):
            c.disconnect()


def test_log_lines_and_metrics_use_the_forwarded_address(server_factory):
    """A warning about a hostile client names the forwarded address; /metrics counts them."""
    srv = server_factory()
    quiet = RawSocket(srv.url, headers=xff(B))
    flooder = RawSocket(srv.url, headers=xff(A))
    try:
        quiet.connect_ns({"name": "quiet"})
        flooder.connect_ns({"name": "flooder"})
        flooder.send('42["rooms",{')          # malformed: closed with one warning line
        assert flooder.closed_within(5)
        deadline = time.monotonic() + timeout(5)
        while "closing a connection from %s" % A not in srv.log():
            assert time.monotonic() < deadline, srv.log()
            time.sleep(0.05)
        assert "closing a connection from 127.0.0.1" not in srv.log()
        body = urllib.request.urlopen(srv.url + "/metrics", timeout=timeout(5)).read().decode()
        assert re.search(r"^realtime_tracked_addresses 2\.0$", body, re.M), body
    finally:
        quiet.close()
        flooder.close()
