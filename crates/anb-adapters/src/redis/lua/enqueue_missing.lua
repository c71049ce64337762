-- Adds, deliverable `delay` ms from now (server time), each given job whose payload no live
-- job has: none in the due set (waiting or scheduled) nor in the leased set (expired or not).
-- One script, so restores from many workers at once never add one payload twice. It reads every
-- live job's payload: the backlog, not the history (acked jobs are gone).
-- KEYS[1] due ZSET, KEYS[2] leased ZSET
-- ARGV[1] job hash key prefix ("<prefix>:job:"), ARGV[2] delay (ms), ARGV[3] trace context of
-- every added job ('': none), then pairs of (new job id, payload JSON).
-- Returns the payloads it added, in the order given.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local live = {}
for _, set in ipairs({KEYS[1], KEYS[2]}) do
  for _, id in ipairs(redis.call('ZRANGE', set, 0, -1)) do
    local payload = redis.call('HGET', ARGV[1] .. id, 'payload')
    if payload then
      live[payload] = true
    end
  end
end

local due = now + tonumber(ARGV[2])
local added = {}
for i = 4, #ARGV, 2 do
  local id, payload = ARGV[i], ARGV[i + 1]
  if not live[payload] then
    redis.call('HSET', ARGV[1] .. id, 'payload', payload, 'attempts', 0)
    if ARGV[3] ~= '' then
      redis.call('HSET', ARGV[1] .. id, 'trace', ARGV[3])
    end
    redis.call('ZADD', KEYS[1], due, id)
    live[payload] = true
    added[#added + 1] = payload
  end
end
return added
