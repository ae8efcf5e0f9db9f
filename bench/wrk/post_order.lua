-- wrk script (bench/ratios.py): POST one order per request for one SKU (env SKU), one unit,
-- paid with the sandbox card tok_visa, customer ids UUIDs over 500 customers. PATH_PREFIX is
-- "/api/v1" for ours (the default) and "" for the baseline; TOKEN is a bearer token.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "")
local sku = os.getenv("SKU") or "BENCH"
local path = (os.getenv("PATH_PREFIX") or "/api/v1") .. "/orders"
local sent = 0

request = function()
  sent = sent + 1
  local body = '{"customer_id":"00000000-0000-4000-8000-' .. string.format("%012d", sent % 500) ..
    '","currency":"USD","lines":[{"sku":"' .. sku .. '","quantity":1}],' ..
    '"shipping_address":{"name":"Bench","line1":"1 Main St","city":"Springfield",' ..
    '"postal_code":"12345","country":"US"},"payment":{"method":"card","token":"tok_visa"}}'
  return wrk.format(nil, path, nil, body)
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
  io.write(string.format("REQUESTS completed=%d\n", summary.requests))
end
