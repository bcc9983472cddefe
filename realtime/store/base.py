"""The message store interface every backend implements.

A store keeps messages per room with ids that are unique and strictly
increasing within a room across the whole deployment, and makes a resend
with the same ``(name, cid)`` idempotent.  Methods are synchronous; the
``blocking`` flag tells the chat layer to run them off the gevent hub::

    store = open_store("sqlite:///realtime.db")
    [(msg, created)] = store.append_batch([("lobby", "alice", "hi", None, ts)])
    messages, more = store.latest("lobby", 50)
"""


class StoreError(Exception):
    """The store cannot serve the request right now (disk, network, ...)."""


class BadStoreURL(ValueError):
    """A store URL that no backend can use (unknown scheme, malformed path)."""


def message(id, room, name, text, ts):
    """The message object as stored, broadcast and replayed."""
    return {"id": id, "room": room, "name": name, "text": text, "ts": ts}


class Store:
    """Base class: subclasses implement the methods below."""

    #: True when calls do blocking C work (run them in a thread pool).
    blocking = False
    #: short backend name for logs and /healthz
    kind = "base"

    def append_batch(self, items):
        """Store ``[(room, name, text, cid, ts), ...]`` atomically, in order.

        Returns ``[(message, created), ...]``: ``created`` is False when the
        same name and cid were stored before (the earlier message returned).
        Only returns once the batch is durable.
        """
        raise NotImplementedError

    def latest(self, room, limit):
        """The last ``limit`` messages, oldest first, and whether older exist."""
        raise NotImplementedError

    def after(self, room, since, limit):
        """The oldest ``limit`` messages with ``id > since``, and whether more exist."""
        raise NotImplementedError

    def before(self, room, before, limit):
        """The newest ``limit`` messages with ``id < before``, oldest first, and more."""
        raise NotImplementedError

    def has_room(self, room):
        """Whether ``room`` has any stored message."""
        raise NotImplementedError

    def next_dm_id(self):
        """A fresh integer id for a direct message (not stored)."""
        raise NotImplementedError

    def ping(self):
        """Raise :class:`StoreError` unless the store works."""

    def probe_write(self):
        """Raise :class:`StoreError` unless a small write succeeds (after a failed one)."""
        self.ping()

    def describe(self):
        """The store's URL with any password hidden, for logs."""
        return self.kind

    def close(self):
        """Release connections and files."""


def hide_password(url):
    """``url`` with its password (if any) replaced by ``***``, for logs."""
    from urllib.parse import urlsplit, urlunsplit
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = "%s:***@%s" % (parts.username or "", parts.hostname or "")
    if parts.port:
        netloc += ":%d" % parts.port
    return urlunsplit(parts._replace(netloc=netloc))
