-- GET one URL with the session cookie; prints one JSON line (WRKJSON) at the end.
-- wrk -t8 -c8 -d10s -s get.lua URL -- "COOKIE"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  cookie = args[1]
  ok, failed = 0, 0
  req = wrk.format("GET", nil, {["Cookie"] = cookie, ["Host"] = wrk.host})
end

function request()
  return req
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else failed = failed + 1 end
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
