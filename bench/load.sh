#!/usr/bin/env bash
# Load benchmark on loopback: gunicorn (production settings, DEBUG off, 2 sync workers) with the real ICLR 2024 and
# NeurIPS 2023 programmes and a 20-member lab, on PostgreSQL and on SQLite, at 1× and at 10× the papers
# (bench/scale.py), driven by wrk as a logged-in member at fixed concurrency for a fixed time per endpoint.
# Prints, per engine and scale, req/s, p50/p95 and the ratio to /healthz of the same run against the budgets of
# issue 8; then the 10×/1× throughput, the import times, the workers' resident memory, the list page's size and
# the static files' headers (bench/load.py report); writes bench/results.json.
#
#   bash bench/load.sh          # after `make install`; about 11 minutes on 2 cores
#   bash bench/load.sh tools    # only check for wrk (and install it when root with apt-get)
#
# Knobs (environment): ENGINES ("postgresql sqlite"), SCALE (10; 1 skips the bigger runs), PG_URL (a database
# dropped and made anew, dropped again at the end), PORT, WORKERS, CONNECTIONS, THREADS, DURATION, WARMUP, DATA,
# BENCH_START (date +%s%N when `make bench` began, for the elapsed time), KEEP_RUN=1 (keep the run's folder).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
ENGINES=${ENGINES:-postgresql sqlite}
SCALE=${SCALE:-10}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/iclrnotes_load}
PORT=${PORT:-8099}
WORKERS=${WORKERS:-2}
CONNECTIONS=${CONNECTIONS:-8}
THREADS=${THREADS:-2}
DURATION=${DURATION:-8s}
WARMUP=${WARMUP:-2s}
BENCH_START=${BENCH_START:-$(date +%s%N)}
PY=.venv/bin/python
BASE=http://127.0.0.1:$PORT
admin_url="${PG_URL%/*}/postgres"

ensure_wrk() {
  command -v wrk >/dev/null && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing wrk (apt-get install -y wrk)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  fi
  command -v wrk >/dev/null || {
    echo "wrk is missing: install it (Debian/Ubuntu: sudo apt-get install -y wrk; macOS: brew install wrk)" >&2
    exit 1
  }
}
ensure_wrk
[ "${1:-}" = tools ] && exit 0
for tool in curl psql; do command -v $tool >/dev/null || { echo "$tool is missing" >&2; exit 1; }; done

