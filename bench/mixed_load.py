"""
Helpers of bench/mixed_load.sh and bench/faults.sh (the Locust users are in bench/mixed_load_locust.py).

    .venv/bin/python bench/mixed_load.py prepare RUN_DIR         # members who can log in, the plan of the mix
    .venv/bin/python bench/mixed_load.py report RUN_DIR          # the mixed load's table; exit 1 on any 5xx/failure
    .venv/bin/python bench/mixed_load.py faults-report RUN_DIR   # the outage's figures; exit 1 on a 500, a failure,
                                                                 # a lost write or no recovery

`prepare` uses the database in DATABASE_URL (ICLR 2024 imported, or it imports it) and bench/dashboard_time.py's
20-member lab; it gives MEMBERS of them a fresh random password and writes RUN_DIR/plan.json for the users.
Both reports write their part of bench/mixed_results.json ("mixed_load" or "faults"), keeping the other.
"""

import json
import math
import os
import random
import secrets
import shlex
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "mixed_results.json"
KINDS = ["list", "list_filter", "search", "paper", "star", "note", "inbox", "dashboard"]
SETUP_KINDS = ["login_page", "login", "dashboard"]
QUERIES = [
    "diffusion models",
    "graph neural networks",
    "reinforcement learning",
    "large language models",
    "contrastive learning",
    "in-context learning",
    "federated learning",
    "optimal transport",
    "adversarial robustness",
    "vision transformer",
]
RECOVERY_BUDGET_S = 10.0


def django_setup() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iclrnotes.settings")
    import django

    django.setup()


# --- Before the run --------------------------------------------------------------------------------------


def prepare(run_dir: Path) -> None:
    django_setup()
    import dashboard_time
    from django.db.models import Count

    from papers.models import Paper, User

    lab, _ = dashboard_time.prepare()
    password = secrets.token_urlsafe(18)
    members = list(User.objects.filter(memberships__lab=lab).order_by("username")[: int(os.environ.get("MEMBERS", 8))])
    for user in members:  # the production hasher, as the login form will check it
        user.set_password(password)
        user.save(update_fields=["password"])
    papers = Paper.objects.filter(conference__slug="iclr-2024")
    rng = random.Random(1)
    forum_ids = sorted(papers.values_list("forum_id", flat=True))
    areas = (
        papers.exclude(primary_area="")
        .values_list("primary_area", flat=True)
        .annotate(n=Count("pk"))
        .order_by("-n", "primary_area")[:4]
    )
    filters = [urlencode({"area": area}) for area in areas] + [
        "tier=oral",
        "tier=spotlight",
        "tier=poster&page=2",
        "state=shortlisted",
        "state=unseen",
        "starred=lab&sort=stars",
        "starred=me",
        "notes=on",
        "unseen_by_lab=on",
        "tier=spotlight&sort=stars",
        # Not the two suggestion sorts (sort=for_you, sort=for_lab): on this data one request of them
        # takes tens of seconds, and a run with them in would measure nothing else.
    ]
    plan = {
        "lab": lab.slug,
        "conference": "iclr-2024",
        "members": [user.username for user in members],
        "password": password,
        "papers": rng.sample(forum_ids, min(400, len(forum_ids))),
        "filters": filters,
        "queries": QUERIES,
    }
    (run_dir / "plan.json").write_text(json.dumps(plan, indent=1) + "\n")
    print(
        f"prepared: {len(forum_ids):,} ICLR 2024 papers ({Paper.objects.count():,} in all); lab {lab.slug}: "
        f"{len(members)} members log in; {len(plan['papers'])} papers, {len(filters)} filters, {len(QUERIES)} searches"
    )


# --- Figures ---------------------------------------------------------------------------------------------


def read_env(path: Path) -> dict[str, str]:
    values = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if "=" in line:
                key, _, value = line.partition("=")
                values[key] = " ".join(shlex.split(value))
    return values


def read_run(run_dir: Path) -> tuple[list[dict], dict]:
    path = run_dir / "requests.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    window_path = run_dir / "window.json"
    window = json.loads(window_path.read_text()) if window_path.exists() else {}
    return records, window


