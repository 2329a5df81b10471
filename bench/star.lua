-- wrk script of bench/load.sh: the star POST (htmx), as the paper's star button sends it.
-- The session and CSRF cookies, the X-CSRFToken and HX-Request headers come from wrk's -H options.
wrk.method = "POST"
wrk.body = "starred=1"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

-- One machine-readable line for bench/load.py (latencies in microseconds).
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50=%d p90=%d p95=%d p99=%d status=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
