"""
The lab dashboard's reads for one conference: the funnel, each member's progress, the most starred
papers with who starred and read them, and the recent activity.

Each function runs a fixed number of queries whatever the number of members and papers (counts are
aggregates and annotations, never a query per member or per paper). Only the lab's own signals count:
statuses of its members, notes shared with it. Private notes never appear here, not even their author's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from papers.models import Assignment, Conference, Lab, Membership, Note, Paper, ReadingStatus, User

State = ReadingStatus.State
TRIAGED = [State.SKIPPED, State.SHORTLISTED, State.READING, State.READ]
# The funnel is cumulative: a paper someone is reading or has read was shortlisted on the way.
SHORTLISTED_OR_FURTHER = [State.SHORTLISTED, State.READING, State.READ]

MATRIX_PAPERS = 30
MOST_WANTED = 10
ACTIVITY_LIMIT = 200


def percent(part: int, whole: int) -> float:
    return 100 * part / whole if whole else 0.0


def percent_label(part: int, whole: int) -> str:
    """A whole percentage ("37%"), or "<1%" for a little that would round to nothing."""
    value = percent(part, whole)
    if 0 < value < 1:
        return "<1%"
    return f"{value:.0f}%"


def lab_members(lab: Lab) -> QuerySet:
    """The ids of the lab's current members, as a subquery (`user_id IN (…)`: a hashed lookup, not a join)."""
    return Membership.objects.filter(lab=lab).values("user")


def lab_statuses(lab: Lab) -> QuerySet[ReadingStatus]:
    """The statuses of the lab's current members (a status is its user's, seen by each of their labs)."""
    return ReadingStatus.objects.filter(user__in=lab_members(lab))


# --- The funnel ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    hint: str
    count: int
    total: int

    @property
    def percent(self) -> float:
        return percent(self.count, self.total)

    @property
    def percent_label(self) -> str:
        return percent_label(self.count, self.total)


@dataclass(frozen=True)
class Funnel:
    total: int
    seen: int
    shortlisted: int
    starred: int
    read: int

    @property
    def stages(self) -> list[Stage]:
        return [
            Stage("programme", "In the programme", "every accepted paper", self.total, self.total),
            Stage("seen", "Seen", "someone in the lab gave it a state", self.seen, self.total),
            Stage(
                "shortlisted", "Shortlisted", "shortlisted, reading or read by someone", self.shortlisted, self.total
            ),
            Stage("starred", "Starred", "starred by someone", self.starred, self.total),
            Stage("read", "Read", "read by someone", self.read, self.total),
        ]

    @property
    def unseen(self) -> int:
        return self.total - self.seen


def funnel(*, lab: Lab, conference: Conference) -> Funnel:
    """
    Two queries: the programme's size, and how many papers reached each stage with at least one member:
    the lab's statuses on the conference, counted per paper, then the papers counted. It reads the
    lab's own statuses only, however many other labs triage the same conference.
    """
    per_paper = (
        lab_statuses(lab)
        .filter(paper__conference=conference)
        .order_by()
        .values("paper")
        .annotate(
            seen_by=Count("pk", filter=Q(state__in=TRIAGED)),
            shortlisted_by=Count("pk", filter=Q(state__in=SHORTLISTED_OR_FURTHER)),
            starred_by=Count("pk", filter=Q(starred=True)),
            read_by=Count("pk", filter=Q(state=State.READ)),
        )
    )
    counts = per_paper.aggregate(
        seen=Count("paper", filter=Q(seen_by__gt=0)),
        shortlisted=Count("paper", filter=Q(shortlisted_by__gt=0)),
        starred=Count("paper", filter=Q(starred_by__gt=0)),
        read=Count("paper", filter=Q(read_by__gt=0)),
    )
    return Funnel(total=Paper.objects.filter(conference=conference).count(), **counts)


# --- Members' progress -----------------------------------------------------------------------------


