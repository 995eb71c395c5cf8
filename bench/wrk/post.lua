-- POST a new user on every request, each with a dni never sent before:
--   wrk ... -s post.lua <url> -- <run>
-- dni = run (2 hex digits) .. wrk thread (2 hex digits) .. counter (9 hex
-- digits) = 13 characters, the longest a dni may be. <run> (0-255) tells
-- runs against one database apart; wrk threads are numbered in setup().
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")

local run = 0
local counter = 0
local headers = {["Content-Type"] = "application/json"}

function init(args)
  run = tonumber(args[1] or "0") or 0
  assert(run >= 0 and run <= 255, "run must be 0-255")
  assert(thread_id >= 1 and thread_id <= 255, "at most 255 wrk threads")
end

function request()
  counter = counter + 1
  local dni = string.format("%02x%02x%09x", run, thread_id, counter)
  return wrk.format("POST", nil, headers, '{"dni":"' .. dni .. '","name":"Bench User"}')
end
