"""The Authenticator and the JWT key loading, without sockets."""

import pytest

from realtime import Config
from realtime.auth import Authenticator, Identity, issue, may_join
from realtime.auth.jwt import load_key
from realtime.hooks import Refused
from realtime.rules import Invalid
from support_jwt import HS_SECRET, KeyPair, mint


def test_demo_mode_takes_the_name_as_given():
    """No secret, no key, no hook: the name as sent, a member."""
    assert Authenticator(Config()).authenticate({}, {"name": " alice "}) == Identity("alice")
    assert not Authenticator(Config()).verified


def test_secret_mode_keeps_first_release_wording():
    """With a secret, no name is `name is required`, a name alone `token is required`."""
    authn = Authenticator(Config(secret="s"))
    with pytest.raises(Invalid, match="^name is required$"):
        authn.authenticate({}, {})
    with pytest.raises(Invalid, match="^token is required$"):
        authn.authenticate({}, {"name": "alice"})
    token = issue("s", "mod", 60, role="moderator")
    assert authn.authenticate({}, {"name": "mod", "token": token}) == Identity("mod", "moderator")


def test_jwt_identity_carries_role_and_rooms():
    """A JWT's name, role and rooms become the identity."""
    authn = Authenticator(Config(jwt_key=HS_SECRET))
    token = mint(HS_SECRET, sub="u1", name="Alice", role="moderator", rooms=["a-*"])
    assert authn.authenticate({}, {"token": token}) == Identity("Alice", "moderator", ("a-*",))


def test_room_patterns():
    """`*` matches any run of characters, anything else only itself."""
    assert may_join(None, "x")
    assert may_join(("team-*",), "team-") and may_join(("team-*",), "team-red")
    assert not may_join(("team-*",), "xteam-red") and not may_join(("team.*",), "teamXred")
    assert may_join(("*",), "anything") and not may_join((), "lobby")


def test_hook_identity_forms():
    """The hook may return a name, a dict, an Identity or an object with name and role."""
    class User:
        name, role = "carol", "moderator"
    for answer, expected in [("alice", Identity("alice")),
                             ({"name": "bob", "role": "moderator"}, Identity("bob", "moderator")),
                             (Identity("dan", rooms=["x"]), Identity("dan", rooms=("x",))),
                             (User(), Identity("carol", "moderator"))]:
        authn = Authenticator(Config(), hook=lambda environ, auth, a=answer: a)
        assert authn.authenticate({}, None) == expected


def test_hook_refusals():
    """None is `not signed in`; Refused gives its sentence; a crash or a bad answer a plain one."""
    def refuse(environ, auth):
        raise Refused("your session has ended")
    cases = [(lambda e, a: None, "not signed in"), (refuse, "your session has ended"),
             (lambda e, a: 1 / 0, "the server could not check who you are"),
             (lambda e, a: {"name": "x", "role": "admin"},
              "the server could not check who you are"),
             (lambda e, a: {"name": ""}, "the server could not check who you are")]
    for hook, reason in cases:
        with pytest.raises(Invalid, match="^%s$" % reason):
            Authenticator(Config(), hook=hook).authenticate({}, {"name": "x"})


def test_a_token_is_checked_even_with_a_hook():
    """With a JWT key and a hook, a presented token decides; a bad one is not handed to the hook."""
    authn = Authenticator(Config(jwt_key=HS_SECRET), hook=lambda e, a: "from-hook")
    assert authn.authenticate({}, {"token": mint(HS_SECRET, sub="t")}).name == "t"
    with pytest.raises(Invalid, match="^invalid token$"):
        authn.authenticate({}, {"token": mint("x" * 40, sub="t")})
    assert authn.authenticate({}, {}).name == "from-hook"


def test_key_kinds(tmp_path):
    """A secret is HS256; an RSA key RS256; an EC P-256 key ES256; a PEM with literal \\n works."""
    assert load_key("a-shared-secret") == (b"a-shared-secret", "HS256")
    rsa, ec = KeyPair("RS256"), KeyPair("ES256")
    assert load_key(rsa.path)[1] == "RS256"
    assert load_key(ec.public_pem)[1] == "ES256"
    assert load_key(ec.public_pem.replace("\n", "\\n"))[1] == "ES256"


def test_config_repr_hides_the_jwt_key():
    """Config's repr never shows the JWT key."""
    assert HS_SECRET not in repr(Config(jwt_key=HS_SECRET))
