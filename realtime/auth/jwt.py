"""JSON Web Tokens from the embedder's own backend, checked with PyJWT.

The key is a shared secret (HS256) or a PEM public key (RS256 for RSA;
ES256, ES384 or ES512 for an EC key on P-256, P-384 or P-521), given
directly or as the path of a file holding it.  Only the key's own algorithm
is accepted: ``alg: none`` and, say, an HS256 token signed with the RSA
public key's text are refused::

    verifier = JwtVerifier.from_setting(config.jwt_key, audience="chat", issuer="me")
    identity = verifier.verify(token)    # Identity(name, role, rooms); raises Invalid
"""

import logging
import os
import warnings

import jwt
from jwt.exceptions import (ExpiredSignatureError, ImmatureSignatureError,
                            InvalidAlgorithmError, InvalidAudienceError, InvalidIssuerError,
                            InvalidTokenError, MissingRequiredClaimError)

from .. import rules
from ..rules import Invalid
from .identity import Identity, check_patterns
from .tokens import ROLES

log = logging.getLogger("realtime.auth")

SETTING = "--jwt-key / REALTIME_JWT_KEY"
#: Seconds of clock difference allowed between the backend and this server
#: for ``exp``, ``nbf`` and ``iat``.
LEEWAY = 30
#: A shared secret shorter than this is weak for HS256 (RFC 7518, 3.2).
MIN_SECRET_BYTES = 32
_CURVES = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


def load_key(value):
    """``(key, algorithm)`` for the setting's value; ValueError in one line if unusable.

    A value that names an existing file, or looks like a path (starts with
    ``/``, ``./``, ``~`` or ends in ``.pem``/``.key``), is read from that file.
    """
    text = value.strip()
    if _looks_like_path(text):
        path = os.path.expanduser(text)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            why = getattr(exc, "strerror", None) or str(exc)
            raise ValueError("cannot read the JWT key file %s: %s (%s)"
                             % (text, why, SETTING)) from None
        if not text:
            raise ValueError("the JWT key file %s is empty (%s)" % (value.strip(), SETTING))
    if "-----BEGIN" in text:
        # A PEM pasted into an environment variable often carries literal "\n".
        return _public_key(text.replace("\\n", "\n"))
    if not text:
        raise ValueError("the JWT key is empty (%s)" % SETTING)
    return text.encode("utf-8"), "HS256"


def _looks_like_path(text):
    if "\n" in text or "-----BEGIN" in text:
        return False
    return os.path.isfile(os.path.expanduser(text)) or text.startswith(("/", "./", "../", "~")) \
        or text.endswith((".pem", ".key", ".pub", ".crt"))


def _public_key(pem):
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    data = pem.encode("utf-8")
    if "PRIVATE KEY-----" in pem:
        raise ValueError("the JWT key is a private key: give the server only the public key "
                         "(openssl pkey -pubout) (%s)" % SETTING)
    try:
        if "-----BEGIN CERTIFICATE-----" in pem:
            key = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = load_pem_public_key(data)
    except ValueError:
        raise ValueError("the JWT key is not a valid PEM public key or certificate (%s)"
                         % SETTING) from None
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise ValueError("the JWT key is a %d-bit RSA key; at least 2048 bits are needed (%s)"
                             % (key.key_size, SETTING))
        return key, "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _CURVES:
        return key, _CURVES[key.curve.name]
    raise ValueError("the JWT key must be an RSA or an EC (P-256, P-384, P-521) public key, "
                     "or a shared secret (%s)" % SETTING)


class JwtVerifier:
    """Checks tokens against one key, its one algorithm, and the optional aud/iss."""

    def __init__(self, key, algorithm, audience="", issuer=""):
        self.key = key
        self.algorithm = algorithm
        self.audience = audience or None
        self.issuer = issuer or None
        self.weak = algorithm == "HS256" and len(key) < MIN_SECRET_BYTES
        if self.weak:
            # Said once at start-up (App), not per connection by PyJWT.
            warnings.filterwarnings("ignore", category=jwt.warnings.InsecureKeyLengthWarning)

    @classmethod
    def from_setting(cls, value, audience="", issuer=""):
        key, algorithm = load_key(value)
        return cls(key, algorithm, audience, issuer)

    def describe(self):
        """For the start-up log: the algorithm and the claims checked (never the key)."""
        parts = ["JWT %s" % self.algorithm]
        if self.audience:
            parts.append("audience %s" % self.audience)
        if self.issuer:
            parts.append("issuer %s" % self.issuer)
        return ", ".join(parts)

    def verify(self, token):
        """The token's :class:`Identity`; raises :class:`Invalid` naming the reason."""
        try:
            claims = jwt.decode(
                token, self.key, algorithms=[self.algorithm], audience=self.audience,
                issuer=self.issuer, leeway=LEEWAY,
                options={"require": ["exp"], "verify_aud": self.audience is not None})
        except ExpiredSignatureError:
            raise Invalid("token expired") from None
        except ImmatureSignatureError:
            raise Invalid("token not yet valid") from None
        except MissingRequiredClaimError as exc:
            raise Invalid("token has no %s claim" % exc.claim) from None
        except InvalidAudienceError:
            raise Invalid("token is for another audience") from None
        except InvalidIssuerError:
            raise Invalid("token is from another issuer") from None
        except InvalidAlgorithmError:
            raise Invalid("token algorithm not accepted") from None
        except InvalidTokenError:
            # Bad signature, malformed, non-numeric exp/nbf/iat, ...
            raise Invalid("invalid token") from None
        except Exception:
            # Whatever a hostile token makes the decoder raise, it is only invalid.
            raise Invalid("invalid token") from None
        return identity_of(claims)


def identity_of(claims):
    """The :class:`Identity` a verified token's claims grant; Invalid if they cannot."""
    name = claims.get("name")
    if name is None:
        name = claims.get("sub")
    name = rules.check_name(name, key="token name")
    role = claims.get("role", ROLES[0])
    if role not in ROLES:
        raise Invalid("token role must be member or moderator")
    rooms = claims.get("rooms")
    if rooms is not None:
        rooms = check_patterns(rooms)
    return Identity(name, role, rooms)
