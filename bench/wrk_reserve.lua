-- wrk script for bench/reservations.py --http: POST holds on random SKUs, count answers.
-- Environment: ONHAND_TOKEN, ONHAND_TENANT, ONHAND_SKUS (count), ONHAND_SKU_PREFIX.
local threads = {}
local token = os.getenv("ONHAND_TOKEN")
local tenant = os.getenv("ONHAND_TENANT")
local skus = tonumber(os.getenv("ONHAND_SKUS"))

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  granted, rejected, errors = 0, 0, 0
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  local sku = string.format("SKU-%06d", math.random(0, skus - 1))
  return wrk.format("POST", "/v1/" .. tenant .. "/reservations",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token},
    '{"lines":[{"sku":"' .. sku .. '","qty":1}]}')
end

function response(status, headers, body)
  if status == 201 then granted = granted + 1
  elseif status == 409 then rejected = rejected + 1
  else errors = errors + 1 end
end

function done(summary, latency, requests)
  local g, r, e = 0, 0, 0
  for _, t in ipairs(threads) do
    g = g + t:get("granted"); r = r + t:get("rejected"); e = e + t:get("errors")
  end
  io.write(string.format(
    'WRK {"granted": %d, "rejected": %d, "errors": %d, "socket_errors": %d, "seconds": %.3f, "p50_ms": %.2f, "p99_ms": %.2f}\n',
    g, r, e, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
