"""A realtime.db written by the first release opens in this one with every message intact.

The fixture tests/data/release1.db was written by the first release's code
(see tests/data/make_release1_db.py: 375 messages in 3 rooms, cids, NUL,
HTML, RTL marks, emoji, 2000-character texts); release1.json is what that
code read back from it.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from realtime.store import Delete, Edit, Post, React, Read, open_store
from realtime.store.sqlite_schema import VERSION
from realtime.words import words
from support import env_for, timeout
from test_store import one, put

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
ROOMS = ("lobby", "dev", "a.b-c_d")


@pytest.fixture
def old_db(tmp_path):
    """A fresh copy of the first release's file (never the committed one)."""
    path = tmp_path / "realtime.db"
    shutil.copy(os.path.join(DATA, "release1.db"), path)
    return str(path)


@pytest.fixture(scope="module")
def expected():
    with open(os.path.join(DATA, "release1.json"), encoding="utf-8") as f:
        return json.load(f)


def _version(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def test_fixture_is_a_first_release_file(old_db, expected):
    """The fixture has no schema version and only the first release's tables."""
    assert _version(old_db) == 0
    conn = sqlite3.connect(old_db)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert tables == {"messages", "sqlite_sequence", "health"}
    assert sum(len(v) for v in expected["messages"].values()) == 375


def test_every_message_is_intact_after_migration(old_db, expected):
    """Opening migrates the file to the current schema; every message reads back the same."""
    store = open_store("sqlite:///" + old_db)
    assert _version(old_db) == VERSION
    for room in ROOMS:
        msgs, more = store.after(room, 0, 1000)
        assert msgs == expected["messages"][room] and not more
        assert store.replay(room, 0, 500).history[:len(msgs)] == msgs[:500]
    latest, more = store.latest("lobby", 50)
    assert latest == expected["messages"]["lobby"][-50:] and more
    store.close()
    store = open_store("sqlite:///" + old_db)       # a second open changes nothing
    assert store.after("dev", 0, 1000)[0] == expected["messages"]["dev"]
    store.close()


def test_old_cids_stay_idempotent_and_ids_keep_increasing(old_db, expected):
    """A resend of a first-release cid gets the old message; new ids are above every old one."""
    store = open_store("sqlite:///" + old_db)
    everything = {m["id"]: m for room in ROOMS for m in expected["messages"][room]}
    for key, id in list(expected["cids"].items())[:10]:
        name, cid = key.split("\t")
        assert put(store, "x", "resend", name=name, cid=cid) == (everything[id], False)
    msg, created = put(store, "lobby", "new")
    _, upd = one(store, React("lobby", msg["id"], "bob", "👍", True, 2))
    assert created and msg["id"] > max(everything) and upd["id"] > msg["id"]
    store.close()


def test_second_release_features_work_on_migrated_messages(old_db, expected):
    """Old messages can be replied to, edited, deleted, reacted to, read and searched."""
    store = open_store("sqlite:///" + old_db)
    second_release_works_on(store, expected["messages"])
    store.close()


def second_release_works_on(store, messages):
    """Assert that ``store``'s migrated ``messages`` (room -> the first release's
    messages, oldest first) take replies, edits, search, read markers and deletes."""
    old = messages["dev"][5]
    reply, _ = one(store, Post("dev", "bob", "re", None, 2, old["id"]))
    state, _ = one(store, Edit("dev", old["id"], old["name"], "migrated and edited", 3))
    assert state["text"] == "migrated and edited" and reply["reply_to"] == old["id"]
    hits = store.search("dev", words("dev 7"), 50)
    assert [m["text"] for m in hits] == [m["text"] for m in reversed(messages["dev"])
                                         if m["text"].startswith("dev 7:")] != []
    assert store.search("dev", words("migrated edited"), 5) == [state]
    lobby = messages["lobby"]
    others = sum(1 for m in lobby if m["name"] != "alice")
    assert store.replay("lobby", None, 50, "alice").unread == others
    one(store, Read("lobby", "alice", lobby[99]["id"]))
    assert store.replay("lobby", None, 50, "alice").unread == sum(
        1 for m in lobby[100:] if m["name"] != "alice")
    one(store, Delete("lobby", lobby[0]["id"], None, 4, moderator=True))
    assert store.latest("lobby", 400)[0][0]["deleted"] is True


_OPEN = textwrap.dedent("""
    import os, sys, time
    from realtime.store import open_store
    path, go = sys.argv[1], sys.argv[2]
    while not os.path.exists(go):
        time.sleep(0.001)
    store = open_store("sqlite:///" + path)
    print(sum(len(store.after(r, 0, 1000)[0]) for r in ("lobby", "dev", "a.b-c_d")))
    store.close()
""")


def test_two_processes_opening_an_old_file_at_once(old_db, expected, tmp_path):
    """Two servers starting together on a first-release file: one migrates, the other
    waits; both then see every message and the file is sound."""
    go = str(tmp_path / "go")
    procs = [subprocess.Popen([sys.executable, "-c", _OPEN, old_db, go], env=env_for(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(3)]
    open(go, "w").close()
    outs = [p.communicate(timeout=timeout(30)) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    assert [o.strip() for o, _ in outs] == [b"375"] * 3
    conn = sqlite3.connect(old_db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 375
    conn.close()
    assert _version(old_db) == VERSION
    store = open_store("sqlite:///" + old_db)
    assert store.after("lobby", 0, 1000)[0] == expected["messages"]["lobby"]
    store.close()
