"""
The benchmark's own code, without running a benchmark: bench/load.py's report on a made-up run folder
(fake wrk outputs), and bench/scale.py on a three-paper conference.
"""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from papers import search
from papers.models import Assignment, Note, Paper, PaperNeighbor, Presentation, ReadingStatus
from tests.factories import (
    ConferenceFactory,
    LabFactory,
    MembershipFactory,
    NoteFactory,
    PaperFactory,
    PresentationFactory,
    ReadingStatusFactory,
    SessionFactory,
    UserFactory,
)

ROOT = Path(__file__).resolve().parent.parent


def bench_module(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


scale = bench_module("scale")

# The report ---------------------------------------------------------------------------------------------------------


def wrk_output(requests: int, *, p50_us: int = 4000, p95_us: int = 9000, non_2xx: int = 0) -> str:
    """What wrk prints with bench/load.sh's Lua done(): 8 s of load."""
    return (
        "Running 8s test @ http://127.0.0.1:8099/\n  2 threads and 8 connections\n"
        f"RESULT requests={requests} duration_us=8000000 p50={p50_us} p90=8000 p95={p95_us} p99=12000 "
        f"status={non_2xx} connect=0 read=0 write=0 timeout=0\n"
        f"Requests/sec: {requests / 8:.2f}\n"
    )


def write_run(folder: Path, requests: dict[str, int], *, papers: int, rss: list[tuple[int, int, int]]) -> None:
    folder.mkdir()
    (folder / "env.txt").write_text(
        f"LAB=dash-lab\nPAPER=06lrITXVAx\nPAPERS={papers}\nCONFERENCE_PAPERS={papers // 2}\nLAB_MEMBERS=20\n"
        "LAB_STATUSES=20000\nLAB_STARS=5955\nLAB_NOTES=3000\n"
    )
    (folder / "meta.txt").write_text("URL_list='/labs/dash-lab/iclr-2024/papers/'\nSIZE_list=61440\n")
    for key, count in requests.items():
        if count is None:
            (folder / f"{key}.wrk").write_text("HTTP 302 on the check request, not loaded\n")
        else:
            (folder / f"{key}.wrk").write_text(wrk_output(count))
    (folder / "rss.txt").write_text("".join(f"{seconds} {pid} {kb}\n" for seconds, pid, kb in rss))


ONE = {
    "healthz": 8000,  # 1,000 req/s
    "floor": 2000,  # 25.0 %: a reference, no budget
    "floor_write": 1200,  # 15.0 %
    "list": 640,  # 8.0 %: PASS (≥ 6 %)
    "list_filter": 640,
    "list_search": 400,  # 5.0 %: FAIL
    "paper": 720,  # 9.0 %
    "inbox": 1280,  # 16.0 %
    "star": 2400,  # 30.0 %
    "dashboard": 480,  # 6.0 %
    "schedule": None,  # its check request was redirected
}
TEN = ONE | {"healthz": 8000, "list": 480, "list_search": 400, "paper": 400, "schedule": 480}


@pytest.fixture
def run_dir(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "meta.txt").write_text(
        "CORES=2\nWORKERS=2\nCONNECTIONS=8\nTHREADS=2\nDURATION=8s\nWARMUP=2s\nSCALE_FACTOR=10\n"
        "POSTGRESQL_VERSION='15.20 (Debian 15.20-0+deb12u1)'\nSQLITE_VERSION=3.40.1\n"
        "IMPORT_postgresql_iclr2024=6.2\nSIMILAR_postgresql_iclr2024=31.5\n"
        "IMPORT_postgresql_neurips2023=11.4\nSIMILAR_postgresql_neurips2023=55.0\n"
        "IMPORT_sqlite_iclr2024=3.2\nIMPORT_sqlite_neurips2023=3.5\nSIMILAR_COPIED_sqlite=9.8\n"
        "SCALE_postgresql=61.3\nELAPSED=731.5\n"
    )
    growing = [(seconds, pid, 90_000 + seconds * 100) for seconds in range(0, 95, 5) for pid in (101, 102)]
    write_run(run / "postgresql-1x", ONE, papers=5478, rss=growing)
    write_run(run / "postgresql-10x", TEN, papers=54780, rss=[(0, 201, 80_000), (64, 201, 150_000), (90, 201, 160_000)])
    write_run(run / "sqlite-1x", ONE, papers=5478, rss=[(0, 301, 70_000), (90, 301, 71_000)])
    (run / "static.txt").write_text(
        "URL /static/css/iclrnotes.0123456789ab.css\nHTTP/1.1 200 OK\nContent-Encoding: gzip\n"
        "Cache-Control: max-age=315360000, public, immutable\n"
        "URL /static/js/iclrnotes.ba9876543210.js\nHTTP/1.1 200 OK\n"
        "Cache-Control: max-age=315360000, public, immutable\n"
        "URL /static/favicon.0a1b2c3d4e5f.svg\nHTTP/1.1 200 OK\n"
        "Cache-Control: max-age=315360000, public, immutable\n"
    )
    return run


def report_of(run_dir, out) -> str:
    """What `bench/load.py report RUN_DIR OUT` prints (it writes OUT)."""
    command = [sys.executable, str(ROOT / "bench" / "load.py"), "report", str(run_dir), str(out)]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def sections(stdout: str) -> dict[str, list[str]]:
    """The report's blocks, by their "== …" heading."""
    blocks, heading = {}, ""
    for line in stdout.splitlines():
        if line.startswith("== "):
            heading = line[3:]
            blocks[heading] = []
        elif line:
            blocks.setdefault(heading, []).append(line)
    return blocks


def test_report_prints_ratios_budgets_and_growth_and_writes_them_to_json(run_dir, tmp_path):
    out = tmp_path / "results.json"
    stdout = report_of(run_dir, out)
    report = sections(stdout)

    assert report[""] == [
        "wrk -c8 -t2 -d8s (after 2s of warm-up) per endpoint, gunicorn -w 2 (sync), DEBUG off, loopback; 2 cores. "
        "Budgets bind on PostgreSQL at 1×; the other tables are for comparison."
    ]
    assert list(report) == [
        "",
        "postgresql, 1×: 5,478 papers (ICLR 2024: 2,739); lab of 20 (20,000 statuses, 5,955 stars, 3,000 notes)",
        "postgresql, 10×: 54,780 papers (ICLR 2024: 27,390); lab of 20 (20,000 statuses, 5,955 stars, 3,000 notes)",
        "postgresql: throughput at 10× the papers ÷ at 1× (budget ≥ 70 %)",
        "sqlite, 1×: 5,478 papers (ICLR 2024: 2,739); lab of 20 (20,000 statuses, 5,955 stars, 3,000 notes)",
        "imports (manage.py import_openreview's own time; the similar papers apart)",
        "pages and static files",
    ]
    assert report[list(report)[1]] == [
        "endpoint                            req/s   p50 ms   p95 ms   ratio  budget  ok",
        "-" * 79,
        "/healthz                           1000.0     4.00     9.00  100.0%       —  —",
        "floor: logged-in, no work           250.0     4.00     9.00   25.0%       —  —",
        "floor: logged-in 1-row write        150.0     4.00     9.00   15.0%       —  —",
        "list, default                        80.0     4.00     9.00    8.0%    ≥ 6%  PASS",
        "list, filter tier=spotlight          80.0     4.00     9.00    8.0%    ≥ 6%  PASS",
        "list, search 'diffusion models'      50.0     4.00     9.00    5.0%    ≥ 6%  FAIL",
        "paper page                           90.0     4.00     9.00    9.0%    ≥ 8%  PASS",
        "inbox card (htmx)                   160.0     4.00     9.00   16.0%   ≥ 15%  PASS",
        "star POST (htmx)                    300.0     4.00     9.00   30.0%   ≥ 25%  PASS",
        "dashboard                            60.0     4.00     9.00    6.0%    ≥ 5%  PASS",
        "schedule                         HTTP 302 on the check request, not loaded  FAIL",
        "workers' RSS after the first minute of load (60 s): 93.8, 93.8 MB; a minute before the end (30 s): "
        "90.8, 90.8 MB; after the last minute (90 s): 96.7, 96.7 MB; peak 96.7 MB (budget < 150 MB)  PASS",
    ]
    assert report[list(report)[2]][-1] == (
        "workers' RSS after the first minute of load (64 s): 146.5 MB; a minute before the end (0 s): 78.1 MB; "
        "after the last minute (90 s): 156.2 MB; peak 156.2 MB (budget < 150 MB)  FAIL"
    )
    assert report["postgresql: throughput at 10× the papers ÷ at 1× (budget ≥ 70 %)"] == [
        "endpoint                          1× req/s 10× req/s  10×/1× (÷/healthz)  budget  ok",
        "-" * 84,
        "/healthz                            1000.0    1000.0  100.0%      100.0%       —  —",
        "floor: logged-in, no work            250.0     250.0  100.0%      100.0%       —  —",
        "floor: logged-in 1-row write         150.0     150.0  100.0%      100.0%       —  —",
        "list, default                         80.0      60.0   75.0%       75.0%   ≥ 70%  PASS",
        "list, filter tier=spotlight           80.0      80.0  100.0%      100.0%   ≥ 70%  PASS",
        "list, search 'diffusion models'       50.0      50.0  100.0%      100.0%   ≥ 70%  PASS",
        "paper page                            90.0      50.0   55.6%       55.6%   ≥ 70%  FAIL",
        "inbox card (htmx)                    160.0     160.0  100.0%      100.0%   ≥ 70%  PASS",
        "star POST (htmx)                     300.0     300.0  100.0%      100.0%   ≥ 70%  PASS",
        "dashboard                             60.0      60.0  100.0%      100.0%   ≥ 70%  PASS",
        # Not loaded at 1×: no ratio, and no pass.
        "schedule                                 —      60.0       ?           —   ≥ 70%  FAIL",
    ]
    assert report["imports (manage.py import_openreview's own time; the similar papers apart)"] == [
        "postgresql ICLR 2024     import    6.2 s; similar papers computed in 31.5 s  (budget < 10 s)  PASS",
        "postgresql NeurIPS 2023  import   11.4 s; similar papers computed in 55.0 s",
        "postgresql ×10 the papers by bench/scale.py in 61.3 s",
        "sqlite     ICLR 2024     import    3.2 s; similar papers copied from PostgreSQL  (budget < 10 s)  PASS",
        "sqlite     NeurIPS 2023  import    3.5 s; similar papers copied from PostgreSQL",
        "sqlite     similar papers of both copied from PostgreSQL in 9.8 s",
    ]
    assert report["pages and static files"] == [
        "list page HTML, postgresql 1x: 60.0 KB (budget < 150 KB)  PASS",
        "list page HTML, postgresql 10x: 60.0 KB (budget < 150 KB)  PASS",
        "list page HTML, sqlite 1x: 60.0 KB (budget < 150 KB)  PASS",
        "/static/css/iclrnotes.0123456789ab.css: Content-Encoding gzip, "
        "Cache-Control max-age=315360000, public, immutable  PASS",
        "/static/js/iclrnotes.ba9876543210.js: Content-Encoding none, "
        "Cache-Control max-age=315360000, public, immutable  FAIL",
        # An icon need not shrink; it must be cached.
        "/static/favicon.0a1b2c3d4e5f.svg: Content-Encoding none, "
        "Cache-Control max-age=315360000, public, immutable  PASS",
        "elapsed since `make bench` began: 12.2 min (732 s)",
        f"written: {out}",
    ]

    results = json.loads(out.read_text())
    assert results["cores"] == 2
    assert results["scale_factor"] == 10
    assert results["elapsed_seconds"] == 731.5
    postgresql = results["engines"]["postgresql"]
    assert postgresql["version"] == "15.20 (Debian 15.20-0+deb12u1)"
    assert postgresql["scale_seconds"] == 61.3
    assert postgresql["imports"]["iclr2024"] == {
        "conference": "ICLR 2024",
        "import_seconds": 6.2,
        "similar_seconds": 31.5,
        "budget_seconds": 10.0,
        "pass": True,
    }
    one = {row["key"]: row for row in postgresql["runs"]["1x"]["endpoints"]}
    assert postgresql["runs"]["1x"]["healthz_rps"] == 1000.0
    assert one["list"]["rps"] == 80.0
    assert one["list"]["ratio"] == pytest.approx(0.08)
    assert (one["list"]["pass"], one["list_search"]["pass"], one["healthz"]["pass"]) == (True, False, None)
    assert (one["list"]["p50_ms"], one["list"]["p95_ms"]) == (4.0, 9.0)
    assert one["schedule"] == {
        "key": "schedule",
        "endpoint": "schedule",
        "budget": 0.05,
        "url": "",
        "error": "HTTP 302 on the check request, not loaded",
        "pass": False,
    }
    assert postgresql["runs"]["1x"]["list_html"] == {"bytes": 61440, "budget_bytes": 153600, "pass": True}
    assert postgresql["runs"]["10x"]["data"]["papers"] == 54780
    growth = {row["key"]: row for row in postgresql["growth"]}
    assert growth["list"]["ratio"] == pytest.approx(0.75)
    assert growth["list"]["ratio_of_healthz_ratios"] == pytest.approx(0.75)
    assert (growth["list"]["pass"], growth["paper"]["pass"], growth["healthz"]["pass"]) == (True, False, None)
    rss = postgresql["runs"]["10x"]["worker_rss_mb"]
    assert (rss["after_first_minute"]["seconds"], rss["at_end"]["workers"], rss["pass"]) == (64, {"201": 156.2}, False)
    sqlite = results["engines"]["sqlite"]
    assert sqlite["similar_copied_from_postgresql_seconds"] == 9.8
    assert sqlite["imports"]["neurips2023"]["similar_seconds"] is None
    assert list(sqlite["runs"]) == ["1x"]
    assert "growth" not in sqlite
    assert [(row["path"], row["pass"]) for row in results["static_assets"]["assets"]] == [
        ("/static/css/iclrnotes.0123456789ab.css", True),
        ("/static/js/iclrnotes.ba9876543210.js", False),
        ("/static/favicon.0a1b2c3d4e5f.svg", True),
    ]
    assert results["static_assets"]["pass"] is False


# bench/scale.py -------------------------------------------------------------------------------------------------------


@pytest.fixture
def tiny(db):
    """Three papers with their similar papers, a session, a lab's split, statuses and notes; another conference."""
    conference = ConferenceFactory(slug="tiny-2024", name="Tiny 2024")
    papers = [
        PaperFactory(conference=conference, forum_id=forum_id, number=number, title=title, tier=tier)
        for forum_id, number, title, tier in (
            ("aaaaaaaaaa", 1, "Spiking transformers for diffusion", "oral"),
            ("bb_bb-bbbb", 2, "Graph diffusion models", "poster"),
            ("cccccccccc", 3, "Robust reinforcement learning", "spotlight"),
        )
    ]
    a, b, c = papers
    for paper, neighbors in ((a, [b, c]), (b, [a, c]), (c, [b])):
        for rank, neighbor in enumerate(neighbors, start=1):
            PaperNeighbor.objects.create(paper=paper, neighbor=neighbor, rank=rank, score=1 - rank / 10)
    session = SessionFactory(conference=conference, title="Poster Session 1")
    PresentationFactory(paper=a, session=session, poster_position="#12")
    lab = LabFactory(slug="tiny-lab")
    members = [UserFactory(username=f"tiny{n}") for n in range(2)]
    for member in members:
        MembershipFactory(lab=lab, user=member)
    for paper, member in zip(papers, [members[0], members[1], members[0]], strict=True):
        Assignment.objects.create(lab=lab, paper=paper, user=member)
    for member in members:
        for paper in papers:
            ReadingStatusFactory(user=member, paper=paper, state="shortlisted", starred=paper == a)
        NoteFactory(paper=b, author=member, lab=lab, kind="summary", body=f"{member.username} on b")
    other = PaperFactory(conference=ConferenceFactory(slug="other-2024"), forum_id="oooooooooo")
    return {"conference": conference, "papers": papers, "members": members, "lab": lab, "other": other}


def version(forum_id: str, copy: int) -> str:
    return forum_id if copy == 0 else f"{forum_id}-x{copy}"


def test_scale_copies_papers_with_new_forum_ids_and_their_search_data(tiny):
    conference = tiny["conference"]
    scaled = scale.scale([conference], factor=3)

    assert scaled.papers == {"tiny-2024": (3, 9)}
    papers = Paper.objects.filter(conference=conference)
    assert sorted(papers.values_list("forum_id", "number", "title", "tier")) == [
        ("aaaaaaaaaa", 1, "Spiking transformers for diffusion", "oral"),
        ("aaaaaaaaaa-x1", 4, "Spiking transformers for diffusion", "oral"),
        ("aaaaaaaaaa-x2", 7, "Spiking transformers for diffusion", "oral"),
        ("bb_bb-bbbb", 2, "Graph diffusion models", "poster"),
        ("bb_bb-bbbb-x1", 5, "Graph diffusion models", "poster"),
        ("bb_bb-bbbb-x2", 8, "Graph diffusion models", "poster"),
        ("cccccccccc", 3, "Robust reinforcement learning", "spotlight"),
        ("cccccccccc-x1", 6, "Robust reinforcement learning", "spotlight"),
        ("cccccccccc-x2", 9, "Robust reinforcement learning", "spotlight"),
    ]
    original = papers.get(forum_id="bb_bb-bbbb")
    copy = papers.get(forum_id="bb_bb-bbbb-x2")
    assert (copy.search_text, copy.keyword_index) == (original.search_text, original.keyword_index)
    assert sorted(search.search(papers, "diffusion").values_list("forum_id", flat=True)) == [
        "aaaaaaaaaa",
        "aaaaaaaaaa-x1",
        "aaaaaaaaaa-x2",
        "bb_bb-bbbb",
        "bb_bb-bbbb-x1",
        "bb_bb-bbbb-x2",
    ]
    assert sorted(search.search(papers, "reinforcement learn").values_list("forum_id", flat=True)) == [
        "cccccccccc",
        "cccccccccc-x1",
        "cccccccccc-x2",
    ]
    assert list(Paper.objects.exclude(conference=conference).values_list("forum_id", flat=True)) == ["oooooooooo"]


def test_scale_gives_each_copy_the_same_copy_of_its_similar_papers(tiny):
    scaled = scale.scale([tiny["conference"]], factor=3)

    assert scaled.neighbors == 10  # 5 rows, twice
    rows = sorted(PaperNeighbor.objects.values_list("paper__forum_id", "neighbor__forum_id", "rank", "score"))
    expected = []
    for copy in range(3):
        for paper, neighbor, rank, score in (
            ("aaaaaaaaaa", "bb_bb-bbbb", 1, 0.9),
            ("aaaaaaaaaa", "cccccccccc", 2, 0.8),
            ("bb_bb-bbbb", "aaaaaaaaaa", 1, 0.9),
            ("bb_bb-bbbb", "cccccccccc", 2, 0.8),
            ("cccccccccc", "bb_bb-bbbb", 1, 0.9),
        ):
            expected.append((version(paper, copy), version(neighbor, copy), rank, score))
    assert rows == sorted(expected)


def test_scale_copies_the_programme_and_the_split_and_spreads_the_activity(tiny):
    members, lab = tiny["members"], tiny["lab"]
    originals = {paper.forum_id: paper.pk for paper in tiny["papers"]}

    scaled = scale.scale([tiny["conference"]], factor=3)

    assert sorted(Presentation.objects.values_list("paper__forum_id", "session__title", "poster_position")) == [
        ("aaaaaaaaaa", "Poster Session 1", "#12"),
        ("aaaaaaaaaa-x1", "Poster Session 1", "#12"),
        ("aaaaaaaaaa-x2", "Poster Session 1", "#12"),
    ]
    assert sorted(Assignment.objects.filter(lab=lab).values_list("paper__forum_id", "user__username")) == sorted(
        (version(forum_id, copy), user)
        for forum_id, user in (("aaaaaaaaaa", "tiny0"), ("bb_bb-bbbb", "tiny1"), ("cccccccccc", "tiny0"))
        for copy in range(3)
    )
    # The same statuses and notes, each on one version of its paper: (member id × 7 + paper id) mod 3.
    expected_statuses = sorted(
        (member.username, version(forum_id, (member.pk * 7 + pk) % 3), "shortlisted", forum_id == "aaaaaaaaaa")
        for member in members
        for forum_id, pk in originals.items()
    )
    assert (
        sorted(ReadingStatus.objects.values_list("user__username", "paper__forum_id", "state", "starred"))
        == expected_statuses
    )
    expected_notes = sorted(
        (
            member.username,
            version("bb_bb-bbbb", (member.pk * 7 + originals["bb_bb-bbbb"]) % 3),
            f"{member.username} on b",
        )
        for member in members
    )
    assert sorted(Note.objects.values_list("author__username", "paper__forum_id", "body")) == expected_notes
    moved = [status for status in expected_statuses if "-x" in status[1]]
    assert scaled.statuses_moved == len(moved)
    assert scaled.notes_moved == sum("-x" in note[1] for note in expected_notes)


def test_scale_refuses_a_conference_that_has_copies_already(tiny):
    scale.scale([tiny["conference"]], factor=2)

    with pytest.raises(scale.AlreadyScaled, match=r"^tiny-2024 already has copies of its papers"):
        scale.scale([tiny["conference"]], factor=2)
    assert Paper.objects.filter(conference=tiny["conference"]).count() == 6


def test_report_shows_each_pages_server_time_after_a_change_and_not(run_dir, tmp_path):
    (run_dir / "sqlite-1x" / "cache.txt").write_text(
        "COLD_list=34.0\nWARM_list=6.5\nCOLD_dashboard=100.9\nWARM_dashboard=9.4\n"
    )
    out = tmp_path / "results.json"
    stdout = report_of(run_dir, out)
    table = sections(stdout)[
        "sqlite, 1×: 5,478 papers (ICLR 2024: 2,739); lab of 20 (20,000 statuses, 5,955 stars, 3,000 notes)"
    ]
    assert table[0].endswith("ok    server ms: changed / not")
    assert (
        table[5]
        == "list, default                        80.0     4.00     9.00    8.0%    ≥ 6%  PASS            34.0 / 6.5"
    )
    assert table[2] == "/healthz                           1000.0     4.00     9.00  100.0%       —  —"
    assert table[-1].startswith("server ms (in-process, median): the page's first look after a change in the lab")
    rows = {row["key"]: row for row in json.loads(out.read_text())["engines"]["sqlite"]["runs"]["1x"]["endpoints"]}
    assert (rows["dashboard"]["server_ms_after_change"], rows["dashboard"]["server_ms_unchanged"]) == (100.9, 9.4)
    assert "server_ms_after_change" not in rows["paper"]


def test_report_of_a_run_at_one_scale_shows_each_run_once_and_no_growth(run_dir, tmp_path):
    """SCALE=1 (the quick run): the 1× tables alone."""
    meta = run_dir / "meta.txt"
    meta.write_text(meta.read_text().replace("SCALE_FACTOR=10", "SCALE_FACTOR=1"))
    out = tmp_path / "results.json"
    stdout = report_of(run_dir, out)
    headings = [line for line in stdout.splitlines() if line.startswith("== ")]
    assert [heading.split(":")[0] for heading in headings] == [
        "== postgresql, 1×",
        "== sqlite, 1×",
        "== imports (manage.py import_openreview's own time; the similar papers apart)",
        "== pages and static files",
    ]
    assert "growth" not in json.loads(out.read_text())["engines"]["postgresql"]
