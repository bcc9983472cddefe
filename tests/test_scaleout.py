"""Three server processes behind one real Redis: every protocol row across processes,
a SIGKILLed process's people leave, Redis down and back.

Clients are spread over the processes and over both transports.
"""

import signal
import subprocess
import sys
import threading
import time

import pytest
import requests

from realtime.app import store_url
from realtime.config import Config
from support import Client, ServerProcess, env_for, timeout
from support_deploy import RedisServer

TTL = 1.5        # --presence-ttl: a dead process's people leave within TTL * 4/3


def start_cluster(redis_url, count, *args):
    return [ServerProcess(["--redis", redis_url, "--presence-ttl", str(TTL)] + list(args),
                          store=redis_url).start() for _ in range(count)]


@pytest.fixture(scope="module")
def redis_server():
    with RedisServer() as r:
        yield r


@pytest.fixture(scope="module")
def cluster(redis_server):
    servers = start_cluster(redis_server.url, 3)
    yield servers
    for s in servers:
        s.kill()


@pytest.fixture
def clients():
    made = []

    def connect(server, name, transport="websocket", **kwargs):
        c = Client(server.url, name, transport=transport, **kwargs)
        made.append(c)
        return c
    yield connect
    for c in made:
        c.disconnect()


def test_redis_without_store_uses_the_redis_store():
    """--redis with no explicit --store keeps messages in Redis; an explicit store wins."""
    assert store_url(Config(redis="redis://h:1/0")) == "redis://h:1/0"
    assert store_url(Config(redis="redis://h:1/0", store="memory://")) == "memory://"
    assert store_url(Config()) == Config().store


def test_join_members_and_presence_across_processes(cluster, clients, room):
    """A joins, B joins: B's ack lists both and A hears B's presence join."""
    a = clients(cluster[0], "alice")
    b = clients(cluster[1], "bob", "polling")
    assert a.call("join", {"room": room})["members"] == ["alice"]
    assert b.call("join", {"room": room})["members"] == ["alice", "bob"]
    assert a.wait_for("presence") == {"room": room, "name": "bob", "event": "join", "count": 2}


def test_message_reaches_every_process(cluster, clients, room):
    """A message sent on one process reaches members on all three, sender included, once."""
    people = [clients(s, n, t) for s, n, t in zip(cluster, ["a1", "b1", "c1"],
                                                   ["websocket", "polling", "websocket"])]
    for p in people:
        assert p.call("join", {"room": room})["ok"]
    sent = people[1].call("message", {"room": room, "text": "hello all"})["message"]
    for p in people:
        assert p.wait_for("message", lambda m: m["id"] == sent["id"]) == sent
    people[0].quiet("message", lambda m: m["id"] != sent["id"], units=0.3)
    assert all(len(p.events("message")) == 1 for p in people)


