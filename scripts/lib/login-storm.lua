-- wrk script: a login storm from a botnet. Every request logs in a random email with a wrong
-- password from a random client address (X-Forwarded-For; the server trusts 127.0.0.1 as its
-- proxy), so no per-address or per-account limit stops it: only the hasher's bound does.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  math.randomseed(os.time() * 1000 + (id or 0))
end

request = function()
  local email = string.format("storm%d@example.com", math.random(1, 1000000000))
  local address = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  local headers = { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = address }
  local body = string.format('{"email":"%s","password":"WrongPassword1"}', email)
  return wrk.format("POST", "/api/auth/login", headers, body)
end
