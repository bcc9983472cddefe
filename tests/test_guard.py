"""Raw protocol abuse against the real server (realtime/transport/guard.py)."""

import json
import socket
import struct
import time
import urllib.error
import urllib.request

import pytest

from raw import RawSocket, connection_closed, host_port
from support import Client, ServerProcess, timeout


@pytest.fixture(scope="module")
def server():
    """One server for the module, with a 1 s header timeout."""
    srv = ServerProcess(["--header-timeout", "1"]).start()
    yield srv
    srv.kill()


@pytest.fixture
def raw(server):
    sockets = []

    def make(**kwargs):
        ws = RawSocket(server.url, **kwargs)
        sockets.append(ws)
        return ws
    yield make
    for ws in sockets:
        ws.close()


def assert_clean_log(server):
    assert "Traceback" not in server.log()


def assert_serving(server):
    c = Client(server.url, "checker")
    try:
        assert c.call("rooms", {})["ok"] is True
    finally:
        c.disconnect()


def test_unknown_namespace_gets_object_with_message(raw):
    """A connect to an unknown namespace is refused with {"message": ...}, not a bare string."""
    ws = raw()
    reply = ws.connect_ns({"name": "alice"}, namespace="/nope")
    assert reply.startswith("44/nope,")
    assert json.loads(reply[len("44/nope,"):]) == {"message": "Invalid namespace"}


def test_second_connect_on_same_namespace_is_refused(raw):
    """A second CONNECT to / on one session is refused with a message."""
    ws = raw()
    assert ws.connect_ns({"name": "alice"}).startswith("40{")
    reply = ws.connect_ns({"name": "mallory"})
    assert json.loads(reply[2:]) == {"message": "already connected to /"}


def test_event_without_name_gets_failure_ack_and_no_traceback(server, raw):
    """``42[]`` with an ack id gets a failure ack; the log stays free of tracebacks."""
    ws = raw()
    ws.connect_ns({"name": "alice"})
    ws.send("42[]")
    ws.send("427[]")
    reply = ws.expect(lambda p: p.startswith("437"))
    assert json.loads(reply[3:]) == [{"ok": False, "error": "malformed event packet."}]
    assert ws.call("rooms", {}, 8)["ok"] is True
    assert_clean_log(server)


def test_event_without_name_and_ack_is_dropped_silently(server, raw):
    """``42[]``, ``42[1]`` without an ack id: no answer, no log line, still open
    (docs/security.md)."""
    ws = raw()
    ws.connect_ns({"name": "alice"})
    before = server.log()
    for packet in ("42[]", "42[1]"):
        ws.send(packet)
    assert ws.call("rooms", {}, 9)["ok"] is True
    assert [p for p in ws.packets if not p.startswith(("0{", "40", "439"))] == []
    assert server.log() == before


def test_connect_packet_that_is_not_json_closes_the_connection(raw):
    """A CONNECT whose auth is not JSON (``40{bad``) gets no connect_error: the connection
    is closed (docs/protocol.md)."""
    ws = raw()
    ws.send("40{bad")
    assert ws.recv() == "1"
    assert ws.closed_within(5)


@pytest.mark.parametrize("packet", [
    "4zzz", "42[", "9", "x", "0", "1", "6", "2probe", "42{\"a\":1}", "42\"x\"", "41x", "4", "49", "44{}", "4/", "",
    pytest.param("42" + "[" * 20000 + "]" * 20000, id="nested-20000-deep"),
])
def test_malformed_packet_is_handled_quietly(server, raw, packet):
    """A malformed packet is dropped or closes its own connection, with no traceback logged."""
    other = raw()
    other.connect_ns({"name": "bob"})
    ws = raw()
    ws.connect_ns({"name": "alice"})
    ws.send(packet)
    ws.send('4299["rooms",{}]')
    reply = ws.recv()
    while reply is not None and not reply.startswith("4399"):
        reply = ws.recv()
    if reply is not None:                       # dropped: the connection still works
        assert json.loads(reply[4:])[0]["ok"] is True
    assert other.call("rooms", {}, 2)["ok"] is True
    assert_clean_log(server)


