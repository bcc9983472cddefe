"""Redis presence, in-process: several instances (processes) share one deployment-wide
view, a silent instance's people are reaped, and Redis outages resync."""

import time

import pytest
import redis

from realtime.scaleout.presence import RedisPresence
from support import timeout
from support_deploy import RedisServer


@pytest.fixture(scope="module")
def redis_server():
    with RedisServer() as r:
        yield r


@pytest.fixture
def make(redis_server):
    redis.Redis.from_url(redis_server.url).flushdb()
    made = []

    def build(ttl=15.0):
        changes = []
        p = RedisPresence(redis_server.url, ttl=ttl,
                          on_change=lambda *change: changes.append(change))
        p.changes = changes
        made.append(p)
        return p
    yield build
    for p in made:
        p.close()


def test_first_and_last_are_deployment_wide(make):
    """A person is first in only on their first connection anywhere, last out on their last."""
    a, b = make(), make()
    assert a.enter("lobby", "alice") == (True, 1)
    assert b.enter("lobby", "alice") == (False, 1)
    assert b.enter("lobby", "bob") == (True, 2)
    assert a.exit("lobby", "alice") == (False, 2)
    assert b.exit("lobby", "alice") == (True, 1)


def test_members_rooms_and_online_span_instances(make):
    """members, count, rooms and online answer for every instance."""
    a, b = make(), make()
    a.connect("alice")
    b.connect("bob")
    a.enter("lobby", "alice")
    b.enter("lobby", "bob")
    b.enter("dev", "bob")
    assert a.members("lobby") == ["alice", "bob"] and a.count("dev") == 1
    assert a.rooms() == [("dev", 1), ("lobby", 2)]
    assert a.online("bob") and b.online("alice") and not a.online("carol")
    b.exit("dev", "bob")
    b.disconnect("bob")
    assert a.rooms() == [("lobby", 2)] and not a.online("bob")


def test_silent_instance_is_reaped_with_leave_events(make):
    """Once a silent instance expires, the next heartbeat elsewhere removes its people
    and that reaper alone reports who left."""
    dead, alive, other = make(ttl=0.3), make(), make()
    dead.connect("alice")
    dead.enter("lobby", "alice")
    alive.enter("lobby", "bob")
    dead._heart.kill()                      # it stops beating, like a SIGKILL
    time.sleep(timeout(0.5))
    alive.beat()
    other.beat()
    assert alive.changes == [("lobby", "alice", "leave", 1)]
    assert other.changes == []
    assert alive.members("lobby") == ["bob"] and not alive.online("alice")


def test_reaped_instance_that_wakes_up_puts_its_people_back(make):
    """An instance reaped while paused resyncs at its next beat and reports the joins."""
    paused, alive = make(ttl=0.3), make()
    paused.enter("lobby", "alice")
    paused._heart.kill()
    time.sleep(timeout(0.5))
    alive.beat()
    assert alive.members("lobby") == []
    paused.beat()
    assert alive.members("lobby") == ["alice"]
    assert ("lobby", "alice", "join", 1) in paused.changes


def test_redis_restart_resyncs(make, redis_server):
    """While Redis is down answers come from this instance; after a restart the heartbeat
    puts its share back."""
    a = make()
    a.connect("alice")
    a.enter("lobby", "alice")
    redis_server.stop()
    try:
        assert a.enter("dev", "alice") == (True, 1)      # local answer
        assert a.members("dev") == ["alice"] and a.online("alice")
        assert not a.up
        with pytest.raises(redis.RedisError):
            a.ping()
    finally:
        redis_server.start()                             # empty: nothing persisted
    a.beat()
    assert a.up
    assert a.rooms() == [("dev", 1), ("lobby", 1)] and a.online("alice")


def test_close_takes_the_share_out(make):
    """A closed instance leaves nobody behind."""
    a, b = make(), make()
    a.enter("lobby", "alice")
    a.close()
    assert b.members("lobby") == [] and b.rooms() == []


def test_detached_close_reports_each_real_leave_once(make):
    """A stopping instance (detach, drop everyone, close) reports in one go only the
    people who are gone everywhere."""
    a, b = make(), make()
    a.enter("lobby", "alice")
    a.enter("lobby", "bob")
    b.enter("lobby", "bob")
    a.detach()
    assert a.exit("lobby", "alice") == (False, 1)       # no per-connection leave
    assert a.exit("lobby", "bob") == (False, 0)
    a.close()
    assert a.changes == [("lobby", "alice", "leave", 1)]
    assert b.members("lobby") == ["bob"]
