"""Message stores, chosen by URL scheme::

    store = open_store("sqlite:///realtime.db")   # or memory://, redis://, postgresql://...
"""

from .base import Store, StoreError, message

__all__ = ["Store", "StoreError", "message", "open_store"]


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
    if scheme in ("postgresql", "postgres"):
        try:
            from .postgres import PostgresStore
        except ImportError as exc:
            raise ValueError("the postgresql store needs psycopg 3 and psycopg_pool: "
                             "pip install 'realtime-chat[postgres]' (%s)" % exc)
        return PostgresStore(url)
    raise ValueError("unknown store URL scheme %r: use sqlite:///PATH, memory://, "
                     "redis://HOST:PORT/DB or postgresql://USER:PASS@HOST:PORT/DB" % scheme)
