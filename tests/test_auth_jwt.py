"""JWT from the embedder's backend, against real servers on both transports."""

import os
import time

import pytest

from support import Client, ServerProcess
from support_jwt import (AUDIENCE, HS_SECRET, ISSUER, KeyPair, alg_none, connect_error,
                         key_confusion, mint, tampered)
from realtime import auth

SECRET = "first-release-secret-" + os.urandom(4).hex()
RSA = KeyPair("RS256")
EC = KeyPair("ES256")


@pytest.fixture(scope="module")
def hs_server():
    """HS256 with audience and issuer checked, and a secret for first-release tokens."""
    srv = ServerProcess(["--jwt-key", HS_SECRET, "--jwt-audience", AUDIENCE,
                         "--jwt-issuer", ISSUER, "--secret", SECRET]).start()
    yield srv
    srv.kill()


@pytest.fixture(scope="module")
def rs_server():
    """RS256, the public key given as a file path."""
    srv = ServerProcess(["--jwt-key", RSA.path]).start()
    yield srv
    srv.kill()


@pytest.fixture(scope="module")
def es_server():
    """ES256, the public key's PEM text in the environment."""
    srv = ServerProcess(env={"REALTIME_JWT_KEY": EC.public_pem}).start()
    yield srv
    srv.kill()


def hs(**claims):
    claims.setdefault("aud", AUDIENCE)
    claims.setdefault("iss", ISSUER)
    return mint(HS_SECRET, "HS256", **claims)


def chat_as(url, token, transport, room, text="hi"):
    """Connect with only the token, join ``room``, post; return the stored message."""
    c = Client(url, auth={"token": token}, transport=transport)
    try:
        assert c.call("join", {"room": room})["ok"] is True
        ack = c.call("message", {"room": room, "text": text})
        assert ack["ok"] is True, ack
        return ack["message"]
    finally:
        c.disconnect()


def test_hs256_token_chats_under_its_sub(hs_server, transport, room):
    """An HS256 JWT with no name in auth chats under its sub."""
    assert chat_as(hs_server.url, hs(name=None, sub="alice"), transport, room)["name"] == "alice"


def test_name_claim_wins_over_sub(hs_server, transport, room):
    """The claim `name` is the name when present, else `sub`."""
    token = hs(sub="user-42", name="Alice Smith")
    assert chat_as(hs_server.url, token, transport, room)["name"] == "Alice Smith"


def test_rs256_token_chats(rs_server, transport, room):
    """An RS256 JWT checked with a PEM public key from a file."""
    assert chat_as(rs_server.url, RSA.mint(sub="bob"), transport, room)["name"] == "bob"


def test_es256_token_chats(es_server, transport, room):
    """An ES256 JWT checked with a PEM public key from the environment."""
    assert chat_as(es_server.url, EC.mint(sub="carol"), transport, room)["name"] == "carol"


def test_name_beside_the_token_must_match(hs_server, transport):
    """A name sent beside a JWT is accepted only when it is the token's name."""
    token = hs(sub="alice")
    assert connect_error(hs_server.url, {"name": "alice", "token": token}, transport) is None
    assert connect_error(hs_server.url, {"name": "mallory", "token": token}, transport) \
        == "name does not match the token"


