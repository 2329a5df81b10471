"""
Suggestions from stored similarities (PaperNeighbor): "more like this", "for you" and "for the lab".
Read-only and cheap enough for a page: nothing here imports scikit-learn (see papers/similarity.py,
used only by `manage.py build_similar`).

A suggestion score is a weighted sum of stored similarities to "seed" papers: what I starred (weighs
most), shortlisted or read, minus a smaller share of what I skipped. A neighbour row (a, b) is used both
ways: b is among a's nearest, so b is like a and a is like b; a pair that is mutually near counts twice,
which is what we want (it is the strongest evidence of likeness).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from papers.models import Lab, Paper, PaperNeighbor, ReadingStatus, User

# Weights of a seed. Tuned with `manage.py eval_recommendations` (stars) and kept in this order: a star
# is "I want to read this", a shortlist or a read is interest, a skip is a milder "not this".
STAR_WEIGHT = 2.0
POSITIVE_WEIGHT = 1.0
NEGATIVE_WEIGHT = 0.3

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
    orders nothing: order by ("-suggestion", "title", "pk"). `lab` is accepted for symmetry with the pages'
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
    return papers.annotate(
        suggestion=models.Case(
            models.When(has_positive, then=total("neighbor", "paper") + total("paper", "neighbor")),
            default=ZERO,
            output_field=models.FloatField(),
        )
    )
