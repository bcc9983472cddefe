"""``redis://host:port/db``: the log in Redis, shared by every server process.

    store = open_store("redis://127.0.0.1:6379/0")

Keys (all under the ``rt:`` prefix, one Redis, not Redis Cluster):

- ``rt:seq:{room}``: the room's last id (``INCR``), shared by messages and
  updates, so ids are unique and strictly increasing per room across every
  process and restart;
- ``rt:msgs:{room}``: sorted set, score = id, member = the message's JSON in
  its current state (an edit replaces the member);
- ``rt:upd:{room}``: sorted set of the room's updates (score = id);
  ``rt:tgt:{room}``: hash message id -> ids of its updates (``"58,61,"``),
  so a delete can scrub the earlier updates' copies of the message;
- ``rt:del:{room}``: sorted set of deleted message ids; ``rt:by:{room}:{name}``:
  sorted set of the person's live message ids; with ``ZCOUNT`` (O(log n))
  they give unread counts without a scan;
- ``rt:read:{room}``: hash name -> read marker;
- ``rt:cid:{name}``: hash cid -> ``{"room", "id"}`` (idempotent resends,
  scoped to the name whatever the room; a first-release value, the whole
  message, works the same);
- ``rt:mutes``: hash JSON ``[room, name]`` -> ``{"until", "ts", "by"}`` (mutes;
  a new field, so no layout version change);
- ``rt:dm``: counter for dm ids; ``rt:schema``: the key layout's version.

A post is one Lua script (cid check, ``INCR``, ``ZADD``); a batch of posts
is one ``MULTI``/``EXEC`` round trip.  An edit, delete or reaction reads the
message, computes its new state in Python (:mod:`realtime.store.entries`,
the same rules as every store) and commits it with a compare-and-set script
that also takes the update's id; a concurrent change of the same message
makes it read again.  An operation is acked once Redis has it; to survive
a crash of Redis itself run it with ``appendonly yes`` and ``appendfsync
always`` (see docs/deploy.md).

**Search** has no index here (Redis has no full-text engine without
modules): it scans the room's newest :attr:`RedisStore.search_scan`
messages (default 10,000), newest first, in pages of 500, and stops at
``limit`` matches.  Older messages are not found.  Cost: at most
``search_scan / 500`` round trips and one JSON decode and word match per
scanned message that contains every query word (a substring test on the
raw JSON rules out the rest first).

Under a gevent-patched process redis-py's sockets are cooperative, so the
store is not ``blocking``; a connection error becomes :class:`StoreError`
at once and the next call reconnects.
"""

import itertools
import json
import logging
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from . import entries
from .base import Delete, Edit, Mute, Post, React, Read, Refused, Snapshot, Store, \
    StoreError, as_op, hide_password  # noqa: F401  (hide_password is re-exported)
from .. import words as wordrule
from .redis_scripts import CHANGE as _CHANGE, MUTE as _MUTE, POST as _POST, READ as _READ, \
    REPLAY as _REPLAY

log = logging.getLogger("realtime.store")

PREFIX = "rt:"
SCHEMA = 2
SEARCH_SCAN = 10_000
_PAGE = 500
_CAS_TRIES = 20
_MUTE_PRUNE = 60_000      # ms: lifted or expired mutes are dropped this long after

def client(url, **kwargs):
    """A redis-py client that fails fast (one quick retry) instead of backing off."""
    kwargs.setdefault("socket_connect_timeout", 2)
    kwargs.setdefault("socket_timeout", 5)
    kwargs.setdefault("retry", Retry(NoBackoff(), 1))
    kwargs.setdefault("decode_responses", True)
    return redis.Redis.from_url(url, **kwargs)


def unavailable(exc):
    return StoreError("the message store is unavailable (redis: %s)" % exc)


def _dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _key(kind, room, name=None):
    return PREFIX + kind + ":" + room + ("" if name is None else ":" + name)


