"""The /clock namespace: a tick at once, then every second, no auth."""

import datetime
import time

from support import Client


def test_tick_at_once_and_every_second(server, transport):
    """A client gets a tick right after connecting, then about once a second."""
    started = time.time()
    c = Client(server.url, transport=transport, namespaces=["/clock"])
    first = c.wait_for("/clock:tick", units=2)
    assert time.time() - started < 2
    ticks = c.wait_count("/clock:tick", 3, units=5)
    gaps = [b["ts"] - a["ts"] for a, b in zip(ticks, ticks[1:])]
    assert all(0 < g < 1500 for g in gaps[1:]), gaps
    assert set(first) == {"ts", "iso"} and isinstance(first["ts"], int)
    c.disconnect()


def test_tick_iso_matches_ts(server):
    """iso is the same instant as ts, in UTC ISO 8601."""
    c = Client(server.url, namespaces=["/clock"])
    tick = c.wait_for("/clock:tick")
    parsed = datetime.datetime.fromisoformat(tick["iso"].replace("Z", "+00:00"))
    assert parsed.tzinfo is not None and parsed.utcoffset().total_seconds() == 0
    assert abs(parsed.timestamp() * 1000 - tick["ts"]) < 1
    assert abs(tick["ts"] - time.time() * 1000) < 5000
    c.disconnect()


def test_clock_needs_no_auth_and_all_clients_share_ticks(server):
    """Two clients see the same ticks: one task per process, not one per client."""
    a = Client(server.url, namespaces=["/clock"])
    b = Client(server.url, namespaces=["/clock"])
    ta = a.wait_count("/clock:tick", 3)
    tb = b.wait_count("/clock:tick", 3)
    shared = {t["ts"] for t in ta[1:]} & {t["ts"] for t in tb[1:]}
    assert shared, (ta, tb)
    a.disconnect()
    b.disconnect()
