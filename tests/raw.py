"""Raw clients for abuse tests: Socket.IO packets over a bare WebSocket, raw HTTP.

::

    ws = RawSocket(server.url)                    # Engine.IO open done
    ws.send('40{"name":"alice"}')                 # Socket.IO connect to /
    reply = ws.expect(lambda p: p.startswith("40"))
    ws = RawSocket(server.url, source="127.0.0.2")  # another client address
    ws = RawSocket(server.url, headers={"X-Forwarded-For": "198.51.100.7"})
"""

import json
import socket
import time
import urllib.parse

import websocket

from support import timeout


def host_port(url):
    parts = urllib.parse.urlsplit(url)
    return parts.hostname, parts.port


class RawSocket:
    """One Engine.IO WebSocket session; answers pings, records text packets."""

    def __init__(self, url, source=None, origin=None, handshake=True, headers=None,
                 rcvbuf=None):
        host, port = host_port(url)
        if rcvbuf:      # a small receive buffer, set before connecting (a slow reader)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            if source:
                sock.bind((source, 0))
            sock.settimeout(timeout(5))
            sock.connect((host, port))
        else:
            sock = socket.create_connection((host, port), timeout=timeout(5),
                                            source_address=(source, 0) if source else None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.ws = websocket.WebSocket()
        options = {"socket": sock}
        if headers:
            options["header"] = ["%s: %s" % item for item in dict(headers).items()]
        if origin is not None:
            options["origin"] = origin
        else:
            options["suppress_origin"] = True
        self.ws.connect("ws://%s:%d/socket.io/?EIO=4&transport=websocket" % (host, port),
                        **options)
        self.ws.settimeout(timeout(5))
        self.packets = []
        self.open = self.recv() if handshake else None

    def send(self, text):
        self.ws.send(text)

    def recv(self, units=5):
        """The next text packet (pings answered on the way); None when closed."""
        deadline = time.monotonic() + timeout(units)
        while True:
            self.ws.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                opcode, data = self.ws.recv_data()
            except websocket.WebSocketTimeoutException:
                raise
            except (websocket.WebSocketException, ConnectionError, OSError):
                return None
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return None
            if opcode != websocket.ABNF.OPCODE_TEXT:
                continue
            text = data.decode("utf-8")
            if text == "2":
                self.ws.send("3")
                continue
            self.packets.append(text)
            return text

    def expect(self, predicate, units=5):
        """Receive until a packet matches; AssertionError if none in time."""
        deadline = time.monotonic() + timeout(units)
        while time.monotonic() < deadline:
            try:
                packet = self.recv(units=max(0.05, (deadline - time.monotonic()) / timeout(1)))
            except websocket.WebSocketTimeoutException:
                break
            if packet is None:
                raise AssertionError("connection closed; got %r" % self.packets[-5:])
            if predicate(packet):
                return packet
        raise AssertionError("no matching packet; got %r" % self.packets[-5:])

    def connect_ns(self, auth=None, namespace="/"):
        """Send a Socket.IO CONNECT; return the reply packet (``40...`` or ``44...``)."""
        prefix = "" if namespace == "/" else namespace + ","
        self.send("40" + prefix + (json.dumps(auth) if auth is not None else ""))
        return self.expect(lambda p: p.startswith(("40" + prefix, "44" + prefix)))

    def call(self, event, data, ack_id):
        """Emit with an ack id; return the decoded ack argument."""
        self.send("42%d%s" % (ack_id, json.dumps([event, data])))
        reply = self.expect(lambda p: p.startswith("43%d[" % ack_id))
        return json.loads(reply[len("43%d" % ack_id):])[0]

    def closed_within(self, units=5):
        """True when the server closes the connection within the wait."""
        deadline = time.monotonic() + timeout(units)
        while time.monotonic() < deadline:
            try:
                if self.recv(units=0.2) is None:
                    return True
            except websocket.WebSocketTimeoutException:
                continue
        return False

    def close(self):
        try:
            self.ws.close(timeout=0.2)
        except Exception:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


def connection_closed(sock, units=5):
    """True when the peer closes a raw TCP socket within the wait (reads and drops data)."""
    sock.settimeout(0.2)
    deadline = time.monotonic() + timeout(units)
    while time.monotonic() < deadline:
        try:
            if sock.recv(65536) == b"":
                return True
        except socket.timeout:
            continue
        except (ConnectionError, OSError):
            return True
    return False
