"""The transport's fast path (realtime/transport/): frames, heartbeat, slow readers,
greenlets per connection, and stock python-engineio left alone."""

import io
import json
import os
import random
import re
import subprocess
import sys
import time
import urllib.request

import pytest

from raw import RawSocket
from support import Client, env_for, timeout

from realtime.transport.websocket import frame, unmask


def metric(srv, name):
    text = urllib.request.urlopen(srv.url + "/metrics", timeout=timeout(5)).read().decode()
    return float(re.search(r"^%s ([0-9.e+]+)$" % name, text, re.M).group(1))


# -- frames ------------------------------------------------------------------------

@pytest.mark.parametrize("size,head", [(0, b"\x81\x00"), (125, b"\x81\x7d"),
                                       (126, b"\x81\x7e\x00\x7e"), (65535, b"\x81\x7e\xff\xff"),
                                       (65536, b"\x81\x7f" + (65536).to_bytes(8, "big"))])
def test_frame_header_carries_the_length(size, head):
    """frame() writes the 7-bit, 16-bit or 64-bit length form the RFC asks for."""
    data = frame(b"x" * size)
    assert data[:len(head)] == head and len(data) == len(head) + size


def test_unmask_matches_byte_by_byte_xor():
    """unmask() equals the RFC's per-byte XOR for every length around the key size."""
    rng = random.Random(7)
    for n in list(range(0, 12)) + [125, 126, 4099]:
        payload = bytes(rng.randrange(256) for _ in range(n))
        mask = bytes(rng.randrange(256) for _ in range(4))
        assert unmask(payload, mask) == bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


# -- the library stays stock -------------------------------------------------------

STOCK_CHECK = r'''
import io, json
from gevent import monkey; monkey.patch_all()
import engineio, engineio.json, engineio.payload, engineio.packet, engineio.socket
import socketio.packet
before = dict(engineio.socket.Socket.__dict__)
import realtime
app = realtime.create_app(realtime.Config(store="memory://"))
got = []
eio = engineio.Server(async_mode="gevent", async_handlers=False, ping_interval=0.5)
eio.on("message", lambda sid, data: got.append(data))
def call(method, query, body=b""):
    out = {}
    env = {"REQUEST_METHOD": method, "QUERY_STRING": query, "wsgi.input": io.BytesIO(body),
           "CONTENT_LENGTH": str(len(body)), "wsgi.url_scheme": "http", "HTTP_HOST": "x"}
    body = b"".join(eio.handle_request(env, lambda s, h: out.setdefault("status", s)))
    return out["status"], body.decode()
status, opened = call("GET", "EIO=4&transport=polling")
sid = json.loads(opened[1:])["sid"]
call("POST", "EIO=4&transport=polling&sid=" + sid, "\x1e".join(["4m"] * 17).encode())
print(json.dumps({
    "socket_class": type(eio.sockets[sid]).__module__ + "." + type(eio.sockets[sid]).__name__,
    "socket_dict_same": dict(engineio.socket.Socket.__dict__) == before,
    "max_decode_packets": engineio.payload.Payload.max_decode_packets,
    "eio_json": engineio.packet.Packet.json is engineio.json,
    "sio_json": socketio.packet.Packet.json is engineio.json,
    "ping_interval_ms": json.loads(opened[1:])["pingInterval"],
    "burst_delivered": len(got),
    "post_answer": call("POST", "EIO=4&transport=polling&sid=" + sid, b"4x")[1],
    "no_transport": call("GET", "EIO=4")[0],
}))
app.close()
'''


