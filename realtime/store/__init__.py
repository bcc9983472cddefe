"""Message stores, chosen by URL scheme (the interface: :mod:`.base`)::

    store = open_store("sqlite:///realtime.db")   # or memory://, redis://, postgresql://...
"""

from .base import BadStoreURL, Delete, Edit, Mute, Post, React, Read, Refused, Snapshot, \
    Store, StoreError, message, update

__all__ = ["BadStoreURL", "Delete", "Edit", "Mute", "Post", "React", "Read", "Refused",
           "Snapshot", "Store", "StoreError", "message", "open_store", "update"]


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
            raise BadStoreURL("the redis store needs the redis package: "
                             "install realtime with its [redis] extra, or "
                             "pip install 'redis>=5' (%s)" % exc)
        return RedisStore(url)
    if scheme in ("postgresql", "postgres"):
        try:
            from .postgres import PostgresStore
        except ImportError as exc:
            raise BadStoreURL("the postgresql store needs psycopg 3 and psycopg_pool: "
                              "install realtime with its [postgres] extra, or "
                              "pip install 'psycopg[binary]>=3.1' 'psycopg-pool>=3.2' (%s)" % exc)
        return PostgresStore(url)
    raise BadStoreURL("unknown store URL scheme %r: use sqlite:///PATH, memory://, "
                      "redis://HOST:PORT/DB or postgresql://USER:PASS@HOST:PORT/DB" % scheme)
