"""Faults: kill -9 mid-burst, restart without duplicates, a full or read-only disk."""

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import pytest

from support import Client, timeout

STORE_DOWN = "the message store is unavailable; please try again."


def health(srv):
    try:
        with urllib.request.urlopen(srv.url + "/healthz", timeout=timeout(5)) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def all_messages(url, room):
    """Every stored message of ``room``, by paging ``join`` with ``since``."""
    c = Client(url, "reader")
    try:
        out, since = [], 0
        while True:
            ack = c.call("join", {"room": room, "since": since})
            out += ack["history"]
            if not ack["more"]:
                return out
            since = ack["history"][-1]["id"]
    finally:
        c.disconnect()


def test_sigkill_during_a_burst_loses_no_acked_message(server_factory):
    """Every message acked before kill -9 is in the store after restart, exactly once."""
    srv = server_factory()
    room = "burst"
    acked, lock, started = [], threading.Lock(), threading.Event()

    def sender(i, transport):
        c = Client(srv.url, "s%d" % i, transport=transport)
        c.call("join", {"room": room})
        n = 0
        while True:
            text = "s%d-%d" % (i, n)
            try:
                ack = c.sio.call("message", {"room": room, "text": text, "cid": text},
                                 timeout=timeout(3))
            except Exception:
                break
            if ack.get("ok"):
                with lock:
                    acked.append((ack["message"]["id"], text))
                started.set()
            n += 1
        c.disconnect()

    threads = [threading.Thread(target=sender, args=(i, t), daemon=True)
               for i, t in enumerate(["websocket", "websocket", "polling", "websocket"])]
    for t in threads:
        t.start()
    assert started.wait(timeout(10))
    time.sleep(timeout(1))
    srv.kill()
    for t in threads:
        t.join(timeout(15))
    srv.restart()
    stored = all_messages(srv.url, room)
    by_id = {m["id"]: m["text"] for m in stored}
    lost = [(i, text) for i, text in acked if by_id.get(i) != text]
    assert not lost, "%d of %d acked messages lost" % (len(lost), len(acked))
    assert len(by_id) == len(stored) and len({m["text"] for m in stored}) == len(stored)
    print("\nkill -9 mid-burst: %d acked, %d stored, 0 lost" % (len(acked), len(stored)))


def test_restart_replays_nothing_twice(server_factory):
    """After kill -9 and restart, join since and cid resends deliver each message once."""
    srv = server_factory()
    c = Client(srv.url, "alice")
    c.call("join", {"room": "replay"})
    ids = [c.call("message", {"room": "replay", "text": "m%d" % i, "cid": "c%d" % i})
           ["message"]["id"] for i in range(30)]
    c.disconnect()
    srv.kill()
    srv.restart()
    c = Client(srv.url, "alice", transport="polling")
    try:
        missed = c.call("join", {"room": "replay", "since": ids[14]})["history"]
        assert [m["id"] for m in missed] == ids[15:]
        again = [c.call("message", {"room": "replay", "text": "m%d" % i, "cid": "c%d" % i})
                 ["message"]["id"] for i in range(30)]
        assert again == ids
        assert [m["id"] for m in all_messages(srv.url, "replay")] == ids
        assert c.events("message") == []
    finally:
        c.disconnect()


@pytest.fixture
def tiny_disk():
    """A 2 MB tmpfs to fill up; skipped where mounting is not allowed."""
    path = tempfile.mkdtemp(prefix="realtime-tiny-")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", path],
                      capture_output=True).returncode != 0:
        os.rmdir(path)
        pytest.skip("cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN)")
    yield path
    subprocess.run(["umount", "-l", path], capture_output=True)
    shutil.rmtree(path, ignore_errors=True)


def fill(path):
    with open(os.path.join(path, "filler"), "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


def store_outage_gives_failure_acks(srv, room, break_it, repair):
    """Shared body: failure acks and /healthz 503 while broken, full service after repair."""
    writer, observer = Client(srv.url, "writer"), Client(srv.url, "observer")
    try:
        writer.call("join", {"room": room})
        observer.call("join", {"room": room})
        assert writer.call("message", {"room": room, "text": "before"})["ok"] is True
        break_it()
        acks = [writer.call("message", {"room": room, "text": "during %d " % i + "x" * 1500})
                for i in range(40)]
        failed = [a for a in acks if not a["ok"]]
        assert failed and all(a == {"ok": False, "error": STORE_DOWN} for a in failed)
        assert health(srv)[0] == 503
        assert srv.proc.poll() is None
        repair()
        assert writer.call("message", {"room": room, "text": "after"})["ok"] is True
        assert health(srv)[0] == 200
        stored = [m["text"] for m in all_messages(srv.url, room)]
        ok_texts = [a["message"]["text"] for a in acks if a["ok"]]
        assert stored == ["before"] + ok_texts + ["after"]
        seen = [m["text"] for m in observer.wait_count("message", len(stored))]
        assert seen == stored
        assert "Traceback" not in srv.log()
        return len(failed), len(acks)
    finally:
        writer.disconnect()
        observer.disconnect()


def test_full_disk_gives_failure_acks_and_503(server_factory, tiny_disk):
    """On a full disk, messages get failure acks, /healthz says 503, nothing crashes."""
    srv = server_factory(store="sqlite:///" + os.path.join(tiny_disk, "chat.db"))
    failed, tried = store_outage_gives_failure_acks(
        srv, "full", lambda: fill(tiny_disk), lambda: os.remove(os.path.join(tiny_disk, "filler")))
    print("\ndisk full: %d of %d messages refused with a failure ack" % (failed, tried))


def test_read_only_store_gives_failure_acks_and_503(server_factory):
    """With the database files immutable (chattr +i), messages fail cleanly; then recover."""
    srv = server_factory()
    db = srv.store[len("sqlite:///"):]
    files = [db, db + "-wal"]            # never -shm: it is mmapped (SIGBUS)

    def lock():
        if subprocess.run(["chattr", "+i"] + [f for f in files if os.path.exists(f)],
                          capture_output=True).returncode != 0:
            pytest.skip("chattr +i is not available on this filesystem")

    def unlock():
        subprocess.run(["chattr", "-i"] + files, capture_output=True)

    try:
        failed, tried = store_outage_gives_failure_acks(srv, "readonly", lock, unlock)
    finally:
        unlock()
    print("\nread-only store: %d of %d messages refused with a failure ack" % (failed, tried))