class RedisStore(Store):
    """The log in one Redis; safe to share between any number of processes."""

    blocking = False
    kind = "redis"
    keeps_mutes = True
    #: newest messages of a room that :meth:`search` looks at
    search_scan = SEARCH_SCAN

    def __init__(self, url):
        self.url = url
        self.redis = client(url)
        self._post = self.redis.register_script(_POST)
        self._change = self.redis.register_script(_CHANGE)
        self._read_script = self.redis.register_script(_READ)
        self._replay = self.redis.register_script(_REPLAY)
        self._mute = self.redis.register_script(_MUTE)
        self._migrated = False
        # Fallback dm ids while Redis is down: microseconds since the epoch,
        # far above any INCR value, so they never repeat one.
        self._dm_local = itertools.count(time.time_ns() // 1000)
        try:
            self._migrate()
        except redis.RedisError:
            pass            # Redis down at start: migrated on first use

    def _run(self, fn, *args):
        try:
            if not self._migrated:
                self._migrate()
            return fn(*args)
        except redis.RedisError as exc:
            raise unavailable(exc) from exc

    def _migrate(self):
        """First-release data: fill in each person's own-message ids (idempotent,
        so several processes may run it at once)."""
        if int(self.redis.get(PREFIX + "schema") or 0) >= SCHEMA:
            self._migrated = True
            return
        moved = 0
        for key in self.redis.scan_iter(match=PREFIX + "msgs:*", count=500):
            room = key[len(PREFIX + "msgs:"):]
            start = "-inf"
            while True:
                raw = self.redis.zrangebyscore(key, start, "+inf", 0, 1000)
                if not raw:
                    break
                pipe = self.redis.pipeline(transaction=False)
                for m in raw:
                    msg = json.loads(m)
                    if not msg.get("deleted"):
                        pipe.zadd(_key("by", room, msg["name"]), {msg["id"]: msg["id"]})
                pipe.execute()
                moved += len(raw)
                start = "(%d" % json.loads(raw[-1])["id"]
        self.redis.set(PREFIX + "schema", SCHEMA)
        if moved:
            log.warning("redis store: key layout migrated to version %d (%d messages)",
                        SCHEMA, moved)
        self._migrated = True

    # -- writes -----------------------------------------------------------

    def append_batch(self, items):
        return self._run(self._append_batch, items)

    def _append_batch(self, items):
        ops = [as_op(item) for item in items]
        out = [None] * len(ops)
        i = 0
        while i < len(ops):
            if type(ops[i]) is Post:
                j = i
                while j < len(ops) and type(ops[j]) is Post:
                    j += 1
                self._posts(ops, range(i, j), out)
                i = j
            else:
                try:
                    if isinstance(ops[i], Read):
                        out[i] = self._read_op(ops[i])
                    elif isinstance(ops[i], Mute):
                        out[i] = self._mute_op(ops[i])
                    else:
                        out[i] = self._change_op(ops[i])
                except Refused as exc:
                    out[i] = exc
                i += 1
        return out

    def _posts(self, ops, indexes, out):
        pipe = self.redis.pipeline(transaction=True)
        for i in indexes:
            op = ops[i]
            fields = {"room": op.room, "name": op.name, "text": op.text, "ts": op.ts}
            if op.reply_to is not None:
                fields["reply_to"] = op.reply_to
            self._post(keys=[_key("seq", op.room), _key("msgs", op.room),
                             PREFIX + "cid:" + op.name, _key("by", op.room, op.name)],
                       args=[op.cid or "", _dumps(fields)[1:],
                             "" if op.reply_to is None else op.reply_to,
                             json.dumps(op.room), PREFIX],
                       client=pipe)
        for i, (code, msg) in zip(indexes, pipe.execute()):
            if code == 2:
                out[i] = entries.bad_reply(ops[i].room)
            else:
                out[i] = (json.loads(msg), bool(code))

    def _change_op(self, op):
        for _ in range(_CAS_TRIES):
            raw = self.redis.zrangebyscore(_key("msgs", op.room), op.id, op.id)
            if not raw:
                raise entries.missing(op.room, op.id)
            state = json.loads(raw[0])
            if isinstance(op, Edit):
                kind, by, new = "edit", op.name, entries.edit(state, op.name, op.text, op.ts)
            elif isinstance(op, Delete):
                kind, by, new = "delete", op.by, entries.delete(state, op.by, op.moderator,
                                                               op.ts)
            elif isinstance(op, React):
                kind, by, new = "react", op.name, entries.react(state, op.name, op.emoji,
                                                               op.on)
            else:
                raise TypeError("unknown operation %r" % (op,))
            if new is None:
                return state, None
            tail = _dumps({"room": op.room, "kind": kind, "target": op.id, "by": by,
                           "ts": op.ts, "message": new})[1:]
            done, entry = self._change(
                keys=[_key("seq", op.room), _key("msgs", op.room), _key("upd", op.room),
                      _key("tgt", op.room), _key("del", op.room),
                      _key("by", op.room, state["name"])],
                args=[op.id, raw[0], _dumps(new), tail, kind])
            if done:
                return new, json.loads(entry)
        raise StoreError("the message store is unavailable (message %d changes too often)"
                         % op.id)

    def _read_op(self, op):
        marker, unread, moved = self._read_script(
            keys=[_key("seq", op.room), _key("read", op.room), _key("msgs", op.room),
                  _key("del", op.room), _key("by", op.room, op.name)],
            args=[op.name, op.id])
        if marker < 0:
            raise entries.above_top(op.id, op.room)
        return marker, unread, bool(moved)

    def _mute_op(self, op):
        return int(self._mute(keys=[PREFIX + "mutes"], args=[
            _dumps([op.room, op.name]), op.until, op.ts,
            _dumps({"until": op.until, "ts": op.ts, "by": op.by}), op.ts - _MUTE_PRUNE]))

    def mutes(self, now):
        found = []
        for field, value in self._run(self.redis.hgetall, PREFIX + "mutes").items():
            (room, name), value = json.loads(field), json.loads(value)
            if value["until"] > now:
                found.append((room, name, value["until"], value["ts"]))
        return found

    # -- reads ------------------------------------------------------------

    @staticmethod
    def _page(raw, limit, reverse):
        more = len(raw) > limit
        raw = raw[:limit]
        if reverse:
            raw.reverse()
        return [json.loads(m) for m in raw], more

    def latest(self, room, limit):
        raw = self._run(self.redis.zrevrange, _key("msgs", room), 0, limit)
        return self._page(raw, limit, True)

    def after(self, room, since, limit):
        raw = self._run(self.redis.zrangebyscore, _key("msgs", room),
                        "(%d" % since, "+inf", 0, limit + 1)
        return self._page(raw, limit, False)

    def before(self, room, before, limit):
        raw = self._run(self.redis.zrevrangebyscore, _key("msgs", room),
                        "(%d" % before, "-inf", 0, limit + 1)
        return self._page(raw, limit, True)

    def replay(self, room, since, limit, reader=None):
        top, read, unread, msgs, upds = self._run(
            self._replay,
            [_key("msgs", room), _key("upd", room), _key("seq", room), _key("read", room),
             _key("del", room), _key("by", room, reader or "")],
            ["" if since is None else since, limit, reader or ""])
        if since is None:
            history, more = self._page(msgs, limit, True)
            return Snapshot(history, [], more, top, read, unread)
        merged = sorted([json.loads(m) for m in msgs] + [json.loads(u) for u in upds],
                        key=lambda e: e["id"])
        more = len(merged) > limit
        merged = merged[:limit]
        return Snapshot([e for e in merged if "kind" not in e],
                        [e for e in merged if "kind" in e], more, top, read, unread)

    def search(self, room, words, limit):
        found = []
        scanned = 0
        start = "+inf"
        key = _key("msgs", room)
        while scanned < self.search_scan and len(found) < limit:
            page = min(_PAGE, self.search_scan - scanned)
            raw = self._run(self.redis.zrevrangebyscore, key, start, "-inf", 0, page)
            if not raw:
                break
            scanned += len(raw)
            for m in raw:
                folded = m.casefold()
                if all(w in folded for w in words):
                    msg = json.loads(m)
                    if not msg.get("deleted") and wordrule.matches(words, msg["text"]):
                        found.append(msg)
                        if len(found) == limit:
                            break
            start = "(%d" % json.loads(raw[-1])["id"]
        return found

    def has_room(self, room):
        return bool(self._run(self.redis.exists, _key("msgs", room)))

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
