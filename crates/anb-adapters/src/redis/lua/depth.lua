-- Counts jobs by state at one instant of server time. An expired lease counts as ready.
-- KEYS[1] due ZSET, KEYS[2] leased ZSET, KEYS[3] failed SET
-- Returns {ready, scheduled, leased, failed}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local ready = redis.call('ZCOUNT', KEYS[1], '-inf', now)
  + redis.call('ZCOUNT', KEYS[2], '-inf', now)
local scheduled = redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
local leased = redis.call('ZCOUNT', KEYS[2], '(' .. now, '+inf')
return {ready, scheduled, leased, redis.call('SCARD', KEYS[3])}
