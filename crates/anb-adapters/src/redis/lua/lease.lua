-- Leases the oldest deliverable job: the earlier of the first due job and the first expired
-- lease (equal times: the smaller id, i.e. the older UUIDv7). The job moves to the leased set
-- with a new expiry and token, and its attempt count goes up by one.
-- KEYS[1] due ZSET, KEYS[2] leased ZSET
-- ARGV[1] job hash key prefix ("<prefix>:job:"), ARGV[2] lease length (ms), ARGV[3] new token
-- Returns {id, payload, attempts, lease expiry ms, trace context ('': none)}, or nil when
-- nothing is deliverable.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- The member with the lowest score <= now, and that score; nil when there is none.
local function first_due(set)
  local hit = redis.call('ZRANGEBYSCORE', set, '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1)
  if hit[1] then
    return hit[1], tonumber(hit[2])
  end
  return nil, nil
end

while true do
  local due_id, due_at = first_due(KEYS[1])
  local expired_id, expired_at = first_due(KEYS[2])
  local id, from
  if due_id and (not expired_id or due_at < expired_at
      or (due_at == expired_at and due_id < expired_id)) then
    id, from = due_id, KEYS[1]
  elseif expired_id then
    id, from = expired_id, KEYS[2]
  else
    return false
  end

  local job = ARGV[1] .. id
  local payload = redis.call('HGET', job, 'payload')
  redis.call('ZREM', from, id)
  if payload then
    local expires = now + tonumber(ARGV[2])
    redis.call('ZADD', KEYS[2], expires, id)
    local attempts = redis.call('HINCRBY', job, 'attempts', 1)
    redis.call('HSET', job, 'token', ARGV[3])
    local trace = redis.call('HGET', job, 'trace') or ''
    return {id, payload, attempts, expires, trace}
  end
  -- An id without its hash (deleted behind the queue's back) is dropped; look again.
end
