-- wrk script: GET the newest messages of one channel with a bearer token.
-- env: SB_TOKEN (required), SB_CHANNEL, SB_LIMIT (default 50)
wrk.method = "GET"
wrk.path = "/api/v1/channels/" .. (os.getenv("SB_CHANNEL") or "1") .. "/messages?limit=" .. (os.getenv("SB_LIMIT") or "50")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SB_TOKEN")

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d non2xx=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
