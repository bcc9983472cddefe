"""The baseline: a bare python-socketio app on the chat server's stack.

gevent pywsgi + gevent-websocket (Nagle off, as in realtime/server.py) and
python-socketio with its defaults, answering the chat's ``join`` and
``message`` events with the same ack shapes but no validation, storage or
presence, plus a ``/clock`` ticker.  Every benchmark figure is divided by
this app's figure from the same run::

    python -m benchmarks.bare --port 0      # prints "listening on http://..."
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import itertools  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402
import socketio  # noqa: E402
from gevent import pywsgi  # noqa: E402
from geventwebsocket.handler import WebSocketHandler  # noqa: E402


class NoDelayServer(pywsgi.WSGIServer):
    def handle(self, sock, address):
        # Without it each request/ack round trip stalls ~40 ms (Nagle vs delayed ACK).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super().handle(sock, address)


def build(async_handlers=True):
    sio = socketio.Server(async_mode="gevent", async_handlers=async_handlers)
    names = {}
    ids = itertools.count(1)

    @sio.on("connect")
    def connect(sid, environ, auth=None):
        names[sid] = (auth or {}).get("name", "anon")

    @sio.on("disconnect")
    def disconnect(sid, reason=None):
        names.pop(sid, None)

    @sio.on("join")
    def join(sid, data):
        sio.enter_room(sid, data["room"])
        return {"ok": True, "room": data["room"], "members": [], "history": [], "more": False}

    @sio.on("message")
    def message(sid, data):
        msg = {"id": next(ids), "room": data["room"], "name": names.get(sid),
               "text": data["text"], "ts": time.time_ns() // 1_000_000}
        sio.emit("message", msg, room=data["room"])
        return {"ok": True, "message": msg}

    @sio.on("connect", namespace="/clock")
    def clock_connect(sid, environ, auth=None):
        pass

    def ticker():
        while True:
            gevent.sleep(1.0 - (time.time() % 1.0))
            now = time.time_ns() // 1_000_000
            sio.emit("tick", {"ts": now, "iso": ""}, namespace="/clock")

    gevent.spawn(ticker)
    return socketio.WSGIApp(sio)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bare")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--sync-handlers", action="store_true",
                        help="async_handlers=False (events run in the reading greenlet)")
    args = parser.parse_args(argv)
    server = NoDelayServer((args.host, args.port), build(not args.sync_handlers),
                           handler_class=WebSocketHandler,
                           log=None)
    server.start()
    print("listening on http://%s:%d" % server.address[:2], flush=True)
    stopping = gevent.event.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(signum, stopping.set)
    stopping.wait()
    server.stop(timeout=1)


if __name__ == "__main__":
    main()
