-- Store one cache entry, then evict under the bounds; all in one step.
-- KEYS[1] the entry, KEYS[2] the LRU order (zset: member -> last use, ms),
-- KEYS[3] the sizes (hash: member -> bytes, and "~total"), KEYS[4] the feed (stream).
-- ARGV: member, payload, ttl ms, max bytes, max entries, entry-key prefix,
--       namespace, key, vector (may be empty), feed length.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local member, payload, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local max_bytes, max_entries = tonumber(ARGV[4]), tonumber(ARGV[5])

local function drop(m)
  redis.call('DEL', ARGV[6] .. m)
  local size = redis.call('HGET', KEYS[3], m)
  if size then
    redis.call('HDEL', KEYS[3], m)
    redis.call('HINCRBY', KEYS[3], '~total', 0 - tonumber(size))
  end
  redis.call('ZREM', KEYS[2], m)
end

drop(member)
redis.call('SET', KEYS[1], payload, 'PX', ttl)
redis.call('HSET', KEYS[3], member, #payload)
redis.call('HINCRBY', KEYS[3], '~total', #payload)
redis.call('ZADD', KEYS[2], now, member)

-- Entries unused for longer than their time to live have expired: forget them.
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - ttl, 'LIMIT', 0, 64)) do
  drop(m)
end
local evicted = 0
while tonumber(redis.call('HGET', KEYS[3], '~total') or '0') > max_bytes
    or redis.call('ZCARD', KEYS[2]) > max_entries do
  local coldest = redis.call('ZRANGE', KEYS[2], 0, 0)
  if #coldest == 0 then break end
  drop(coldest[1])
  evicted = evicted + 1
end
if redis.call('EXISTS', KEYS[1]) == 1 and ARGV[9] ~= '' then
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', tonumber(ARGV[10]), '*',
    'ns', ARGV[7], 'key', ARGV[8], 'v', ARGV[9], 'exp', now + ttl)
end
return evicted
