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
    orders nothing: order by ("-suggestion", "title", "pk"). Runs one query now (the seeds' tiers, see
    tier_preference); the papers' own query carries the rest. `lab` is accepted for symmetry with the pages'
    calls; a reading status belongs to its user, whatever lab they look from.
    """
    return _annotate_suggestion(papers, seeds=ReadingStatus.objects.filter(user=user))


def for_lab(papers: models.QuerySet[Paper], *, lab: Lab) -> models.QuerySet[Paper]:
    """The papers, each with `suggestion`: how like the papers the lab's members starred (one star, one vote)."""
    return _annotate_suggestion(papers, seeds=ReadingStatus.objects.in_lab(lab).filter(starred=True))


def why(paper: Paper, *, user: User, limit: int = 2) -> list[Paper]:
    """The papers I starred or shortlisted (or read) most similar to `paper`, closest first: one query."""
    forward = PaperNeighbor.objects.filter(paper=OuterRef("pk"), neighbor=paper).values("score")[:1]
    backward = PaperNeighbor.objects.filter(paper=paper, neighbor=OuterRef("pk")).values("score")[:1]
    mine = ReadingStatus.objects.filter(user=user).filter(_positive()).values("paper")
    return list(
        Paper.objects.filter(pk__in=mine)
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
    papers: models.QuerySet[Paper], *, seeds: models.QuerySet[ReadingStatus]
) -> models.QuerySet[Paper]:
    """
    Annotates `suggestion` from the seed statuses `seeds`, in the papers' own query: two correlated sums
    over the neighbour rows that meet the paper (both indexed), no query of its own.
    """
    seed_ids = seeds.values("pk")

    def total(near: str, seed: str) -> Subquery:
        # Rows joining this paper (`near`) to a seed's paper (`seed`), weighted by the seed's status.
        prefix = f"{seed}__reading_statuses__"
        rows = (
            PaperNeighbor.objects.filter(**{near: OuterRef("pk"), f"{prefix}in": seed_ids})
            .order_by()
            .values(near)
            .annotate(total=Sum(F("score") * _seed_weight(prefix)))
            .values("total")
        )
        return Coalesce(Subquery(rows, output_field=models.FloatField()), ZERO)

    has_positive = Exists(seeds.filter(_positive()))
    likeness = total("neighbor", "paper") + total("paper", "neighbor")
    return papers.annotate(
        suggestion=models.Case(
            models.When(has_positive, then=likeness * tier_preference(seeds)),
            default=ZERO,
            output_field=models.FloatField(),
        )
    )


def tier_preference(seeds: models.QuerySet[ReadingStatus]) -> models.Expression:
    """
    A factor per (conference, tier): the share of the positive seeds in that tier against the tier's share
    of its conference, with TIER_PRIOR imaginary seeds spread like the conference. 1 means no preference.
    One query (a count per conference and tier of the conferences the seeds are in).
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
        return Value(1.0)
    return models.Case(*cases, default=Value(1.0), output_field=models.FloatField())
