-- wrk script: POST one GraphQL request body again and again.
--   BODY_FILE  file with the JSON body ({"query": ..., "variables": ...})
--   TOKEN      optional bearer token (sent as "Authorization: Bearer <TOKEN>")
-- Counts as errors: non-2xx answers, socket errors and timeouts, and 200 answers whose
-- body has a top-level "errors" key. Prints one machine-readable RESULT line at the end.
local function read_file(path)
  local f = assert(io.open(path, "rb"), "cannot open BODY_FILE " .. tostring(path))
  local s = f:read("*a")
  f:close()
  return s
end

wrk.method = "POST"
wrk.body = read_file(os.getenv("BODY_FILE"))
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

-- Each wrk thread has its own Lua state: keep the threads so done() can add up their counters.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

graphql_errors = 0
bytes_min, bytes_max = nil, 0
function response(status, headers, body)
  if status == 200 and body and string.find(body, '"errors"%s*:') then
    graphql_errors = graphql_errors + 1
  end
  if body then
    local n = #body
    if bytes_min == nil or n < bytes_min then bytes_min = n end
    if n > bytes_max then bytes_max = n end
  end
end

function done(summary, latency, requests)
  local gql, bmin, bmax = 0, nil, 0
  for _, t in ipairs(threads) do
    gql = gql + (t:get("graphql_errors") or 0)
    local tmin, tmax = t:get("bytes_min"), t:get("bytes_max") or 0
    if tmin and (bmin == nil or tmin < bmin) then bmin = tmin end
    if tmax > bmax then bmax = tmax end
  end
  local e = summary.errors
  local socket = e.connect + e.read + e.write + e.timeout
  io.write(string.format(
    "RESULT requests=%d seconds=%.2f rps=%.1f p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f " ..
    "non2xx=%d socket_errors=%d timeouts=%d graphql_errors=%d body_bytes=%d..%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.status, socket, e.timeout, gql, bmin or 0, bmax))
end
