#!/usr/bin/env bash
# Time the real-data imports on SQLite and PostgreSQL: a first import into an empty database,
# then a re-import (which must change nothing). Run from the project root after `make install`:
#   bash bench/import_times.sh
# PostgreSQL: PG_URL (default postgres://postgres@127.0.0.1:5432/iclrnotes_bench) is dropped and made anew.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/iclrnotes_bench}
PY=.venv/bin/python
export DEBUG=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run() {  # run LABEL DATABASE_URL
  local label=$1 url=$2
  DATABASE_URL=$url $PY manage.py migrate -v0
  for file in iclr2024_openreview_notes.json neurips2023_openreview_notes.json; do
    for pass in first re-import; do
      start=$(date +%s.%N)
      summary=$(DATABASE_URL=$url $PY manage.py import_openreview "$DATA/$file" 2>/dev/null)
      end=$(date +%s.%N)
      printf '%-10s %-34s %-9s %6.2f s (whole command)  %s\n' "$label" "$file" "$pass" "$(echo "$end - $start" | bc)" "$summary"
    done
  done
}

run sqlite "sqlite:///$tmp/bench.sqlite3"
db=${PG_URL##*/}
PGOPTIONS=--client-min-messages=warning psql "${PG_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
run postgres "$PG_URL"
PGOPTIONS=--client-min-messages=warning psql "${PG_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null
