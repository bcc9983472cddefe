"""Signed name tokens for servers that run with a secret.

A token binds one name (and a role) to an expiry time with an HMAC-SHA256
of the server's secret.  The format is the server's own: ``v1.EXPIRY.SIG``
for a member (the first release's tokens), ``v2.ROLE.EXPIRY.SIG`` for any
other role; the role is readable, so a page can tell what it may do::

    token = issue(secret, "alice", ttl=3600, role="moderator")
    verify(secret, "alice", token)        # "moderator"; raises Invalid when it does not fit
"""

import base64
import hashlib
import hmac
import time

from ..rules import Invalid


MEMBER = "member"
ROLES = (MEMBER, "moderator")


def _signature(secret, name, expiry, role=MEMBER):
    if role == MEMBER:
        text = "v1\n%s\n%d" % (name, expiry)
    else:
        text = "v2\n%s\n%s\n%d" % (name, role, expiry)
    mac = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode("ascii").rstrip("=")


def issue(secret, name, ttl, now=None, role=MEMBER):
    """Return a token for ``name`` with ``role`` valid for ``ttl`` seconds."""
    if not secret:
        raise ValueError("a secret is needed to issue tokens (--secret or REALTIME_SECRET)")
    if role not in ROLES:
        raise ValueError("role must be one of: %s" % ", ".join(ROLES))
    expiry = int((time.time() if now is None else now) + ttl)
    signature = _signature(secret, name, expiry, role)
    if role == MEMBER:
        return "v1.%d.%s" % (expiry, signature)
    return "v2.%s.%d.%s" % (role, expiry, signature)


def verify(secret, name, token, now=None):
    """Return the token's role; raise :class:`Invalid` unless ``token`` was issued
    for ``name`` and is current."""
    if not token:
        raise Invalid("token is required")
    parts = token.split(".")
    try:
        if parts[0] == "v1" and len(parts) == 3:
            role, (expiry, signature) = MEMBER, parts[1:]
        elif parts[0] == "v2" and len(parts) == 4 and parts[1] in ROLES[1:]:
            role, expiry, signature = parts[1:]
        else:
            raise ValueError(token)
        expiry = int(expiry)
    except ValueError:
        raise Invalid("invalid token")
    if not hmac.compare_digest(signature.encode("ascii", "replace"),
                               _signature(secret, name, expiry, role).encode("ascii")):
        raise Invalid("invalid token")
    if expiry < (time.time() if now is None else now):
        raise Invalid("token expired")
    return role
