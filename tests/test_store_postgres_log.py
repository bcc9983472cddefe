"""The PostgreSQL store's log beyond the common contract (test_store_log.py runs that
too): several processes' edits and reactions at once, the GIN index, long words."""

import random
import threading

import pytest

from realtime.store import Delete, Edit, Post, React, Read, Refused, open_store
from realtime.store.pg_log import MAX_LEXEME
from realtime.words import words
from support import timeout
from test_store import one, put
from test_store_postgres import run_threads


@pytest.fixture
def store(postgres_url):
    s = open_store(postgres_url)
    yield s
    s.close()


def _deadlocks(url):
    import psycopg
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT deadlocks FROM pg_stat_database "
                            "WHERE datname = current_database()").fetchone()[0]


def test_concurrent_edits_and_reactions_share_the_id_sequence(postgres_url):
    """Four stores post, edit, react and read in two rooms at once, in mixed batches
    touching the rooms in either order: per room, ids have no gap and no repeat,
    no reaction is lost, a follower replaying with since never skips an entry,
    and PostgreSQL saw no deadlock."""
    seed = open_store(postgres_url)
    targets = {room: [put(seed, room, "target %d" % i)[0]["id"] for i in range(4)]
               for room in ("r1", "r2")}
    writers = [open_store(postgres_url) for _ in range(4)]
    done = threading.Event()
    seen = {"r1": [], "r2": []}
    deadlocks = _deadlocks(postgres_url)

    def write(n, s):
        rnd = random.Random(n)
        for i in range(40):
            rooms = ["r1", "r2"] if (i + n) % 2 else ["r2", "r1"]
            batch = []
            for room in rooms:
                target = targets[room][i % 4]
                batch += [Post(room, "w%d" % n, "p%d-%d" % (n, i), "c%d-%d-%s" % (n, i, room), 1),
                          React(room, target, "w%d" % n, "e%d" % (i % 3), True, 2),
                          Edit(room, targets[room][0], "alice", "edit %d %d" % (n, i), 3)]
                if rnd.random() < 0.3:
                    batch.append(Read(room, "w%d" % n, target))
            out = s.append_batch(batch)
            assert not any(isinstance(r, Refused) for r in out), out

    def follow(room):
        since = 0
        while True:
            finished = done.is_set()
            snap = seed.replay(room, since, 50)
            entries = sorted(snap.history + snap.updates, key=lambda e: e["id"])
            seen[room].extend(e["id"] for e in entries)
            if entries:
                since = entries[-1]["id"]
            elif finished:
                return
    followers = [threading.Thread(target=follow, args=(room,)) for room in seen]
    for f in followers:
        f.start()
    run_threads(write, list(enumerate(writers)))
    done.set()
    for f in followers:
        f.join(timeout(30))
    for room in ("r1", "r2"):
        snap = seed.replay(room, 0, 100000)
        ids = sorted(e["id"] for e in snap.history + snap.updates)
        assert ids == list(range(1, len(ids) + 1))          # no gap, no repeat
        assert seen[room] == ids, "the follower skipped entries that committed later"
        state = {m["id"]: m for m in seed.latest(room, 1000)[0]}
        assert state[targets[room][0]]["reactions"] == {
            "e%d" % k: ["w0", "w1", "w2", "w3"] for k in range(3)}
        assert len([m for m in snap.history if m["name"].startswith("w")]) == 4 * 40
    assert _deadlocks(postgres_url) == deadlocks
    for s in writers + [seed]:
        s.close()


def test_search_uses_the_gin_index(store, postgres_url):
    """Beyond the newest ids of a room, the only index a search can use is the GIN
    index of words (so a rare word never walks the room's key; a small table may
    still be read whole, hence seqscan off here)."""
    import psycopg
    from realtime.store import pgsql
    from realtime.store.pg_log import tsquery
    for start in range(0, 5000, 500):
        store.append_batch([("r", "a", "filler text %d" % i, None, 1)
                            for i in range(start, start + 500)])
    put(store, "r", "a rareword here", ts=0)
    store.append_batch([("r", "a", "filler text %d" % i, None, 1) for i in range(3000)])
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("ANALYZE realtime_messages")
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN " + pgsql.SEARCH_OLDER, {"room": "r", "q": tsquery("r", ["rarew"]),
                                              "below": 1 << 62, "limit": 20}))
    assert "realtime_messages_words" in plan and "pkey" not in plan, plan
    assert [m["text"] for m in store.search("r", ["rarew"], 20)] == ["a rareword here"]