@dataclass
class MemberProgress:
    user: User
    role: str
    triaged: int
    shortlisted: int
    starred: int
    read: int
    assigned: int  # papers of this conference in the member's slice (0: no slice)
    slice_triaged: int  # how many of those they triaged
    total: int  # papers in the programme
    behind: bool = False
    # Bars compare members: each count as a share of the lab's highest in its column.
    bars: dict[str, float] = field(default_factory=dict)

    @property
    def is_owner(self) -> bool:
        return self.role == Membership.Role.OWNER

    @property
    def progress(self) -> float:
        """How far through their share: their slice when the lab split the programme, else all of it."""
        return percent(self.slice_triaged, self.assigned) if self.assigned else percent(self.triaged, self.total)

    @property
    def progress_label(self) -> str:
        if self.assigned:
            return percent_label(self.slice_triaged, self.assigned)
        return percent_label(self.triaged, self.total)


@dataclass
class Progress:
    members: list[MemberProgress]
    split: bool  # the lab has divided this conference's papers between members

    @property
    def behind(self) -> list[MemberProgress]:
        return [member for member in self.members if member.behind]


def _count(queryset: QuerySet, *, per: str) -> Coalesce:
    """A correlated count of queryset's rows (grouped by `per`, the outer reference) as an annotation."""
    counted = queryset.order_by().values(per).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted), 0)


def member_progress(*, lab: Lab, conference: Conference, total: int) -> Progress:
    """
    Two queries: the members (owners first) with their slice and how much of it they triaged, and the
    lab's statuses on this conference counted per member in one pass (no query per member).
    """
    slice_ = Assignment.objects.filter(lab=lab, user=OuterRef("user"), paper__conference=conference)
    slice_triaged = ReadingStatus.objects.filter(
        user=OuterRef("user"),
        state__in=TRIAGED,
        paper__conference=conference,
        paper__assignments__lab=lab,
        paper__assignments__user=OuterRef("user"),
    )
    memberships = (
        Membership.objects.filter(lab=lab)
        .owners_first()
        .annotate(assigned=_count(slice_, per="user"), slice_triaged=_count(slice_triaged, per="user"))
    )
    counts = {
        row.pop("user"): row
        for row in lab_statuses(lab)
        .filter(paper__conference=conference)
        .order_by()
        .values("user")
        .annotate(
            triaged=Count("pk", filter=Q(state__in=TRIAGED)),
            shortlisted=Count("pk", filter=Q(state__in=SHORTLISTED_OR_FURTHER)),
            starred=Count("pk", filter=Q(starred=True)),
            read=Count("pk", filter=Q(state=State.READ)),
        )
    }
    nothing = {"triaged": 0, "shortlisted": 0, "starred": 0, "read": 0}
    members = [
        MemberProgress(
            user=membership.user,
            role=membership.role,
            assigned=membership.assigned,
            slice_triaged=membership.slice_triaged,
            total=total,
            **counts.get(membership.user_id, nothing),
        )
        for membership in memberships
    ]
    split = any(member.assigned for member in members)
    for column in ("triaged", "shortlisted", "starred", "read"):
        highest = max((getattr(member, column) for member in members), default=0)
        for member in members:
            member.bars[column] = percent(getattr(member, column), highest)
    # Who is behind: the least far through their slice (or the programme, without a split), when
    # members differ at all; a member without a slice in a split lab is not behind on anything.
    candidates = [member for member in members if member.assigned] if split else members
    if len(candidates) > 1:
        least = min(member.progress for member in candidates)
        if least < max(member.progress for member in candidates):
            for member in candidates:
                member.behind = member.progress == least
    return Progress(members=members, split=split)


# --- Most wanted and the read/unread matrix ----------------------------------------------------------

Cell = Literal["read", "reading", "unread"]


@dataclass
class WantedPaper:
    paper: Paper
    stars: int
    starred_by: list[User]
    read_by: list[User]
    cells: list[tuple[User, Cell, bool]]  # per member, in the members' order: state, starred

    @property
    def starred_by_names(self) -> str:
        return ", ".join(user.username for user in self.starred_by)


