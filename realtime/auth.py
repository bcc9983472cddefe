"""Signed name tokens for servers that run with a secret.

A token binds one name to an expiry time with an HMAC-SHA256 of the
server's secret; the format is the server's own (``v1.EXPIRY.SIGNATURE``)::

    token = issue(secret, "alice", ttl=3600)
    verify(secret, "alice", token)        # raises Invalid when it does not fit
"""

import base64
import hashlib
import hmac
import time

from .rules import Invalid


def _signature(secret, name, expiry):
    mac = hmac.new(secret.encode("utf-8"), ("v1\n%s\n%d" % (name, expiry)).encode("utf-8"),
                   hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode("ascii").rstrip("=")


def issue(secret, name, ttl, now=None):
    """Return a token for ``name`` valid for ``ttl`` seconds."""
    if not secret:
        raise ValueError("a secret is needed to issue tokens (--secret or REALTIME_SECRET)")
    expiry = int((time.time() if now is None else now) + ttl)
    return "v1.%d.%s" % (expiry, _signature(secret, name, expiry))


def verify(secret, name, token, now=None):
    """Raise :class:`Invalid` unless ``token`` was issued for ``name`` and is current."""
    if not token:
        raise Invalid("token is required")
    try:
        version, expiry, signature = token.split(".")
        expiry = int(expiry)
    except ValueError:
        raise Invalid("invalid token")
    if version != "v1" or not hmac.compare_digest(
            signature.encode("ascii", "replace"), _signature(secret, name, expiry).encode("ascii")):
        raise Invalid("invalid token")
    if expiry < (time.time() if now is None else now):
        raise Invalid("token expired")
