"""
Import a conference programme from its "virtual site" JSON (iclr.cc, neurips.cc, icml.cc).

The file is `{"count": N, "results": [...]}` (a bare array is accepted too). Each result is one event:
a paper's poster or oral slot, or a non-paper event (invited talk, social, workshop, …). Events are
grouped into Sessions by their `session` title and day in the conference's time zone; each paper
event becomes a Presentation of the paper whose OpenReview forum id is in its `paper_url`.

Every entry is checked before anything is written; the write is one transaction. A re-import
updates sessions and presentations in place and never deletes anything. A value the file leaves
empty (a room, a poster board, an event id, times) does not erase one already stored.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import parse_qs, urlsplit

from django.db import transaction
from django.utils import timezone

from papers.importers.base import (
    ImportFailed,
    Progress,
    decode_text,
    has_invalid_text,
    parse_records,
    record_label,
    type_name,
)
from papers.models import Conference, Paper, Presentation, Session

BATCH = 500
PROGRESS_EVERY = 500
FORUM_ID = re.compile(r"[A-Za-z0-9_-]+")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

SESSION_TITLE_MAX = Session._meta.get_field("title").max_length
ROOM_MAX = Session._meta.get_field("room").max_length
POSTER_POSITION_MAX = Presentation._meta.get_field("poster_position").max_length
EXTERNAL_ID_MAX = Presentation._meta.get_field("external_id").max_length
SESSION_FIELDS = ("kind", "day", "starts_at", "ends_at", "room")
PRESENTATION_FIELDS = ("poster_position", "starts_at", "ends_at", "external_id")

# Event-type words, checked in order: a "Workshop Poster" is a workshop, a "Spotlight Poster" a poster.
KIND_WORDS = (
    ("workshop", Session.Kind.WORKSHOP),
    ("tutorial", Session.Kind.TUTORIAL),
    ("invited", Session.Kind.INVITED_TALK),
    ("keynote", Session.Kind.INVITED_TALK),
    ("social", Session.Kind.SOCIAL),
    ("mentor", Session.Kind.MENTORING),
    ("oral", Session.Kind.ORAL),
    ("poster", Session.Kind.POSTER),
)


@dataclass
class ScheduleSummary:
    conference: Conference
    sessions_created: int = 0
    sessions_updated: int = 0
    sessions_unchanged: int = 0
    presentations_created: int = 0
    presentations_updated: int = 0
    presentations_unchanged: int = 0
    # Forum ids (or, for a paper_url with no forum id in it, entry labels) that are no paper of the conference.
    unmatched: list[str] = field(default_factory=list)
    # Entries without a paper (talks, socials, …): their session is imported, they make no presentation.
    skipped_non_paper: int = 0

    @property
    def sessions(self) -> int:
        return self.sessions_created + self.sessions_updated + self.sessions_unchanged

    @property
    def presentations(self) -> int:
        return self.presentations_created + self.presentations_updated + self.presentations_unchanged

    def __str__(self) -> str:
        text = (
            f"{self.conference.name} schedule: {_count(self.sessions, 'session')} "
            f"({self.sessions_created:,} created, {self.sessions_updated:,} updated, "
            f"{self.sessions_unchanged:,} unchanged), {_count(self.presentations, 'presentation')} "
            f"({self.presentations_created:,} created, {self.presentations_updated:,} updated, "
            f"{self.presentations_unchanged:,} unchanged)"
        )
        if self.skipped_non_paper:
            text += f"; {_count(self.skipped_non_paper, 'non-paper event')}"
        if self.unmatched:
            count = len(self.unmatched)
            text += (
                f"; {count:,} {'entry' if count == 1 else 'entries'} matched no paper "
                f"(first: {', '.join(self.unmatched[:5])})"
            )
        return text + "."


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


@dataclass
class _Entry:
    """One result of the file, checked and normalised; nothing of it is in the database yet."""

    index: int
    label: str
    session_title: str
    kind: str
    starts_at: datetime | None
    ends_at: datetime | None
    room: str
    poster_position: str
    external_id: str
    paper_url: str  # as given, stripped; "" for a non-paper event
    forum_id: str | None  # from paper_url, or sourceid when there is no paper_url
    forum_id_from_sourceid: bool = False
    day: date | None = None


@dataclass
class _SessionPlan:
    title: str
    day: date | None
    entries: list[_Entry]
    kind: str = Session.Kind.OTHER
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    room: str = ""


def import_schedule(data: bytes, *, conference: Conference, progress: Progress | None = None) -> ScheduleSummary:
    """
    Import the virtual-site schedule in data into conference. Raises ImportFailed, naming the
    first bad entry, before anything is written; otherwise writes everything in one transaction.
    """
    records = parse_records(decode_text(data), list_keys=("results",))
    tz = conference.tzinfo
    total = len(records)
    entries = []
    for index, record in enumerate(records):
        entries.append(_check_entry(index, record, tz))
        if progress and (index + 1) % PROGRESS_EVERY == 0:
            progress(index + 1, total)
    if progress and (total == 0 or total % PROGRESS_EVERY):
        progress(total, total)
    plans = _plan_sessions(entries, tz)

    summary = ScheduleSummary(conference=conference)
    with transaction.atomic():
        _write(conference, plans, summary)
    return summary


# Checking, one entry at a time ------------------------------------------------------------------------


def _check_entry(index: int, record: object, tz) -> _Entry:
    label = _safe(record_label(index, record))
    if not isinstance(record, dict):
        raise ImportFailed(f"{label}: expected an object, not {type_name(record)}.")
    if has_invalid_text(record):
        raise ImportFailed(f"{label}: contains text that is not valid UTF-8.")

    name = _text(record, "name", label)
    eventtype = _text(record, "eventtype", label)
    session_title = _text(record, "session", label)
    room = _text(record, "room_name", label, max_length=ROOM_MAX)
    poster_position = _text(record, "poster_position", label, max_length=POSTER_POSITION_MAX)
    paper_url = _text(record, "paper_url", label)
    external_id = _external_id(record, label)
    starts_at = _datetime(record, "starttime", label)
    ends_at = _datetime(record, "endtime", label)
    if starts_at and ends_at and ends_at < starts_at:
        raise ImportFailed(f"{label}: endtime {record['endtime']!r} is before starttime {record['starttime']!r}.")

    forum_id: str | None = None
    from_sourceid = False
    if paper_url:
        forum_id = forum_id_from(paper_url)
    else:
        sourceid = record.get("sourceid")
        if isinstance(sourceid, str) and FORUM_ID.fullmatch(sourceid.strip()):
            forum_id, from_sourceid = sourceid.strip(), True
    is_paper = bool(paper_url)

    source = "session"
    if not session_title:
        session_title = _default_session_title("" if is_paper else name, eventtype, starts_at, tz)
        source = "name" if not is_paper and name else "eventtype"
    if len(session_title) > SESSION_TITLE_MAX:
        raise ImportFailed(f"{label}: {source} is longer than {SESSION_TITLE_MAX} characters ({len(session_title):,}).")
    kind = kind_from(eventtype) if eventtype else kind_from(session_title)

    moment = starts_at or ends_at
    return _Entry(
        index=index,
        label=label,
        session_title=session_title,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        room=room,
        poster_position=poster_position,
        external_id=external_id,
        paper_url=paper_url,
        forum_id=forum_id,
        forum_id_from_sourceid=from_sourceid,
        day=timezone.localtime(moment, tz).date() if moment else None,
    )


def _safe(text: str) -> str:
    """Text fit to print: bytes that were not UTF-8 (kept as surrogates) become U+FFFD."""
    if has_invalid_text(text):
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text


def _text(record: dict, key: str, label: str, *, max_length: int | None = None) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ImportFailed(f"{label}: {key} must be a string, not {type_name(value)}.")
    value = value.strip()
    if "\x00" in value:
        raise ImportFailed(f"{label}: {key} contains a NUL character.")
    if max_length is not None and len(value) > max_length:
        raise ImportFailed(f"{label}: {key} is longer than {max_length} characters ({len(value):,}).")
    return value


def _external_id(record: dict, label: str) -> str:
    for key in ("id", "uid"):
        value = record.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ImportFailed(f"{label}: {key} must be a string or a whole number, not {type_name(value)}.")
        text = str(value).strip()
        if "\x00" in text:
            raise ImportFailed(f"{label}: {key} contains a NUL character.")
        if len(text) > EXTERNAL_ID_MAX:
            raise ImportFailed(f"{label}: {key} is longer than {EXTERNAL_ID_MAX} characters ({len(text):,}).")
        if text:
            return text
    return ""


def _datetime(record: dict, key: str, label: str) -> datetime | None:
    value = record.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ImportFailed(f"{label}: {key} must be an ISO-8601 date-time string, not {type_name(value)}.")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ImportFailed(f"{label}: {key} is not an ISO-8601 date-time: {value!r}.") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ImportFailed(f"{label}: {key} has no time-zone offset: {value!r}.")
    return moment


def forum_id_from(paper_url: str) -> str | None:
    """The OpenReview forum id in `https://openreview.net/forum?id=<id>`, or a bare forum id; else None."""
    paper_url = paper_url.strip()
    if "?" in paper_url or "/" in paper_url:
        ids = parse_qs(urlsplit(paper_url).query).get("id")
        candidate = ids[0].strip() if ids else ""
    else:
        candidate = paper_url
    return candidate if FORUM_ID.fullmatch(candidate) else None


def kind_from(text: str) -> str:
    lowered = text.lower()
    for word, kind in KIND_WORDS:
        if word in lowered:
            return kind
    return Session.Kind.OTHER


def _default_session_title(name: str, eventtype: str, starts_at: datetime | None, tz) -> str:
    """For an entry without a session: a non-paper event is its own session; papers group by type and time."""
    if name:
        return name
    title = eventtype or "Event"
    if starts_at:
        local = timezone.localtime(starts_at, tz)
        title += f", {MONTHS[local.month - 1]} {local.day} {local:%H:%M}"
    return title


# Grouping entries into sessions, still without the database --------------------------------------------


def _plan_sessions(entries: list[_Entry], tz) -> dict[tuple[str, date | None], _SessionPlan]:
    by_title: dict[str, list[_Entry]] = {}
    for entry in entries:
        by_title.setdefault(entry.session_title, []).append(entry)

    plans: dict[tuple[str, date | None], _SessionPlan] = {}
    for title, group in by_title.items():
        days = list(dict.fromkeys(entry.day for entry in group if entry.day is not None))
        for entry in group:
            # An entry without times joins its session when the file gives that session on one day only.
            day = entry.day if entry.day is not None else (days[0] if len(days) == 1 else None)
            key = (title, day)
            if key not in plans:
                plans[key] = _SessionPlan(title=title, day=day, entries=[])
            plans[key].entries.append(entry)

    for plan in plans.values():
        kinds = Counter(entry.kind for entry in plan.entries)
        plan.kind = kinds.most_common(1)[0][0]
        starts = [entry.starts_at for entry in plan.entries if entry.starts_at]
        ends = [entry.ends_at for entry in plan.entries if entry.ends_at]
        plan.starts_at = min(starts) if starts else None
        plan.ends_at = max(ends) if ends else None
        if plan.starts_at and plan.ends_at and plan.ends_at < plan.starts_at:
            latest = next(entry for entry in plan.entries if entry.ends_at == plan.ends_at)
            raise ImportFailed(
                f"{latest.label}: its session {plan.title!r} would end "
                f"({timezone.localtime(plan.ends_at, tz):%Y-%m-%d %H:%M}) before it starts "
                f"({timezone.localtime(plan.starts_at, tz):%Y-%m-%d %H:%M})."
            )
        if plan.starts_at:
            # What Session.save() would fill in; bulk_create does not call save().
            plan.day = timezone.localtime(plan.starts_at, tz).date()
        rooms = Counter(entry.room for entry in plan.entries if entry.room)
        plan.room = rooms.most_common(1)[0][0] if rooms else ""
    return plans


# Writing ------------------------------------------------------------------------------------------


def _write(conference: Conference, plans: dict[tuple[str, date | None], _SessionPlan], summary: ScheduleSummary):
    papers = dict(Paper.objects.filter(conference=conference).values_list("forum_id", "id"))
    existing_sessions: dict[tuple[str, date | None], Session] = {}
    for session in Session.objects.filter(conference=conference).order_by("id"):
        existing_sessions.setdefault((session.title, session.day), session)

    new_sessions: list[Session] = []
    changed_sessions: list[Session] = []
    session_for_plan: list[tuple[_SessionPlan, Session]] = []
    for key, plan in plans.items():
        session = existing_sessions.get(key)
        if session is None:
            session = Session(
                conference=conference,
                title=plan.title,
                kind=plan.kind,
                day=plan.day,
                starts_at=plan.starts_at,
                ends_at=plan.ends_at,
                room=plan.room,
            )
            new_sessions.append(session)
        else:
            wanted = {"kind": plan.kind}
            if plan.starts_at or plan.ends_at:
                wanted.update(starts_at=plan.starts_at, ends_at=plan.ends_at)
                if plan.starts_at:
                    wanted["day"] = plan.day
            if plan.room:
                wanted["room"] = plan.room
            if _assign(session, wanted):
                changed_sessions.append(session)
            else:
                summary.sessions_unchanged += 1
        session_for_plan.append((plan, session))
    Session.objects.bulk_create(new_sessions, batch_size=BATCH)
    Session.objects.bulk_update(changed_sessions, SESSION_FIELDS, batch_size=BATCH)
    summary.sessions_created = len(new_sessions)
    summary.sessions_updated = len(changed_sessions)

    # One presentation per (paper, session); when the file repeats one, the later entry wins.
    wanted_presentations: dict[tuple[int, int], _Entry] = {}
    unmatched: list[tuple[int, str]] = []
    for plan, session in session_for_plan:
        for entry in plan.entries:
            paper_id = papers.get(entry.forum_id) if entry.forum_id else None
            if paper_id is None:
                if entry.paper_url:
                    unmatched.append((entry.index, entry.forum_id or entry.label))
                else:
                    summary.skipped_non_paper += 1
                continue
            key = (paper_id, session.pk)
            previous = wanted_presentations.get(key)
            if previous is None or previous.index < entry.index:
                wanted_presentations[key] = entry
    summary.unmatched = list(dict.fromkeys(name for _, name in sorted(unmatched)))  # in file order, once each

    existing_presentations = {
        (presentation.paper_id, presentation.session_id): presentation
        for presentation in Presentation.objects.filter(session__conference=conference)
    }
    new_presentations: list[Presentation] = []
    changed_presentations: list[Presentation] = []
    for (paper_id, session_id), entry in sorted(wanted_presentations.items(), key=lambda item: item[1].index):
        presentation = existing_presentations.get((paper_id, session_id))
        if presentation is None:
            new_presentations.append(
                Presentation(
                    paper_id=paper_id,
                    session_id=session_id,
                    poster_position=entry.poster_position,
                    starts_at=entry.starts_at,
                    ends_at=entry.ends_at,
                    external_id=entry.external_id,
                )
            )
            continue
        wanted = {}
        if entry.poster_position:
            wanted["poster_position"] = entry.poster_position
        if entry.starts_at or entry.ends_at:
            wanted.update(starts_at=entry.starts_at, ends_at=entry.ends_at)
        if entry.external_id:
            wanted["external_id"] = entry.external_id
        if _assign(presentation, wanted):
            changed_presentations.append(presentation)
        else:
            summary.presentations_unchanged += 1
    Presentation.objects.bulk_create(new_presentations, batch_size=BATCH)
    Presentation.objects.bulk_update(changed_presentations, PRESENTATION_FIELDS, batch_size=BATCH)
    summary.presentations_created = len(new_presentations)
    summary.presentations_updated = len(changed_presentations)


def _assign(instance, values: dict) -> bool:
    """Set values on instance; True when any of them differed."""
    changed = False
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed
