"""The Redis store beyond the common contract (tests/test_store.py runs that too):
shared by several store instances (processes), failing cleanly while Redis is down
and recovering by itself."""

import pytest

from realtime.store import StoreError, open_store
from support_deploy import RedisServer


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


def put(store, room, text, name="alice", cid=None, ts=1):
    [(msg, created)] = store.append_batch([(room, name, text, cid, ts)])
    return msg, created


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