def most_starred(
    *, lab: Lab, conference: Conference, members: list[User], limit: int = MATRIX_PAPERS
) -> list[WantedPaper]:
    """
    The conference's papers with the most stars from the lab (ties by title), each with who starred it
    and each member's read state: two queries (none more when nothing is starred).
    """
    papers = list(
        Paper.objects.filter(
            conference=conference, reading_statuses__starred=True, reading_statuses__user__in=lab_members(lab)
        )
        .annotate(stars=Count("reading_statuses"))
        .only("pk", "conference_id", "forum_id", "title")
        .order_by("-stars", "title", "pk")[:limit]
    )
    if not papers:
        return []
    statuses = (
        lab_statuses(lab)
        .filter(paper__in=papers)
        .filter(Q(starred=True) | Q(state__in=[State.READING, State.READ]))
        .values_list("paper_id", "user_id", "state", "starred")
    )
    signals: dict[tuple[int, int], tuple[str, bool]] = {
        (paper_id, user_id): (state, starred) for paper_id, user_id, state, starred in statuses
    }
    wanted = []
    for paper in papers:
        cells: list[tuple[User, Cell, bool]] = []
        for user in members:
            state, starred = signals.get((paper.pk, user.pk), ("", False))
            cell: Cell = "read" if state == State.READ else "reading" if state == State.READING else "unread"
            cells.append((user, cell, starred))
        wanted.append(
            WantedPaper(
                paper=paper,
                stars=paper.stars,
                starred_by=[user for user, _, starred in cells if starred],
                read_by=[user for user, cell, _ in cells if cell == "read"],
                cells=cells,
            )
        )
    return wanted


# --- Recent activity -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One line of the activity: read as plain values (a page of 20 out of up to 400 rows builds no models)."""

    when: datetime
    username: str
    forum_id: str
    title: str
    kind: Literal["star", "read", "star-read", "note"]
    note_kind: str = ""
    note_body: str = ""
    # A shared note's author who has left the lab (username None: their account was deleted).
    by_former_member: bool = False

    @property
    def verb(self) -> str:
        if self.kind == "note":
            return NOTE_VERBS.get(self.note_kind, "added a note on")
        return {"star": "starred", "read": "read", "star-read": "starred and read"}[self.kind]

    @property
    def excerpt_html(self) -> str:
        """The note's first line as the list shows one-liners (Markdown, sanitised), for shown events only."""
        return Note(body=self.note_body).body_inline_html


NOTE_VERBS = {
    Note.Kind.SUMMARY: "wrote a one-liner on",
    Note.Kind.NOTE: "added a note on",
    Note.Kind.TODO: "added a to-do on",
    Note.Kind.QUESTION: "asked a question on",
    Note.Kind.FOLLOW_UP: "suggested follow-up reading on",
}


def recent_activity(*, lab: Lab, conference: Conference, limit: int = ACTIVITY_LIMIT) -> list[Event]:
    """
    The lab's newest stars, reads and shared notes on the conference, newest first: two queries, the
    newest `limit` of each merged (which keeps the merged list's first `limit` exact). Only notes shared
    with this lab: never a private one, not even the viewer's own.
    """
    statuses = (
        lab_statuses(lab)
        .filter(paper__conference=conference)
        .filter(Q(starred=True) | Q(state=State.READ))
        .order_by("-updated_at", "-pk")
        .values_list("updated_at", "user__username", "paper__forum_id", "paper__title", "state", "starred")[:limit]
    )
    notes = (
        Note.objects.filter(lab=lab, paper__conference=conference)
        .with_author_standing(lab)
        .order_by("-created_at", "-pk")
        .values_list(
            "created_at", "author__username", "paper__forum_id", "paper__title", "kind", "body", "author_in_lab"
        )[:limit]
    )
    events = [
        Event(
            when,
            username,
            forum_id,
            title,
            "star-read" if starred and state == State.READ else "star" if starred else "read",
        )
        for when, username, forum_id, title, state, starred in statuses
    ]
    events += [
        Event(when, username, forum_id, title, "note", note_kind=kind, note_body=body, by_former_member=not in_lab)
        for when, username, forum_id, title, kind, body, in_lab in notes
    ]
    events.sort(key=lambda event: event.when, reverse=True)
    return events[:limit]
