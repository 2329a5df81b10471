"""
Helpers of the load benchmark (bench/load.sh): the data and credentials before a run, the tables after.

    .venv/bin/python bench/load.py prepare ENV_FILE        # the 20-member lab, a member's session, a CSRF token
    .venv/bin/python bench/load.py copy-similar SOURCE_URL  # the similar-paper rows of another database
    .venv/bin/python bench/load.py cache-effect RUN_FOLDER   # server time of each page, after a change and not
    .venv/bin/python bench/load.py report RUN_DIR [OUT]     # the tables, and bench/results.json (or OUT)

`prepare` uses the database in DATABASE_URL, with ICLR 2024 imported beforehand (it imports it when
missing), and reuses bench/dashboard_time.py's lab: 20 members, about 20,000 statuses, 6,000 stars,
3,000 notes, a split, and a second lab on the same conference. It writes shell assignments to ENV_FILE.
Run again (after bench/scale.py, say), it keeps the lab and writes a new session and paper.

`copy-similar` copies the PaperNeighbor rows of the PostgreSQL database SOURCE_URL into the database in
DATABASE_URL (the same conferences imported with --no-similar), matching papers by conference and forum id:
the SQLite run gets the same similar papers without computing them a second time.

`cache-effect` times each page in-process (Django's test client, the run's member and database) twice, a
number of times: first after a change in the lab (its version bumped, as any member's star does), which
computes the page's cached parts anew, then with nothing changed (what wrk measures: it asks the same page
again and again). It writes `cache.txt` (COLD_<key>=ms, WARM_<key>=ms, medians) to RUN_FOLDER.

`report` reads what load.sh left in RUN_DIR:
- `meta.txt`: shell assignments: CORES, WORKERS, CONNECTIONS, THREADS, DURATION, WARMUP, SCALE_FACTOR,
  ELAPSED (seconds since `make bench` started, when known), and per engine IMPORT_<engine>_<conference>,
  SIMILAR_<engine>_<conference> (the similar papers computed by the import) or SIMILAR_COPIED_<engine> (both
  conferences' copied from PostgreSQL), SCALE_<engine> (seconds of bench/scale.py), <ENGINE>_VERSION;
- one folder per run, `<engine>-<n>x` (n = 1, or the scale factor), holding `env.txt` (prepare's output),
  `meta.txt` (URL_<key>, SIZE_<key>: the check request's path and body size), one `<key>.wrk` per endpoint
  (wrk's output, with the `RESULT …` line of the Lua `done()`), and `rss.txt` (`seconds pid rss_kb` a line,
  sampled every few seconds since the load began);
- `static.txt`: the response headers of the list page's static assets (`URL <path>` then the headers).
"""

import json
import os
import re
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# key, label, budget as a share of /healthz throughput (None: a reference: /healthz itself, and the floor under
# every page, bench/floor_urls.py)
ENDPOINTS = [
    ("healthz", "/healthz", None),
    ("floor", "floor: logged-in, no work", None),
    ("floor_write", "floor: logged-in 1-row write", None),
    ("list", "list, default", 0.06),
    ("list_filter", "list, filter tier=spotlight", 0.06),
    ("list_search", "list, search 'diffusion models'", 0.06),
    ("paper", "paper page", 0.08),
    ("inbox", "inbox card (htmx)", 0.15),
    ("star", "star POST (htmx)", 0.25),
    ("dashboard", "dashboard", 0.05),
    ("schedule", "schedule", 0.05),
]
ENGINES = ["postgresql", "sqlite"]
GROWTH_BUDGET = 0.70  # at 10× the papers, a page keeps this share of its 1× throughput
RSS_BUDGET_MB = 150
HTML_BUDGET_BYTES = 150 * 1024
IMPORT_BUDGET_S = 10.0  # ICLR 2024, similar papers reported apart
FAR_FUTURE_S = 365 * 24 * 3600
CONFERENCES = [("iclr2024", "ICLR 2024"), ("neurips2023", "NeurIPS 2023")]
# A name collectstatic's manifest storage gave: name.<12 hex digits>.ext
HASHED = re.compile(r"\.[0-9a-f]{12}\.\w+$")


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iclrnotes.settings")
    import django

    django.setup()


