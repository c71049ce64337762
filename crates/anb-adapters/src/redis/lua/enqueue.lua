-- Adds a job, deliverable `delay` ms from now (server time).
-- KEYS[1] job hash, KEYS[2] due ZSET
-- ARGV[1] job id, ARGV[2] payload (JSON), ARGV[3] delay (ms), ARGV[4] trace context ('': none)
-- Returns the due time (ms since the epoch).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local due = now + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'payload', ARGV[2], 'attempts', 0)
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], 'trace', ARGV[4])
end
redis.call('ZADD', KEYS[2], due, ARGV[1])
return due
