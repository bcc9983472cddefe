"""Acked messages survive kill -9; reconnecting with since loses and repeats nothing."""

import threading
import time

from support import Client, ServerProcess, timeout


def test_acked_messages_survive_sigkill(transport, room):
    """Every acked message is in the store after SIGKILL and restart."""
    srv = ServerProcess().start()
    try:
        a = Client(srv.url, "alice", transport=transport)
        a.call("join", {"room": room})
        acked = [a.call("message", {"room": room, "text": "m%d" % i})["message"]
                 for i in range(50)]
        srv.kill()
        a.disconnect()
        srv.restart()
        b = Client(srv.url, "bob", transport=transport)
        got = b.call("join", {"room": room, "since": 0})["history"]
        assert got == acked
        b.disconnect()
    finally:
        srv.kill()


def test_sigkill_during_burst_loses_no_acked_message(room):
    """Messages acked before a crash mid-burst are all there afterwards."""
    srv = ServerProcess().start()
    try:
        a = Client(srv.url, "alice")
        a.call("join", {"room": room})
        acked = []

        def on_ack(ack):
            if isinstance(ack, dict) and ack.get("ok"):
                acked.append(ack["message"])
        for i in range(300):
            a.sio.emit("message", {"room": room, "text": str(i)}, callback=on_ack)
        a.wait_count("message", 100, units=20)
        srv.kill()
        snapshot = list(acked)
        a.disconnect()
        srv.restart()
        b = Client(srv.url, "bob")
        stored = {m["id"]: m for m in b.call("join", {"room": room, "since": 0})["history"]}
        assert snapshot and all(stored.get(m["id"]) == m for m in snapshot)
        b.disconnect()
    finally:
        srv.kill()


def test_reconnect_with_since_gets_missed_messages_once(transport, room):
    """A client that was away gets exactly what it missed, in order, once."""
    srv = ServerProcess().start()
    try:
        a = Client(srv.url, "alice", transport=transport)
        b = Client(srv.url, "bob", transport=transport)
        a.call("join", {"room": room})
        b.call("join", {"room": room})
        before = [a.call("message", {"room": room, "text": "b%d" % i})["message"]
                  for i in range(5)]
        b.wait_count("message", 5)
        seen = max(m["id"] for m in b.events("message"))
        b.disconnect()
        missed = [a.call("message", {"room": room, "text": "m%d" % i})["message"]
                  for i in range(7)]
        b = Client(srv.url, "bob", transport=transport)
        ack = b.call("join", {"room": room, "since": seen})
        after = a.call("message", {"room": room, "text": "live"})["message"]
        b.wait_for("message", lambda m: m["id"] == after["id"])
        got = ack["history"] + b.events("message")
        assert got == missed + [after]
        assert not set(m["id"] for m in got) & set(m["id"] for m in before)
        b.disconnect()
        a.disconnect()
    finally:
        srv.kill()


def test_reconnect_across_restart(transport, room):
    """After a SIGKILL and restart, since-replay has the messages sent meanwhile."""
    srv = ServerProcess().start()
    try:
        b = Client(srv.url, "bob", transport=transport)
        b.call("join", {"room": room})
        first = b.call("message", {"room": room, "text": "before"})["message"]
        srv.kill()
        b.disconnect()
        srv.restart()
        a = Client(srv.url, "alice", transport=transport)
        a.call("join", {"room": room})
        sent = [a.call("message", {"room": room, "text": "during%d" % i})["message"]
                for i in range(3)]
        b = Client(srv.url, "bob", transport=transport)
        assert b.call("join", {"room": room, "since": first["id"]})["history"] == sent
        a.disconnect()
        b.disconnect()
    finally:
        srv.kill()


def test_join_during_burst_misses_nothing_and_repeats_nothing(room):
    """A join while others post yields history + live messages without gap or repeat."""
    srv = ServerProcess().start()
    try:
        a = Client(srv.url, "alice")
        a.call("join", {"room": room})
        done = threading.Event()

        def post():
            for i in range(400):
                a.sio.emit("message", {"room": room, "text": str(i)})
                if i % 10 == 9:
                    time.sleep(0.005)   # spread the burst across the join
            done.set()
        t = threading.Thread(target=post)
        t.start()
        a.wait_count("message", 50, units=20)
        b = Client(srv.url, "bob")
        ack = b.call("join", {"room": room, "since": 0})
        t.join(timeout(30))
        a.wait_count("message", 400, units=30)
        last = a.events("message")[-1]["id"]
        if ack["history"][-1]["id"] != last:
            b.wait_for("message", lambda m: m["id"] == last, units=30)
        texts = [m["text"] for m in ack["history"] + b.events("message")]
        assert texts == [str(i) for i in range(400)]
        a.disconnect()
        b.disconnect()
    finally:
        srv.kill()
