"""
The reading group's candidates: the papers a lab most wants to read together, ranked, across conferences.

Reads only (writes are in papers.services). Every signal is a correlated subquery on the paper, so the
ranking is one query (plus the paginator's count) however many papers, members and votes there are.
"""

from __future__ import annotations

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from papers.models import Conference, Lab, MeetingPaper, Nomination, Paper, ReadingStatus, User, Vote

# Shown on the page as it is computed here: keep the two in step.
SCORE_FORMULA = "3 × votes + 2 × stars + shortlists + 2 if nominated"
WANTED_STATES = (ReadingStatus.State.SHORTLISTED, ReadingStatus.State.READING)


def _count(queryset: QuerySet) -> Coalesce:
    """How many rows of queryset point at the outer paper (0 when none)."""
    counted = queryset.filter(paper=OuterRef("pk")).order_by().values("paper").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def candidates(*, lab: Lab, user: User, member_count: int, conference: Conference | None = None) -> QuerySet[Paper]:
    """
    The lab's candidates, best first: papers a current member starred, shortlisted or is reading, voted
    for, or that were nominated in the lab. Left out: papers read by all member_count members, and
    papers of a meeting the lab has held. Each paper carries vote_count, star_count, shortlist_count,
    read_count, score, nominated, nominated_by_name, my_vote and next_meeting_at/next_meeting_id (its
    planned, not yet held, meeting). Ties go to the paper fewer members have read, then by title.
    """
    statuses = ReadingStatus.objects.in_lab(lab)
    # Votes of members who left the lab no longer count, like their stars.
    votes = Vote.objects.filter(lab=lab, user__memberships__lab=lab)
    nominations = Nomination.objects.filter(lab=lab)
    lab_meetings = MeetingPaper.objects.filter(meeting__lab=lab, paper=OuterRef("pk"))
    planned = lab_meetings.filter(meeting__held_at__isnull=True).order_by("meeting__starts_at", "meeting__pk")

    wanted = (
        Q(pk__in=statuses.filter(Q(starred=True) | Q(state__in=WANTED_STATES)).values("paper"))
        | Q(pk__in=votes.values("paper"))
        | Q(pk__in=nominations.values("paper"))
    )
    papers = Paper.objects.filter(wanted)
    if conference is not None:
        papers = papers.filter(conference=conference)
    return (
        papers.select_related("conference")
        .annotate(
            vote_count=_count(votes),
            star_count=_count(statuses.filter(starred=True)),
            shortlist_count=_count(statuses.filter(state__in=WANTED_STATES)),
            read_count=_count(statuses.filter(state=ReadingStatus.State.READ)),
            nominated=Exists(nominations.filter(paper=OuterRef("pk"))),
            nominated_by_name=Subquery(nominations.filter(paper=OuterRef("pk")).values("nominated_by__username")[:1]),
            my_vote=Exists(votes.filter(paper=OuterRef("pk"), user=user)),
            next_meeting_at=Subquery(planned.values("meeting__starts_at")[:1]),
            next_meeting_id=Subquery(planned.values("meeting")[:1]),
            held=Exists(lab_meetings.filter(meeting__held_at__isnull=False)),
        )
        .annotate(
            score=3 * F("vote_count")
            + 2 * F("star_count")
            + F("shortlist_count")
            + Case(When(nominated=True, then=Value(2)), default=Value(0))
        )
        .filter(held=False, read_count__lt=member_count)
        .order_by("-score", "read_count", "title", "pk")
    )
