"""Every SQL statement of the PostgreSQL store, and its schema as versioned steps.

The schema is :data:`MIGRATIONS`, an ordered list of ``(version, what,
statements)``; :func:`realtime.store.postgres.migrate` applies the steps a
database has not seen yet, under an advisory lock, in one transaction, and
records each in ``realtime_schema``.  A new feature appends a step (never
edits an old one) and adds its queries here.

Tables (all prefixed ``realtime_`` so the database can be shared):

- ``realtime_rooms``: one row per room, ``last_id`` = the room's last id.
  An append bumps it with ``INSERT ... ON CONFLICT DO UPDATE``, which keeps
  the row locked until the transaction commits: a second writer of the same
  room (any process) waits, then continues from the new value.  So within a
  room, ids are strictly increasing *and* committed in id order, and a
  reader replaying ``since=N`` can never miss a smaller id that commits
  later (a global sequence cannot promise that).  Every kind of room entry
  takes its id from this counter.
- ``realtime_messages``: ``(room, id)`` is the key; ``cid`` unique per name.
  PostgreSQL text cannot hold NUL, so a text with NUL is stored escaped
  (``\\`` -> ``\\\\``, NUL -> ``\\0``) with ``escaped`` true; every other text
  is stored as sent.
- ``realtime_health``: the probe write of ``/healthz`` after a failed write.
- ``realtime_dm_blocks``: sequence; each value is a block of dm ids.
"""

#: key of the advisory lock that serialises schema changes between processes
MIGRATION_LOCK = 0x7274_0001          # "rt" 1

DM_BLOCK = 1000                       # dm ids handed out per sequence value

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
]

LATEST = MIGRATIONS[-1][0]

# -- schema bookkeeping ------------------------------------------------------

LOCK = "SELECT pg_advisory_xact_lock(%s)"
SCHEMA_TABLE = """CREATE TABLE IF NOT EXISTS realtime_schema (
    version    INTEGER PRIMARY KEY,
    what       TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"""
SCHEMA_VERSION = "SELECT coalesce(max(version), 0) FROM realtime_schema"
SCHEMA_RECORD = "INSERT INTO realtime_schema (version, what) VALUES (%s, %s)"

# -- appends -----------------------------------------------------------------

# One statement, so one round trip and one implicit transaction per batch.
# Parameters: parallel arrays room, name, text, escaped, ts, cid (one element
# per message, in batch order; in-batch cid resends already removed).
# A message whose (name, cid) is stored already takes no id; counters are
# bumped in room order (a fixed lock order between writers).  Should a
# concurrent writer store the same (name, cid) meanwhile, the insert waits for
# it and then fails with a unique violation: the whole statement rolls back
# and the store runs it again (a plain insert is about half the cost of a
# speculative ON CONFLICT one).  Returns per input row, in order:
# ord, id, inserted.
APPEND = """
WITH given AS (
    SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::boolean[],
                         %s::bigint[], %s::text[])
        WITH ORDINALITY AS t(room, name, text, escaped, ts, cid, ord)
), input AS (
    -- LATERAL + LIMIT: one index probe per message, whatever the plan (a
    -- NOT EXISTS under OR may become a hashed scan of the whole table).
    SELECT g.* FROM given g LEFT JOIN LATERAL (
        SELECT 1 AS hit FROM realtime_messages m
        WHERE g.cid IS NOT NULL AND m.name = g.name AND m.cid = g.cid LIMIT 1) old ON TRUE
    WHERE old.hit IS NULL
), counts AS (
    SELECT room, count(*) AS n FROM input GROUP BY room
), bumped AS (
    INSERT INTO realtime_rooms AS r (room, last_id)
    SELECT room, n FROM counts ORDER BY room
    ON CONFLICT (room) DO UPDATE SET last_id = r.last_id + excluded.last_id
    RETURNING room, last_id
), numbered AS (
    SELECT i.*, b.last_id - c.n + row_number() OVER (PARTITION BY i.room ORDER BY i.ord) AS id
    FROM input i JOIN bumped b USING (room) JOIN counts c USING (room)
), stored AS (
    -- (name, cid) order: concurrent writers wait on each other's cids in one
    -- order, so they cannot deadlock on them.
    INSERT INTO realtime_messages (room, id, name, text, escaped, ts, cid)
    SELECT room, id, name, text, escaped, ts, cid FROM numbered
    ORDER BY cid IS NULL, name, cid
)
SELECT g.ord, n.id, n.id IS NOT NULL
FROM given g LEFT JOIN numbered n ON n.ord = g.ord
ORDER BY g.ord
"""

_COLUMNS = "id, room, name, text, escaped, ts"

# The stored messages of (name, cid) pairs: parallel arrays name, cid.
BY_CID = ("SELECT m.id, m.room, m.name, m.text, m.escaped, m.ts, m.cid "
          "FROM realtime_messages m JOIN unnest(%s::text[], %s::text[]) AS k(name, cid) "
          "ON m.name = k.name AND m.cid = k.cid")

# -- reads -------------------------------------------------------------------

LATEST_PAGE = ("SELECT %s FROM realtime_messages WHERE room = %%s "
               "ORDER BY id DESC LIMIT %%s" % _COLUMNS)
AFTER_PAGE = ("SELECT %s FROM realtime_messages WHERE room = %%s AND id > %%s "
              "ORDER BY id LIMIT %%s" % _COLUMNS)
BEFORE_PAGE = ("SELECT %s FROM realtime_messages WHERE room = %%s AND id < %%s "
               "ORDER BY id DESC LIMIT %%s" % _COLUMNS)
HAS_ROOM = "SELECT EXISTS (SELECT 1 FROM realtime_messages WHERE room = %s)"

# -- the rest ----------------------------------------------------------------

PING = "SELECT 1"
PROBE_WRITE = ("INSERT INTO realtime_health (id, ts) VALUES (1, %s) "
               "ON CONFLICT (id) DO UPDATE SET ts = excluded.ts")
DM_BLOCK_NEXT = "SELECT nextval('realtime_dm_blocks')"
