"""Run an app on gevent's pywsgi with gevent-websocket, until SIGINT/SIGTERM::

    listener = bind(config)                # ListenError: one line saying why not
    serve(create_app(config), config, listener=listener)   # in a monkey-patched process
"""

import errno
import gc
import logging
import signal
import socket
import sys
import time

import gevent
import gevent.event
from gevent import pywsgi
from gevent.baseserver import parse_address
from geventwebsocket.handler import WebSocketHandler

from . import selfcheck
from .transport.handler import handler_class

log = logging.getLogger("realtime.server")

# How long a thread may hold the GIL while another waits for it (CPython's
# default is 5 ms).  The store's pool thread gives the GIL back at every
# SQLite call and must win it again from the busy hub thread each time: at
# 5 ms a group commit waits several times that long for the GIL alone.
SWITCH_INTERVAL = 0.0005
# Collections of the middle generation between two full collections (CPython: 10).
FULL_GC_EVERY = 1000
# Allocations between two young collections (CPython: 700).
YOUNG_GC_EVERY = 10000


def tune_process():
    """Process-wide settings of a server process; both entry points call it
    once the app is built."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    # What start-up built lives as long as the process: keep it out of every
    # later collection.
    gc.collect()
    gc.freeze()
    # A full collection scans every connection's objects and pauses the hub
    # for about a second per million objects; by default one runs each time
    # the heap grows by a quarter (six times while 15,000 clients connect,
    # up to 0.5 s each).  Young collections run 14 times rarer than by
    # default: the message path allocates hundreds of objects per message,
    # and each young (and every tenth, middle) collection also walks what
    # survived the last ones (4% of its instructions at 700).
    young, middle, full = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_GC_EVERY), middle, max(full, FULL_GC_EVERY))


class Server(pywsgi.WSGIServer):
    """pywsgi with WebSocket support and Nagle off on accepted sockets."""

    def __init__(self, listener, app, **kwargs):
        kwargs.setdefault("handler_class", WebSocketHandler)
        kwargs.setdefault("log", None)
        kwargs.setdefault("error_log", logging.getLogger("realtime.wsgi"))
        super().__init__(listener, app, **kwargs)
        # gevent-websocket logs every request at INFO through server.logger;
        # keep that access log for --log-level debug only.
        self.logger = logging.getLogger("realtime.access")
        if not self.logger.isEnabledFor(logging.DEBUG):
            self.logger.setLevel(logging.WARNING)

    def handle(self, sock, address):
        # Nagle against delayed ACK stalls each request/ack round trip ~40 ms.
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        return super().handle(sock, address)


class ListenError(Exception):
    """The server cannot listen where the config says; the message says why, in one line."""


def bind(config):
    """A socket listening on ``config.host:config.port``; :class:`ListenError` if impossible."""
    host, port = config.host, config.port
    where = "%s:%s" % ("[%s]" % host if ":" in host else host, port)
    try:
        family, address = parse_address((host, port))
        return Server.get_listener(address, family=family)
    except socket.gaierror:
        raise ListenError("cannot listen on %s: no such host name %r (--host / REALTIME_HOST)"
                          % (where, host)) from None
    except OverflowError:
        raise ListenError("cannot listen on %s: a TCP port is 0 to 65535 (--port / PORT)"
                          % where) from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            why = "the port is already in use by another program (--port / PORT)"
        elif exc.errno == errno.EADDRNOTAVAIL:
            why = "%s is not an address of this machine (--host / REALTIME_HOST)" % host
        elif exc.errno == errno.EACCES:
            why = "permission denied; ports below 1024 need root (--port / PORT)"
        else:
            why = "%s (--host / REALTIME_HOST, --port / PORT)" % (exc.strerror or exc)
        raise ListenError("cannot listen on %s: %s" % (where, why)) from None


def serve(app, config, out=sys.stdout, listener=None):
    """Listen on ``config.host:config.port`` (or ``listener``, from :func:`bind`),
    print the URL, serve until a signal.  Raises :class:`ListenError` if it cannot listen."""
    tune_process()
    server = Server(listener if listener is not None else bind(config), app,
                    handler_class=handler_class(config))
    server.start()
    host, port = server.address[:2]
    shown = "[%s]" % host if ":" in host else host
    selfcheck.startup(app, config, selfcheck.Host("realtime serve"))
    log.info("websocket handler: %s.%s", WebSocketHandler.__module__, WebSocketHandler.__name__)
    stopping = gevent.event.Event()

    def on_signal(signum):
        log.info("received %s, stopping", signal.Signals(signum).name)
        stopping.set()

    # Handlers first: a signal right after the start-up line must stop cleanly.
    for signum in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(signum, on_signal, signum)
    print("listening on http://%s:%d" % (shown, port), file=out, flush=True)
    stopping.wait()
    stop(server, app, config.shutdown_timeout)


def stop(server, app, timeout):
    """Stop accepting, finish in-flight acks, drop connections, flush, within ``timeout``."""
    started = time.monotonic()
    server.close()
    app.shutdown(timeout * 0.8)
    # Dropped connections end their handlers at once; cut any left over.
    server.stop(timeout=max(0.1, timeout - (time.monotonic() - started)))
    app.close(timeout=max(0.5, timeout - (time.monotonic() - started)))
    log.info("stopped in %.1f s", time.monotonic() - started)


def run(create, prog, argv=None, wsgi=None):
    """Serve ``create(config)`` with the settings of ``argv`` (the ``realtime serve``
    flags and environment); return the exit code.  For embedders' own entry points::

        sys.exit(realtime.server.run(create, "my_chat"))     # in a monkey-patched process

    A busy port, an unusable store or a bad setting is one line on stderr, exit 1.
    ``wsgi(app)`` picks what to serve when ``create`` returns a host app (a Flask
    app's ``wsgi_app``).
    """
    from .config import load
    from .store import StoreError
    config = load(sys.argv[1:] if argv is None else argv)
    try:
        listener = bind(config)
        app = create(config)
    except (ListenError, StoreError, ValueError) as exc:   # one line, not a traceback
        print("%s: %s" % (prog, exc), file=sys.stderr)
        return 1
    serve(wsgi(app) if wsgi else app, config, listener=listener)
    return 0
