"""Signed name tokens, without sockets."""

import pytest

from realtime import auth
from realtime.rules import Invalid


def test_token_verifies_for_its_name():
    """A fresh token works for the name it was issued for."""
    token = auth.issue("s3cret", "alice", ttl=60)
    auth.verify("s3cret", "alice", token)


def test_token_does_not_work_for_another_name():
    """Names cannot borrow each other's tokens."""
    token = auth.issue("s3cret", "alice", ttl=60)
    with pytest.raises(Invalid, match="^invalid token$"):
        auth.verify("s3cret", "bob", token)


def test_token_from_another_secret_is_invalid():
    """Only the server's own secret signs valid tokens."""
    token = auth.issue("other", "alice", ttl=60)
    with pytest.raises(Invalid, match="^invalid token$"):
        auth.verify("s3cret", "alice", token)


def test_token_expires():
    """A token stops working after its ttl."""
    token = auth.issue("s3cret", "alice", ttl=60, now=1000)
    auth.verify("s3cret", "alice", token, now=1059)
    with pytest.raises(Invalid, match="^token expired$"):
        auth.verify("s3cret", "alice", token, now=1061)


@pytest.mark.parametrize("token", [None, "", "garbage", "v1.x.y", "v2.99999999999.abc", "v1.1.é"])
def test_malformed_tokens_are_refused(token):
    """Missing or malformed tokens are refused with a reason."""
    with pytest.raises(Invalid, match="token"):
        auth.verify("s3cret", "alice", token)


def test_tampered_expiry_is_refused():
    """Extending the expiry breaks the signature."""
    version, expiry, sig = auth.issue("s3cret", "alice", ttl=60).split(".")
    with pytest.raises(Invalid, match="^invalid token$"):
        auth.verify("s3cret", "alice", "%s.%d.%s" % (version, int(expiry) + 10**6, sig))


def test_role_token_carries_its_role():
    """A moderator token verifies to the moderator role; a plain token to member."""
    assert auth.verify("s3cret", "mod", auth.issue("s3cret", "mod", 60, role="moderator")) \
        == "moderator"
    assert auth.verify("s3cret", "alice", auth.issue("s3cret", "alice", 60)) == "member"


def test_role_cannot_be_raised_by_editing_the_token():
    """Turning a member token into a v2 moderator token breaks the signature."""
    _, expiry, sig = auth.issue("s3cret", "alice", 60).split(".")
    with pytest.raises(Invalid, match="^invalid token$"):
        auth.verify("s3cret", "alice", "v2.moderator.%s.%s" % (expiry, sig))


def test_unknown_role_is_refused():
    """Only the protocol's roles can be issued or verified."""
    with pytest.raises(ValueError, match="role"):
        auth.issue("s3cret", "alice", 60, role="admin")
    with pytest.raises(Invalid, match="^invalid token$"):
        auth.verify("s3cret", "alice", "v2.admin.99999999999.x")
