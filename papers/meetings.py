"""
Reads for the reading group's meetings: the presenter rotation and the upcoming meetings.

The rotation is fair by a simple rule: the next presenter is the member who presented least recently
(someone who never presented comes first), then the one who presented least often, then by username.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import groupby

from django.db.models import Count, Max, Q, QuerySet, Subquery
from django.utils import timezone

from papers.models import Lab, Meeting, MeetingPaper, User

# A meeting stays "upcoming" for a day after it starts, so it can still be marked held from the list.
UPCOMING_GRACE = dt.timedelta(days=1)
UPCOMING_LIMIT = 10


def rotation(lab: Lab) -> list[User]:
    """
    The lab's members in presenting order, fairest first (one query). Each member carries
    `presented` (how many papers they presented in the lab's meetings) and `last_presented`.
    """
    mine = Q(presentations_given__meeting__lab=lab)
    members = (
        User.objects.filter(memberships__lab=lab)
        .annotate(
            presented=Count("presentations_given", filter=mine),
            last_presented=Max("presentations_given__meeting__starts_at", filter=mine),
        )
        .order_by()
    )
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(members, key=lambda u: (u.last_presented or never, u.presented, u.username))


def suggest_presenters(lab: Lab, slots: int) -> list[User]:
    """A presenter for each of `slots` papers, in rotation order (round again when papers outnumber members)."""
    order = rotation(lab)
    if not order:
        return []
    return [order[n % len(order)] for n in range(slots)]


def meeting_slots(meeting: Meeting) -> QuerySet[MeetingPaper]:
    """A meeting's papers in order, with the paper, its conference and the people (one query)."""
    return MeetingPaper.objects.filter(meeting=meeting).select_related(
        "paper__conference", "presenter", "discussion_lead"
    )


@dataclass
class UpcomingMeeting:
    meeting: Meeting
    slots: list[MeetingPaper]


def upcoming_meetings(*, user: User, lab: Lab | None = None, now: dt.datetime | None = None) -> list[UpcomingMeeting]:
    """
    The next meetings (not yet held) of one lab, or of all the user's labs, with their papers and
    presenters: one query (the meetings are a subquery of their papers' rows). A meeting without
    papers is not listed: a meeting is scheduled with at least one.
    """
    now = now or timezone.now()
    meetings = Meeting.objects.filter(held_at__isnull=True, starts_at__gte=now - UPCOMING_GRACE)
    meetings = meetings.filter(lab=lab) if lab is not None else meetings.filter(lab__memberships__user=user)
    next_ids = meetings.order_by("starts_at", "pk").values("pk")[:UPCOMING_LIMIT]
    rows = (
        MeetingPaper.objects.filter(meeting__in=Subquery(next_ids))
        .select_related("meeting__lab", "paper", "presenter", "discussion_lead")
        .order_by("meeting__starts_at", "meeting_id", "position", "pk")
    )
    return [UpcomingMeeting(meeting=slots[0].meeting, slots=slots) for slots in _by_meeting(rows)]


def _by_meeting(rows) -> list[list[MeetingPaper]]:
    return [list(group) for _, group in groupby(rows, key=lambda row: row.meeting_id)]
