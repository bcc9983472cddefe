"""examples/flask_app.py: the chat mounted into a Flask app, as a real server."""

import os
import re
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from support import ROOT, Client, ServerProcess, assert_round_trip, env_for, interrupt, timeout

pytest.importorskip("flask", reason="the Flask example needs flask (pip install '.[test]')")

EXAMPLE = [sys.executable, os.path.join(ROOT, "examples", "flask_app.py")]


@pytest.fixture(scope="module")
def flask_server():
    """The Flask example on a free port (SQLite store, no rate limit)."""
    srv = ServerProcess(command=EXAMPLE).start()
    yield srv
    srv.kill()


def get(url, redirect=True):
    """(status, headers, body) of a GET; redirects followed only when asked."""
    opener = urllib.request.build_opener() if redirect else urllib.request.build_opener(
        _NoRedirect())
    try:
        with opener.open(url, timeout=timeout(10)) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_host_route_still_served_by_flask(flask_server):
    """The host app's own route answers as before."""
    status, _, body = get(flask_server.url + "/")
    assert status == 200
    assert b"Hello from Flask" in body


def test_unknown_path_is_the_host_apps_404(flask_server):
    """Paths outside the chat go to Flask, whose 404 page comes back."""
    status, _, body = get(flask_server.url + "/no-such-page")
    assert status == 404
    assert b"Not Found" in body


def test_page_served_under_prefix(flask_server):
    """The chat page is at /chat/ with its security headers."""
    status, headers, body = get(flask_server.url + "/chat/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert b"<script" in body


def test_prefix_without_slash_redirects(flask_server):
    """/chat redirects to /chat/ so relative asset URLs resolve under the prefix."""
    status, headers, _ = get(flask_server.url + "/chat", redirect=False)
    assert status == 308
    assert headers["Location"] == "/chat/"


def test_page_assets_resolve_under_prefix(flask_server):
    """Every script and stylesheet the page references loads when the page is at /chat/."""
    page_url = flask_server.url + "/chat/"
    _, _, body = get(page_url)
    refs = re.findall(r'(?:src|href)="([^"#]+)"', body.decode())
    assets = [r for r in refs if r.endswith((".js", ".css"))]
    assert any(a.endswith("socket.io.min.js") for a in assets)
    for ref in assets:
        url = urllib.parse.urljoin(page_url, ref)
        assert url.startswith(page_url), "%s is not relative to the page" % ref
        status, _, _ = get(url)
        assert status == 200, url


def test_socketio_client_served_under_prefix(flask_server):
    """The Socket.IO JavaScript client is served locally under the prefix."""
    status, headers, body = get(flask_server.url + "/chat/static/socket.io.min.js")
    assert status == 200
    assert "javascript" in headers["Content-Type"]
    assert b"Socket.IO" in body[:200]


def test_chat_round_trip_through_mounted_app(flask_server, transport, room):
    """Two clients chat through /socket.io/ of the Flask app, on both transports."""
    assert_round_trip(flask_server.url, room, "hello from flask", transport)


def test_healthz_under_prefix(flask_server):
    """The chat's /healthz is reachable under the prefix."""
    status, _, body = get(flask_server.url + "/chat/healthz")
    assert status == 200
    assert b'"status": "ok"' in body


def documented_gunicorn_line():
    """The Flask gunicorn command of docs/usage.md, as argv."""
    with open(os.path.join(ROOT, "docs", "usage.md"), encoding="utf-8") as f:
        text = f.read()
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    block = next(b for b in blocks if "flask_app:create()" in b)
    line = next(l for l in block.replace("\\\n", " ").splitlines() if l.startswith("gunicorn"))
    return shlex.split(line)


def start_documented_gunicorn(tmp_path, env=None, replace=None):
    """docs/usage.md's line as written, run "from the top of the checkout" (a copy of
    its layout in ``tmp_path``), on a free port, with a control socket of its own."""
    argv = documented_gunicorn_line()
    argv = [(replace or {}).get(w, w) for w in argv]
    argv[argv.index("--bind") + 1] = "127.0.0.1:0"
    os.symlink(os.path.join(ROOT, "examples"), tmp_path / "examples")
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m"] + argv + ["--no-control-socket"],
                                cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
                                env=env_for(dict({"REALTIME_RATE": "0"}, **(env or {}))))
    return proc, log_path


def test_documented_gunicorn_line_runs_as_written(tmp_path, room):
    """docs/usage.md's gunicorn line serves Flask, the page and the chat, with start-up lines."""
    assert documented_gunicorn_line()[:3] == [
        "gunicorn", "-k", "geventwebsocket.gunicorn.workers.GeventWebSocketWorker"]
    proc, log_path = start_documented_gunicorn(tmp_path)
    try:
        url = _gunicorn_url(log_path, proc)
        assert b"Hello from Flask" in get(url + "/")[2]
        assert get(url + "/chat/")[0] == 200
        alice = Client(url, "alice")
        try:
            alice.call("join", {"room": room})
            ack = alice.call("message", {"room": room, "text": "via gunicorn"})
            assert alice.wait_for("message", lambda m: m["room"] == room) == ack["message"]
        finally:
            alice.disconnect()
        assert (tmp_path / "realtime.db").exists()
        log = log_path.read_text()
        assert "server: gunicorn, 1 worker(s)" in log and "transports: websocket and" in log
        assert "WARNING realtime.selfcheck: no secret set" in log
        assert " ERROR " not in log and "Traceback" not in log
    finally:
        interrupt(proc)


