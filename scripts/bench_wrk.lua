-- wrk script of scripts/bench.py (issue #16): random paths from a file, a bounded number of
-- requests, and the latency percentiles as one JSON line ("BENCH_JSON {...}") at the end.
-- Arguments (after "--"): <paths file> <seed> <requests per thread>.

local paths = {}
local limit = 0
local done_requests = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  math.randomseed(tonumber(args[2]) or 1)
  limit = tonumber(args[3]) or 0
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end

function response(status, headers, body)
  done_requests = done_requests + 1
  if limit > 0 and done_requests >= limit then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "errors_status": %d, ' ..
    '"errors_connect": %d, "errors_read": %d, "errors_write": %d, "errors_timeout": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
