"""The pywsgi handler: WebSocket support plus checks before any app code runs.

:func:`handler_class` builds it from the config.  It drops clients that are
slow to send their request line and headers (slow-loris, silent sockets),
refuses a WebSocket from a foreign Origin before answering 101, and hands
the app a :class:`~.websocket.FastWebSocket`, which refuses an oversized
message from its header, closes a connection that floods frames, and
writes without blocking::

    server = pywsgi.WSGIServer(addr, app, handler_class=handler_class(config))
"""

import gevent
from geventwebsocket.handler import WebSocketHandler
from geventwebsocket.websocket import WebSocket

from .websocket import FastWebSocket
from ..rules import RateLimiter


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

        def start_response(self, status, headers, exc_info=None):
            # pywsgi ends a "Connection: close" request's connection without
            # saying so; Node 19+ HTTP clients then reuse the dead socket.
            if self.close_connection and not any(
                    name.lower() == "connection" for name, _ in headers):
                headers = list(headers) + [("Connection", "close")]
            return super().start_response(status, headers, exc_info)

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
                self.websocket = FastWebSocket(ws.environ, ws.stream, ws.handler,
                                               max_message, frames)
                self.environ["wsgi.websocket"] = self.websocket
            return result

    return GuardedHandler
