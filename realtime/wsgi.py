"""WSGI entry for gunicorn, configured from the environment only (``REALTIME_*``)::

    gunicorn -k geventwebsocket.gunicorn.workers.GeventWebSocketWorker -w 1 \\
        --worker-connections 10000 --bind 0.0.0.0:$PORT realtime.wsgi:app

gunicorn's gevent worker monkey-patches the process before it imports this
module, so nothing is patched here; :mod:`realtime.selfcheck` logs one
error line when that did not happen (another worker class, ``--preload``).

On SIGTERM the worker stops accepting (gunicorn) and the app drops its
connections after in-flight acks (``App.shutdown``, bounded by
``REALTIME_SHUTDOWN_TIMEOUT``); gunicorn then exits as soon as no request
is left, within its ``--graceful-timeout`` at most.
"""

import atexit
import logging
import signal
import sys

import gevent

from . import config as settings
from .app import create_app
from .selfcheck import Host, configure_logging, startup, startup_failure
from .server import tune_process

try:
    config = settings.from_sources()
except settings.SettingError as exc:    # a bad REALTIME_* value: one line, not a traceback
    configure_logging(settings.Config())
    logging.getLogger("realtime").error("realtime: %s", exc)
    sys.exit(3)                     # gunicorn's "worker failed to boot": it stops
configure_logging(config)
host = Host.of_gunicorn() or Host("wsgi")
try:
    app = create_app(config)
except Exception as exc:            # a store that cannot be opened, ...: one line
    why = startup_failure(exc, config)
    if why is None:
        raise
    logging.getLogger("realtime").error("realtime: %s", why)
    sys.exit(3)
startup(app, config, host)
tune_process()
atexit.register(app.close)


def _chain_sigterm(worker):
    """Run ``app.shutdown`` next to the worker's own SIGTERM handling."""
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum, frame):
        if callable(previous):
            previous(signum, frame)     # gunicorn: stop accepting, wait for requests
        if not app.stopping:
            gevent.spawn(app.shutdown, config.shutdown_timeout)

    signal.signal(signal.SIGTERM, on_sigterm)


if host.worker is not None:
    _chain_sigterm(host.worker)
