"""``--websocket-only``: a polling request gets a 400 that says what to do.

python-engineio answers a refused transport with ``400 "Invalid transport"``;
a client author then has to guess.  :class:`PollingRefused` answers every
Engine.IO request that is not a WebSocket with a JSON body in Engine.IO's
error shape (``{"code": 0, "message": ...}``, code 0 is "Transport unknown")
naming the fix::

    app = PollingRefused(socketio.WSGIApp(sio))     # only when websocket_only
"""

import json

MESSAGE = ("this server accepts only the WebSocket transport: connect with the WebSocket "
           "transport (socket.io-client: transports: [\"websocket\"]; python-socketio: "
           "connect(url, transports=[\"websocket\"]))")
BODY = json.dumps({"code": 0, "message": MESSAGE}).encode()


def is_polling(environ):
    """Whether an Engine.IO request uses long-polling (python-engineio's default transport)."""
    query = environ.get("QUERY_STRING", "")
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if name == "transport":
            return value != "websocket"
    return True


class PollingRefused:
    """WSGI middleware in front of the Socket.IO app: no long-polling, with a reason."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if is_polling(environ):
            start_response("400 Bad Request", [("Content-Type", "application/json"),
                                               ("Content-Length", str(len(BODY))),
                                               ("Cache-Control", "no-store")])
            return [BODY]
        return self.app(environ, start_response)
