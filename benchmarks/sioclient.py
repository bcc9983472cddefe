"""A lean Socket.IO v5 client over WebSocket on asyncio, for load generation.

python-socketio's clients cost more CPU per event than the server under test,
so the generator would be the bottleneck.  This one does only what the
benchmark needs: the WebSocket upgrade, Engine.IO open/ping, namespace
connect, events with acks, and raw access to received events::

    client = SioClient(on_event=lambda ns, raw: ...)
    await client.connect("127.0.0.1", port, auth={"name": "b1"}, namespaces=("/",))
    client.emit("join", {"room": "r"}, ack=lambda reply, sent: ...)

Received events are handed over unparsed (``raw`` is the bytes after ``42``
and the namespace) so a receiver parses only what it measures.
"""

import asyncio
import base64
import json
import os
import struct
import time

try:  # faster on the generator side only; the server is unaffected
    import orjson

    def dumps(obj):
        return orjson.dumps(obj)
    loads = orjson.loads
except ImportError:  # pragma: no cover
    def dumps(obj):
        return json.dumps(obj, separators=(",", ":")).encode()
    loads = json.loads

_ZERO_MASK = b"\x00\x00\x00\x00"   # a valid mask key; XOR with it is a no-op


def _frame(payload, opcode=0x1):
    """A masked client frame (the zero key keeps the payload bytes as they are)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + _ZERO_MASK + payload


class ConnectError(Exception):
    """The server refused or did not complete the connection."""


class SioClient(asyncio.Protocol):
    """One Socket.IO connection; ``on_event(namespace, raw)`` gets each event."""

    def __init__(self, on_event=None, on_close=None):
        self.on_event = on_event
        self.on_close = on_close
        self.transport = None
        self._buf = bytearray()
        self._upgraded = False
        self._acks = {}
        self._ack_ids = 0
        self._namespaces = {}       # namespace -> future (connected)
        self._auth = {}
        self._opened = None
        self.closed = False

    # -- connecting -------------------------------------------------------

    async def connect(self, host, port, auth=None, namespaces=("/",), timeout=20.0,
                      local_addr=None):
        loop = asyncio.get_running_loop()
        self._opened = loop.create_future()
        for ns in namespaces:
            self._namespaces[ns] = loop.create_future()
            self._auth[ns] = auth if ns == "/" else None
        self._host = "%s:%d" % (host, port)
        await asyncio.wait_for(loop.create_connection(lambda: self, host, port,
                                                      local_addr=local_addr), timeout)
        await asyncio.wait_for(asyncio.gather(*self._namespaces.values()), timeout)
        return self

    def connection_made(self, transport):
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        request = ("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                   "Host: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                   % (self._host, key))
        transport.write(request.encode())

    def connection_lost(self, exc):
        self.closed = True
        for fut in self._namespaces.values():
            if not fut.done():
                fut.set_exception(ConnectError("connection lost"))
        if self.on_close:
            self.on_close(self)

    def close(self):
        if self.transport is not None and not self.closed:
            try:
                self.transport.write(_frame(b"", 0x8))
            except Exception:
                pass
            self.transport.close()

    # -- receiving --------------------------------------------------------

    def data_received(self, data):
        buf = self._buf
        buf += data
        if not self._upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[:end]).split(b"\r\n", 1)[0]
            if b" 101 " not in status:
                self._fail("upgrade refused: %r" % status)
                return
            del buf[:end + 4]
            self._upgraded = True
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            n = b1 & 0x7F
            head = 2
            if n == 126:
                if size - pos < 4:
                    break
                n = (buf[pos + 2] << 8) | buf[pos + 3]
                head = 4
            elif n == 127:
                if size - pos < 10:
                    break
                n = struct.unpack_from("!Q", buf, pos + 2)[0]
                head = 10
            if size - pos < head + n:
                break
            start = pos + head
            payload = bytes(buf[start:start + n])
            pos = start + n
            opcode = b0 & 0x0F
            if opcode == 0x1:
                self._packet(payload)
            elif opcode == 0x9:
                self.transport.write(_frame(payload, 0xA))
            elif opcode == 0x8:
                self.transport.close()
                break
        if pos:
            del buf[:pos]

    def _fail(self, why):
        for fut in self._namespaces.values():
            if not fut.done():
                fut.set_exception(ConnectError(why))
        self.transport.close()

    def _packet(self, p):
        kind = p[:1]
        if kind == b"4":
            sio = p[1:2]
            rest = p[2:]
            ns = "/"
            if rest[:1] == b"/":
                comma = rest.find(b",")
                ns, rest = rest[:comma].decode(), rest[comma + 1:]
            if sio == b"2":
                if self.on_event is not None:
                    self.on_event(ns, rest)
            elif sio == b"3":
                bracket = rest.find(b"[")
                cb = self._acks.pop(int(rest[:bracket]), None)
                if cb is not None:
                    fn, sent = cb
                    fn(loads(rest[bracket:])[0], sent)
            elif sio == b"0":
                fut = self._namespaces.get(ns)
                if fut is not None and not fut.done():
                    fut.set_result(True)
            elif sio == b"4":
                fut = self._namespaces.get(ns)
                if fut is not None and not fut.done():
                    fut.set_exception(ConnectError(rest.decode("utf-8", "replace")))
        elif kind == b"2":
            self.transport.write(_frame(b"3" + p[1:]))
        elif kind == b"0":
            for ns in self._namespaces:
                auth = self._auth.get(ns)
                prefix = b"40" if ns == "/" else b"40" + ns.encode() + b","
                self.transport.write(_frame(prefix + (dumps(auth) if auth is not None else b"")))

    # -- sending ----------------------------------------------------------

    def emit(self, event, data, ack=None, namespace="/"):
        """Send ``event`` with ``data``; ``ack(reply, sent_monotonic)`` on the ack."""
        prefix = b"42" if namespace == "/" else b"42" + namespace.encode() + b","
        if ack is not None:
            self._ack_ids += 1
            self._acks[self._ack_ids] = (ack, time.monotonic())
            prefix += str(self._ack_ids).encode()
        self.transport.write(_frame(prefix + dumps([event, data])))

    def call(self, event, data, namespace="/"):
        """Emit with an ack and return a future for the reply."""
        fut = asyncio.get_running_loop().create_future()

        def done(reply, sent):
            if not fut.done():
                fut.set_result(reply)
        self.emit(event, data, ack=done, namespace=namespace)
        return fut

    @property
    def outstanding(self):
        return len(self._acks)
