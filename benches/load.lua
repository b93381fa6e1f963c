-- wrk script for benches/load.sh: each connection's requests rotate through
-- the main pages, and every response that is not 2xx is counted (a 3xx is a
-- redirect to the sign-in page: the session cookie was not accepted), by page
-- and by status, and printed at the end.
--
--   PATHS="/ /people" PERSON_IDS="u00001,u00002" \
--     wrk -t2 -c64 -d60s --latency -s benches/load.lua -H "Cookie: uc_session=..." http://127.0.0.1:18080
--
-- PATHS (space-separated) replaces the default rotation; "PERSON" in it
-- stands for a person page, taken in turn from PERSON_IDS (comma-separated).

local default_paths = "/ /adoption /people /people?tier=silent PERSON /studies /report /imports"

local function split(s, sep)
  local out = {}
  for part in string.gmatch(s or "", "[^" .. sep .. "]+") do
    out[#out + 1] = part
  end
  return out
end

local paths = split(os.getenv("PATHS") or default_paths, " ")
local people = split(os.getenv("PERSON_IDS") or "", ",")

local threads = {}
local thread_id = 0

function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
  threads[#threads + 1] = thread
end

-- Per thread (each thread has its own Lua state); globals, so that done()
-- can read them with thread:get().
counter = 0
person_counter = 0
sent = {}      -- requests sent, by page
bad = {}       -- non-2xx responses, by status (a response does not say which
               -- request it answers, so not by page)
bad_total = 0

function init(args)
  -- Start each thread at a different place in the rotation.
  counter = id or 0
end

local function label(p)
  if p == "PERSON" then return "/people/ID" end
  return p
end

function request()
  local p = paths[(counter % #paths) + 1]
  counter = counter + 1
  sent[label(p)] = (sent[label(p)] or 0) + 1
  local path = p
  if p == "PERSON" then
    if #people == 0 then
      path = "/people/none"
    else
      path = "/people/" .. people[(person_counter % #people) + 1]
      person_counter = person_counter + 1
    end
  end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    bad_total = bad_total + 1
    local k = tostring(status)
    bad[k] = (bad[k] or 0) + 1
  end
end

function done(summary, latency, requests)
  local non2xx, statuses, pages = 0, {}, {}
  for _, t in ipairs(threads) do
    non2xx = non2xx + (t:get("bad_total") or 0)
    for k, v in pairs(t:get("bad") or {}) do
      statuses[k] = (statuses[k] or 0) + v
    end
    for k, v in pairs(t:get("sent") or {}) do
      pages[k] = (pages[k] or 0) + v
    end
  end
  local e = summary.errors
  io.write("--- load.lua summary ---\n")
  io.write(string.format("responses: %d  non-2xx: %d", summary.requests, non2xx))
  for k, v in pairs(statuses) do io.write(string.format("  [status %s: %d]", k, v)) end
  io.write("\n")
  io.write(string.format("socket errors: connect %d, read %d, write %d, timeout %d; wrk status errors (>399): %d\n",
    e.connect, e.read, e.write, e.timeout, e.status))
  io.write("requests sent by page:")
  local keys = {}
  for k in pairs(pages) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do io.write(string.format("  %s=%d", k, pages[k])) end
  io.write("\n")
  io.write(string.format("latency us: p50 %d  p90 %d  p99 %d  max %d  mean %.0f\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
  io.write(string.format("requests/s: %.2f\n", summary.requests / (summary.duration / 1e6)))
end
