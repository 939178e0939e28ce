-- wrk script: keep-alive POST /api/send_message (groupchat into the archived MUC room
-- bench@conference.localhost) with a 1000-byte text: the same job as a webhook POST that ends as a
-- stored channel message (see bench/README.md and reference/peer-bench.md). Counts 200 "0" replies.
local text = string.rep("Build #1234 failed on main: fix race in scheduler, see log line 410. ", 15)
text = text:sub(1, 1000)
wrk.method = "POST"
wrk.path = "/api/send_message"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"type":"groupchat","from":"bot@localhost",' ..
           '"to":"bench@conference.localhost","subject":"","body":"' .. text .. '"}'
threads = {}
function setup(thread) table.insert(threads, thread) end
sent, ok200, other = 0, 0, 0
function init(args) req = wrk.format() end
function request() sent = sent + 1; return req end
function response(status, headers, body)
  if status == 200 and body == "0" then ok200 = ok200 + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local s, o, x = 0, 0, 0
  for _, t in ipairs(threads) do
    s = s + t:get("sent"); o = o + t:get("ok200"); x = x + t:get("other")
  end
  io.write(string.format("RESULT requests=%d errors=%d non2xx=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f ok200=%d other=%d\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, o, x))
end
