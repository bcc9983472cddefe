"""Start-up checks: silent misconfigurations become one clear log line each.

Both entry points call :func:`startup` once the app is built::

    host = Host.of_gunicorn() or Host("realtime serve")
    problems = startup(app, config, host)      # logs, returns the error lines

and :func:`create_app` wraps the app in :class:`WebSocketCheck`, which logs
once when a WebSocket upgrade arrives without ``wsgi.websocket`` (a server
without gevent-websocket's handler, e.g. ``gunicorn -k gevent``).
Nothing here stops the server: it says loudly what is wrong and serves on.
"""

import logging
import sys

log = logging.getLogger("realtime.selfcheck")

WEBSOCKET_WORKER = "geventwebsocket.gunicorn.workers.GeventWebSocketWorker"

NOT_PATCHED = ("sockets are not monkey-patched by gevent: every client will stall; "
               "run `realtime serve`, or gunicorn with -k %s and without --preload"
               % WEBSOCKET_WORKER)
NO_WEBSOCKET = ("the server does not provide wsgi.websocket (gevent-websocket's "
                "handler): WebSocket upgrades fail and clients fall back to polling; "
                "run gunicorn with -k %s" % WEBSOCKET_WORKER)
MANY_WORKERS = ("%d worker processes without a message queue: broadcasts, presence "
                "and sessions stay inside one worker (\"Invalid session\", lost "
                "messages); run -w 1, or set REALTIME_REDIS / --redis")


class Host:
    """What the app knows about the server process running it."""

    def __init__(self, kind, workers=1, worker_class=None, graceful_timeout=None,
                 worker=None):
        self.kind = kind
        self.workers = workers
        self.worker_class = worker_class
        self.graceful_timeout = graceful_timeout
        self.worker = worker        # the gunicorn worker object, when there is one

    @classmethod
    def of_gunicorn(cls):
        """The gunicorn worker (or arbiter, with --preload) loading this app, else None.

        gunicorn hands the app no handle on its settings, but the worker that
        imports the WSGI module is on the call stack: read ``cfg`` from it.
        """
        if "gunicorn" not in sys.modules:
            return None
        from gunicorn.arbiter import Arbiter
        from gunicorn.workers.base import Worker
        frame = sys._getframe(1)
        while frame is not None:
            obj = frame.f_locals.get("self")
            if isinstance(obj, (Worker, Arbiter)):
                cfg = obj.cfg
                worker_class = cfg.worker_class_str
                return cls("gunicorn", workers=cfg.workers, worker_class=worker_class,
                           graceful_timeout=cfg.graceful_timeout,
                           worker=obj if isinstance(obj, Worker) else None)
            frame = frame.f_back
        return None

    @property
    def first(self):
        """Whether this is the first worker gunicorn started (says deployment-wide things once)."""
        return getattr(self.worker, "age", 1) == 1

    @property
    def websocket(self):
        """True/False when the worker class says whether upgrades work; None if unknown."""
        if self.kind != "gunicorn":
            return True if self.kind == "realtime serve" else None
        name = self.worker_class or ""
        return name == WEBSOCKET_WORKER or name.endswith(".GeventWebSocketWorker")


def patched():
    from gevent import monkey
    return monkey.is_module_patched("socket")


def _gevent_websocket_installed():
    try:
        import geventwebsocket  # noqa: F401
    except ImportError:
        return False
    return True


def problems(config, host):
    """The error lines for this set-up (empty when all is well)."""
    found = []
    if not patched():
        found.append(NOT_PATCHED)
    if host.websocket is False and _gevent_websocket_installed():
        found.append(NO_WEBSOCKET)
    if host.workers > 1 and not config.redis and host.first:
        found.append(MANY_WORKERS % host.workers)
    return found


def transports_line(config):
    """The start-up line saying which transports are accepted, and what that needs."""
    if config.websocket_only:
        line = "transports: websocket only (polling clients are refused)"
        if config.redis:
            line += "; no sticky sessions needed across processes"
        return line
    line = "transports: websocket and long-polling"
    if config.redis:
        line += ("; long-polling across several processes needs sticky sessions "
                 "at the load balancer (or run with --websocket-only)")
    return line


def startup(app, config, host):
    """Log the start-up report and every problem; return the problem lines."""
    found = problems(config, host)
    for line in found:
        log.error(line)
    if NO_WEBSOCKET in found:
        app.websocket_reported = True
    if host.graceful_timeout is not None and host.graceful_timeout < config.shutdown_timeout:
        log.warning("gunicorn --graceful-timeout %s is shorter than --shutdown-timeout %s: "
                    "a stop may cut connections before in-flight acks finish",
                    host.graceful_timeout, config.shutdown_timeout)
    log.info("store: %s", app.archive.store.describe())
    log.info("server: %s, %d worker(s), presence: %s, message queue: %s",
             host.kind, host.workers, app.presence.kind, "redis" if config.redis else "none")
    log.info(transports_line(config))
    if config.unverified:
        log.warning("no secret set: names are unverified (demo mode); set "
                    "REALTIME_SECRET or --secret to require tokens")
    return found


class WebSocketCheck:
    """WSGI middleware: one error line at the first upgrade the server cannot do."""

    def __init__(self, app, owner):
        self.app = app
        self.owner = owner          # has ``websocket_reported``

    def __call__(self, environ, start_response):
        if (not self.owner.websocket_reported
                and environ.get("HTTP_UPGRADE", "").lower() == "websocket"
                and "wsgi.websocket" not in environ):
            self.owner.websocket_reported = True
            log.error(NO_WEBSOCKET)
        return self.app(environ, start_response)
