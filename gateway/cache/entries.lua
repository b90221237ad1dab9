-- Writes to the cache's entries, each in one step: "put" stores an entry and evicts under
-- the bounds; "forget" deletes every entry of one subject.
-- KEYS[1] the LRU order (zset: member -> last use, ms), KEYS[2] the sizes (hash: member ->
-- bytes, and "~total"), KEYS[3] the feed (stream), KEYS[4] each entry's subjects (hash:
-- member -> JSON list), KEYS[5] each entry's feed record (hash: member -> stream id).
-- ARGV[1] the operation, ARGV[2] the key prefix (entries under PREFIX .. "e:" .. member,
-- a subject's members under PREFIX .. "s:" .. subject).
--   put:    ARGV[3] member, [4] payload, [5] its ttl ms, [6] the longest ttl ms, [7] max
--           bytes, [8] max entries, [9] namespace, [10] key, [11] vector (may be empty),
--           [12..] its subjects.
--   forget: ARGV[3] the subject, [4] "1" to count only. Returns how many live entries.
local lru, sizes, feed, subjects, records = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local prefix = ARGV[2]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local function drop(m)
  redis.call('DEL', prefix .. 'e:' .. m)
  local size = redis.call('HGET', sizes, m)
  if size then
    redis.call('HDEL', sizes, m)
    redis.call('HINCRBY', sizes, '~total', 0 - tonumber(size))
  end
  redis.call('ZREM', lru, m)
  local held = redis.call('HGET', subjects, m)
  if held then
    for _, s in ipairs(cjson.decode(held)) do
      redis.call('SREM', prefix .. 's:' .. s, m)
    end
    redis.call('HDEL', subjects, m)
  end
  local record = redis.call('HGET', records, m)
  if record then
    redis.call('XDEL', feed, record)
    redis.call('HDEL', records, m)
  end
end

if ARGV[1] == 'forget' then
  local set = prefix .. 's:' .. ARGV[3]
  local count = 0
  for _, m in ipairs(redis.call('SMEMBERS', set)) do
    if redis.call('EXISTS', prefix .. 'e:' .. m) == 1 then
      count = count + 1
    end
    if ARGV[4] ~= '1' then
      drop(m)
      -- Replicas drop the vector from their mirrors when they read this.
      local ns, key = string.match(m, '^([^:]*):(.*)$')
      redis.call('XADD', feed, '*', 'ns', ns, 'key', key, 'del', '1')
    end
  end
  return count
end

local member, payload, ttl, longest = ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local max_bytes, max_entries = tonumber(ARGV[7]), tonumber(ARGV[8])
drop(member)
redis.call('SET', prefix .. 'e:' .. member, payload, 'PX', ttl)
redis.call('HSET', sizes, member, #payload)
redis.call('HINCRBY', sizes, '~total', #payload)
redis.call('ZADD', lru, now, member)
local held = {}
for i = 12, #ARGV do
  held[#held + 1] = ARGV[i]
  local set = prefix .. 's:' .. ARGV[i]
  redis.call('SADD', set, member)
  if redis.call('PTTL', set) < ttl then
    redis.call('PEXPIRE', set, ttl)
  end
end
if #held > 0 then
  redis.call('HSET', subjects, member, cjson.encode(held))
end

-- Entries unused for longer than any time to live have expired: forget them.
for _, m in ipairs(redis.call('ZRANGEBYSCORE', lru, '-inf', now - longest, 'LIMIT', 0, 64)) do
  drop(m)
end
local evicted = 0
while tonumber(redis.call('HGET', sizes, '~total') or '0') > max_bytes
    or redis.call('ZCARD', lru) > max_entries do
  local coldest = redis.call('ZRANGE', lru, 0, 0)
  if #coldest == 0 then break end
  drop(coldest[1])
  evicted = evicted + 1
end
if redis.call('EXISTS', prefix .. 'e:' .. member) == 1 and ARGV[11] ~= '' then
  local id = redis.call('XADD', feed, 'MAXLEN', '~', max_entries, '*',
    'ns', ARGV[9], 'key', ARGV[10], 'v', ARGV[11], 'exp', now + ttl)
  redis.call('HSET', records, member, id)
end
return evicted
