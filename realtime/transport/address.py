"""The client address behind trusted proxies: pure parsing, no I/O, no socketio.

Every per-address limit, log line and metric keys on :func:`client_address`.
A proxy's forwarding header is believed only when the TCP peer is trusted
(``--forwarded-allow-ips``, gunicorn's setting and default); the client is
then the right-most address of the chain that is not itself trusted::

    trust = Trust.parse("127.0.0.1,::1")            # or "*", or "10.0.0.0/8,::1"
    client_address({"REMOTE_ADDR": "127.0.0.1",
                    "HTTP_X_FORWARDED_FOR": "198.51.100.7, 203.0.113.9"}, trust)
    # -> "203.0.113.9"

The chain is ``X-Forwarded-For`` when present, else the ``for=`` parameters
of ``Forwarded`` (RFC 7239).  IPv6 clients are keyed per /64 (one subscriber
usually holds a whole /64); IPv4-mapped IPv6 addresses as their IPv4 address.
"""

import functools
import ipaddress

DEFAULT_TRUST_TEXT = "127.0.0.1,::1"
# Only the right-most hops matter: the walk stops at the first untrusted one,
# so a client padding the header with thousands of entries costs nothing.
MAX_HOPS = 32


class Trust:
    """The peers whose forwarding headers are believed.

    ``*`` trusts every TCP peer; the header's own entries are then judged
    against the listed addresses and networks only, so the client is the
    right-most entry (the one the nearest proxy wrote).
    """

    __slots__ = ("networks", "any_peer", "text")

    def __init__(self, networks=(), any_peer=False, text=""):
        self.networks = tuple(networks)
        self.any_peer = any_peer
        self.text = text

    @classmethod
    def parse(cls, text):
        """Parse ``"127.0.0.1,::1"``, ``"*"`` or CIDR networks; ValueError if malformed."""
        if isinstance(text, Trust):
            return text
        networks, any_peer = [], False
        for entry in str(text).replace(" ", ",").split(","):
            entry = entry.strip()
            if not entry:
                continue
            if entry == "*":
                any_peer = True
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError("%r is not an IP address or network (e.g. 127.0.0.1, "
                                 "10.0.0.0/8, ::1 or *)" % entry) from None
        return cls(networks, any_peer, str(text))

    def listed(self, ip):
        """Whether ``ip`` (an ipaddress object) is one of the trusted addresses."""
        return any(ip.version == net.version and ip in net for net in self.networks)

    def peer(self, ip):
        """Whether headers from this TCP peer are believed (None: not an IP, a UNIX socket)."""
        return self.any_peer or ip is None or self.listed(ip)


DEFAULT_TRUST = Trust.parse(DEFAULT_TRUST_TEXT)


@functools.lru_cache(maxsize=4096)
def parse_ip(text):
    """An address as proxies and servers write it, or None.

    Accepts ``1.2.3.4``, ``1.2.3.4:5678``, ``2001:db8::1``, ``[2001:db8::1]:80``,
    quoted forms and zone ids; ``unknown`` and obfuscated ids give None.
    """
    text = text.strip().strip('"').strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        text = text[1:end]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]          # IPv4 with a port
    text = text.split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def key(ip):
    """The string limits are counted under: an IPv4 address, or an IPv6 /64."""
    if ip.version == 6:
        return str(ipaddress.ip_network("%s/64" % ip, strict=False))
    return str(ip)


def _split(value, sep):
    """Split on ``sep`` outside double quotes."""
    parts, start, quoted = [], 0, False
    for i, ch in enumerate(value):
        if ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return parts


def forwarded_chain(environ):
    """The hops a proxy reported, left (farthest) to right (nearest), at most MAX_HOPS."""
    xff = environ.get("HTTP_X_FORWARDED_FOR")
    if xff is not None:
        return xff.rsplit(",", MAX_HOPS)[-MAX_HOPS:]
    forwarded = environ.get("HTTP_FORWARDED")
    if forwarded is None:
        return []
    hops = []
    for element in _split(forwarded, ",")[-MAX_HOPS:]:
        value = "unknown"        # an element without for= says nothing about the client
        for pair in _split(element, ";"):
            name, sep, rest = pair.partition("=")
            if sep and name.strip().lower() == "for":
                value = rest
        hops.append(value)
    return hops


def client_address(environ, trust=DEFAULT_TRUST):
    """The address of the client behind a WSGI request, as a limits key (see module doc)."""
    peer_text = environ.get("REMOTE_ADDR") or ""
    current = parse_ip(peer_text)
    if not trust.peer(current):
        return key(current)
    found = current
    for hop in reversed(forwarded_chain(environ)):
        ip = parse_ip(hop)
        if ip is None:
            # A trusted proxy wrote something that is not an address
            # ("unknown", an obfuscated id): it is the best we know.
            break
        found = ip
        if not trust.listed(ip):
            break
    if found is None:
        return peer_text or "unknown"
    return key(found)
