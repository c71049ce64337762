-- Extends a live lease: the token must be the job's current one and the lease unexpired.
-- KEYS[1] job hash, KEYS[2] leased ZSET
-- ARGV[1] job id, ARGV[2] token, ARGV[3] extension from now (ms)
-- Returns the new expiry (ms since the epoch), or nil when the lease is lost.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

if redis.call('HGET', KEYS[1], 'token') ~= ARGV[2] then
  return false
end
local expires = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not expires or tonumber(expires) <= now then
  return false
end
local extended = now + tonumber(ARGV[3])
redis.call('ZADD', KEYS[2], extended, ARGV[1])
return extended
