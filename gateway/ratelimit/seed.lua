-- Start a period limit's count at what was spent before, unless it has a count already.
-- KEYS: as admit.lua has them for a period limit. ARGV: used, ttl_ms.
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2])
return 1
