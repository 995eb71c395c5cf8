-- Shared by get.lua and post.lua: counts every answer by status in each wrk
-- thread, and at the end prints one machine-readable line for bench/run.sh:
--   BENCH-RESULT requests=N duration_us=N ok=N non2xx=N statuses=500:2,404:1
--                connect=N read=N write=N timeout=N p50_us=N p99_us=N max_us=N
-- wrk's own "Non-2xx or 3xx responses" line only counts statuses above 399;
-- this counts every status outside 200-299.

local threads = {}
local next_thread_id = 0

function setup(thread)
  next_thread_id = next_thread_id + 1
  thread:set("thread_id", next_thread_id)
  table.insert(threads, thread)
end

-- Globals (not locals) so that done() can read them through thread:get().
ok_count = 0
bad_count = 0
bad_statuses = {}

function response(status, headers, body)
  if status >= 200 and status <= 299 then
    ok_count = ok_count + 1
  else
    bad_count = bad_count + 1
    local key = tostring(status)
    bad_statuses[key] = (bad_statuses[key] or 0) + 1
  end
end

function done(summary, latency, requests)
  local ok, bad, statuses = 0, 0, {}
  for _, thread in ipairs(threads) do
    ok = ok + (thread:get("ok_count") or 0)
    bad = bad + (thread:get("bad_count") or 0)
    for status, count in pairs(thread:get("bad_statuses") or {}) do
      statuses[status] = (statuses[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(statuses) do
    table.insert(parts, status .. ":" .. count)
  end
  table.sort(parts)
  local e = summary.errors
  io.write(string.format(
      "BENCH-RESULT requests=%d duration_us=%d ok=%d non2xx=%d statuses=%s " ..
          "connect=%d read=%d write=%d timeout=%d p50_us=%d p99_us=%d max_us=%d\n",
      summary.requests, summary.duration, ok, bad, #parts > 0 and table.concat(parts, ",") or "-",
      e.connect, e.read, e.write, e.timeout, latency:percentile(50.0), latency:percentile(99.0), latency.max))
end