def test_client_cannot_trigger_connect_handler(raw):
    """An event named ``connect`` cannot rename a connection."""
    ws = raw()
    ws.connect_ns({"name": "alice"})
    ack = ws.call("connect", {"name": "mallory"}, 1)
    assert ack == {"ok": False, "error": "unknown event 'connect'."}
    ws.call("join", {"room": "guard-rename"}, 2)
    sent = ws.call("message", {"room": "guard-rename", "text": "who am i"}, 3)
    assert sent["message"]["name"] == "alice"


def test_client_cannot_fake_a_disconnect(raw):
    """An event named ``disconnect`` leaves the connection usable and present."""
    ws = raw()
    ws.connect_ns({"name": "alice"})
    ws.call("join", {"room": "guard-disc"}, 1)
    assert ws.call("disconnect", {}, 2)["ok"] is False
    assert ws.call("message", {"room": "guard-disc", "text": "still here"}, 3)["ok"] is True


def test_binary_attachment_is_refused_and_next_event_handled(raw):
    """A binary event gets a failure ack at once; a missing attachment cannot swallow packets."""
    ws = raw()
    ws.connect_ns({"name": "alice"})
    ws.send('451-1["message",{"_placeholder":true,"num":0}]')
    reply = ws.expect(lambda p: p.startswith("431"))
    assert json.loads(reply[3:]) == [{"ok": False, "error": "binary data is not accepted."}]
    assert ws.call("rooms", {}, 2)["ok"] is True
    ws.ws.send_binary(b"\x00" * 100)
    assert ws.call("rooms", {}, 3)["ok"] is True


def test_binary_payload_from_python_client_gets_failure_ack(server, room):
    """python-socketio's binary emit gets a failure ack and nothing is stored."""
    c = Client(server.url, "alice")
    try:
        c.call("join", {"room": room})
        ack = c.call("message", {"room": room, "text": b"\x00\x01"})
        assert ack == {"ok": False, "error": "binary data is not accepted."}
        assert c.call("history", {"room": room})["messages"] == []
    finally:
        c.disconnect()


def test_oversized_websocket_frame_is_refused_before_reading_it(server, raw):
    """A frame header announcing 10 MB closes that connection without waiting for the payload."""
    other = raw()
    other.connect_ns({"name": "bob"})
    ws = raw()
    ws.connect_ns({"name": "alice"})
    header = bytes([0x81, 0x80 | 127]) + struct.pack("!Q", 10 * 1024 * 1024) + b"\x00" * 4
    ws.sock.sendall(header + b"4" * 1000)
    assert ws.closed_within(3)
    assert other.call("rooms", {}, 1)["ok"] is True


def test_oversized_fragmented_message_is_refused(server, raw):
    """Fragments adding up to more than --max-packet close that connection."""
    ws = raw()
    ws.connect_ns({"name": "alice"})
    chunk = b"x" * 16000
    ws.ws.send_frame(__import__("websocket").ABNF.create_frame(chunk, 0x1, fin=0))
    for _ in range(5):
        ws.ws.send_frame(__import__("websocket").ABNF.create_frame(chunk, 0x0, fin=0))
    assert ws.closed_within(3)
    assert_serving(server)


@pytest.mark.parametrize("body", [b"", b"zzz", b"4", b"\x1e\x1e", b"9x", b"\xff\xfe"])
def test_malformed_polling_post_is_answered_without_traceback(server, body):
    """Garbage POSTed to a polling session gets an HTTP answer and no logged traceback."""
    base = server.url + "/socket.io/?EIO=4&transport=polling"
    opened = urllib.request.urlopen(base, timeout=timeout(5)).read().decode()
    sid = json.loads(opened[1:])["sid"]
    try:
        urllib.request.urlopen(urllib.request.Request(base + "&sid=" + sid, data=body),
                               timeout=timeout(5))
    except urllib.error.HTTPError as exc:
        assert exc.code == 400
    assert_clean_log(server)
    assert_serving(server)


