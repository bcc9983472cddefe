"""The TCP side of a graceful stop under gevent's pywsgi (``realtime serve``
and gunicorn's gevent-websocket worker)::

    tracker = Connections()
    result = tracker.serve(wsgi_app, environ, start_response, closing=stopping)
    ...
    drop_engineio(sio)          # every Socket.IO client reconnects
    tracker.cut(1.0)            # TCP connections that would linger end too

Why: a server stop waits for every connection's handler.  gevent-websocket's
``close()`` leaves the TCP socket to the client, pywsgi then waits for a
next request on it, and an idle keep-alive connection waits forever; each
would hold a gunicorn worker until its hard ``--graceful-timeout``.
"""

import logging
import socket
import weakref

import gevent

from ..web import _closing

log = logging.getLogger("realtime")


def _tcp_socket(environ):
    """The connection's socket under gevent's pywsgi (its input file's raw socket)."""
    stream = environ.get("wsgi.input")
    stream = getattr(stream, "rfile", stream)
    return getattr(getattr(stream, "raw", None), "_sock", None)


def drop_engineio(sio):
    """Drop every Engine.IO connection of ``sio`` so that its client reconnects.

    No Engine.IO close packet and no Socket.IO disconnect: both make clients
    stay away (python-socketio for the first, every client for the second);
    a dropped transport makes them reconnect.  Acks already queued go first.
    """
    for sid, sock in list(sio.eio.sockets.items()):
        try:
            sock.close(wait=False, abort=True, reason=sio.eio.reason.SERVER_DISCONNECT)
        except Exception:  # a socket already closing
            log.debug("closing %s failed", sid, exc_info=True)


class Connections:
    """The TCP connections that reached the app, so that a stop can end them."""

    def __init__(self):
        self._websockets = set()            # open gevent-websocket connections
        self._detached = set()              # WebSockets read off their handler (hold())
        self._sockets = weakref.WeakSet()   # TCP connections that sent a request

    def hold(self, ws):
        """Track a WebSocket that outlives its request (read on its own greenlet)."""
        self._detached.add(ws)

    def release(self, ws):
        self._detached.discard(ws)

    def serve(self, app, environ, start_response, closing=False):
        """Call ``app``; with ``closing`` the response says ``Connection: close``."""
        if closing:
            # Keep-alive connections must not carry a reconnect back in here.
            start_response = _closing(start_response)
        sock = _tcp_socket(environ)
        if sock is not None:
            self._sockets.add(sock)
        ws = environ.get("wsgi.websocket")
        if ws is None:
            return app(environ, start_response)
        # A WebSocket lives as long as this call, or until release() once held.
        environ["realtime.connections"] = self
        self._websockets.add(ws)
        try:
            return app(environ, start_response)
        finally:
            self._websockets.discard(ws)
            # Otherwise pywsgi waits for another request on this connection.
            handler = getattr(ws, "handler", None)
            if handler is not None:
                handler.close_connection = True

    def cut(self, grace):
        """After ``grace`` s for clients to close, end every connection still open.

        WebSockets are shut down both ways; other connections on their read
        side only, so a response being written still goes out.
        """
        with gevent.Timeout(max(0.0, grace), False):
            while self._websockets or self._detached:
                gevent.sleep(0.02)
        for ws in list(self._detached):
            ws.abort()
        for ws in list(self._websockets):
            try:
                ws.handler.socket.shutdown(socket.SHUT_RDWR)
            except (AttributeError, OSError):
                pass
        for sock in list(self._sockets):
            try:
                sock.shutdown(socket.SHUT_RD)
            except OSError:
                pass
