"""Connecting to `/`: auth, refusals with reasons, the secret/token mode."""

import subprocess
import sys

import pytest
import socketio

from support import Client, env_for


def refused(url, auth, transport):
    c = Client(url, transport=transport, auth=auth, connect=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        c.connect()
    return c.refusal()


def test_connect_with_a_name(connect):
    """A connection with a valid name is accepted."""
    assert connect("alice").sio.connected


@pytest.mark.parametrize("auth, reason", [
    (None, "name is required"),
    ({}, "name is required"),
    ({"name": "   "}, "name is required"),
    ({"name": 42}, "name must be a string"),
    ({"name": "x" * 33}, "name must be at most 32 characters"),
    ({"name": "bad\x07name"}, "name must not contain control characters"),
    ("alice", "auth must be an object with a name"),
    ([{"name": "alice"}], "auth must be an object with a name"),
    ({"name": "alice", "token": 5}, "token must be a string"),
])
def test_refused_with_reason(server, transport, auth, reason):
    """A bad name gets a connect_error whose message says why."""
    assert refused(server.url, auth, transport) == reason


def test_name_is_trimmed_for_others(connect, room):
    """Others see the trimmed name."""
    a = connect("  spaced  ")
    a.call("join", {"room": room})
    assert "spaced" in connect("bob").call("join", {"room": room})["members"]


def test_several_connections_may_share_a_name(connect, room):
    """One person, several tabs."""
    a1, a2 = connect("alice"), connect("alice")
    assert a1.call("join", {"room": room})["ok"] and a2.call("join", {"room": room})["ok"]


@pytest.fixture
def secret_server(server_factory):
    return server_factory("--secret", "s3cret-for-tests")


def token_for(name, secret="s3cret-for-tests"):
    out = subprocess.run([sys.executable, "-m", "realtime", "token", name],
                         env=env_for({"REALTIME_SECRET": secret}),
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_secret_mode_accepts_issued_token(secret_server, transport, room):
    """`realtime token NAME` prints a token the server accepts for NAME."""
    c = Client(secret_server.url, transport=transport,
               auth={"name": "alice", "token": token_for("alice")})
    assert c.call("join", {"room": room})["members"] == ["alice"]
    c.disconnect()


def test_secret_mode_refuses_missing_token(secret_server, transport):
    """Without a token the connection is refused."""
    assert refused(secret_server.url, {"name": "alice"}, transport) == "token is required"


def test_secret_mode_refuses_token_of_another_name(secret_server, transport):
    """A token for bob does not let anyone be alice."""
    assert refused(secret_server.url, {"name": "alice", "token": token_for("bob")},
                   transport) == "invalid token"


def test_secret_mode_refuses_token_of_another_secret(secret_server, transport):
    """Tokens signed with another secret are invalid."""
    assert refused(secret_server.url, {"name": "alice", "token": token_for("alice", "x")},
                   transport) == "invalid token"


def test_token_command_needs_a_secret():
    """Without a secret, `realtime token` fails with a usage error."""
    out = subprocess.run([sys.executable, "-m", "realtime", "token", "alice"],
                         env=env_for(), capture_output=True, text=True)
    assert out.returncode == 2 and "secret" in out.stderr


def test_unverified_mode_is_logged(server):
    """Without a secret the start-up log warns that names are unverified."""
    assert "names are unverified" in server.log()


def test_secret_is_not_logged(secret_server):
    """The secret never appears in the server's output."""
    assert "s3cret-for-tests" not in secret_server.log()
    assert "names are unverified" not in secret_server.log()


def test_client_event_named_disconnect_is_refused(connect, room):
    """A client cannot trigger the server's disconnect handler with an event."""
    a, b = connect("alice"), connect("bob")
    a.call("join", {"room": room})
    b.call("join", {"room": room})
    assert b.call("disconnect", {})["ok"] is False
    assert "bob" in a.call("join", {"room": room})["members"]
    assert b.call("message", {"room": room, "text": "still here"})["ok"] is True


def test_client_event_named_connect_is_refused(connect):
    """A client cannot re-run authentication under another name."""
    a = connect("alice")
    ack = a.sio.call("connect", ({}, {"name": "mallory"}), timeout=5)
    assert ack["ok"] is False
    assert a.call("dm", {"to": "alice", "text": "x"})["message"]["from"] == "alice"
