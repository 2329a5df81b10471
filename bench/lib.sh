# What the load scripts share (bench/load.sh, bench/mixed_load.sh, bench/faults.sh): production settings on
# loopback, gunicorn started and stopped, a PostgreSQL database made anew or dropped. Sourced from the project's
# root after the caller has set BASE (http://127.0.0.1:PORT) and PG_URL.
# shellcheck shell=bash

# Production settings (DEBUG off; the session hash depends on SECRET_KEY), plain HTTP on loopback.
export SECRET_KEY=bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz ALLOWED_HOSTS=127.0.0.1
export SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0
unset DEBUG

gunicorn_pid=""

start_gunicorn() {  # start_gunicorn LOG [gunicorn options…]: serves the app on $BASE (gunicorn_pid), answering /healthz
  local log=$1
  shift
  .venv/bin/gunicorn iclrnotes.wsgi -b "${BASE#http://}" --log-level warning "$@" >"$log" 2>&1 &
  gunicorn_pid=$!
  for _ in $(seq 100); do
    curl -fs -o /dev/null "$BASE/healthz" && return 0
    kill -0 "$gunicorn_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.2
  done
  echo "gunicorn did not answer /healthz" >&2
  cat "$log" >&2
  exit 1
}

stop_gunicorn() {  # stop_gunicorn [SIGNAL]: TERM (the default) lets running requests end, QUIT cuts them; KILL after 10 s
  local signal=${1:-TERM} workers
  if [ -n "$gunicorn_pid" ] && kill -0 "$gunicorn_pid" 2>/dev/null; then
    workers=$(ps --ppid "$gunicorn_pid" -o pid= | tr '\n' ' ')
    kill -"$signal" "$gunicorn_pid" || true
    for _ in $(seq 50); do kill -0 "$gunicorn_pid" 2>/dev/null || break; sleep 0.2; done
    # shellcheck disable=SC2086
    if kill -0 "$gunicorn_pid" 2>/dev/null; then kill -KILL "$gunicorn_pid" $workers 2>/dev/null || true; fi
    wait "$gunicorn_pid" 2>/dev/null || true  # it ends by our signal: not a failure of the run
  fi
  gunicorn_pid=""
  return 0
}

_admin_psql() { PGOPTIONS=--client-min-messages=warning psql "${PG_URL%/*}/postgres" -q "$@" >/dev/null; }
drop_database() { _admin_psql -c "DROP DATABASE IF EXISTS ${PG_URL##*/} WITH (FORCE)"; }
create_database() { drop_database && _admin_psql -c "CREATE DATABASE ${PG_URL##*/}"; }
