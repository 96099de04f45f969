-- wrk script for bench/run: prints one machine-readable line at the end,
--   wrk_result rps=<requests/s> p50_us=.. p99_us=.. p999_us=.. requests=..
--              errors=<connect+read+write+timeout> non2xx=<status errors>
-- The environment variable WRK_ACCEPT, when set, becomes the Accept header.
local accept = os.getenv("WRK_ACCEPT")
if accept and accept ~= "" then
  wrk.headers["Accept"] = accept
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
      "wrk_result rps=%.2f p50_us=%d p99_us=%d p999_us=%d requests=%d " ..
      "errors=%d non2xx=%d\n",
      summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(99),
      latency:percentile(99.9), summary.requests,
      e.connect + e.read + e.write + e.timeout, e.status))
end