REFUSALS = {
    "alg none": (lambda: alg_none(aud=AUDIENCE, iss=ISSUER), "token algorithm not accepted"),
    "expired": (lambda: hs(exp=int(time.time()) - 120, iat=int(time.time()) - 720),
                "token expired"),
    "wrong audience": (lambda: hs(aud="another-app"), "token is for another audience"),
    "wrong issuer": (lambda: hs(iss="https://evil.test"), "token is from another issuer"),
    "tampered": (lambda: tampered(hs(sub="alice"), sub="admin"), "invalid token"),
    "other secret": (lambda: mint("not-the-secret-" + "x" * 32, "HS256", aud=AUDIENCE,
                                  iss=ISSUER), "invalid token"),
    "nbf in future": (lambda: hs(nbf=int(time.time()) + 600), "token not yet valid"),
    "iat in future": (lambda: hs(iat=int(time.time()) + 600), "token not yet valid"),
    "no exp": (lambda: hs(exp=None), "token has no exp claim"),
    "bad role": (lambda: hs(role="admin"), "token role must be member or moderator"),
    "bad name": (lambda: hs(sub="x" * 40), "token name must be at most 32 characters"),
    "bad rooms": (lambda: hs(rooms="lobby"), "token rooms must be a list of room patterns"),
    "garbage": (lambda: "not.a.jwt", "invalid token"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_bad_tokens_are_refused_with_the_reason(hs_server, transport, case):
    """Each failing check is a connect_error naming the reason."""
    make, reason = REFUSALS[case]
    assert connect_error(hs_server.url, {"token": make()}, transport) == reason


def test_key_confusion_is_refused(rs_server, transport):
    """HS256 signed with the server's RSA public key text is refused (only RS256 is accepted)."""
    token = key_confusion(RSA.public_pem, sub="mallory")
    assert connect_error(rs_server.url, {"token": token}, transport) \
        == "token algorithm not accepted"


def test_alg_none_is_refused_by_a_public_key_server(es_server, transport):
    """alg none is refused by an ES256 server as well."""
    assert connect_error(es_server.url, {"token": alg_none(sub="mallory")}, transport) \
        == "token algorithm not accepted"


def test_token_of_another_key_type_is_refused(es_server, transport):
    """An RS256 token on an ES256 server: the algorithm is not the key's."""
    assert connect_error(es_server.url, {"token": RSA.mint(sub="bob")}, transport) \
        == "token algorithm not accepted"


@pytest.mark.parametrize("auth_data", [{"name": "alice"}, {}, None])
def test_a_name_alone_is_refused(rs_server, auth_data):
    """With a JWT key, a connection without a token is refused."""
    assert connect_error(rs_server.url, auth_data) == "token is required"


def test_secret_tokens_work_beside_jwt(hs_server, transport, room):
    """A first-release token (with its name) still connects on a JWT server with a secret."""
    token = auth.issue(SECRET, "dave", 600)
    c = Client(hs_server.url, auth={"name": "dave", "token": token}, transport=transport)
    try:
        assert c.call("join", {"room": room})["ok"]
    finally:
        c.disconnect()
    assert connect_error(hs_server.url, {"name": "eve", "token": token}, transport) \
        == "invalid token"


def test_secret_tokens_are_refused_without_a_secret(rs_server):
    """A v1 token means nothing to a server with only a JWT key."""
    token = auth.issue("some-secret", "dave", 600)
    assert connect_error(rs_server.url, {"name": "dave", "token": token}) == "invalid token"


def test_rooms_claim_restricts_join(hs_server, transport):
    """With `rooms`, join of a room matching no pattern gets `you may not join ROOM`."""
    tag = os.urandom(3).hex()
    token = hs(sub="frank", rooms=["team-%s-*" % tag, "lobby"])
    c = Client(hs_server.url, auth={"token": token}, transport=transport)
    try:
        assert c.call("join", {"room": "team-%s-red" % tag})["ok"] is True
        assert c.call("join", {"room": "lobby"})["ok"] is True
        for room in ("other-%s" % tag, "lobby2", "xteam-%s-red" % tag):
            assert c.call("join", {"room": room}) == {"ok": False,
                                                      "error": "you may not join %s" % room}
    finally:
        c.disconnect()


def test_rooms_claim_restricts_reading_too(hs_server, transport):
    """A restricted token cannot read the history or search of rooms it may not join."""
    tag = os.urandom(3).hex()
    writer = Client(hs_server.url, auth={"token": hs(sub="writer")}, transport=transport)
    reader = Client(hs_server.url, auth={"token": hs(sub="reader", rooms=["mine-*"])},
                    transport=transport)
    room = "secret-%s" % tag
    try:
        writer.call("join", {"room": room})
        assert writer.call("message", {"room": room, "text": "plans"})["ok"]
        assert reader.call("history", {"room": room}) == {
            "ok": False, "error": "you may not read %s" % room}
        assert reader.call("search", {"room": room, "q": "plans"}) == {
            "ok": False, "error": "you may not read %s" % room}
        assert writer.call("search", {"room": room, "q": "plans"})["ok"] is True
    finally:
        writer.disconnect()
        reader.disconnect()


def test_moderator_role_claim_may_delete_anothers_message(rs_server, transport, room):
    """role: moderator in a JWT lets the holder delete another's message; member may not."""
    alice = Client(rs_server.url, auth={"token": RSA.mint(sub="alice")}, transport=transport)
    bob = Client(rs_server.url, auth={"token": RSA.mint(sub="bob", role="member")},
                 transport=transport)
    mod = Client(rs_server.url, auth={"token": RSA.mint(sub="mod", role="moderator")},
                 transport=transport)
    try:
        for c in (alice, bob, mod):
            assert c.call("join", {"room": room})["ok"]
        msg = alice.call("message", {"room": room, "text": "hello"})["message"]
        assert bob.call("delete", {"room": room, "id": msg["id"]})["ok"] is False
        done = mod.call("delete", {"room": room, "id": msg["id"]})
        assert done["ok"] and done["message"]["deleted"] is True
    finally:
        for c in (alice, bob, mod):
            c.disconnect()


def test_start_up_log_names_the_algorithm_not_the_key(hs_server, rs_server):
    """The log says which algorithm and claims are checked, never the secret."""
    assert "tokens: JWT HS256, audience %s, issuer %s" % (AUDIENCE, ISSUER) in hs_server.log()
    assert "tokens: JWT RS256" in rs_server.log()
    assert HS_SECRET not in hs_server.log() and "unverified" not in rs_server.log()
