#!/usr/bin/env bash
# Mixed load on loopback (issue 9, point 4): 32 lab members at once for 60 seconds against gunicorn
# (production settings, DEBUG off) on PostgreSQL with the real ICLR 2024 and NeurIPS 2023 programmes and
# bench/dashboard_time.py's 20-member lab. Each Locust user logs in through the login form as one of 8
# members, then browses the list (pages, filters), searches, opens papers, stars and unstars, adds notes,
# works the inbox and looks at the dashboard (bench/mixed_load_locust.py). Prints requests, p50/p95/p99,
# non-2xx/3xx, 5xx and failed requests per kind, writes bench/mixed_results.json ("mixed_load"), and exits
# non-zero on any 5xx or failed request.
#
# gunicorn: 3 gthread workers × 4 threads on 2 cores. Rendering is CPU-bound Python, so one process per
# core would do, plus one to keep the cores busy while the others wait on PostgreSQL; a few threads
# per process overlap those waits without the memory of more processes. Each thread keeps its own
# PostgreSQL connection (CONN_MAX_AGE=60), so the app holds at most 3 × 4 = 12 of max_connections (the
# script reports the peak it saw). Locust itself takes a good part of a core.
#
# Run from anywhere after `make install`:   bash bench/mixed_load.sh
# Knobs (environment): PG_URL (made anew unless REUSE_DB=1 finds it ready; dropped at the end unless
# KEEP_DB=1, for bench/faults.sh to reuse), PORT, WORKERS, GTHREADS, CONN_MAX_AGE, USERS, MEMBERS, DURATION (s), THINK_MIN/THINK_MAX
# (s between a user's tasks; 0: none), DATA.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/iclrnotes_safety}
PORT=${PORT:-8097}
WORKERS=${WORKERS:-3}
GTHREADS=${GTHREADS:-4}
CONN_MAX_AGE=${CONN_MAX_AGE:-60}
USERS=${USERS:-32}
MEMBERS=${MEMBERS:-8}
DURATION=${DURATION:-60}
THINK_MIN=${THINK_MIN:-0}
THINK_MAX=${THINK_MAX:-0}
KEEP_DB=${KEEP_DB:-0}
REUSE_DB=${REUSE_DB:-0}
PY=.venv/bin/python
BASE=http://127.0.0.1:$PORT
db=${PG_URL##*/}
admin_url="${PG_URL%/*}/postgres"

command -v psql >/dev/null || { echo "psql not found" >&2; exit 1; }
[ -x .venv/bin/locust ] || { echo "locust not found: make install" >&2; exit 1; }

run=$(mktemp -d)
# shellcheck source=bench/lib.sh
source bench/lib.sh
sampler_pid=""
cleanup() {
  set +e
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null
  stop_gunicorn QUIT  # quick shutdown: requests still running (the run is over) are cut
  if [ "$KEEP_DB" != 1 ]; then drop_database; fi
  rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export DATABASE_URL=$PG_URL CONN_MAX_AGE

# 1. Data ------------------------------------------------------------------------------------------------
if [ "$REUSE_DB" = 1 ] && psql "$PG_URL" -Atc "SELECT 1 FROM papers_lab WHERE slug = 'dash-lab'" 2>/dev/null | grep -q 1; then
  echo "== database $db (kept from an earlier run)"
  DEBUG=1 $PY manage.py migrate -v0
else
  echo "== database $db"
  create_database
  DEBUG=1 $PY manage.py migrate -v0
  for file in iclr2024_openreview_notes.json neurips2023_openreview_notes.json; do
    echo "import $file: $(DEBUG=1 $PY manage.py import_openreview "$DATA/$file" 2>/dev/null)"
  done
fi
MEMBERS=$MEMBERS $PY bench/mixed_load.py prepare "$run"
{ echo "CORES=$(nproc)"; echo "WORKERS=$WORKERS"; echo "GTHREADS=$GTHREADS"; echo "CONN_MAX_AGE=$CONN_MAX_AGE"
  echo "USERS=$USERS"; echo "MEMBERS=$MEMBERS"; echo "THINK_MIN=$THINK_MIN"; echo "THINK_MAX=$THINK_MAX"
  echo "MAX_CONNECTIONS=$(psql "$admin_url" -Atc 'SHOW max_connections')"; } >"$run/meta.txt"

# 2. Server ----------------------------------------------------------------------------------------------
$PY manage.py collectstatic --noinput -v0
start_gunicorn "$run/gunicorn.log" -k gthread -w "$WORKERS" --threads "$GTHREADS"
echo "== gunicorn $gunicorn_pid on $BASE ($WORKERS gthread workers × $GTHREADS threads)"

# The app's PostgreSQL connections, twice a second, for the peak.
( while :; do psql "$admin_url" -Atc "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db'"; sleep 0.5; done \
    >"$run/connections.txt" 2>/dev/null ) &
sampler_pid=$!

# 3. Load ------------------------------------------------------------------------------------------------
echo "== $USERS users (members: $MEMBERS) for ${DURATION} s after they have all logged in"
RUN_DIR=$run DURATION=$DURATION MODE=mixed THINK_MIN=$THINK_MIN THINK_MAX=$THINK_MAX \
  .venv/bin/locust -f bench/mixed_load_locust.py --headless -u "$USERS" -r "$USERS" -H "$BASE" \
  --run-time "$((DURATION + 300))s" --only-summary --loglevel WARNING >"$run/locust.log" 2>&1 || true
kill "$sampler_pid" 2>/dev/null; sampler_pid=""
{ echo "PEAK_CONNECTIONS=$(sort -n "$run/connections.txt" | tail -1)"
  echo "LOAD_AVERAGE=\"$(cut -d' ' -f1-3 /proc/loadavg)\""; } >>"$run/meta.txt"
[ -s "$run/requests.jsonl" ] || { echo "Locust recorded nothing:" >&2; tail -30 "$run/locust.log" >&2; exit 1; }

# 4. Table -----------------------------------------------------------------------------------------------
status=0
$PY bench/mixed_load.py report "$run" || status=$?
if grep -qE 'Traceback|ERROR' "$run/gunicorn.log"; then
  echo "gunicorn log (tail):"; tail -30 "$run/gunicorn.log"
fi
exit $status
