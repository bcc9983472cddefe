"""The store interface every backend implements (SQLite, memory, Redis, ...).

A store keeps one **log per room**: messages and updates (edit, delete,
react) share the room's id sequence, unique and strictly increasing within
the room across the whole deployment.  It also keeps each person's read
marker per room.  Methods are synchronous; the ``blocking`` flag tells the
chat layer (:class:`realtime.store.archive.Archive`) to run them in a thread
pool, off the gevent hub::

    store = open_store("sqlite:///realtime.db")
    [(msg, created)] = store.append_batch([Post("lobby", "alice", "hi", None, ts)])
    [(state, update)] = store.append_batch([React("lobby", msg["id"], "bob", "👍", True, ts)])
    messages, more = store.latest("lobby", 50)

**Writes** go through :meth:`Store.append_batch` only, as a list of
operations applied in order, atomically per operation, durable when it
returns.  An operation the rules refuse (editing another's message, a reply
to a deleted one, ...) yields a :class:`Refused` in its place; the others
still apply.  Operations and their results:

==========================================  ===========================================
operation                                   result
==========================================  ===========================================
``Post(room, name, text, cid, ts, reply_to)``  ``(message, created)``; ``created`` False
                                             for a resend of the same name + cid (the
                                             stored message, in its current state)
``Edit(room, id, name, text, ts)``          ``(message, update)``; ``update`` None when
``Delete(room, id, by, ts, moderator)``     nothing changed (same text, already deleted,
``React(room, id, name, emoji, on, ts)``    a reaction already there or already gone)
``Read(room, name, id)``                    ``(read, unread, moved)``
``Mute(room, name, until, by, ts)``         ``until`` in force after it (a change with
                                             an older ``ts`` than the stored one loses)
==========================================  ===========================================

A plain 5-tuple ``(room, name, text, cid, ts)`` is a ``Post`` (the first
release's form).  ``Delete.by`` is the name shown in the update (``None``
for an API or system delete, which needs ``moderator=True``).

**Reads** return messages in their current state (see :func:`message`):
:meth:`latest`, :meth:`before`, :meth:`after` (messages only, oldest first,
and whether more exist), :meth:`replay` (what ``join`` needs, in one
consistent snapshot), :meth:`search`, :meth:`has_room`, :meth:`mutes`
(stores with ``keeps_mutes``).

Extending it: a new kind of write is a new operation class handled by each
backend's ``append_batch`` (so it shares the group commit and ordering); a
new backend subclasses :class:`Store` and runs ``tests/test_store.py`` (add
its URL to ``STORES`` there).
"""

from typing import NamedTuple, Optional


class StoreError(Exception):
    """The store cannot serve the request right now (disk, network, ...)."""


class BadStoreURL(ValueError):
    """A store URL that no backend can use (unknown scheme, malformed path)."""


class Refused(Exception):
    """One operation broke a rule; ``str(exc)`` is the sentence for the client.

    Returned (not raised) in the result list of :meth:`Store.append_batch`.
    """


# -- operations -----------------------------------------------------------

class Post(NamedTuple):
    """A new message; ``reply_to`` must name a live message of the same room."""
    room: str
    name: str
    text: str
    cid: Optional[str]
    ts: int
    reply_to: Optional[int] = None


class Edit(NamedTuple):
    """New text for message ``id``; only its author (``name``) may."""
    room: str
    id: int
    name: str
    text: str
    ts: int


class Delete(NamedTuple):
    """Delete message ``id``: by its author, or anyone with ``moderator=True``."""
    room: str
    id: int
    by: Optional[str]
    ts: int
    moderator: bool = False


class React(NamedTuple):
    """Add (``on``) or remove ``name``'s ``emoji`` on message ``id``."""
    room: str
    id: int
    name: str
    emoji: str
    on: bool
    ts: int


