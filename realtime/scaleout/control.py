"""Deployment-wide commands (kick, mute, disconnect) over one Redis pub/sub channel.

The methods are those of :class:`realtime.chat.control.LocalControl` (one process).

The chat hands a control its ``handler``, a function that carries out one
command on *this* process and returns how many connections it touched;
:meth:`request` runs a command on every process and returns the sum::

    control = RedisControl("redis://127.0.0.1:6379/0")   # or chat.control.LocalControl()
    control.handler = chat_moderation.execute             # fn(command) -> int
    removed = control.request({"op": "kick", "room": "lobby", "name": "eve", "by": "mod"})

A command is a small JSON object (``op`` plus its fields, see
:mod:`realtime.chat.moderation`).  How :class:`RedisControl` counts across
processes: request/reply with a bounded wait.  It runs the command here,
then publishes it on ``rt:ctl``; ``PUBLISH`` answers how many subscribers
got it, which is how many replies to wait for.  Every process (this one
too: it skips its own echo, counted as 0) subscribes to ``rt:ctl`` and to
its own inbox ``rt:ctl:{id}``, runs the command, and publishes its count
to the requester's inbox.  The wait ends when every reply is in (a few
milliseconds) or after ``wait`` seconds (a process that died meanwhile);
then the count covers the processes that answered, and a warning is
logged.  With Redis unreachable, the command runs on this process only.

Pub/sub keeps nothing for a subscriber that is away, so after every
(re)subscription ``on_subscribe`` runs: the chat reloads its mutes from the
store, where every mute is written before it is announced.
"""

import json
import logging
import uuid

import gevent
import gevent.event
import redis

from ..store.redis import client, hide_password

log = logging.getLogger("realtime.control")

CHANNEL = "rt:ctl"
WAIT = 2.0          # seconds a request waits for the other processes' replies, at most
RETRY_MAX = 1.0     # seconds between subscribe attempts, at most


def _dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _Pending:
    __slots__ = ("expected", "replies", "count", "done")

    def __init__(self):
        self.expected = None
        self.replies = 0
        self.count = 0
        self.done = gevent.event.Event()

    def reply(self, count):
        self.replies += 1
        self.count += count
        if self.expected is not None and self.replies >= self.expected:
            self.done.set()

    def expect(self, n):
        self.expected = n
        if self.replies >= n:
            self.done.set()


class RedisControl:
    """Commands for every process sharing one Redis (see the module docstring)."""

    kind = "redis"

    def __init__(self, url, wait=WAIT):
        self.url = url
        self.wait = wait
        self.id = uuid.uuid4().hex
        self.inbox = CHANNEL + ":" + self.id
        self.redis = client(url)
        self.handler = None         # fn(command) -> int
        self.on_subscribe = None    # fn() after each (re)subscription
        self.subscribed = False
        self._pending = {}          # request id -> _Pending
        self._closed = False
        self._pubsub = None
        self._listener = gevent.spawn(self._listen)

    # -- requests ---------------------------------------------------------

    def request(self, command, wait=None):
        """Run ``command`` on every process; return the sum of their counts."""
        count = self.handler(command)
        rid = uuid.uuid4().hex
        pending = self._pending[rid] = _Pending()
        try:
            try:
                # Replies may arrive while PUBLISH yields: registered before it.
                receivers = self.redis.publish(CHANNEL, _dumps(
                    {"id": rid, "from": self.id, "cmd": command}))
            except redis.RedisError as exc:
                log.warning("control: redis unavailable (%s); %s ran on this process "
                            "only", exc, command.get("op"))
                return count
            pending.expect(receivers)
            wait = self.wait if wait is None else wait
            if not pending.done.wait(wait):
                log.warning("control: %d of %d process(es) answered %s within %.1f s",
                            pending.replies, receivers, command.get("op"), wait)
            return count + pending.count
        finally:
            del self._pending[rid]

    # -- the subscriber ---------------------------------------------------

    def _listen(self):
        delay = 0.1
        failed = ever = False
        while not self._closed:
            try:
                # No read timeout: the subscriber waits for messages on purpose.
                conn = redis.Redis.from_url(self.url, socket_connect_timeout=2,
                                            socket_keepalive=True, decode_responses=True)
                self._pubsub = conn.pubsub(ignore_subscribe_messages=True)
                self._pubsub.subscribe(CHANNEL, self.inbox)
                self.subscribed = ever = True
                if failed:
                    log.warning("control: subscribed to redis again")
                failed = False
                delay = 0.1
                if self.on_subscribe is not None:
                    gevent.spawn(self._subscribed)
                for message in self._pubsub.listen():
                    if message.get("type") == "message":
                        self._received(message["channel"], message["data"])
            except Exception as exc:
                self.subscribed = False
                if self._closed:
                    return
                if not failed:
                    # Before the first subscription the start-up check has already
                    # said, in its one ERROR line, that Redis is not usable.
                    report = log.error if ever else log.warning
                    report("control: %s redis (%s); kicks and mutes from other "
                           "processes are missed until it is back",
                           "lost" if ever else "cannot subscribe to", exc)
                failed = True
                gevent.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)

    def _subscribed(self):
        try:
            self.on_subscribe()
        except Exception:
            log.exception("control: on_subscribe failed")

    def _received(self, channel, data):
        try:
            message = json.loads(data)
            rid = message["id"]
        except (ValueError, TypeError, KeyError):
            log.warning("control: ignoring a malformed message on %s", channel)
            return
        if channel == self.inbox:
            pending = self._pending.get(rid)
            if pending is not None:
                pending.reply(int(message.get("count") or 0))
            return
        sender = message.get("from")
        if sender == self.id:
            pending = self._pending.get(rid)
            if pending is not None:
                pending.reply(0)    # our own echo: already run by request()
            return
        # In arrival order, on this greenlet: commands of one sender stay in order.
        try:
            count = self.handler(message.get("cmd") or {}) if self.handler else 0
        except Exception:
            log.exception("control: command %r failed", message.get("cmd"))
            count = 0
        try:
            self.redis.publish(CHANNEL + ":" + str(sender), _dumps({"id": rid, "count": count}))
        except redis.RedisError as exc:
            log.warning("control: cannot answer %s (%s)", sender, exc)

    def describe(self):
        return hide_password(self.url)

    def close(self):
        self._closed = True
        self._listener.kill(block=False)
        try:
            if self._pubsub is not None:
                self._pubsub.close()
            self.redis.close()
        except Exception:
            pass
