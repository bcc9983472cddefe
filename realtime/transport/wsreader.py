"""The reading half of :class:`~.websocket.FastWebSocket`: frames to Engine.IO packets.

Frame headers are checked before their payload is read (size cap, reserved
bits, an optional frame-rate limit), payloads are unmasked with one
big-integer XOR and text is checked by Python's UTF-8 codec (gevent-websocket
does both byte by byte in Python)::

    message = ws.receive()        # str, bytes, or None once closed
"""

import codecs
import logging
import struct
import time

import gevent
from geventwebsocket.exceptions import ProtocolError, WebSocketError

from .frames import BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, unmask

log = logging.getLogger("realtime.guard")

# Frames handled from the read buffer in a row before yielding to the hub.
FRAMES_PER_YIELD = 2
# Bytes asked of the kernel per read (more when one frame needs more).
RECV_SIZE = 16 * 1024
_utf8 = codecs.getincrementaldecoder("utf-8")


class FrameReader:
    """Mixin of :class:`~.websocket.FastWebSocket` (which holds the state it reads:
    ``_buf``/``_pos``, ``_streak``, ``_socket``, ``max_message``, ``frames``, ``_size``)."""

    __slots__ = ()

    def read_frame(self):
        """``(fin, opcode, payload)`` of the next frame; checks come before the payload."""
        if self.frames is not None and not self.frames.allow(time.monotonic()):
            self._refuse(1008, "too many frames")
        read = self._read
        head = read(2)
        first, second = head[0], head[1]
        opcode = first & 0x0F
        length = second & 0x7F
        if first & 0x70:
            raise ProtocolError("reserved bits set")
        if length == 126:
            length = int.from_bytes(read(2), "big")
        elif length == 127:
            length = int.from_bytes(read(8), "big")
        if opcode in (TEXT, BINARY):
            self._size = length
            if length > self.max_message:
                self._refuse(1009, "message too big")
        elif opcode == CONTINUATION:
            self._size += length
            if self._size > self.max_message:
                self._refuse(1009, "message too big")
        elif length > 125 or not first & 0x80:
            raise ProtocolError("bad control frame")
        mask = read(4) if second & 0x80 else None
        if not length:
            return first & 0x80, opcode, b""
        payload = read(length)
        if mask is not None:
            payload = unmask(payload, mask)
        return first & 0x80, opcode, payload

    def _read(self, n):
        """Exactly ``n`` bytes from the connection (waiting as needed)."""
        buf, pos = self._buf, self._pos
        end = pos + n
        if end < len(buf):
            self._pos = end
            return buf[pos:end]
        if end == len(buf):
            self._buf, self._pos = b"", 0       # hold no buffer while idle
            return buf[pos:] if pos else buf
        parts = [buf[pos:]] if pos < len(buf) else []
        have = len(buf) - pos
        recv = self._socket.recv
        while have < n:
            chunk = recv(max(RECV_SIZE, n - have))
            if not chunk:
                raise WebSocketError("Unexpected EOF")
            parts.append(chunk)
            have += len(chunk)
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        if have == n:
            self._buf, self._pos = b"", 0
            return data
        self._buf, self._pos = data, n
        return data[:n]

    def read_message(self):
        """The next text (str) or binary (bytes) message; None after a close frame."""
        opcode = None
        parts = decoder = None
        while True:
            fin, op, payload = self.read_frame()
            if op == TEXT or op == BINARY:
                if opcode is not None:
                    raise ProtocolError("a new message inside a fragmented one")
                if fin:
                    return payload.decode("utf-8") if op == TEXT else payload
                opcode, parts = op, [payload]
                if op == TEXT:
                    decoder = _utf8()
                    decoder.decode(payload)         # fail fast on bad UTF-8
            elif op == CONTINUATION:
                if opcode is None:
                    raise ProtocolError("continuation without a message")
                parts.append(payload)
                if decoder is not None:
                    decoder.decode(payload)
                if fin:
                    data = b"".join(parts)
                    return data.decode("utf-8") if opcode == TEXT else data
            elif op == PING:
                self.send_frame(payload, PONG)
            elif op == PONG:
                pass
            elif op == CLOSE:
                self._peer_closed(payload)
                return None
            else:
                raise ProtocolError("unexpected opcode %d" % op)

    def _peer_closed(self, payload):
        code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1000
        if len(payload) == 1 or not self._is_valid_close_code(code):
            code = 1002
        else:
            try:
                payload[2:].decode("utf-8")
            except UnicodeError:
                code = 1007
        self.close(code)

    def receive(self, yield_first=True):
        """The next Engine.IO packet (str or bytes), or None once the connection ends."""
        # Frames already received would be handled without ever blocking, so
        # a client that pipelines frames would starve every other connection:
        # yield to the hub after every few frames handled straight from the
        # buffer (a yield per frame cost two greenlet switches per message).
        if self._pos < len(self._buf):
            self._streak += 1
            if yield_first and self._streak >= FRAMES_PER_YIELD:
                self._streak = 0
                gevent.sleep(0)
        else:
            self._streak = 0
        if self._preamble is not None:         # the peer waits for the 101 first
            self._send(b"")
        if self.closed and self._timer is None:
            return None
        try:
            message = self.read_message()
        except UnicodeError:
            self.close(1007, b"invalid UTF-8")
            return None
        except ProtocolError as exc:
            log.debug("closing a WebSocket: %s", exc)
            self.close(1002)
            return None
        except (WebSocketError, OSError, AttributeError, TypeError):
            return None            # end of stream, reset, or a stream already released
        if self.closed:
            return None            # closing: packets after the close are not handled
        # engineio decodes a text frame without checking it first: an empty
        # frame or an unknown packet type would end in a logged traceback.
        if message.__class__ is str and (not message or message[0] not in "0123456"):
            log.debug("closing a WebSocket: not an Engine.IO packet")
            self.close(1002, b"not an Engine.IO packet")
            return None
        return message

    def _refuse(self, code, reason):
        log.debug("closing a WebSocket: %s", reason)
        self.close(code, reason.encode())
        raise ProtocolError(reason)
