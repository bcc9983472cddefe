"""Message stores, chosen by URL scheme (the interface: :mod:`.base`)::

    store = open_store("sqlite:///realtime.db")   # or memory://, redis://...
"""

from .base import Delete, Edit, Post, React, Read, Refused, Snapshot, Store, StoreError, \
    message, update

__all__ = ["Delete", "Edit", "Post", "React", "Read", "Refused", "Snapshot", "Store",
           "StoreError", "message", "open_store", "update"]


def open_store(url):
    """Open the store for ``url``; the scheme picks the backend."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        from .sqlite import SQLiteStore
        return SQLiteStore(url)
    if scheme == "memory":
        from .memory import MemoryStore
        return MemoryStore(url)
    if scheme in ("redis", "rediss", "unix"):
        try:
            from .redis import RedisStore
        except ImportError as exc:
            raise ValueError("the redis store needs the redis package: "
                             "pip install 'realtime-chat[redis]' (%s)" % exc)
        return RedisStore(url)
    raise ValueError("unknown store URL scheme %r: use sqlite:///PATH, memory:// "
                     "or redis://HOST:PORT/DB" % scheme)
