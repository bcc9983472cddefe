"""Build the whole server as one WSGI application::

    from realtime import create_app, Config
    app = create_app(Config(store="memory://"))   # a WSGI callable
    app.close()                                    # on shutdown

Run it with :func:`realtime.server.serve` or gunicorn's gevent-websocket
worker; both need a gevent-patched process.
"""

import logging
import socket
import time
import weakref

import engineio.payload
import gevent
import socketio

from . import __version__
from .archive import Archive
from .chat import ChatNamespace
from .clock import ClockNamespace
from .config import SETTINGS, Config
from .hubwatch import HubWatch
from .metrics import Metrics
from .presence import LocalPresence
from .selfcheck import WebSocketCheck
from .store import StoreError, open_store
from .web import HttpApp, _closing

log = logging.getLogger("realtime")

# python-engineio silently drops a polling POST with more than 16 packets; the
# packet-size limit already bounds a POST, so allow a burst.
engineio.payload.Payload.max_decode_packets = 512


def _cors(config):
    """Same-origin by default; ``*`` for any; else the server's own plus a list."""
    if not config.cors:
        return None
    if "*" in config.cors:
        return "*"
    allowed = set(config.cors)

    def check(origin, environ):
        own = "%s://%s" % (environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST", ""))
        return origin == own or origin in allowed
    return check


def _tcp_socket(environ):
    """The connection's socket under gevent's pywsgi (its input file's raw socket)."""
    stream = environ.get("wsgi.input")
    stream = getattr(stream, "rfile", stream)
    return getattr(getattr(stream, "raw", None), "_sock", None)


_DEFAULT_STORE = next(s.default for s in SETTINGS if s.name == "store")


def store_url(config):
    """The store to open: with ``--redis`` and no other ``--store``, Redis itself."""
    if config.redis and config.store == _DEFAULT_STORE:
        return config.redis
    return config.store


class App:
    """The WSGI app plus handles on its parts (``sio``, ``chat``, ``archive``)."""

    def __init__(self, config):
        self.config = config
        self.metrics = Metrics()
        self.hubwatch = HubWatch(self.metrics)
        self.archive = Archive(open_store(store_url(config)))
        self.stopping = False
        self.websocket_reported = False     # see selfcheck.WebSocketCheck
        self._websockets = set()            # open gevent-websocket connections
        self._sockets = weakref.WeakSet()   # TCP connections that sent a request
        kwargs = {}
        if config.redis:
            from .presence_redis import RedisPresence
            from .pubsub import ChatRedisManager
            kwargs["client_manager"] = ChatRedisManager(config.redis)
            self.presence = RedisPresence(config.redis, config.presence_ttl,
                                          on_change=self._presence_changed)
        else:
            self.presence = LocalPresence()
        self.sio = socketio.Server(
            async_mode="gevent",
            async_handlers=False,
            always_connect=False,
            cors_allowed_origins=_cors(config),
            max_http_buffer_size=config.max_packet,
            ping_interval=config.ping_interval,
            transports=["websocket"] if config.websocket_only else None,
            logger=False,
            engineio_logger=False,
            **kwargs)
        self.chat = ChatNamespace(config, self.archive, self.presence, self.metrics)
        self.clock = ClockNamespace()
        self.sio.register_namespace(self.chat)
        self.sio.register_namespace(self.clock)
        if config.redis:
            kwargs["client_manager"].chat = self.chat
            self.chat.ordered = False       # messages of other processes interleave
            kwargs["client_manager"].on_resubscribe = self._resubscribed
        self.wsgi = WebSocketCheck(
            HttpApp(socketio.WSGIApp(self.sio), self.health, self.metrics.render), self)

    def __call__(self, environ, start_response):
        if self.stopping:
            # Keep-alive connections must not carry a reconnect back in here.
            start_response = _closing(start_response)
        sock = _tcp_socket(environ)
        if sock is not None:
            self._sockets.add(sock)
        ws = environ.get("wsgi.websocket")
        if ws is None:
            return self.wsgi(environ, start_response)
        # A WebSocket lives exactly as long as this call: track it for shutdown.
        self._websockets.add(ws)
        try:
            return self.wsgi(environ, start_response)
        finally:
            self._websockets.discard(ws)
            # pywsgi would wait for another request on this TCP connection
            # (and hold a gunicorn worker's graceful stop until its timeout).
            handler = getattr(ws, "handler", None)
            if handler is not None:
                handler.close_connection = True

    def _resubscribed(self):
        """Broadcasts were missed meanwhile: clients reconnect and replay with ``since``."""
        log.warning("message queue: dropping %d connection(s) so their clients replay "
                    "missed messages", len(self.sio.eio.sockets))
        self.sio.start_background_task(self._drop_connections)

    def _drop_connections(self):
        # No Engine.IO close packet and no Socket.IO disconnect: both make
        # clients stay away; a dropped transport makes them reconnect.
        for sid, sock in list(self.sio.eio.sockets.items()):
            try:
                sock.close(wait=False, abort=True,
                           reason=self.sio.eio.reason.SERVER_DISCONNECT)
            except Exception:  # a socket already closing
                log.debug("closing %s failed", sid, exc_info=True)

    def _presence_changed(self, room, name, event, count):
        """Presence changes found by Redis presence (a reaped process, a resync)."""
        self.sio.emit("presence", {"room": room, "name": name, "event": event,
                                   "count": count}, room=room, namespace="/")

    def health(self):
        """``(ok, body)`` for /healthz: ok while the store answers."""
        body = {"status": "ok", "version": __version__, "store": self.archive.store.kind,
                "connections": len(self.chat.conns)}
        try:
            self.archive.ping()
            if hasattr(self.presence, "ping"):
                try:
                    self.presence.ping()
                except Exception as exc:
                    raise StoreError("presence: redis is unavailable (%s)" % exc)
        except StoreError as exc:
            self.metrics.store_up.set(0)
            body.update(status="degraded", error=str(exc))
            return False, body
        self.metrics.store_up.set(1)
        return True, body

    def shutdown(self, timeout):
        """Graceful stop within ``timeout`` s: refuse new events and connections,
        let events in flight finish (their acks go out), then drop every
        connection so its client reconnects (to another process) and flush
        the store.  Call :meth:`close` after.
        """
        deadline = time.monotonic() + timeout
        self.stopping = self.chat.stopping = True
        log.info("stopping: %d connection(s), %d event(s) in flight",
                 len(self.sio.eio.sockets), self.chat.inflight)
        # Acks of events in flight are queued before the close below.
        while self.chat.inflight and time.monotonic() < deadline - timeout / 4:
            gevent.sleep(0.01)
        if self.chat.inflight:
            log.warning("stopping: %d event(s) still in flight after %.1f s",
                        self.chat.inflight, timeout * 3 / 4)
        detach = getattr(self.presence, "detach", None)
        if detach is not None:
            detach()
        self._drop_connections()
        if detach is not None:
            self.presence.close()       # the leaves of everyone here, at once
        # gevent-websocket's close leaves the TCP socket to the client; one
        # that does not close it would hold the worker until its hard timeout.
        with gevent.Timeout(min(1.0, max(0.0, deadline - time.monotonic())), False):
            while self._websockets:
                gevent.sleep(0.02)
        for ws in list(self._websockets):
            try:
                ws.handler.socket.shutdown(socket.SHUT_RDWR)
            except (AttributeError, OSError):
                pass
        # Idle keep-alive connections wait for a next request that may never
        # come; end their read side (a response being written still goes out).
        for sock in list(self._sockets):
            try:
                sock.shutdown(socket.SHUT_RD)
            except OSError:
                pass
        self.archive.drain(max(0.0, deadline - time.monotonic()))
        log.info("stopping: connections dropped, store flushed")

    def close(self, timeout=5.0):
        """Release presence and the store; a store call stuck past ``timeout`` s is abandoned."""
        self.hubwatch.stop()
        self.presence.close()
        # A write blocked in a native thread would make the pool wait for it.
        with gevent.Timeout(timeout, False):
            self.archive.close()


def create_app(config=None):
    """Return the server's WSGI app for ``config`` (defaults when None)."""
    return App(config if config is not None else Config())
