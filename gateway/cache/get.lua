-- Read one cache entry and mark it as recently used.
-- KEYS[1] the entry, KEYS[2] the LRU order. ARGV[1] its member name.
local payload = redis.call('GET', KEYS[1])
if payload then
  local t = redis.call('TIME')
  redis.call('ZADD', KEYS[2], 'XX', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
end
return payload
