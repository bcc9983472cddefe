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
