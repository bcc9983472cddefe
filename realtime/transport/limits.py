"""Flood limits per client address: pure bookkeeping, no I/O, no socketio.

:class:`Limits` counts open connections per address and in total, and keeps
one sliding-window :class:`~realtime.rules.RateLimiter` per address for new
connections, for ``message``/``dm`` events and for ``join`` events.  Callers
pass the current time in (``time.monotonic()``), so it is easy to test::

    limits = Limits(Config())
    refusal = limits.open("10.0.0.1", now)     # None, or the sentence to refuse with
    ...
    limits.close("10.0.0.1", now)
    if not limits.allow_message("10.0.0.1", now): ...

Every limit of 0 is off.
"""

import functools
import ipaddress

from ..rules import RateLimiter

TOO_MANY_FROM_ADDRESS = "too many connections from your address"
TOO_MANY_IN_TOTAL = "the server is full; try again later"
TOO_FAST = "too many connection attempts from your address; try again in a few seconds"


def client_address(environ):
    """The key limits are counted under: the peer address of a WSGI request.

    IPv6 clients usually hold a whole /64, so they are counted per /64; no
    proxy header is trusted (any client could forge one).
    """
    return _address_key(environ.get("REMOTE_ADDR") or "unknown")


@functools.lru_cache(maxsize=4096)
def _address_key(address):
    # Cached: ipaddress parses in pure Python (~20 us), twice per connect.
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network("%s/64" % ip, strict=False))
    return str(ip)


class _Entry:
    __slots__ = ("open", "connects", "messages", "joins", "last")

    def __init__(self, connects, messages, joins):
        self.open = 0
        self.connects = RateLimiter(*connects)
        self.messages = RateLimiter(*messages)
        self.joins = RateLimiter(*joins)
        self.last = 0.0


class Limits:
    """Per-address and total connection caps plus per-address event rates."""

    def __init__(self, config):
        self.max_conns = int(config.max_conns)
        self.max_per_address = int(config.max_conns_per_address)
        self._connects = config.parse("connect_rate")
        self._messages = config.parse("address_rate")
        self._joins = config.parse("address_join_rate")
        # Idle entries are kept for the longest window, so disconnecting does
        # not reset an address's rate history.
        self._keep = max(self._connects[1], self._messages[1], self._joins[1], 1.0)
        self._entries = {}
        self._swept = 0.0
        self.total = 0
        self.refused = 0

    def _entry(self, address, now):
        entry = self._entries.get(address)
        if entry is None:
            if now - self._swept > self._keep:
                self._sweep(now)
            entry = self._entries[address] = _Entry(self._connects, self._messages, self._joins)
        entry.last = now
        return entry

    def _sweep(self, now):
        self._swept = now
        for address in [a for a, e in self._entries.items()
                        if not e.open and now - e.last > self._keep]:
            del self._entries[address]

    def open(self, address, now):
        """Count a new connection; return None, or a refusal sentence (not counted)."""
        entry = self._entry(address, now)
        if self.max_conns and self.total >= self.max_conns:
            self.refused += 1
            return TOO_MANY_IN_TOTAL
        if self.max_per_address and entry.open >= self.max_per_address:
            self.refused += 1
            return TOO_MANY_FROM_ADDRESS
        if not entry.connects.allow(now):
            self.refused += 1
            return TOO_FAST
        entry.open += 1
        self.total += 1
        return None

    def close(self, address, now):
        """Forget one connection counted by :meth:`open`."""
        entry = self._entries.get(address)
        if entry is None or entry.open <= 0:
            return
        entry.open -= 1
        entry.last = now
        self.total -= 1

    def open_from(self, address):
        """Open connections counted for ``address``."""
        entry = self._entries.get(address)
        return entry.open if entry else 0

    def allow_message(self, address, now):
        """Count one ``message``/``dm`` event of ``address``; False when over the rate."""
        return self._entry(address, now).messages.allow(now)

    def allow_join(self, address, now):
        """Count one ``join`` event of ``address``; False when over the rate."""
        return self._entry(address, now).joins.allow(now)

    def addresses(self):
        """How many addresses are tracked (for /metrics and leak checks)."""
        return len(self._entries)
