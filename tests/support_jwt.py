"""Keys and tokens for the JWT tests: what a backend would mint, and what an attacker would."""

import base64
import hashlib
import hmac
import json
import os
import tempfile
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

HS_SECRET = "hs-secret-" + os.urandom(16).hex()
AUDIENCE = "chat-test"
ISSUER = "https://backend.test"


def _pem(public):
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()


class KeyPair:
    """A private key to sign with and its public PEM (text and a file) for the server."""

    def __init__(self, algorithm):
        self.algorithm = algorithm
        if algorithm == "RS256":
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            self.private = ec.generate_private_key(ec.SECP256R1())
        self.public_pem = _pem(self.private.public_key())
        fd, self.path = tempfile.mkstemp(prefix="realtime-jwt-", suffix=".pem")
        with os.fdopen(fd, "w") as f:
            f.write(self.public_pem)

    def private_pem(self):
        return self.private.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()).decode()

    def mint(self, **claims):
        return mint(self.private, self.algorithm, **claims)


def claims_for(ttl=600, **extra):
    now = int(time.time())
    claims = {"sub": "alice", "iat": now, "exp": now + ttl}
    claims.update(extra)
    return {k: v for k, v in claims.items() if v is not None}


def mint(key, algorithm="HS256", **claims):
    """A token signed as the backend would (claims default to a fresh ``sub`` token)."""
    return jwt.encode(claims_for(**claims), key, algorithm=algorithm)


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header, payload, signature=b""):
    return ".".join([_b64(json.dumps(header).encode()), _b64(json.dumps(payload).encode()),
                     _b64(signature)])


def alg_none(**claims):
    """An unsigned token (``alg: none``)."""
    return unsigned({"alg": "none", "typ": "JWT"}, claims_for(**claims))


def key_confusion(public_pem, **claims):
    """HS256 with the server's public key text as the HMAC secret (PyJWT refuses to make it)."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims_for(**claims)).encode())
    mac = hmac.new(public_pem.encode(), (header + "." + payload).encode(), hashlib.sha256)
    return header + "." + payload + "." + _b64(mac.digest())


def tampered(token, **changes):
    """The token with its payload changed and the signature kept."""
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(changes)
    return ".".join([header, _b64(json.dumps(data).encode()), signature])


def connect_error(url, auth, transport="websocket"):
    """The connect_error message for ``auth``, or None when the connect succeeds."""
    import socketio
    from support import timeout
    sio = socketio.Client()
    got = []
    sio.on("connect_error", got.append)
    try:
        sio.connect(url, auth=auth, transports=[transport], wait_timeout=timeout(5))
    except socketio.exceptions.ConnectionError:
        return got[0]["message"] if got and isinstance(got[0], dict) else "refused: %r" % got
    sio.disconnect()
    return None
