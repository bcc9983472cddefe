"""Build the whole server as one WSGI application::

    from realtime import create_app, Config
    app = create_app(Config(store="memory://"))   # a WSGI callable
    app.close()                                    # on shutdown

Run it with :func:`realtime.server.serve` or gunicorn's gevent-websocket
worker; both need a gevent-patched process.
"""

import logging

import socketio

from . import __version__, enginefix, jsoncodec
from .archive import Archive
from .chat import ChatNamespace
from .clock import ClockNamespace
from .config import Config
from .guard import GuardedServer, add_metrics
from .hubwatch import HubWatch
from .limits import Limits
from .metrics import Metrics
from .presence import LocalPresence
from .store import StoreError, open_store
from .web import HttpApp

log = logging.getLogger("realtime")


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


class App:
    """The WSGI app plus handles on its parts (``sio``, ``chat``, ``archive``)."""

    def __init__(self, config):
        enginefix.apply()
        self.config = config
        self.metrics = Metrics()
        self.hubwatch = HubWatch(self.metrics)
        self.archive = Archive(open_store(config.store))
        self.presence = LocalPresence()
        kwargs = {}
        if config.redis:
            kwargs["client_manager"] = socketio.RedisManager(config.redis)
        self.limits = Limits(config)
        self.sio = GuardedServer(
            limits=self.limits,
            packet_rate=config.parse("packet_rate"),
            max_queue=config.max_queue,
            async_mode="gevent",
            async_handlers=False,
            always_connect=False,
            cors_allowed_origins=_cors(config),
            max_http_buffer_size=config.max_packet,
            ping_interval=config.ping_interval,
            ping_timeout=config.ping_timeout,
            transports=["websocket"] if config.websocket_only else None,
            logger=False,
            engineio_logger=False,
            json=jsoncodec,
            **kwargs)
        self.chat = ChatNamespace(config, self.archive, self.presence, self.metrics,
                                  limits=self.limits)
        self.clock = ClockNamespace()
        self.sio.register_namespace(self.chat)
        self.sio.register_namespace(self.clock)
        add_metrics(self.metrics.registry, self.sio)
        self.wsgi = HttpApp(socketio.WSGIApp(self.sio), self.health, self.metrics.render)

    def __call__(self, environ, start_response):
        return self.wsgi(environ, start_response)

    def health(self):
        """``(ok, body)`` for /healthz: ok while the store answers."""
        # "unverified" lets the page warn that names are not checked (no secret)
        # and ask for a token when they are.
        body = {"status": "ok", "version": __version__, "store": self.archive.store.kind,
                "connections": len(self.chat.conns), "unverified": self.config.unverified}
        try:
            self.archive.ping()
            if self.archive.write_error:
                raise StoreError(self.archive.write_error)
        except StoreError as exc:
            self.metrics.store_up.set(0)
            body.update(status="degraded", error=str(exc))
            return False, body
        self.metrics.store_up.set(1)
        return True, body

    def shutdown(self, timeout):
        """Close every connection (clients will reconnect elsewhere) and flush the store."""
        for sid in list(self.sio.eio.sockets):
            try:
                self.sio.eio.disconnect(sid)
            except Exception:  # a socket already closing
                log.debug("closing %s failed", sid, exc_info=True)
        self.archive.drain(timeout)

    def close(self):
        self.hubwatch.stop()
        self.archive.close()
        self.presence.close()


def create_app(config=None):
    """Return the server's WSGI app for ``config`` (defaults when None)."""
    return App(config if config is not None else Config())
