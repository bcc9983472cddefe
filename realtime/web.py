"""The HTTP side: the page and its assets, /healthz, /metrics, security headers.

:class:`HttpApp` is plain WSGI: requests under ``/socket.io/`` go to the
Socket.IO app, those under ``/api/`` to the HTTP API (:mod:`realtime.api`),
the rest is served here.
"""

import json
import mimetypes
import os

PAGE_HEADERS = [
    ("Content-Security-Policy",
     "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
     "form-action 'self'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
]


def web_dir():
    """Where the page lives: inside the installed package, else ``<repo>/web``."""
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (os.path.join(here, "web"), os.path.join(os.path.dirname(here), "web")):
        if os.path.isfile(os.path.join(candidate, "index.html")):
            return candidate
    raise RuntimeError("the web/ directory with index.html was not found")


class HttpApp:
    """WSGI app: ``socketio_app`` under ``socketio_path``, the rest served here."""

    def __init__(self, socketio_app, health, metrics, socketio_path="/socket.io",
                 static_dir=None, api=None):
        self.socketio_app = socketio_app
        self.api = api
        self.health = health
        self.metrics = metrics
        self.socketio_path = socketio_path.rstrip("/")
        self.static_dir = static_dir or web_dir()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO") or "/"
        if environ.get("HTTP_CONNECTION", "").lower() == "close":
            start_response = _closing(start_response)
        if path == self.socketio_path or path.startswith(self.socketio_path + "/"):
            return self.socketio_app(environ, start_response)
        if path == "/api" or path.startswith("/api/"):
            if self.api is None:
                return _respond(start_response, "404 Not Found", "application/json",
                                b'{"error":"the HTTP API is off on this server."}')
            return self.api(environ, start_response)
        if path == "/healthz":
            ok, body = self.health()
            return _respond(start_response, "200 OK" if ok else "503 Service Unavailable",
                            "application/json", json.dumps(body).encode())
        if path == "/metrics":
            body, ctype = self.metrics()
            return _respond(start_response, "200 OK", ctype, body)
        if path in ("/", "/index.html"):
            return self._file(start_response, "index.html", environ)
        if path.startswith("/static/"):
            return self._file(start_response, path[len("/static/"):], environ)
        return _respond(start_response, "404 Not Found", "text/plain", b"not found\n")

    def _file(self, start_response, relative, environ):
        root = os.path.realpath(self.static_dir)
        full = os.path.realpath(os.path.join(root, relative))
        if not full.startswith(root + os.sep) or not os.path.isfile(full):
            return _respond(start_response, "404 Not Found", "text/plain", b"not found\n")
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            return _respond(start_response, "405 Method Not Allowed", "text/plain",
                            b"method not allowed\n")
        ctype = mimetypes.guess_type(full)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/javascript",):
            ctype += "; charset=utf-8"
        with open(full, "rb") as f:
            body = f.read()
        return _respond(start_response, "200 OK", ctype, body,
                        PAGE_HEADERS + [("Cache-Control", "no-cache")])


def _respond(start_response, status, ctype, body, extra=()):
    headers = [("Content-Type", ctype), ("Content-Length", str(len(body)))]
    headers.extend(extra)
    if not any(name == "X-Content-Type-Options" for name, _ in headers):
        headers.append(("X-Content-Type-Options", "nosniff"))
    start_response(status, headers)
    return [body]


def _closing(start_response):
    # pywsgi drops the socket after a "Connection: close" request without
    # saying so; Node 19+ clients then reuse the dead socket ("socket hang up").
    def wrapped(status, headers, exc_info=None):
        if not any(name.lower() == "connection" for name, _ in headers):
            headers = list(headers) + [("Connection", "close")]
        return start_response(status, headers, exc_info)
    return wrapped
