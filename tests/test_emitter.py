"""realtime.Emitter: post from another process through Redis into live servers."""

import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import redis

import realtime
from support import Client, ServerProcess, timeout

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url():
    """A throw-away redis-server on a free port (no persistence)."""
    directory = tempfile.mkdtemp(prefix="realtime-redis-")
    port = _free_port()
    proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", directory],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = "redis://127.0.0.1:%d/0" % port
    deadline = time.monotonic() + timeout(10)
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
    yield url
    proc.kill()
    proc.wait()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def cluster(request, redis_url):
    """Two server processes sharing Redis broadcasts and one store (SQLite file or Redis)."""
    if request.param == "sqlite":
        directory = tempfile.mkdtemp(prefix="realtime-emit-")
        store = "sqlite:///" + os.path.join(directory, "chat.db")
    else:
        store = redis_url
    servers = [ServerProcess(["--redis", redis_url], store=store).start() for _ in range(2)]
    yield servers
    for srv in servers:
        srv.kill()


@pytest.fixture
def emitter(redis_url, cluster):
    """The emitter for the cluster: store left out when it is Redis itself (the default)."""
    store = cluster[0].store
    em = realtime.Emitter(redis_url, store=None if store == redis_url else store)
    yield em
    em.close()


def test_posted_message_reaches_room_on_every_server(cluster, emitter, room):
    """A posted message is broadcast to the room's members on both servers."""
    clients = [Client(srv.url, "member%d" % i) for i, srv in enumerate(cluster)]
    try:
        for c in clients:
            c.call("join", {"room": room})
        msg = emitter.post(room, "deploy finished", name="deploybot")
        assert (msg["room"], msg["name"], msg["text"]) == (room, "deploybot", "deploy finished")
        for c in clients:
            assert c.wait_for("message", lambda m: m["room"] == room) == msg
    finally:
        for c in clients:
            c.disconnect()


def test_posted_message_is_stored_for_since_replay(cluster, emitter, room):
    """A client that was away gets the posted message by joining with `since`."""
    first = Client(cluster[0].url, "alice")
    first.call("join", {"room": room})
    seen = first.call("message", {"room": room, "text": "before"})["message"]
    first.disconnect()
    msg = emitter.post(room, "while you were away")
    back = Client(cluster[1].url, "alice")
    try:
        ack = back.call("join", {"room": room, "since": seen["id"]})
        assert ack["history"] == [msg]
        assert msg["name"] == "system"
    finally:
        back.disconnect()


def test_same_cid_is_stored_and_broadcast_once(cluster, emitter, room):
    """Posting again with the same name and cid returns the stored message, no rebroadcast."""
    member = Client(cluster[0].url, "member")
    try:
        member.call("join", {"room": room})
        first = emitter.post(room, "nightly report", cid="report-1")
        second = emitter.post(room, "nightly report", cid="report-1")
        assert first == second
        member.wait_for("message", lambda m: m["id"] == first["id"])
        member.quiet("message", lambda m: m["room"] == room and m["id"] != first["id"])
        assert len(member.events("message")) == 1
    finally:
        member.disconnect()


def test_bad_room_is_refused_and_not_stored(cluster, emitter):
    """An invalid room raises ValueError with the reason; nothing is stored."""
    with pytest.raises(ValueError, match="room must be"):
        emitter.post("no spaces allowed", "hi")
    assert not emitter.store.has_room("no spaces allowed")


def test_from_config_needs_redis():
    """Emitter.from_config refuses a config without a Redis URL."""
    with pytest.raises(ValueError, match="--redis"):
        realtime.Emitter.from_config(realtime.Config())


def test_from_config_uses_the_servers_store():
    """from_config opens the store the servers were given with --store."""
    config = realtime.Config(redis="redis://127.0.0.1:1/0", store="memory://")
    assert realtime.Emitter.from_config(config).store.kind == "memory"
