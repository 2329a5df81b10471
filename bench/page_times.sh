#!/usr/bin/env bash
# Median server time of the list, the inbox and the dashboard on the real ICLR 2024 data, on SQLite and PostgreSQL,
# under production settings (DEBUG off). Run from the project root after `make install`.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/iclrnotes_bench}
PY=.venv/bin/python
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SECRET_KEY=bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz ALLOWED_HOSTS=testserver
export SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0
$PY manage.py collectstatic --noinput -v0

DATABASE_URL="sqlite:///$tmp/bench.sqlite3" $PY manage.py migrate -v0
DATABASE_URL="sqlite:///$tmp/bench.sqlite3" $PY bench/page_times.py
DATABASE_URL="sqlite:///$tmp/bench.sqlite3" $PY bench/dashboard_time.py

db=${PG_URL##*/}
PGOPTIONS=--client-min-messages=warning psql "${PG_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
DATABASE_URL="$PG_URL" $PY manage.py migrate -v0
DATABASE_URL="$PG_URL" $PY bench/page_times.py
DATABASE_URL="$PG_URL" $PY bench/dashboard_time.py
PGOPTIONS=--client-min-messages=warning psql "${PG_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null
