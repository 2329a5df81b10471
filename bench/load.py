"""
Helpers of the load benchmark (bench/load.sh): the data and credentials before the run, the table after.

    .venv/bin/python bench/load.py prepare ENV_FILE   # the 20-member lab, a member's session, a CSRF token
    .venv/bin/python bench/load.py report RUN_DIR     # the table, and bench/results.json

`prepare` uses the database in DATABASE_URL, with ICLR 2024 imported beforehand (it imports it when
missing), and reuses bench/dashboard_time.py's lab: 20 members, about 20,000 statuses, 6,000 stars,
3,000 notes, a split, and a second lab on the same conference. It writes shell assignments to ENV_FILE.

`report` reads what load.sh left in RUN_DIR: one `<key>.wrk` file per endpoint (wrk's output, with the
`RESULT …` line printed by the Lua `done()`), `rss_first.txt` / `rss_last.txt` (`pid rss_kb` a line),
`meta.txt` (shell assignments: import times, core count, …).
"""

import json
import os
import re
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# key, label, budget as a share of /healthz throughput (None: the reference itself)
ENDPOINTS = [
    ("healthz", "/healthz", None),
    ("list", "list, default", 0.06),
    ("list_filter", "list, filter tier=spotlight", 0.06),
    ("list_search", "list, search 'diffusion models'", 0.06),
    ("paper", "paper page", 0.08),
    ("inbox", "inbox card (htmx)", 0.15),
    ("star", "star POST (htmx)", 0.25),
    ("dashboard", "dashboard", 0.05),
    ("schedule", "schedule", 0.05),
]


def prepare(env_file: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iclrnotes.settings")
    import dashboard_time  # sets Django up on import
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
        return {"error": "no RESULT line in wrk output", "raw": text[-2000:]}
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
    # wrk's own summary line, as a cross-check of the Lua figures
    own = re.search(r"Requests/sec:\s*([\d.]+)", text)
    result["wrk_requests_per_sec"] = float(own.group(1)) if own else None
    return result


def read_rss(path: Path) -> list[dict]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().split("\n"):
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit():
            rows.append({"pid": int(parts[0]), "rss_mb": round(int(parts[1]) / 1024, 1)})
    return rows


def report(run_dir: Path) -> None:
    meta = read_env(run_dir / "meta.txt")
    results = {key: parse_wrk(run_dir / f"{key}.wrk") for key, _, _ in ENDPOINTS}
    base = (results.get("healthz") or {}).get("rps") or 0.0
    rows = []
    for key, label, budget in ENDPOINTS:
        result = results[key]
        row = {"key": key, "endpoint": label, "budget": budget, "url": meta.get(f"URL_{key}", "")}
        if result is None or "error" in result:
            row["error"] = "not run" if result is None else result["error"]
        else:
            row.update(result)
            row["ratio"] = result["rps"] / base if base else None
            clean = result["non_2xx_3xx"] == 0 and result["socket_errors"] == 0
            row["pass"] = None if budget is None else (clean and row["ratio"] is not None and row["ratio"] >= budget)
        rows.append(row)

    conns, threads, duration = meta.get("CONNECTIONS", "?"), meta.get("THREADS", "?"), meta.get("DURATION", "?")
    print()
    print(
        f"wrk -c{conns} -t{threads} -d{duration}, gunicorn -w {meta.get('WORKERS', '?')} (sync), "
        f"PostgreSQL, DEBUG off; {meta.get('CORES', '?')} cores; {meta.get('PAPERS', '?')} papers, "
        f"lab of {meta.get('LAB_MEMBERS', '?')} ({meta.get('LAB_STATUSES', '?')} statuses, "
        f"{meta.get('LAB_STARS', '?')} stars, {meta.get('LAB_NOTES', '?')} notes)"
    )
    header = f"{'endpoint':<32} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'ratio':>7} {'budget':>7}  ok"
    print(header)
    print("-" * len(header))
    for row in rows:
        if "error" in row:
            print(f"{row['endpoint']:<32} {row['error']}")
            continue
        ratio = f"{row['ratio'] * 100:6.1f}%" if row["ratio"] is not None else "      ?"
        budget = f"≥{row['budget'] * 100:4.0f}%" if row["budget"] is not None else "      —"
        mark = "—" if row["pass"] is None else ("PASS" if row["pass"] else "FAIL")
        errors = ""
        if row["non_2xx_3xx"] or row["socket_errors"]:
            errors = f"  ({row['non_2xx_3xx']} non-2xx/3xx, {row['socket_errors']} socket errors)"
        print(
            f"{row['endpoint']:<32} {row['rps']:8.1f} {row['p50_ms']:8.2f} {row['p95_ms']:8.2f} "
            f"{row['p99_ms']:8.2f} {ratio:>7} {budget:>7}  {mark}{errors}"
        )

    rss_first, rss_last = read_rss(run_dir / "rss_first.txt"), read_rss(run_dir / "rss_last.txt")
    rss_peak = max((r["rss_mb"] for path in run_dir.glob("rss_*.txt") for r in read_rss(path)), default=None)
    print()
    for label, rss in (("after the first endpoint (/healthz)", rss_first), ("at the end", rss_last)):
        shown = ", ".join(f"pid {r['pid']}: {r['rss_mb']:.1f} MB" for r in rss) or "not measured"
        print(f"gunicorn workers' resident memory {label}: {shown}")
    if rss_peak is not None:
        print(f"largest worker RSS seen after any endpoint: {rss_peak:.1f} MB (budget < 150 MB)")
    imports = {k[len("IMPORT_") :].lower(): float(v) for k, v in meta.items() if k.startswith("IMPORT_")}
    for name, seconds in imports.items():
        print(f"import {name}: {seconds:.2f} s (whole manage.py command, similar papers included)")

    out = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "engine": "postgresql",
        "cores": meta.get("CORES"),
        "wrk": {"connections": conns, "threads": threads, "duration": duration},
        "gunicorn_workers": meta.get("WORKERS"),
        "data": {k.lower(): meta.get(k) for k in ("PAPERS", "LAB_MEMBERS", "LAB_STATUSES", "LAB_STARS", "LAB_NOTES")},
        "import_seconds": imports,
        "healthz_rps": base,
        "endpoints": rows,
        "worker_rss_mb": {"after_first_endpoint": rss_first, "at_end": rss_last, "peak": rss_peak},
    }
    path = ROOT / "bench" / "results.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"written: {path.relative_to(ROOT)}")


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in {"prepare", "report"}:
        sys.exit(__doc__)
    command, target = sys.argv[1], Path(sys.argv[2])
    prepare(target) if command == "prepare" else report(target)


if __name__ == "__main__":
    main()
