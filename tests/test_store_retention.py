"""Retention on every store (the backends of test_store.py): Store.trim removes a
room's oldest messages with their updates, keeps ids increasing, and keeps
replay, search, read markers and unread counts true.  Timestamps are given,
not slept for."""

import pytest

from realtime.store import Delete, Edit, React, Read
from realtime.store.archive import Archive
from realtime.store.retention import DAY_MS, Retention
from realtime.words import words
from test_store import apply, one, put, redis_server, store, store_url  # noqa: F401 (fixtures)


def fill(store, room, n, ts=1000, name="alice", prefix="m"):
    """``n`` messages with ts ts, ts+1, ...; returns them."""
    return [put(store, room, "%s%d" % (prefix, i), name=name, ts=ts + i)[0] for i in range(n)]


def trim_all(store, room, before_ts=None, keep=None, limit=500):
    total = 0
    while True:
        n = store.trim(room, before_ts, keep, limit)
        total += n
        if n < limit:
            return total


def texts(msgs):
    return [m["text"] for m in msgs]


def test_keep_the_newest_per_room(store):
    """keep=N leaves the room's newest N messages; other rooms are untouched."""
    fill(store, "r", 10)
    fill(store, "o", 3)
    assert trim_all(store, "r", keep=4) == 6
    msgs, more = store.latest("r", 50)
    assert texts(msgs) == ["m6", "m7", "m8", "m9"] and not more
    assert texts(store.latest("o", 50)[0]) == ["m0", "m1", "m2"]
    assert store.trim("r", keep=4) == 0


def test_older_than_removes_from_the_oldest_on(store):
    """before_ts removes the messages older than it, oldest first."""
    fill(store, "r", 10, ts=100)
    assert trim_all(store, "r", before_ts=105) == 5
    assert [m["ts"] for m in store.latest("r", 50)[0]] == [105, 106, 107, 108, 109]


def test_both_rules_and_none(store):
    """Either rule removes a message; with neither, nothing goes."""
    fill(store, "r", 10, ts=100)
    assert store.trim("r") == 0
    assert trim_all(store, "r", before_ts=103, keep=5) == 5
    assert trim_all(store, "r", before_ts=108, keep=5) == 3
    assert [m["ts"] for m in store.latest("r", 50)[0]] == [108, 109]


def test_trim_works_in_steps_of_limit(store):
    """One call removes at most ``limit`` messages."""
    fill(store, "r", 25)
    assert [store.trim("r", keep=0, limit=10) for _ in range(4)] == [10, 10, 5, 0]
    assert store.latest("r", 50) == ([], False)


def test_updates_go_with_their_message(store):
    """A trimmed message's updates go; a kept message's stay, old or not."""
    old, keep = fill(store, "r", 2)
    one(store, Edit("r", old["id"], "alice", "old!", 5))
    one(store, React("r", old["id"], "bob", "👍", True, 6))
    _, kept_upd = one(store, Edit("r", keep["id"], "alice", "kept!", 7))
    one(store, React("r", old["id"], "bob", "🎉", True, 8))
    assert trim_all(store, "r", keep=1) == 1
    snap = store.replay("r", 0, 50)
    assert [m["id"] for m in snap.history] == [keep["id"]]
    assert snap.updates == [kept_upd]
    assert apply(snap.history + snap.updates) == {keep["id"]: kept_upd["message"]}


def test_ids_never_go_back_after_emptying_a_room(store):
    """An emptied room keeps its top id; the next entry's id is above every old one."""
    msgs = fill(store, "r", 5)
    _, upd = one(store, Edit("r", msgs[-1]["id"], "alice", "last!", 9))
    top = store.replay("r", None, 10).top
    assert top == upd["id"]
    assert trim_all(store, "r", before_ts=10 ** 15) == 5
    snap = store.replay("r", None, 10)
    assert (snap.history, snap.more, snap.top) == ([], False, top)
    assert store.replay("r", 0, 10).updates == []
    assert not store.has_room("r") and "r" not in store.rooms()
    fresh, created = put(store, "r", "new", ts=10 ** 15)
    assert created and fresh["id"] > top
    assert store.has_room("r") and "r" in store.rooms()


