"""Deployment-wide presence in Redis, with the methods of :class:`LocalPresence`.

    presence = RedisPresence("redis://127.0.0.1:6379/0", ttl=15, on_change=emit)
    first, count = presence.enter("lobby", "alice")   # first across all processes

Keys (prefix ``rt:p:``): ``room:{room}`` hash name -> connections,
``online`` hash name -> connections, ``rooms`` set of rooms with people,
``proc:{id}`` hash of this process's own share of those counts, and
``procs`` sorted set process id -> expiry (Redis time, ms).

Each process heartbeats every ``ttl / 3`` seconds.  A process whose expiry
has passed (SIGKILL, power loss, partition) is *reaped* by the first live
process whose heartbeat sees it: one script subtracts the dead process's
share, and only the reaper (the one whose ``ZREM`` succeeded) gets the list
of people who left, and emits their ``presence`` leave events through
``on_change``.  So a dead process's people vanish within ``ttl + ttl / 3``.

Redis down: every call answers from this process's own view (``local``),
so local clients keep being served; the next heartbeat that reaches Redis
replaces this process's share with the local view in one script and emits
the joins and leaves that changed meanwhile.  Calls are serialised by a
lock so that resync never double-counts an ``enter`` in flight.
"""

import logging
import uuid

import gevent
import gevent.lock
import redis

from ..chat.presence import LocalPresence
from ..store.redis import client

log = logging.getLogger("realtime.presence")

P = "rt:p:"
SEP = "\x00"        # never in a name or room (control characters are refused)

# KEYS: own share hash, count hash, rooms set (optional).  ARGV: own field, name, room, delta.
_CHANGE = """
local d = tonumber(ARGV[4])
local mine = redis.call('HINCRBY', KEYS[1], ARGV[1], d)
if mine <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
if mine < 0 then return {-1, redis.call('HLEN', KEYS[2])} end
local n = redis.call('HINCRBY', KEYS[2], ARGV[2], d)
if n <= 0 then redis.call('HDEL', KEYS[2], ARGV[2]) end
local count = redis.call('HLEN', KEYS[2])
if KEYS[3] then
  if count > 0 then redis.call('SADD', KEYS[3], ARGV[3])
  else redis.call('SREM', KEYS[3], ARGV[3]) end
end
return {n, count}
"""

# Apply share changes of one process: ARGV[1] prefix, ARGV[2] own hash key,
# then (field, delta) pairs.  Returns transitions {room, name, count, +1|-1}
# for room fields whose person appeared or vanished deployment-wide.
_APPLY = """
local function apply(prefix, own, field, d, out)
  local mine = redis.call('HINCRBY', own, field, d)
  if mine <= 0 then redis.call('HDEL', own, field) end
  local kind = string.sub(field, 1, 1)
  local sep = string.find(field, '\\0', 3, true)
  if kind == 'o' then
    local name = string.sub(field, 3)
    local n = redis.call('HINCRBY', prefix .. 'online', name, d)
    if n <= 0 then redis.call('HDEL', prefix .. 'online', name) end
    return
  end
  local room = string.sub(field, 3, sep - 1)
  local name = string.sub(field, sep + 1)
  local key = prefix .. 'room:' .. room
  local n = redis.call('HINCRBY', key, name, d)
  if n <= 0 then redis.call('HDEL', key, name) end
  local count = redis.call('HLEN', key)
  if count > 0 then redis.call('SADD', prefix .. 'rooms', room)
  else redis.call('SREM', prefix .. 'rooms', room) end
  if n > 0 and n - d <= 0 then table.insert(out, {room, name, count, 1}) end
  if n <= 0 and n - d > 0 then table.insert(out, {room, name, count, -1}) end
end
"""

# Reap dead processes.  KEYS: procs.  ARGV: prefix, then dead ids.
_REAP = _APPLY + """
local out = {}
for i = 2, #ARGV do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    local own = ARGV[1] .. 'proc:' .. ARGV[i]
    local fields = redis.call('HGETALL', own)
    for j = 1, #fields, 2 do
      apply(ARGV[1], own, fields[j], -tonumber(fields[j + 1]), out)
    end
    redis.call('DEL', own)
  end
end
return out
"""

