-- POST attendance saves. One connection per thread (run with -t N -c N), so a thread's
-- requests are sequential and it can track what the server expects next.
-- wrk -tN -cN -d10s -s save.lua URL -- MODE CODES_FILE BODY_FILE COOKIE N
--   MODE first:   each request saves a different session whose attendance is not taken
--                 yet (version 0); thread k takes codes k, k+N, k+2N ...
--   MODE correct: thread k corrects session k again and again; the body alternates
--                 between two lists (one status differs) and carries the version the
--                 server gave (302 = saved: version + 1; 200 = refused: read it back)
-- Success is the 302 redirect after a save; anything else counts as failed.
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

local function lines(path)
  local t = {}
  for line in io.lines(path) do if line ~= "" then table.insert(t, line) end end
  return t
end

function init(args)
  mode, cookie = args[1], args[4]
  codes = lines(args[2])
  bodies = lines(args[3])  -- one body per line, "%VERSION%" where the version goes
  nthreads = tonumber(args[5])
  ok, failed = 0, 0
  idx = tid
  if mode == "correct" then
    local code, v = codes[tid]:match("^(%S+)%s+(%d+)$")
    code_fixed, version = code, tonumber(v)
  end
  headers = {["Cookie"] = cookie, ["Host"] = wrk.host,
             ["Content-Type"] = "application/x-www-form-urlencoded"}
end

function request()
  if mode == "first" then
    local code = codes[idx] or codes[#codes]  -- exhausted: a stale save, counted as failed
    idx = idx + nthreads
    local body = bodies[1]:gsub("%%VERSION%%", "0")
    return wrk.format("POST", "/sessions/" .. code .. "/attendance/", headers, body)
  end
  local body = bodies[(version % 2) + 1]:gsub("%%VERSION%%", tostring(version))
  return wrk.format("POST", "/sessions/" .. code_fixed .. "/attendance/", headers, body)
end

function response(status, hdrs, body)
  if status == 302 then
    ok = ok + 1
    if mode == "correct" then version = version + 1 end
  else
    failed = failed + 1
    if mode == "correct" and body then
      local v = body:match('name="version" value="(%d+)"')
      if v then version = tonumber(v) end
    end
  end
end

function done(summary, latency, requests)
  local o, f = 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); f = f + t:get("failed") end
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_s":%.3f,"ok":%d,"failed":%d,"socket_errors":%d,' ..
    '"p50_ms":%.2f,"p95_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,"mean_ms":%.2f}\n',
    summary.requests, summary.duration / 1e6, o, f,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3, latency.mean / 1e3))
end
