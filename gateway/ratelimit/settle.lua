-- Replace a reservation's token cost by the real usage in each token limit.
-- KEYS: two per limit: the costs (hash) and the sum (string). ARGV: reservation, tokens.
local rid = ARGV[1]
local tokens = tonumber(ARGV[2])
for i = 1, #KEYS, 2 do
  local old = redis.call('HGET', KEYS[i], rid)
  if old then
    redis.call('HSET', KEYS[i], rid, tokens)
    redis.call('INCRBY', KEYS[i + 1], tokens - tonumber(old))
  end
end
return 1
