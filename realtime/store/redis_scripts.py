"""The Redis store's Lua scripts (each runs atomically inside Redis).

Key and argument lists are documented above each; :mod:`.redis` calls them.
"""

# KEYS: seq, msgs, cid hash, own ids.  ARGV: cid ('' for none), the message
# JSON after its id, reply_to ('' for none), room JSON, prefix.
POST = """
if ARGV[1] ~= '' then
  local old = redis.call('HGET', KEYS[3], ARGV[1])
  if old then
    local ref = cjson.decode(old)
    local cur = redis.call('ZRANGEBYSCORE', ARGV[5] .. 'msgs:' .. ref.room, ref.id, ref.id)
    return {0, cur[1] or old}
  end
end
if ARGV[3] ~= '' then
  local t = redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[3], ARGV[3])
  if #t == 0 or cjson.decode(t[1]).deleted then return {2, ''} end
end
local id = redis.call('INCR', KEYS[1])
local msg = '{"id":' .. id .. ',' .. ARGV[2]
redis.call('ZADD', KEYS[2], id, msg)
redis.call('ZADD', KEYS[4], id, id)
if ARGV[1] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[1], '{"room":' .. ARGV[4] .. ',"id":' .. id .. '}')
end
return {1, msg}
"""

# KEYS: seq, msgs, upd, tgt, del, author's own ids.  ARGV: target id, the
# state JSON read, the new state JSON, the update JSON after its id, kind.
CHANGE = """
local cur = redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[1], ARGV[1])
if cur[1] ~= ARGV[2] then return {0, ''} end
local uid = redis.call('INCR', KEYS[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], ARGV[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[3])
local entry = '{"id":' .. uid .. ',' .. ARGV[4]
local olds = redis.call('HGET', KEYS[4], ARGV[1]) or ''
if ARGV[5] == 'delete' then
  redis.call('ZADD', KEYS[5], ARGV[1], ARGV[1])
  redis.call('ZREM', KEYS[6], ARGV[1])
  local state = cjson.decode(ARGV[3])
  for oid in string.gmatch(olds, '%d+') do
    local e = redis.call('ZRANGEBYSCORE', KEYS[3], oid, oid)
    if e[1] then
      local u = cjson.decode(e[1])
      u.message = state
      redis.call('ZREMRANGEBYSCORE', KEYS[3], oid, oid)
      redis.call('ZADD', KEYS[3], oid, cjson.encode(u))
    end
  end
end
redis.call('ZADD', KEYS[3], uid, entry)
redis.call('HSET', KEYS[4], ARGV[1], olds .. uid .. ',')
return {1, entry}
"""

_UNREAD = """
local function unread(msgs, del, own, marker)
  local m = '(' .. marker
  return redis.call('ZCOUNT', msgs, m, '+inf') - redis.call('ZCOUNT', del, m, '+inf')
         - redis.call('ZCOUNT', own, m, '+inf')
end
"""

# KEYS: seq, read hash, msgs, del, reader's own ids.  ARGV: name, id.
READ = _UNREAD + """
local top = tonumber(redis.call('GET', KEYS[1]) or '0')
local id = tonumber(ARGV[2])
if id > top then return {-1, 0, 0} end
local cur = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local moved = 0
if id > cur then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  cur = id
  moved = 1
end
return {cur, unread(KEYS[3], KEYS[4], KEYS[5], cur), moved}
"""

# KEYS: msgs, upd, seq, read hash, del, reader's own ids.
# ARGV: since ('' for the latest page), limit, reader ('' for none).
REPLAY = _UNREAD + """
local limit = tonumber(ARGV[2])
local msgs, upds
if ARGV[1] == '' then
  msgs = redis.call('ZREVRANGE', KEYS[1], 0, limit)
  upds = {}
else
  msgs = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'LIMIT', 0, limit + 1)
  upds = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf', 'LIMIT', 0, limit + 1)
end
local top = tonumber(redis.call('GET', KEYS[3]) or '0')
local read, count = 0, 0
if ARGV[3] ~= '' then
  read = tonumber(redis.call('HGET', KEYS[4], ARGV[3]) or '0')
  count = unread(KEYS[1], KEYS[5], KEYS[6], read)
end
return {top, read, count, msgs, upds}
"""

# KEYS: the mutes hash.  ARGV: field (JSON [room, name]), until, ts, the value
# JSON {"until", "ts", "by"}, prune bound (ms).  An older ts than the stored
# one loses; rows lifted or expired before the bound are removed.  Returns
# the until in force.
MUTE = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  local o = cjson.decode(old)
  if tonumber(o['ts']) > tonumber(ARGV[3]) then return o['until'] end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
local bound = tonumber(ARGV[5])
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local v = cjson.decode(all[i + 1])
  if v['until'] < bound and v['ts'] < bound then redis.call('HDEL', KEYS[1], all[i]) end
end
return tonumber(ARGV[2])
"""
