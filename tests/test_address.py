"""realtime/transport/address.py: the client address behind trusted proxies (pure)."""

import pytest

from realtime.config import Config
from realtime.transport.address import DEFAULT_TRUST, Trust, client_address, parse_ip
from realtime.transport.limits import ADDRESS_KEY, Limits, connection_address


def env(peer, xff=None, forwarded=None):
    environ = {"REMOTE_ADDR": peer}
    if xff is not None:
        environ["HTTP_X_FORWARDED_FOR"] = xff
    if forwarded is not None:
        environ["HTTP_FORWARDED"] = forwarded
    return environ


def test_default_trust_is_gunicorns():
    """The default trusts 127.0.0.1 and ::1 only, like gunicorn's forwarded_allow_ips."""
    assert DEFAULT_TRUST.text == "127.0.0.1,::1" == Config().forwarded_allow_ips
    assert DEFAULT_TRUST.peer(parse_ip("127.0.0.1")) and DEFAULT_TRUST.peer(parse_ip("::1"))
    assert not DEFAULT_TRUST.peer(parse_ip("127.0.0.2"))


def test_no_header_is_the_peer():
    """Without a forwarding header the client is the TCP peer."""
    assert client_address(env("127.0.0.1")) == "127.0.0.1"
    assert client_address(env("203.0.113.9")) == "203.0.113.9"


def test_trusted_peer_gives_right_most_untrusted_address():
    """From a trusted proxy: the right-most X-Forwarded-For entry that is not trusted."""
    assert client_address(env("127.0.0.1", "198.51.100.7")) == "198.51.100.7"
    # The client forged the first entry; the proxy appended the real one.
    assert client_address(env("127.0.0.1", "6.6.6.6, 198.51.100.7")) == "198.51.100.7"
    trust = Trust.parse("127.0.0.1,10.0.0.0/8")
    # Two trusted proxies in a row (10.0.0.5 forwarded to 127.0.0.1).
    assert client_address(env("127.0.0.1", "6.6.6.6, 198.51.100.7, 10.0.0.5"),
                          trust) == "198.51.100.7"


def test_untrusted_peer_header_is_ignored():
    """A header from a peer that is not trusted is ignored: anyone could forge it."""
    assert client_address(env("127.0.0.2", "198.51.100.7")) == "127.0.0.2"
    assert client_address(env("203.0.113.9", forwarded="for=198.51.100.7")) == "203.0.113.9"


def test_star_trusts_every_peer_but_takes_the_nearest_hop():
    """``*`` believes any peer's header and takes its right-most entry."""
    star = Trust.parse("*")
    assert client_address(env("203.0.113.9", "6.6.6.6, 198.51.100.7"), star) == "198.51.100.7"
    assert client_address(env("203.0.113.9"), star) == "203.0.113.9"


def test_all_trusted_chain_gives_its_left_most_address():
    """When every hop is trusted, the farthest one is the client (a local browser)."""
    assert client_address(env("127.0.0.1", "127.0.0.1")) == "127.0.0.1"
    assert client_address(env("::1", "::1, 127.0.0.1")) == "::/64"


def test_forwarded_header_for_parameter():
    """RFC 7239 ``Forwarded: for=``: quoted, bracketed IPv6 with port, several elements."""
    fwd = 'for=6.6.6.6;proto=http, for="[2001:db8:cafe::17]:4711";by=127.0.0.1'
    assert client_address(env("127.0.0.1", forwarded=fwd)) == "2001:db8:cafe::/64"
    assert client_address(env("127.0.0.1", forwarded="For=198.51.100.7:8080")) == \
        "198.51.100.7"


def test_x_forwarded_for_wins_over_forwarded():
    """With both headers, X-Forwarded-For (what nginx sets) is the chain."""
    assert client_address(env("127.0.0.1", "198.51.100.7", "for=6.6.6.6")) == "198.51.100.7"


@pytest.mark.parametrize("hop", ["unknown", "_hidden", "garbage", "", "[::1"])
def test_unusable_hop_stops_at_the_proxy_that_wrote_it(hop):
    """A hop that is not an address ends the walk at the trusted proxy that reported it."""
    assert client_address(env("127.0.0.1", "198.51.100.7, " + hop)) == "127.0.0.1"
    assert client_address(env("127.0.0.1", forwarded="for=" + hop)) == "127.0.0.1"


def test_ports_zones_and_mapped_addresses():
    """Ports, zone ids and IPv4-mapped IPv6 are normalised; IPv6 counts per /64."""
    assert parse_ip("198.51.100.7:443") == parse_ip("198.51.100.7")
    assert str(parse_ip("[fe80::1%eth0]:80")) == "fe80::1"
    assert client_address(env("::ffff:127.0.0.1", "198.51.100.7")) == "198.51.100.7"
    assert client_address(env("2001:db8::1")) == client_address(env("2001:db8::2")) == \
        "2001:db8::/64"


def test_unix_socket_peer_is_trusted():
    """A peer that is not an IP (a UNIX socket) is trusted, as gunicorn does."""
    assert client_address(env("", "198.51.100.7")) == "198.51.100.7"
    assert client_address(env("")) == "unknown"


def test_huge_header_is_cheap():
    """Only the right-most hops are looked at: a padded header changes nothing."""
    padded = ", ".join(["6.6.6.6"] * 100000) + ", 198.51.100.7"
    assert client_address(env("127.0.0.1", padded)) == "198.51.100.7"


@pytest.mark.parametrize("text", ["proxy.example", "10.0.0.0/33", "1.2.3"])
def test_bad_trust_list_is_refused(text):
    """A trust list entry that is not an address or network is a ValueError."""
    with pytest.raises(ValueError, match="not an IP address or network"):
        Trust.parse(text)


def test_address_is_computed_once_and_kept_in_the_environ():
    """Limits.address computes the address once per connection and stores it in the environ."""
    limits = Limits(Config(forwarded_allow_ips="127.0.0.1"))
    environ = env("127.0.0.1", "198.51.100.7")
    assert limits.address(environ) == "198.51.100.7" == environ[ADDRESS_KEY]
    environ["HTTP_X_FORWARDED_FOR"] = "203.0.113.1"       # later requests do not matter
    assert limits.address(environ) == connection_address(environ) == "198.51.100.7"
    assert connection_address(env("203.0.113.9")) == "203.0.113.9"
