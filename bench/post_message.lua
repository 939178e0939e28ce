-- wrk script: POST a ~1 KB markdown message to one channel with a bearer token.
-- env: SB_TOKEN (required), SB_CHANNEL (default 1)
local token = os.getenv("SB_TOKEN")
local channel = os.getenv("SB_CHANNEL") or "1"
local text = string.rep("Deploy **finished** for `service-a` on host-3: all checks green. ", 15)
wrk.method = "POST"
wrk.path = "/api/v1/channels/" .. channel .. "/messages"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.body = '{"text":"' .. text .. '"}'

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d non2xx=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