def test_mounted_app_under_two_workers_without_redis_says_so(tmp_path):
    """mount() under gunicorn -w 2 without Redis logs the same ERROR line as realtime.wsgi."""
    proc, log_path = start_documented_gunicorn(tmp_path, replace={"1": "2"})
    try:
        _gunicorn_url(log_path, proc)
        deadline = time.monotonic() + timeout(10)
        while log_path.read_text().count("Booting worker") < 2:
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        time.sleep(timeout(0.5))
        log = log_path.read_text()
        assert log.count("2 worker processes without a message queue") == 1, log
        assert "ERROR realtime.selfcheck" in log
    finally:
        interrupt(proc)


def test_mounted_app_with_unusable_store_stops_gunicorn_with_one_line(tmp_path):
    """A store that cannot be opened stops gunicorn with one line, not a traceback per worker."""
    missing = tmp_path / "no" / "such" / "x.db"
    proc, log_path = start_documented_gunicorn(tmp_path,
                                               env={"REALTIME_STORE": "sqlite:///%s" % missing})
    try:
        proc.wait(timeout(30))
    finally:
        interrupt(proc)
    log = log_path.read_text()
    assert proc.returncode != 0
    assert log.count("realtime: cannot open the store") == 1, log
    assert "Traceback" not in log


MOUNT_ALONE = """
from gevent import monkey; monkey.patch_all()
import logging, sys
if sys.argv[1] == "host-logging":
    logging.basicConfig(format="HOST %(levelname)s %(message)s", level=logging.WARNING)
import realtime
def host(environ, start_response):
    start_response("200 OK", [])
    return [b""]
app = realtime.mount(host, realtime.Config(store="memory://"))
app.close()
"""


def test_mount_sets_up_logging_when_the_host_has_not():
    """A bare process that mounts the chat gets the start-up lines on stderr."""
    out = subprocess.run([sys.executable, "-c", MOUNT_ALONE, "bare"], capture_output=True,
                         text=True, env=env_for(), timeout=timeout(30))
    assert out.returncode == 0, out.stderr
    assert "INFO realtime.selfcheck: transports: websocket and long-polling" in out.stderr
    assert "INFO realtime.selfcheck: server: embedded" in out.stderr
    assert "WARNING realtime.selfcheck: no secret set" in out.stderr


def test_mount_keeps_the_hosts_logging():
    """When the host configured logging, the start-up lines go through its handlers."""
    out = subprocess.run([sys.executable, "-c", MOUNT_ALONE, "host-logging"],
                         capture_output=True, text=True, env=env_for(), timeout=timeout(30))
    assert out.returncode == 0, out.stderr
    assert "HOST WARNING no secret set" in out.stderr
    assert "realtime.selfcheck" not in out.stderr and "INFO" not in out.stderr


def _gunicorn_url(log_path, proc):
    """The URL from gunicorn's "Listening at" line, once its worker has booted."""
    deadline = time.monotonic() + timeout(20)
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        found = re.search(r"Listening at: (http://\S+)", text)
        if found and "Booting worker" in text:
            url = found.group(1)
            try:
                get(url + "/chat/healthz")
                return url
            except OSError:
                pass
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError("gunicorn did not start:\n" + log_path.read_text(errors="replace"))


@pytest.mark.parametrize("prefix, reason", [("chat", "must start with '/'"),
                                            ("/socket.io/chat", "must not be inside")])
def test_mount_refuses_bad_prefix(prefix, reason):
    """mount() refuses a prefix that is not a path or would hide the socket."""
    import realtime

    def host(environ, start_response):
        start_response("200 OK", [])
        return [b""]
    with pytest.raises(ValueError, match=reason):
        realtime.mount(host, prefix=prefix)


def test_flask_example_stops_cleanly_on_sigint(room):
    """SIGINT stops the Flask example with exit code 0, and what was acked is kept."""
    srv = ServerProcess(command=EXAMPLE).start()
    try:
        alice = Client(srv.url, "alice")
        alice.call("join", {"room": room})
        sent = alice.call("message", {"room": room, "text": "kept"})["message"]
        alice.disconnect()
        assert srv.stop() == 0
        assert "Traceback" not in srv.log()
        srv.restart()
        bob = Client(srv.url, "bob")
        assert bob.call("join", {"room": room, "since": 0})["history"] == [sent]
        bob.disconnect()
    finally:
        srv.kill()
