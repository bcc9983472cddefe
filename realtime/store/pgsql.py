"""Every SQL statement of the PostgreSQL store (the schema: :mod:`.pgschema`).

Arrays in, one round trip per statement: a batch of writes is a handful of
statements whatever its size.  ``words`` parameters are the text's words as
:func:`realtime.store.pg_log.words` gives them (space separated, the room's
``#room`` lexeme first); ``array_to_tsvector`` takes them as they are, so
PostgreSQL's own parser and dictionaries never see the text.
"""

from .pgschema import LATEST, MIGRATIONS

__all__ = ["LATEST", "MIGRATIONS"]    # re-exported: the schema's versions

DM_BLOCK = 1000                       # dm ids handed out per sequence value

#: message columns, as :func:`realtime.store.pg_log.message_row` reads them
COLUMNS = "id, room, name, text, escaped, ts, reply_to, edited, deleted, reactions"

# -- the message path: posts without reply_to, one statement ------------------

# One statement, so one round trip and one implicit transaction per batch.
# Parameters: parallel arrays room, name, text, escaped, ts, cid, words (one
# element per message, in batch order; in-batch cid resends already removed).
# A message whose (name, cid) is stored already takes no id; counters are
# bumped in room order (a fixed lock order between writers), author counts
# after them (so only under their room's lock).  Should a concurrent writer
# store the same (name, cid) meanwhile, the insert waits for it and then
# fails with a unique violation: the whole statement rolls back and the
# store runs it again (a plain insert is about half the cost of a
# speculative ON CONFLICT one).  Returns per input row, in order:
# ord, id, inserted.
APPEND = """
WITH given AS (
    SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::boolean[],
                         %s::bigint[], %s::text[], %s::text[])
        WITH ORDINALITY AS t(room, name, text, escaped, ts, cid, words, ord)
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
    INSERT INTO realtime_rooms AS r (room, last_id, messages)
    SELECT room, n, n FROM counts ORDER BY room
    ON CONFLICT (room) DO UPDATE SET last_id = r.last_id + excluded.last_id,
                                     messages = r.messages + excluded.messages
    RETURNING room, last_id
), numbered AS (
    SELECT i.*, b.last_id - c.n + row_number() OVER (PARTITION BY i.room ORDER BY i.ord) AS id
    FROM input i JOIN bumped b USING (room) JOIN counts c USING (room)
), stored AS (
    -- (name, cid) order: concurrent writers wait on each other's cids in one
    -- order, so they cannot deadlock on them.
    INSERT INTO realtime_messages (room, id, name, text, escaped, ts, cid, words)
    SELECT room, id, name, text, escaped, ts, cid,
           array_to_tsvector(string_to_array(words, ' ')) FROM numbered
    ORDER BY cid IS NULL, name, cid
), authors AS (
    INSERT INTO realtime_authors AS a (room, name, messages)
    SELECT room, name, count(*) FROM numbered GROUP BY room, name ORDER BY room, name
    ON CONFLICT (room, name) DO UPDATE SET messages = a.messages + excluded.messages
)
SELECT g.ord, n.id, n.id IS NOT NULL
FROM given g LEFT JOIN numbered n ON n.ord = g.ord
ORDER BY g.ord
"""

# The stored messages of (name, cid) pairs: parallel arrays name, cid.
BY_CID = ("SELECT m.id, m.room, m.name, m.text, m.escaped, m.ts, m.reply_to, m.edited, "
          "m.deleted, m.reactions, m.cid "
          "FROM realtime_messages m JOIN unnest(%s::text[], %s::text[]) AS k(name, cid) "
          "ON m.name = k.name AND m.cid = k.cid")

# -- the log: a transaction per batch (realtime.store.pg_log) ------------------

# New rooms of the batch's posts, then every room of the batch locked, both
# in room order (so writers of several rooms cannot deadlock).
CREATE_ROOMS = ("INSERT INTO realtime_rooms (room, last_id) "
                "SELECT room, 0 FROM unnest(%s::text[]) AS t(room) ORDER BY room "
                "ON CONFLICT (room) DO NOTHING")