def test_ids_strictly_increase_across_concurrent_processes(cluster, clients, room):
    """Three senders on three processes at once: ids unique and increasing in history,
    and every member receives every message."""
    senders = [clients(s, "s%d" % i) for i, s in enumerate(cluster)]
    watcher = clients(cluster[2], "watcher", "polling")
    for c in senders + [watcher]:
        assert c.call("join", {"room": room})["ok"]

    def send(c):
        for i in range(15):
            assert c.call("message", {"room": room, "text": "%s-%d" % (c.auth["name"], i)})["ok"]
    threads = [threading.Thread(target=send, args=(c,)) for c in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = watcher.wait_count("message", 45, units=10)
    assert len({m["id"] for m in got}) == 45
    history = watcher.call("history", {"room": room, "limit": 100})["messages"]
    ids = [m["id"] for m in history]
    assert ids == sorted(ids) and len(set(ids)) == 45 == len(ids)
    for c in senders:       # each connection's own messages keep their order
        mine = [m for m in history if m["name"] == c.auth["name"]]
        assert [m["text"] for m in mine] == ["%s-%d" % (c.auth["name"], i) for i in range(15)]


def test_history_and_since_replay_across_processes(cluster, clients, room):
    """Messages stored through A and B are in C's history; a reconnect to another
    process with `since` gets exactly the missed ones."""
    a = clients(cluster[0], "alice")
    b = clients(cluster[1], "bob")
    a.call("join", {"room": room})
    b.call("join", {"room": room})
    first = a.call("message", {"room": room, "text": "one"})["message"]
    b.call("message", {"room": room, "text": "two"})
    c = clients(cluster[2], "carol", "polling")
    hist = c.call("history", {"room": room})["messages"]
    assert [m["text"] for m in hist] == ["one", "two"]
    b.disconnect()
    a.call("message", {"room": room, "text": "three"})
    a.call("message", {"room": room, "text": "four"})
    b2 = clients(cluster[2], "bob", "polling")
    ack = b2.call("join", {"room": room, "since": hist[-1]["id"]})
    assert [m["text"] for m in ack["history"]] == ["three", "four"] and not ack["more"]
    assert c.call("history", {"room": room, "before": hist[1]["id"]})["messages"] == [first]


def test_cid_is_idempotent_across_processes(cluster, clients, room):
    """A resend with the same cid through another process returns the stored message
    and is broadcast once."""
    tab1 = clients(cluster[0], "alice")
    tab2 = clients(cluster[1], "alice", "polling")
    watcher = clients(cluster[2], "watcher")
    for c in (tab1, tab2, watcher):
        c.call("join", {"room": room})
    m1 = tab1.call("message", {"room": room, "text": "once", "cid": "cid-1"})["message"]
    m2 = tab2.call("message", {"room": room, "text": "once", "cid": "cid-1"})["message"]
    assert m1 == m2
    watcher.wait_for("message", lambda m: m["id"] == m1["id"])
    time.sleep(timeout(0.3))
    assert len(watcher.events("message")) == 1
    assert len(watcher.call("history", {"room": room})["messages"]) == 1


def test_several_tabs_on_several_processes_are_one_person(cluster, clients, room):
    """A second tab on another process causes no presence event; closing one tab neither."""
    watcher = clients(cluster[2], "watcher")
    watcher.call("join", {"room": room})
    tab1 = clients(cluster[0], "alice")
    tab2 = clients(cluster[1], "alice", "polling")
    tab1.call("join", {"room": room})
    watcher.wait_for("presence", lambda p: p["name"] == "alice")
    assert tab2.call("join", {"room": room})["members"] == ["alice", "watcher"]
    tab1.disconnect()
    time.sleep(timeout(0.4))
    assert len([p for p in watcher.events("presence") if p["name"] == "alice"]) == 1
    tab2.call("leave", {"room": room})
    left = watcher.wait_for("presence", lambda p: p["event"] == "leave")
    assert left == {"room": room, "name": "alice", "event": "leave", "count": 1}


def test_typing_across_processes(cluster, clients, room):
    """typing reaches the room's members on other processes, not the typer."""
    a = clients(cluster[0], "alice")
    b = clients(cluster[1], "bob", "polling")
    a.call("join", {"room": room})
    b.call("join", {"room": room})
    a.emit("typing", {"room": room, "typing": True})
    assert b.wait_for("typing") == {"room": room, "name": "alice", "typing": True}
    a.quiet("typing", units=0.3)


def test_dm_reaches_other_processes(cluster, clients):
    """A dm goes to every connection of the recipient and the sender's other connections,
    wherever they are; a dm to nobody fails."""
    a = clients(cluster[0], "dm-alice")
    a2 = clients(cluster[2], "dm-alice", "polling")
    b = clients(cluster[1], "dm-bob", "polling")
    b2 = clients(cluster[2], "dm-bob")
    ack = a.call("dm", {"to": "dm-bob", "text": "psst"})
    assert ack["ok"]
    for c in (b, b2, a2):
        assert c.wait_for("dm") == ack["message"]
    a.quiet("dm", units=0.2)
    assert a.call("dm", {"to": "dm-nobody", "text": "x"})["ok"] is False


def test_rooms_and_unknown_room_across_processes(cluster, clients, room):
    """rooms counts people on every process; a room known only through another
    process's member is not unknown."""
    a = clients(cluster[0], "alice")
    b = clients(cluster[1], "bob")
    a.call("join", {"room": room})
    b.call("join", {"room": room})
    c = clients(cluster[2], "carol", "polling")
    listed = {r["room"]: r["members"] for r in c.call("rooms", {})["rooms"]}
    assert listed[room] == 2
    assert c.call("history", {"room": room})["ok"]
    assert c.call("history", {"room": room + "-nothing"})["ok"] is False


def test_sigkilled_process_people_leave(redis_server, clients, room):
    """SIGKILL one process: its people get presence leaves and vanish from members,
    rooms and dm reach within the presence TTL."""
    servers = start_cluster(redis_server.url, 2)
    try:
        a = clients(servers[0], "alice")
        d = clients(servers[1], "dave")
        a.call("join", {"room": room})
        d.call("join", {"room": room})
        a.wait_for("presence", lambda p: p["name"] == "dave")
        servers[1].kill()
        began = time.monotonic()
        left = a.wait_for("presence", lambda p: p["event"] == "leave", units=TTL * 3)
        took = time.monotonic() - began
        assert left == {"room": room, "name": "dave", "event": "leave", "count": 1}
        assert took < TTL * 4 / 3 + timeout(1.5)
        assert a.call("join", {"room": room})["members"] == ["alice"]
        assert a.call("dm", {"to": "dave", "text": "hi"})["ok"] is False
        assert {r["room"]: r["members"] for r in a.call("rooms", {})["rooms"]}[room] == 1
    finally:
        for s in servers:
            s.kill()


def wait_until(check, units=10):
    deadline = time.monotonic() + timeout(units)
    while True:
        try:
            if check():
                return
        except Exception:       # not reconnected yet, Redis not back yet
            pass
        if time.monotonic() > deadline:
            assert check()
        time.sleep(0.1)


def healthz(server):
    return requests.get(server.url + "/healthz", timeout=timeout(3))


def reconnecting(connect, server, name, transport="websocket"):
    """A client that reconnects by itself and counts its connects."""
    c = connect(server, name, transport, reconnection=True, reconnection_delay=0.1,
                reconnection_delay_max=0.5)
    c.connects = [1]
    c.sio.on("connect", lambda: c.connects.append(1))
    return c


def test_redis_down_degrades_and_recovers(clients, room):
    """Redis down: /healthz 503, messages fail with a store sentence (nothing acked that
    was not stored), local clients keep typing; Redis back: everything resumes by itself."""
    with RedisServer(persist=True) as r:
        servers = start_cluster(r.url, 2)
        try:
            a = reconnecting(clients, servers[0], "alice")
            a2 = reconnecting(clients, servers[0], "anna", "polling")
            b = reconnecting(clients, servers[1], "bob")
            for c in (a, a2, b):
                c.call("join", {"room": room})
            before = a.call("message", {"room": room, "text": "before"})["message"]
            r.stop()
            assert healthz(servers[0]).status_code == 503
            assert healthz(servers[0]).json()["status"] == "degraded"
            ack = a.call("message", {"room": room, "text": "during"})
            assert ack["ok"] is False and "store is unavailable" in ack["error"]
            a.emit("typing", {"room": room, "typing": True})
            assert a2.wait_for("typing")["name"] == "alice"       # same process: served
            r.start()
            wait_until(lambda: healthz(servers[0]).status_code == 200
                       and healthz(servers[1]).status_code == 200)
            # Each process dropped its clients after resubscribing; they come back.
            wait_until(lambda: len(a.connects) > 1 and len(b.connects) > 1)
            for c in (a, b):
                wait_until(lambda: c.call("join", {"room": room, "since": before["id"]})["ok"])
            sent = a.call("message", {"room": room, "text": "after"})["message"]
            assert b.wait_for("message", lambda m: m["id"] == sent["id"])
            hist = b.call("history", {"room": room})["messages"]
            assert [m["text"] for m in hist] == ["before", "after"]
            assert hist[1]["id"] > hist[0]["id"]
        finally:
            for s in servers:
                s.kill()


def test_redis_restart_mid_chat(clients, room):
    """Redis restarted (persistent) mid-chat: clients are dropped, reconnect and replay
    what they missed with since; ids continue; presence and dm work again."""
    with RedisServer(persist=True) as r:
        servers = start_cluster(r.url, 2)
        try:
            a = reconnecting(clients, servers[0], "alice")
            b = reconnecting(clients, servers[1], "bob", "polling")
            a.call("join", {"room": room})
            b.call("join", {"room": room})
            last = a.call("message", {"room": room, "text": "one"})["message"]["id"]
            b.wait_for("message", lambda m: m["id"] == last)
            r.restart()
            wait_until(lambda: a.call("message", {"room": room, "text": "two"})["ok"])
            wait_until(lambda: len(b.connects) > 1)
            replay = {}
            wait_until(lambda: replay.update(b.call("join", {"room": room, "since": last}))
                       or replay.get("ok"))
            assert "two" in [m["text"] for m in replay["history"]]
            assert all(m["id"] > last for m in replay["history"])
            wait_until(lambda: len(a.connects) > 1)
            wait_until(lambda: a.call("join", {"room": room})["members"] == ["alice", "bob"])
            assert b.call("dm", {"to": "alice", "text": "hi"})["ok"]
            assert a.wait_for("dm", units=5)["text"] == "hi"
        finally:
            for s in servers:
                s.kill()


def test_sigterm_of_one_process_reports_only_real_leaves(redis_server, clients, room):
    """A process stopping gracefully: people only there leave at once, a person with
    another tab elsewhere stays, and the stopped process's share is gone."""
    servers = start_cluster(redis_server.url, 2)
    try:
        watcher = clients(servers[0], "watcher")
        bob_here = clients(servers[0], "bob")
        bob_there = clients(servers[1], "bob", "polling")
        dave = clients(servers[1], "dave")
        for c in (watcher, bob_here, bob_there, dave):
            c.call("join", {"room": room})
        assert servers[1].stop(signal.SIGTERM) == 0
        left = watcher.wait_for("presence", lambda p: p["event"] == "leave", units=2)
        assert left == {"room": room, "name": "dave", "event": "leave", "count": 2}
        time.sleep(timeout(0.3))
        assert [p["name"] for p in watcher.events("presence") if p["event"] == "leave"] \
            == ["dave"]
        assert watcher.call("join", {"room": room})["members"] == ["bob", "watcher"]
    finally:
        for s in servers:
            s.kill()


def test_presence_ttl_must_be_positive():
    """--presence-ttl 0 stops start-up with a one-line error, exit 2."""
    out = subprocess.run([sys.executable, "-m", "realtime", "--port", "0", "--redis",
                          "redis://127.0.0.1:1/0", "--presence-ttl", "0"],
                         env=env_for(), capture_output=True, text=True, timeout=timeout(20))
    assert out.returncode == 2 and "--presence-ttl must be a positive" in out.stderr


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_join_during_traffic_from_another_process_misses_and_repeats_nothing(
        cluster, clients, room, transport):
    """Joining on B while A's messages stream in: join history plus live messages hold
    every id once, with no gap."""
    sender = clients(cluster[0], "sender")
    sender.call("join", {"room": room})
    for i in range(20):
        sender.call("message", {"room": room, "text": "early %d" % i})
    done = threading.Event()

    def stream():
        for i in range(150):
            sender.call("message", {"room": room, "text": "live %d" % i})
        done.set()
    t = threading.Thread(target=stream)
    t.start()
    time.sleep(timeout(0.05))
    joiner = clients(cluster[1], "joiner", transport)
    ack = joiner.call("join", {"room": room})
    t.join()
    assert done.is_set()
    last = sender.call("history", {"room": room, "limit": 1})["messages"][-1]["id"]
    if ack["history"][-1]["id"] < last:
        joiner.wait_for("message", lambda m: m["id"] == last, units=10)
    ids = [m["id"] for m in ack["history"]] + [m["id"] for m in joiner.events("message")]
    assert len(ids) == len(set(ids)), "a message came twice"
    assert sorted(ids) == list(range(min(ids), last + 1)), "a message is missing"
