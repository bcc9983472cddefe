"""The pywsgi handler: WebSocket support plus checks before any app code runs.

:func:`handler_class` builds it from the config.  It drops clients that are
slow to send their request line and headers (slow-loris, silent sockets),
refuses a WebSocket from a foreign Origin before answering 101, and hands
the app a :class:`~.websocket.FastWebSocket`, which refuses an oversized
message from its header, closes a connection that floods frames, and
writes without blocking::

    server = pywsgi.WSGIServer(addr, app, handler_class=handler_class(config))
"""

import base64
import hashlib

import gevent
from geventwebsocket.handler import WebSocketHandler

from .http import read_headers
from .websocket import FastWebSocket
from ..rules import RateLimiter


SWITCHING = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
             b"Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n")


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

        def MessageClass(self, rfile, *args):
            return read_headers(rfile)

        def upgrade_connection(self):
            """gevent-websocket's handshake, with a FastWebSocket for the app.

            Also refuses a foreign Origin before the 101: gevent-websocket
            answers 101 before the app runs, so engineio's origin check could
            only close an already open WebSocket.
            """
            if not origin_allowed(config, self.environ):
                self.start_response("403 Forbidden", [("Content-Type", "text/plain")])
                return [b"Not an accepted origin."]
            environ = self.environ
            version = environ.get("HTTP_SEC_WEBSOCKET_VERSION")
            if version not in self.SUPPORTED_VERSIONS:
                self.start_response("400 Bad Request", [
                    ("Sec-WebSocket-Version", ", ".join(self.SUPPORTED_VERSIONS))])
                return [b"Unsupported WebSocket Version"]
            key = environ.get("HTTP_SEC_WEBSOCKET_KEY", "").strip()
            try:
                valid = len(base64.b64decode(key, validate=True)) == 16
            except (ValueError, TypeError):
                valid = False
            if not valid:
                self.start_response("400 Bad Request", [])
                return [b"Invalid Sec-WebSocket-Key"]
            frames = RateLimiter(*frame_rate) if frame_rate[0] else None
            accept = base64.b64encode(hashlib.sha1((key + self.GUID).encode("latin-1"))
                                      .digest())
            # The 101 goes out with the first frame (the Engine.IO handshake):
            # one send() instead of pywsgi's header writer plus another.
            self.websocket = FastWebSocket(environ, None, self, max_message, frames,
                                           preamble=SWITCHING % accept)
            environ["wsgi.websocket_version"] = version
            environ["wsgi.websocket"] = self.websocket
            # What start_response("101 ...") would leave: nothing for pywsgi
            # to write, no keep-alive after the app returns.
            self.status = "101 Switching Protocols"
            self.code = 101
            self.headers_sent = True
            self.close_connection = True
            return None

    return GuardedHandler