def test_stock_engineio_is_unchanged_after_create_app():
    """After create_app, a stock engineio.Server in the process keeps every stock behaviour."""
    out = subprocess.run([sys.executable, "-c", STOCK_CHECK], env=env_for(), timeout=timeout(30),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    stock = json.loads(out.stdout.decode().strip().splitlines()[-1])
    assert stock == {
        "socket_class": "engineio.socket.Socket", "socket_dict_same": True,
        "max_decode_packets": 16, "eio_json": True, "sio_json": True,
        "ping_interval_ms": 0,            # stock truncates 0.5 s; the product's says 500
        "burst_delivered": 0,             # stock drops a POST of 17 packets
        "post_answer": "OK", "no_transport": "200 OK"}


def test_product_engine_fixes_what_stock_does_differently():
    """The product's Engine.IO server: exact ping figures, POST bursts, 'ok', 400 without transport."""
    from realtime.transport.engine import EngineServer
    got = []
    eio = EngineServer(async_mode="gevent", async_handlers=False, ping_interval=0.5,
                       ping_timeout=0.25)
    eio.on("message", lambda sid, data: got.append(data))

    def call(method, query, body=b""):
        out = {}
        env = {"REQUEST_METHOD": method, "QUERY_STRING": query, "wsgi.input": io.BytesIO(body),
               "CONTENT_LENGTH": str(len(body)), "wsgi.url_scheme": "http", "HTTP_HOST": "x"}
        body = b"".join(eio.handle_request(env, lambda s, h: out.setdefault("status", s)))
        return out["status"], body.decode()

    _, opened = call("GET", "EIO=4&transport=polling")
    handshake = json.loads(opened[1:])
    assert (handshake["pingInterval"], handshake["pingTimeout"]) == (500, 250)
    post = call("POST", "EIO=4&transport=polling&sid=" + handshake["sid"],
                "\x1e".join(["4m"] * 17).encode())
    assert post == ("200 OK", "ok") and got == ["m"] * 17
    assert call("GET", "EIO=4")[0].startswith("400")
    assert call("PUT", "EIO=4&transport=polling")[0].startswith("400")
    eio.heartbeat.stop()


# -- heartbeat ---------------------------------------------------------------------

class FakeSession:
    def __init__(self):
        self.closing = self.closed = False
        self.last_ping = None
        self.sent, self.timed_out = [], False

    def send(self, pkt):
        self.sent.append(pkt.encode())

    def ping_timed_out(self):
        self.timed_out = self.closed = True


def test_one_heartbeat_pings_all_and_closes_the_silent():
    """One timer pings every session after the interval and times out those without a pong."""
    import gevent
    from realtime.transport.heartbeat import Heartbeat
    beat = Heartbeat(interval=0.05, timeout=0.05)
    quiet, chatty = [FakeSession() for _ in range(50)], [FakeSession() for _ in range(50)]
    for s in quiet + chatty:
        beat.ping_later(s)
    gevent.sleep(0.07)
    assert all(s.sent == ["2"] for s in quiet + chatty)
    for s in chatty:                  # their pongs
        s.last_ping = None
        beat.ping_later(s)
    gevent.sleep(0.06)
    assert all(s.timed_out for s in quiet)
    assert not any(s.timed_out for s in chatty) and all(s.sent == ["2", "2"] for s in chatty)
    beat.stop()


# -- the server ----------------------------------------------------------------------

def test_idle_websocket_connection_costs_one_greenlet(server_factory):
    """Idle WebSocket connections hold one greenlet each (no writer, no ping greenlet)."""
    srv = server_factory("--ping-interval", "1", "--ping-timeout", "5")
    time.sleep(timeout(0.5))
    before = metric(srv, "realtime_greenlets")
    sockets = [RawSocket(srv.url) for _ in range(40)]
    try:
        for ws in sockets:
            ws.connect_ns({"name": "idle"})
        time.sleep(1.5)               # a ping cycle went by
        for ws in sockets:            # answer it
            assert ws.call("rooms", {}, 1)["ok"] is True
        added = metric(srv, "realtime_greenlets") - before
        assert added <= 40 + 3, "%d greenlets for 40 idle connections" % added
    finally:
        for ws in sockets:
            ws.close()


def test_paused_reader_gets_every_frame_intact_and_in_order(server_factory, room):
    """A reader whose socket fills up gets every broadcast whole and in order once it reads."""
    srv = server_factory("--max-queue", "0")
    reader = RawSocket(srv.url, rcvbuf=4096)
    sender = Client(srv.url, "sender")
    try:
        reader.connect_ns({"name": "reader"})
        reader.call("join", {"room": room}, 1)
        sender.call("join", {"room": room})
        texts = ["%04d:%s" % (i, chr(0x41 + i % 26) * 1500) for i in range(300)]
        for text in texts:            # ~450 KB while the reader reads nothing
            assert sender.call("message", {"room": room, "text": text})["ok"] is True
        got = []
        while len(got) < len(texts):
            packet = reader.expect(lambda p: p.startswith('42["message"'), units=10)
            got.append(json.loads(packet[2:])[1]["text"])
        assert got == texts
    finally:
        reader.close()
        sender.disconnect()


def test_websocket_reader_that_never_reads_is_dropped_alone(server_factory, room):
    """Past --max-queue unsent frames a non-reading WebSocket client is dropped;
    the sender and the other members are not held up."""
    srv = server_factory("--max-queue", "20", "--max-text", "40000")
    stuck = RawSocket(srv.url, rcvbuf=4096)
    sender, other = Client(srv.url, "sender"), Client(srv.url, "other")
    try:
        stuck.connect_ns({"name": "stuck"})
        stuck.call("join", {"room": room}, 1)
        other.call("join", {"room": room})
        sender.call("join", {"room": room})
        started = time.monotonic()
        for i in range(200):          # 8 MB: more than any socket buffer holds
            ack = sender.call("message", {"room": room, "text": "%d %s" % (i, "y" * 39000)})
            assert ack["ok"] is True
        assert time.monotonic() - started < timeout(30)
        deadline = time.monotonic() + timeout(10)
        while time.monotonic() < deadline and not any(
                p["name"] == "stuck" and p["event"] == "leave" for p in sender.events("presence")):
            time.sleep(0.1)
        assert any(p["name"] == "stuck" for p in sender.events("presence")), "not dropped"
        while time.monotonic() < deadline and len(other.events("message")) < 200:
            time.sleep(0.1)
        assert [m["text"].split()[0] for m in other.events("message")] == [
            str(i) for i in range(200)]
        assert metric(srv, "realtime_slow_clients") >= 1
    finally:
        stuck.close()
        sender.disconnect()
        other.disconnect()
