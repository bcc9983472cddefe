"""Post into chat rooms from another process: a cron job, a worker, a deploy script.

The servers must run with ``--redis URL`` (their broadcasts go through
Redis).  An :class:`Emitter` stores the message in the servers' store first,
then publishes it through python-socketio's write-only Redis manager, so every
server process delivers it to the room, and a client that was offline gets
it later through ``join`` with ``since``, like any other message::

    from realtime import Emitter

    emitter = Emitter("redis://127.0.0.1:6379/0", store="sqlite:////srv/chat/realtime.db")
    msg = emitter.post("lobby", "Deploy 1.4 finished.", name="deploybot", cid="deploy-1.4")
    emitter.close()

``store`` is the servers' ``--store`` URL; left out, it is the Redis URL
itself (what the servers use with ``--redis`` and no ``--store``).  The
message is an ordinary one: ``name`` is who it is from (default
``system``), ``cid`` makes a retry idempotent (the same name and cid are
stored and broadcast once).  Calls block: inside a gevent server process,
run them in a thread pool.  Needs ``pip install 'realtime-chat[redis]'``.
"""

import time

from . import rules
from .store import open_store

SYSTEM_NAME = "system"
# python-socketio's default channel: what the servers' RedisManager listens on.
CHANNEL = "socketio"


class Emitter:
    """Stores a message, then broadcasts it to the room through Redis."""

    def __init__(self, redis, store=None, max_text=2000, channel=CHANNEL):
        import socketio
        self.store = open_store(store or redis)
        self.max_text = max_text
        self.manager = socketio.RedisManager(redis, channel=channel, write_only=True)

    @classmethod
    def from_config(cls, config):
        """An emitter for the servers run with ``config`` (a :class:`realtime.Config`)."""
        if not config.redis:
            raise ValueError("the emitter needs the servers' Redis URL (--redis)")
        from .app import store_url   # the servers' own choice of store
        return cls(config.redis, store=store_url(config), max_text=config.max_text)

    def post(self, room, text, name=SYSTEM_NAME, cid=None):
        """Store ``text`` in ``room`` as ``name`` and broadcast it; return the message.

        Raises ``ValueError`` with the reason for a bad room, text, name or
        cid (the same rules as a client's ``message``), and
        :class:`realtime.store.StoreError` when the store is unavailable
        (then nothing was broadcast).
        """
        name = rules.check_name(name)
        room, text, cid = rules.check_message({"room": room, "text": text, "cid": cid},
                                              self.max_text)
        [(msg, created)] = self.store.append_batch(
            [(room, name, text, cid, time.time_ns() // 1_000_000)])
        if created:
            # Stored first: a client joining with `since` can never miss it.
            self.manager.emit("message", msg, namespace="/", room=room)
        return msg

    def close(self):
        """Release the store (the Redis connection closes with the process)."""
        self.store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
