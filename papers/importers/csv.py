"""
Import papers (and their sessions) from a CSV of the shape papers.exporters.csv writes: admin bulk entry.

Columns: forum_id and title are required; authors, tier, keywords, primary_area, abstract, pdf_url and
sessions are read when present (lists joined with "; "; a session as `title@YYYY-MM-DD[ HH:MM[-HH:MM]][@board]`
in the conference's time zone). The member columns of an export (my_state, my_star, …) are ignored.
Every row is checked first (messages name the row, as a spreadsheet numbers it, and the column);
then everything is written in one transaction: papers upserted by forum id, sessions of the programme
matched by title and day, presentations by paper and session.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction

from papers import versions
from papers.exporters.csv import text_of_cell
from papers.importers.base import (
    ImportFailed,
    clean_text,
    decode_text,
    excerpt,
    has_invalid_text,
    plural,
    printable,
    too_far_out,
)
from papers.models import FORUM_ID, Conference, Paper, Presentation, Session

LIST_SEPARATOR = ";"
OPTIONAL_COLUMNS = ("authors", "tier", "keywords", "primary_area", "abstract", "pdf_url")
# A time only after a day: "Poster@ 10:00" is no session.
SESSION = re.compile(
    r"^(?P<title>.+?)@(?:(?P<day>\d{4}-\d{2}-\d{2})(?: (?P<start>\d{2}:\d{2})(?:-(?P<end>\d{2}:\d{2}))?)?)?"
    r"(?:@(?P<board>[^@]*))?$"
)


@dataclass
class SessionRow:
    title: str
    day: dt.date | None
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    board: str


@dataclass
class PaperRow:
    label: str
    forum_id: str
    fields: dict
    sessions: list[SessionRow] | None


@dataclass
class CsvSummary:
    conference: Conference
    created: int = 0
    updated: int = 0
    sessions_created: int = 0
    presentations: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        total = self.created + self.updated
        return (
            f"{self.conference.name}: {total:,} paper{plural(total)} from CSV ({self.created:,} created, "
            f"{self.updated:,} updated), {self.sessions_created:,} session{plural(self.sessions_created)} created, "
            f"{self.presentations:,} presentation{plural(self.presentations)}."
        )


def import_csv(data: bytes, *, conference: Conference) -> CsvSummary:
    """Import the CSV's rows into conference. Raises ImportFailed, having written nothing."""
    text = decode_text(data)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    records: list[dict] = []
    try:
        header = list(reader.fieldnames or [])
        for record in reader:
            records.append(record)
    except csv.Error as error:
        # csv stops at a cell over its field_size_limit; "row N" as a spreadsheet numbers it.
        label = "row 1 (the header)" if header is None else f"row {len(records) + 2}"
        if "field limit" in str(error):
            raise ImportFailed(f"{label}: a cell is longer than {csv.field_size_limit():,} characters.") from None
        raise ImportFailed(f"{label}: not readable as CSV: {error}.") from None
    if has_invalid_text(header):
        raise ImportFailed("row 1 (the header): is not UTF-8 text (save the file as UTF-8).")
    missing = [name for name in ("forum_id", "title") if name not in header]
    if missing:
        raise ImportFailed(f"The header row has no {' or '.join(missing)} column.")
    if not records:
        raise ImportFailed("The file holds no rows.")
    rows = [_row(index + 2, record, header, conference) for index, record in enumerate(records)]
    seen: dict[str, str] = {}
    for row in rows:
        if row.forum_id in seen:
            raise ImportFailed(f"{row.label}, column forum_id: {row.forum_id} is also in {seen[row.forum_id]}.")
        seen[row.forum_id] = row.label
    try:
        with transaction.atomic():
            summary = _write(conference, rows)
            versions.programme_changed(conferences=[conference.pk])
            return summary
    except IntegrityError:
        raise ImportFailed("Another import of this conference ran at the same time; run this one again.") from None


