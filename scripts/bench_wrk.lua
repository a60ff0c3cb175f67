-- wrk script of scripts/bench.py (issue #16): random paths from a file, a bounded number of
-- requests, and the figures as one JSON line ("BENCH_JSON {...}") at the end.
-- Arguments (after "--"): <paths file> <seed> <requests per thread>.
-- wrk runs for its whole -d duration even when a thread stops early, so its own duration is
-- not the load's: each thread notes when it sent its first request and got its last answer
-- (CLOCK_MONOTONIC through LuaJIT's ffi) and "elapsed_us" is that span.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")

local function now_us()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000000 + tonumber(clock.tv_nsec) / 1000
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local paths = {}
local limit = 0
local answered = 0
first_us = 0
last_us = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  math.randomseed(tonumber(args[2]) or 1)
  limit = tonumber(args[3]) or 0
end

function request()
  if first_us == 0 then first_us = now_us() end
  return wrk.format("GET", paths[math.random(#paths)])
end

function response(status, headers, body)
  answered = answered + 1
  last_us = now_us()
  if limit > 0 and answered >= limit then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local first, last = nil, 0
  for _, thread in ipairs(threads) do
    local f, l = thread:get("first_us"), thread:get("last_us")
    if f and f > 0 and (first == nil or f < first) then first = f end
    if l and l > last then last = l end
  end
  local elapsed = (first and last > first) and (last - first) or summary.duration
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "elapsed_us": %d, "errors_status": %d, ' ..
    '"errors_connect": %d, "errors_read": %d, "errors_write": %d, "errors_timeout": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, elapsed, e.status, e.connect, e.read, e.write,
    e.timeout, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max))
end
