"""``redis://host:port/db``: messages in Redis, shared by every server process.

    store = open_store("redis://127.0.0.1:6379/0")

Keys (all under the ``rt:`` prefix, one Redis, not Redis Cluster):

- ``rt:seq:{room}``: the room's last id (``INCR``), so ids are unique and
  strictly increasing per room across every process and restart;
- ``rt:msgs:{room}``: sorted set, score = id, member = the message's JSON;
- ``rt:cid:{name}``: hash cid -> message JSON (idempotent resends, scoped to
  the name whatever the room);
- ``rt:dm``: counter for dm ids.

Each append is one Lua script (cid check, ``INCR``, ``ZADD`` atomically); a
batch is one ``MULTI``/``EXEC`` round trip.  An append is acked once Redis
has it; to survive a crash of Redis itself run it with ``appendonly yes``
and ``appendfsync always`` (see docs/deploy.md).  Under a gevent-patched
process redis-py's sockets are cooperative, so the store is not
``blocking``; a connection error becomes :class:`StoreError` at once and
the next call reconnects.
"""

import itertools
import json
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .base import Store, StoreError, hide_password  # noqa: F401  (re-exported)

PREFIX = "rt:"

# KEYS: seq, msgs, cid hash.  ARGV: cid ('' for none), the message JSON after its id.
_APPEND = """
if ARGV[1] ~= '' then
  local old = redis.call('HGET', KEYS[3], ARGV[1])
  if old then return {0, old} end
end
local id = redis.call('INCR', KEYS[1])
local msg = '{"id":' .. id .. ',' .. ARGV[2]
redis.call('ZADD', KEYS[2], id, msg)
if ARGV[1] ~= '' then redis.call('HSET', KEYS[3], ARGV[1], msg) end
return {1, msg}
"""


def client(url, **kwargs):
    """A redis-py client that fails fast (one quick retry) instead of backing off."""
    kwargs.setdefault("socket_connect_timeout", 2)
    kwargs.setdefault("socket_timeout", 5)
    kwargs.setdefault("retry", Retry(NoBackoff(), 1))
    kwargs.setdefault("decode_responses", True)
    return redis.Redis.from_url(url, **kwargs)


def unavailable(exc):
    return StoreError("the message store is unavailable (redis: %s)" % exc)


class RedisStore(Store):
    """Messages in one Redis; safe to share between any number of processes."""

    blocking = False
    kind = "redis"

    def __init__(self, url):
        self.url = url
        self.redis = client(url)
        self._append = self.redis.register_script(_APPEND)
        # Fallback dm ids while Redis is down: microseconds since the epoch,
        # far above any INCR value, so they never repeat one.
        self._dm_local = itertools.count(time.time_ns() // 1000)

    def _run(self, fn, *args):
        try:
            return fn(*args)
        except redis.RedisError as exc:
            raise unavailable(exc) from exc

    def append_batch(self, items):
        return self._run(self._append_batch, items)

    def _append_batch(self, items):
        pipe = self.redis.pipeline(transaction=True)
        for room, name, text, cid, ts in items:
            tail = json.dumps({"room": room, "name": name, "text": text, "ts": ts},
                              ensure_ascii=False, separators=(",", ":"))[1:]
            self._append(keys=[PREFIX + "seq:" + room, PREFIX + "msgs:" + room,
                               PREFIX + "cid:" + name],
                         args=[cid or "", tail], client=pipe)
        return [(json.loads(msg), bool(created)) for created, msg in pipe.execute()]

    @staticmethod
    def _page(raw, limit, reverse):
        more = len(raw) > limit
        raw = raw[:limit]
        if reverse:
            raw.reverse()
        return [json.loads(m) for m in raw], more

    def latest(self, room, limit):
        raw = self._run(self.redis.zrevrange, PREFIX + "msgs:" + room, 0, limit)
        return self._page(raw, limit, True)

    def after(self, room, since, limit):
        raw = self._run(self.redis.zrangebyscore, PREFIX + "msgs:" + room,
                        "(%d" % since, "+inf", 0, limit + 1)
        return self._page(raw, limit, False)

    def before(self, room, before, limit):
        raw = self._run(self.redis.zrevrangebyscore, PREFIX + "msgs:" + room,
                        "(%d" % before, "-inf", 0, limit + 1)
        return self._page(raw, limit, True)

    def has_room(self, room):
        return bool(self._run(self.redis.exists, PREFIX + "msgs:" + room))

    def next_dm_id(self):
        try:
            return self.redis.incr(PREFIX + "dm")
        except redis.RedisError:
            return next(self._dm_local)

    def ping(self):
        self._run(self.redis.ping)

    def probe_write(self):
        self._run(self.redis.set, "rt:health", str(time.time_ns() // 1_000_000))

    def describe(self):
        return hide_password(self.url)

    def close(self):
        self.redis.close()
