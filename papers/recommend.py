"""
Suggestions from stored similarities (PaperNeighbor): "more like this", "for you" and "for the lab".
Read-only and cheap enough for a page: nothing here imports scikit-learn (see papers/similarity.py,
used only by `manage.py build_similar`).

A suggestion score is a weighted sum of stored similarities to "seed" papers: what I starred (weighs
most), shortlisted or read, minus a smaller share of what I skipped. A neighbour row (a, b) is used both
ways: b is among a's nearest, so b is like a and a is like b; a pair that is mutually near counts twice,
which is what we want (it is the strongest evidence of likeness).

The sum is then weighed by how much the seeds favour the paper's tier (oral, spotlight, poster): a user
whose stars are half orals and spotlights, where a conference has one in five, is shown those first. The
preference is learnt from the seeds themselves and shrunk towards "none" (see TIER_PRIOR), so a user who
stars posters only is not pushed towards orals, and a handful of stars moves little. On the attendee's
shortlist it lifts recall@100 from 0.60 to 0.68 (`manage.py eval_recommendations`).
"""

from __future__ import annotations

import json

from django.db import models
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from papers.models import Lab, Paper, PaperNeighbor, ReadingStatus, User

# Weights of a seed. Tuned with `manage.py eval_recommendations` (stars) and kept in this order: a star
# is "I want to read this", a shortlist or a read is interest, a skip is a milder "not this".
STAR_WEIGHT = 2.0
POSITIVE_WEIGHT = 1.0
NEGATIVE_WEIGHT = 0.3

# The tier preference counts this many imaginary seeds spread like the conference itself: 33 stars move it
# halfway from "none" to what they show. recall@100 on the attendee's shortlist is flat (0.674 to 0.679)
# for priors from 20 to 60, and lower with no tier preference (0.604) or a weak prior (0.596 at 1).
TIER_PRIOR = 40.0

POSITIVE_STATES = [ReadingStatus.State.SHORTLISTED, ReadingStatus.State.READING, ReadingStatus.State.READ]

ZERO = Value(0.0, output_field=models.FloatField())


def similar_papers(paper: Paper, *, limit: int = 10) -> models.QuerySet[Paper]:
    """The paper's stored neighbours, most similar first, each with `similarity` (float)."""
    return (
        Paper.objects.filter(neighbor_of__paper=paper, neighbor_of__rank__lte=limit)
        .annotate(similarity=F("neighbor_of__score"), neighbor_rank=F("neighbor_of__rank"))
        .order_by("neighbor_rank", "pk")
    )


def for_you(papers: models.QuerySet[Paper], *, user: User, lab: Lab | None = None) -> models.QuerySet[Paper]:
    """
    The papers, each with `suggestion` (float, higher is more like what I starred, shortlisted and read and
    less like what I skipped; 0 for every paper when I have starred or shortlisted nothing). Filters and
    orders nothing: order by ("-suggestion", "title", "pk"). Runs up to three queries now (the seeds' tiers,
    see tier_preference, and the likeness summed from the seeds' side); the papers' query carries the rest.
    `lab` is accepted for symmetry with the pages' calls; a reading status belongs to its user, whatever lab
    they look from.
    """
    return _annotate_suggestion(papers, seeds=ReadingStatus.objects.filter(user=user), seed_lookups={"user": user})


def for_lab(papers: models.QuerySet[Paper], *, lab: Lab) -> models.QuerySet[Paper]:
    """The papers, each with `suggestion`: how like the papers the lab's members starred (one star, one vote)."""
    return _annotate_suggestion(
        papers,
        seeds=ReadingStatus.objects.in_lab(lab).filter(starred=True),
        seed_lookups={"user__memberships__lab": lab, "starred": True},
    )


def why(paper: Paper, *, user: User, limit: int = 2) -> list[Paper]:
    """The papers I starred or shortlisted (or read) most similar to `paper`, closest first: one query."""
    forward = PaperNeighbor.objects.filter(paper=OuterRef("pk"), neighbor=paper).values("score")[:1]
    backward = PaperNeighbor.objects.filter(paper=paper, neighbor=OuterRef("pk")).values("score")[:1]
    mine = ReadingStatus.objects.filter(user=user).filter(_positive()).values("paper")
    return list(
        Paper.objects.filter(pk__in=mine)
        .select_related("conference")
        .exclude(pk=paper.pk)
        .annotate(similarity=Coalesce(Subquery(forward), ZERO) + Coalesce(Subquery(backward), ZERO))
        .filter(similarity__gt=0)
        .order_by("-similarity", "title", "pk")[:limit]
    )


