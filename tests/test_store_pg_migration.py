"""A PostgreSQL database written by the first PostgreSQL schema (version 1) opens in
this release with every message intact.

The version-1 database is built with the statements main had before the
second release (captured in tests/data/pg_release1.sql and
pg_release1_append.sql by tests/data/make_pg_release1_sql.py); the messages
are those of the SQLite fixture tests/data/release1.json (375 messages in 3
rooms, cids, NUL, HTML, RTL marks, emoji, 2000-character texts).
"""

import json
import os
import threading

import pytest

from support import timeout

from realtime.store import React, open_store
from realtime.store import pgschema
from test_store import one, put
from test_store_migration import second_release_works_on

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
ROOMS = ("lobby", "dev", "a.b-c_d")


def _v1_escape(text):
    # The version-1 store's escaping (NUL cannot be stored in PostgreSQL text).
    return text.replace("\\", "\\\\").replace("\x00", "\\0")


def _read(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        return f.read()


@pytest.fixture
def v1_url(postgres_url):
    """``(url, messages by room, {(name, cid): message})`` of a version-1 database."""
    import psycopg
    schema = [s.strip() for s in _read("pg_release1.sql").split("\n;\n") if s.strip()
              and not all(line.startswith("--") for line in s.strip().splitlines())]
    append = _read("pg_release1_append.sql")
    with open(os.path.join(DATA, "release1.json"), encoding="utf-8") as f:
        source = json.load(f)
    cid_of = {id: key.split("\t") for key, id in source["cids"].items()}
    stored, cids = {}, {}
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for statement in schema:
            conn.execute(statement)
        for room in ROOMS:
            msgs = source["messages"][room]
            stored[room] = []
            for start in range(0, len(msgs), 25):
                part = msgs[start:start + 25]
                cols = [[m["room"] for m in part], [m["name"] for m in part],
                        [_v1_escape(m["text"]) if "\x00" in m["text"] else m["text"]
                         for m in part],
                        ["\x00" in m["text"] for m in part], [m["ts"] for m in part],
                        [_v1_escape(cid_of[m["id"]][1]) if m["id"] in cid_of else None
                         for m in part]]
                rows = conn.execute(append, cols).fetchall()
                for m, (_, id, inserted) in zip(part, rows):
                    assert inserted
                    msg = dict(m, id=id)
                    stored[room].append(msg)
                    if m["id"] in cid_of:
                        cids[tuple(cid_of[m["id"]])] = msg
        assert [r[0] for r in conn.execute("SELECT version FROM realtime_schema")] == [1]
    return postgres_url, stored, cids


def _versions(url):
    import psycopg
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT version FROM realtime_schema ORDER BY 1")]


def test_the_fixture_is_a_version_1_database(v1_url):
    """375 messages in 3 rooms, written by the version-1 statements."""
    url, stored, cids = v1_url
    assert sum(len(v) for v in stored.values()) == 375 and len(cids) > 50
    assert any("\x00" in m["text"] for m in stored["lobby"])


def test_every_message_is_intact_after_migration(v1_url):
    """Opening migrates to the latest version; every message reads back the same."""
    url, stored, _ = v1_url
    store = open_store(url)
    assert _versions(url) == [v for v, _, _ in pgschema.MIGRATIONS]
    for room in ROOMS:
        msgs, more = store.after(room, 0, 1000)
        assert msgs == stored[room] and not more
        assert [m["id"] for m in msgs] == list(range(1, len(msgs) + 1))
        assert store.replay(room, 0, 500).history == msgs
    latest, more = store.latest("lobby", 50)
    assert latest == stored["lobby"][-50:] and more
    store.close()
    again = open_store(url)                     # a second open changes nothing
    assert again.after("dev", 0, 1000)[0] == stored["dev"] and _versions(url)[-1] == 2
    again.close()


def test_old_cids_stay_idempotent_and_ids_keep_increasing(v1_url):
    """A resend of a version-1 cid gets the old message; new ids continue each room."""
    url, stored, cids = v1_url
    store = open_store(url)
    for (name, cid), msg in list(cids.items())[:10]:
        assert put(store, "x", "resend", name=name, cid=cid) == (msg, False)
    msg, created = put(store, "lobby", "new")
    _, upd = one(store, React("lobby", msg["id"], "bob", "👍", True, 2))
    assert created and msg["id"] == len(stored["lobby"]) + 1 and upd["id"] == msg["id"] + 1
    store.close()


def test_second_release_features_work_on_migrated_messages(v1_url):
    """Old messages can be replied to, edited, deleted, reacted to, read and searched
    (their words are indexed on the way)."""
    url, stored, _ = v1_url
    store = open_store(url)
    second_release_works_on(store, stored)
    assert store.index(1000) == 0                 # every old message has its words now
    store.close()


def test_processes_opening_a_version_1_database_at_once(v1_url):
    """Three stores opening the old database together: one migrates under the advisory
    lock, the others wait; all then see every message."""
    url, stored, _ = v1_url
    opened, errors, gate = [], [], threading.Barrier(3)

    def start():
        try:
            gate.wait()
            opened.append(open_store(url))
        except BaseException as exc:          # surfaced below
            errors.append(exc)
    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout(60))
    assert not errors and len(opened) == 3
    assert _versions(url) == [v for v, _, _ in pgschema.MIGRATIONS]
    for s in opened:
        assert sum(len(s.after(r, 0, 1000)[0]) for r in ROOMS) == 375
        s.close()
