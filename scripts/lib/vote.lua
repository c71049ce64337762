-- wrk script: POST a vote for a random seeded video with a random seeded player's token.
-- Tokens come from the file named by ANB_TOKENS (one per line); videos are 0 .. ANB_PLAYERS-1,
-- whose ids are predictable (anb_adapters::testkit::seed::Seed::video_id).
local tokens = {}
for line in io.lines(os.getenv("ANB_TOKENS")) do tokens[#tokens + 1] = line end
local players = tonumber(os.getenv("ANB_PLAYERS"))
math.randomseed(os.time())

request = function()
  local video = string.format("00000000-0000-7000-9000-%012d", math.random(0, players - 1))
  local headers = { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] }
  return wrk.format("POST", "/api/public/videos/" .. video .. "/vote", headers, "")
end

-- Count answers by status: a 400 here is a duplicate or self vote, refused by the rules.
local statuses = {}
response = function(status) statuses[status] = (statuses[status] or 0) + 1 end
done = function()
  for status, n in pairs(statuses) do io.write(string.format("    status %d: %d\n", status, n)) end
end
