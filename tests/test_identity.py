"""Identity and origin checks: signed names, expiry, unverified mode, CORS."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import socketio
import websocket

from raw import RawSocket, host_port
from realtime import auth
from support import ROOT, env_for, timeout

SECRET = "test-secret-" + os.urandom(4).hex()


@pytest.fixture(scope="module")
def secured(request):
    from support import ServerProcess
    srv = ServerProcess(env={"REALTIME_SECRET": SECRET}).start()
    yield srv
    srv.kill()


def connect_error(url, auth_data, transport="websocket"):
    """The connect_error message for ``auth_data``, or None when the connect succeeds."""
    sio = socketio.Client()
    got = []
    sio.on("connect_error", got.append)
    try:
        sio.connect(url, auth=auth_data, transports=[transport], wait_timeout=timeout(5))
    except socketio.exceptions.ConnectionError:
        return got[0]["message"] if got else "refused without a message"
    sio.disconnect()
    return None


def cli_token(name, *args, env=None):
    out = subprocess.run([sys.executable, "-m", "realtime", "token", name] + list(args),
                         capture_output=True, text=True, cwd=ROOT, timeout=timeout(20),
                         env=env_for(env))
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_a_valid_token_connects(secured, transport):
    """A token issued for the name lets that name in."""
    token = cli_token("alice", "--secret", SECRET)
    assert connect_error(secured.url, {"name": "alice", "token": token}, transport) is None


@pytest.mark.parametrize("auth_data, message", [
    ({"name": "alice"}, "token is required"),
    ({"name": "alice", "token": "v1.9999999999.forged"}, "invalid token"),
    ({"name": "alice", "token": "garbage"}, "invalid token"),
    ({"name": "alice", "token": "v1.\ud800.x"}, "invalid token"),
])
def test_missing_or_forged_tokens_are_refused(secured, auth_data, message):
    """Without a real token for the name, the connection is refused with a reason."""
    assert connect_error(secured.url, auth_data) == message


def test_token_for_one_name_does_not_work_for_another(secured, transport):
    """Mallory's own valid token does not let mallory in as alice (or Alice)."""
    token = auth.issue(SECRET, "mallory", 3600)
    assert connect_error(secured.url, {"name": "mallory", "token": token}, transport) is None
    for name in ("alice", "Mallory", "mallory2", "mallory\u200b"):
        assert connect_error(secured.url, {"name": name, "token": token}, transport) \
            == "invalid token"


def test_token_from_another_secret_is_refused(secured):
    """A token signed with another secret is refused."""
    token = auth.issue("other-secret", "alice", 3600)
    assert connect_error(secured.url, {"name": "alice", "token": token}) == "invalid token"


def test_tokens_expire_after_their_ttl(secured):
    """A token from ``realtime token --ttl N`` works, then stops working after N seconds."""
    # The expiry is whole seconds, cut down: N must outlast that cut and the connect
    # on a slow machine, so it grows with the test unit.
    ttl = 2 + int(timeout(1))
    token = cli_token("alice", "--secret", SECRET, "--ttl", str(ttl))
    assert connect_error(secured.url, {"name": "alice", "token": token}) is None
    time.sleep(ttl + 1.2)
    assert connect_error(secured.url, {"name": "alice", "token": token}) == "token expired"


def test_token_ttl_comes_from_the_environment(secured):
    """REALTIME_TOKEN_TTL sets the lifetime of issued tokens."""
    token = cli_token("alice", env={"REALTIME_SECRET": SECRET, "REALTIME_TOKEN_TTL": "60"})
    expiry = int(token.split(".")[1])
    assert abs(expiry - (time.time() + 60)) < 5


def test_connected_name_cannot_be_changed_by_reconnect_packet(secured):
    """A second CONNECT on the same session cannot swap in another name."""
    ws = RawSocket(secured.url)
    try:
        token = auth.issue(SECRET, "mallory", 3600)
        assert ws.connect_ns({"name": "mallory", "token": token}).startswith("40{")
        forged = auth.issue(SECRET, "mallory", 3600)
        reply = ws.connect_ns({"name": "alice", "token": forged})
        assert reply.startswith("44")
        assert ws.call("connect", {"name": "alice"}, 1)["ok"] is False
    finally:
        ws.close()


def test_secured_server_does_not_log_the_secret_or_demo_mode(secured):
    """With a secret, the log neither says demo mode nor shows the secret."""
    log = secured.log()
    assert "unverified" not in log and SECRET not in log


def test_without_secret_the_log_says_names_are_unverified(server):
    """Without a secret the start-up log warns that names are unverified."""
    assert "names are unverified" in server.log()


def test_healthz_says_whether_names_are_verified(server, secured):
    """/healthz tells the page whether names are verified."""
    def unverified(srv):
        return json.load(urllib.request.urlopen(srv.url + "/healthz",
                                                timeout=timeout(5)))["unverified"]
    assert unverified(server) is True and unverified(secured) is False


def polling_handshake(url, origin):
    req = urllib.request.Request(url + "/socket.io/?EIO=4&transport=polling",
                                 headers={"Origin": origin})
    try:
        return urllib.request.urlopen(req, timeout=timeout(5)).status
    except urllib.error.HTTPError as exc:
        return exc.code


def websocket_handshake(url, origin):
    try:
        ws = RawSocket(url, origin=origin)
    except websocket.WebSocketBadStatusException as exc:
        return exc.status_code
    ws.close()
    return 101


@pytest.mark.parametrize("handshake", [polling_handshake, websocket_handshake])
def test_foreign_origin_is_refused_by_default(server, handshake):
    """Same-origin by default: a foreign Origin is refused, the server's own accepted."""
    host, port = host_port(server.url)
    assert handshake(server.url, "http://evil.example") in (400, 403)
    assert handshake(server.url, "http://%s:%d" % (host, port)) in (200, 101)


@pytest.mark.parametrize("handshake", [polling_handshake, websocket_handshake])
def test_cors_allow_list(server_factory, handshake):
    """--cors lets the listed origins in and still refuses others."""
    srv = server_factory("--cors", "https://chat.example,https://other.example")
    assert handshake(srv.url, "https://chat.example") in (200, 101)
    assert handshake(srv.url, "https://other.example") in (200, 101)
    assert handshake(srv.url, "http://evil.example") in (400, 403)


def test_moderator_token_from_the_cli_may_delete_anothers_message(secured, transport):
    """`realtime token NAME --role moderator` lets NAME delete any message; a member may not."""
    from support import Client
    room = "mod-%s" % os.urandom(3).hex()
    alice = Client(secured.url, auth={"name": "alice", "token": cli_token(
        "alice", "--secret", SECRET)}, transport=transport)
    bob = Client(secured.url, auth={"name": "bob", "token": cli_token(
        "bob", "--secret", SECRET)}, transport=transport)
    mod = Client(secured.url, auth={"name": "mod", "token": cli_token(
        "mod", "--secret", SECRET, "--role", "moderator")}, transport=transport)
    try:
        for c in (alice, bob, mod):
            assert c.call("join", {"room": room})["ok"]
        msg = alice.call("message", {"room": room, "text": "hello"})["message"]
        refused = bob.call("delete", {"room": room, "id": msg["id"]})
        assert refused == {"ok": False,
                           "error": "only a moderator can delete another person's message."}
        done = mod.call("delete", {"room": room, "id": msg["id"]})
        assert done["ok"] and done["message"]["deleted"] is True
        update = alice.wait_for("update", lambda u: u["target"] == msg["id"])
        assert update["kind"] == "delete" and update["by"] == "mod"
    finally:
        for c in (alice, bob, mod):
            c.disconnect()
