"""Several server processes on one PostgreSQL database, Redis for broadcasts and presence:
concurrent writers, kill -9 mid-burst, PostgreSQL stopped and back, starting together."""

import threading
import time

import pytest
import requests

from support import Client, ServerProcess, timeout
from support_deploy import GunicornProcess, RedisServer
from support_postgres import start_postgres
from test_faults import STORE_DOWN, all_messages

TTL = 1.5


@pytest.fixture(scope="module")
def redis_server():
    with RedisServer() as r:
        yield r


@pytest.fixture
def servers(redis_server):
    """``servers(url, n)``: n server processes on store ``url`` behind the module's Redis,
    started at the same moment."""
    started, keep = [], threading.Event()

    def start(url, count):
        procs = [ServerProcess(["--redis", redis_server.url, "--presence-ttl", str(TTL)],
                               store=url) for _ in range(count)]
        ready = threading.Barrier(count + 1)

        def launch(p):
            try:
                p.start()
            finally:
                ready.wait()
            # A server gets SIGKILL when the thread that started it ends
            # (PR_SET_PDEATHSIG is per thread): keep the thread until teardown.
            keep.wait()
        threads = [threading.Thread(target=launch, args=(p,), daemon=True) for p in procs]
        for t in threads:
            t.start()
        ready.wait(timeout(60))
        started.extend(procs)
        assert all(p.url for p in procs), "a server did not start"
        return procs
    yield start
    for p in started:
        p.kill()
    keep.set()


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