def _row(number: int, record: dict, header: list[str], conference: Conference) -> PaperRow:
    label = f"row {number}"
    if None in record:
        raise ImportFailed(f"{label}: has more cells than the header row has columns.")
    record = {column: text_of_cell(cell) if isinstance(cell, str) else cell for column, cell in record.items()}

    def text(column: str, *, required: bool = False) -> str:
        max_length = Paper._meta.get_field(column).max_length
        return clean_text(f"{label}, column {column}", record.get(column), "the value", max_length=max_length,
                          required=required)  # fmt: skip

    forum_id = text("forum_id", required=True)
    if not FORUM_ID.fullmatch(forum_id):
        raise ImportFailed(f"{label}, column forum_id: has characters other than letters, digits, - and _.")
    label = f"row {number} ({forum_id})"
    # Bytes that were not UTF-8 are kept as surrogates, which no database stores: a file saved as Latin-1, say.
    for column, value in record.items():
        if has_invalid_text(value):
            raise ImportFailed(f"{label}, column {printable(column)}: is not UTF-8 text (save the file as UTF-8).")
    fields: dict = {"title": text("title", required=True)}
    present = [column for column in OPTIONAL_COLUMNS if column in header]
    for column in present:
        if column in ("authors", "keywords"):
            value = clean_text(f"{label}, column {column}", record.get(column), "the value")
            fields[column] = [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]
        else:
            fields[column] = text(column)
    if "tier" in fields and fields["tier"].lower() not in Paper.Tier.values:
        raise ImportFailed(f"{label}, column tier: {fields['tier']!r} is not oral, spotlight, poster or empty.")
    if "tier" in fields:
        fields["tier"] = fields["tier"].lower()
    if fields.get("pdf_url"):
        try:
            URLValidator(schemes=["http", "https"])(fields["pdf_url"])
        except ValidationError:
            raise ImportFailed(f"{label}, column pdf_url: {fields['pdf_url']!r} is not an http(s) URL.") from None
    sessions = None
    if "sessions" in header:
        cell = clean_text(f"{label}, column sessions", record.get("sessions"), "the value")
        sessions = [_session(f"{label}, column sessions", part.strip(), conference)
                    for part in cell.split(LIST_SEPARATOR) if part.strip()]  # fmt: skip
        titles = [(s.title, s.day) for s in sessions]
        if len(set(titles)) != len(titles):
            raise ImportFailed(f"{label}, column sessions: names the same session twice.")
    return PaperRow(label=label, forum_id=forum_id, fields=fields, sessions=sessions)


def _session(label: str, text: str, conference: Conference) -> SessionRow:
    match = SESSION.match(text)
    if match is None:
        raise ImportFailed(f"{label}: {excerpt(text)} is not title@YYYY-MM-DD[ HH:MM[-HH:MM]][@board].")
    title = match["title"].strip()
    if len(title) > Session._meta.get_field("title").max_length:
        raise ImportFailed(f"{label}: the session title {title[:40]!r}… is too long.")
    day = starts_at = ends_at = None
    try:
        if match["day"]:
            day = dt.date.fromisoformat(match["day"])
        if match["start"] and too_far_out(day):
            raise ValueError  # no time zone conversion of it would fit in a datetime
        if match["start"]:
            starts_at = _local(day, match["start"], conference)
        if match["end"]:
            ends_at = _local(day, match["end"], conference)
    except ValueError:
        raise ImportFailed(f"{label}: {excerpt(text)} has an impossible date or time.") from None
    if starts_at and ends_at and ends_at < starts_at:
        raise ImportFailed(f"{label}: {excerpt(text)} ends before it starts.")
    board = (match["board"] or "").strip()
    if len(board) > Presentation._meta.get_field("poster_position").max_length:
        raise ImportFailed(f"{label}: the poster board {board[:20]!r}… is too long.")
    return SessionRow(title=title, day=day, starts_at=starts_at, ends_at=ends_at, board=board)


def _local(day: dt.date, hhmm: str, conference: Conference) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), tzinfo=conference.tzinfo).astimezone(dt.UTC)


def _kind(title: str) -> str:
    lowered = title.lower()
    if "oral" in lowered:
        return Session.Kind.ORAL
    if "poster" in lowered:
        return Session.Kind.POSTER
    return Session.Kind.OTHER


def _write(conference: Conference, rows: list[PaperRow]) -> CsvSummary:
    summary = CsvSummary(conference=conference)
    existing = {
        p.forum_id: p for p in Paper.objects.filter(conference=conference, forum_id__in=[r.forum_id for r in rows])
    }
    sessions = {(s.title, s.day): s for s in Session.objects.filter(conference=conference, lab__isnull=True)}
    for row in rows:
        paper = existing.get(row.forum_id)
        if paper is None:
            paper = Paper(conference=conference, forum_id=row.forum_id)
            summary.created += 1
        else:
            summary.updated += 1
        for name, value in row.fields.items():
            setattr(paper, name, value)
        paper.save()
        for item in row.sessions or []:
            session = sessions.get((item.title, item.day))
            if session is None:
                session = Session.objects.create(
                    conference=conference, title=item.title, day=item.day, starts_at=item.starts_at,
                    ends_at=item.ends_at, kind=_kind(item.title),
                )  # fmt: skip
                sessions[(session.title, session.day)] = session
                summary.sessions_created += 1
            presentation, _ = Presentation.objects.get_or_create(paper=paper, session=session)
            if item.board and presentation.poster_position != item.board:
                presentation.poster_position = item.board
                presentation.save(update_fields=["poster_position"])
            summary.presentations += 1
    return summary
