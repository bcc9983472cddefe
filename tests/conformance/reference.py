"""The upstream suites' reference handlers, mounted on the product's own stack.

    python tests/conformance/reference.py socketio [--port 0]
    python tests/conformance/reference.py engineio [--port 0]

Prints ``listening on http://127.0.0.1:PORT`` once it serves.

- ``socketio``: the product's ``socketio.Server`` (:func:`realtime.transport.
  guard.socketio_server`: the guard, the Engine.IO layer, the fast path) on
  the product's pywsgi server and handler, at ``/socket.io/``.  Namespaces
  ``/`` and ``/custom`` accept any auth and emit ``auth`` with it right after
  the CONNECT reply; on ``/``, ``message`` is answered with ``message-back``
  (same arguments, binary included) and ``message-with-ack`` is acked with
  its arguments.  Binary attachments are accepted here (the chat refuses them).
- ``engineio``: the product's Engine.IO server (:class:`realtime.transport.
  engine.EngineServer`) alone at ``/engine.io/``, echoing every message.

Both run with the suites' figures: pingInterval ``PING_INTERVAL_MS`` (300),
pingTimeout ``PING_TIMEOUT_MS`` (200), maxPayload ``MAX_PAYLOAD`` (1000000),
CORS ``*``, and no flood limits (the suites open many sessions at once).
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

import engineio  # noqa: E402
import gevent  # noqa: E402
import gevent.event  # noqa: E402
import socketio  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from realtime.config import Config  # noqa: E402
from realtime.server import Server  # noqa: E402
from realtime.transport.engine import EngineServer  # noqa: E402
from realtime.transport.guard import socketio_server  # noqa: E402
from realtime.transport.handler import handler_class  # noqa: E402
from realtime.transport.limits import Limits  # noqa: E402

AUTH_DELAY = 0.01


def config():
    return Config(
        ping_interval=int(os.environ.get("PING_INTERVAL_MS", "300")) / 1000.0,
        ping_timeout=int(os.environ.get("PING_TIMEOUT_MS", "200")) / 1000.0,
        max_packet=int(os.environ.get("MAX_PAYLOAD", "1000000")),
        cors=("*",), max_queue=0, packet_rate="0", connect_rate="0", max_conns=0,
        max_conns_per_address=0, address_rate="0", address_join_rate="0")


def socketio_app(cfg):
    sio = socketio_server(cfg, Limits(cfg), cors_allowed_origins="*", accept_binary=True)

    def on_connect(namespace):
        def connect(sid, environ, auth=None):
            sio.start_background_task(emit_auth, sid, namespace, auth)
        return connect

    def emit_auth(sid, namespace, auth):
        # After the CONNECT reply, which goes out when the connect handler
        # returns, and a moment later: the suites' waitFor() loses the second
        # of two frames that reach it in one TCP read (see README.md).
        gevent.sleep(AUTH_DELAY)
        sio.emit("auth", auth if auth is not None else {}, to=sid, namespace=namespace)

    for namespace in ("/", "/custom"):
        sio.on("connect", on_connect(namespace), namespace=namespace)
    sio.on("message", lambda sid, *args: sio.emit("message-back", args, to=sid))
    sio.on("message-with-ack", lambda sid, *args: args)
    return socketio.WSGIApp(sio)


def engineio_app(cfg):
    eio = EngineServer(async_mode="gevent", ping_interval=cfg.ping_interval,
                       ping_timeout=cfg.ping_timeout, max_http_buffer_size=cfg.max_packet,
                       cors_allowed_origins="*")
    eio.on("message", lambda sid, data: eio.send(sid, data))
    return engineio.WSGIApp(eio, engineio_path="engine.io")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="reference.py")
    parser.add_argument("kind", choices=("socketio", "engineio"))
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    cfg = config()
    app = socketio_app(cfg) if args.kind == "socketio" else engineio_app(cfg)
    server = Server(("127.0.0.1", args.port), app, handler_class=handler_class(cfg))
    server.start()
    print("listening on http://127.0.0.1:%d" % server.address[1], flush=True)
    stopping = gevent.event.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(signum, stopping.set)
    stopping.wait()
    server.stop(timeout=1)


if __name__ == "__main__":
    main()
