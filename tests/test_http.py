"""HTTP: the page, local assets, /healthz, /metrics."""

import json
import urllib.error
import urllib.request

import pytest

from support import Client


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_page_is_html_loading_local_client(server):
    """/ is the chat page and loads the Socket.IO client from /static."""
    status, headers, body = get(server.url + "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"/static/socket.io.min.js" in body and b"//cdn" not in body


def test_socketio_client_is_served_locally(server):
    """The JS client file is served with its licence header."""
    status, headers, body = get(server.url + "/static/socket.io.min.js")
    assert status == 200 and b"Socket.IO v4.8" in body[:200] and b"MIT" in body[:200]
    assert "javascript" in headers["Content-Type"]


def test_page_has_security_headers(server):
    """CSP, nosniff and referrer policy on the page."""
    _, headers, _ = get(server.url + "/")
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("path", ["/static/../realtime/app.py", "/static/%2e%2e/setup.py",
                                  "/nope", "/static/"])
def test_no_files_outside_web(server, path):
    """Paths outside web/ are not served."""
    assert get(server.url + path)[0] == 404


def test_healthz_ok(server):
    """/healthz answers 200 JSON with status ok while the store works."""
    status, headers, body = get(server.url + "/healthz")
    data = json.loads(body)
    assert status == 200 and data["status"] == "ok" and data["store"] == "sqlite"


def test_metrics_prometheus_text(server):
    """/metrics is Prometheus text and counts handled events."""
    c = Client(server.url, "alice")
    c.call("rooms", {})
    status, headers, body = get(server.url + "/metrics")
    text = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert 'realtime_events_total{event="rooms",ok="true"}' in text
    assert "realtime_connections 1.0" in text
    assert "realtime_hub_lag_max_seconds" in text
    c.disconnect()


def test_connection_close_is_announced(server):
    """A Connection: close request gets the header back (Node clients need it)."""
    req = urllib.request.Request(server.url + "/healthz", headers={"Connection": "close"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.headers["Connection"] == "close"
