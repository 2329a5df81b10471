#!/usr/bin/env bash
# PostgreSQL goes away under load (issue 9, point 5). gunicorn (production settings, as bench/mixed_load.sh)
# serves a steady light load of lab members (browse, search, papers, inbox, dashboard; stars that are only
# ever set and notes that are only ever added, so every acknowledged write must survive); after BEFORE
# seconds PostgreSQL is stopped (fast shutdown: connections cut, open transactions rolled back) for
# OUTAGE seconds and started again; the load goes on AFTER seconds more. gunicorn is never restarted.
#
# Reports the outage's length (stop issued → accepting connections again), the requests during it and
# their answers (503s with the friendly page and Retry-After; 500s, other 5xx and failed requests must
# be 0), the recovery time (first 2xx/3xx after PostgreSQL accepts connections again), errors after it,
# whether every star and note acknowledged before the outage (and during the whole run) is still there,
# and that gunicorn's master and workers are the same processes as before. Writes bench/mixed_results.json
# ("faults"); exits non-zero on any of those failing.
#
# The PostgreSQL server is the machine's own, shared with other work: the outage is kept to a few seconds,
# and PostgreSQL is started again on any exit of this script.
#
# Run from anywhere after `make install`:   bash bench/faults.sh
# Knobs (environment): PG_URL (reused if bench/mixed_load.sh left it with KEEP_DB=1, else made; dropped at
# the end unless KEEP_DB=1), PG_CLUSTER ("VERSION NAME", default: the one cluster in /etc/postgresql),
# PORT, WORKERS, GTHREADS, CONN_MAX_AGE, USERS, MEMBERS, THINK_MIN/THINK_MAX, BEFORE, OUTAGE, AFTER (s).
set -euo pipefail
cd "$(dirname "$0")/.."
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/iclrnotes_safety}
PG_CLUSTER=${PG_CLUSTER:-"$(ls /etc/postgresql) main"}
PORT=${PORT:-8098}
WORKERS=${WORKERS:-3}
GTHREADS=${GTHREADS:-4}
CONN_MAX_AGE=${CONN_MAX_AGE:-60}
USERS=${USERS:-4}
MEMBERS=${MEMBERS:-4}
THINK_MIN=${THINK_MIN:-0.1}
THINK_MAX=${THINK_MAX:-0.3}
BEFORE=${BEFORE:-10}
OUTAGE=${OUTAGE:-5}
AFTER=${AFTER:-15}
KEEP_DB=${KEEP_DB:-0}
PY=.venv/bin/python
BASE=http://127.0.0.1:$PORT
db=${PG_URL##*/}
admin_url="${PG_URL%/*}/postgres"
pg_host=$(echo "$PG_URL" | sed -E 's#^[a-z]+://([^@/]*@)?([^:/]+).*#\2#')
pg_port=$(echo "$PG_URL" | sed -nE 's#^[a-z]+://([^@/]*@)?[^:/]+:([0-9]+)/.*#\2#p')
pg_port=${pg_port:-5432}

command -v psql >/dev/null && command -v pg_ctlcluster >/dev/null && command -v pg_isready >/dev/null \
  || { echo "psql, pg_ctlcluster and pg_isready are needed (Debian's postgresql-common)" >&2; exit 1; }
[ -x .venv/bin/locust ] || { echo "locust not found: make install" >&2; exit 1; }

# shellcheck disable=SC2086
pgctl() { pg_ctlcluster --skip-systemctl-redirect $PG_CLUSTER "$@"; }
pg_accepting() { pg_isready -q -h "$pg_host" -p "$pg_port"; }
now() { date +%s.%N; }

run=$(mktemp -d)
# shellcheck source=bench/lib.sh
source bench/lib.sh
locust_pid=""
cleanup() {
  set +e
  # Never leave the machine's PostgreSQL stopped.
  if ! pgctl status >/dev/null 2>&1; then
    echo "starting PostgreSQL again" >&2
    pgctl start
  fi
  for _ in $(seq 300); do pg_accepting && break; sleep 0.1; done
  if [ -n "$locust_pid" ] && kill -0 "$locust_pid" 2>/dev/null; then
    kill -TERM "$locust_pid"
    for _ in $(seq 50); do kill -0 "$locust_pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$locust_pid" 2>/dev/null && kill -KILL "$locust_pid"
  fi
  stop_gunicorn QUIT
  if [ "$KEEP_DB" != 1 ]; then drop_database; fi
  rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export DATABASE_URL=$PG_URL CONN_MAX_AGE

# 1. Data: bench/mixed_load.sh's database if it is there, else ICLR 2024 and the lab ---------------------
if psql "$PG_URL" -Atc "SELECT 1 FROM papers_lab WHERE slug = 'dash-lab'" 2>/dev/null | grep -q 1; then
  echo "== database $db (kept from bench/mixed_load.sh)"
else
  echo "== database $db"
  create_database
fi
DEBUG=1 $PY manage.py migrate -v0
MEMBERS=$MEMBERS $PY bench/mixed_load.py prepare "$run"
lab_counts() {  # the lab members' stars and notes, as SQL sees them
  psql "$PG_URL" -Atc "
    SELECT (SELECT count(*) FROM papers_readingstatus s JOIN papers_membership m ON m.user_id = s.user_id
              JOIN papers_lab l ON l.id = m.lab_id WHERE l.slug = 'dash-lab' AND s.starred),
           (SELECT count(*) FROM papers_note n JOIN papers_membership m ON m.user_id = n.author_id
              JOIN papers_lab l ON l.id = m.lab_id WHERE l.slug = 'dash-lab')" | tr '|' ' '
}

# 2. Server ----------------------------------------------------------------------------------------------
$PY manage.py collectstatic --noinput -v0
start_gunicorn "$run/gunicorn.log" -k gthread -w "$WORKERS" --threads "$GTHREADS"
gunicorn_pids() { echo "$gunicorn_pid $(ps --ppid "$gunicorn_pid" -o pid= | sort -n | tr '\n' ' ')" | xargs; }
pids_before=$(gunicorn_pids)
echo "== gunicorn $pids_before on $BASE ($WORKERS gthread workers × $GTHREADS threads)"

# 3. Load, and the outage in the middle of it ------------------------------------------------------------
RUN_DIR=$run DURATION=$((BEFORE + OUTAGE + AFTER + 120)) MODE=faults THINK_MIN=$THINK_MIN THINK_MAX=$THINK_MAX \
  .venv/bin/locust -f bench/mixed_load_locust.py --headless -u "$USERS" -r "$USERS" -H "$BASE" \
  --run-time "$((BEFORE + OUTAGE + AFTER + 420))s" --only-summary --loglevel WARNING >"$run/locust.log" 2>&1 &
locust_pid=$!
for _ in $(seq 1800); do [ -f "$run/ready" ] && break; kill -0 "$locust_pid" 2>/dev/null || break; sleep 0.1; done
[ -f "$run/ready" ] || { echo "the users did not log in:" >&2; tail -20 "$run/locust.log" >&2; exit 1; }
echo "== $USERS users as $MEMBERS members logged in; ${BEFORE} s of load, then PostgreSQL stopped for ${OUTAGE} s"
sleep "$BEFORE"

read -r stars_before notes_before <<<"$(lab_counts)"
t_stop=$(now)
pgctl stop
t_down=$(now)
sleep "$OUTAGE"
t_start=$(now)
pgctl start &  # it returns a while after the server accepts connections: watch for that meanwhile
start_pid=$!
for _ in $(seq 600); do pg_accepting && break; sleep 0.05; done
pg_accepting || { echo "PostgreSQL does not accept connections again" >&2; exit 1; }
t_up=$(now)
wait "$start_pid"
echo "== PostgreSQL back; ${AFTER} s more of load"
sleep "$AFTER"
touch "$run/stop"
wait "$locust_pid" || true
locust_pid=""
read -r stars_after notes_after <<<"$(lab_counts)"
pids_after=$(gunicorn_pids)

cat >"$run/outage.txt" <<EOF
T_STOP=$t_stop
T_DOWN=$t_down
T_START=$t_start
T_UP=$t_up
COUNT_STARS_BEFORE=$stars_before
COUNT_STARS_AFTER=$stars_after
COUNT_NOTES_BEFORE=$notes_before
COUNT_NOTES_AFTER=$notes_after
EOF
{ echo "WORKERS=$WORKERS"; echo "GTHREADS=$GTHREADS"; echo "THINK_MIN=$THINK_MIN"; echo "THINK_MAX=$THINK_MAX"
  echo "OUTAGE_HOW=\"stopped (fast shutdown), started again ${OUTAGE} s later, with pg_ctlcluster $PG_CLUSTER\""
  echo "GUNICORN_PIDS_BEFORE=\"$pids_before\""; echo "GUNICORN_PIDS_AFTER=\"$pids_after\""; } >"$run/meta.txt"
awk -v a="$t_stop" -v b="$t_down" -v c="$t_start" -v d="$t_up" \
  'BEGIN { printf "   stop took %.2f s; start, until accepting connections, %.2f s\n", b - a, d - c }'
[ -s "$run/requests.jsonl" ] || { echo "Locust recorded nothing:" >&2; tail -30 "$run/locust.log" >&2; exit 1; }

# 4. Figures ---------------------------------------------------------------------------------------------
status=0
$PY bench/mixed_load.py faults-report "$run" || status=$?
for sample in "$run"/sample_*.html; do
  [ -f "$sample" ] || continue
  echo "-- $(basename "$sample"):"; sed -e 's/^/   /' "$sample" | grep -vE '^\s*$' | head -24
done
echo "gunicorn log: $(grep -c 'Database unavailable' "$run/gunicorn.log" || true) 'Database unavailable' lines," \
  "$(grep -c 'Traceback' "$run/gunicorn.log" || true) tracebacks"
if grep -qE 'Traceback|ERROR' "$run/gunicorn.log"; then tail -30 "$run/gunicorn.log"; fi
exit $status
