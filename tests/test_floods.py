"""Flood limits against the real server: caps, per-address rates, a flooder next to others."""

import json
import statistics
import threading
import time
import urllib.request

import pytest
import socketio

from raw import RawSocket
from support import Client, timeout


def refusal(url, name="late"):
    """Connect a python-socketio client that must be refused; return the connect_error data."""
    sio = socketio.Client()
    got = []
    sio.on("connect_error", got.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        sio.connect(url, auth={"name": name}, transports=["websocket"],
                    wait_timeout=timeout(5))
    sio.disconnect()
    assert got, "no connect_error received"
    return got[0]


def test_connections_per_address_are_capped_with_a_message(server_factory):
    """Over --max-conns-per-address: connect_error says why; another address still connects."""
    srv = server_factory("--max-conns-per-address", "3")
    clients = [Client(srv.url, "c%d" % i) for i in range(3)]
    try:
        assert refusal(srv.url) == {"message": "too many connections from your address"}
        other = RawSocket(srv.url, source="127.0.0.2")
        assert other.connect_ns({"name": "elsewhere"}).startswith("40{")
        other.close()
        clients.pop().disconnect()
        time.sleep(timeout(0.3))
        clients.append(Client(srv.url, "again"))
    finally:
        for c in clients:
            c.disconnect()


def test_total_connections_are_capped_with_a_message(server_factory):
    """Over --max-conns every new client is refused with a message."""
    srv = server_factory("--max-conns", "2")
    clients = [Client(srv.url, "c%d" % i, transport="polling") for i in range(2)]
    try:
        assert refusal(srv.url) == {"message": "the server is full; try again later"}
        other = RawSocket(srv.url, source="127.0.0.3")
        assert other.connect_ns({"name": "elsewhere"}).startswith("44{")
        other.close()
    finally:
        for c in clients:
            c.disconnect()


def test_connect_rate_per_address_is_limited(server_factory):
    """Reconnecting in a loop is refused once --connect-rate is used up."""
    srv = server_factory("--connect-rate", "5/30")
    for i in range(5):
        Client(srv.url, "c%d" % i).disconnect()
    assert "too many connection attempts" in refusal(srv.url)["message"]
    other = RawSocket(srv.url, source="127.0.0.4")
    assert other.connect_ns({"name": "elsewhere"}).startswith("40{")
    other.close()


def test_message_rate_is_shared_by_connections_of_one_address(server_factory, room):
    """--address-rate counts message+dm of all connections of an address together."""
    srv = server_factory("--address-rate", "10/30")
    a, b = Client(srv.url, "a"), Client(srv.url, "b", transport="polling")
    other = RawSocket(srv.url, source="127.0.0.5")
    try:
        a.call("join", {"room": room})
        b.call("join", {"room": room})
        acks = [c.call("message", {"room": room, "text": "m%d" % i})
                for i in range(6) for c in (a, b)]
        assert [x["ok"] for x in acks].count(True) == 10
        assert acks[-1] == {"ok": False, "error": "rate limited"}
        assert b.call("dm", {"to": "a", "text": "hi"}) == {"ok": False, "error": "rate limited"}
        other.connect_ns({"name": "elsewhere"})
        other.call("join", {"room": room}, 1)
        assert other.call("message", {"room": room, "text": "fine"}, 2)["ok"] is True
        assert len(a.call("history", {"room": room})["messages"]) == 11
    finally:
        a.disconnect()
        b.disconnect()
        other.close()


def test_join_rate_per_connection_is_limited(server_factory):
    """Joins beyond --join-rate get a failure ack and join nothing."""
    srv = server_factory("--join-rate", "5/30")
    c = Client(srv.url, "joiner")
    try:
        acks = [c.call("join", {"room": "j%d" % i}) for i in range(6)]
        assert [a["ok"] for a in acks] == [True] * 5 + [False]
        assert acks[-1]["error"] == "rate limited"
        assert "j5" not in [r["room"] for r in c.call("rooms", {})["rooms"]]
    finally:
        c.disconnect()


def test_join_rate_per_address_is_limited(server_factory):
    """--address-join-rate counts joins of all connections of an address together."""
    srv = server_factory("--address-join-rate", "6/30")
    a, b = Client(srv.url, "a"), Client(srv.url, "b")
    try:
        acks = [c.call("join", {"room": "k%d" % i}) for i in range(4) for c in (a, b)]
        assert [x["ok"] for x in acks].count(True) == 6
    finally:
        a.disconnect()
        b.disconnect()


def test_flooder_does_not_stop_other_clients(server_factory, room):
    """While one client pipelines a message flood, the others still get every ack."""
    srv = server_factory("--rate", "20/10", "--packet-rate", "0")
    others = [Client(srv.url, "o%d" % i, transport=t)
              for i, t in enumerate(["websocket", "polling", "websocket"])]
    for c in others:
        c.call("join", {"room": room})
    flooder = RawSocket(srv.url)
    flooder.connect_ns({"name": "flooder"})
    flooder.call("join", {"room": room}, 1)
    stop = threading.Event()
    counts = {"sent": 0, "acked": 0, "refused": 0}

    def flood():                      # pipelined: never waits for its acks
        packet = '42%d["message",{"room":"' + room + '","text":"' + "x" * 1000 + '"}]'
        while not stop.is_set():
            flooder.send(packet % (counts["sent"] + 10))
            counts["sent"] += 1

    def drain():
        while not stop.is_set():
            try:
                p = flooder.recv(units=0.5)
            except Exception:
                continue
            if p and p.startswith("43"):
                counts["acked"] += 1
                counts["refused"] += '"rate limited"' in p

    def latencies(rounds=20):
        out = []
        for i in range(rounds):
            for c in others:
                started = time.perf_counter()
                # A bounded wait (2 units), like every wait in the suite: a
                # flooder that monopolises the hub stalls the others for seconds.
                ack = c.sio.call("history", {"room": room, "limit": 5}, timeout=timeout(2))
                out.append(time.perf_counter() - started)
                assert ack["ok"] is True
        return out

    threads = [threading.Thread(target=f, daemon=True) for f in (flood, drain)]
    try:
        quiet = latencies()
        for t in threads:
            t.start()
        time.sleep(timeout(0.5))
        started = time.monotonic()
        loaded = latencies()
        loaded_s = time.monotonic() - started
        stop.set()
        for t in threads:
            t.join(timeout(10))
        assert counts["refused"] > 0 and counts["acked"] - counts["refused"] <= 20
        assert len(others[0].call("history", {"room": room, "limit": 100})["messages"]) <= 20
        print("\nflood: %d message packets sent in ~%.1fs (%d acked, %d refused); others' "
              "ack latency ms: quiet median %.1f p95 %.1f max %.1f, flooded median %.1f "
              "p95 %.1f max %.1f" % (
                  counts["sent"], loaded_s + 0.5, counts["acked"], counts["refused"],
                  *(1000 * x for x in _stats(quiet)), *(1000 * x for x in _stats(loaded))))
    finally:
        stop.set()
        flooder.close()
        for c in others:
            c.disconnect()


def _stats(values):
    values = sorted(values)
    return statistics.median(values), values[int(len(values) * 0.95)], values[-1]


def test_client_that_does_not_read_is_disconnected(server_factory, room):
    """Broadcasts piling up for a client that never fetches them (--max-queue) drop it."""
    srv = server_factory("--max-queue", "20")
    base = srv.url + "/socket.io/?EIO=4&transport=polling"
    opened = urllib.request.urlopen(base, timeout=timeout(5)).read().decode()
    session = base + "&sid=" + json.loads(opened[1:])["sid"]

    def post(body):
        urllib.request.urlopen(urllib.request.Request(session, data=body.encode()),
                               timeout=timeout(5)).read()
    post('40{"name":"sleeper"}')
    post('421["join",{"room":"%s"}]' % room)          # then it never polls again
    sender = Client(srv.url, "sender")
    try:
        sender.call("join", {"room": room})
        for i in range(40):
            assert sender.call("message", {"room": room, "text": "m%d" % i})["ok"] is True
        left = sender.wait_for("presence", lambda p: p["name"] == "sleeper")
        assert left["event"] == "leave"
        assert sender.call("message", {"room": room, "text": "still fine"})["ok"] is True
    finally:
        sender.disconnect()
