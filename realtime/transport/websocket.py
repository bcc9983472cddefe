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

Reading is :class:`~.wsreader.FrameReader` (checks before payloads, fast
unmasking); frames are built by :mod:`.frames`.
"""

import collections
import logging
import socket
import struct

import gevent
from geventwebsocket.exceptions import WebSocketError
from geventwebsocket.websocket import WebSocket

from .frames import BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, frame, unmask
from .wsreader import FrameReader

__all__ = ["FastWebSocket", "corked", "frame", "unmask", "CONTINUATION", "TEXT", "BINARY", "CLOSE",
           "PING", "PONG"]

log = logging.getLogger("realtime.guard")

# After the server sends a close frame, how long the peer has to answer it
# before the TCP connection is cut.
CLOSE_WAIT = 5.0
# A backed-up connection's queued frames are joined into sends of about this size.
SEND_CHUNK = 64 * 1024


class _Turns:
    """Hub turns, for joining one connection's writes of a turn into one send().

    ``mark`` changes when a turn with writes ends; ``dirty`` are the
    connections with frames held back until then.
    """

    def __init__(self):
        self.mark = object()
        self.scheduled = False
        self.dirty = []
        self.corked = 0         # inside corked(): even first writes wait for its end

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


class _Corked:
    def __enter__(self):
        _turns.corked += 1

    def __exit__(self, *exc):
        _turns.corked -= 1
        if not _turns.corked:
            _turns.end()


_corked = _Corked()


def corked():
    """A context in which every write waits, joined per connection, for its end.

    For code that sends several frames to the same connections in a row
    (the store's delivery of a batch: a broadcast and an ack per message):
    one ``send()`` per connection at the end instead of one for the first
    frame and one for the rest::

        with corked():
            for callback, result in batch:
                callback(result)
    """
    return _corked


class _Gone:
    """Stands for a detached WebSocket in its pywsgi handler (closed: nothing to do)."""

    closed = True


class FastWebSocket(FrameReader, WebSocket):
    """gevent-websocket's ``WebSocket`` with the reader and writer described above.

    ``max_message``: a frame (or fragmented message) over it closes the
    connection (1009) before its payload is read.  ``frames``: an optional
    :class:`realtime.rules.RateLimiter`; a connection over it is closed (1008).
    """

    __slots__ = ("max_message", "frames", "_size", "_socket", "_out", "_watcher",
                 "_timer", "aborted", "_buf", "_pos", "_streak", "owned", "_pending", "_turn",
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
        self._streak = 0            # frames handled from _buf since the last yield
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
        if _turns.corked:
            self._pending = [data]
            _turns.dirty.append(self)
            return True
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
