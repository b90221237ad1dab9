-- Replace a reservation's costs by the real ones.
-- KEYS: three per limit, as admit.lua has them. ARGV: reservation, then per limit: the
-- real cost, and whether it is a period limit (1) or a sliding-window one (0).
-- A sliding window keeps the entry (it leaves the window with its time). A period limit
-- forgets the settled reservation; one it does not know (its keys were lost and started
-- again from the spend table, which did not hold this request yet) is added whole.
local rid = ARGV[1]
for i = 1, #KEYS / 3 do
  local z, h, s = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local cost = ARGV[2 * i]
  local period = ARGV[2 * i + 1] == '1'
  local old = redis.call('HGET', h, rid)
  if old then
    redis.call('INCRBY', s, string.format('%d', tonumber(cost) - tonumber(old)))
    if period then
      redis.call('HDEL', h, rid)
      redis.call('DECRBY', z, old)
    else
      redis.call('HSET', h, rid, cost)
    end
  elseif period and redis.call('EXISTS', s) == 1 then
    redis.call('INCRBY', s, cost)
  end
end
return 1
