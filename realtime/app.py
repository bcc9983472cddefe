"""Build the whole server as one WSGI application::

    from realtime import create_app, Config
    app = create_app(Config(store="memory://"))   # a WSGI callable
    app.close()                                    # on shutdown

Run it with :func:`realtime.server.serve` or gunicorn's gevent-websocket
worker; both need a gevent-patched process.
"""

import logging
import time

import gevent
import socketio

from . import __version__, hooks
from .auth import Authenticator
from .api import Api
from .chat.clock import ClockNamespace
from .chat.control import LocalControl
from .chat.namespace import ChatNamespace
from .chat.presence import LocalPresence
from .config import SETTINGS, Config
from .hubwatch import HubWatch
from .metrics import Metrics
from .selfcheck import WebSocketCheck
from .store import StoreError, open_store
from .store.archive import Archive
from .store.retention import Retention
from .transport.connections import Connections, drop_engineio
from .transport.guard import add_metrics, socketio_server
from .transport import websocket
from .transport.limits import Limits
from .transport.websocket_only import PollingRefused
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


_DEFAULT_STORE = next(s.default for s in SETTINGS if s.name == "store")


def store_url(config):
    """The store to open: with ``--redis`` and no other ``--store``, Redis itself."""
    if config.redis and config.store == _DEFAULT_STORE:
        return config.redis
    return config.store


class App:
    """The WSGI app plus handles on its parts (``sio``, ``chat``, ``archive``).

    ``sio`` is the python-socketio server: a host app adds its own events or
    namespaces to it (``@app.sio.on("ping", namespace="/tools")``).
    ``authenticate`` and ``on_message`` are the hooks of :mod:`realtime.hooks`.
    """

    def __init__(self, config, authenticate=None, on_message=None):
        self.config = config
        # First: a bad JWT key is a start-up error before any store is opened.
        self.authenticator = Authenticator(config, authenticate)
        self.metrics = Metrics()
        self.hubwatch = HubWatch(self.metrics)
        self.archive = Archive(open_store(store_url(config)), corked=websocket.corked)
        self.retention = None
        if config.retention_days or config.retention_per_room:
            self.retention = Retention(self.archive, config.retention_days,
                                       config.retention_per_room, config.retention_interval,
                                       metrics=self.metrics)
        self.stopping = False
        self.websocket_reported = False     # see selfcheck.WebSocketCheck
        self.connections = Connections()
        kwargs = {}
        if config.redis:
            try:
                from .scaleout.control import RedisControl
                from .scaleout.presence import RedisPresence
                from .scaleout.pubsub import ChatRedisManager
            except ImportError as exc:
                raise ValueError("--redis / REALTIME_REDIS needs the redis package: "
                                 "install realtime with its [redis] extra, or "
                                 "pip install 'redis>=5' (%s)" % exc) from None
            kwargs["client_manager"] = ChatRedisManager(config.redis)
            self.presence = RedisPresence(config.redis, config.presence_ttl,
                                          on_change=self._presence_changed)
            self.control = RedisControl(config.redis)
        else:
            self.presence = LocalPresence()
            self.control = LocalControl()
        self.limits = Limits(config)
        self.sio = socketio_server(config, self.limits, cors_allowed_origins=_cors(config),
                                   **kwargs)
        self.chat = ChatNamespace(config, self.archive, self.presence, self.metrics,
                                  limits=self.limits, authenticator=self.authenticator,
                                  control=self.control)
        if on_message is not None:
            self.chat.message_hook = hooks.MessageHook(on_message, config.max_text)
        self.clock = ClockNamespace()
        self.sio.register_namespace(self.chat)
        self.sio.register_namespace(self.clock)
        add_metrics(self.metrics.registry, self.sio)
        if config.redis:
            kwargs["client_manager"].chat = self.chat
            self.chat.ordered = False       # messages of other processes interleave
            kwargs["client_manager"].on_resubscribe = self._resubscribed
        socketio_app = socketio.WSGIApp(self.sio)
        if config.websocket_only:
            socketio_app = PollingRefused(socketio_app)
        self.api = Api(self)
        self.wsgi = WebSocketCheck(HttpApp(socketio_app, self.health, self.metrics.render,
                                           api=self.api), self)

    def __call__(self, environ, start_response):
        return self.connections.serve(self.wsgi, environ, start_response, self.stopping)

    @property
    def unverified(self):
        """Demo mode: no secret, no JWT key and no ``authenticate`` hook check names."""
        return not self.authenticator.verified

    @property
    def sign_in(self):
        """How people sign in, for the page: ``host`` (the embedder's authenticate
        hook: no token needed), ``token`` (a secret or a JWT key) or ``name`` (demo)."""
        if self.authenticator.hook is not None:
            return "host"
        return "name" if self.unverified else "token"

    def post(self, room, name, text, cid=None):
        """Post ``text`` as ``name`` from server-side code (a bot, a job); see
        :func:`realtime.hooks.post`.  Returns a Later of the stored message."""
        return hooks.post(self.chat, room, name, text, cid)

    def _resubscribed(self):
        """Broadcasts were missed meanwhile: clients reconnect and replay with ``since``."""
        log.warning("message queue: dropping %d connection(s) so their clients replay "
                    "missed messages", len(self.sio.eio.sockets))
        self.sio.start_background_task(drop_engineio, self.sio)

    def _presence_changed(self, room, name, event, count):
        """Presence changes found by Redis presence (a reaped process, a resync)."""
        self.chat.announce(room, name, event, count)

    def health(self):
        """``(ok, body)`` for /healthz: ok while the store answers."""
        # "unverified" lets the page warn that names are not checked (no secret)
        # and ask for a token when they are.
        body = {"status": "ok", "version": __version__, "store": self.archive.store.kind,
                "connections": len(self.chat.conns), "unverified": self.unverified,
                "sign_in": self.sign_in}
        try:
            # Raises while the store fails; after a failed write, until a probe
            # write succeeds again.
            self.archive.ping()
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
        drop_engineio(self.sio)
        if detach is not None:
            self.presence.close()       # the leaves of everyone here, at once
        self.connections.cut(min(1.0, deadline - time.monotonic()))
        self.archive.drain(max(0.0, deadline - time.monotonic()))
        log.info("stopping: connections dropped, store flushed")

    def close(self, timeout=5.0):
        """Release presence and the store; a store call stuck past ``timeout`` s is abandoned."""
        self.hubwatch.stop()
        self.control.close()
        if self.retention is not None:
            self.retention.stop()
        self.presence.close()
        # A write blocked in a native thread would make the pool wait for it.
        with gevent.Timeout(timeout, False):
            self.archive.close()


def create_app(config=None, authenticate=None, on_message=None):
    """Return the server's WSGI app for ``config`` (defaults when None).

    ``authenticate(environ, auth)`` and ``on_message(message)`` are optional
    hooks (see :mod:`realtime.hooks`).
    """
    return App(config if config is not None else Config(), authenticate=authenticate,
               on_message=on_message)