# Before a run ---------------------------------------------------------------------------------------------------


def prepare(env_file: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    _setup_django()
    import dashboard_time
    from django.conf import settings
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret
    from django.test import Client

    from papers.models import Note, Paper, ReadingStatus

    lab, user = dashboard_time.prepare()
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    # The cookie carries the secret; the header may carry it masked, as the page's token would be.
    secret = _get_new_csrf_string()
    token = _mask_cipher_secret(secret)
    # A paper the lab has written about: the page shows notes, signals and the member's own status.
    noted = Note.objects.filter(lab=lab, paper__conference__slug="iclr-2024").order_by("paper__forum_id")
    paper = Paper.objects.get(pk=noted.values_list("paper_id", flat=True).first())
    statuses = ReadingStatus.objects.filter(user__memberships__lab=lab)
    values = {
        "LAB": lab.slug,
        "MEMBER": user.username,
        "PAPER": paper.forum_id,
        "SESSION_COOKIE_NAME": settings.SESSION_COOKIE_NAME,
        "SESSION": session,
        "CSRF_COOKIE_NAME": settings.CSRF_COOKIE_NAME,
        "CSRF_SECRET": secret,
        "CSRF_TOKEN": token,
        "PAPERS": Paper.objects.count(),
        "CONFERENCE_PAPERS": Paper.objects.filter(conference__slug="iclr-2024").count(),
        "LAB_MEMBERS": lab.memberships.count(),
        "LAB_STATUSES": statuses.count(),
        "LAB_STARS": statuses.filter(starred=True).count(),
        "LAB_NOTES": Note.objects.filter(author__memberships__lab=lab).count(),
    }
    env_file.write_text("".join(f"{key}={shlex.quote(str(value))}\n" for key, value in values.items()))
    print(
        f"prepared: {values['PAPERS']:,} papers; lab {lab.slug} of {values['LAB_MEMBERS']}: "
        f"{values['LAB_STATUSES']:,} statuses, {values['LAB_STARS']:,} stars, {values['LAB_NOTES']:,} notes; "
        f"member {user.username}, paper {paper.forum_id}"
    )


CACHE_EFFECT_ROUNDS = 15


def cache_effect(run_folder: Path) -> None:
    _setup_django()
    from statistics import median
    from time import perf_counter

    from django.conf import settings
    from django.test import Client

    from papers import versions
    from papers.models import Lab

    env = read_env(run_folder / "env.txt")
    lab = Lab.objects.get(slug=env["LAB"])
    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies[settings.SESSION_COOKIE_NAME] = env["SESSION"]
    client.cookies[settings.CSRF_COOKIE_NAME] = env["CSRF_SECRET"]
    conference = f"/labs/{lab.slug}/iclr-2024"
    pages = {
        "list": (f"{conference}/papers/", {}),
        "list_filter": (f"{conference}/papers/?tier=spotlight", {}),
        "list_search": (f"{conference}/papers/?q=diffusion+models", {}),
        "paper": (f"{conference}/papers/{env['PAPER']}/", {}),
        "inbox": (f"{conference}/triage/", {"HTTP_HX_REQUEST": "true"}),
        "dashboard": (f"{conference}/", {}),
        "schedule": (f"{conference}/schedule/", {}),
    }

    def took(path: str, headers: dict) -> float:
        started = perf_counter()
        response = client.get(path, **headers)
        elapsed = (perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}")
        return elapsed

    lines = []
    for key, (path, headers) in pages.items():
        took(path, headers)  # the worker's first request (imports, template loading) is not what we measure
        cold, warm = [], []
        for _ in range(CACHE_EFFECT_ROUNDS):
            versions.lab_activity_changed(labs=[lab.pk])  # a member's change somewhere in the lab
            cold.append(took(path, headers))
            warm.append(took(path, headers))
        lines += [f"COLD_{key}={median(cold):.1f}\n", f"WARM_{key}={median(warm):.1f}\n"]
        print(f"  {key:<12} after a change {median(cold):6.1f} ms   nothing changed {median(warm):6.1f} ms")
    (run_folder / "cache.txt").write_text("".join(lines))


def copy_similar(source_url: str) -> None:
    _setup_django()
    import psycopg
    from django.db import connection, transaction

    from papers.models import Conference, Paper, PaperNeighbor

    ids = {
        (slug, forum_id): pk for pk, slug, forum_id in Paper.objects.values_list("pk", "conference__slug", "forum_id")
    }
    neighbor, paper, conference = (model._meta.db_table for model in (PaperNeighbor, Paper, Conference))
    insert = f"INSERT INTO {neighbor} (paper_id, neighbor_id, score, rank) VALUES (%s, %s, %s, %s)"
    copied = 0
    with psycopg.connect(source_url) as source, source.cursor(name="similar") as rows, transaction.atomic():
        rows.itersize = 20_000
        rows.execute(
            f"SELECT c.slug, p.forum_id, q.forum_id, n.score, n.rank FROM {neighbor} n "
            f"JOIN {paper} p ON p.id = n.paper_id JOIN {paper} q ON q.id = n.neighbor_id "
            f"JOIN {conference} c ON c.id = p.conference_id ORDER BY n.paper_id, n.rank"
        )
        with connection.cursor() as cursor:
            while batch := rows.fetchmany(20_000):
                cursor.executemany(
                    insert,
                    [
                        (ids[slug, paper_id], ids[slug, neighbor_id], score, rank)
                        for slug, paper_id, neighbor_id, score, rank in batch
                    ],
                )
                copied += len(batch)
    print(f"copied {copied:,} similar-paper rows")


# After the runs -------------------------------------------------------------------------------------------------


def read_env(path: Path) -> dict[str, str]:
    values = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if "=" in line:
                key, _, value = line.partition("=")
                values[key] = " ".join(shlex.split(value))
    return values


def parse_wrk(path: Path) -> dict | None:
    if not path.exists():
        return None
    text = path.read_text()
    match = re.search(r"^RESULT (.*)$", text, re.MULTILINE)
    if match is None:
        return {"error": text.strip().splitlines()[0] if text.strip() else "no RESULT line in wrk output"}
    fields = dict(pair.split("=", 1) for pair in match.group(1).split())
    result = {
        "requests": int(fields["requests"]),
        "duration_s": int(fields["duration_us"]) / 1e6,
        "non_2xx_3xx": int(fields["status"]),
        "socket_errors": sum(int(fields[key]) for key in ("connect", "read", "write", "timeout")),
    }
    result["rps"] = result["requests"] / result["duration_s"] if result["duration_s"] else 0.0
    for pct in ("p50", "p90", "p95", "p99"):
        result[f"{pct}_ms"] = int(fields[pct]) / 1000
    return result


def read_rss(path: Path) -> dict:
    """Workers' resident memory (MB) after the first minute of load, at the end, and a minute before the end."""
    samples: dict[int, dict[int, float]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3 and all(part.isdigit() for part in parts):
                seconds, pid, rss_kb = (int(part) for part in parts)
                samples.setdefault(seconds, {})[pid] = round(rss_kb / 1024, 1)
    if not samples:
        return {}
    times = sorted(samples)
    end = times[-1]
    first_minute = next((t for t in times if t >= 60), end)
    last_minute_start = min(times, key=lambda t: abs(t - (end - 60)))
    peak = max(rss for sample in samples.values() for rss in sample.values())
    at_end = max(samples[end].values())
    return {
        "load_seconds": end,
        "after_first_minute": {"seconds": first_minute, "workers": samples[first_minute]},
        "last_minute_start": {"seconds": last_minute_start, "workers": samples[last_minute_start]},
        "at_end": {"seconds": end, "workers": samples[end]},
        "peak_mb": peak,
        "budget_mb": RSS_BUDGET_MB,
        "pass": at_end < RSS_BUDGET_MB and peak < RSS_BUDGET_MB,
    }


def read_static(path: Path) -> list[dict]:
    """Each static asset of the list page: compressed (gzip or brotli) and cached forever under a hashed name."""
    if not path.exists():
        return []
    assets, current = [], None
    for line in path.read_text().splitlines():
        if line.startswith("URL "):
            current = {"path": line[4:].strip(), "headers": {}}
            assets.append(current)
        elif current is not None and ":" in line:
            name, _, value = line.partition(":")
            current["headers"][name.strip().lower()] = value.strip()
        elif current is not None and line.startswith("HTTP/"):
            current["status"] = int(line.split()[1])
    rows = []
    for asset in assets:
        headers, name = asset["headers"], asset["path"]
        cache = headers.get("cache-control", "")
        max_age = re.search(r"max-age=(\d+)", cache)
        text = name.endswith((".css", ".js"))
        row = {
            "path": name,
            "status": asset.get("status"),
            "hashed": bool(HASHED.search(name.split("?")[0])),
            "content_encoding": headers.get("content-encoding", ""),
            "cache_control": cache,
            "compressed": headers.get("content-encoding", "") in {"gzip", "br"},
            "cached_forever": bool(max_age) and int(max_age.group(1)) >= FAR_FUTURE_S and "immutable" in cache,
        }
        # Stylesheets and scripts must come compressed; a tiny icon may not shrink, so it only has to be cached.
        row["pass"] = (
            row["status"] == 200 and row["hashed"] and row["cached_forever"] and (row["compressed"] or not text)
        )
        rows.append(row)
    return rows


def run_result(run_dir: Path) -> dict | None:
    if not run_dir.is_dir():
        return None
    meta = read_env(run_dir / "meta.txt") | read_env(run_dir / "env.txt")
    cache = read_env(run_dir / "cache.txt") if (run_dir / "cache.txt").exists() else {}
    results = {key: parse_wrk(run_dir / f"{key}.wrk") for key, _, _ in ENDPOINTS}
    base = (results.get("healthz") or {}).get("rps") or 0.0
    rows = []
    for key, label, budget in ENDPOINTS:
        result = results[key]
        row = {"key": key, "endpoint": label, "budget": budget, "url": meta.get(f"URL_{key}", "")}
        if f"SIZE_{key}" in meta:
            row["bytes"] = int(meta[f"SIZE_{key}"])
        if f"COLD_{key}" in cache:  # in-process server time: after a change in the lab / nothing changed
            row["server_ms_after_change"] = float(cache[f"COLD_{key}"])
            row["server_ms_unchanged"] = float(cache[f"WARM_{key}"])
        if result is None or "error" in result:
            row["error"] = "not run" if result is None else result["error"]
            row["pass"] = None if budget is None else False
        else:
            row.update(result)
            row["ratio"] = result["rps"] / base if base else None
            clean = result["non_2xx_3xx"] == 0 and result["socket_errors"] == 0
            row["pass"] = None if budget is None else (clean and row["ratio"] is not None and row["ratio"] >= budget)
        rows.append(row)
    data = {
        key.lower(): int(meta[key])
        for key in ("PAPERS", "CONFERENCE_PAPERS", "LAB_MEMBERS", "LAB_STATUSES", "LAB_STARS", "LAB_NOTES")
        if key in meta
    }
    list_bytes = next((row.get("bytes") for row in rows if row["key"] == "list"), None)
    return {
        "data": data,
        "paper": meta.get("PAPER"),
        "healthz_rps": base,
        "endpoints": rows,
        "worker_rss_mb": read_rss(run_dir / "rss.txt"),
        "list_html": {
            "bytes": list_bytes,
            "budget_bytes": HTML_BUDGET_BYTES,
            "pass": list_bytes is not None and list_bytes < HTML_BUDGET_BYTES,
        },
    }


def growth(one: dict, scaled: dict) -> list[dict]:
    """Each endpoint's throughput at the bigger scale as a share of its throughput at 1×."""
    rows = []
    for small, big in zip(one["endpoints"], scaled["endpoints"], strict=True):
        row = {"key": small["key"], "endpoint": small["endpoint"], "rps_1x": small.get("rps"), "rps_nx": big.get("rps")}
        if row["rps_1x"] and row["rps_nx"] is not None:
            row["ratio"] = row["rps_nx"] / row["rps_1x"]
            # The same, each run's throughput first divided by its own /healthz's (machine noise between runs).
            if small.get("ratio") and big.get("ratio") is not None:
                row["ratio_of_healthz_ratios"] = big["ratio"] / small["ratio"]
        else:
            row["ratio"] = None
        budget = None if small["budget"] is None else GROWTH_BUDGET
        row["budget"] = budget
        clean = not big.get("non_2xx_3xx") and not big.get("socket_errors") and "error" not in big
        row["pass"] = None if budget is None else (clean and row["ratio"] is not None and row["ratio"] >= budget)
        rows.append(row)
    return rows


def _count(value) -> str:
    return f"{value:,}" if isinstance(value, int) else "?"


def _mark(passed: bool | None) -> str:
    return "—" if passed is None else ("PASS" if passed else "FAIL")


def _workers(sample: dict) -> str:
    return ", ".join(f"{rss:.1f}" for _, rss in sorted(sample["workers"].items())) + " MB"


def print_run(engine: str, scale: int, run: dict, meta: dict) -> None:
    data = run["data"]
    print()
    print(
        f"== {engine}, {scale}×: {_count(data.get('papers'))} papers "
        f"(ICLR 2024: {_count(data.get('conference_papers'))}); lab of {_count(data.get('lab_members'))} "
        f"({_count(data.get('lab_statuses'))} statuses, {_count(data.get('lab_stars'))} stars, "
        f"{_count(data.get('lab_notes'))} notes)"
    )
    timed = any("server_ms_after_change" in row for row in run["endpoints"])
    header = f"{'endpoint':<32} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'ratio':>7} {'budget':>7}  ok"
    if timed:
        header += f"    {'server ms: changed / not':>24}"
    print(header)
    print("-" * len(header))
    for row in run["endpoints"]:
        if "error" in row:
            print(f"{row['endpoint']:<32} {row['error']}  {_mark(row['pass'])}")
            continue
        ratio = f"{row['ratio'] * 100:6.1f}%" if row["ratio"] is not None else "      ?"
        budget = f"≥ {row['budget'] * 100:.0f}%" if row["budget"] is not None else "—"
        errors = ""
        if row["non_2xx_3xx"] or row["socket_errors"]:
            errors = f"  ({row['non_2xx_3xx']} non-2xx/3xx, {row['socket_errors']} socket errors)"
        mark = _mark(row["pass"])
        if timed:
            mark = f"{mark:<4}"
            if "server_ms_after_change" in row:
                mark += f"  {row['server_ms_after_change']:>14.1f} / {row['server_ms_unchanged']:<7.1f}"
        print(
            f"{row['endpoint']:<32} {row['rps']:8.1f} {row['p50_ms']:8.2f} {row['p95_ms']:8.2f} "
            f"{ratio:>7} {budget:>7}  {mark}{errors}".rstrip()
        )
    rss = run["worker_rss_mb"]
    if rss:
        first, before_end, end = rss["after_first_minute"], rss["last_minute_start"], rss["at_end"]
        print(
            f"workers' RSS after the first minute of load ({first['seconds']} s): {_workers(first)}; "
            f"a minute before the end ({before_end['seconds']} s): {_workers(before_end)}; "
            f"after the last minute ({end['seconds']} s): {_workers(end)}; peak {rss['peak_mb']:.1f} MB "
            f"(budget < {RSS_BUDGET_MB} MB)  {_mark(rss['pass'])}"
        )
    else:
        print("workers' RSS: not measured  FAIL")
    if timed:
        print(
            "server ms (in-process, median): the page's first look after a change in the lab (its cached parts "
            "made anew) / a look with nothing changed (what wrk's repeated requests get)."
        )


def print_growth(engine: str, factor: int, rows: list[dict]) -> None:
    print()
    print(f"== {engine}: throughput at {factor}× the papers ÷ at 1× (budget ≥ {GROWTH_BUDGET * 100:.0f} %)")
    header = (
        f"{'endpoint':<32} {'1× req/s':>9} {f'{factor}× req/s':>9} {f'{factor}×/1×':>7} "
        f"{'(÷/healthz)':>11} {'budget':>7}  ok"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        rps_1x = f"{row['rps_1x']:9.1f}" if row["rps_1x"] is not None else f"{'—':>9}"
        rps_nx = f"{row['rps_nx']:9.1f}" if row["rps_nx"] is not None else f"{'—':>9}"
        ratio = f"{row['ratio'] * 100:6.1f}%" if row["ratio"] is not None else "      ?"
        relative = row.get("ratio_of_healthz_ratios")
        relative = f"{relative * 100:10.1f}%" if relative is not None else f"{'—':>11}"
        budget = f"≥ {row['budget'] * 100:.0f}%" if row["budget"] is not None else "—"
        print(f"{row['endpoint']:<32} {rps_1x} {rps_nx} {ratio:>7} {relative:>11} {budget:>7}  {_mark(row['pass'])}")


def report(run_dir: Path, out: Path) -> dict:
    meta = read_env(run_dir / "meta.txt")
    factor = int(meta.get("SCALE_FACTOR", "10"))
    conns, threads = meta.get("CONNECTIONS", "?"), meta.get("THREADS", "?")
    duration, warmup = meta.get("DURATION", "?"), meta.get("WARMUP", "?")
    print()
    print(
        f"wrk -c{conns} -t{threads} -d{duration} (after {warmup} of warm-up) per endpoint, gunicorn -w "
        f"{meta.get('WORKERS', '?')} (sync), DEBUG off, loopback; {meta.get('CORES', '?')} cores. "
        f"Budgets bind on PostgreSQL at 1×; the other tables are for comparison."
    )
    scales = sorted({1, factor})  # SCALE=1: the 1× runs alone, no growth
    engines = {}
    for engine in ENGINES:
        runs = {f"{scale}x": run_result(run_dir / f"{engine}-{scale}x") for scale in scales}
        runs = {name: run for name, run in runs.items() if run is not None}
        imports = {}
        for slug, label in CONFERENCES:
            seconds = meta.get(f"IMPORT_{engine}_{slug}")
            if seconds is not None:
                similar = meta.get(f"SIMILAR_{engine}_{slug}")
                imports[slug] = {
                    "conference": label,
                    "import_seconds": float(seconds),
                    "similar_seconds": float(similar) if similar is not None else None,
                }
        if not runs and not imports:
            continue
        entry = {"version": meta.get(f"{engine.upper()}_VERSION"), "imports": imports, "runs": runs}
        if f"SIMILAR_COPIED_{engine}" in meta:
            entry["similar_copied_from_postgresql_seconds"] = float(meta[f"SIMILAR_COPIED_{engine}"])
        if f"SCALE_{engine}" in meta:
            entry["scale_seconds"] = float(meta[f"SCALE_{engine}"])
        for scale in scales:
            if f"{scale}x" in runs:
                print_run(engine, scale, runs[f"{scale}x"], meta)
        if factor > 1 and "1x" in runs and f"{factor}x" in runs:
            entry["growth"] = growth(runs["1x"], runs[f"{factor}x"])
            print_growth(engine, factor, entry["growth"])
        engines[engine] = entry

    print()
    print("== imports (manage.py import_openreview's own time; the similar papers apart)")
    for engine, entry in engines.items():
        for slug, row in entry["imports"].items():
            similar = row["similar_seconds"]
            if similar is not None:
                similar_text = f"similar papers computed in {similar:.1f} s"
            elif "similar_copied_from_postgresql_seconds" in entry:
                similar_text = "similar papers copied from PostgreSQL"
            else:
                similar_text = "no similar papers"
            line = f"{engine:<10} {row['conference']:<13} import {row['import_seconds']:6.1f} s; {similar_text}"
            if slug == "iclr2024":
                row["budget_seconds"] = IMPORT_BUDGET_S
                row["pass"] = row["import_seconds"] < IMPORT_BUDGET_S
                line += f"  (budget < {IMPORT_BUDGET_S:.0f} s)  {_mark(row['pass'])}"
            print(line)
        if "similar_copied_from_postgresql_seconds" in entry:
            seconds = entry["similar_copied_from_postgresql_seconds"]
            print(f"{engine:<10} similar papers of both copied from PostgreSQL in {seconds:.1f} s")
        if "scale_seconds" in entry:
            print(f"{engine:<10} ×{factor} the papers by bench/scale.py in {entry['scale_seconds']:.1f} s")

    static = read_static(run_dir / "static.txt")
    print()
    print("== pages and static files")
    for engine, entry in engines.items():
        for name, run in entry["runs"].items():
            html = run["list_html"]
            size = f"{html['bytes'] / 1024:.1f} KB" if html["bytes"] is not None else "not measured"
            budget = f"budget < {HTML_BUDGET_BYTES // 1024} KB"
            print(f"list page HTML, {engine} {name}: {size} ({budget})  {_mark(html['pass'])}")
    for row in static:
        print(
            f"{row['path']}: Content-Encoding {row['content_encoding'] or 'none'}, "
            f"Cache-Control {row['cache_control'] or 'none'}  {_mark(row['pass'])}"
        )
    if not static:
        print("static assets: not checked  FAIL")
    static_pass = bool(static) and all(row["pass"] for row in static)

    elapsed = float(meta["ELAPSED"]) if "ELAPSED" in meta else None
    if elapsed is not None:
        print(f"\nelapsed since `make bench` began: {elapsed / 60:.1f} min ({elapsed:.0f} s)")
    results = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": int(meta["CORES"]) if meta.get("CORES", "").isdigit() else None,
        "gunicorn_workers": meta.get("WORKERS"),
        "wrk": {"connections": conns, "threads": threads, "duration": duration, "warmup": warmup},
        "scale_factor": factor,
        "budgets": {
            "ratio_to_healthz": {key: budget for key, _, budget in ENDPOINTS if budget is not None},
            "growth": GROWTH_BUDGET,
            "worker_rss_mb": RSS_BUDGET_MB,
            "list_html_bytes": HTML_BUDGET_BYTES,
            "iclr_import_seconds": IMPORT_BUDGET_S,
        },
        "engines": engines,
        "static_assets": {"assets": static, "pass": static_pass},
        "elapsed_seconds": elapsed,
    }
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"written: {out}")
    return results


def main() -> None:
    commands = {"prepare": 1, "copy-similar": 1, "cache-effect": 1, "report": 2}
    if len(sys.argv) < 3 or sys.argv[1] not in commands or len(sys.argv) > 2 + commands[sys.argv[1]]:
        sys.exit(__doc__)
    command, target = sys.argv[1], sys.argv[2]
    if command == "prepare":
        prepare(Path(target))
    elif command == "copy-similar":
        copy_similar(target)
    elif command == "cache-effect":
        cache_effect(Path(target))
    else:
        out = Path(sys.argv[3]) if len(sys.argv) > 3 else ROOT / "bench" / "results.json"
        report(Path(target), out)


if __name__ == "__main__":
    main()