def test_since_older_than_the_window_gets_what_is_left(store):
    """A cursor from before the trim replays the kept entries, with ``more`` right."""
    first = fill(store, "r", 10)[0]
    trim_all(store, "r", keep=6)
    snap = store.replay("r", first["id"], 4)
    assert texts(snap.history) == ["m4", "m5", "m6", "m7"] and snap.more
    snap = store.replay("r", snap.history[-1]["id"], 4)
    assert texts(snap.history) == ["m8", "m9"] and not snap.more
    msgs, more = store.after("r", first["id"], 6)
    assert texts(msgs) == ["m4", "m5", "m6", "m7", "m8", "m9"] and not more
    msgs, more = store.before("r", msgs[2]["id"], 10)
    assert texts(msgs) == ["m4", "m5"] and not more
    assert store.latest("r", 6) == (store.after("r", 0, 6)[0], False)


@pytest.mark.parametrize("indexed", [True, False], ids=["indexed", "unindexed"])
def test_search_no_longer_finds_trimmed_messages(store, indexed):
    """Search finds kept messages only (indexed before the trim or not)."""
    for i in range(6):
        put(store, "r", "apple %d Äpfel straße" % i, ts=100 + i)
        put(store, "o", "apple other %d" % i, ts=100 + i)
    edited = store.latest("r", 6)[0][0]
    one(store, Edit("r", edited["id"], "alice", "apple edited Äpfel", 200))
    deleted = store.latest("r", 6)[0][1]
    one(store, Delete("r", deleted["id"], "alice", 201))
    if indexed:
        store.index(5000)
    assert trim_all(store, "r", keep=2) == 4
    for query in ("apple", "äpfel", "APP", "edited", "strasse"):
        found = store.search("r", words(query), 50)
        assert all(m["id"] > deleted["id"] for m in found), query
    assert texts(store.search("r", words("apple"), 50)) == ["apple 5 Äpfel straße",
                                                          "apple 4 Äpfel straße"]
    assert store.search("r", words("edited"), 50) == []
    assert len(store.search("o", words("apple"), 50)) == 6
    put(store, "r", "apple again", ts=300)
    store.index(5000)
    assert len(store.search("r", words("apple"), 50)) == 3


@pytest.mark.parametrize("indexed", [True, False], ids=["indexed", "unindexed"])
def test_read_markers_and_unread_counts_stay_true(store, indexed):
    """Markers below, inside and above the trimmed part keep true unread counts."""
    msgs = []
    for i in range(12):
        msgs.append(put(store, "r", "x%d" % i, name=("bob" if i % 3 == 0 else "alice"),
                        ts=100 + i)[0])
    one(store, Delete("r", msgs[7]["id"], "alice", 200))
    one(store, Read("r", "carol", msgs[1]["id"]))       # below the cut
    one(store, Read("r", "dave", msgs[5]["id"]))        # inside the last step
    one(store, Read("r", "bob", msgs[9]["id"]))         # above the cut
    if indexed:
        store.index(5000)
    assert trim_all(store, "r", keep=8, limit=3) == 4    # x0..x3 go

    def unread(name, marker):
        return sum(1 for m in store.latest("r", 50)[0]
                   if m["id"] > marker and m["name"] != name and not m.get("deleted"))
    for name, marker in (("carol", msgs[1]["id"]), ("dave", msgs[5]["id"]),
                         ("bob", msgs[9]["id"]), ("erin", 0)):
        snap = store.replay("r", None, 50, reader=name)
        assert (snap.read, snap.unread) == (marker, unread(name, marker)), name
    # Markers move on as before, and never back.
    assert one(store, Read("r", "carol", msgs[2]["id"]))[2] is True
    assert one(store, Read("r", "bob", msgs[3]["id"]))[:2] == (msgs[9]["id"],
                                                              unread("bob", msgs[9]["id"]))
    read, count, moved = one(store, Read("r", "dave", msgs[11]["id"]))
    assert (read, count, moved) == (msgs[11]["id"], 0, True)
    put(store, "r", "late", name="alice", ts=300)
    if indexed:
        store.index(5000)
    assert store.replay("r", None, 50, reader="bob").unread == unread("bob", msgs[9]["id"])
    assert store.replay("r", None, 50, reader="dave").unread == 1


def test_cid_of_a_trimmed_message_lapses(store):
    """A resend of a trimmed message's cid is a new message (idempotency lapses)."""
    msg, _ = put(store, "r", "once", cid="c1", ts=100)
    put(store, "r", "newer", ts=200)
    assert put(store, "r", "once", cid="c1", ts=150) == (msg, False)
    trim_all(store, "r", before_ts=150)
    again, created = put(store, "r", "once", cid="c1", ts=300)
    assert created and again["id"] > msg["id"]
    assert put(store, "r", "once", cid="c1", ts=301) == (again, False)


