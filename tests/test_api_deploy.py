"""The HTTP API under gunicorn (the Procfile) and mounted in Flask (examples/flask_app.py)."""

import os
import sys

import pytest
import requests

from support import ROOT, Client, ServerProcess, timeout
from support_api import KEY, ApiClient
from support_deploy import GunicornProcess


def _round_trip(url, room):
    """A member gets what the API posts; the API lists it back."""
    api = ApiClient(url)
    alice = Client(url, "alice")
    try:
        assert alice.call("join", {"room": room})["ok"]
        status, body = api.post("/rooms/%s/messages" % room, {"name": "bot", "text": "up"})
        assert status == 201
        assert alice.wait_for("message", lambda m: m["id"] == body["message"]["id"])
        assert api.get("/rooms/%s/members" % room) == (200, {"room": room,
                                                             "members": ["alice"]})
        assert api.get("/rooms/%s/messages" % room)[1]["messages"] == [body["message"]]
        assert api.post("/users/alice/disconnect")[1]["connections"] == 1
    finally:
        alice.disconnect()
        api.close()


def test_api_under_gunicorn(room):
    """The Procfile's gunicorn serves the API with REALTIME_API_KEY."""
    srv = GunicornProcess(env={"REALTIME_API_KEY": KEY}).start()
    try:
        _round_trip(srv.url, room)
        assert ApiClient(srv.url, key="nope").get("/rooms")[0] == 401
        resp = requests.get(srv.url + "/api/openapi.json", timeout=timeout(5))
        assert resp.status_code == 200 and "/api/rooms" in resp.json()["paths"]
    finally:
        srv.kill()


pytest.importorskip("flask", reason="the Flask example needs flask (pip install '.[test]')")
FLASK = [sys.executable, os.path.join(ROOT, "examples", "flask_app.py")]


def test_api_mounted_in_flask(room):
    """realtime.mount() serves /api/ beside the host app when a key is set."""
    srv = ServerProcess(["--api-key", KEY], command=FLASK).start()
    try:
        _round_trip(srv.url, room)
        assert requests.get(srv.url + "/", timeout=timeout(5)).status_code == 200   # Flask
        # Also under the chat's prefix, where the page's own base is.
        assert ApiClient(srv.url + "/chat").get("/rooms")[0] == 200
        doc = requests.get(srv.url + "/chat/api/openapi.json", timeout=timeout(5)).json()
        assert doc["servers"] == [{"url": "/chat"}]
    finally:
        srv.kill()


def test_flask_without_key_leaves_api_paths_to_the_host(room):
    """No key: /api/ paths stay the host app's (Flask's own 404 here)."""
    srv = ServerProcess(command=FLASK).start()
    try:
        resp = requests.get(srv.url + "/api/rooms", headers={"Authorization": "Bearer " + KEY},
                            timeout=timeout(5))
        assert resp.status_code == 404 and b"Not Found" in resp.content
    finally:
        srv.kill()
