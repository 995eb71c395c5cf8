-- GET the URL given to wrk, counting answers by status (see common.lua).
-- The request itself is wrk's static one, built once per connection.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")
