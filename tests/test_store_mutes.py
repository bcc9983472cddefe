"""Mutes in every store that keeps them (memory, sqlite, redis; see test_store.py for
the backends): the Mute operation, the latest decision wins, mutes() lists those in
force, they survive reopening, and they share batches with other writes."""

import sqlite3

from realtime.store import Mute, Post, open_store
from realtime.store import sqlite_schema
from test_store import one, put, redis_server, store, store_url  # noqa: F401 (fixtures)

NOW = 1_800_000_000_000


def test_store_keeps_mutes(store):
    """Every backend of the suite declares it keeps mutes."""
    assert store.keeps_mutes is True
    assert store.mutes(NOW) == []


def test_mute_is_listed_until_it_ends(store):
    """A mute is in mutes(now) while until > now, with its until and ts."""
    assert one(store, Mute("r", "eve", NOW + 60_000, "mod", NOW)) == NOW + 60_000
    assert store.mutes(NOW) == [("r", "eve", NOW + 60_000, NOW)]
    assert store.mutes(NOW + 60_000) == []


def test_lift_removes_it(store):
    """until 0 lifts the mute: nothing is listed."""
    one(store, Mute("r", "eve", NOW + 60_000, "mod", NOW))
    assert one(store, Mute("r", "eve", 0, "mod", NOW + 1)) == 0
    assert store.mutes(NOW + 2) == []


def test_an_older_decision_written_late_loses(store):
    """Per room and name the latest ts wins; the result is the until in force."""
    one(store, Mute("r", "eve", 0, "mod2", NOW + 10))
    assert one(store, Mute("r", "eve", NOW + 60_000, "mod1", NOW)) == 0
    assert store.mutes(NOW + 20) == []


def test_mutes_are_per_room_and_name(store):
    """Two rooms and two names are four independent mutes."""
    for room in ("a", "b"):
        for name in ("eve", "mallory"):
            one(store, Mute(room, name, NOW + 1000, None, NOW))
    one(store, Mute("a", "eve", 0, None, NOW + 1))
    assert sorted(store.mutes(NOW + 2)) == [("a", "mallory", NOW + 1000, NOW),
                                            ("b", "eve", NOW + 1000, NOW),
                                            ("b", "mallory", NOW + 1000, NOW)]


def test_mute_in_a_batch_with_posts(store):
    """A Mute between posts in one batch: each gets its own result, in order."""
    out = store.append_batch([Post("r", "alice", "one", "c1", 1),
                              Mute("r", "eve", NOW + 5, "mod", NOW),
                              Post("r", "alice", "one again", "c1", 2)])
    assert out[0][1] is True and out[1] == NOW + 5
    assert out[2] == (out[0][0], False)
    assert put(store, "r", "after")[1] is True


def test_mutes_survive_reopening(store_url):
    """What one instance wrote, a new instance on the same URL lists (memory excepted)."""
    if store_url.startswith("memory"):
        return
    first = open_store(store_url)
    one(first, Mute("r", "eve", NOW + 60_000, "mod", NOW))
    first.close()
    second = open_store(store_url)
    try:
        assert second.mutes(NOW) == [("r", "eve", NOW + 60_000, NOW)]
    finally:
        second.close()


def test_sqlite_mutes_table_needs_no_schema_version(tmp_path):
    """The table is added at open (IF NOT EXISTS) to a file of the current schema,
    without changing its version; opening again keeps the rows."""
    path = tmp_path / "t.db"
    store = open_store("sqlite:///%s" % path)
    store.close()
    conn = sqlite3.connect(str(path))
    conn.execute("DROP TABLE mutes")            # a file from before mutes existed
    conn.commit()
    conn.close()
    store = open_store("sqlite:///%s" % path)
    one(store, Mute("r", "eve", NOW + 1, None, NOW))
    store.close()
    store = open_store("sqlite:///%s" % path)
    assert store.mutes(NOW) == [("r", "eve", NOW + 1, NOW)]
    store.close()
    conn = sqlite3.connect(str(path))
    assert sqlite_schema.version(conn) == sqlite_schema.VERSION
    conn.close()