def _positive(prefix: str = "") -> Q:
    return Q(**{f"{prefix}starred": True}) | Q(**{f"{prefix}state__in": POSITIVE_STATES})


def _seed_weight(prefix: str) -> models.Case:
    """The weight of the seed a neighbour row points at, through `prefix` (a path to its ReadingStatus)."""
    return models.Case(
        models.When(Q(**{f"{prefix}starred": True}), then=Value(STAR_WEIGHT)),
        models.When(Q(**{f"{prefix}state__in": POSITIVE_STATES}), then=Value(POSITIVE_WEIGHT)),
        models.When(Q(**{f"{prefix}state": ReadingStatus.State.SKIPPED}), then=Value(-NEGATIVE_WEIGHT)),
        default=ZERO,
        output_field=models.FloatField(),
    )


def _annotate_suggestion(
    papers: models.QuerySet[Paper], *, seeds: models.QuerySet[ReadingStatus], seed_lookups: dict[str, object]
) -> models.QuerySet[Paper]:
    """
    Annotates `suggestion` from the seed statuses `seeds` (the same statuses as `seed_lookups`, lookups on
    ReadingStatus). The likeness is summed from the seeds' side, in two grouped queries over the neighbour
    rows that touch a seed (a seed's ~100 each way; a per-paper subquery instead would visit every paper's
    rows, seconds on a real conference), then handed to the papers' query as one parameter.
    """
    preference = tier_preference(seeds)
    if preference is None:
        return papers.annotate(suggestion=ZERO)

    likeness: dict[int, float] = {}
    for near, seed in (("neighbor", "paper"), ("paper", "neighbor")):
        # Rows joining a paper (`near`) to a seed's paper (`seed`), weighted by the seed's status.
        prefix = f"{seed}__reading_statuses__"
        rows = (
            PaperNeighbor.objects.filter(**{f"{prefix}{lookup}": value for lookup, value in seed_lookups.items()})
            .order_by()
            .values_list(near)
            .annotate(total=Sum(F("score") * _seed_weight(prefix)))
        )
        for paper_id, total in rows:
            likeness[paper_id] = likeness.get(paper_id, 0.0) + total
    return papers.annotate(suggestion=ScoreOf(likeness) * preference)


class ScoreOf(models.Func):
    """
    The score of each row's paper in `scores` ({paper id: score}, 0 for the others), passed to the database
    as one JSON parameter and looked up by the paper's id.
    """

    output_field = models.FloatField()

    def __init__(self, scores: dict[int, float]) -> None:
        encoded = json.dumps({str(paper_id): round(score, 6) for paper_id, score in scores.items()})
        super().__init__(Value(encoded, output_field=models.TextField()), F("pk"))

    def as_sql(self, compiler, connection, **extra):
        scores, scores_params = compiler.compile(self.source_expressions[0])
        paper, paper_params = compiler.compile(self.source_expressions[1])
        if connection.vendor == "postgresql":
            sql = f"COALESCE(({scores})::jsonb ->> ({paper})::text, '0')::double precision"
        else:
            sql = f"COALESCE(json_extract({scores}, '$.\"' || {paper} || '\"'), 0.0)"
        return sql, (*scores_params, *paper_params)


def tier_preference(seeds: models.QuerySet[ReadingStatus]) -> models.Expression | None:
    """
    A factor per (conference, tier): the share of the positive seeds in that tier against the tier's share
    of its conference, with TIER_PRIOR imaginary seeds spread like the conference. 1 means no preference;
    None when no seed is positive (nothing to suggest from). One query (a count per conference and tier of
    the conferences the seeds are in).
    """
    positive = seeds.filter(_positive())
    rows = list(
        Paper.objects.filter(conference__in=positive.values("paper__conference"))
        .annotate(is_seed=Exists(positive.filter(paper=OuterRef("pk"))))
        .order_by()
        .values("conference", "tier")
        .annotate(papers=Count("pk"), seeds=Count("pk", filter=Q(is_seed=True)))
    )
    conference_papers: dict[int, int] = {}
    conference_seeds: dict[int, int] = {}
    for row in rows:
        conference_papers[row["conference"]] = conference_papers.get(row["conference"], 0) + row["papers"]
        conference_seeds[row["conference"]] = conference_seeds.get(row["conference"], 0) + row["seeds"]
    cases = []
    for row in rows:
        base = row["papers"] / conference_papers[row["conference"]]
        share = (row["seeds"] + TIER_PRIOR * base) / (conference_seeds[row["conference"]] + TIER_PRIOR)
        cases.append(models.When(conference=row["conference"], tier=row["tier"], then=Value(share / base)))
    if not cases:
        return None
    return models.Case(*cases, default=Value(1.0), output_field=models.FloatField())
