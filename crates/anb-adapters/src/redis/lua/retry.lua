-- Releases a job held under the given token (as ack.lua decides it), to be delivered again
-- `delay` ms from now; its attempt count is kept.
-- KEYS[1] job hash, KEYS[2] leased ZSET, KEYS[3] due ZSET
-- ARGV[1] job id, ARGV[2] token, ARGV[3] delay (ms)
-- Returns 1, or 0 when the lease is lost.
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[2]
    or not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], 'token')
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[1])
return 1
