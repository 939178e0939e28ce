-- wrk script: POST a ~1 KB Teams MessageCard to one incoming webhook (SB_HOOK = its path,
-- e.g. /webhook/1/SECRET), or spread over several (SB_HOOKS = paths separated by spaces).
local hooks = {}
for p in string.gmatch(os.getenv("SB_HOOKS") or os.getenv("SB_HOOK") or "", "%S+") do
  hooks[#hooks + 1] = p
end
local card = [[{"@type":"MessageCard","@context":"http://schema.org/extensions","summary":"Deploy finished: api v1.4.2","themeColor":"2EB67D","title":"Deploy finished: **api** v1.4.2 on production","sections":[{"activityTitle":"Release pipeline #4711","activitySubtitle":"triggered by alice","activityImage":"https://example.com/avatars/alice.png","facts":[{"name":"Service","value":"api"},{"name":"Version","value":"v1.4.2"},{"name":"Environment","value":"production"},{"name":"Duration","value":"4m 12s"},{"name":"Commit","value":"9f1c2e7 Fix retry backoff in the payment client"}],"text":"All 312 checks passed. Canary at 5% for 10 minutes showed no error increase; rolled out to 100%. Error rate 0.02%, p99 latency 180 ms."}],"potentialAction":[{"@type":"OpenUri","name":"View pipeline","targets":[{"os":"default","uri":"https://ci.example.com/pipelines/4711"}]},{"@type":"OpenUri","name":"View diff","targets":[{"os":"default","uri":"https://git.example.com/api/compare/v1.4.1...v1.4.2"}]}]}]]
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", hooks[(i % #hooks) + 1], {["Content-Type"] = "application/json"}, card)
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d non2xx=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
