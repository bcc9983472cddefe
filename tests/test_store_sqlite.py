"""The SQLite store beyond the common contract (tests/test_store.py runs that too):
the file on disk, the derived search data, cheap unread counts."""

import os
import sqlite3

import pytest

from realtime.store import Delete, Edit, Read, StoreError, open_store
from realtime.store.sqlite_schema import VERSION
from realtime.words import matches
from test_store import one, put


@pytest.fixture
def url(tmp_path):
    return "sqlite:///" + str(tmp_path / "t.db")


@pytest.fixture
def store(url):
    s = open_store(url)
    yield s
    s.close()


def test_sqlite_keeps_the_log_across_reopen(url):
    """A new store on the same file sees messages, updates and markers, and counts up."""
    s = open_store(url)
    first, _ = put(s, "r", "x", cid="c", name="bob")
    state, upd = one(s, Edit("r", first["id"], "bob", "y", 2))
    one(s, Read("r", "alice", upd["id"]))
    s.close()
    s = open_store(url)
    assert s.latest("r", 10)[0] == [state]
    assert put(s, "r", "x", cid="c", name="bob") == (state, False)
    snap = s.replay("r", 0, 500, "alice")
    assert snap.updates == [upd] and (snap.read, snap.unread) == (upd["id"], 0)
    assert put(s, "r", "z")[0]["id"] > upd["id"]
    s.close()


def test_new_file_has_the_current_schema_version(store, url):
    """A fresh file is created at the current schema version."""
    conn = sqlite3.connect(url[len("sqlite:///"):])
    assert conn.execute("PRAGMA user_version").fetchone()[0] == VERSION
    conn.close()


def test_a_newer_schema_is_refused(url):
    """A file from a newer release is not guessed at."""
    open_store(url).close()
    conn = sqlite3.connect(url[len("sqlite:///"):])
    conn.execute("PRAGMA user_version = %d" % (VERSION + 1))
    conn.close()
    with pytest.raises(StoreError, match="newer release"):
        open_store(url)


def test_sqlite_uses_wal(tmp_path):
    """The SQLite file runs in WAL mode."""
    path = tmp_path / "t.db"
    s = open_store("sqlite:///" + str(path))
    put(s, "r", "x")
    assert os.path.exists(str(path) + "-wal")
    s.close()


def test_sqlite_deleted_file_raises_store_error(tmp_path):
    """Writes to a deleted database file fail instead of vanishing into it."""
    path = tmp_path / "t.db"
    s = open_store("sqlite:///" + str(path))
    put(s, "r", "x")
    path.unlink()
    with pytest.raises(StoreError, match="unavailable"):
        put(s, "r", "y")
    s.close()


def test_sqlite_replaced_file_raises_store_error(tmp_path):
    """A database file swapped underneath the server is refused."""
    path = tmp_path / "t.db"
    s = open_store("sqlite:///" + str(path))
    put(s, "r", "x")
    path.rename(tmp_path / "old.db")
    open_store("sqlite:///" + str(path)).close()
    with pytest.raises(StoreError, match="replaced"):
        s.latest("r", 1)
    s.close()


def test_index_runs_in_steps_and_search_never_waits_for_it(store):
    """index() works through the backlog in steps; a search catches up by itself."""
    for i in range(30):
        put(store, "r", "word%d common" % i)
    assert [m["text"] for m in store.search("r", ["word29"], 5)] == ["word29 common"]
    put(store, "r", "fresh common")
    assert store.index(10) == 1 and store.index(10) == 0
    for i in range(25):
        put(store, "r", "more %d" % i)
    assert [store.index(10) for _ in range(4)] == [10, 10, 5, 0]


def test_edits_before_and_after_indexing_are_both_found(store):
    """An edit of a not yet indexed message and of an indexed one: the new words count."""
    a, _ = put(store, "r", "old alpha")
    store.index(100)
    b, _ = put(store, "r", "old beta")
    one(store, Edit("r", a["id"], "alice", "new alpha", 2))
    one(store, Edit("r", b["id"], "alice", "new beta", 3))
    assert store.search("r", ["old"], 20) == []
    assert [m["id"] for m in store.search("r", ["new"], 20)] == [b["id"], a["id"]]


