-- Completes a job held under the given token (its lease may have expired, as long as nobody
-- leased the job since): the job is deleted.
-- KEYS[1] job hash, KEYS[2] leased ZSET
-- ARGV[1] job id, ARGV[2] token
-- Returns 1, or 0 when the lease is lost.
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[2]
    or not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
return 1