def test_deleted_messages_count_and_go(store):
    """Deleted messages are entries too: they count toward keep and are trimmed."""
    msgs = fill(store, "r", 4)
    one(store, Delete("r", msgs[0]["id"], "alice", 50))
    one(store, Delete("r", msgs[3]["id"], "alice", 51))
    assert trim_all(store, "r", keep=2) == 2
    latest = store.latest("r", 10)[0]
    assert [m["id"] for m in latest] == [msgs[2]["id"], msgs[3]["id"]]
    assert latest[1].get("deleted") is True


def test_retention_pass_with_a_clock(store):
    """Retention.run_once trims every room by days and count, with an injected clock."""
    now = 100 * DAY_MS
    fill(store, "a", 5, ts=now - 3 * DAY_MS)        # three days old
    fill(store, "a", 5, ts=now - DAY_MS // 2)       # half a day old
    fill(store, "b", 30, ts=now - 1000)
    archive = Archive(store)
    try:
        retention = Retention(archive, days=1, per_room=20, clock=lambda: now / 1000,
                              batch=7, start=False)
        assert retention.run_once() == 15
        assert retention.run_once() == 0
        assert [m["ts"] for m in store.latest("a", 50)[0]] == [
            now - DAY_MS // 2 + i for i in range(5)]
        assert len(store.latest("b", 50)[0]) == 20
    finally:
        archive.close()


# -- SQLite: the derived data stays exact -------------------------------------------

def _vocab(conn):
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING "
                 "fts5vocab(main, search, instance)")
    return sorted(conn.execute("SELECT term, doc, col FROM temp.vocab"))


def test_sqlite_index_and_counters_match_a_rebuild(tmp_path):
    """After trims, the search index and counters equal ones built from what is left."""
    from realtime.store.sqlite import SQLiteStore
    from realtime.store import sqlite_log
    s = SQLiteStore("sqlite:///" + str(tmp_path / "t.db"))
    try:
        for i in range(40):
            put(s, "r" if i % 4 else "o", ["plain %d" % i, "Grüße %d" % i, "naïve Ünïcode"][i % 3],
                name="ab"[i % 2], ts=i)
        one(s, Edit("r", 2, "b", "edited Élan", 50))
        one(s, Delete("r", 3, "a", 51))
        s.index(30)                                     # part of it indexed
        trim_all(s, "r", keep=12, limit=7)
        s.index(5000)
        trim_all(s, "o", before_ts=30, limit=2)
        conn = s._conn()
        found = _vocab(conn)
        stats = sorted(conn.execute("SELECT * FROM room_stats")) + sorted(
            conn.execute("SELECT * FROM author_stats"))
        conn.execute("BEGIN IMMEDIATE")
        sqlite_log.rebuild_search(conn)
        assert _vocab(conn) == found and found
        conn.execute("ROLLBACK")
        assert stats == sorted(conn.execute(
            "SELECT room, count(*) FROM messages GROUP BY room")) + sorted(conn.execute(
                "SELECT room, name, count(*) FROM messages GROUP BY room, name"))
    finally:
        s.close()


def test_sqlite_schema_2_file_gains_the_trimmed_table(tmp_path):
    """A file of schema 2 is migrated to the current version on open."""
    import sqlite3
    from realtime.store.sqlite import SQLiteStore
    from realtime.store.sqlite_schema import VERSION
    path = str(tmp_path / "t.db")
    s = SQLiteStore("sqlite:///" + path)
    put(s, "r", "kept", ts=1)
    s.close()
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE trimmed")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    s = SQLiteStore("sqlite:///" + path)
    try:
        assert texts(s.latest("r", 5)[0]) == ["kept"]
        assert s.trim("r", keep=0) == 1 and s.replay("r", None, 5).top == 1
        assert s._conn().execute("PRAGMA user_version").fetchone()[0] == VERSION == 3
    finally:
        s.close()


def test_claim_gives_a_shared_job_to_one_process(store_url):
    """A store shared by processes (Redis) gives the periodic pass to one per period."""
    from realtime.store import open_store
    first, second = open_store(store_url), open_store(store_url)
    try:
        assert first.claim("retention-test", 30)
        shared = store_url.startswith("redis")
        assert second.claim("retention-test", 30) is not shared
    finally:
        first.close()
        second.close()
