"""examples/flask_app.py: the chat mounted into a Flask app, as a real server."""

import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

import pytest

from support import ROOT, Client, ServerProcess, timeout

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
    alice = Client(flask_server.url, "alice", transport=transport)
    bob = Client(flask_server.url, "bob", transport=transport)
    try:
        alice.call("join", {"room": room})
        bob.call("join", {"room": room})
        ack = alice.call("message", {"room": room, "text": "hello from flask"})
        assert ack["ok"] is True
        assert bob.wait_for("message", lambda m: m["room"] == room) == ack["message"]
    finally:
        alice.disconnect()
        bob.disconnect()


def test_healthz_under_prefix(flask_server):
    """The chat's /healthz is reachable under the prefix."""
    status, _, body = get(flask_server.url + "/chat/healthz")
    assert status == 200
    assert b'"status": "ok"' in body