def test_long_words_and_nul_are_searchable(store):
    """A word longer than the index keeps is found by any prefix of it; NUL separates
    words; an exact-rule miss beyond the kept characters is not found."""
    long = "a" * (MAX_LEXEME + 100)
    msg, _ = put(store, "r", "x %sz y" % long)
    assert store.search("r", [long + "z"], 5) == [msg]
    assert store.search("r", [long[:MAX_LEXEME + 50]], 5) == [msg]
    assert store.search("r", [long + "q"], 5) == []
    nul, _ = put(store, "r", "left\x00right")
    assert store.search("r", ["right"], 5) == [nul] and store.search("r", ["leftr"], 5) == []


def test_search_pages_past_many_candidates(store):
    """More matches than one page of candidates: newest first, exactly limit."""
    ids = [m["id"] for m, _ in store.append_batch(
        [("r", "a", "common %d" % i, None, 1) for i in range(120)])]
    found = store.search("r", words("common"), 50)
    assert [m["id"] for m in found] == ids[::-1][:50]


def test_delete_in_the_same_batch_as_its_post_and_edit(store):
    """Post, edit and delete of one message in one batch: the stored state and every
    update are the deleted state; the edit's own result keeps its text."""
    parent, _ = put(store, "r", "parent")
    out = store.append_batch([Post("r", "alice", "secret", None, 1, parent["id"])])
    msg = out[0][0]
    out = store.append_batch([Edit("r", msg["id"], "alice", "more secret", 2),
                              React("r", msg["id"], "bob", "🔥", True, 3),
                              Delete("r", msg["id"], "alice", 4)])
    assert out[0][1]["message"]["text"] == "more secret"
    snap = store.replay("r", parent["id"], 500)
    assert "secret" not in repr(snap) and snap.history[0]["deleted"] is True
    assert [u["kind"] for u in snap.updates] == ["edit", "react", "delete"]
    assert store.search("r", ["secret"], 5) == []
    assert one(store, Read("r", "bob", snap.top)) == (snap.top, 0, True)


def test_index_words_follow_the_word_rule():
    """The words indexed (ASCII fast path or not) are the word rule's, case-folded,
    plus the room's lexeme."""
    from realtime.store.pg_log import words as indexed
    rnd = random.Random(3)
    alphabet = "aZ09_- .,'\"\\\x00\t\nÉéßŞ😀"
    for _ in range(2000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 30)))
        assert set(indexed("r.1", text).split(" ")) == set(words(text)) | {"#r.1"}, text


def test_unread_counts_far_behind_the_top(store):
    """A marker set more than 5,000 messages below the top (counted by span, not from
    the top) gives the same unread counts as counting the messages."""
    for start in range(0, 6000, 500):
        store.append_batch([("r", "ab"[i % 2], "m%d" % i, None, 1)
                            for i in range(start, start + 500)])
    msgs = store.after("r", 0, 10000)[0]
    one(store, Delete("r", msgs[-1]["id"], "b", 2))          # b's, above every marker
    one(store, Delete("r", msgs[50]["id"], "a", 2))          # a's, between the markers
    for marker in (20, 100, 5900):
        read, unread, moved = one(store, Read("r", "b", msgs[marker]["id"]))
        live_others = [m for m in store.after("r", msgs[marker]["id"], 10000)[0]
                       if m["name"] != "b" and not m.get("deleted")]
        assert (read, unread, moved) == (msgs[marker]["id"], len(live_others), True)
        assert store.replay("r", None, 1, "b")[4:] == (read, len(live_others))
