"""The PostgreSQL store's schema as versioned steps, and how a database is brought up to date.

The schema is :data:`MIGRATIONS`, an ordered list of ``(version, what,
statements)``; :func:`migrate` applies the steps a database has not seen
yet, under an advisory lock, in one transaction, and records each in
``realtime_schema``.  A new feature appends a step (never edits an old one).

Tables (all prefixed ``realtime_`` so the database can be shared):

- ``realtime_rooms``: one row per room; ``last_id`` = the room's last id
  (messages and updates), ``messages`` = how many messages it holds
  (deleted ones too).  Every write of a room locks its row until commit: a
  second writer of the same room (any process) waits, then continues from
  the new value.  So within a room ids are strictly increasing *and*
  committed in id order, and a reader replaying ``since=N`` can never miss
  a smaller id that commits later (a global sequence cannot promise that).
- ``realtime_messages``: ``(room, id)`` is the key; ``cid`` unique per name;
  current state (``reply_to``, ``edited``, ``deleted`` = ms epoch or NULL,
  ``reactions`` = JSON); ``words``: a tsvector of the text's words
  (:func:`realtime.store.pg_log.words`), NULL until indexed (messages of a
  version-1 database, indexed in the background), empty once deleted; a
  GIN index serves search.  PostgreSQL text cannot hold NUL, so a text
  with NUL is stored escaped (``\\`` -> ``\\\\``, NUL -> ``\\0``) with
  ``escaped`` true; every other text is stored as sent.
- ``realtime_updates``: the room's edits, deletes and reactions, ``(room,
  id)`` the key, ``state`` the message after the change (JSON; rewritten to
  the deleted state when its message is deleted).
- ``realtime_authors``: messages per room and author (deleted ones too);
  ``realtime_reads``: read markers with ``seen`` / ``own_seen``, the
  number of messages (own messages) with ids up to the marker when it was
  set: unread counts need no scan (:mod:`realtime.store.pg_log`).
- ``realtime_health``: the probe write of ``/healthz`` after a failed write.
- ``realtime_dm_blocks``: sequence; each value is a block of dm ids.
"""

import logging

log = logging.getLogger("realtime.store")

#: key of the advisory lock that serialises schema changes between processes
MIGRATION_LOCK = 0x7274_0001          # "rt" 1

MIGRATIONS = [
    (1, "rooms with id counters, messages, cid index, health probe, dm id blocks", [
        """CREATE TABLE realtime_rooms (
               room    TEXT PRIMARY KEY,
               last_id BIGINT NOT NULL)""",
        """CREATE TABLE realtime_messages (
               room    TEXT NOT NULL,
               id      BIGINT NOT NULL,
               name    TEXT NOT NULL,
               text    TEXT NOT NULL,
               escaped BOOLEAN NOT NULL DEFAULT FALSE,
               ts      BIGINT NOT NULL,
               cid     TEXT,
               PRIMARY KEY (room, id))""",
        """CREATE UNIQUE INDEX realtime_messages_name_cid
               ON realtime_messages (name, cid) WHERE cid IS NOT NULL""",
        """CREATE TABLE realtime_health (
               id INTEGER PRIMARY KEY,
               ts BIGINT NOT NULL)""",
        "CREATE SEQUENCE realtime_dm_blocks",
    ]),
    # Adding nullable columns (and a column with a constant default) is
    # instant; the counters are one scan; words stay NULL for the messages
    # already there and are filled in the background (PostgresStore.index).
    (2, "one log per room: replies, edits, deletes, reactions, read markers, search", [
        "ALTER TABLE realtime_rooms ADD COLUMN messages BIGINT NOT NULL DEFAULT 0",
        """UPDATE realtime_rooms r SET messages = c.n
               FROM (SELECT room, count(*) AS n FROM realtime_messages GROUP BY room) c
               WHERE r.room = c.room""",
        """ALTER TABLE realtime_messages
               ADD COLUMN reply_to  BIGINT,
               ADD COLUMN edited    BIGINT,
               ADD COLUMN deleted   BIGINT,
               ADD COLUMN reactions TEXT,
               ADD COLUMN words     TSVECTOR""",
        "CREATE INDEX realtime_messages_words ON realtime_messages USING gin (words)",
        """CREATE INDEX realtime_messages_unindexed ON realtime_messages (room, id)
               WHERE words IS NULL""",
        """CREATE INDEX realtime_messages_deleted ON realtime_messages (room, id)
               WHERE deleted IS NOT NULL""",
        """CREATE TABLE realtime_updates (
               room   TEXT NOT NULL,
               id     BIGINT NOT NULL,
               target BIGINT NOT NULL,
               kind   TEXT NOT NULL,
               by     TEXT,
               ts     BIGINT NOT NULL,
               state  TEXT NOT NULL,
               PRIMARY KEY (room, id))""",
        "CREATE INDEX realtime_updates_target ON realtime_updates (room, target)",
        """CREATE TABLE realtime_authors (
               room     TEXT NOT NULL,
               name     TEXT NOT NULL,
               messages BIGINT NOT NULL,
               PRIMARY KEY (room, name))""",
        """INSERT INTO realtime_authors (room, name, messages)
               SELECT room, name, count(*) FROM realtime_messages GROUP BY room, name""",
        """CREATE TABLE realtime_reads (
               room     TEXT NOT NULL,
               name     TEXT NOT NULL,
               read     BIGINT NOT NULL,
               seen     BIGINT NOT NULL,
               own_seen BIGINT NOT NULL,
               PRIMARY KEY (room, name))""",
    ]),
]

LATEST = MIGRATIONS[-1][0]

LOCK = "SELECT pg_advisory_xact_lock(%s)"
SCHEMA_TABLE = """CREATE TABLE IF NOT EXISTS realtime_schema (
    version    INTEGER PRIMARY KEY,
    what       TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"""
SCHEMA_VERSION = "SELECT coalesce(max(version), 0) FROM realtime_schema"
SCHEMA_RECORD = "INSERT INTO realtime_schema (version, what) VALUES (%s, %s)"


def migrate(conn):
    """Bring the schema of ``conn``'s database to :data:`LATEST`; return the old version.

    One transaction under an advisory lock: a second process starting at the
    same moment waits, then finds the work done.  A database newer than this
    code raises ``ValueError``.
    """
    with conn.transaction():
        conn.execute(LOCK, (MIGRATION_LOCK,))
        conn.execute(SCHEMA_TABLE)
        current = conn.execute(SCHEMA_VERSION).fetchone()[0]
        if current > LATEST:
            raise ValueError("the PostgreSQL schema is at version %d, newer than this "
                             "server knows (%d): upgrade the server" % (current, LATEST))
        for version, what, statements in MIGRATIONS:
            if version > current:
                for statement in statements:
                    conn.execute(statement)
                conn.execute(SCHEMA_RECORD, (version, what))
                log.info("postgresql schema: applied version %d (%s)", version, what)
    if 0 < current < LATEST:
        log.warning("postgresql schema migrated from version %d to %d; the search index "
                    "of the messages already stored is built in the background",
                    current, LATEST)
    return current