def test_oversized_polling_post_is_refused(server):
    """A polling POST over --max-packet is refused; the server keeps serving."""
    base = server.url + "/socket.io/?EIO=4&transport=polling"
    opened = urllib.request.urlopen(base, timeout=timeout(5)).read().decode()
    sid = json.loads(opened[1:])["sid"]
    body = ("42" + json.dumps(["message", {"room": "x", "text": "y" * 70000}])).encode()
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(urllib.request.Request(base + "&sid=" + sid, data=body),
                               timeout=timeout(5))
    assert info.value.code in (400, 413)
    assert_serving(server)


def test_silent_tcp_connection_is_dropped(server):
    """A TCP connection that never sends a request is closed after --header-timeout."""
    sock = socket.create_connection(host_port(server.url))
    try:
        started = time.monotonic()
        assert connection_closed(sock, units=5)
        assert time.monotonic() - started < timeout(4)
    finally:
        sock.close()


def test_slow_loris_request_is_dropped(server):
    """Headers trickled a byte at a time are cut off after --header-timeout."""
    sock = socket.create_connection(host_port(server.url))
    sock.settimeout(0.2)
    try:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < timeout(5):
            try:
                sock.sendall(b"X")
                if sock.recv(1024) == b"":
                    closed = True
                    break
            except socket.timeout:
                continue
            except OSError:
                closed = True
                break
        assert closed, "a slow-loris request was still open after %.1fs" % timeout(5)
    finally:
        sock.close()


def test_header_timeout_does_not_cut_long_websocket_sessions(server, raw):
    """An open WebSocket outlives --header-timeout."""
    ws = raw()
    ws.connect_ns({"name": "alice"})
    time.sleep(timeout(1.5))
    assert ws.call("rooms", {}, 1)["ok"] is True


def test_silent_websocket_is_dropped_after_ping_timeout(server_factory):
    """A WebSocket peer that stops answering pings is closed after interval + timeout."""
    srv = server_factory("--ping-interval", "1", "--ping-timeout", "1")
    ws = RawSocket(srv.url)
    try:
        ws.connect_ns({"name": "alice"})
        ws.ws.settimeout(0.2)
        deadline = time.monotonic() + timeout(6)
        closed = False
        while time.monotonic() < deadline and not closed:
            try:
                opcode, _ = ws.ws.recv_data()      # read but never answer a ping
                closed = opcode == 0x8
            except __import__("websocket").WebSocketTimeoutException:
                continue
            except Exception:
                closed = True
        assert closed
    finally:
        ws.close()


def test_frame_flood_closes_the_flooder_only(server_factory, room):
    """A connection sending more than --packet-rate frames is closed; others keep going."""
    srv = server_factory("--packet-rate", "100/10")
    observer = Client(srv.url, "observer")
    other = Client(srv.url, "other")
    flooder = RawSocket(srv.url)
    try:
        observer.call("join", {"room": room})
        other.call("join", {"room": room})
        flooder.connect_ns({"name": "flooder"})
        flooder.call("join", {"room": room}, 1)
        typing = '42["typing",{"room":"%s","typing":true}]' % room
        sent = 0
        try:
            for _ in range(3000):
                flooder.send(typing)
                sent += 1
        except Exception:
            pass                                   # the server closed it mid-flood
        assert flooder.closed_within(5)
        assert other.call("message", {"room": room, "text": "still fine"})["ok"] is True
        time.sleep(timeout(0.5))
        seen = len([t for t in observer.events("typing") if t["name"] == "flooder"])
        assert seen <= 100, "%d of %d flood frames reached the room" % (seen, sent)
        assert "Traceback" not in srv.log()
    finally:
        flooder.close()
        observer.disconnect()
        other.disconnect()


def test_half_upgrade_request_gets_400_without_alarm(server):
    """``Upgrade: websocket`` without ``Connection: Upgrade``: a 400, no ERROR, no traceback."""
    sock = socket.create_connection(host_port(server.url), timeout=timeout(5))
    try:
        sock.sendall(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"
                     b"Upgrade: websocket\r\nConnection: keep-alive\r\n\r\n")
        assert sock.recv(1000).startswith(b"HTTP/1.1 400 ")
    finally:
        sock.close()
    assert_serving(server)
    assert_clean_log(server)
    assert " ERROR " not in server.log()
