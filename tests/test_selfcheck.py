"""Misconfigured servers say what is wrong in one clear log line each."""

import subprocess
import sys

import pytest
import socketio

from realtime import selfcheck
from support import Client, env_for, timeout
from support_deploy import GunicornProcess, RedisServer

WORKER = "geventwebsocket.gunicorn.workers.GeventWebSocketWorker"


@pytest.fixture(scope="module")
def redis_url():
    with RedisServer() as r:
        yield r.url


@pytest.fixture
def gunicorn_factory():
    started = []

    def start(**kwargs):
        srv = GunicornProcess(**kwargs)
        started.append(srv)
        return srv.start()
    yield start
    for srv in started:
        srv.kill()


def test_plain_gevent_worker_reports_missing_websocket(gunicorn_factory):
    """`gunicorn -k gevent` logs one line: the server does not provide wsgi.websocket."""
    srv = gunicorn_factory(replace={WORKER: "gevent"})
    for _ in range(3):
        with pytest.raises(socketio.exceptions.ConnectionError):
            Client(srv.url, "alice", transport="websocket")
    upgraded = Client(srv.url, "bob", transport="polling")     # tries the upgrade too
    upgraded.disconnect()
    log = srv.wait_log("does not provide wsgi.websocket")
    assert log.count("does not provide wsgi.websocket") == 1
    assert "ERROR realtime.selfcheck" in log
    # The one ERROR line only: no per-request traceback from python-engineio.
    assert "Traceback" not in log and "Error handling request" not in log
    assert [l for l in log.splitlines() if "ERROR" in l] == [
        l for l in log.splitlines() if "ERROR realtime.selfcheck" in l]


def test_shipped_clients_fall_back_to_polling_without_websocket(gunicorn_factory, room):
    """Where WebSocket cannot pass (`-k gevent`), `realtime say` still posts, over polling."""
    import json
    from test_scripts import run_cli
    srv = gunicorn_factory(replace={WORKER: "gevent"})
    said = run_cli("say", "--url", srv.url, "--name", "alice", "--room", room, "hello")
    assert said.returncode == 0, said.stderr
    assert json.loads(said.stdout)["text"] == "hello"


def test_unpatched_worker_reports_unpatched_sockets(gunicorn_factory):
    """A worker that does not monkey-patch (`-k sync`) logs that sockets are not patched."""
    srv = GunicornProcess(replace={WORKER: "sync"})
    try:
        srv.start(wait_healthy=False)
        log = srv.wait_log("sockets are not monkey-patched")
        assert log.count("sockets are not monkey-patched") == 1
    finally:
        srv.kill()


def test_unpatched_import_reports_unpatched_sockets():
    """Loading the WSGI module in a plain, unpatched process logs the same error line."""
    out = subprocess.run([sys.executable, "-c", "import realtime.wsgi"],
                         env=env_for({"REALTIME_STORE": "memory://"}),
                         capture_output=True, text=True, timeout=timeout(30))
    assert out.returncode == 0
    lines = [l for l in out.stderr.splitlines() if "ERROR" in l]
    assert len(lines) == 1 and "sockets are not monkey-patched" in lines[0]


def test_two_workers_without_queue_are_reported_once(gunicorn_factory):
    """-w 2 without Redis logs one line saying a message queue is needed."""
    srv = gunicorn_factory(replace={"1": "2"})
    log = srv.wait_log("2 worker processes without a message queue")
    srv.wait_log("Booting worker", units=5)
    assert log.count("without a message queue") == 1


def test_two_workers_with_redis_are_fine(gunicorn_factory, redis_url):
    """-w 2 with REALTIME_REDIS logs no error and says polling needs sticky sessions."""
    srv = gunicorn_factory(replace={"1": "2"}, env={"REALTIME_REDIS": redis_url},
                           store=redis_url)
    log = srv.wait_log("needs sticky sessions")
    assert "ERROR" not in log and "without a message queue" not in log


def test_websocket_only_refuses_polling(gunicorn_factory, redis_url):
    """REALTIME_WEBSOCKET_ONLY logs the transports, takes WebSocket and refuses polling."""
    srv = gunicorn_factory(env={"REALTIME_REDIS": redis_url,
                                "REALTIME_WEBSOCKET_ONLY": "1"}, store=redis_url)
    srv.wait_log("transports: websocket only")
    c = Client(srv.url, "alice", transport="websocket")
    try:
        assert c.call("rooms", {})["ok"]
    finally:
        c.disconnect()
    with pytest.raises(socketio.exceptions.ConnectionError):
        Client(srv.url, "bob", transport="polling")


def test_transports_line_wording():
    """The start-up line names the transports and what several processes need."""
    from realtime.config import Config
    assert "sticky sessions" in selfcheck.transports_line(Config(redis="redis://x"))
    assert "sticky" not in selfcheck.transports_line(Config())
    assert "no sticky sessions needed" in selfcheck.transports_line(
        Config(redis="redis://x", websocket_only=True))


def test_short_graceful_timeout_is_reported(gunicorn_factory):
    """A gunicorn --graceful-timeout below the shutdown timeout gets a warning line."""
    srv = gunicorn_factory(extra=["--graceful-timeout", "3"])
    log = srv.wait_log("--graceful-timeout 3 is shorter than --shutdown-timeout 10")
    assert "WARNING realtime.selfcheck" in log


def test_bad_setting_stops_gunicorn_with_one_line():
    """An unusable REALTIME_STORE stops gunicorn with one clear line, no traceback."""
    srv = GunicornProcess(store="ftp://nowhere")
    with pytest.raises(RuntimeError):
        srv.start()
    srv.proc.wait(timeout(10))
    log = srv.log()
    assert srv.proc.returncode != 0
    assert "realtime: unknown store URL scheme 'ftp'" in log and "Traceback" not in log
