-- The normal clients of the soak (scripts/soak), one wrk run:
--   wrk -t2 -c12 -d600s -s tests/soak/load.lua http://127.0.0.1:PORT -- USERS DELAY_MS
-- USERS: ids 1..USERS exist (seeded) and are only ever read. DELAY_MS: each
-- connection waits this long before its next request, so the load is steady
-- rather than all the machine can give.
--
-- Each thread cycles through 20 slots: 12 GET /api/users/{id}/ of a seeded
-- id, 2 GET /api/users/, 2 POST /api/users/ (a dni never sent before), 2 PUT
-- and 2 DELETE of what this thread created. A PUT is sent only for an id whose
-- 201 came back, a DELETE only for an id whose PUT's 200 came back (its body
-- names the user "Soak Put", which no seeded user and no GET of one does), so
-- they never race; a slot with nothing to do yet is a GET. So the table stays
-- at USERS plus the few in flight.
--
-- At the end one line for the driver:
--   SOAK-LOAD requests=N duration_us=N statuses=200:N,201:N,...
--             issued=get:N,list:N,post:N,put:N,delete:N
--             connect=N read=N write=N timeout=N p50_us=N p99_us=N max_us=N

local threads = {}
local next_thread_id = 0

function setup(thread)
  next_thread_id = next_thread_id + 1
  thread:set("thread_id", next_thread_id)
  table.insert(threads, thread)
end

-- Globals, so that done() can read them through thread:get().
statuses = {}
issued = {get = 0, list = 0, post = 0, put = 0, delete = 0}

local users, delay_ms = 1, 5
local slot, counter = 0, 0
local to_put, to_delete = {}, {}
local json = {["Content-Type"] = "application/json", ["Accept"] = "application/json"}
local accept = {["Accept"] = "application/json"}
local pattern = {"g", "g", "l", "g", "p", "g", "g", "u", "g", "g", "g", "d",
                 "g", "l", "g", "p", "g", "u", "g", "d"}

function init(args)
  users = tonumber(args[1] or "1") or 1
  delay_ms = tonumber(args[2] or "5") or 5
  math.randomseed(thread_id * 7919 + os.time())
end

function delay()
  return delay_ms
end

local function get_one()
  issued.get = issued.get + 1
  return wrk.format("GET", "/api/users/" .. math.random(1, users) .. "/", accept)
end

function request()
  slot = slot % #pattern + 1
  local kind = pattern[slot]
  if kind == "l" then
    issued.list = issued.list + 1
    return wrk.format("GET", "/api/users/", accept)
  elseif kind == "p" then
    counter = counter + 1
    issued.post = issued.post + 1
    -- "s" .. thread (2 hex) .. counter (hex): unique in a run (each soak
    -- has a fresh database), and within the 13 characters a dni may have.
    local dni = string.format("s%02x%x", thread_id, counter)
    return wrk.format("POST", "/api/users/", json, '{"dni":"' .. dni .. '","name":"Soak Post"}')
  elseif kind == "u" and #to_put > 0 then
    local id = table.remove(to_put, 1)
    issued.put = issued.put + 1
    return wrk.format("PUT", "/api/users/" .. id .. "/", json,
                      '{"dni":"u' .. id .. '","name":"Soak Put"}')
  elseif kind == "d" and #to_delete > 0 then
    local id = table.remove(to_delete, 1)
    issued.delete = issued.delete + 1
    return wrk.format("DELETE", "/api/users/" .. id .. "/", accept)
  end
  return get_one()
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status == 201 then
    local id = body:match('^{"id":(%d+),')
    if id then table.insert(to_put, id) end
  elseif status == 200 and body:sub(1, 1) == "{" and body:find('"name":"Soak Put"}', 1, true) then
    local id = body:match('^{"id":(%d+),')
    if id then table.insert(to_delete, id) end
  end
end

function done(summary, latency, requests)
  local all, kinds = {}, {get = 0, list = 0, post = 0, put = 0, delete = 0}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses") or {}) do
      all[status] = (all[status] or 0) + count
    end
    for kind, count in pairs(thread:get("issued") or {}) do
      kinds[kind] = kinds[kind] + count
    end
  end
  local parts = {}
  for status, count in pairs(all) do table.insert(parts, status .. ":" .. count) end
  table.sort(parts)
  local e = summary.errors
  io.write(string.format(
      "SOAK-LOAD requests=%d duration_us=%d statuses=%s issued=get:%d,list:%d,post:%d,put:%d,delete:%d " ..
          "connect=%d read=%d write=%d timeout=%d p50_us=%d p99_us=%d max_us=%d\n",
      summary.requests, summary.duration, #parts > 0 and table.concat(parts, ",") or "-",
      kinds.get, kinds.list, kinds.post, kinds.put, kinds.delete,
      e.connect, e.read, e.write, e.timeout, latency:percentile(50.0), latency:percentile(99.0), latency.max))
end
