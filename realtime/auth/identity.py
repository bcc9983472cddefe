"""Who a connection is: an :class:`Identity`, and the :class:`Authenticator` that decides it.

One authenticator per app combines the three ways in, checked on connect::

    authn = Authenticator(config, hook=None)
    identity = authn.authenticate(environ, auth)    # raises Invalid with the reason

- a token in ``auth`` on a server with a secret or a JWT key: a secret
  token (``v1.``/``v2.``, for the ``name`` given beside it) or a JWT (its
  claims name the person); an invalid token is refused, whatever the hook says;
- otherwise the embedder's hook, when there is one: ``hook(environ, auth)``
  returns the identity, or refuses (returns None, or raises);
- otherwise, with a secret or a JWT key: refused (``token is required``);
  without: demo mode, the name as given, a member.
"""

import functools
import logging
import re

from .. import rules
from ..rules import Invalid
from . import tokens
from .tokens import MEMBER, ROLES

log = logging.getLogger("realtime.auth")

HOOK_FAILED = "the server could not check who you are"
_PATTERN_RE = re.compile(r"^[A-Za-z0-9._*-]{1,128}$")


class Identity:
    """A person as the server knows them: ``name``, ``role`` and the room patterns
    they may join (``rooms``; None means any room)."""

    __slots__ = ("name", "role", "rooms")

    def __init__(self, name, role=MEMBER, rooms=None):
        self.name = name
        self.role = role
        self.rooms = rooms

    def __repr__(self):
        return "Identity(%r, %r, %r)" % (self.name, self.role, self.rooms)

    def __eq__(self, other):
        return isinstance(other, Identity) and (self.name, self.role, self.rooms) == \
            (other.name, other.role, other.rooms)


def check_patterns(value):
    """A ``rooms`` claim as a tuple of patterns; Invalid unless a list of them."""
    if not isinstance(value, list) or not all(
            isinstance(p, str) and _PATTERN_RE.match(p) for p in value):
        raise Invalid("token rooms must be a list of room patterns")
    return tuple(value)


@functools.lru_cache(maxsize=1024)
def _compiled(pattern):
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def may_join(patterns, room):
    """Whether ``room`` matches one of ``patterns`` (``*``: any run of characters)."""
    if patterns is None:
        return True
    return any(_compiled(p).fullmatch(room) for p in patterns)


def as_identity(result):
    """The hook's answer as an Identity: an Identity, a name, a dict or an object with
    ``name`` (and ``role``, ``rooms``); ValueError when it is none of these."""
    if isinstance(result, str):
        result = Identity(result)
    elif isinstance(result, dict):
        result = Identity(result.get("name"), result.get("role") or MEMBER, result.get("rooms"))
    elif not isinstance(result, Identity):
        result = Identity(getattr(result, "name", None), getattr(result, "role", None) or MEMBER,
                          getattr(result, "rooms", None))
    try:
        name = rules.check_name(result.name)
    except Invalid as exc:
        raise ValueError("authenticate returned a bad name: %s" % exc) from None
    if result.role not in ROLES:
        raise ValueError("authenticate returned role %r; it must be member or moderator"
                         % (result.role,))
    rooms = result.rooms
    if rooms is not None:
        try:
            rooms = check_patterns(list(rooms))
        except (Invalid, TypeError):
            raise ValueError("authenticate returned bad rooms %r" % (rooms,)) from None
    return Identity(name, result.role, rooms)


class Authenticator:
    """Decides each connection's identity from the app's config and the embedder's hook."""

    def __init__(self, config, hook=None):
        self.secret = config.secret
        self.hook = hook
        self.jwt = None
        if getattr(config, "jwt_key", ""):
            from .jwt import JwtVerifier
            self.jwt = JwtVerifier.from_setting(config.jwt_key, config.jwt_audience,
                                                config.jwt_issuer)

    @property
    def verified(self):
        """Whether names are checked (a secret, a JWT key or a hook); else demo mode."""
        return bool(self.secret or self.jwt or self.hook)

    def authenticate(self, environ, auth):
        """The connection's :class:`Identity`; :class:`Invalid` with the reason if refused."""
        if auth is not None and not isinstance(auth, dict):
            raise Invalid("auth must be an object with a name")
        auth = auth or {}
        token = auth.get("token")
        if token is not None and not isinstance(token, str):
            raise Invalid("token must be a string")
        if token and (self.secret or self.jwt):
            return self._token(auth, token)
        if self.hook is not None:
            return self._hook(environ, auth)
        if self.jwt:
            raise Invalid("token is required")
        name, _ = rules.check_auth(auth)
        if self.secret:
            raise Invalid("token is required")
        return Identity(name)

    def _token(self, auth, token):
        secret_token = token.startswith(("v1.", "v2."))
        if secret_token and self.secret:
            name = rules.check_name(auth.get("name"))
            return Identity(name, tokens.verify(self.secret, name, token))
        if self.jwt is None or secret_token:
            raise Invalid("invalid token")
        identity = self.jwt.verify(token)
        given = auth.get("name")
        if given is not None and (not isinstance(given, str) or given.strip() != identity.name):
            raise Invalid("name does not match the token")
        return identity

    def _hook(self, environ, auth):
        try:
            result = self.hook(environ, auth)
        except Invalid:
            raise
        except Exception:
            log.exception("the authenticate hook failed")
            raise Invalid(HOOK_FAILED) from None
        if result is None:
            raise Invalid("not signed in")
        try:
            return as_identity(result)
        except ValueError as exc:
            log.error("%s", exc)
            raise Invalid(HOOK_FAILED) from None
