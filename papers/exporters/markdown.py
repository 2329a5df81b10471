"""
The trip report: the papers I (or the lab) kept from a conference, day by day, as Markdown.

    ## Day 1 - Tuesday, May 7, 2024

    1. ⭐️ [Title](forum link) - my one-liner
        - a note
        - [ ] a to-do

    Also that day:
    - Lab dinner (Social, 19:00-22:00, Figlmüller)

A paper's day is its first presentation's day in the conference's time zone, else the day its
reader saw it (ReadingStatus.seen_on); papers with neither close the report under "Other papers".
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from papers.exporters import first_day, lab_notes, markdown_note, markdown_text, my_notes, one_line
from papers.latex import latex_to_text
from papers.models import Conference, Lab, Note, Paper, ReadingStatus, Session, User

KEPT = Q(state__in=[ReadingStatus.State.SHORTLISTED, ReadingStatus.State.READING, ReadingStatus.State.READ]) | Q(
    starred=True
)
NOTE_PREFIX = {Note.Kind.QUESTION: "Question: ", Note.Kind.FOLLOW_UP: "Follow-up: "}


def kept_papers(papers: QuerySet, *, lab: Lab, user: User, whole_lab: bool) -> QuerySet:
    """The papers a report covers: shortlisted, being read, read or starred, by me or by anyone in the lab."""
    statuses = ReadingStatus.objects.filter(paper=OuterRef("pk")).filter(KEPT)
    statuses = statuses.in_lab(lab) if whole_lab else statuses.filter(user=user)
    return papers.filter(Exists(statuses))


def lab_events(*, lab: Lab, conference: Conference) -> QuerySet:
    return Session.objects.filter(conference=conference, lab=lab).order_by("day", "starts_at", "title")


def trip_report(
    papers: list[Paper], *, conference: Conference, lab: Lab, user: User, whole_lab: bool, events: list[Session]
) -> str:
    """The report's text. papers come from export_queryset over kept_papers; events from lab_events."""
    by_day: dict[dt.date | None, list[Paper]] = defaultdict(list)
    for paper in papers:
        by_day[_report_day(paper, user=user, whole_lab=whole_lab)].append(paper)
    events_by_day: dict[dt.date, list[Session]] = defaultdict(list)
    for event in events:
        if event.day is not None:
            events_by_day[event.day].append(event)

    days = sorted({day for day in by_day if day is not None} | set(events_by_day))
    # Day 1 is the conference's first day; a report starting earlier (a workshop before it) counts from there.
    first = conference.start_date
    if days and (first is None or days[0] < first):
        first = days[0]

    who = lab.name if whole_lab else (user.get_full_name() or user.username)
    starred = sum(1 for paper in papers if _starred(paper, whole_lab))
    lines = [
        f"# {markdown_text(conference.name)} trip report: {markdown_text(who)}",
        "",
        f"{len(papers)} paper{'' if len(papers) == 1 else 's'}, {starred} starred (marked with a star below).",
    ]
    for day in days:
        lines += ["", f"## Day {(day - first).days + 1} - {day:%A, %B} {day.day}, {day.year}"]
        if by_day.get(day):
            lines += ["", *_paper_items(by_day[day], lab=lab, user=user, whole_lab=whole_lab)]
        if events_by_day.get(day):
            lines += ["", "Also that day:"] + [f"- {_event(event, conference)}" for event in events_by_day[day]]
    if by_day.get(None):
        lines += ["", "## Other papers", "", *_paper_items(by_day[None], lab=lab, user=user, whole_lab=whole_lab)]
    undated = [event for event in events if event.day is None]
    if undated:
        lines += ["", "## Other events", ""] + [f"- {_event(event, conference)}" for event in undated]
    return "\n".join(lines) + "\n"


def _report_day(paper: Paper, *, user: User, whole_lab: bool) -> dt.date | None:
    day = first_day(paper)
    if day is not None:
        return day
    seen = [
        status.seen_on
        for status in paper.lab_statuses
        if status.seen_on is not None and (whole_lab or status.user_id == user.pk)
    ]
    return min(seen, default=None)


def _starred(paper: Paper, whole_lab: bool) -> bool:
    return bool(paper.signals.starred_by) if whole_lab else paper.signals.my_starred


def _sort_key(paper: Paper) -> tuple:
    slots = [p.starts for p in paper.presentations.all() if p.starts is not None]
    first_slot = min(slots, default=None)
    return (first_slot is None, first_slot or dt.datetime.min.replace(tzinfo=dt.UTC), latex_to_text(paper.title))


def _paper_items(papers: list[Paper], *, lab: Lab, user: User, whole_lab: bool) -> list[str]:
    lines = []
    for number, paper in enumerate(sorted(papers, key=_sort_key), start=1):
        star = "⭐️ " if _starred(paper, whole_lab) else ""
        notes = lab_notes(paper, lab) if whole_lab else my_notes(paper, user)
        summaries = [note for note in notes if note.kind == Note.Kind.SUMMARY]
        item = f"{number}. {star}[{markdown_text(latex_to_text(paper.title))}]({paper.forum_url})"
        if summaries:
            item += " - " + "; ".join(_body(note, whole_lab) for note in summaries)
        lines.append(item)
        for note in notes:
            if note.kind != Note.Kind.SUMMARY:
                lines.append(f"    - {_note_item(note, whole_lab)}")
    return lines


def _body(note: Note, whole_lab: bool) -> str:
    """A note's text on one line; in the lab's report, with who wrote it."""
    text = markdown_note(one_line(note.body))
    if not whole_lab:
        return text
    if note.author_id is None:
        return f"{text} (a former member)"
    return f"{text} ({markdown_text(note.author.username)}{', former member' if note.is_by_former_member else ''})"


def _note_item(note: Note, whole_lab: bool) -> str:
    if note.kind == Note.Kind.TODO:
        return f"[{'x' if note.done else ' '}] {_body(note, whole_lab)}"
    return NOTE_PREFIX.get(note.kind, "") + _body(note, whole_lab)


def _event(event: Session, conference: Conference) -> str:
    details = [event.get_kind_display()]
    if event.starts_at is not None:
        when = timezone.localtime(event.starts_at, conference.tzinfo).strftime("%H:%M")
        if event.ends_at is not None:
            when += "-" + timezone.localtime(event.ends_at, conference.tzinfo).strftime("%H:%M")
        details.append(when)
    if event.room:
        details.append(markdown_text(event.room))
    return f"{markdown_text(event.title)} ({', '.join(details)})"
