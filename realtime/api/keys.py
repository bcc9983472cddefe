"""API keys: who may call the HTTP API, and how often.

    keys = Keys("k1,k2", rate=(100, 10.0))
    key = keys.match(environ.get("HTTP_AUTHORIZATION"))   # index of the key, or None
    keys.allow(key, time.monotonic())                     # False: over the key's rate

Keys are compared in constant time; the rate is counted per key in this
process (a sliding window, as for connections).
"""

import hmac

from ..rules import RateLimiter


def parse_keys(text):
    """The keys of a ``--api-key`` value (comma-separated), in order."""
    return tuple(k.strip() for k in str(text or "").split(",") if k.strip())


class Keys:
    def __init__(self, text, rate=(0, 0.0)):
        self._keys = [k.encode("utf-8") for k in parse_keys(text)]
        self.rate = rate
        self._limiters = [RateLimiter(*rate) for _ in self._keys]

    @property
    def enabled(self):
        """Whether any key is configured (else the API answers 404 everywhere)."""
        return bool(self._keys)

    def __len__(self):
        return len(self._keys)

    def match(self, header):
        """The index of the key an ``Authorization: Bearer KEY`` header carries, or None."""
        if not header:
            return None
        scheme, _, given = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        given = given.strip().encode("latin-1", "replace")
        found = None
        for index, key in enumerate(self._keys):
            # Every key is compared, so the time does not tell which one is close.
            if hmac.compare_digest(given, key) and found is None:
                found = index
        return found

    def allow(self, index, now):
        """Count one request of key ``index``; False when it is over the rate."""
        return self._limiters[index].allow(now)

    def describe_rate(self):
        """The rate in words, for the 429 answer and the logs."""
        count, seconds = self.rate
        if not count:
            return "no limit"
        return "%d requests per %g s per API key" % (count, seconds)
