"""Run an app on gevent's pywsgi with gevent-websocket, until SIGINT/SIGTERM::

    serve(create_app(config), config)     # in a monkey-patched process
"""

import logging
import signal
import socket
import sys

import gevent
import gevent.event
from gevent import pywsgi
from geventwebsocket.handler import WebSocketHandler

from .handler import handler_class

log = logging.getLogger("realtime.server")


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


def check_patched():
    """Log an error when the process is not gevent-patched (every client would stall)."""
    from gevent import monkey
    if not monkey.is_module_patched("socket"):
        log.error("sockets are not monkey-patched: run through `realtime` or "
                  "`python -m realtime`, or call gevent.monkey.patch_all() first")
        return False
    return True


def serve(app, config, out=sys.stdout):
    """Listen on ``config.host:config.port``, print the URL, serve until a signal."""
    check_patched()
    server = Server((config.host, config.port), app, handler_class=handler_class(config))
    server.start()
    host, port = server.address[:2]
    shown = "[%s]" % host if ":" in host else host
    log.info("store: %s", app.archive.store.describe())
    log.info("websocket handler: %s.%s", WebSocketHandler.__module__, WebSocketHandler.__name__)
    log.info("transports: %s", "websocket only" if config.websocket_only
             else "websocket and long-polling")
    if config.unverified:
        log.warning("no secret set: names are unverified (demo mode); set "
                    "REALTIME_SECRET or --secret to require tokens")
    stopping = gevent.event.Event()

    def on_signal(signum):
        log.info("received %s, stopping", signal.Signals(signum).name)
        stopping.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(signum, on_signal, signum)
    print("listening on http://%s:%d" % (shown, port), file=out, flush=True)
    stopping.wait()
    stop(server, app, config.shutdown_timeout)


def stop(server, app, timeout):
    """Stop accepting, close connections, flush the store, all within ``timeout``."""
    server.close()
    app.shutdown(timeout / 2)
    server.stop(timeout=timeout / 2)
    app.close()
    log.info("stopped")
