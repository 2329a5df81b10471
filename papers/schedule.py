"""
Reads for the schedule page: the programme (and the lab's own events) by day and session, my agenda,
and clashes between the papers I starred.

A fixed number of queries whatever the size of the programme: the sessions, their presentations, and
the papers with the lab's signals (three queries, PaperQuerySet.with_lab_signals). The grouping by
day and session, the ordering by poster board, and clash detection happen in Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import groupby

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from papers.models import Conference, Lab, Paper, Presentation, ReadingStatus, Session, User

# "My agenda": what I shortlisted, am reading or have read, and whatever I starred.
AGENDA_STATES = (ReadingStatus.State.SHORTLISTED, ReadingStatus.State.READING, ReadingStatus.State.READ)
EARLIEST = datetime.min.replace(tzinfo=UTC)
# The kinds of event a lab may add for itself (the programme's orals and posters come from the importer).
EVENT_KINDS = (
    Session.Kind.SOCIAL,
    Session.Kind.WORKSHOP,
    Session.Kind.TUTORIAL,
    Session.Kind.INVITED_TALK,
    Session.Kind.MENTORING,
    Session.Kind.OTHER,
)


@dataclass
class Clash:
    """Another of my starred papers on at the same time as this presentation."""

    paper: Paper
    presentation: Presentation


@dataclass
class Slot:
    """One paper in one session, as the schedule shows it."""

    presentation: Presentation
    paper: Paper
    clashes: list[Clash] = field(default_factory=list)


@dataclass
class SessionBlock:
    session: Session
    slots: list[Slot]

    @property
    def is_lab_event(self) -> bool:
        return self.session.lab_id is not None


@dataclass
class Day:
    day: date | None  # None: the sessions the programme has not yet given a day
    sessions: list[SessionBlock] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The day in the page's address (?day=2024-05-07), "unscheduled" for the sessions without one."""
        return f"{self.day:%Y-%m-%d}" if self.day else "unscheduled"

    @property
    def anchor(self) -> str:
        return f"day-{self.key}"


@dataclass
class Schedule:
    days: list[Day]
    clash_count: int
    has_programme: bool  # any of the conference's own sessions (not just the lab's events) in view

    @property
    def session_count(self) -> int:
        return sum(len(day.sessions) for day in self.days)


def visible_sessions(*, conference: Conference, lab: Lab) -> QuerySet[Session]:
    """The programme and this lab's own events; never another lab's."""
    return Session.objects.filter(conference=conference).filter(Q(lab__isnull=True) | Q(lab=lab))


def my_agenda_papers(papers: QuerySet[Paper], *, user: User) -> QuerySet[Paper]:
    """The papers I starred or shortlisted (or am reading, or read)."""
    mine = ReadingStatus.objects.filter(paper=OuterRef("pk"), user=user).filter(
        Q(starred=True) | Q(state__in=AGENDA_STATES)
    )
    return papers.filter(Exists(mine))


def lab_starred_papers(papers: QuerySet[Paper], *, lab: Lab) -> QuerySet[Paper]:
    """The papers anyone in the lab starred."""
    return papers.filter(Exists(ReadingStatus.objects.in_lab(lab).filter(paper=OuterRef("pk"), starred=True)))


def _board_key(presentation: Presentation) -> tuple:
    """Posters in board order (#2 before #10), a talk by its own slot."""
    number = re.search(r"\d+", presentation.poster_position)
    return (
        presentation.starts_at is None,
        presentation.starts_at or EARLIEST,
        int(number.group()) if number else float("inf"),
        presentation.poster_position,
        presentation.paper.title.lower(),
    )


def _session_day(session: Session, conference: Conference) -> date | None:
    if session.day is None and session.starts_at is not None:
        return timezone.localtime(session.starts_at, conference.tzinfo).date()
    return session.day


