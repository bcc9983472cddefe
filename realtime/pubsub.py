"""Broadcasts between processes: python-socketio's RedisManager, chat-aware.

    manager = ChatRedisManager(config.redis)
    sio = socketio.Server(client_manager=manager, ...)
    manager.chat = chat_namespace

A ``message`` stored by another process arrives here through Redis; before
it is delivered to this process's connections it passes the chat's join
hold-back (:meth:`ChatNamespace.hold`), exactly as a local broadcast does,
so a connection joining meanwhile gets each message once (in its join ack
or live, never both).  The manager emits to this process's connections
before it publishes, so local clients keep getting events while Redis is
down (the publish then fails and is logged).
"""

import socketio

from .store.redis import hide_password


class ChatRedisManager(socketio.RedisManager):
    """RedisManager whose remote ``message`` deliveries pass the chat's hold-back."""

    def __init__(self, url, **kwargs):
        # Fail fast on connect; no read timeout (the subscriber blocks on purpose).
        kwargs.setdefault("redis_options", {"socket_connect_timeout": 2})
        super().__init__(url, **kwargs)
        self.chat = None
        self.url = url

    def _handle_emit(self, message):
        if (self.chat is not None and message.get("host_id") != self.host_id
                and message.get("event") == "message" and message.get("namespace") == "/"):
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
