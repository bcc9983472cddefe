"""The SQLite schema and its migrations, versioned with ``PRAGMA user_version``.

Version 0 is a file of the first release (or a new, empty one); each step
brings a file from the version before it to its own.  A later release adds
a step to :data:`STEPS` and never edits an old one::

    migrate(conn)       # on open; a no-op once the file is current

Two processes opening an old file at once are safe: the steps run in one
``BEGIN IMMEDIATE`` transaction, which the second process waits for, and it
re-reads the version inside its own before doing anything.  A file written
by a newer release is refused rather than guessed at.
"""

import logging
import unicodedata

log = logging.getLogger("realtime.store")

# Release 1: messages, with (room, id) pages and idempotent (name, cid).
_V1 = [
    """CREATE TABLE IF NOT EXISTS messages (
        id   INTEGER PRIMARY KEY AUTOINCREMENT,
        room TEXT NOT NULL,
        name TEXT NOT NULL,
        text TEXT NOT NULL,
        ts   INTEGER NOT NULL,
        cid  TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS messages_room_id ON messages (room, id)",
    """CREATE UNIQUE INDEX IF NOT EXISTS messages_name_cid ON messages (name, cid)
        WHERE cid IS NOT NULL""",
    "CREATE TABLE IF NOT EXISTS health (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL)",
]

# Release 2: one log per room (updates share the messages' AUTOINCREMENT
# sequence), read markers, search.  Adding columns is O(1) in SQLite; the
# derived data (search index, counters) is built afterwards in the
# background, from the watermark meta.indexed up (SQLiteStore.index).
_V2 = [
    "ALTER TABLE messages ADD COLUMN reply_to INTEGER",
    "ALTER TABLE messages ADD COLUMN edited INTEGER",
    "ALTER TABLE messages ADD COLUMN deleted INTEGER",        # ms epoch, NULL while live
    "ALTER TABLE messages ADD COLUMN reactions TEXT",         # JSON {emoji: [names]}
    "CREATE INDEX messages_deleted ON messages (room, id) WHERE deleted IS NOT NULL",
    """CREATE TABLE updates (
        id     INTEGER PRIMARY KEY,
        room   TEXT NOT NULL,
        target INTEGER NOT NULL,
        entry  TEXT NOT NULL
    )""",
    "CREATE INDEX updates_room_id ON updates (room, id)",
    "CREATE INDEX updates_target ON updates (room, target)",
    # seen / own_seen: how many messages (own ones) had ids up to `read`
    # when it was set, so unread counts need no scan of what was read.
    """CREATE TABLE reads (
        room TEXT NOT NULL, name TEXT NOT NULL,
        read INTEGER NOT NULL, seen INTEGER NOT NULL, own_seen INTEGER NOT NULL,
        PRIMARY KEY (room, name)
    ) WITHOUT ROWID""",
    # Messages (deleted ones too) with id <= meta.indexed, per room and author.
    "CREATE TABLE room_stats (room TEXT PRIMARY KEY, messages INTEGER NOT NULL) WITHOUT ROWID",
    """CREATE TABLE author_stats (
        room TEXT NOT NULL, name TEXT NOT NULL, messages INTEGER NOT NULL,
        PRIMARY KEY (room, name)
    ) WITHOUT ROWID""",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID",
    # words: the text's words as realtime.words.joined() gives them (case
    # folded, space separated), so the plain `ascii` tokenizer splits exactly
    # where the contract's word rule does; room: 'x' + hex(room), one token.
    # Contentless (content=''): the index keeps no copy of the words; a row is
    # removed by giving its words again, which joined() recomputes exactly
    # from the message's text (the index is rebuilt if Unicode tables change).
    # detail=column: no phrase queries are needed (every query word is one token).
    """CREATE VIRTUAL TABLE search USING fts5(room, words, tokenize='ascii',
        prefix='1 2', detail=column, content='')""",
    "INSERT INTO meta (key, value) VALUES ('indexed', 0)",
]


# Release 2.1: retention.  A trimmed room remembers its top id (messages
# and updates), so the top a join reports never goes back, even when every
# message of the room is gone (the AUTOINCREMENT sequence never reuses ids).
_V3 = [
    "CREATE TABLE trimmed (room TEXT PRIMARY KEY, top INTEGER NOT NULL) WITHOUT ROWID",
]


def _unicode_step(conn):
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('unicode', ?)",
                 (unicodedata.unidata_version,))


#: (version, statements or a function of the connection), in order.
STEPS = [
    (1, _V1),
    (2, _V2 + [_unicode_step]),
    (3, _V3),
]
VERSION = STEPS[-1][0]


class NewerSchema(Exception):
    """The file was written by a newer release."""


def version(conn):
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn, path="the database"):
    """Bring the file to :data:`VERSION` (in one transaction); return the old version."""
    found = version(conn)
    if found == VERSION:
        return found
    if found > VERSION:
        raise NewerSchema("%s was written by a newer release (schema %d; this release "
                          "knows up to %d): upgrade realtime" % (path, found, VERSION))
    # A big file can take a while: the other process waits rather than fail.
    conn.execute("PRAGMA busy_timeout = 600000")
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = version(conn)
        existed = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                               "AND name = 'messages'").fetchone() is not None
        if found > VERSION:
            raise NewerSchema("%s was written by a newer release (schema %d)" % (path, found))
        for number, step in STEPS:
            if found < number:
                for statement in step:
                    if callable(statement):
                        statement(conn)
                    else:
                        conn.execute(statement)
        conn.execute("PRAGMA user_version = %d" % VERSION)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute("PRAGMA busy_timeout = 30000")
    if existed and found < VERSION:
        log.warning("%s: schema migrated from version %d to %d%s", path, found, VERSION,
                    "; the search index is built in the background" if found < 2 else "")
    return found
