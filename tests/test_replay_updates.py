"""The reconnect promise with updates: after a SIGKILL and restart, `join` + `since`
brings exactly the missed messages and updates, once each, in order; a join during a
burst of updates misses and repeats nothing; the 500-entry cap spans both."""

import threading
import time

from support import Client, ServerProcess, timeout


def apply(entries, state=None):
    state = dict(state or {})
    for e in entries:
        if "kind" in e:
            state[e["target"]] = e["message"]
        else:
            state[e["id"]] = e
    return state


def test_changes_made_while_away_replay_once_in_order_across_sigkill(transport, room):
    """Bob is away while alice edits, reacts, deletes and posts; the server is killed
    and restarted; bob's join with since gets each change once, in order, then live."""
    srv = ServerProcess().start()
    try:
        a = Client(srv.url, "alice", transport=transport)
        b = Client(srv.url, "bob", transport=transport)
        a.call("join", {"room": room})
        b.call("join", {"room": room})
        seen = [a.call("message", {"room": room, "text": "m%d" % i})["message"] for i in range(3)]
        b.wait_count("message", 3)
        cursor = max(m["id"] for m in b.events("message"))
        known = apply(b.events("message"))
        b.disconnect()
        acked = [
            a.call("edit", {"room": room, "id": seen[0]["id"], "text": "m0 edited"}),
            a.call("react", {"room": room, "id": seen[1]["id"], "emoji": "👍", "on": True}),
            a.call("message", {"room": room, "text": "new while away"}),
            a.call("react", {"room": room, "id": seen[1]["id"], "emoji": "🎉", "on": True}),
            a.call("delete", {"room": room, "id": seen[2]["id"]}),
            a.call("edit", {"room": room, "id": seen[0]["id"], "text": "m0 edited twice"}),
        ]
        assert all(x["ok"] for x in acked)
        srv.kill()
        a.disconnect()
        srv.restart()
        a = Client(srv.url, "alice", transport=transport)
        a.call("join", {"room": room})
        b = Client(srv.url, "bob", transport=transport)
        ack = b.call("join", {"room": room, "since": cursor})
        assert ack["more"] is False
        assert [u["kind"] for u in ack["updates"]] == ["edit", "react", "react", "delete", "edit"]
        ids = [u["id"] for u in ack["updates"]]
        assert ids == sorted(set(ids)) and all(i > cursor for i in ids)
        assert [m["text"] for m in ack["history"]] == ["new while away"]
        state = apply(ack["history"] + ack["updates"], known)
        now = {m["id"]: m for m in b.call("history", {"room": room})["messages"]}
        assert state == now and apply(ack["updates"], state) == state
        assert state[seen[2]["id"]]["deleted"] and "reactions" in state[seen[1]["id"]]
        live = a.call("edit", {"room": room, "id": seen[0]["id"], "text": "live"})["message"]
        got = b.wait_for("update", lambda u: u["message"] == live)
        b.quiet("update", lambda u: u["id"] != got["id"], units=0.3)
        assert not b.events("message")
        a.disconnect()
        b.disconnect()
    finally:
        srv.kill()


def test_join_during_a_burst_of_updates_misses_and_repeats_nothing(room):
    """While alice edits one message 400 times, people join with since, one after
    another: for each, the ack's updates plus the live ones are every edit after its
    since exactly once, in order."""
    srv = ServerProcess().start()
    try:
        a = Client(srv.url, "alice")
        a.call("join", {"room": room})
        msg = a.call("message", {"room": room, "text": "v0"})["message"]
        count = 400

        def burst():
            for i in range(1, count + 1):
                a.sio.emit("edit", {"room": room, "id": msg["id"], "text": "v%d" % i})
                if i % 10 == 0:
                    time.sleep(0.003)
        t = threading.Thread(target=burst)
        t.start()
        a.wait_count("update", 20, units=20)
        joins = []
        for n in range(8):
            c = Client(srv.url, "joiner%d" % n, transport="polling" if n % 2 else "websocket")
            since = msg["id"] if n % 3 else max(u["id"] for u in a.events("update"))
            joins.append((c, since, c.call("join", {"room": room, "since": since})))
        t.join(timeout(30))
        ups = a.wait_count("update", count, units=30)
        expected = {u["id"]: u["message"]["text"] for u in ups}
        for c, since, ack in joins:
            if since < ups[-1]["id"] and (not ack["updates"]
                                          or ack["updates"][-1]["id"] != ups[-1]["id"]):
                c.wait_for("update", lambda u: u["id"] == ups[-1]["id"], units=30)
            got = ack["updates"] + c.events("update")
            assert [u["id"] for u in got] == [i for i in expected if i > since]
            assert [u["message"]["text"] for u in got] == [
                t for i, t in expected.items() if i > since]
            c.disconnect()
        a.disconnect()
    finally:
        srv.kill()


def test_the_500_cap_spans_messages_and_updates(room):
    """300 messages and 300 edits: 500 entries with more, then the rest; each once."""
    srv = ServerProcess().start()
    try:
        a = Client(srv.url, "alice")
        a.call("join", {"room": room})
        for start in range(0, 300, 50):
            for i in range(start, start + 50):
                a.emit("message", {"room": room, "text": "m%d" % i})
            a.wait_count("message", start + 50, units=20)
        msgs = a.events("message")
        for start in range(0, 300, 50):
            for m in msgs[start:start + 50]:
                a.emit("edit", {"room": room, "id": m["id"], "text": m["text"] + "!"})
            a.wait_count("update", start + 50, units=20)
        every = sorted([m["id"] for m in msgs] + [u["id"] for u in a.events("update")])
        b = Client(srv.url, "bob")
        first = b.call("join", {"room": room, "since": 0})
        got = first["history"] + first["updates"]
        assert len(got) == 500 and first["more"] is True
        rest = b.call("join", {"room": room, "since": max(e["id"] for e in got)})
        got += rest["history"] + rest["updates"]
        assert rest["more"] is False and sorted(e["id"] for e in got) == every
        assert all(m["text"].endswith("!") for m in first["history"])
        a.disconnect()
        b.disconnect()
    finally:
        srv.kill()
