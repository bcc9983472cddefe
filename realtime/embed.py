"""Mount the chat into an existing WSGI application (Flask, Django, Pyramid, ...)::

    import realtime
    app.wsgi_app = realtime.mount(app.wsgi_app, realtime.Config(store="sqlite:///chat.db"))

Requests are split by path:

- ``/socket.io/...``: the chat (Socket.IO, both transports);
- ``/api/...``: the HTTP API, when a key is configured (``--api-key``);
  without one these paths stay the host application's;
- ``<prefix>/`` and ``<prefix>/static/...``: the chat page and its assets
  (``<prefix>/healthz`` and ``<prefix>/metrics`` too); ``<prefix>`` alone
  redirects to ``<prefix>/`` so the page's relative asset URLs resolve;
- everything else: the host application, untouched.

The process must be gevent-patched and served by a WebSocket-capable gevent
server: :func:`realtime.server.serve` or gunicorn's
``geventwebsocket.gunicorn.workers.GeventWebSocketWorker`` (see
``examples/flask_app.py``).  :func:`mount` runs the same start-up checks
and logs the same lines as ``realtime serve`` (store, transports, demo
mode, workers without a message queue, ...), and sets up logging to stderr
when the host application has not.
"""

import logging
import sys

from .api.routes import is_api_path
from .web import _closing, _respond

SOCKETIO_PATH = "/socket.io"


class Mounted:
    """The combined WSGI app; ``chat`` is the realtime :class:`~realtime.app.App`.

    Every other attribute (``archive``, ``presence``, ``shutdown``,
    ``close``, ...) is the chat's, so :func:`realtime.server.serve` runs a
    mounted app exactly like its own.
    """

    _OWN = ("host_app", "chat", "prefix")

    def __init__(self, host_app, chat, prefix):
        object.__setattr__(self, "host_app", host_app)
        object.__setattr__(self, "chat", chat)
        object.__setattr__(self, "prefix", prefix)

    def __getattr__(self, name):
        return getattr(self.chat, name)

    def __setattr__(self, name, value):
        # Flags the server sets on its app (e.g. websocket_reported) belong to the chat.
        if name in self._OWN:
            object.__setattr__(self, name, value)
        else:
            setattr(self.chat, name, value)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO") or "/"
        if environ.get("HTTP_CONNECTION", "").lower() == "close":
            start_response = _closing(start_response)
        if path == SOCKETIO_PATH or path.startswith(SOCKETIO_PATH + "/"):
            return self.chat(environ, start_response)
        if self.chat.api.enabled and is_api_path(path):
            return self.chat(environ, start_response)
        if self.prefix and path == self.prefix:
            # Without the slash, the page's relative "static/..." URLs would
            # resolve against the host's root.
            query = environ.get("QUERY_STRING")
            location = environ.get("SCRIPT_NAME", "") + self.prefix + "/"
            if query:
                location += "?" + query
            return _respond(start_response, "308 Permanent Redirect", "text/plain",
                            b"moved\n", [("Location", location)])
        if (path.startswith(self.prefix + "/") if self.prefix else _is_page_path(path)):
            inner = dict(environ)
            inner["PATH_INFO"] = path[len(self.prefix):]
            inner["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + self.prefix
            return self.chat(inner, start_response)
        return self.host_app(environ, start_response)


def _is_page_path(path):
    return path in ("/", "/index.html", "/healthz", "/metrics") or path.startswith("/static/")


def mount(wsgi_app, config=None, prefix="/chat", authenticate=None, on_message=None):
    """Return a WSGI app serving the chat beside ``wsgi_app``.

    ``config`` is a :class:`realtime.Config` (defaults when None); ``prefix``
    is where the page lives (``"/chat"`` serves it at ``/chat/``; ``""``
    puts it at the root, in front of the host's ``/``).  Call ``.close()``
    on the result at shutdown to flush the store.  ``authenticate`` and
    ``on_message`` are the hooks of :mod:`realtime.hooks` (e.g. chat under the
    host app's login, see ``examples/flask_session_login.py``); the result's
    ``sio`` is the python-socketio server, for the host's own events.
    """
    prefix = (prefix or "").rstrip("/")
    if prefix and not prefix.startswith("/"):
        raise ValueError("prefix must start with '/', e.g. '/chat'")
    if prefix == SOCKETIO_PATH or prefix.startswith(SOCKETIO_PATH + "/"):
        raise ValueError("prefix must not be inside %s/" % SOCKETIO_PATH)
    from . import selfcheck
    from .app import create_app
    from .config import Config
    config = config if config is not None else Config()
    selfcheck.configure_logging(config)
    host = selfcheck.Host.of_gunicorn()
    try:
        chat = create_app(config, authenticate=authenticate, on_message=on_message)
    except Exception as exc:
        why = selfcheck.startup_failure(exc, config)
        if host is None or why is None:
            raise
        # Inside a gunicorn worker: one line, and gunicorn's "failed to boot"
        # exit code, which stops it instead of restarting the worker forever.
        logging.getLogger("realtime").error("realtime: %s", why)
        sys.exit(3)
    selfcheck.startup(chat, config, host or selfcheck.Host("embedded"))
    return Mounted(wsgi_app, chat, prefix)
