"""Start-up checks: silent misconfigurations become one clear log line each.

Every entry point (``realtime serve``, ``realtime.wsgi``, :func:`realtime.mount`)
calls :func:`startup` once the app is built::

    configure_logging(config)                  # unless the host app already did
    host = Host.of_gunicorn() or Host("realtime serve")
    problems = startup(app, config, host)      # logs, returns the error lines

and :func:`create_app` wraps the app in :class:`WebSocketCheck`, which logs
once when a WebSocket upgrade arrives without ``wsgi.websocket`` (a server
without gevent-websocket's handler, e.g. ``gunicorn -k gevent``) and answers
such upgrades with a 400 instead of a traceback per request.
Nothing here stops the server: it says loudly what is wrong and serves on.
"""

import json
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
REDIS_DOWN = "redis at %s (%s) is not usable: %s; %s and /healthz answers 503 until it is"
REDIS_STORE_DOWN = "messages get failure acks"
REDIS_QUEUE_DOWN = "broadcasts and presence stay inside this process"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(config):
    """Log to stderr at ``config.log_level``, unless the process already set logging up.

    A host application (Flask, Django, gunicorn's ``--log-config``) that
    configured the root logger keeps its own set-up.
    """
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=config.log_level.upper(), stream=sys.stderr,
                            format=LOG_FORMAT)
    if config.log_level.lower() != "debug":
        # gevent-websocket's per-request access lines (gunicorn's own access
        # log stays empty with its worker); shown with --log-level debug.
        logging.getLogger("geventwebsocket.handler").setLevel(logging.WARNING)


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


def _redis_urls(config):
    """``[(url, setting), ...]``: each Redis the app uses, with the setting naming it."""
    from .app import store_url
    urls = []
    if config.redis:
        urls.append((config.redis, "--redis / REALTIME_REDIS"))
    store = store_url(config)
    if store.split(":", 1)[0].lower() in ("redis", "rediss", "unix") and store != config.redis:
        urls.append((store, "--store / REALTIME_STORE"))
    return urls


def redis_problem(url):
    """Why the Redis at ``url`` cannot be used (unreachable, bad database index, ...), or None."""
    try:
        from .store.redis import client
        import redis
    except ImportError:
        return ("the redis package is not installed (install realtime with its [redis] "
                "extra, or pip install 'redis>=5')")
    conn = client(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        conn.ping()
    except redis.RedisError as exc:
        return str(exc).rstrip(".") or type(exc).__name__
    finally:
        conn.close()
    return None


def problems(config, host):
    """The error lines for this set-up (empty when all is well)."""
    found = []
    if not patched():
        found.append(NOT_PATCHED)
    if host.websocket is False and _gevent_websocket_installed():
        found.append(NO_WEBSOCKET)
    if host.workers > 1 and not config.redis and host.first:
        found.append(MANY_WORKERS % host.workers)
    from .app import store_url
    for url, setting in _redis_urls(config):
        why = redis_problem(url)
        if why:
            from .store.base import hide_password
            effect = REDIS_STORE_DOWN if url == store_url(config) else REDIS_QUEUE_DOWN
            found.append(REDIS_DOWN % (hide_password(url), setting, why, effect))
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


def startup_failure(exc, config):
    """The one line to print when building the app raised ``exc``; None if unexpected.

    A ``ValueError`` is a setting that cannot work (exit code 2); a store that
    cannot be opened is a problem of the machine (exit code 1).
    """
    from .app import store_url
    from .store import BadStoreURL, StoreError
    url = store_url(config)
    setting = ("--redis / REALTIME_REDIS" if url == config.redis and url != config.store
               else "--store / REALTIME_STORE")
    if isinstance(exc, StoreError):
        return "cannot open the store %s: %s (%s)" % (url, exc, setting)
    if isinstance(exc, BadStoreURL):
        return "%s (%s)" % (exc, setting)
    if isinstance(exc, ValueError):
        return str(exc)
    return None


def startup(app, config, host):
    """Log the start-up report and every problem; return the problem lines.

    Once per app: a mounted app reports when it is built, and a server that
    runs it later (``realtime.server.serve``) adds nothing.
    """
    if getattr(app, "startup_reported", False):
        return []
    app.startup_reported = True
    found = problems(config, host)
    for line in found:
        log.error(line)
    if NO_WEBSOCKET in found or host.websocket:
        # Reported already, or known to work: an odd upgrade request from a
        # client (no "Connection: Upgrade") must not raise a false alarm.
        app.websocket_reported = True
    if host.graceful_timeout is not None and host.graceful_timeout < config.shutdown_timeout:
        log.warning("gunicorn --graceful-timeout %s is shorter than --shutdown-timeout %s: "
                    "a stop may cut connections before in-flight acks finish",
                    host.graceful_timeout, config.shutdown_timeout)
    log.info("store: %s", app.archive.store.describe())
    log.info(retention_line(config))
    log.info("server: %s, %d worker(s), presence: %s, message queue: %s",
             host.kind, host.workers, app.presence.kind, "redis" if config.redis else "none")
    log.info(transports_line(config))
    api = getattr(app, "api", None)
    if api is not None and api.enabled:
        # The keys themselves never reach the log.
        log.info("HTTP API: on at /api/ (%d key(s); %s)", len(api.keys),
                 api.keys.describe_rate())
    if getattr(app, "unverified", config.unverified):
        log.warning("no secret set: names are unverified (demo mode); set "
                    "REALTIME_SECRET or --secret to require tokens")
    jwt = getattr(getattr(app, "authenticator", None), "jwt", None)
    if jwt is not None:
        log.info("tokens: %s", jwt.describe())
        if jwt.weak:
            log.warning("the JWT secret (--jwt-key) is shorter than %d bytes: it can be "
                        "guessed; use a long random secret or a public key", 32)
    return found


def retention_line(config):
    """What retention does, in one line for the start-up log."""
    rules = []
    if config.retention_days:
        rules.append("messages older than %g day(s)" % config.retention_days)
    if config.retention_per_room:
        rules.append("all but the newest %d messages of each room" % config.retention_per_room)
    if not rules:
        return "retention: off, every message is kept (--retention-days, --retention-per-room)"
    return "retention: removing %s, every %g s" % (" and ".join(rules),
                                                  config.retention_interval)


NO_UPGRADE_BODY = json.dumps({
    "code": 3, "message": "this server cannot accept WebSocket connections "
    "(see its log); use the polling transport"}).encode()


class WebSocketCheck:
    """WSGI middleware: one error line at the first upgrade the server cannot do.

    Such upgrades get a 400 here: python-engineio would raise and the server
    would log a traceback per request.
    """

    def __init__(self, app, owner):
        self.app = app
        self.owner = owner          # has ``websocket_reported``

    def __call__(self, environ, start_response):
        if (environ.get("HTTP_UPGRADE", "").lower() == "websocket"
                and "wsgi.websocket" not in environ):
            if not self.owner.websocket_reported:
                self.owner.websocket_reported = True
                log.error(NO_WEBSOCKET)
            start_response("400 Bad Request", [("Content-Type", "application/json"),
                                               ("Content-Length", str(len(NO_UPGRADE_BODY)))])
            return [NO_UPGRADE_BODY]
        return self.app(environ, start_response)
