-- Start a limit's count at what was spent before, unless it has a count already.
-- KEYS: the entries (zset), their costs (hash), the sum (string). ARGV: used, ttl_ms.
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZADD', KEYS[1], now, 'seed')
redis.call('HSET', KEYS[2], 'seed', ARGV[1])
redis.call('SET', KEYS[3], ARGV[1])
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ARGV[2]) end
return 1