def run_all(fns):
    """Run the callables in parallel threads; re-raise the first failure."""
    errors = []

    def wrapped(fn):
        try:
            fn()
        except BaseException as exc:
            errors.append(exc)
    threads = [threading.Thread(target=wrapped, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout(60))
    if errors:
        raise errors[0]


def healthz(server):
    return requests.get(server.url + "/healthz", timeout=timeout(5))


def wait_until(check, units=10):
    deadline = time.monotonic() + timeout(units)
    while True:
        try:
            if check():
                return
        except Exception:
            pass
        assert time.monotonic() < deadline, "condition not reached within %d units" % units
        time.sleep(0.1)


@pytest.mark.parametrize("count", [2, 3])
def test_processes_write_into_one_database(servers, clients, postgres_url, room, count):
    """Senders on every process at once: each member gets every message, history ids
    strictly increase, each connection's messages keep their order."""
    cluster = servers(postgres_url, count)
    senders = [clients(s, "s%d" % i, "polling" if i == 1 else "websocket")
               for i, s in enumerate(cluster)]
    watcher = clients(cluster[-1], "watcher")
    for c in senders + [watcher]:
        assert c.call("join", {"room": room})["ok"]

    def send(c):
        def run():
            for i in range(20):
                ack = c.call("message", {"room": room, "text": "%s-%d" % (c.auth["name"], i)})
                assert ack["ok"], ack
        return run
    run_all([send(c) for c in senders])
    got = watcher.wait_count("message", 20 * count, units=10)
    history = all_messages(cluster[0].url, room)
    ids = [m["id"] for m in history]
    assert ids == list(range(1, 20 * count + 1))
    assert sorted(m["id"] for m in got) == ids
    for c in senders:
        mine = [m["text"] for m in history if m["name"] == c.auth["name"]]
        assert mine == ["%s-%d" % (c.auth["name"], i) for i in range(20)]
    assert healthz(cluster[0]).json()["store"] == "postgresql"


def test_since_replay_and_cid_across_processes(servers, clients, postgres_url, room):
    """A resend with the same cid through another process is stored and broadcast once;
    a reconnect to a third process with since gets exactly the missed messages."""
    a, b, c = servers(postgres_url, 3)
    tab1, tab2 = clients(a, "alice"), clients(b, "alice", "polling")
    watcher = clients(c, "watcher")
    for x in (tab1, tab2, watcher):
        x.call("join", {"room": room})
    m1 = tab1.call("message", {"room": room, "text": "once", "cid": "k1"})["message"]
    assert tab2.call("message", {"room": room, "text": "once", "cid": "k1"})["message"] == m1
    watcher.wait_for("message", lambda m: m["id"] == m1["id"])
    watcher.disconnect()
    missed = [tab2.call("message", {"room": room, "text": "m%d" % i})["message"]
              for i in range(3)]
    again = clients(c, "watcher", "polling")
    ack = again.call("join", {"room": room, "since": m1["id"]})
    assert ack["history"] == missed and not ack["more"]
    time.sleep(timeout(0.2))
    assert len([m for m in tab1.events("message") if m["id"] == m1["id"]]) == 1


def burst_and_kill(cluster, sender, started, stop):
    """Run ``sender(i, server)`` in six threads over the three processes; once one write
    is acked, ``kill -9`` the second process mid-burst, then stop the senders."""
    threads = [threading.Thread(target=sender, args=(i, cluster[i % 3]), daemon=True)
               for i in range(6)]
    for t in threads:
        t.start()
    assert started.wait(timeout(10))
    time.sleep(timeout(0.7))
    cluster[1].kill()
    time.sleep(timeout(0.5))
    stop.set()
    for t in threads:
        t.join(timeout(15))


def test_sigkill_of_a_process_during_a_burst(servers, postgres_url, room):
    """kill -9 of one of three processes while all of them take a burst: every acked
    message is stored once, and each sender's messages are in the order sent."""
    cluster = servers(postgres_url, 3)
    acked, lock, started = [], threading.Lock(), threading.Event()
    stop = threading.Event()

    def sender(i, server):
        c = Client(server.url, "s%d" % i)
        c.call("join", {"room": room})
        n = 0
        while not stop.is_set():
            text = "s%d-%d" % (i, n)
            try:
                ack = c.sio.call("message", {"room": room, "text": text, "cid": text},
                                 timeout=timeout(3))
            except Exception:
                break                     # its process was killed
            if ack.get("ok"):
                with lock:
                    acked.append((ack["message"]["id"], text))
                started.set()
            n += 1
        c.disconnect()
    burst_and_kill(cluster, sender, started, stop)
    stored = all_messages(cluster[0].url, room)
    by_id = {m["id"]: m["text"] for m in stored}
    lost = [(i, text) for i, text in acked if by_id.get(i) != text]
    assert not lost, "%d of %d acked messages lost" % (len(lost), len(acked))
    texts = [m["text"] for m in stored]
    assert len(set(texts)) == len(texts), "a message is stored twice"
    assert [m["id"] for m in stored] == sorted(by_id)
    for i in range(6):
        mine = [int(t.split("-")[1]) for t in texts if t.startswith("s%d-" % i)]
        assert mine == sorted(mine)
    print("\nkill -9 of 1 of 3 processes mid-burst: %d acked, %d stored, 0 lost"
          % (len(acked), len(stored)))


def test_postgres_stopped_mid_test_and_back(servers, clients, room):
    """PostgreSQL stopped: failure acks that say the store is unavailable and /healthz 503
    on every process; started again: everything recovers by itself."""
    pg = start_postgres(durable=False)
    try:
        a, b = servers(pg.create_database("outage"), 2)
        alice, bob = clients(a, "alice"), clients(b, "bob", "polling")
        alice.call("join", {"room": room})
        bob.call("join", {"room": room})
        assert alice.call("message", {"room": room, "text": "before"})["ok"]
        pg.stop()
        acks = [alice.call("message", {"room": room, "text": "during %d" % i}) for i in range(3)]
        assert all(ack == {"ok": False, "error": STORE_DOWN} for ack in acks), acks
        assert bob.call("message", {"room": room, "text": "during"}) == \
            {"ok": False, "error": STORE_DOWN}
        for s in (a, b):
            r = healthz(s)
            assert r.status_code == 503 and r.json()["status"] == "degraded"
            assert "store is unavailable" in r.json()["error"]
        assert alice.call("dm", {"to": "bob", "text": "psst"})["ok"]      # no store needed
        pg.start()
        wait_until(lambda: healthz(a).status_code == 200 and healthz(b).status_code == 200)
        sent = bob.call("message", {"room": room, "text": "after"})
        assert sent["ok"], sent
        assert alice.wait_for("message", lambda m: m["text"] == "after") == sent["message"]
        assert [m["text"] for m in all_messages(a.url, room)] == ["before", "after"]
        for s in (a, b):
            assert "Traceback" not in s.log() and pg.password not in s.log()
    finally:
        pg.remove()


def test_two_processes_start_together_on_an_empty_database(servers, clients, postgres_url,
                                                           room):
    """Two servers started at the same moment on an empty database both come up and
    share one history."""
    a, b = servers(postgres_url, 2)          # started in parallel threads
    x, y = clients(a, "x"), clients(b, "y")
    x.call("join", {"room": room})
    y.call("join", {"room": room})
    assert x.call("message", {"room": room, "text": "from a"})["ok"]
    assert y.call("message", {"room": room, "text": "from b"})["ok"]
    assert [m["text"] for m in all_messages(b.url, room)] == ["from a", "from b"]


def test_gunicorn_processes_on_postgres_and_redis(redis_server, postgres_url, room):
    """The deployment walk: the Procfile's gunicorn, twice, with REALTIME_STORE (PostgreSQL)
    and REALTIME_REDIS from the environment: a message crosses between them."""
    env = {"REALTIME_REDIS": redis_server.url, "REALTIME_PRESENCE_TTL": str(TTL)}
    procs = [GunicornProcess(env=env, store=postgres_url) for _ in range(2)]
    try:
        for p in procs:
            p.start()
        alice, bob = Client(procs[0].url, "alice"), Client(procs[1].url, "bob")
        try:
            alice.call("join", {"room": room})
            bob.call("join", {"room": room})
            sent = alice.call("message", {"room": room, "text": "hi"})["message"]
            assert bob.wait_for("message") == sent
            assert healthz(procs[1]).json()["store"] == "postgresql"
        finally:
            alice.disconnect()
            bob.disconnect()
        password = postgres_url.split(":")[2].split("@")[0]
        assert all(password not in p.log() for p in procs)
    finally:
        for p in procs:
            p.kill()


def whole_log(url, room):
    """``(current state by id, every entry id)`` of ``room``, by paging ``join`` with
    ``since`` over messages and updates, as a reconnecting client does."""
    c = Client(url, "logreader")
    try:
        state, ids, since = {}, [], 0
        while True:
            ack = c.call("join", {"room": room, "since": since})
            assert ack["ok"], ack
            entries = sorted(ack["history"] + ack["updates"], key=lambda e: e["id"])
            for e in entries:
                ids.append(e["id"])
                if "kind" in e:
                    state[e["target"]] = e["message"]
                else:
                    state[e["id"]] = e
            if not ack["more"]:
                return state, ids
            since = entries[-1]["id"]
    finally:
        c.disconnect()


def test_edits_and_reactions_across_processes(servers, clients, postgres_url, room):
    """Edits and reactions sent through three processes at once share the room's id
    sequence: every member sees every update in id order, and the stored state holds
    every reaction and the last edit."""
    cluster = servers(postgres_url, 3)
    alice = clients(cluster[0], "alice")
    people = [clients(cluster[i % 3], "p%d" % i, "polling" if i == 4 else "websocket")
              for i in range(6)]
    watcher = clients(cluster[2], "watcher")
    for c in [alice, watcher] + people:
        assert c.call("join", {"room": room})["ok"]
    msgs = [alice.call("message", {"room": room, "text": "target %d" % i})["message"]
            for i in range(3)]

    def react(c):
        def run():
            for m in msgs:
                for emoji in ("👍", "🎉"):
                    ack = c.call("react", {"room": room, "id": m["id"], "emoji": emoji,
                                           "on": True})
                    assert ack["ok"], ack

        return run

    def edit():
        for i in range(10):
            ack = alice.call("edit", {"room": room, "id": msgs[i % 3]["id"],
                                      "text": "edit %d" % i})
            assert ack["ok"], ack
    run_all([react(c) for c in people] + [edit])
    expected = 6 * 3 * 2 + 10
    got = watcher.wait_count("update", expected, units=15)
    state, log_ids = whole_log(cluster[1].url, room)
    assert log_ids == list(range(1, len(log_ids) + 1)) and len(log_ids) == 3 + expected
    assert sorted(u["id"] for u in got) == log_ids[3:]
    names = sorted("p%d" % i for i in range(6))
    for i, m in enumerate(msgs):
        assert state[m["id"]]["reactions"] == {"👍": names, "🎉": names}
        assert state[m["id"]]["text"] == "edit %d" % max(k for k in range(10) if k % 3 == i)
    assert alice.call("join", {"room": room})["history"][-3:] == [state[m["id"]] for m in msgs]


def test_sigkill_during_a_burst_with_edits(servers, postgres_url, room):
    """kill -9 of one of three processes while each sender posts and then edits every
    message: every acked message and every acked edit is stored, once, and the room's
    log has no gap (the killed process's open transaction left nothing behind)."""
    cluster = servers(postgres_url, 3)
    acked, edited, lock, started = [], {}, threading.Lock(), threading.Event()
    stop = threading.Event()

    def sender(i, server):
        c = Client(server.url, "s%d" % i)
        c.call("join", {"room": room})
        n = 0
        while not stop.is_set():
            text = "s%d-%d" % (i, n)
            try:
                ack = c.sio.call("message", {"room": room, "text": text, "cid": text},
                                 timeout=timeout(3))
                if not ack.get("ok"):
                    break
                with lock:
                    acked.append((ack["message"]["id"], text))
                started.set()
                new = text + " edited"
                ack = c.sio.call("edit", {"room": room, "id": ack["message"]["id"],
                                          "text": new}, timeout=timeout(3))
                if ack.get("ok"):
                    with lock:
                        edited[ack["message"]["id"]] = new
            except Exception:
                break                     # its process was killed
            n += 1
        c.disconnect()
    burst_and_kill(cluster, sender, started, stop)
    state, ids = whole_log(cluster[0].url, room)
    assert ids == list(range(1, len(ids) + 1)), "a gap or a repeat in the room's log"
    lost = [(i, text) for i, text in acked if i not in state or
            state[i]["text"] not in (text, text + " edited")]
    assert not lost, "%d of %d acked messages lost" % (len(lost), len(acked))
    lost_edits = [i for i, text in edited.items() if state[i]["text"] != text]
    assert not lost_edits, "%d of %d acked edits lost" % (len(lost_edits), len(edited))
    texts = [m["text"].replace(" edited", "") for m in state.values()]
    assert len(set(texts)) == len(texts), "a message is stored twice"
    assert len(edited) > 0
    print("\nkill -9 mid-burst with edits: %d messages and %d edits acked, %d log entries, "
          "0 lost" % (len(acked), len(edited), len(ids)))
