"""The second release across processes behind one real Redis: updates, read markers
and search reach every process; the hold-back covers other processes' updates."""

import threading
import time

import pytest

from support import Client, timeout
from support_deploy import RedisServer
from test_scaleout import start_cluster


@pytest.fixture(scope="module")
def cluster():
    with RedisServer() as r:
        servers = start_cluster(r.url, 2)
        yield servers
        for s in servers:
            s.kill()


@pytest.fixture
def clients():
    made = []

    def connect(server, name, transport="websocket"):
        c = Client(server.url, name, transport=transport)
        made.append(c)
        return c
    yield connect
    for c in made:
        c.disconnect()


def test_updates_reach_every_process_once(cluster, clients, room):
    """An edit, a reaction and a delete made on one process reach members on both."""
    a = clients(cluster[0], "alice")
    b = clients(cluster[1], "bob", "polling")
    for c in (a, b):
        c.call("join", {"room": room})
    msg = a.call("message", {"room": room, "text": "hi"})["message"]
    b.call("react", {"room": room, "id": msg["id"], "emoji": "👋", "on": True})
    a.call("edit", {"room": room, "id": msg["id"], "text": "hello"})
    gone = b.call("delete", {"room": room, "id": msg["id"]})
    assert gone["ok"] is False and "only a moderator" in gone["error"]
    a.call("delete", {"room": room, "id": msg["id"]})
    for c in (a, b):
        ups = c.wait_count("update", 3)
        assert [u["kind"] for u in ups] == ["react", "edit", "delete"]
        c.quiet("update", lambda u: u not in ups, units=0.2)
    assert b.call("history", {"room": room})["messages"][0]["deleted"] is True


def test_read_marker_syncs_across_processes(cluster, clients, room):
    """One person's tabs on two processes: a read on one reaches the other at once."""
    tab1 = clients(cluster[0], "alice")
    tab2 = clients(cluster[1], "alice", "polling")
    bob = clients(cluster[1], "bob")
    bob.call("join", {"room": room})
    msgs = [bob.call("message", {"room": room, "text": str(i)})["message"] for i in range(3)]
    ack = tab1.call("read", {"room": room, "id": msgs[1]["id"]})
    assert ack == {"ok": True, "room": room, "read": msgs[1]["id"], "unread": 1}
    assert tab2.wait_for("read") == {"room": room, "read": msgs[1]["id"], "unread": 1}
    assert tab2.call("join", {"room": room})["read"] == msgs[1]["id"]
    bob.quiet("read", units=0.1)


def test_replay_and_search_across_processes(cluster, clients, room):
    """Changes stored through one process replay on the other; search sees them."""
    a = clients(cluster[0], "alice")
    a.call("join", {"room": room})
    m1 = a.call("message", {"room": room, "text": "alpha beta"})["message"]
    m2 = a.call("message", {"room": room, "text": "alpha gamma"})["message"]
    u1 = a.call("edit", {"room": room, "id": m1["id"], "text": "delta beta"})
    b = clients(cluster[1], "bob", "polling")
    ack = b.call("join", {"room": room, "since": m1["id"]})
    assert [m["id"] for m in ack["history"]] == [m2["id"]]
    assert [u["message"] for u in ack["updates"]] == [u1["message"]]
    assert [m["id"] for m in b.call("search", {"room": room, "q": "alpha"})["messages"]] == [
        m2["id"]]


def test_joins_on_another_process_during_an_update_burst(cluster, clients, room):
    """Edits stored on process 1 while people join on process 2 with since: each
    joiner gets every later edit exactly once (ack or live), in order."""
    a = clients(cluster[0], "alice")
    a.call("join", {"room": room})
    msg = a.call("message", {"room": room, "text": "v0"})["message"]
    count = 300

    def burst():
        for i in range(1, count + 1):
            a.sio.emit("edit", {"room": room, "id": msg["id"], "text": "v%d" % i})
            if i % 10 == 0:
                time.sleep(0.003)
    t = threading.Thread(target=burst)
    t.start()
    a.wait_count("update", 20, units=20)
    joins = []
    for n in range(6):
        c = clients(cluster[1], "j%d" % n, "polling" if n % 2 else "websocket")
        joins.append((c, c.call("join", {"room": room, "since": msg["id"]})))
    t.join(timeout(30))
    ups = a.wait_count("update", count, units=30)
    for c, ack in joins:
        if not ack["updates"] or ack["updates"][-1]["id"] != ups[-1]["id"]:
            c.wait_for("update", lambda u: u["id"] == ups[-1]["id"], units=30)
        got = ack["updates"] + c.events("update")
        assert [u["message"]["text"] for u in got] == ["v%d" % i for i in range(1, count + 1)]