def test_search_index_is_rebuilt_after_a_unicode_change(url):
    """Another Unicode version than the index was built with: rebuilt at open."""
    s = open_store(url)
    put(s, "r", "Grüße aus Köln")
    s.index(100)
    s.close()
    conn = sqlite3.connect(url[len("sqlite:///"):])
    conn.execute("UPDATE meta SET value = '1.0.0' WHERE key = 'unicode'")
    conn.execute("INSERT INTO search (search) VALUES ('delete-all')")
    conn.commit()
    conn.close()
    s = open_store(url)
    assert [m["text"] for m in s.search("r", ["köln"], 5)] == ["Grüße aus Köln"]
    s.close()


def _steps(store, fn):
    """SQLite virtual-machine steps ``fn`` costs (a measure of rows visited)."""
    counted = [0]

    def tick():
        counted[0] += 1
        return 0
    conn = store._conn()
    conn.set_progress_handler(tick, 100)
    try:
        fn()
    finally:
        conn.set_progress_handler(None, 0)
    return counted[0]


def test_unread_needs_no_scan_of_a_big_room(store):
    """A join's unread count (and a read far behind) costs the same in a room of
    200 or 20,000 messages: counters, not a scan."""
    def fill(room, count):
        for start in range(0, count, 500):
            store.append_batch([(room, "bob" if i % 3 else "alice", "m%d" % i, None, 1)
                                for i in range(start, min(start + 500, count))])
    fill("small", 200)
    fill("big", 20000)
    store.index(100000)
    costs = {}
    for room in ("small", "big"):
        costs[room] = _steps(store, lambda: store.replay(room, None, 50, "carol"))
        top = store.latest(room, 1)[0][0]["id"]
        costs[room + "-read"] = _steps(store, lambda: one(store, Read(room, "carol", top)))
        assert store.replay(room, None, 50, "carol").unread == 0
        assert store.replay(room, None, 50, "dave").unread > 0
    assert costs["big"] < 2 * costs["small"] + 50, costs
    assert costs["big-read"] < 2 * costs["small-read"] + 50, costs
    assert store.replay("big", None, 50, "alice").unread == 20000 - 6667


def test_unread_after_deletes_in_a_big_room(store):
    """Deleted messages above the marker leave the count, without a scan."""
    msgs = [put(store, "r", str(i), name="bob")[0] for i in range(10)]
    store.index(100)
    one(store, Read("r", "alice", msgs[3]["id"]))
    for m in msgs[5:8]:
        one(store, Delete("r", m["id"], "bob", 2))
    assert store.replay("r", None, 50, "alice").unread == 3


def test_index_stays_sound_through_edits_and_deletes(store, url):
    """Many edits and deletes of indexed and unindexed messages leave FTS5's
    integrity check passing and every search exact."""
    texts = ["word%d shared", "wörd%d shared", "a\x00b word%d shared", "Straße_%d shared 😀"]
    msgs = [put(store, "r", texts[i % 4] % (i % 7), name="bob")[0] for i in range(60)]
    store.index(30)
    for i, m in enumerate(msgs):
        if i % 3 == 0:
            one(store, Edit("r", m["id"], "bob", "changed%d shared" % (i % 5), 2))
        if i % 4 == 0:
            one(store, Delete("r", m["id"], "bob", 3))
        if i % 5 == 0 and i % 4:
            one(store, Edit("r", m["id"], "bob", "again%d" % i, 4))
    store.index(1000)
    conn = sqlite3.connect(url[len("sqlite:///"):])
    conn.execute("INSERT INTO search (search) VALUES ('integrity-check')")
    conn.close()
    live = [m for m in store.latest("r", 100)[0] if not m.get("deleted")]
    for q in ("shared", "changed", "word3", "again", "w", "c", "wö", "strasse", "b", "3"):
        expected = [m["id"] for m in reversed(live) if matches([q], m["text"])]
        assert [m["id"] for m in store.search("r", [q], 50)] == expected, q
