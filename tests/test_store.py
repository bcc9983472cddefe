"""Every store backend against the same contract, without sockets: the first
release's messages here, the second release's log in test_store_log.py.

The ``store_url`` fixture is parametrized over :data:`STORES`; a new backend
(PostgreSQL, ...) adds one entry there and passes both modules unchanged.
Backend-specific behaviour lives in test_store_sqlite.py, test_store_redis.py.
"""

import pytest

from realtime.store import Post, Refused, StoreError, open_store


@pytest.fixture(scope="module")
def redis_server():
    """A real redis-server for the redis backend, started only when a test needs it."""
    from support_deploy import RedisServer
    with RedisServer() as r:
        yield r


def _redis_url(request, tmp_path):
    url = request.getfixturevalue("redis_server").url
    import redis
    redis.Redis.from_url(url).flushdb()
    return url


#: backend name -> function(request, tmp_path) giving a fresh, empty store URL
STORES = {
    "memory": lambda request, tmp_path: "memory://",
    "sqlite": lambda request, tmp_path: "sqlite:///" + str(tmp_path / "t.db"),
    "redis": _redis_url,
    "postgresql": lambda request, tmp_path: request.getfixturevalue("postgres_url"),
}


@pytest.fixture(params=sorted(STORES))
def store_url(request, tmp_path):
    return STORES[request.param](request, tmp_path)


@pytest.fixture
def store(store_url):
    s = open_store(store_url)
    yield s
    s.close()


def put(store, room, text, name="alice", cid=None, ts=1, reply_to=None):
    [result] = store.append_batch([Post(room, name, text, cid, ts, reply_to)])
    if isinstance(result, Refused):
        raise result
    return result


def one(store, op):
    """Apply one operation; raise its Refused."""
    [result] = store.append_batch([op])
    if isinstance(result, Refused):
        raise result
    return result


def apply(entries, state=None):
    """What a client does: fold messages and updates into {id: message}."""
    state = dict(state or {})
    for e in entries:
        if "kind" in e:
            state[e["target"]] = e["message"]
        else:
            state[e["id"]] = e
    return state


# -- messages (first release) ----------------------------------------------------

def test_ids_increase_within_a_room(store):
    """Ids are unique and strictly increasing."""
    ids = [put(store, "r", str(i))[0]["id"] for i in range(5)]
    assert ids == sorted(set(ids))


def test_message_shape(store):
    """The stored message carries id, room, name, text, ts."""
    msg, created = put(store, "r", "hi <b>", ts=123)
    assert created and set(msg) == {"id", "room", "name", "text", "ts"}
    assert (msg["room"], msg["name"], msg["text"], msg["ts"]) == ("r", "alice", "hi <b>", 123)


def test_plain_tuples_still_post(store):
    """The first release's (room, name, text, cid, ts) tuple is a Post."""
    [(msg, created)] = store.append_batch([("r", "alice", "old form", None, 5)])
    assert created and msg["text"] == "old form" and store.latest("r", 1)[0] == [msg]


def test_cid_makes_append_idempotent(store):
    """The same name and cid returns the first message, stored once."""
    first, created1 = put(store, "r", "one", cid="c1")
    again, created2 = put(store, "other", "two", cid="c1")
    assert created1 and not created2 and again == first
    assert store.latest("r", 10)[0] == [first] and not store.has_room("other")


def test_cid_is_scoped_to_the_name(store):
    """Another person's cid does not collide."""
    put(store, "r", "one", name="alice", cid="c1")
    assert put(store, "r", "two", name="bob", cid="c1")[1]


def test_duplicate_cid_within_one_batch(store):
    """A batch holding a resend stores it once."""
    out = store.append_batch([("r", "a", "x", "c", 1), ("r", "a", "x", "c", 1)])
    assert [created for _, created in out] == [True, False]
    assert out[0][0] == out[1][0]


def test_latest_and_more(store):
    """latest gives the newest messages oldest first, and whether older exist."""
    ids = [put(store, "r", str(i))[0]["id"] for i in range(7)]
    msgs, more = store.latest("r", 5)
    assert [m["id"] for m in msgs] == ids[2:] and more
    msgs, more = store.latest("r", 7)
    assert [m["id"] for m in msgs] == ids and not more


def test_after_pages_forward(store):
    """after gives the oldest messages newer than since, capped, with more."""
    ids = [put(store, "r", str(i))[0]["id"] for i in range(7)]
    msgs, more = store.after("r", ids[1], 3)
    assert [m["id"] for m in msgs] == ids[2:5] and more
    msgs, more = store.after("r", ids[4], 3)
    assert [m["id"] for m in msgs] == ids[5:] and not more


def test_before_pages_backward(store):
    """before gives the newest messages older than an id, oldest first."""
    ids = [put(store, "r", str(i))[0]["id"] for i in range(7)]
    msgs, more = store.before("r", ids[5], 3)
    assert [m["id"] for m in msgs] == ids[2:5] and more
    msgs, more = store.before("r", ids[2], 3)
    assert [m["id"] for m in msgs] == ids[:2] and not more


def test_rooms_are_separate(store):
    """A room's pages hold only its own messages."""
    put(store, "a", "1")
    put(store, "b", "2")
    assert [m["text"] for m in store.latest("a", 10)[0]] == ["1"]
    assert store.has_room("b") and not store.has_room("c")


def test_dm_ids_are_unique_and_increasing(store):
    """Direct message ids never repeat."""
    ids = [store.next_dm_id() for _ in range(100)]
    assert ids == sorted(set(ids))


def test_unicode_and_nul_survive(store):
    """Text round-trips exactly, including NUL, RTL marks and emoji."""
    text = "a\x00b \u202e\u200b 😀 <script>"
    put(store, "r", text)
    assert store.latest("r", 1)[0][0]["text"] == text


# -- failures ---------------------------------------------------------------------

@pytest.mark.parametrize("url", ["mysql://x", "sqlite://", "nonsense"])
def test_unknown_urls_are_refused(url):
    """A URL the server cannot use is a clear error."""
    with pytest.raises(ValueError):
        open_store(url)


def test_store_error_is_an_exception():
    """StoreError and Refused are distinct: one is the store failing, one a rule."""
    assert not issubclass(Refused, StoreError) and not issubclass(StoreError, Refused)
