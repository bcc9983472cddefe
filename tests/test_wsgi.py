"""gunicorn started exactly as the Procfile says: the chat works over both transports."""

import pytest
import requests

from support import Client, timeout
from support_deploy import GunicornProcess, procfile_command


@pytest.fixture(scope="module")
def gunicorn():
    srv = GunicornProcess().start()
    yield srv
    srv.kill()


def test_procfile_runs_the_websocket_worker_on_port():
    """The web: line runs gunicorn's gevent-websocket worker on 0.0.0.0:$PORT."""
    argv = procfile_command(1234)
    assert argv[0] == "gunicorn" and argv[-1] == "realtime.wsgi:app"
    assert argv[argv.index("-k") + 1] == "geventwebsocket.gunicorn.workers.GeventWebSocketWorker"
    assert argv[argv.index("-w") + 1] == "1"
    assert argv[argv.index("--bind") + 1] == "0.0.0.0:1234"
    assert int(argv[argv.index("--worker-connections") + 1]) > 1000


def test_healthz_and_page(gunicorn):
    """/healthz answers 200 and / serves the chat page."""
    assert requests.get(gunicorn.url + "/healthz", timeout=timeout(5)).json()["status"] == "ok"
    page = requests.get(gunicorn.url + "/", timeout=timeout(5))
    assert page.status_code == 200 and "<html" in page.text.lower()


def test_chat_between_transports(gunicorn, room):
    """A WebSocket client and a polling client chat through gunicorn."""
    ws = Client(gunicorn.url, "wsuser", transport="websocket")
    poll = Client(gunicorn.url, "polluser", transport="polling")
    try:
        assert ws.call("join", {"room": room})["ok"]
        assert poll.call("join", {"room": room})["members"] == ["polluser", "wsuser"]
        ws.wait_for("presence", lambda p: p["name"] == "polluser")
        sent = poll.call("message", {"room": room, "text": "over polling"})["message"]
        assert ws.wait_for("message", lambda m: m["id"] == sent["id"])["text"] == "over polling"
        sent = ws.call("message", {"room": room, "text": "over websocket"})["message"]
        assert poll.wait_for("message", lambda m: m["id"] == sent["id"])["text"] == "over websocket"
    finally:
        ws.disconnect()
        poll.disconnect()


def test_websocket_really_is_websocket(gunicorn):
    """The WebSocket transport is not silently downgraded under the Procfile's worker."""
    c = Client(gunicorn.url, "carol", transport="websocket")
    try:
        assert c.sio.transport() == "websocket"
        assert c.call("rooms", {})["ok"]
    finally:
        c.disconnect()
    assert "wsgi.websocket" not in gunicorn.log()


def test_startup_log_is_clean(gunicorn):
    """The Procfile set-up logs its transports and no self-check error."""
    log = gunicorn.wait_log("transports: websocket and long-polling")
    assert "server: gunicorn, 1 worker(s)" in log
    assert " ERROR " not in log and "Traceback" not in log


def test_two_workers_share_the_chat_through_redis(room):
    """gunicorn -w 2 with REALTIME_REDIS: WebSocket clients spread over both workers chat."""
    from support_deploy import RedisServer
    with RedisServer() as r:
        srv = GunicornProcess(replace={"1": "2"}, store=r.url,
                              env={"REALTIME_REDIS": r.url, "REALTIME_WEBSOCKET_ONLY": "1"})
        srv.start()
        people = []
        try:
            srv.wait_log("Booting worker", units=5)
            people = [Client(srv.url, "p%d" % i, transport="websocket") for i in range(6)]
            for p in people:
                assert p.call("join", {"room": room})["ok"]
            assert people[0].call("join", {"room": room})["members"] == \
                sorted("p%d" % i for i in range(6))
            sent = people[-1].call("message", {"room": room, "text": "to all"})["message"]
            for p in people:
                assert p.wait_for("message", lambda m: m["id"] == sent["id"])["text"] == "to all"
        finally:
            for p in people:
                p.disconnect()
            srv.kill()
