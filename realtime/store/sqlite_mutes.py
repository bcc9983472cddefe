"""The SQLite store's mutes: one small table, one row per (room, name).

The table is created with ``CREATE TABLE IF NOT EXISTS`` every time the
file is opened, not by a step of :mod:`.sqlite_schema`: so it needs no
schema version of its own and cannot clash with another change's
migration step (a file from before it simply gains the table).  Older
releases ignore it.  A change with an older ``ts`` than the stored row's
is not applied (the latest decision wins, whatever order two processes
write them in); a lifted or expired row is deleted a minute after it
ends, by the next mute written.
"""

PRUNE_AFTER = 60_000        # ms

TABLE = """CREATE TABLE IF NOT EXISTS mutes (
    room  TEXT NOT NULL,
    name  TEXT NOT NULL,
    until INTEGER NOT NULL,         -- ms epoch; 0: lifted
    ts    INTEGER NOT NULL,         -- when it was decided (ms epoch)
    by    TEXT,                     -- the moderator (NULL: the API)
    PRIMARY KEY (room, name)
) WITHOUT ROWID"""


def create(conn):
    conn.execute(TABLE)


def mute(conn, op):
    """Apply one :class:`~realtime.store.base.Mute` (inside the caller's transaction);
    return the ``until`` now in force."""
    conn.execute("INSERT INTO mutes (room, name, until, ts, by) VALUES (?, ?, ?, ?, ?) "
                 "ON CONFLICT (room, name) DO UPDATE SET until = excluded.until, "
                 "ts = excluded.ts, by = excluded.by WHERE excluded.ts >= mutes.ts",
                 (op.room, op.name, op.until, op.ts, op.by))
    conn.execute("DELETE FROM mutes WHERE until < ? AND ts < ?",
                 (op.ts - PRUNE_AFTER, op.ts - PRUNE_AFTER))
    row = conn.execute("SELECT until FROM mutes WHERE room = ? AND name = ?",
                       (op.room, op.name)).fetchone()
    return row[0] if row is not None else op.until


def active(conn, now):
    return [tuple(r) for r in conn.execute(
        "SELECT room, name, until, ts FROM mutes WHERE until > ?", (now,))]