LOCK_ROOMS = ("SELECT room, last_id FROM realtime_rooms WHERE room = ANY(%s::text[]) "
              "ORDER BY room FOR UPDATE")

# Current states of (room, id) pairs: parallel arrays room, id.
STATES = ("SELECT m.id, m.room, m.name, m.text, m.escaped, m.ts, m.reply_to, m.edited, "
          "m.deleted, m.reactions FROM realtime_messages m "
          "JOIN unnest(%s::text[], %s::bigint[]) AS k(room, id) USING (room, id)")

MARKERS = ("SELECT room, name, read, seen, own_seen FROM realtime_reads "
           "JOIN unnest(%s::text[], %s::text[]) AS k(room, name) USING (room, name)")

INSERT_POSTS = """
INSERT INTO realtime_messages (room, id, name, text, escaped, ts, cid, reply_to, words)
SELECT room, id, name, text, escaped, ts, cid, reply_to,
       array_to_tsvector(string_to_array(words, ' '))
FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::text[], %s::boolean[], %s::bigint[],
            %s::text[], %s::bigint[], %s::text[])
    AS t(room, id, name, text, escaped, ts, cid, reply_to, words)
ORDER BY cid IS NULL, name, cid
"""

# New states; words NULL keeps the stored ones (a reaction changes no word).
SET_STATES = """
UPDATE realtime_messages m SET text = v.text, escaped = v.escaped, edited = v.edited,
    deleted = v.deleted, reactions = v.reactions, reply_to = v.reply_to,
    words = CASE WHEN v.words IS NULL THEN m.words
                 ELSE array_to_tsvector(string_to_array(v.words, ' ')) END
FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::boolean[], %s::bigint[], %s::bigint[],
            %s::text[], %s::bigint[], %s::text[])
    AS v(room, id, text, escaped, edited, deleted, reactions, reply_to, words)
WHERE m.room = v.room AND m.id = v.id
"""

INSERT_UPDATES = """
INSERT INTO realtime_updates (room, id, target, kind, by, ts, state)
SELECT * FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::text[], %s::text[],
                     %s::bigint[], %s::text[])
"""

# A deleted message: every stored update of it carries the deleted state.
SCRUB = """
UPDATE realtime_updates u SET state = v.state
FROM unnest(%s::text[], %s::bigint[], %s::text[]) AS v(room, target, state)
WHERE u.room = v.room AND u.target = v.target AND u.state <> v.state
"""

SET_ROOMS = """
UPDATE realtime_rooms r SET last_id = v.last_id, messages = r.messages + v.n
FROM unnest(%s::text[], %s::bigint[], %s::bigint[]) AS v(room, last_id, n)
WHERE r.room = v.room
"""

ADD_AUTHORS = """
INSERT INTO realtime_authors AS a (room, name, messages)
SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[]) AS t(room, name, n)
ORDER BY room, name
ON CONFLICT (room, name) DO UPDATE SET messages = a.messages + excluded.messages
"""

SET_MARKERS = """
INSERT INTO realtime_reads AS r (room, name, read, seen, own_seen)
SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::bigint[], %s::bigint[])
ORDER BY 1, 2
ON CONFLICT (room, name) DO UPDATE SET read = excluded.read, seen = excluded.seen,
                                       own_seen = excluded.own_seen
"""

# What a read marker at %(id)s needs: the room's and the person's message
# totals, how many (own) messages lie above it (counting at most %(far)s),
# and the others' deleted messages above it.
COUNTS = """
SELECT coalesce((SELECT messages FROM realtime_rooms WHERE room = %(room)s), 0),
       coalesce((SELECT messages FROM realtime_authors
                 WHERE room = %(room)s AND name = %(name)s), 0),
       a.n, a.own,
       (SELECT count(*) FROM realtime_messages WHERE room = %(room)s AND id > %(id)s
        AND deleted IS NOT NULL AND name <> %(name)s)
FROM (SELECT count(*) AS n, count(*) FILTER (WHERE name = %(name)s) AS own
      FROM (SELECT name FROM realtime_messages WHERE room = %(room)s AND id > %(id)s
            ORDER BY id LIMIT %(far)s) x) a
"""

