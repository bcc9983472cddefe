"""The fast path's WebSocket: gevent-websocket's connection with a faster
reader and a writer that never blocks the caller.

:class:`FastWebSocket` is what the product's pywsgi handler hands the app as
``wsgi.websocket`` (a stock gevent-websocket connection, as under gunicorn's
worker, is adopted by :meth:`FastWebSocket.adopt`)::

    ws.write(frame(b"42[...]"))      # from any greenlet: a non-blocking send()
    ws.backlog                       # frames waiting because the socket is full
    message = ws.receive()           # str, bytes, or None once closed

Writing: when nothing is queued, :meth:`~FastWebSocket.write` calls the
socket's non-blocking ``send()`` right there.  Only when the kernel buffer is
full does the rest of that frame (first) and every later frame go to a
queue, drained by a hub watcher that waits until the socket is writable, so
a partial write never interleaves with the next frame.

Reading: frame headers are checked before their payload is read (size cap,
reserved bits, an optional frame-rate limit), payloads are unmasked with one
big-integer XOR and text is checked by Python's UTF-8 codec (gevent-websocket
does both byte by byte in Python).
"""

import codecs
import collections
import logging
import socket
import struct
import time

import gevent
from geventwebsocket.exceptions import ProtocolError, WebSocketError
from geventwebsocket.websocket import WebSocket

log = logging.getLogger("realtime.guard")

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
# After the server sends a close frame, how long the peer has to answer it
# before the TCP connection is cut.
CLOSE_WAIT = 5.0
# A backed-up connection's queued frames are joined into sends of about this size.
SEND_CHUNK = 64 * 1024
# Bytes asked of the kernel per read (more when one frame needs more).
RECV_SIZE = 16 * 1024
_utf8 = codecs.getincrementaldecoder("utf-8")


class _Turns:
    """Hub turns, for joining one connection's writes of a turn into one send().

    ``mark`` changes when a turn with writes ends; ``dirty`` are the
    connections with frames held back until then.
    """

    def __init__(self):
        self.mark = object()
        self.scheduled = False
        self.dirty = []

    def schedule(self):
        self.scheduled = True
        gevent.get_hub().loop.run_callback(self.end)

    def end(self):
        self.scheduled = False
        self.mark = object()
        dirty, self.dirty = self.dirty, []
        for ws in dirty:
            try:
                ws._flush_pending()
            except Exception:  # never into the hub
                log.exception("websocket flush failed")
                ws.abort()


_turns = _Turns()


class _Gone:
    """Stands for a detached WebSocket in its pywsgi handler (closed: nothing to do)."""

    closed = True


def frame(payload, opcode=TEXT):
    """One unmasked, final WebSocket frame (bytes) carrying ``payload`` (bytes)."""
    n = len(payload)
    if n < 126:
        return bytes((0x80 | opcode, n)) + payload
    if n <= 0xFFFF:
        return struct.pack("!BBH", 0x80 | opcode, 126, n) + payload
    return struct.pack("!BBQ", 0x80 | opcode, 127, n) + payload


