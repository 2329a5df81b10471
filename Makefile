# iclrnotes: the README's two commands, and the developer's others.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install lint format check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

## make install: the runtime and the development requirements
install: $(VENV)/.dev

## make run: install into .venv, migrate the SQLite database, load the demo, serve on http://127.0.0.1:8000
run: $(VENV)/.runtime
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py demo
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

## make test: the whole suite (SQLite, or the database in DATABASE_URL); browser tests need Chromium
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## make check: what CI checks beside the tests
check: install
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	env -u DEBUG SECRET_KEY="$$(head -c 48 /dev/urandom | base64)" ALLOWED_HOSTS=iclrnotes.example.org \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

## make bench: the load benchmark of issue 8 (bench/load.sh): gunicorn (DEBUG off) on PostgreSQL and on SQLite with
## the real ICLR 2024 and NeurIPS 2023 programmes and a 20-member lab, at 1× and at 10× the papers, each endpoint
## loaded by wrk on loopback; prints the tables and the time it took, writes bench/results.json. About 11 minutes
## on 2 cores. Needs curl, wrk (installed by apt-get when run as root, else it says how) and a PostgreSQL where it
## may create a database (PG_URL). The in-process page times and the re-import times are apart:
## bash bench/page_times.sh, bash bench/import_times.sh. Then the safety runs of issue 9 (make bench-safety, below:
## about 4 minutes): some 15 minutes in all.
bench: install
	@bash bench/load.sh tools
	@start=$$(date +%s%N); BENCH_START=$$start bash bench/load.sh; status=$$?; \
	  $(MAKE) --no-print-directory bench-safety || status=1; \
	  ns=$$(( $$(date +%s%N) - start )); \
	  echo "make bench: $$(( ns / 60000000000 )) min $$(( ns / 1000000000 % 60 )) s in all"; exit $$status

clean:
	rm -rf $(VENV) staticfiles .pytest_cache

## make bench-safety: 32 lab members at once for 60 s (no 5xx, no failed request), then PostgreSQL stopped
## for a few seconds under load (503 pages, recovery without restarting gunicorn, nothing lost); figures
## in bench/mixed_results.json. Restarts the machine's PostgreSQL: not while others use it.
.PHONY: bench-safety
bench-safety: install
	KEEP_DB=1 bash bench/mixed_load.sh; status=$$?; bash bench/faults.sh && exit $$status
