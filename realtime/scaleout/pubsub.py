"""Broadcasts between processes: python-socketio's RedisManager, chat-aware.

    manager = ChatRedisManager(config.redis)
    sio = socketio.Server(client_manager=manager, ...)
    manager.chat = chat_namespace

A ``message`` or ``update`` stored by another process arrives here through
Redis; before it is delivered to this process's connections it passes the
chat's join hold-back (:meth:`ChatNamespace.hold`), exactly as a local
broadcast does, so a connection joining meanwhile gets each entry once (in
its join ack or live, never both).  The manager emits to this process's connections
before it publishes, so local clients keep getting events while Redis is
down (the publish then fails and is logged).

Pub/sub does not queue: what other processes broadcast while this one's
subscriber is disconnected is lost for its clients.  So after any
subscriber outage the subscriber retries every second at most, and once it
is back ``on_resubscribe`` runs: the app drops its connections, and the
clients reconnect and replay what they missed with ``join`` + ``since``
(the messages themselves are in the store).
"""

import logging
import time

import socketio

from ..store.redis import hide_password

log = logging.getLogger("realtime.pubsub")

RETRY_MAX = 1.0     # seconds between subscribe attempts, at most
HELD = ("message", "update")    # log entries: they pass the join hold-back


class ChatRedisManager(socketio.RedisManager):
    """RedisManager whose remote ``message`` and ``update`` deliveries pass the chat's
    hold-back."""

    def __init__(self, url, **kwargs):
        # Fail fast on connect; no read timeout (the subscriber blocks on purpose).
        kwargs.setdefault("redis_options", {"socket_connect_timeout": 2})
        super().__init__(url, **kwargs)
        self.chat = None
        self.url = url
        self.on_resubscribe = None      # fn() after a subscriber outage ended
        self._publish_failing = False

    def _publish(self, data):
        """Publish to the other processes; during an outage log once, not per event."""
        for attempt in (1, 2):          # a stale connection after a Redis restart
            try:
                if not self.connected:
                    self._redis_connect()
                result = self.redis.publish(self.channel, self.json.dumps(data))
            except Exception as exc:
                self.connected = False
                error = exc
                continue
            if self._publish_failing:
                log.warning("message queue: publishing to redis again")
                self._publish_failing = False
            return result
        if not self._publish_failing:
            log.error("message queue: cannot publish to redis (%s); this process's "
                      "events reach only its own clients until it is back", error)
            self._publish_failing = True
        return None

    def _redis_listen_with_retries(self):
        """Subscribe; after a failure retry quickly and report the recovery."""
        delay = 0.1
        failed = False
        while True:
            try:
                self._redis_connect()
                self.pubsub.subscribe(self.channel)
                if failed:
                    log.warning("message queue: subscribed to redis again")
                    failed = False
                    if self.on_resubscribe is not None:
                        self.on_resubscribe()
                delay = 0.1
                yield from self.pubsub.listen()
            except Exception as exc:
                if not failed:
                    log.error("message queue: lost redis (%s); broadcasts from other "
                              "processes are missed until it is back", exc)
                failed = True
                time.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)

    def _handle_emit(self, message):
        if (self.chat is not None and message.get("host_id") != self.host_id
                and message.get("event") in HELD and message.get("namespace") == "/"):
            data = message.get("data")
            msg = data[0] if isinstance(data, list) and len(data) == 1 else None
            room = message.get("room")
            if isinstance(msg, dict) and isinstance(room, str):
                held = self.chat.hold(room, msg)
                if held:
                    skip = message.get("skip_sid") or []
                    skip = [skip] if isinstance(skip, str) else list(skip)
                    message = dict(message, skip_sid=skip + held)
        return super()._handle_emit(message)

    def describe(self):
        return hide_password(self.url)
