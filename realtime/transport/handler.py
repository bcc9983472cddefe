"""The pywsgi handler: WebSocket support plus checks before any app code runs.

:func:`handler_class` builds it from the config.  It drops clients that are
slow to send their request line and headers (slow-loris, silent sockets),
refuses a WebSocket from a foreign Origin before answering 101, and reads
WebSocket frames through :class:`CappedWebSocket`, which refuses an
oversized message from its header and closes a connection that floods
frames::

    server = pywsgi.WSGIServer(addr, app, handler_class=handler_class(config))
"""

import logging
import struct
import time

import gevent
from geventwebsocket.exceptions import ProtocolError
from geventwebsocket.handler import WebSocketHandler
from geventwebsocket.websocket import Header, WebSocket

from ..rules import RateLimiter

log = logging.getLogger("realtime.guard")


class CappedWebSocket(WebSocket):
    """gevent-websocket's WebSocket that checks each frame header first.

    A frame (or fragmented message) over ``max_message`` bytes closes the
    connection (1009) before its payload is read; more frames than
    ``frames`` allows closes it too (1008).
    """

    __slots__ = ("max_message", "frames", "_size")

    def __init__(self, environ, stream, handler, max_message=64 * 1024, frames=None):
        super().__init__(environ, stream, handler)
        self.max_message = max_message
        self.frames = frames
        self._size = 0

    def read_frame(self):
        if self.frames is not None and not self.frames.allow(time.monotonic()):
            self._refuse(1008, "too many frames")
        header = Header.decode_header(self.stream)
        if header.opcode in (self.OPCODE_TEXT, self.OPCODE_BINARY):
            self._size = 0
        if header.opcode in (self.OPCODE_TEXT, self.OPCODE_BINARY, self.OPCODE_CONTINUATION):
            self._size += header.length
            if self._size > self.max_message:
                self._refuse(1009, "message too big")
        elif header.length > 125:
            raise ProtocolError("control frame too long")
        if header.flags:
            raise ProtocolError("reserved bits set")
        if not header.length:
            return header, b""
        payload = self.raw_read(header.length)
        if len(payload) != header.length:
            raise ProtocolError("unexpected end of stream in a frame")
        if header.mask:
            payload = header.unmask_payload(payload)
        return header, payload

    def receive(self):
        # A socket with data waiting never blocks, so a client that pipelines
        # frames would keep this greenlet running and starve every other
        # connection: yield to the hub once per message.
        gevent.sleep(0)
        message = super().receive()
        # engineio decodes a text frame without checking it first: an empty
        # frame or an unknown packet type would end in a logged traceback.
        if isinstance(message, str) and (not message or message[0] not in "0123456"):
            log.debug("closing a WebSocket: not an Engine.IO packet")
            self._close_with(1002, "not an Engine.IO packet")
            return None
        return message

    def _refuse(self, code, reason):
        log.debug("closing a WebSocket: %s", reason)
        self._close_with(code, reason)
        raise ProtocolError(reason)

    def _close_with(self, code, reason):
        # gevent-websocket's close() ignores its code argument: build the
        # close payload (status code + reason) here.
        try:
            self.close(message=struct.pack("!H", code) + reason.encode())
        except Exception:  # peer already gone
            pass


def origin_allowed(config, environ):
    """Whether a request's Origin may open a WebSocket (same rule as engineio's CORS)."""
    origin = environ.get("HTTP_ORIGIN")
    if not origin or "*" in config.cors or origin in config.cors:
        return True
    scheme, host = environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST", "")
    own = {"%s://%s" % (scheme, host)}
    # Behind a proxy the page's origin is the proxy's (engineio allows it too).
    proto = environ.get("HTTP_X_FORWARDED_PROTO", scheme).split(",")[0].strip()
    fhost = environ.get("HTTP_X_FORWARDED_HOST", host).split(",")[0].strip()
    own.add("%s://%s" % (proto, fhost))
    return origin in own


def handler_class(config):
    """The pywsgi handler class for ``config``: WebSocket + the checks above."""
    header_timeout = float(config.header_timeout)
    # An Engine.IO packet is one WebSocket message; allow the framing slack.
    max_message = int(config.max_packet) + 16
    frame_rate = config.parse("packet_rate")

    class GuardedHandler(WebSocketHandler):
        _header_timer = None

        def handle_one_request(self):
            # pywsgi waits forever for a request line and headers by default;
            # a slow-loris client would hold its greenlet and socket.
            timer = self._header_timer = gevent.Timeout(header_timeout) if header_timeout > 0 \
                else None
            if timer is not None:
                timer.start()
            try:
                return super().handle_one_request()
            except gevent.Timeout as exc:
                if exc is not timer:
                    raise
                self.close_connection = True
                return None
            finally:
                if timer is not None:
                    timer.close()

        def read_request(self, raw_requestline):
            result = super().read_request(raw_requestline)
            if self._header_timer is not None:
                self._header_timer.cancel()
            return result

        def upgrade_connection(self):
            # gevent-websocket answers 101 before the app runs, so engineio's
            # origin check could only close an already open WebSocket.
            if not origin_allowed(config, self.environ):
                self.start_response("403 Forbidden", [("Content-Type", "text/plain")])
                return [b"Not an accepted origin."]
            result = super().upgrade_connection()
            ws = getattr(self, "websocket", None)
            if ws is not None and type(ws) is WebSocket:
                frames = RateLimiter(*frame_rate) if frame_rate[0] else None
                ws.closed = True      # its __del__ would send a close frame
                self.websocket = CappedWebSocket(ws.environ, ws.stream, ws.handler,
                                                 max_message, frames)
                self.environ["wsgi.websocket"] = self.websocket
            return result

    return GuardedHandler
