"""
Exports of a lab member's filtered paper list: Markdown trip report, CSV, BibTeX, iCalendar.

Each exporter takes papers loaded with `export_queryset` (presentations and the lab's signals
prefetched, so no query per paper) and returns text. What a member may see is decided here once:
a note is in an export only if it is the lab's (shared) or the exporting member's own.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import QuerySet
from django.utils import timezone

from papers.models import Conference, Lab, Note, Paper, Presentation, User


def export_queryset(papers: QuerySet, *, lab: Lab, user: User) -> QuerySet:
    """Papers as the exports read them: sessions, statuses and visible notes in three prefetches."""
    return papers.select_related("conference").with_presentations().with_lab_signals(lab=lab, user=user)


def my_notes(paper: Paper, user: User) -> list[Note]:
    """The member's own notes on the paper (private or shared), oldest first."""
    return [note for note in paper.signals.notes if note.author_id == user.pk]


def lab_notes(paper: Paper, lab: Lab) -> list[Note]:
    """The notes shared with this lab: never anyone's private note."""
    return [note for note in paper.signals.notes if note.lab_id == lab.pk]


def one_line(text: str) -> str:
    return " ".join(text.split())


# A Markdown viewer shows raw HTML and follows any link: what the Markdown exports hold must not run there.
# `&lt;` (not `\<`, which not every Markdown reads) keeps HTML out; a character reference (`&colon;`,
# `&#106;`) is written as text, or it could spell `javascript:` in a link.
CHARACTER_REFERENCE = re.compile(r"&(?=#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)")
SCRIPT_SCHEME = re.compile(r"((?:java|vb)script)\\?:", re.IGNORECASE)


def markdown_text(text: str) -> str:
    """Text a Markdown viewer shows as it is (a title, a name, a room): no HTML, no link, no reference."""
    text = CHARACTER_REFERENCE.sub("&amp;", text.replace("\\", "\\\\"))
    return text.replace("[", "\\[").replace("]", "\\]").replace("<", "&lt;")


def markdown_note(body: str) -> str:
    """
    A note's own Markdown (emphasis, lists, http links), as harmless as the app shows it: its raw HTML
    is shown as text, and a javascript: or vbscript: link has its colon encoded (a link to nowhere).
    """
    body = CHARACTER_REFERENCE.sub("&amp;", body).replace("<", "&lt;")
    return SCRIPT_SCHEME.sub(r"\1%3A", body)


def local_day(presentation: Presentation, conference: Conference) -> dt.date | None:
    starts = presentation.starts
    if starts is not None:
        return timezone.localtime(starts, conference.tzinfo).date()
    return presentation.session.day


def first_day(paper: Paper) -> dt.date | None:
    days = [day for p in paper.presentations.all() if (day := local_day(p, paper.conference)) is not None]
    return min(days, default=None)


def session_label(presentation: Presentation, conference: Conference) -> str:
    """'Poster Session 1@2024-05-07 10:45-12:45': the session and when, in the conference's time."""
    session = presentation.session
    starts, ends = presentation.starts, presentation.ends
    when = ""
    if starts is not None:
        when = timezone.localtime(starts, conference.tzinfo).strftime("%Y-%m-%d %H:%M")
        if ends is not None:
            when += "-" + timezone.localtime(ends, conference.tzinfo).strftime("%H:%M")
    elif session.day is not None:
        when = session.day.isoformat()
    label = f"{session.title}@{when}"
    if presentation.poster_position:
        label += f"@{presentation.poster_position}"
    return label
