-- The version-1 PostgreSQL schema of realtime (made by make_pg_release1_sql.py).
-- Statements end with a line holding only ';'.
CREATE TABLE IF NOT EXISTS realtime_schema (
    version    INTEGER PRIMARY KEY,
    what       TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
;
CREATE TABLE realtime_rooms (
               room    TEXT PRIMARY KEY,
               last_id BIGINT NOT NULL)
;
CREATE TABLE realtime_messages (
               room    TEXT NOT NULL,
               id      BIGINT NOT NULL,
               name    TEXT NOT NULL,
               text    TEXT NOT NULL,
               escaped BOOLEAN NOT NULL DEFAULT FALSE,
               ts      BIGINT NOT NULL,
               cid     TEXT,
               PRIMARY KEY (room, id))
;
CREATE UNIQUE INDEX realtime_messages_name_cid
               ON realtime_messages (name, cid) WHERE cid IS NOT NULL
;
CREATE TABLE realtime_health (
               id INTEGER PRIMARY KEY,
               ts BIGINT NOT NULL)
;
CREATE SEQUENCE realtime_dm_blocks
;
INSERT INTO realtime_schema (version, what) VALUES (1, 'rooms with id counters, messages, cid index, health probe, dm id blocks')
;
