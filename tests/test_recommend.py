"""Similar papers and the For you / For the lab orders, on a small conference of three topics."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from papers import recommend
from papers.models import Paper, PaperNeighbor
from papers.similarity import build_neighbors
from tests.factories import ConferenceFactory, MembershipFactory, PaperFactory, ReadingStatusFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent

GRAPHS = "graph neural networks message passing over nodes and edges of molecular graphs"
DIFFUSION = "diffusion models denoising score matching for image generation and sampling"
AGENTS = "reinforcement learning agents learn a policy from reward in an environment"

TOPICS = {
    # title: abstract. Each topic's papers share words; the topics share none.
    "Message passing graph networks": f"We study {GRAPHS}. Expressive message passing.",
    "Graph neural networks for molecules": f"Molecular {GRAPHS}, predicting properties of molecules.",
    "Oversmoothing in graph neural networks": f"Deep {GRAPHS} oversmooth node features.",
    "Fast diffusion sampling": f"We speed up {DIFFUSION} with fewer denoising steps.",
    "Diffusion models for image editing": f"Editing with {DIFFUSION}, image generation guided by text.",
    "Score matching diffusion theory": f"A theory of {DIFFUSION} and score matching.",
    "Policy gradient agents": f"Policy gradient {AGENTS}, with variance reduction.",
    "Offline reinforcement learning": f"Offline {AGENTS} from logged reward data.",
}


@pytest.fixture
def topics(conference) -> dict[str, Paper]:
    papers = {
        title: PaperFactory(conference=conference, title=title, abstract=abstract) for title, abstract in TOPICS.items()
    }
    build_neighbors(conference, k=3)
    return papers


def star(user, paper, **fields):
    return ReadingStatusFactory(user=user, paper=paper, **{"starred": True, **fields})


def ranked(papers) -> list[str]:
    return [paper.title for paper in papers.order_by("-suggestion", "title", "pk")]


# --- Building the neighbours ------------------------------------------------------------------------


def test_every_paper_gets_its_k_nearest_others_most_similar_first(conference, topics):
    for paper in topics.values():
        rows = list(PaperNeighbor.objects.filter(paper=paper).order_by("rank"))
        assert [row.rank for row in rows] == [1, 2, 3]
        assert paper.pk not in [row.neighbor_id for row in rows]
        scores = [row.score for row in rows]
        assert scores == sorted(scores, reverse=True)
    nearest_two = {row.neighbor.title for row in PaperNeighbor.objects.filter(paper=topics["Fast diffusion sampling"])}
    assert {"Diffusion models for image editing", "Score matching diffusion theory"} < nearest_two


def test_a_small_conference_keeps_every_other_paper(db):
    conference = ConferenceFactory()
    papers = [PaperFactory(conference=conference, title=f"Graph networks {n}", abstract=GRAPHS) for n in range(3)]

    rows, _ = build_neighbors(conference, k=10)

    assert rows == 6
    assert [PaperNeighbor.objects.filter(paper=paper).count() for paper in papers] == [2, 2, 2]


def test_a_conference_of_one_paper_has_no_neighbours(db):
    conference = ConferenceFactory()
    PaperFactory(conference=conference)

    assert build_neighbors(conference, k=5)[0] == 0


def test_rebuilding_replaces_the_conference_rows_and_leaves_others_alone(conference, topics):
    other = ConferenceFactory(slug="neurips-2023")
    for n in range(3):
        PaperFactory(conference=other, title=f"Diffusion {n}", abstract=DIFFUSION)
    build_neighbors(other, k=2)
    topics["Offline reinforcement learning"].delete()
    PaperFactory(conference=conference, title="Model-based agents", abstract=f"Planning {AGENTS}.")

    rows, _ = build_neighbors(conference, k=3)

    assert rows == 8 * 3
    assert PaperNeighbor.objects.filter(paper__conference=conference).count() == 24
    assert PaperNeighbor.objects.filter(paper__conference=other).count() == 6
    assert not PaperNeighbor.objects.filter(neighbor__title="Offline reinforcement learning").exists()
    assert PaperNeighbor.objects.filter(paper__title="Model-based agents", rank=1).get().neighbor.title == (
        "Policy gradient agents"
    )


def v2_note(forum_id: str, title: str, abstract: str) -> dict:
    content = {
        "title": title,
        "abstract": abstract,
        "authors": ["Ada Lovelace"],
        "venue": "ICLR 2024 poster",
        "venueid": "ICLR.cc/2024/Conference",
    }
    return {"id": forum_id, "forum": forum_id, "content": {key: {"value": value} for key, value in content.items()}}


def test_import_builds_the_neighbours_and_a_reimport_rebuilds_them(db, tmp_path, capsys):
    notes = [v2_note(f"forum{n}", title, abstract) for n, (title, abstract) in enumerate(TOPICS.items())]
    source = tmp_path / "notes.json"
    source.write_text(json.dumps(notes))

    call_command("import_openreview", str(source))
    call_command("import_openreview", str(source))

    out = capsys.readouterr().out
    assert out.count("ICLR 2024: 56 similar-paper rows") == 2
    assert PaperNeighbor.objects.count() == 8 * 7
    pairs = list(PaperNeighbor.objects.values_list("paper", "neighbor"))
    assert len(pairs) == len(set(pairs))


def test_import_with_no_similar_builds_nothing(db, tmp_path):
    source = tmp_path / "notes.json"
    source.write_text(json.dumps([v2_note(f"forum{n}", "Graphs", GRAPHS) for n in range(3)]))

    call_command("import_openreview", str(source), "--no-similar")

    assert PaperNeighbor.objects.count() == 0


def test_build_similar_command_prints_a_summary(conference, topics, capsys):
    call_command("build_similar", "--conference", conference.slug, "-k", "2")

    assert capsys.readouterr().out.startswith("ICLR 2024: 16 similar-paper rows (k=2) in ")


# --- Similar papers and why -------------------------------------------------------------------------


def test_similar_papers_are_the_stored_neighbours_in_rank_order(topics):
    paper = topics["Fast diffusion sampling"]
    stored = list(PaperNeighbor.objects.filter(paper=paper).order_by("rank").values_list("neighbor__title", "score"))

    similar = recommend.similar_papers(paper, limit=2)

    assert [(p.title, p.similarity) for p in similar] == stored[:2]


def test_why_names_my_closest_starred_or_shortlisted_papers(topics):
    me, someone = UserFactory(), UserFactory()
    star(me, topics["Score matching diffusion theory"])
    ReadingStatusFactory(user=me, paper=topics["Diffusion models for image editing"], state="shortlisted")
    star(me, topics["Policy gradient agents"])
    ReadingStatusFactory(user=me, paper=topics["Oversmoothing in graph neural networks"], state="skipped")
    star(someone, topics["Graph neural networks for molecules"])

    with CaptureQueriesContext(connection) as queries:
        reasons = recommend.why(topics["Fast diffusion sampling"], user=me)

    assert len(queries) == 1
    assert {p.title for p in reasons} == {"Score matching diffusion theory", "Diffusion models for image editing"}
    mine = {"Score matching diffusion theory", "Diffusion models for image editing", "Policy gradient agents"}
    assert {p.title for p in recommend.why(topics["Message passing graph networks"], user=me, limit=5)} <= mine


# --- For you and for the lab ------------------------------------------------------------------------


def test_for_you_ranks_papers_like_my_stars_first(topics):
    me = UserFactory()
    star(me, topics["Fast diffusion sampling"])
    star(me, topics["Score matching diffusion theory"], state="shortlisted")
    ReadingStatusFactory(user=me, paper=topics["Policy gradient agents"], state="read")
    untriaged = Paper.objects.exclude(reading_statuses__user=me)

    order = ranked(recommend.for_you(untriaged, user=me))

    assert order[:2] == ["Diffusion models for image editing", "Offline reinforcement learning"]
    assert recommend.for_you(untriaged, user=me).get(title="Message passing graph networks").suggestion == 0


def test_skipped_papers_push_similar_ones_down(topics):
    me = UserFactory()
    for title in ("Fast diffusion sampling", "Policy gradient agents"):
        star(me, topics[title])
    candidates = Paper.objects.filter(
        title__in=["Diffusion models for image editing", "Offline reinforcement learning"]
    )
    before = {p.title: p.suggestion for p in recommend.for_you(candidates, user=me)}

    ReadingStatusFactory(user=me, paper=topics["Score matching diffusion theory"], state="skipped")
    after = {p.title: p.suggestion for p in recommend.for_you(candidates, user=me)}

    assert after["Diffusion models for image editing"] < before["Diffusion models for image editing"]
    assert after["Offline reinforcement learning"] == before["Offline reinforcement learning"]


def test_an_empty_or_only_skipped_profile_suggests_nothing(topics):
    me = UserFactory()
    assert {p.suggestion for p in recommend.for_you(Paper.objects.all(), user=me)} == {0}

    ReadingStatusFactory(user=me, paper=topics["Fast diffusion sampling"], state="skipped")
    assert {p.suggestion for p in recommend.for_you(Paper.objects.all(), user=me)} == {0}


def test_for_lab_counts_only_this_labs_members_stars(lab, owner, member, outsider, topics):
    star(owner, topics["Policy gradient agents"])
    star(member, topics["Oversmoothing in graph neural networks"])
    star(outsider, topics["Fast diffusion sampling"])
    ReadingStatusFactory(user=member, paper=topics["Score matching diffusion theory"], state="shortlisted")
    other_lab_member = UserFactory()
    MembershipFactory(user=other_lab_member)
    star(other_lab_member, topics["Diffusion models for image editing"])

    candidates = Paper.objects.filter(
        title__in=[
            "Offline reinforcement learning",
            "Message passing graph networks",
            "Diffusion models for image editing",
        ]
    )
    papers = recommend.for_lab(candidates, lab=lab)

    assert ranked(papers)[2] == "Diffusion models for image editing"
    scores = {p.title: p.suggestion for p in papers}
    assert scores["Diffusion models for image editing"] < scores["Message passing graph networks"] / 2


@pytest.mark.parametrize("seeds", [1, 6])
def test_for_you_is_four_queries_whatever_the_number_of_seeds(topics, seeds):
    me = UserFactory()
    lab = MembershipFactory(user=me).lab
    for paper in list(topics.values())[:seeds]:
        star(me, paper)

    with CaptureQueriesContext(connection) as queries:
        papers = list(recommend.for_you(Paper.objects.all(), user=me).order_by("-suggestion", "title"))
        list(recommend.for_lab(Paper.objects.all(), lab=lab))

    assert len(papers) == 8
    # For you and for the lab: each the seeds' tiers, the likeness from each side, then the ranking.
    assert len(queries) == 8


@pytest.fixture
def tiered(conference) -> dict[str, Paper]:
    """Two seeds, an oral and a poster, and two candidates per tier equally like both seeds."""
    papers = {
        name: PaperFactory(conference=conference, title=name, tier=tier)
        for name, tier in [
            ("oral seed", "oral"),
            ("poster seed", "poster"),
            ("oral candidate", "oral"),
            ("poster candidate", "poster"),
            ("spotlight candidate", "spotlight"),
        ]
    }
    # Ten more posters make the conference mostly posters, as real ones are.
    PaperFactory.create_batch(10, conference=conference, tier="poster")
    PaperNeighbor.objects.bulk_create(
        PaperNeighbor(paper=papers[seed], neighbor=papers[candidate], score=0.5, rank=rank)
        for seed in ("oral seed", "poster seed")
        for rank, candidate in enumerate(["oral candidate", "poster candidate", "spotlight candidate"], start=1)
    )
    return papers


def test_for_you_favours_the_tiers_my_stars_favour(tiered):
    me = UserFactory()
    star(me, tiered["oral seed"])
    star(me, tiered["poster seed"])
    candidates = Paper.objects.filter(title__endswith="candidate")

    scores = {p.title: p.suggestion for p in recommend.for_you(candidates, user=me)}

    # Half my stars are orals where the conference has one in seven: orals come first; spotlights, of which
    # I starred none, come last; each is the same 2 × 0.5 × 2.0 likeness, weighed by the tier preference.
    assert scores["oral candidate"] > scores["poster candidate"] > scores["spotlight candidate"] > 0
    # 15 papers: 2 orals, 12 posters, 1 spotlight; 2 seeds and a prior of 40 imaginary ones.
    assert scores["oral candidate"] == pytest.approx(2.0 * ((1 + 40 * 2 / 15) / 42) / (2 / 15))
    assert scores["spotlight candidate"] == pytest.approx(2.0 * ((0 + 40 * 1 / 15) / 42) / (1 / 15))


def test_the_tier_preference_is_none_when_the_stars_spread_like_the_conference(conference, tiered):
    me = UserFactory()
    star(me, tiered["poster seed"])
    candidates = Paper.objects.filter(title__endswith="candidate")

    scores = {p.title: p.suggestion for p in recommend.for_you(candidates, user=me)}

    # A single poster star barely moves the preference (poster share 12/15 → (1 + 32)/41): posters stay a
    # little ahead, nothing is zeroed.
    assert scores["poster candidate"] > scores["oral candidate"] == scores["spotlight candidate"] > 0.9


def test_web_side_module_does_not_load_scikit_learn_or_numpy():
    code = (
        "import django, sys; django.setup(); import papers.recommend; "
        "print(sorted(m for m in ('sklearn', 'numpy', 'scipy') if m in sys.modules))"
    )
    env = {"DJANGO_SETTINGS_MODULE": "iclrnotes.settings", "DEBUG": "1", "SECRET_KEY": "test", "PATH": ""}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)

    assert result.stdout.strip() == "[]", result.stderr


def test_the_list_and_the_inbox_sort_by_suggestion(client, lab, member, conference):
    from django.urls import reverse

    from papers import services
    from papers.models import PaperNeighbor
    from tests.factories import PaperFactory

    seed = PaperFactory(conference=conference, title="Z seed")
    close = PaperFactory(conference=conference, title="Y close")
    far = PaperFactory(conference=conference, title="X far")
    PaperNeighbor.objects.bulk_create(
        [
            PaperNeighbor(paper=seed, neighbor=close, score=0.9, rank=1),
            PaperNeighbor(paper=seed, neighbor=far, score=0.1, rank=2),
        ]
    )
    services.set_star(user=member, paper=seed, starred=True)
    client.force_login(member)

    listed = client.get(reverse("paper_list", args=[lab.slug, conference.slug]), {"sort": "for_you", "state": "unseen"})
    assert [p.title for p in listed.context["page"].object_list] == ["Y close", "X far"]
    card = client.get(reverse("triage", args=[lab.slug, conference.slug]), {"sort": "for_you"})
    assert card.context["paper"].title == "Y close"
