-- Replace a reservation's costs by the real ones.
-- KEYS: two per limit: the costs (hash) and the sum (string).
-- ARGV: reservation, then the real cost for each limit.
local rid = ARGV[1]
for i = 1, #KEYS, 2 do
  local old = redis.call('HGET', KEYS[i], rid)
  if old then
    local cost = ARGV[(i + 1) / 2 + 1]
    redis.call('HSET', KEYS[i], rid, cost)
    redis.call('INCRBY', KEYS[i + 1], string.format('%d', tonumber(cost) - tonumber(old)))
  end
end
return 1
