"""Soak: minutes of reconnecting clients leave memory flat and no greenlets behind.

Bounded (``REALTIME_SOAK_SECONDS``, default 60) and marked ``soak`` so it can be
selected or skipped (``-m "not soak"``); CI runs it.
"""

import os
import random
import re
import threading
import time
import urllib.request

import pytest

from raw import RawSocket
from support import Client, timeout

SECONDS = float(os.environ.get("REALTIME_SOAK_SECONDS", "60"))


def metric(srv, name):
    text = urllib.request.urlopen(srv.url + "/metrics", timeout=timeout(5)).read().decode()
    return float(re.search(r"^%s ([0-9.e+]+)$" % name, text, re.M).group(1))


def rss_mb(srv):
    with open("/proc/%d/status" % srv.proc.pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1)) / 1024


def settle(srv, units=10):
    """Wait until the server has no Engine.IO session left."""
    deadline = time.monotonic() + timeout(units)
    while metric(srv, "realtime_engineio_sessions") and time.monotonic() < deadline:
        time.sleep(0.2)


@pytest.mark.soak
@pytest.mark.timeout(SECONDS + 90)
def test_reconnecting_clients_leave_memory_flat_and_no_greenlets(server_factory):
    """Thousands of connect/chat/disconnect cycles: RSS flat, greenlets back to idle."""
    srv = server_factory("--ping-interval", "2", "--ping-timeout", "2")
    time.sleep(timeout(1))
    idle_greenlets = metric(srv, "realtime_greenlets")
    stop = threading.Event()
    cycles, raw_cycles, errors = [0], [0], []

    def churn(i):
        rng = random.Random(i)
        while not stop.is_set():
            try:
                if rng.random() < 0.25:            # raw client: garbage, then a rude drop
                    ws = RawSocket(srv.url)
                    ws.connect_ns({"name": "raw%d" % i})
                    ws.call("join", {"room": "soak%d" % (i % 3)}, 1)
                    ws.send(rng.choice(["42[]", "4zzz", '42["typing",{}]', "451-[]"]))
                    ws.sock.close()                 # no close frame, no FIN handshake wait
                    raw_cycles[0] += 1
                    continue
                c = Client(srv.url, "u%d" % i, transport=rng.choice(["websocket", "polling"]))
                room = "soak%d" % (i % 3)
                c.call("join", {"room": room})
                for n in range(3):
                    c.call("message", {"room": room, "text": "cycle %d" % n})
                c.emit("typing", {"room": room, "typing": True})
                c.call("dm", {"to": "u%d" % ((i + 1) % 6), "text": "psst"})
                c.call("history", {"room": room, "limit": 20})
                c.disconnect()
                cycles[0] += 1
            except Exception as exc:                # counted; the asserts below decide
                errors.append(repr(exc)[:100])

    threads = [threading.Thread(target=churn, args=(i,), daemon=True) for i in range(6)]
    for t in threads:
        t.start()
    samples = []
    started = time.monotonic()
    try:
        while time.monotonic() - started < SECONDS:
            time.sleep(min(5, SECONDS / 10))
            samples.append((round(time.monotonic() - started), rss_mb(srv)))
    finally:
        stop.set()
        for t in threads:
            t.join(timeout(20))
    settle(srv)
    time.sleep(timeout(1))
    greenlets = metric(srv, "realtime_greenlets")
    warm = [mb for t, mb in samples if t >= SECONDS / 4]
    growth = max(warm[len(warm) // 2:]) - warm[0]
    print("\nsoak %ds: %d client cycles + %d raw abusive cycles, %d client errors, RSS MB %s, "
          "greenlets idle %d -> %d" % (SECONDS, cycles[0], raw_cycles[0], len(errors),
                                       [round(mb, 1) for _, mb in samples], idle_greenlets,
                                       greenlets))
    assert cycles[0] > 100 and len(errors) <= cycles[0] // 100, errors[:5]
    assert growth < 12, "RSS grew %.1f MB after warm-up: %r" % (growth, samples)
    assert greenlets <= idle_greenlets + 5, "greenlets %d after, %d idle" % (
        greenlets, idle_greenlets)
    assert metric(srv, "realtime_connections") == 0
    assert "Traceback" not in srv.log()