def unmask(payload, mask):
    """XOR ``payload`` with the 4-byte ``mask``, in C speed (one big-integer XOR)."""
    n = len(payload)
    if not n:
        return b""
    key = (mask * ((n >> 2) + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(
        n, "little")


class FastWebSocket(WebSocket):
    """gevent-websocket's ``WebSocket`` with the reader and writer described above.

    ``max_message``: a frame (or fragmented message) over it closes the
    connection (1009) before its payload is read.  ``frames``: an optional
    :class:`realtime.rules.RateLimiter`; a connection over it is closed (1008).
    """

    __slots__ = ("max_message", "frames", "_size", "_socket", "_out", "_watcher",
                 "_timer", "aborted", "_buf", "_pos", "owned", "_pending", "_turn",
                 "_preamble")

    def __init__(self, environ, stream, handler, max_message=64 * 1024, frames=None,
                 preamble=None):
        # Not WebSocket.__init__: it builds a pure-Python UTF-8 validator per
        # connection, which this reader does not use.
        self.environ = environ
        self.closed = False
        self.stream = stream        # unused here (the reader has its own buffer)
        self.raw_write = self.raw_read = None
        self.handler = handler
        self.max_message = max_message
        self.frames = frames
        self._size = 0
        self._socket = handler.socket
        self._out = None            # deque of bytes waiting for a writable socket
        self._watcher = None
        self._timer = None
        self.aborted = False
        self._buf = b""             # bytes received and not yet parsed (from _pos on)
        self._pos = 0
        self.owned = False          # detached: this object owns (and closes) the socket
        self._pending = None        # frames written in this hub turn after the first
        self._turn = None
        self._preamble = preamble   # HTTP response bytes to send with the first frame

    @classmethod
    def adopt(cls, ws, max_message):
        """A FastWebSocket on the connection of stock gevent-websocket ``ws``."""
        if isinstance(ws, cls):
            return ws
        fast = cls(ws.environ, ws.stream, ws.handler, max_message)
        ws.closed = True            # its __del__ would send a close frame
        try:
            fast._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        handler = ws.handler
        if getattr(handler, "websocket", None) is ws:
            handler.websocket = fast
        if ws.environ is not None and ws.environ.get("wsgi.websocket") is ws:
            ws.environ["wsgi.websocket"] = fast
        return fast

    def detach(self):
        """Take the connection over from its pywsgi handler.

        The handler's greenlet (with its deep stack, request environ and
        8 KB read buffer) can then end: the socket is duplicated, the
        handler forgets its own (so pywsgi neither reads from nor closes
        the connection), and every reference to the request is dropped.
        The caller reads on a fresh greenlet and calls :meth:`release`.
        """
        handler = self.handler
        if handler is None or self.owned:
            return
        rfile = getattr(handler, "rfile", None)
        pending = b""
        if rfile is not None:
            # Bytes a client sent before the 101 (not allowed, but harmless
            # to keep) sit in pywsgi's read buffer.
            old = self._socket.gettimeout()
            try:
                self._socket.settimeout(0.0)
                pending = rfile.peek(65536) or b""
                if pending:
                    rfile.read(len(pending))
            except (OSError, ValueError):
                pending = b""
            finally:
                self._socket.settimeout(old)
        own = self._socket.dup()
        own.settimeout(None)         # the heartbeat drops silent peers
        if self._watcher is not None:   # a write waiting on the old descriptor
            self._watcher.stop()
            self._watcher.close()
            self._watcher = gevent.get_hub().loop.io(own.fileno(), 2)
            self._watcher.start(self._on_writable)
        self._socket = own
        self.owned = True
        if pending:
            self._buf, self._pos = self._buf[self._pos:] + pending, 0
        handler.socket = None        # pywsgi must not read out or close it
        handler.websocket = _Gone
        if getattr(handler, "environ", None) is not None:
            handler.environ.pop("wsgi.websocket", None)
        self.environ = self.stream = self.raw_read = self.raw_write = self.handler = None

    # -- writing ----------------------------------------------------------------

    @property
    def backlog(self):
        """Frames (or pieces of them) waiting for the socket to become writable."""
        return (len(self._out) if self._out else 0) + (len(self._pending) if self._pending
                                                         else 0)

    def write(self, data, limit=0):
        """Send ``data`` (whole frames) now, or queue it behind earlier ones.

        The first write of a hub turn goes to ``send()`` at once; later ones
        in the same turn are joined and sent together when the turn ends
        (an ack and its broadcast, a batch of acks: one system call).
        Returns False, queueing nothing, when ``limit`` frames already wait.
        A lost connection swallows writes (its reader sees the end).
        """
        out = self._out
        if out is not None:
            if limit and len(out) >= limit:
                return False
            out.append(data)
            return True
        if self.aborted:
            return True
        pending = self._pending
        if pending is not None:
            if limit and len(pending) >= limit:
                return False
            pending.append(data)
            return True
        if self._turn is _turns.mark:
            self._pending = [data]
            _turns.dirty.append(self)
            return True
        self._turn = _turns.mark
        if not _turns.scheduled:
            _turns.schedule()
        self._send(data)
        return True

    def _send(self, data):
        if self._preamble is not None:
            data, self._preamble = self._preamble + data, None
        try:
            sent = self._socket._sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self.abort()
            return
        if sent == len(data):
            return
        # The socket buffer is full: the rest of this frame goes first.
        self._out = out = collections.deque()
        out.append(memoryview(data)[sent:] if sent else data)
        self._watcher = watcher = gevent.get_hub().loop.io(self._socket.fileno(), 2)
        watcher.start(self._on_writable)

    def _flush_pending(self):
        pending, self._pending = self._pending, None
        if not pending or self.aborted:
            return
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        if self._out is not None:
            self._out.append(data)
        else:
            self._send(data)

    def _on_writable(self):
        # Runs in the hub: never blocks, never raises.
        out = self._out
        if not out:
            self._stop_writer()
            return
        raw = self._socket._sock
        try:
            while out:
                if len(out) > 1 and len(out[0]) < SEND_CHUNK:
                    chunk, size = [], 0
                    while out and size < SEND_CHUNK:
                        piece = out.popleft()
                        chunk.append(piece)
                        size += len(piece)
                    data = b"".join(chunk)
                else:
                    data = out.popleft()
                try:
                    sent = raw.send(data)
                except BlockingIOError:
                    sent = 0
                if sent < len(data):
                    out.appendleft(memoryview(data)[sent:])
                    return          # the watcher calls again when writable
        except OSError:
            self.abort()
            return
        except Exception:  # never let an error escape into the hub
            log.exception("websocket writer failed")
            self.abort()
            return
        self._stop_writer()

    def _stop_writer(self):
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()
            watcher.close()
        if self._out is not None and not self._out:
            self._out = None

    def abort(self):
        """Drop the connection now: queued frames are discarded, TCP is shut down
        both ways, and the reading greenlet sees the end of the stream."""
        if self.aborted:
            return
        self.aborted = True
        self.closed = True
        self._out = self._pending = None
        self._stop_writer()
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.stop()
            timer.close()
        try:
            self._socket.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass

    def release(self):
        """The connection is done: stop the writer and the close timer; close
        the socket if this object owns it (after :meth:`detach`)."""
        self._stop_writer()
        self._out = self._pending = None
        self._buf = b""
        self.closed = True
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.stop()
            timer.close()
        if self.owned:
            self.owned = False
            try:
                self._socket.close()
            except OSError:
                pass

    def send_frame(self, message, opcode):
        if self.closed:
            raise WebSocketError("Connection is already closed")
        if isinstance(message, str):
            message = message.encode("utf-8")
        elif not isinstance(message, bytes):
            message = bytes(message)
        self.write(frame(message, opcode))

    def close(self, code=1000, message=b""):
        """Send a close frame (after whatever is queued); the peer's answer ends
        the reader.  A peer that never answers is cut after CLOSE_WAIT s."""
        if self.closed:
            return
        self.closed = True
        if isinstance(message, str):
            message = message.encode("utf-8")
        payload = struct.pack("!H", code) + (message or b"") if code else b""
        self.write(frame(payload[:125], CLOSE))
        if not self.aborted and self._timer is None:
            self._timer = timer = gevent.get_hub().loop.timer(CLOSE_WAIT)
            timer.start(self.abort)

    # -- reading ----------------------------------------------------------------

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
        # yield to the hub first whenever some are waiting.
        if yield_first and self._pos < len(self._buf):
            gevent.sleep(0)
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
