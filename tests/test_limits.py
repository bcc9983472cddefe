"""Per-address flood bookkeeping (realtime/limits.py), pure and in-process."""

from realtime.config import Config
from realtime.limits import TOO_FAST, TOO_MANY_FROM_ADDRESS, TOO_MANY_IN_TOTAL, Limits


def limits(**settings):
    base = dict(max_conns=0, max_conns_per_address=0, connect_rate="0", address_rate="0",
                address_join_rate="0")
    base.update(settings)
    return Limits(Config(**base))


def test_cap_per_address_refuses_the_next_connection():
    """The connection over --max-conns-per-address is refused; other addresses are not."""
    lim = limits(max_conns_per_address=2)
    assert lim.open("a", 0) is None and lim.open("a", 0) is None
    assert lim.open("a", 0) == TOO_MANY_FROM_ADDRESS
    assert lim.open("b", 0) is None


def test_closing_frees_a_slot():
    """A closed connection no longer counts against its address."""
    lim = limits(max_conns_per_address=1)
    assert lim.open("a", 0) is None
    lim.close("a", 1)
    assert lim.open("a", 2) is None
    assert lim.open_from("a") == 1


def test_total_cap_refuses_everyone_over_it():
    """Over --max-conns every address is refused."""
    lim = limits(max_conns=2)
    assert lim.open("a", 0) is None and lim.open("b", 0) is None
    assert lim.open("c", 0) == TOO_MANY_IN_TOTAL
    assert lim.total == 2 and lim.refused == 1


def test_connect_rate_survives_disconnects():
    """Connecting and disconnecting in a loop still hits --connect-rate."""
    lim = limits(connect_rate="3/10")
    for t in range(3):
        assert lim.open("a", t) is None
        lim.close("a", t + 0.5)
    assert lim.open("a", 4) == TOO_FAST
    assert lim.open("a", 10.5) is None


def test_message_rate_is_shared_by_an_address():
    """--address-rate counts every connection of an address together."""
    lim = limits(address_rate="3/10")
    assert all(lim.allow_message("a", 0) for _ in range(3))
    assert not lim.allow_message("a", 1)
    assert lim.allow_message("b", 1)
    assert lim.allow_message("a", 10.1)


def test_idle_addresses_are_forgotten():
    """Addresses with no connection are dropped after the longest window."""
    lim = limits(connect_rate="5/10")
    for i in range(100):
        lim.open("10.0.0.%d" % i, 0)
        lim.close("10.0.0.%d" % i, 0)
    lim.open("x", 100)
    assert lim.addresses() == 1


def test_refused_connections_are_not_counted():
    """A refused connection does not take a slot (its close is a no-op)."""
    lim = limits(max_conns_per_address=1)
    lim.open("a", 0)
    assert lim.open("a", 0) == TOO_MANY_FROM_ADDRESS
    assert lim.total == 1
