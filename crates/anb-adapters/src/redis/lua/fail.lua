-- Dead-letters a job held under the given token (as ack.lua decides it): it leaves the leased
-- set for the failed set, and its hash keeps the payload and gains the reason.
-- KEYS[1] job hash, KEYS[2] leased ZSET, KEYS[3] failed SET
-- ARGV[1] job id, ARGV[2] token, ARGV[3] reason
-- Returns 1, or 0 when the lease is lost.
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[2]
    or not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], 'token')
redis.call('HSET', KEYS[1], 'reason', ARGV[3])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
