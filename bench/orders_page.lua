-- wrk script: POST the frontend's OrdersPage query with a bearer token (env TOKEN).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = [[{"query":"query OrdersPage { orders(first: 50, orderBy: {field: CREATED_AT, direction: DESC}) { edges { cursor node { id number createdAt status { code name group } total { amount currency } account { id name phone } items { sku title quantity unitPrice { amount currency } } } } pageInfo { hasNextPage endCursor } } }"}]]

local errors = 0
response = function(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"') then errors = errors + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p50_ms=%.1f p99_ms=%.1f requests=%d non2xx_or_errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, errors + summary.errors.status))
end
