-- One admission against N limits, atomically.
-- A sliding-window limit (period = 0) keeps three keys: the entries (zset: reservation ->
--   time ms), their costs (hash), and the sum of the costs (string).
-- A period limit (period = 1, a budget: its keys name its calendar period) keeps a sum
--   (string) started from what was spent (seed.lua), the reservations not yet settled
--   (hash) and their sum (string, in the first key's place); a settlement removes its
--   reservation, so the keys hold what is in flight, not one entry per request.
-- ARGV: reservation, n, then per limit: window_ms, limit, cost, period.
-- Returns: {admitted, retry_ms, then per limit: used_after, reset_ms (a period limit:
--   the reservations in flight), exceeded};
--   or {-1, then the index (from 1) of each period limit whose count is missing}, having
--   admitted nothing: the caller seeds them (seed.lua) and admits again.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rid = ARGV[1]
local n = tonumber(ARGV[2])
local CHUNK = 500

-- Numbers go to Redis as whole decimals (a Lua number could print as 1e+14).
local function int(x) return string.format('%d', x) end

local missing = {-1}
for i = 1, n do
  if ARGV[4 * i + 2] == '1' and redis.call('EXISTS', KEYS[3 * i]) == 0 then
    table.insert(missing, i)
  end
end
if #missing > 1 then return missing end

local function expire(z, h, s, cutoff)
  while true do
    local old = redis.call('ZRANGEBYSCORE', z, '-inf', cutoff, 'LIMIT', 0, CHUNK)
    if #old == 0 then return end
    local costs = redis.call('HMGET', h, unpack(old))
    local freed = 0
    for j = 1, #costs do freed = freed + (tonumber(costs[j]) or 0) end
    redis.call('HDEL', h, unpack(old))
    redis.call('ZREM', z, unpack(old))
    redis.call('DECRBY', s, int(freed))
  end
end

local function wait_for_room(z, h, window, need)
  local freed = 0
  local start = 0
  while true do
    local batch = redis.call('ZRANGE', z, start, start + CHUNK - 1, 'WITHSCORES')
    if #batch == 0 then return window end
    for j = 1, #batch, 2 do
      freed = freed + (tonumber(redis.call('HGET', h, batch[j])) or 0)
      if freed >= need then return math.max(0, tonumber(batch[j + 1]) + window - now) end
    end
    start = start + CHUNK
  end
end

local used, exceeded, retry = {}, {}, 0
local admitted = 1
for i = 1, n do
  local z, h, s = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local window = tonumber(ARGV[4 * i - 1])
  local limit = tonumber(ARGV[4 * i])
  local cost = tonumber(ARGV[4 * i + 1])
  local period = ARGV[4 * i + 2] == '1'
  if not period then expire(z, h, s, now - window) end
  used[i] = tonumber(redis.call('GET', s) or '0')
  exceeded[i] = 0
  if used[i] + cost > limit then
    admitted = 0
    exceeded[i] = 1
    if not period then  -- a period limit frees up when its period ends (the caller knows)
      local wait = window
      if cost <= limit then wait = wait_for_room(z, h, window, used[i] + cost - limit) end
      if wait > retry then retry = wait end
    end
  end
end

local out = {admitted, retry}
for i = 1, n do
  local z, h, s = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local window = tonumber(ARGV[4 * i - 1])
  local cost = tonumber(ARGV[4 * i + 1])
  local period = ARGV[4 * i + 2] == '1'
  if admitted == 1 then
    if period then
      redis.call('INCRBY', z, int(cost))
    else
      redis.call('ZADD', z, now, rid)
    end
    redis.call('HSET', h, rid, int(cost))
    used[i] = redis.call('INCRBY', s, int(cost))
    for _, key in ipairs({z, h, s}) do redis.call('PEXPIRE', key, int(window * 2)) end
  end
  local reset = 0
  if period then
    reset = tonumber(redis.call('GET', z) or '0')
  else
    local oldest = redis.call('ZRANGE', z, 0, 0, 'WITHSCORES')
    if #oldest > 0 then reset = math.max(0, tonumber(oldest[2]) + window - now) end
  end
  table.insert(out, used[i])
  table.insert(out, reset)
  table.insert(out, exceeded[i])
end
return out
