"""Graceful stop on SIGTERM: in-flight acks finish, clients are dropped to reconnect,
the process exits within the shutdown timeout, under `realtime serve` and gunicorn."""

import signal
import sqlite3
import threading
import time

import pytest

from support import Client, ServerProcess, timeout
from support_deploy import GunicornProcess


def start(kind, shutdown_timeout):
    if kind == "serve":
        srv = ServerProcess(["--shutdown-timeout", str(shutdown_timeout)])
        srv.db = srv.store[len("sqlite:///"):]
        return srv.start()
    srv = GunicornProcess(env={"REALTIME_SHUTDOWN_TIMEOUT": str(shutdown_timeout)})
    srv.db = srv.env["REALTIME_STORE"][len("sqlite:///"):]
    return srv.start()


@pytest.fixture(params=["serve", "gunicorn"])
def kind(request):
    return request.param


@pytest.fixture
def servers():
    started = []
    yield started
    for srv in started:
        srv.kill()


def stop_in_background(srv):
    """SIGTERM now; the returned dict gets the exit code and seconds taken."""
    out = {}
    began = time.monotonic()

    def run():
        out["code"] = srv.stop(signal.SIGTERM)
        out["seconds"] = time.monotonic() - began
    t = threading.Thread(target=run, daemon=True)
    t.start()
    out["thread"] = t
    return out


def lock_store(path):
    """Hold SQLite's write lock from outside, so a store write waits for us."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("BEGIN EXCLUSIVE")
    return db


def test_in_flight_ack_completes(kind, servers, room):
    """A message being stored when SIGTERM arrives is stored and acked before the drop."""
    srv = start(kind, 10)
    servers.append(srv)
    c = Client(srv.url, "alice", transport="websocket")
    assert c.call("join", {"room": room})["ok"]
    acks = []
    got = threading.Event()
    db = lock_store(srv.db)
    c.sio.emit("message", {"room": room, "text": "in flight"},
               callback=lambda ack: (acks.append(ack), got.set()))
    time.sleep(timeout(0.3))            # the write is now waiting for the lock
    stopping = stop_in_background(srv)
    time.sleep(timeout(0.5))
    db.execute("ROLLBACK")
    db.close()
    assert got.wait(timeout(5)), "no ack"
    assert acks[0]["ok"] and acks[0]["message"]["text"] == "in flight"
    stopping["thread"].join(timeout(20))
    assert stopping.get("code") == 0 and stopping["seconds"] < 10, srv.log()[-3000:]
    rows = sqlite3.connect(srv.db).execute("SELECT text FROM messages").fetchall()
    assert rows == [("in flight",)]


def test_exit_is_bounded_by_shutdown_timeout(servers, room):
    """An event stuck in the store cannot hold `realtime serve` past --shutdown-timeout."""
    srv = start("serve", 2)
    servers.append(srv)
    c = Client(srv.url, "alice", transport="websocket")
    assert c.call("join", {"room": room})["ok"]
    db = lock_store(srv.db)
    try:
        c.sio.emit("message", {"room": room, "text": "stuck"}, callback=lambda ack: None)
        time.sleep(timeout(0.3))
        stopping = stop_in_background(srv)
        stopping["thread"].join(timeout(20))
        assert stopping["code"] == 0 and stopping["seconds"] < 2 + timeout(2)
    finally:
        db.close()


def test_idle_connections_do_not_delay_exit(kind, servers, room):
    """Open WebSocket and polling connections are dropped; the stop takes about a second."""
    srv = start(kind, 10)
    servers.append(srv)
    clients = [Client(srv.url, "u%d" % i, transport=t)
               for i, t in enumerate(["websocket", "polling", "websocket"])]
    for c in clients:
        assert c.call("join", {"room": room})["ok"]
    stopping = stop_in_background(srv)
    stopping["thread"].join(timeout(20))
    assert stopping["code"] == 0 and stopping["seconds"] < timeout(4)
    assert "Traceback" not in srv.log()


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_clients_reconnect_after_stop(servers, room, transport):
    """Dropped clients reconnect by themselves (here: to the restarted server)."""
    srv = start("serve", 10)
    servers.append(srv)
    c = Client(srv.url, "alice", transport=transport, reconnection=True,
               reconnection_delay=0.2, reconnection_delay_max=0.5)
    reasons, connects = [], []
    c.sio.on("disconnect", lambda reason=None: reasons.append(reason))
    c.sio.on("connect", lambda: connects.append(time.monotonic()))
    assert c.call("join", {"room": room})["ok"]
    assert srv.stop(signal.SIGTERM) == 0
    srv.restart()
    deadline = time.monotonic() + timeout(10)
    while not connects and time.monotonic() < deadline:
        time.sleep(0.05)
    assert connects, "did not reconnect; disconnect reasons %r" % reasons
    assert c.call("join", {"room": room})["ok"]
    c.disconnect()


def test_shutdown_logs_what_it_stopped(servers):
    """The log says the stop began and how long it took."""
    srv = start("serve", 10)
    servers.append(srv)
    assert srv.stop(signal.SIGTERM) == 0
    log = srv.log()
    assert "stopping: 0 connection(s)" in log and "stopped in" in log