run=$(mktemp -d)
# shellcheck source=bench/lib.sh
source bench/lib.sh
sampler_pid=""
stop_server() {
  if [ -n "$sampler_pid" ]; then
    kill "$sampler_pid" 2>/dev/null || true
    wait "$sampler_pid" 2>/dev/null || true  # it ends by the signal: not a failure of the run
    sampler_pid=""
  fi
  stop_gunicorn TERM
}
cleanup() {
  set +e
  stop_server
  drop_database
  if [ "${KEEP_RUN:-0}" = 1 ]; then echo "run folder kept: $run"; else rm -rf "$run"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

secs_since() {  # secs_since START_NS → seconds with two decimals
  local ns=$(( $(date +%s%N) - $1 ))
  printf '%d.%02d' $(( ns / 1000000000 )) $(( ns % 1000000000 / 10000000 ))
}
url_of() { [ "$1" = postgresql ] && echo "$PG_URL" || echo "sqlite:///$run/bench.sqlite3"; }

{ echo "CORES=$(nproc)"; echo "WORKERS=$WORKERS"; echo "CONNECTIONS=$CONNECTIONS"; echo "THREADS=$THREADS"
  echo "DURATION=$DURATION"; echo "WARMUP=$WARMUP"; echo "SCALE_FACTOR=$SCALE"
  echo "POSTGRESQL_VERSION='$(psql "$admin_url" -Atc 'SHOW server_version' 2>/dev/null || echo '?')'"
  echo "SQLITE_VERSION=$($PY -c 'import sqlite3; print(sqlite3.sqlite_version)')"; } >"$run/meta.txt"

# 1. Data at 1×, every engine before any is scaled: SQLite copies PostgreSQL's similar papers ----------------------
import_all() {  # import_all ENGINE [--no-similar]: both real files, timed (the similar papers apart)
  local engine=$1 flag=${2:-} pair name file start out
  for pair in iclr2024:iclr2024_openreview_notes.json neurips2023:neurips2023_openreview_notes.json; do
    name=${pair%%:*} file=${pair#*:}
    start=$(date +%s%N)
    out=$(DEBUG=1 $PY manage.py import_openreview $flag "$DATA/$file" 2>/dev/null)
    echo "$engine: import $file in $(secs_since "$start") s: $out" | tr '\n' ' '; echo
    # The command prints "… (6.2 s)" for the import, "… in 61.1 s" for the similar papers.
    echo "IMPORT_${engine}_$name=$(sed -nE '1s/.*\(([0-9.]+) s\)$/\1/p' <<<"$out")" >>"$run/meta.txt"
    [ -z "$flag" ] && echo "SIMILAR_${engine}_$name=$(sed -nE '2s/.* in ([0-9.]+) s$/\1/p' <<<"$out")" >>"$run/meta.txt"
  done
  return 0
}
for engine in $ENGINES; do
  export DATABASE_URL; DATABASE_URL=$(url_of "$engine")
  mkdir -p "$run/$engine-1x"
  echo "== $engine: data"
  if [ "$engine" = postgresql ]; then create_database; fi
  DEBUG=1 $PY manage.py migrate -v0
  if [ "$engine" = sqlite ] && [[ " $ENGINES " == *" postgresql "* ]]; then
    import_all "$engine" --no-similar
    start=$(date +%s%N)
    $PY bench/load.py copy-similar "$PG_URL"
    echo "SIMILAR_COPIED_$engine=$(secs_since "$start")" >>"$run/meta.txt"
  else
    import_all "$engine"
  fi
  start=$(date +%s%N)
  $PY bench/load.py prepare "$run/$engine-1x/env.txt"
  echo "$engine: lab prepared in $(secs_since "$start") s"
done
$PY manage.py collectstatic --noinput -v0

# 2. Load ----------------------------------------------------------------------------------------------------------
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

check_static() {  # the list page's stylesheets, scripts and icons: their response headers
  local body=$1 path
  : >"$run/static.txt"
  for path in $(grep -oE '(href|src)="/static/[^"]+"' "$body" | sed -E 's/^[a-z]+="//; s/"$//' | sort -u); do
    echo "URL $path" >>"$run/static.txt"
    curl -s -o /dev/null -D - -H 'Accept-Encoding: gzip' "$BASE$path" | tr -d '\r' >>"$run/static.txt"
  done
}

drain() {  # wait until the workers are idle: wrk leaves up to CONNECTIONS requests queued when it stops
  local start pids
  for _ in $(seq 60); do
    start=$(date +%s%N) pids=()
    for _ in $(seq "$WORKERS"); do curl -s -o /dev/null --max-time 30 "$BASE/healthz" & pids+=($!); done
    wait "${pids[@]}" || true
    [ $(( $(date +%s%N) - start )) -lt 100000000 ] && return 0
  done
}

load_run() {  # load_run ENGINE SCALE: gunicorn on the engine's database, every endpoint under wrk
  local engine=$1 scale=$2 dir=$run/$1-$2x key path script extra url headers status lua size t0 line
  export DATABASE_URL; DATABASE_URL=$(url_of "$engine")
  # The database as a running server keeps it: vacuumed and analysed (autovacuum does it within a minute of a
  # big load; without it, counts read every row's page instead of the index).
  if [ "$engine" = postgresql ]; then
    PGOPTIONS=--client-min-messages=warning psql "$PG_URL" -qc "VACUUM (ANALYZE)" >/dev/null
  else
    $PY -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('ANALYZE'); c.close()" "$run/bench.sqlite3"
  fi
  # shellcheck disable=SC1091
  source "$dir/env.txt"
  # Production settings and two URLs more: the floor under every page (bench/floor_urls.py).
  start_gunicorn "$dir/gunicorn.log" -w "$WORKERS" --pythonpath bench --env DJANGO_SETTINGS_MODULE=floor_settings
  echo "== $engine, ${scale}×: gunicorn $gunicorn_pid on $BASE ($WORKERS workers)"

  # The workers' resident memory every 5 s from the start of the load: "seconds pid rss_kb".
  t0=$(date +%s)
  ( while kill -0 "$gunicorn_pid" 2>/dev/null; do
      ps --ppid "$gunicorn_pid" -o pid=,rss= | sed "s/^ */$(( $(date +%s) - t0 )) /" >>"$dir/rss.txt"
      sleep 5
    done ) &
  sampler_pid=$!

  local conf=/labs/$LAB/iclr-2024
  local cookie="Cookie: $SESSION_COOKIE_NAME=$SESSION; $CSRF_COOKIE_NAME=$CSRF_SECRET"
  local endpoints=(  # key|path|script|extra header
    "healthz|/healthz|report|"
    "floor|/floor/|report|"
    "floor_write|/floor/write/|star|HX-Request: true"
    "list|$conf/papers/|report|"
    "list_filter|$conf/papers/?tier=spotlight|report|"
    "list_search|$conf/papers/?q=diffusion+models|report|"
    "paper|$conf/papers/$PAPER/|report|"
    "inbox|$conf/triage/|report|HX-Request: true"
    "star|$conf/papers/$PAPER/star/|star|HX-Request: true"
    "dashboard|$conf/|report|"
    "schedule|$conf/schedule/|report|"
  )
  for entry in "${endpoints[@]}"; do
    IFS='|' read -r key path script extra <<<"$entry"
    url=$BASE$path
    headers=(-H "$cookie")
    [ -n "$extra" ] && headers+=(-H "$extra")
    if [ "$script" = star ]; then
      lua=bench/star.lua
      headers+=(-H "X-CSRFToken: $CSRF_TOKEN")
      status=$(curl -s -o "$dir/$key.body" -w '%{http_code}' -X POST "${headers[@]}" --data starred=1 "$url")
    else
      lua=$run/report.lua
      status=$(curl -s -o "$dir/$key.body" -w '%{http_code}' "${headers[@]}" "$url")
    fi
    size=$(wc -c <"$dir/$key.body")
    { echo "URL_$key='$path'"; echo "SIZE_$key=$size"; } >>"$dir/meta.txt"
    [ "$key" = list ] && [ ! -s "$run/static.txt" ] && check_static "$dir/$key.body"
    rm -f "$dir/$key.body"
    if [ "$status" != 200 ]; then
      echo "HTTP $status on the check request, not loaded" | tee "$dir/$key.wrk"
      continue
    fi
    wrk -c "$CONNECTIONS" -t "$THREADS" -d "$WARMUP" --timeout 10s -s "$lua" "${headers[@]}" "$url" >/dev/null
    wrk -c "$CONNECTIONS" -t "$THREADS" -d "$DURATION" --timeout 10s --latency -s "$lua" "${headers[@]}" "$url" \
      >"$dir/$key.wrk"
    drain
    line=$(grep -E '^Requests/sec' "$dir/$key.wrk" || echo '?')
    printf '  %-12s %7s bytes  %s\n' "$key" "$size" "$line"
  done
  ps --ppid "$gunicorn_pid" -o pid=,rss= | sed "s/^ */$(( $(date +%s) - t0 )) /" >>"$dir/rss.txt"
  stop_server
  # What wrk cannot show (it asks the same page again and again): each page's time after a change in the lab.
  echo "   server time in-process, after a change in the lab / nothing changed:"
  $PY bench/load.py cache-effect "$dir"
  if grep -qiE 'error|exception|traceback' "$dir/gunicorn.log"; then
    echo "gunicorn log (tail):"; tail -20 "$dir/gunicorn.log"
  fi
}

for engine in $ENGINES; do
  load_run "$engine" 1
  if [ "$SCALE" -gt 1 ]; then
    export DATABASE_URL; DATABASE_URL=$(url_of "$engine")
    mkdir -p "$run/$engine-${SCALE}x"
    echo "== $engine: ×$SCALE papers"
    start=$(date +%s%N)
    $PY bench/scale.py --factor "$SCALE"
    echo "SCALE_$engine=$(secs_since "$start")" >>"$run/meta.txt"
    $PY bench/load.py prepare "$run/$engine-${SCALE}x/env.txt"
    load_run "$engine" "$SCALE"
  fi
done

# 3. Tables --------------------------------------------------------------------------------------------------------
echo "ELAPSED=$(secs_since "$BENCH_START")" >>"$run/meta.txt"
$PY bench/load.py report "$run"
