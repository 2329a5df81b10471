#!/usr/bin/env bash
# Load benchmark on loopback: gunicorn (production settings, DEBUG off) on PostgreSQL with the real ICLR 2024 and
# NeurIPS 2023 programmes and a 20-member lab, driven by wrk as a logged-in member at fixed concurrency for a fixed
# time per endpoint. Prints req/s, p50/p95/p99 and the ratio to /healthz of the same run against the budgets of
# issue 8, the import times and the workers' resident memory; writes bench/results.json.
# Run from anywhere after `make install`:   bash bench/load.sh
# Knobs (environment): PG_URL (dropped and made anew, dropped again at the end), PORT, WORKERS, CONNECTIONS,
# THREADS, DURATION, WARMUP, DATA. wrk must be on PATH (Debian: apt-get install -y wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/iclrnotes_load}
PORT=${PORT:-8099}
WORKERS=${WORKERS:-2}
CONNECTIONS=${CONNECTIONS:-8}
THREADS=${THREADS:-2}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
PY=.venv/bin/python
BASE=http://127.0.0.1:$PORT
db=${PG_URL##*/}
admin_url="${PG_URL%/*}/postgres"

command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }
command -v psql >/dev/null || { echo "psql not found" >&2; exit 1; }

run=$(mktemp -d)
gunicorn_pid=""
cleanup() {
  set +e
  if [ -n "$gunicorn_pid" ] && kill -0 "$gunicorn_pid" 2>/dev/null; then
    kill -TERM "$gunicorn_pid"
    for _ in $(seq 50); do kill -0 "$gunicorn_pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$gunicorn_pid" 2>/dev/null && kill -KILL "$gunicorn_pid"
  fi
  PGOPTIONS=--client-min-messages=warning psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

secs_since() {  # secs_since START_NS → seconds with two decimals
  local ns=$(( $(date +%s%N) - $1 ))
  printf '%d.%02d' $(( ns / 1000000000 )) $(( ns % 1000000000 / 10000000 ))
}

# Production settings for everything that touches sessions (the session hash depends on SECRET_KEY).
export DATABASE_URL=$PG_URL
export SECRET_KEY=bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz ALLOWED_HOSTS=127.0.0.1
export SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0
unset DEBUG

# 1. Data ------------------------------------------------------------------------------------------------------
echo "== database $db"
PGOPTIONS=--client-min-messages=warning psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
  -c "CREATE DATABASE $db" >/dev/null
DEBUG=1 $PY manage.py migrate -v0
{ echo "CORES=$(nproc)"; echo "WORKERS=$WORKERS"; echo "CONNECTIONS=$CONNECTIONS"; echo "THREADS=$THREADS"
  echo "DURATION=$DURATION"; } >"$run/meta.txt"
for pair in iclr2024:iclr2024_openreview_notes.json neurips2023:neurips2023_openreview_notes.json; do
  name=${pair%%:*} file=${pair#*:}
  start=$(date +%s%N)
  summary=$(DEBUG=1 $PY manage.py import_openreview "$DATA/$file" 2>/dev/null)
  seconds=$(secs_since "$start")
  echo "import $file: $seconds s  $summary"
  echo "IMPORT_$name=$seconds" >>"$run/meta.txt"
done
start=$(date +%s%N)
$PY bench/load.py prepare "$run/env.txt"
echo "lab prepared in $(secs_since "$start") s"
cat "$run/env.txt" >>"$run/meta.txt"
# shellcheck disable=SC1091
source "$run/env.txt"

# 2. Server ----------------------------------------------------------------------------------------------------
$PY manage.py collectstatic --noinput -v0
.venv/bin/gunicorn iclrnotes.wsgi -b "127.0.0.1:$PORT" -w "$WORKERS" --log-level warning >"$run/gunicorn.log" 2>&1 &
gunicorn_pid=$!
for _ in $(seq 100); do
  curl -fs -o /dev/null "$BASE/healthz" && break
  kill -0 "$gunicorn_pid" 2>/dev/null || { cat "$run/gunicorn.log" >&2; exit 1; }
  sleep 0.2
done
curl -fs -o /dev/null "$BASE/healthz" || { echo "gunicorn did not answer /healthz" >&2; cat "$run/gunicorn.log" >&2; exit 1; }
echo "== gunicorn $gunicorn_pid on $BASE ($WORKERS workers)"

worker_rss() { ps --ppid "$gunicorn_pid" -o pid=,rss= ; }

# 3. Load ------------------------------------------------------------------------------------------------------
cat >"$run/report.lua" <<'LUA'
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50=%d p90=%d p95=%d p99=%d status=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
LUA
conf=/labs/$LAB/iclr-2024
cookie="Cookie: $SESSION_COOKIE_NAME=$SESSION; $CSRF_COOKIE_NAME=$CSRF_SECRET"
endpoints=(  # key|path|script|extra header
  "healthz|/healthz|report|"
  "list|$conf/papers/|report|"
  "list_filter|$conf/papers/?tier=spotlight|report|"
  "list_search|$conf/papers/?q=diffusion+models|report|"
  "paper|$conf/papers/$PAPER/|report|"
  "inbox|$conf/triage/|report|HX-Request: true"
  "star|$conf/papers/$PAPER/star/|star|HX-Request: true"
  "dashboard|$conf/|report|"
  "schedule|$conf/schedule/|report|"
)
first=1
for entry in "${endpoints[@]}"; do
  IFS='|' read -r key path script extra <<<"$entry"
  url=$BASE$path
  echo "URL_$key=$path" >>"$run/meta.txt"
  headers=(-H "$cookie")
  [ -n "$extra" ] && headers+=(-H "$extra")
  if [ "$script" = star ]; then
    lua=bench/star.lua
    status=$(curl -s -o "$run/$key.body" -w '%{http_code}' -X POST "${headers[@]}" -H "X-CSRFToken: $CSRF_TOKEN" \
      --data starred=1 "$url")
    headers+=(-H "X-CSRFToken: $CSRF_TOKEN")
  else
    lua=$run/report.lua
    status=$(curl -s -o "$run/$key.body" -w '%{http_code}' "${headers[@]}" "$url")
  fi
  size=$(wc -c <"$run/$key.body")
  if [ "$status" != 200 ]; then
    echo "$key: HTTP $status on the check request, not loaded" | tee "$run/$key.wrk"
    continue
  fi
  wrk -c "$CONNECTIONS" -t "$THREADS" -d "$WARMUP" --timeout 10s -s "$lua" "${headers[@]}" "$url" >/dev/null
  wrk -c "$CONNECTIONS" -t "$THREADS" -d "$DURATION" --timeout 10s --latency -s "$lua" "${headers[@]}" "$url" \
    >"$run/$key.wrk"
  printf '%-12s %6s bytes  %s\n' "$key" "$size" "$(grep -E '^Requests/sec' "$run/$key.wrk")"
  worker_rss >"$run/rss_$key.txt"
  if [ $first = 1 ]; then cp "$run/rss_$key.txt" "$run/rss_first.txt"; first=0; fi
done
worker_rss >"$run/rss_last.txt"

# 4. Table -----------------------------------------------------------------------------------------------------
$PY bench/load.py report "$run"
if grep -qiE 'error|exception' "$run/gunicorn.log"; then
  echo "gunicorn log (tail):"; tail -20 "$run/gunicorn.log"
fi
