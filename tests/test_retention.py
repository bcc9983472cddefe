"""Retention end to end: a real server with --retention-days and
--retention-per-room trims old messages in the background (SQLite, Redis and
PostgreSQL stores); over Socket.IO they are gone from join, history and
search, newer ones stay."""

import time

import pytest

from realtime.store import Post, open_store
from realtime.store.retention import DAY_MS
from support import Client, timeout
from test_store import redis_server  # noqa: F401 (fixture)


def texts(msgs):
    return [m["text"] for m in msgs]


@pytest.fixture(params=["sqlite", "redis", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "redis":
        return request.getfixturevalue("redis_server").url
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return "sqlite:///" + str(tmp_path / "chat.db")


def seed_old(url, room, n, days):
    """``n`` messages ``days`` old, written before the server starts."""
    store = open_store(url)
    now = time.time_ns() // 1_000_000
    try:
        return [m for m, _ in store.append_batch(
            [Post(room, "old", "ancient walrus %d" % i, None, now - days * DAY_MS + i)
             for i in range(n)])]
    finally:
        store.close()


def until(check, units=10):
    """Poll ``check()`` until it returns true; return its last value."""
    deadline = time.monotonic() + timeout(units)
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_old_messages_are_trimmed_from_join_history_and_search(server_factory, store_url,
                                                               transport, room):
    """Older than a day or beyond the newest 8: gone everywhere; the rest stays."""
    old = seed_old(store_url, room, 5, days=3)
    srv = server_factory("--retention-days", "1", "--retention-per-room", "8",
                         "--retention-interval", "0.3", store=store_url)
    a = Client(srv.url, "alice", transport=transport)
    b = Client(srv.url, "bob", transport=transport)
    try:
        assert a.call("join", {"room": room})["ok"]
        fresh = [a.call("message", {"room": room, "text": "fresh walrus %d" % i})["message"]
                 for i in range(10)]
        kept = texts(fresh[2:])

        def trimmed():
            ack = b.call("history", {"room": room, "limit": 100})
            return texts(ack["messages"]) == kept and not ack["more"]
        assert until(trimmed), b.call("history", {"room": room, "limit": 100})
        joined = b.call("join", {"room": room})
        assert texts(joined["history"]) == kept and not joined["more"]
        # A cursor from before the trim gets what is left.
        replay = b.call("join", {"room": room, "since": old[0]["id"]})
        assert texts(replay["history"]) == kept and not replay["more"]
        found = b.call("search", {"room": room, "q": "walrus"})["messages"]
        assert texts(found) == kept[::-1]
        assert b.call("search", {"room": room, "q": "ancient"})["messages"] == []
        # Ids keep increasing; the next pass keeps the newest 8 again.
        late = a.call("message", {"room": room, "text": "late walrus"})["message"]
        assert late["id"] > max(m["id"] for m in fresh)
        assert until(lambda: texts(b.call("history", {"room": room})["messages"])
                     == kept[1:] + ["late walrus"])
        log = srv.log()
        assert "retention: removing messages older than 1 day(s) and all but the newest 8 " \
            "messages of each room, every 0.3 s" in log and "retention: removed" in log
        import urllib.request
        with urllib.request.urlopen(srv.url + "/metrics", timeout=timeout(5)) as r:
            metrics = r.read().decode()
        trimmed = [line for line in metrics.splitlines()
                   if line.startswith("realtime_messages_trimmed_total ")]
        assert trimmed and float(trimmed[0].split()[1]) >= 8
    finally:
        a.disconnect()
        b.disconnect()


def test_retention_is_off_by_default(server_factory, tmp_path, room):
    """Without the settings, old messages stay."""
    url = "sqlite:///" + str(tmp_path / "chat.db")
    seed_old(url, room, 3, days=400)
    srv = server_factory(store=url)
    c = Client(srv.url, "alice")
    try:
        time.sleep(timeout(0.5))
        assert texts(c.call("history", {"room": room})["messages"]) == [
            "ancient walrus %d" % i for i in range(3)]
        assert "retention: off, every message is kept" in srv.log()
    finally:
        c.disconnect()


@pytest.mark.parametrize("flag, value, words", [
    ("--retention-days", "-1", "must be a number of days"),
    ("--retention-days", "week", "expected a number, got 'week'"),
    ("--retention-per-room", "1.5", "expected a number, got '1.5'"),
    ("--retention-interval", "0", "must be a number of seconds above 0"),
])
def test_bad_retention_values_are_one_line(flag, value, words):
    """A bad value stops the server with one line naming the flag, exit code 2."""
    import subprocess
    import sys
    from support import env_for
    proc = subprocess.run([sys.executable, "-m", "realtime", "serve", flag, value],
                          capture_output=True, text=True, env=env_for(),
                          timeout=timeout(10))
    assert proc.returncode == 2
    assert proc.stderr == "realtime: bad value for %s: %s\n" % (flag, proc.stderr.split(
        ": ", 2)[2].rstrip("\n")) and words in proc.stderr and proc.stderr.count("\n") == 1
