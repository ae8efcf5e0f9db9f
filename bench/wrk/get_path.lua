-- wrk script (bench/ratios.py): GET one path (env GET_PATH) with a bearer token (env TOKEN).
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "")
local path = os.getenv("GET_PATH") or "/health"

request = function()
  return wrk.format("GET", path)
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
  io.write(string.format("REQUESTS completed=%d\n", summary.requests))
end