# Messages (own ones) with low < id <= high.
SPAN = ("SELECT count(*), count(*) FILTER (WHERE name = %s) FROM realtime_messages "
        "WHERE room = %s AND id > %s AND id <= %s")

# -- reads -------------------------------------------------------------------

LATEST_PAGE = ("SELECT %s FROM realtime_messages WHERE room = %%s "
               "ORDER BY id DESC LIMIT %%s" % COLUMNS)
AFTER_PAGE = ("SELECT %s FROM realtime_messages WHERE room = %%s AND id > %%s "
              "ORDER BY id LIMIT %%s" % COLUMNS)
BEFORE_PAGE = ("SELECT %s FROM realtime_messages WHERE room = %%s AND id < %%s "
               "ORDER BY id DESC LIMIT %%s" % COLUMNS)
UPDATES_AFTER = ("SELECT id, room, kind, target, by, ts, state FROM realtime_updates "
                 "WHERE room = %s AND id > %s ORDER BY id LIMIT %s")
HAS_ROOM = "SELECT EXISTS (SELECT 1 FROM realtime_messages WHERE room = %s)"

# The replay's snapshot (REPEATABLE READ): top, and the reader's marker with
# what its unread count needs.
SNAPSHOT_BEGIN = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
TOP = "SELECT coalesce((SELECT last_id FROM realtime_rooms WHERE room = %s), 0)"
READER = """
SELECT k.read, k.seen, k.own_seen,
       coalesce((SELECT messages FROM realtime_rooms WHERE room = %(room)s), 0),
       coalesce((SELECT messages FROM realtime_authors
                 WHERE room = %(room)s AND name = %(name)s), 0),
       (SELECT count(*) FROM realtime_messages WHERE room = %(room)s AND id > k.read
        AND deleted IS NOT NULL AND name <> %(name)s)
FROM (SELECT coalesce(max(read), 0) AS read, coalesce(max(seen), 0) AS seen,
             coalesce(max(own_seen), 0) AS own_seen
      FROM realtime_reads WHERE room = %(room)s AND name = %(name)s) k
"""

# Live messages of the room matching the tsquery, newest first, below an id.
# Two plans, chosen by the store rather than left to estimates of prefix
# matches: first the room's newest SEARCH_WINDOW ids (a backward scan of the
# key, bounded: common words end here), then the older ones through the GIN
# index only (`room || ''` and `id + 0` keep the key out of that plan, so a
# rare word costs its matches, not the room's size).
SEARCH_WINDOW = 2000
SEARCH_RECENT = ("SELECT %s FROM realtime_messages WHERE room = %%(room)s "
                 "AND id > coalesce((SELECT last_id FROM realtime_rooms WHERE room = %%(room)s), 0)"
                 " - %d AND id < %%(below)s AND words @@ %%(q)s::tsquery AND deleted IS NULL "
                 "ORDER BY id DESC LIMIT %%(limit)s" % (COLUMNS, SEARCH_WINDOW))
SEARCH_OLDER = ("SELECT %s FROM realtime_messages WHERE room || '' = %%(room)s "
                "AND words @@ %%(q)s::tsquery AND deleted IS NULL AND id + 0 < %%(below)s "
                "ORDER BY id + 0 DESC LIMIT %%(limit)s" % COLUMNS)

# -- derived data: words of messages a version-1 database already held --------

UNINDEXED = ("SELECT room, id, text, escaped FROM realtime_messages WHERE words IS NULL "
             "LIMIT %s")
SET_WORDS = """
UPDATE realtime_messages m SET words = array_to_tsvector(string_to_array(v.words, ' '))
FROM unnest(%s::text[], %s::bigint[], %s::text[]) AS v(room, id, words)
WHERE m.room = v.room AND m.id = v.id AND m.words IS NULL
"""

# -- the rest ----------------------------------------------------------------

PING = "SELECT 1"
PROBE_WRITE = ("INSERT INTO realtime_health (id, ts) VALUES (1, %s) "
               "ON CONFLICT (id) DO UPDATE SET ts = excluded.ts")
DM_BLOCK_NEXT = "SELECT nextval('realtime_dm_blocks')"
