"""The HTTP API's settings: off without a key, the per-key rate, keys kept out of logs."""

import pytest
import requests

from realtime import auth, config
from support import Client, timeout
from support_api import KEY, OTHER_KEY, ApiClient

PATHS = [("GET", "/api/openapi.json"), ("GET", "/api/rooms"), ("GET", "/api"),
         ("POST", "/api/rooms/lobby/messages"), ("GET", "/api/rooms/lobby/messages"),
         ("DELETE", "/api/rooms/lobby/messages/1"), ("GET", "/api/rooms/lobby/members"),
         ("POST", "/api/users/alice/disconnect"), ("GET", "/api/whatever")]


def test_without_a_key_every_api_path_is_404(server_factory):
    """No --api-key: each /api/ path answers 404, with or without a key, openapi.json too."""
    srv = server_factory()
    for method, path in PATHS:
        for headers in ({}, {"Authorization": "Bearer " + KEY}):
            resp = requests.request(method, srv.url + path, headers=headers,
                                    json={"name": "a", "text": "b"}, timeout=timeout(5))
            assert resp.status_code == 404, (method, path)
            assert "error" in resp.json()


def test_rate_per_key_is_429(server_factory, room):
    """Over --api-rate a key gets 429 with Retry-After; another key is still served."""
    srv = server_factory("--api-key", "%s,%s" % (KEY, OTHER_KEY), "--api-rate", "3/60")
    api = ApiClient(srv.url)
    for _ in range(3):
        assert api.get("/rooms")[0] == 200
    resp = requests.post(srv.url + "/api/rooms/%s/messages" % room,
                         headers={"Authorization": "Bearer " + KEY},
                         json={"name": "a", "text": "b"}, timeout=timeout(5))
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "60"
    assert resp.json() == {"error": "rate limited: at most 3 requests per 60 s per API key."}
    assert api.get("/rooms/%s/messages" % room, key=OTHER_KEY)[0] == 404   # not stored
    assert api.get("/rooms", key=OTHER_KEY)[0] == 200
    assert requests.get(srv.url + "/api/openapi.json", timeout=timeout(5)).status_code == 200


def test_keys_never_reach_the_log(server_factory):
    """The start-up log says the API is on, and how many keys, never the keys."""
    srv = server_factory("--api-key", "%s,%s" % (KEY, OTHER_KEY), "--log-level", "debug")
    ApiClient(srv.url).get("/rooms")
    ApiClient(srv.url, "wrong-key").get("/rooms")
    log = srv.log()
    assert "HTTP API: on at /api/ (2 key(s)" in log
    assert KEY not in log and OTHER_KEY not in log and "wrong-key" not in log


def test_api_key_hidden_in_config_repr():
    """repr(Config) shows *** for the API keys, as for the secret."""
    text = repr(config.Config(api_key="k1-secret,k2-secret"))
    assert "k1-secret" not in text and "api_key='***'" in text


@pytest.mark.parametrize("value, words", [("a,,b", "empty API key"), ("a b", "white space"),
                                          ("a,", "empty API key")])
def test_bad_api_key_setting_is_refused(value, words):
    """A list with an empty key or a key with white space is a setting error."""
    with pytest.raises(config.SettingError, match=words):
        config.from_sources(environ={"REALTIME_API_KEY": value})


def test_api_key_list_is_normalised():
    """Spaces around commas are dropped."""
    assert config.from_sources(environ={"REALTIME_API_KEY": " a , b "}).api_key == "a,b"


def test_muted_name_cannot_post_through_the_api(server_factory, room):
    """A name a moderator muted in a room gets 409 there; other names still post."""
    srv = server_factory("--api-key", KEY, "--secret", "s3cret")
    token = auth.issue("s3cret", "mod", 600, role="moderator")
    mod = Client(srv.url, auth={"name": "mod", "token": token})
    try:
        assert mod.call("join", {"room": room})["ok"]
        assert mod.call("mute", {"room": room, "name": "spammer", "seconds": 60})["ok"]
        api = ApiClient(srv.url)
        status, body = api.post("/rooms/%s/messages" % room, {"name": "spammer", "text": "buy"})
        assert status == 409 and "muted" in body["error"]
        assert api.post("/rooms/%s/messages" % room, {"name": "ci", "text": "ok"})[0] == 201
        assert mod.call("mute", {"room": room, "name": "spammer", "seconds": 0})["ok"]
        assert api.post("/rooms/%s/messages" % room, {"name": "spammer", "text": "hi"})[0] == 201
    finally:
        mod.disconnect()