def build_schedule(
    *,
    conference: Conference,
    lab: Lab,
    user: User,
    mine: bool = False,
    lab_stars: bool = False,
    kind: str = "",
) -> Schedule:
    """
    Days → sessions → papers, as this member sees them (`paper.signals` on every paper).

    mine: my agenda (sessions with papers I starred or shortlisted, only those papers, with clashes);
    lab_stars: the papers anyone in the lab starred; kind: one kind of session. The lab's own events
    stay in every view that does not exclude their kind. Five queries.
    """
    sessions = visible_sessions(conference=conference, lab=lab)
    if kind:
        sessions = sessions.filter(kind=kind)
    papers = Paper.objects.for_conference(conference)
    if mine:
        papers = my_agenda_papers(papers, user=user)
    if lab_stars:
        papers = lab_starred_papers(papers, lab=lab)
    papers = papers.filter(pk__in=Presentation.objects.filter(session__in=sessions.values("pk")).values("paper"))

    session_list = list(sessions.select_related("created_by"))
    by_pk = {paper.pk: paper for paper in papers.with_lab_signals(lab=lab, user=user)}
    presentations = list(
        Presentation.objects.filter(session__in=sessions.values("pk"), paper__in=papers.values("pk")).only(
            "pk", "paper_id", "session_id", "poster_position", "starts_at", "ends_at"
        )
    )
    sessions_by_pk = {session.pk: session for session in session_list}
    slots_by_session: dict[int, list[Slot]] = {}
    for presentation in presentations:
        # Both ends of the relation are already in memory: no query per presentation.
        presentation.paper = by_pk[presentation.paper_id]
        presentation.session = sessions_by_pk[presentation.session_id]
        slots_by_session.setdefault(presentation.session_id, []).append(Slot(presentation, presentation.paper))

    clash_count = 0
    if mine:
        clashes = find_clashes([p for p in presentations if p.paper.signals.my_starred])
        clash_count = len({frozenset((p.paper_id, c.paper.pk)) for p in presentations for c in clashes.get(p.pk, [])})
        for slots in slots_by_session.values():
            for slot in slots:
                slot.clashes = clashes.get(slot.presentation.pk, [])

    filtered = mine or lab_stars
    blocks = [
        SessionBlock(session, sorted(slots_by_session.get(session.pk, []), key=lambda s: _board_key(s.presentation)))
        for session in session_list
        # A filtered view keeps the sessions with papers in it, and the lab's own events.
        if not filtered or session.pk in slots_by_session or session.lab_id is not None
    ]

    def order(block: SessionBlock) -> tuple:
        day = _session_day(block.session, conference)
        starts = block.session.starts_at
        # Within a day, the all-day sessions first, then by time.
        return (day is None, day or date.min, starts is not None, starts or EARLIEST, block.session.title)

    blocks.sort(key=order)
    days = [
        Day(day=day, sessions=list(group))
        for day, group in groupby(blocks, key=lambda block: _session_day(block.session, conference))
    ]
    has_programme = any(block.session.lab_id is None for block in blocks)
    return Schedule(days=days, clash_count=clash_count, has_programme=has_programme)


def find_clashes(presentations: list[Presentation]) -> dict[int, list[Clash]]:
    """
    For each presentation (by pk), the presentations of other papers that overlap it in time.

    Times are compared as aware datetimes, so sessions stored in different time zones compare by the
    instant. Intervals are half-open, [start, end): a talk ending at 10:00 does not clash with one
    starting at 10:00. A presentation without both a start and an end (a day-only poster session)
    clashes with nothing.
    """
    timed = sorted((p for p in presentations if p.starts and p.ends), key=lambda p: p.starts)
    clashes: dict[int, list[Clash]] = {}
    for index, first in enumerate(timed):
        for second in timed[index + 1 :]:
            if second.starts >= first.ends:
                break  # sorted by start: nothing later can overlap `first`
            if second.paper_id == first.paper_id:
                continue
            clashes.setdefault(first.pk, []).append(Clash(second.paper, second))
            clashes.setdefault(second.pk, []).append(Clash(first.paper, first))
    return clashes
