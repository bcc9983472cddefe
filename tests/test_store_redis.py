"""The Redis store beyond the common contract (tests/test_store.py runs that too):
shared by several store instances (processes), failing cleanly while Redis is down
and recovering by itself."""

import json
import os
import re
import threading

import pytest

from realtime.store import Edit, React, Read, StoreError, open_store
from realtime.store.redis import SEARCH_SCAN
from realtime.words import words
from support import ROOT
from support_deploy import RedisServer
from test_store import one, put


@pytest.fixture(scope="module")
def redis_server():
    with RedisServer() as r:
        yield r


@pytest.fixture
def url(redis_server):
    import redis
    redis.Redis.from_url(redis_server.url).flushdb()
    return redis_server.url


@pytest.fixture
def store(url):
    s = open_store(url)
    yield s
    s.close()


def test_redis_url_opens_the_redis_store(store, url):
    """redis:// picks the Redis backend, which never blocks the hub."""
    assert store.kind == "redis" and store.blocking is False
    assert store.describe() == url


def test_password_is_hidden_in_describe(redis_server):
    """describe() masks a password in the URL."""
    s = open_store("redis://user:sekrit@127.0.0.1:%d/0" % redis_server.port)
    assert "sekrit" not in s.describe() and "***" in s.describe()


def test_ids_increase_per_room_across_instances(url):
    """Two store instances (two processes) interleaving appends get strictly increasing ids."""
    a, b = open_store(url), open_store(url)
    ids = []
    for i in range(10):
        ids.append(put(a if i % 2 else b, "lobby", str(i))[0]["id"])
    assert ids == list(range(1, 11))
    assert [m["id"] for m in a.latest("lobby", 50)[0]] == ids
    a.close()
    b.close()


def test_cid_is_idempotent_across_instances_and_rooms(url):
    """The same name + cid on another instance and room returns the stored message."""
    a, b = open_store(url), open_store(url)
    first, created1 = put(a, "r1", "one", cid="c1")
    again, created2 = put(b, "r2", "two", cid="c1")
    assert created1 and not created2 and again == first
    assert not b.has_room("r2") and b.latest("r1", 10)[0] == [first]
    assert put(b, "r1", "three", name="bob", cid="c1")[1]
    a.close()
    b.close()


def test_down_then_back(redis_server):
    """While Redis is down calls raise StoreError at once; after it returns they work again."""
    s = open_store(redis_server.url)
    put(s, "r", "before")
    redis_server.stop()
    try:
        with pytest.raises(StoreError, match="unavailable"):
            put(s, "r", "lost")
        with pytest.raises(StoreError):
            s.ping()
        with pytest.raises(StoreError):
            s.latest("r", 5)
        assert s.next_dm_id() > 0          # dms do not need Redis
    finally:
        redis_server.start()
    s.ping()
    assert put(s, "r", "after")[1]
    s.close()


def test_concurrent_changes_of_one_message_lose_nothing(url):
    """Reactions from several processes on one message at once: every one lands, and
    the updates' ids follow the order their states were committed in."""
    stores = [open_store(url) for _ in range(4)]
    msg, _ = put(stores[0], "r", "react to me")

    def react(s, who):
        for i in range(10):
            one(s, React("r", msg["id"], who, "e%d" % (i % 3), True, 2))
    threads = [threading.Thread(target=react, args=(s, "p%d" % n)) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    state = stores[0].latest("r", 1)[0][0]
    assert state["reactions"] == {"e%d" % k: ["p0", "p1", "p2", "p3"] for k in range(3)}
    updates = stores[1].replay("r", 0, 500).updates
    assert len(updates) == 12 and updates[-1]["message"] == state
    for s in stores:
        s.close()


def test_search_scans_a_bounded_number_of_newest_messages(store):
    """Search looks at the newest search_scan messages only, and says so in the docs."""
    put(store, "r", "needle in the oldest")
    for i in range(30):
        put(store, "r", "hay %d" % i)
    put(store, "r", "needle in the newest")
    store.search_scan = 20
    assert [m["text"] for m in store.search("r", words("needle"), 20)] == ["needle in the newest"]
    store.search_scan = 100
    assert len(store.search("r", words("needle"), 20)) == 2
    with open(os.path.join(ROOT, "docs", "protocol.md"), encoding="utf-8") as f:
        docs = f.read()
    assert SEARCH_SCAN == 10_000 and re.search(r"newest\s+10,000\s+messages", docs.replace("*", ""))


def test_first_release_data_is_migrated(url):
    """A Redis written by the first release (messages and cids, no own-id sets):
    unread counts, cid resends and edits work."""
    import redis
    r = redis.Redis.from_url(url, decode_responses=True)
    for i, name in enumerate(["alice", "bob", "bob"], 1):
        msg = json.dumps({"id": i, "room": "old", "name": name, "text": "t%d" % i, "ts": i},
                         separators=(",", ":"))
        r.zadd("rt:msgs:old", {msg: i})
        r.hset("rt:cid:" + name, "c%d" % i, msg)
    r.set("rt:seq:old", 3)
    s = open_store(url)
    assert r.get("rt:schema") == "2"
    assert s.replay("old", None, 50, "alice").unread == 2
    assert s.replay("old", None, 50, "bob").unread == 1
    state, _ = one(s, Edit("old", 2, "bob", "edited", 9))
    assert put(s, "x", "again", name="bob", cid="c2") == (state, False)
    assert one(s, Read("old", "alice", 3)) == (3, 0, True)
    s.close()