# Replace this process's share with ``desired``.  KEYS: procs.  ARGV: prefix,
# own id, expiry ttl ms, then (field, count) pairs of the desired share.
_RESYNC = _APPLY + """
local own = ARGV[1] .. 'proc:' .. ARGV[2]
local want = {}
for i = 4, #ARGV, 2 do want[ARGV[i]] = tonumber(ARGV[i + 1]) end
local have = {}
local fields = redis.call('HGETALL', own)
for j = 1, #fields, 2 do have[fields[j]] = tonumber(fields[j + 1]) end
local out = {}
for f, c in pairs(have) do
  local d = (want[f] or 0) - c
  if d ~= 0 then apply(ARGV[1], own, f, d, out) end
end
for f, c in pairs(want) do
  if not have[f] then apply(ARGV[1], own, f, c, out) end
end
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(ARGV[3]), ARGV[2])
return out
"""

# Heartbeat.  KEYS: procs.  ARGV: own id, ttl ms.  Returns {known, dead ids...}.
_BEAT = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local known = redis.call('ZSCORE', KEYS[1], ARGV[1])
if known then redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1]) end
local out = {known and 1 or 0}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  table.insert(out, id)
end
return out
"""


def _room_field(room, name):
    return "r" + SEP + room + SEP + name


def _online_field(name):
    return "o" + SEP + name


class RedisPresence:
    """Presence of every process sharing one Redis (see the module docstring)."""

    kind = "redis"

    def __init__(self, url, ttl=15.0, on_change=None):
        if not float(ttl) > 0:
            raise ValueError("--presence-ttl must be a positive number of seconds")
        self.redis = client(url)
        self.ttl = float(ttl)
        self.on_change = on_change      # fn(room, name, "join"|"leave", count)
        self.id = uuid.uuid4().hex
        self.own = P + "proc:" + self.id
        self.local = LocalPresence()
        self._change = self.redis.register_script(_CHANGE)
        self._reap = self.redis.register_script(_REAP)
        self._resync = self.redis.register_script(_RESYNC)
        self._beat = self.redis.register_script(_BEAT)
        self._lock = gevent.lock.RLock()
        self._synced = False            # own share in Redis equals ``local``
        self.up = False
        self._closed = False
        self._detached = False          # stopping: see detach()
        with self._lock:
            self._sync()
        if not self.up:
            # realtime.selfcheck says why at ERROR level, once, naming the setting.
            log.warning("presence: redis unavailable at start; serving this process's "
                        "view until it is reachable")
        self._heart = gevent.spawn(self._heartbeat)

    # -- Redis calls that fall back to the local view ----------------------

    def _apply(self, keys, field, name, room, delta):
        if not self._synced or self._detached:
            return None
        try:
            n, count = self._change(keys=keys, args=[field, name, room, delta])
        except redis.RedisError as exc:
            self._lost(exc)
            return None
        return n, count

    def _lost(self, exc):
        if self.up:
            log.error("presence: redis unavailable (%s); serving this process's "
                      "view until it is back", exc)
        self.up = False
        self._synced = False

    def _read(self, fn, fallback):
        if self._synced:
            try:
                return fn()
            except redis.RedisError as exc:
                self._lost(exc)
        return fallback()

    # -- the LocalPresence interface ----------------------------------------

    def connect(self, name):
        with self._lock:
            self.local.connect(name)
            self._apply([self.own, P + "online"], _online_field(name), name, "", 1)

    def disconnect(self, name):
        with self._lock:
            self.local.disconnect(name)
            self._apply([self.own, P + "online"], _online_field(name), name, "", -1)

    def online(self, name):
        return self._read(lambda: bool(self.redis.hexists(P + "online", name)),
                          lambda: self.local.online(name))

    def enter(self, room, name):
        """Count one more connection of ``name`` in ``room``; return (first, count)."""
        with self._lock:
            local = self.local.enter(room, name)
            got = self._apply([self.own, P + "room:" + room, P + "rooms"],
                              _room_field(room, name), name, room, 1)
        return local if got is None else (got[0] == 1, got[1])

    def exit(self, room, name):
        """Count one connection less; return (last, count)."""
        with self._lock:
            local = self.local.exit(room, name)
            got = self._apply([self.own, P + "room:" + room, P + "rooms"],
                              _room_field(room, name), name, room, -1)
        if self._detached:
            return False, local[1]      # close() reports the leaves, deployment-wide
        if got is None or got[0] < 0:
            return local
        return got[0] <= 0, got[1]

    def members(self, room):
        return self._read(lambda: sorted(self.redis.hkeys(P + "room:" + room)),
                          lambda: self.local.members(room))

    def count(self, room):
        return self._read(lambda: self.redis.hlen(P + "room:" + room),
                          lambda: self.local.count(room))

    def rooms(self):
        """``[(room, people), ...]`` sorted by room, rooms with people only."""
        def remote():
            names = sorted(self.redis.smembers(P + "rooms"))
            pipe = self.redis.pipeline(transaction=False)
            for room in names:
                pipe.hlen(P + "room:" + room)
            return [(room, n) for room, n in zip(names, pipe.execute()) if n]
        return self._read(remote, self.local.rooms)

    def ping(self):
        """Raise ``redis.RedisError`` unless Redis answers."""
        self.redis.ping()

    # -- heartbeat, reaping, resync -----------------------------------------

    def _desired(self):
        pairs = []
        for name, n in self.local._online.items():
            pairs += [_online_field(name), n]
        for room, people in self.local._rooms.items():
            for name, n in people.items():
                pairs += [_room_field(room, name), n]
        return pairs

    def _sync(self):
        """Replace this process's share in Redis by the local view (lock held)."""
        try:
            changes = self._resync(keys=[P + "procs"],
                                   args=[P, self.id, int(self.ttl * 1000)] + self._desired())
        except redis.RedisError as exc:
            self._lost(exc)
            return
        if not self.up:
            log.info("presence: redis reachable; this process's share is in sync")
        self.up = True
        self._synced = True
        self._emit(changes)

    def _emit(self, changes):
        for room, name, count, sign in changes:
            if self.on_change is not None:
                try:
                    self.on_change(room, name, "join" if sign > 0 else "leave", count)
                except Exception:
                    log.exception("presence change callback failed")

    def beat(self):
        """One heartbeat: renew, resync if needed, reap dead processes."""
        with self._lock:
            if not self._synced:
                self._sync()
                if not self._synced:
                    return
            try:
                known, *dead = self._beat(keys=[P + "procs"],
                                          args=[self.id, int(self.ttl * 1000)])
            except redis.RedisError as exc:
                self._lost(exc)
                return
            if not known:
                # Reaped while paused, or Redis lost its data: put our share back.
                log.warning("presence: this process's entry was gone from redis; resyncing")
                self._synced = False
                self._sync()
        if dead:
            try:
                changes = self._reap(keys=[P + "procs"], args=[P] + dead)
            except redis.RedisError as exc:
                self._lost(exc)
                return
            log.info("presence: reaped %d silent process(es); %d people left rooms",
                     len(dead), len(changes))
            self._emit(changes)

    def _heartbeat(self):
        while not self._closed:
            gevent.sleep(self.ttl / 3)
            try:
                self.beat()
            except Exception:
                log.exception("presence heartbeat failed")

    def detach(self):
        """Stop updating Redis per connection: a stopping process drops all its
        connections, and :meth:`close` then takes its whole share out in one
        script and reports who left (one round trip instead of one per
        connection and room)."""
        self._detached = True

    def close(self):
        """Stop the heartbeat and take this process's share out of Redis."""
        self._closed = True
        self._heart.kill(block=False)
        try:
            changes = self._reap(keys=[P + "procs"], args=[P, self.id])
        except redis.RedisError:
            return
        self._emit(changes)
        self.redis.close()