class Read(NamedTuple):
    """Move ``name``'s read marker of ``room`` forward to ``id`` (never back)."""
    room: str
    name: str
    id: int


class Mute(NamedTuple):
    """Mute ``name`` in ``room`` until ``until`` (ms epoch; 0 lifts), set at ``ts``
    by ``by`` (None: the API or the system).  Per (room, name) the change with the
    latest ``ts`` wins, whatever order they are written in."""
    room: str
    name: str
    until: int
    by: Optional[str]
    ts: int


class Snapshot(NamedTuple):
    """What :meth:`Store.replay` returns for a join.

    ``top`` is the room's highest id (messages and updates) when the
    snapshot was read; ``read`` and ``unread`` are the reader's marker and
    unread count (0 without a reader).
    """
    history: list
    updates: list
    more: bool
    top: int
    read: int
    unread: int


#: Limits every backend applies.
MAX_REACTIONS = 20          # distinct emoji per message


# -- entries --------------------------------------------------------------

def message(id, room, name, text, ts, reply_to=None, edited=None, deleted=False,
            reactions=None):
    """The message object as stored, broadcast and replayed (optional fields only
    when they apply)."""
    msg = {"id": id, "room": room, "name": name, "text": text, "ts": ts}
    if deleted:
        msg["deleted"] = True
        return msg
    if reply_to is not None:
        msg["reply_to"] = reply_to
    if edited is not None:
        msg["edited"] = edited
    if reactions:
        msg["reactions"] = reactions
    return msg


def update(id, room, kind, target, by, ts, state):
    """The update object: ``kind`` edit/delete/react of ``target``, with its new state."""
    return {"id": id, "room": room, "kind": kind, "target": target, "by": by, "ts": ts,
            "message": state}


def is_update(entry):
    """Whether a log entry is an update (else a message)."""
    return "kind" in entry


class Store:
    """Base class: subclasses implement the methods below."""

    #: True when calls do blocking C work (run them in a thread pool).
    blocking = False
    #: short backend name for logs and /healthz
    kind = "base"
    #: True when :meth:`index` has background work (derived search data)
    indexes = False
    #: True when the store keeps :class:`Mute` changes (see :meth:`mutes`)
    keeps_mutes = False

    def append_batch(self, items):
        """Apply the operations ``items`` in order (see the module docstring).

        Returns one result per item (or a :class:`Refused`).  Only returns
        once every change is durable; raises :class:`StoreError` (nothing
        applied) when the store fails.
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

    def replay(self, room, since, limit, reader=None):
        """A :class:`Snapshot` for ``join``, read consistently.

        Without ``since``: the last ``limit`` messages and no updates
        (``more``: older messages exist).  With ``since``: the oldest
        ``limit`` log entries with ``id > since``, split into messages and
        updates (``more``: entries were left out).  ``reader`` (a name) adds
        that person's read marker and unread count.
        """
        raise NotImplementedError

    def search(self, room, words, limit):
        """Live messages of ``room`` matching every query word, newest first.

        ``words`` are the query's words (:func:`realtime.words.words`); a
        message matches when each is the start of one of its words
        (:func:`realtime.words.matches`).
        """
        raise NotImplementedError

    def has_room(self, room):
        """Whether ``room`` has any stored message."""
        raise NotImplementedError

    def mutes(self, now):
        """``[(room, name, until, ts)]``: the mutes still in force at ``now`` (ms epoch).

        Stores without ``keeps_mutes`` never get a :class:`Mute`, and have none.
        """
        return []

    def next_dm_id(self):
        """A fresh integer id for a direct message (not stored)."""
        raise NotImplementedError

    def index(self, limit):
        """Bring derived data (search index, counters) up to date by up to
        ``limit`` messages; return how many were done (0: up to date)."""
        return 0

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


def as_op(item):
    """A plain first-release tuple becomes a :class:`Post`; operations pass through."""
    return Post(*item) if type(item) is tuple else item
