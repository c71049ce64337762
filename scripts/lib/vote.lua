-- wrk script: POST a vote for a random seeded video with a random seeded player's token.
-- Tokens come from the file named by ANB_TOKENS (one per line); videos are 0 .. ANB_PLAYERS-1,
-- whose ids are predictable (anb_adapters::testkit::seed::Seed::video_id).
local tokens = {}
for line in io.lines(os.getenv("ANB_TOKENS")) do tokens[#tokens + 1] = line end
local players = tonumber(os.getenv("ANB_PLAYERS"))
-- Each wrk thread has its own Lua state: seed each differently, or they all cast the same
-- votes and all but the first are duplicates.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  math.randomseed(os.time() * 1000 + (id or 0))
end

request = function()
  local video = string.format("00000000-0000-7000-9000-%012d", math.random(0, players - 1))
  local headers = { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] }
  return wrk.format("POST", "/api/public/videos/" .. video .. "/vote", headers, "")
end

-- wrk reports non-2xx answers: here a duplicate or own-video vote, refused by the rules (400).
