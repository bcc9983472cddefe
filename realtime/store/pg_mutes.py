"""The PostgreSQL store's mutes: one small table, ``realtime_mutes``, a row per (room, name).

The table is created with ``CREATE TABLE IF NOT EXISTS`` whenever a
process opens the store (under the schema's advisory lock, so processes
starting together do not race), not by a step of :mod:`.pgschema`: it
needs no schema version of its own and cannot clash with another
change's migration step.  As in every store, a change with an older
``ts`` than the stored row's is not applied (the latest decision wins,
whatever order processes write them in), and a lifted or expired row is
deleted a minute after it ends, by the next mute written.
"""

from .pgschema import LOCK, MIGRATION_LOCK

PRUNE_AFTER = 60_000        # ms

TABLE = """CREATE TABLE IF NOT EXISTS realtime_mutes (
    room      TEXT NOT NULL,
    name      TEXT NOT NULL,
    until_ms  BIGINT NOT NULL,          -- ms epoch; 0: lifted
    ts        BIGINT NOT NULL,          -- when it was decided (ms epoch)
    moderator TEXT,                     -- who (NULL: the API)
    PRIMARY KEY (room, name))"""

UPSERT = """INSERT INTO realtime_mutes (room, name, until_ms, ts, moderator)
    VALUES (%s, %s, %s, %s, %s)
    ON CONFLICT (room, name) DO UPDATE SET until_ms = EXCLUDED.until_ms,
        ts = EXCLUDED.ts, moderator = EXCLUDED.moderator
    WHERE realtime_mutes.ts <= EXCLUDED.ts"""
PRUNE = "DELETE FROM realtime_mutes WHERE until_ms < %s AND ts < %s"
UNTIL = "SELECT until_ms FROM realtime_mutes WHERE room = %s AND name = %s"
ACTIVE = "SELECT room, name, until_ms, ts FROM realtime_mutes WHERE until_ms > %s"


def create(conn):
    with conn.transaction():
        conn.execute(LOCK, (MIGRATION_LOCK,))
        conn.execute(TABLE)


def mute(conn, op):
    """Apply one :class:`~realtime.store.base.Mute` inside the caller's transaction;
    return the ``until`` now in force."""
    conn.execute(UPSERT, (op.room, op.name, op.until, op.ts, op.by))
    conn.execute(PRUNE, (op.ts - PRUNE_AFTER, op.ts - PRUNE_AFTER))
    row = conn.execute(UNTIL, (op.room, op.name)).fetchone()
    return row[0] if row is not None else op.until


def active(conn, now):
    return [tuple(row) for row in conn.execute(ACTIVE, (now,)).fetchall()]