def percentile(sorted_values: list[float], pct: float) -> float | None:
    """Nearest rank: the smallest value that at least pct % of the values do not exceed."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(pct / 100 * len(sorted_values)) - 1)]


def outcome(status: int) -> str:
    if status == 0:
        return "failed"
    if status >= 500:
        return "5xx"
    if status >= 400:
        return "4xx"
    return "ok"


def summarise(records: list[dict], seconds: float | None = None) -> dict:
    latencies = sorted(record["ms"] for record in records)
    outcomes = Counter(outcome(record["status"]) for record in records)
    summary = {
        "requests": len(records),
        "p50_ms": round(percentile(latencies, 50), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 95), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99), 1) if latencies else None,
        "max_ms": round(latencies[-1], 1) if latencies else None,
        "non_2xx_3xx": outcomes["4xx"] + outcomes["5xx"],
        "5xx": outcomes["5xx"],
        "failed": outcomes["failed"],
        "statuses": dict(sorted(Counter(str(record["status"]) for record in records).items())),
    }
    if seconds:
        summary["rps"] = round(len(records) / seconds, 1)
    return summary


def write_results(section: str, figures: dict) -> None:
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[section] = {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"), **figures}
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written: {RESULTS.relative_to(ROOT)} ({section})")


def row(label: str, summary: dict) -> str:
    def ms(value):
        return f"{value:8.1f}" if value is not None else "       —"

    return (
        f"{label:<12} {summary['requests']:>8,} {summary.get('rps', 0):>7.1f} {ms(summary['p50_ms'])} "
        f"{ms(summary['p95_ms'])} {ms(summary['p99_ms'])} {summary['non_2xx_3xx']:>9} {summary['5xx']:>5} "
        f"{summary['failed']:>7}"
    )


def report(run_dir: Path) -> int:
    records, window = read_run(run_dir)
    meta = read_env(run_dir / "meta.txt")
    start, end = window.get("window_start"), window.get("window_end")
    if not records or start is None or end is None:
        print("no measured window: the users did not all log in, or Locust stopped early", file=sys.stderr)
        return 1
    seconds = end - start
    measured = [record for record in records if start <= record["t"] < end]
    outside = [record for record in records if not start <= record["t"] < end]
    kinds = {kind: summarise([r for r in measured if r["kind"] == kind], seconds) for kind in KINDS}
    total = summarise(measured, seconds)
    setup = summarise(outside)
    whole = summarise(records)

    print()
    print(
        f"{window.get('users')} users for {seconds:.1f} s (after all logged in), no pause between tasks"
        if not float(meta.get("THINK_MAX", "0") or 0)
        else f"{window.get('users')} users for {seconds:.1f} s, {meta['THINK_MIN']}-{meta['THINK_MAX']} s between tasks"
    )
    print(
        f"gunicorn {meta.get('WORKERS')} workers × {meta.get('GTHREADS')} threads (gthread), CONN_MAX_AGE "
        f"{meta.get('CONN_MAX_AGE')}; PostgreSQL, DEBUG off; {meta.get('CORES')} cores shared with Locust"
    )
    header = (
        f"{'kind':<12} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'non-2/3xx':>9} {'5xx':>5} {'failed':>7}"
    )
    print(header)
    print("-" * len(header))
    for kind in KINDS:
        print(row(kind, kinds[kind]))
    print("-" * len(header))
    print(row("total", total))
    # Each member logs in once through the form; their other tabs (users) share the cookies.
    members = min(int(meta.get("MEMBERS", 0)), window.get("users") or 0)
    logged_in = sum(1 for r in records if r["kind"] == "login" and r["status"] == 302)
    print(
        f"{window.get('users')} users as {members} members, each logged in through the form: {logged_in} of {members}"
    )
    print(
        f"outside the window (logins, warm-up, the last tasks): {setup['requests']:,} requests, "
        f"{setup['non_2xx_3xx']} non-2xx/3xx, {setup['5xx']} 5xx, {setup['failed']} failed"
    )
    peak = meta.get("PEAK_CONNECTIONS")
    if peak:
        print(
            f"PostgreSQL connections of the app at most {peak} (workers × threads = "
            f"{int(meta['WORKERS']) * int(meta['GTHREADS'])}; max_connections {meta.get('MAX_CONNECTIONS')})"
        )
    if meta.get("LOAD_AVERAGE"):
        print(f"machine load average at the end (1, 5, 15 min): {meta['LOAD_AVERAGE']}")
    errors = [r for r in records if r["status"] == 0 or r["status"] >= 500][:5]
    for record in errors:
        print(f"  e.g. {record['kind']} {record['status']} {record.get('error', '')}")

    write_results(
        "mixed_load",
        {
            "users": window.get("users"),
            "seconds": round(seconds, 1),
            "think_time_s": [float(meta.get("THINK_MIN", 0) or 0), float(meta.get("THINK_MAX", 0) or 0)],
            "gunicorn": {"workers": meta.get("WORKERS"), "threads": meta.get("GTHREADS"), "worker_class": "gthread"},
            "conn_max_age": meta.get("CONN_MAX_AGE"),
            "cores": meta.get("CORES"),
            "members": meta.get("MEMBERS"),
            "members_logged_in": logged_in,
            "peak_db_connections": int(peak) if peak else None,
            "max_connections": meta.get("MAX_CONNECTIONS"),
            "load_average_at_end": meta.get("LOAD_AVERAGE"),
            "kinds": kinds,
            "total": total,
            "outside_window": setup,
            "whole_run": {key: whole[key] for key in ("requests", "non_2xx_3xx", "5xx", "failed")},
        },
    )
    if whole["5xx"] or whole["failed"] or logged_in != members:
        print(
            f"FAIL: {whole['5xx']} 5xx and {whole['failed']} failed requests in the run; "
            f"{logged_in} of {members} members logged in",
            file=sys.stderr,
        )
        return 1
    print(f"PASS: 0 5xx and 0 failed requests in {whole['requests']:,}")
    return 0


def faults_report(run_dir: Path) -> int:
    records, window = read_run(run_dir)
    meta = read_env(run_dir / "meta.txt")
    outage = {key: float(value) for key, value in read_env(run_dir / "outage.txt").items() if key.startswith("T_")}
    if not records or "T_STOP" not in outage or "T_UP" not in outage:
        print("no outage recorded: see the log above", file=sys.stderr)
        return 1
    t_stop, t_up = outage["T_STOP"], outage["T_UP"]
    during = [r for r in records if t_stop <= r["t"] < t_up]
    phases = {  # stop issued → stopped, stopped → start issued, start issued → accepting connections
        name: summarise([r for r in records if begin <= r["t"] < end])["statuses"]
        for name, begin, end in (
            ("stopping", t_stop, outage["T_DOWN"]),
            ("stopped", outage["T_DOWN"], outage["T_START"]),
            ("starting", outage["T_START"], t_up),
        )
    }
    after = sorted((r for r in records if r["t"] >= t_up), key=lambda r: r["t"])
    before = [r for r in records if r["t"] < t_stop]
    first_ok = next((r for r in after if outcome(r["status"]) == "ok"), None)
    recovery = first_ok["t"] + first_ok["ms"] / 1000 - t_up if first_ok else None
    answered_503 = [r for r in records if r["status"] == 503]
    last_503 = max((r["t"] + r["ms"] / 1000 for r in answered_503), default=None)
    not_ok_after = [r for r in after if first_ok and r["t"] >= first_ok["t"] and outcome(r["status"]) != "ok"]

    # Nothing written before the outage is lost: every star and note the app acknowledged (200) is there.
    django_setup()
    from papers.models import Note, ReadingStatus

    def kept(writes: list[dict]) -> tuple[int, int]:
        stars = [w for w in writes if w["kind"] == "star"]
        notes = [w for w in writes if w["kind"] == "note"]
        star_keys = {(w["member"], w["paper"]) for w in stars}
        present = set(
            ReadingStatus.objects.filter(starred=True, user__username__in={m for m, _ in star_keys})
            .filter(paper__conference__slug="iclr-2024", paper__forum_id__in={p for _, p in star_keys})
            .values_list("user__username", "paper__forum_id")
        )
        bodies = set(Note.objects.filter(body__in=[w["body"] for w in notes]).values_list("body", flat=True))
        acknowledged = len(star_keys) + len(notes)
        return acknowledged, len(star_keys & present) + sum(w["body"] in bodies for w in notes)

    acked_before = [r for r in before if r["kind"] in {"star", "note"} and r["status"] == 200]
    acked_all = [r for r in records if r["kind"] in {"star", "note"} and r["status"] == 200]
    before_acked, before_kept = kept(acked_before)
    all_acked, all_kept = kept(acked_all)
    refused_notes = [r for r in records if r["kind"] == "note" and r["status"] == 503]
    refused_saved = Note.objects.filter(body__in=[r["body"] for r in refused_notes]).count()
    counts = {key: int(value) for key, value in read_env(run_dir / "outage.txt").items() if key.startswith("COUNT_")}

    whole = summarise(records)
    figures = {
        "users": window.get("users"),
        "think_time_s": [float(meta.get("THINK_MIN", 0) or 0), float(meta.get("THINK_MAX", 0) or 0)],
        "outage": meta.get("OUTAGE_HOW"),
        "outage_s": round(t_up - t_stop, 2),
        "requests": len(records),
        "requests_during_outage": len(during),
        "statuses_during_outage": summarise(during)["statuses"],
        "statuses_by_phase": phases,
        "phase_s": {
            "stopping": round(outage["T_DOWN"] - t_stop, 2),
            "stopped": round(outage["T_START"] - outage["T_DOWN"], 2),
            "starting": round(t_up - outage["T_START"], 2),
        },
        "answered_503": len(answered_503),
        "friendly_503": sum(1 for r in answered_503 if r.get("friendly")),
        "answered_500": sum(1 for r in records if r["status"] == 500),
        "other_5xx": sum(1 for r in records if r["status"] >= 500 and r["status"] not in {500, 503}),
        "failed": whole["failed"],
        "recovery_s": round(recovery, 2) if recovery is not None else None,
        "last_503_after_db_back_s": round(last_503 - t_up, 2) if last_503 is not None else None,
        "not_ok_after_recovery": len(not_ok_after),
        "acknowledged_writes_before_outage": before_acked,
        "kept_writes_before_outage": before_kept,
        "acknowledged_writes_whole_run": all_acked,
        "kept_writes_whole_run": all_kept,
        "notes_refused_with_503": len(refused_notes),
        "notes_refused_but_saved": refused_saved,
        "db_counts": counts,
        "gunicorn_restarted": meta.get("GUNICORN_PIDS_BEFORE") != meta.get("GUNICORN_PIDS_AFTER"),
        "gunicorn_pids": meta.get("GUNICORN_PIDS_BEFORE"),
    }
    print()
    print(
        f"{figures['users']} users, {figures['think_time_s'][0]}-{figures['think_time_s'][1]} s between tasks; "
        f"PostgreSQL {figures['outage']}"
    )
    print(f"outage (stop issued → accepting again): {figures['outage_s']:.2f} s")
    print(f"requests started during it: {len(during)}  {figures['statuses_during_outage']}")
    for name, statuses in phases.items():
        print(f"  {name:<9} {figures['phase_s'][name]:5.2f} s: {statuses}")
    print(
        f"503s: {figures['answered_503']} ({figures['friendly_503']} the friendly page or message, Retry-After: 5); "
        f"500s: {figures['answered_500']}; other 5xx: {figures['other_5xx']}; failed: {figures['failed']}"
    )
    if recovery is not None:
        print(f"recovery: first 2xx/3xx {recovery:.2f} s after PostgreSQL accepted connections again")
    else:
        print("recovery: none")
    if last_503 is not None:
        print(f"last 503 answered {last_503 - t_up:+.2f} s from PostgreSQL's return")
    print(f"non-2xx/3xx after the first recovered request: {len(not_ok_after)}")
    print(
        f"writes acknowledged before the outage and still there: {before_kept}/{before_acked}; "
        f"whole run: {all_kept}/{all_acked}; notes refused with a 503 yet saved: {refused_saved}/{len(refused_notes)}"
    )
    if counts:
        print(
            "stars/notes of the lab just before the outage and at the end: "
            + ", ".join(f"{key.lower()}={value:,}" for key, value in counts.items())
        )
    print(
        f"gunicorn master and workers {'REPLACED' if figures['gunicorn_restarted'] else 'the same'} "
        f"before and after ({figures['gunicorn_pids']})"
    )
    write_results("faults", figures)

    problems = []
    if figures["answered_500"] or figures["other_5xx"]:
        problems.append("5xx other than 503")
    if figures["failed"]:
        problems.append("failed requests")
    if figures["answered_503"] != figures["friendly_503"]:
        problems.append("a 503 without the friendly page")
    if recovery is None or recovery > RECOVERY_BUDGET_S:
        problems.append(f"no recovery within {RECOVERY_BUDGET_S:.0f} s")
    if not_ok_after:
        problems.append("errors after recovery")
    if before_kept != before_acked or all_kept != all_acked:
        problems.append("acknowledged writes lost")
    if counts and (
        counts["COUNT_STARS_AFTER"] < counts["COUNT_STARS_BEFORE"]
        or counts["COUNT_NOTES_AFTER"] < counts["COUNT_NOTES_BEFORE"]
    ):
        problems.append("fewer stars or notes than before the outage")
    if figures["gunicorn_restarted"]:
        problems.append("gunicorn processes replaced")
    if problems:
        print("FAIL: " + "; ".join(problems), file=sys.stderr)
        return 1
    print("PASS: the outage answered 503s only, the app came back by itself, nothing acknowledged was lost")
    return 0


def main() -> None:
    commands = {"prepare": prepare, "report": report, "faults-report": faults_report}
    if len(sys.argv) != 3 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    sys.exit(commands[sys.argv[1]](Path(sys.argv[2])) or 0)


if __name__ == "__main__":
    main()
