"""
Import a conference programme from its "virtual site" JSON (iclr.cc, neurips.cc, icml.cc).

The file is `{"count": N, "results": [...]}` (a bare array is accepted too; any other object, such as
an OpenReview notes file, is refused). Each result is one event: a paper's poster or oral slot, or a
non-paper event (invited talk, social, workshop, …). Events are grouped into Sessions by their
`session` title and day in the conference's time zone; each paper event becomes a Presentation of
the paper whose OpenReview forum id is in its `paper_url`.

Every entry is checked before anything is written; the write is one transaction. The time zone can
be set in the same step (`timezone=`, `--timezone`); it is saved only if the import succeeds. A
conference still in UTC (as import_openreview creates it) refuses a schedule whose times carry
another offset, since its days would come out wrong; passing timezone="UTC" confirms UTC.

A re-import updates sessions and presentations in place:
- A session is matched by title and day; failing that, by its title alone when exactly one session
  of the conference has that title and no other session of the file claims it (the file now gives
  times for a session it had none for, or moves it to another day). Sessions are never deleted.
- Stored sessions with a start time are first put on the day of that start in the conference's time
  zone, so that a corrected time zone does not duplicate them.
- For every paper the file schedules, its presentations in sessions the file no longer lists for it
  are deleted (counted as removed). Presentations of papers the file does not mention are kept.
- A value the file leaves empty (a room, a poster board, an event id, times) does not erase one
  already stored.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.timezone import localtime

from papers import versions
from papers.importers.base import (
    DECODER,
    JSON_ERRORS,
    MAX_DEPTH,
    ImportFailed,
    Progress,
    clean_text,
    decode_text,
    excerpt,
    has_invalid_text,
    parse_records,
    printable,
    record_label,
    too_deep,
    too_far_out,
    type_name,
)
from papers.models import Conference, Paper, Presentation, Session, validate_timezone

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
# A schedule entry has at least one of these; an OpenReview note, say, has none.
ENTRY_KEYS = ("name", "session", "eventtype", "paper_url")

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
    # Presentations of papers in this file, in sessions the file no longer lists them in: deleted.
    presentations_removed: int = 0
    # Forum ids (or, for a paper_url with no forum id in it, entry labels) that are no paper of the conference.
    unmatched: list[str] = field(default_factory=list)
    # Entries without a paper (talks, socials, …): their session is imported, they make no presentation.
    skipped_non_paper: int = 0
    # (old, new) when this import changed the conference's time zone.
    timezone_changed: tuple[str, str] | None = None

    @property
    def sessions(self) -> int:
        return self.sessions_created + self.sessions_updated + self.sessions_unchanged

    @property
    def presentations(self) -> int:
        """The presentations the file lists (removed ones are not among them)."""
        return self.presentations_created + self.presentations_updated + self.presentations_unchanged

    def __str__(self) -> str:
        removed = f", {self.presentations_removed:,} removed" if self.presentations_removed else ""
        text = (
            f"{self.conference.name} schedule: {_count(self.sessions, 'session')} "
            f"({self.sessions_created:,} created, {self.sessions_updated:,} updated, "
            f"{self.sessions_unchanged:,} unchanged), {_count(self.presentations, 'presentation')} "
            f"({self.presentations_created:,} created, {self.presentations_updated:,} updated, "
            f"{self.presentations_unchanged:,} unchanged{removed})"
        )
        if self.skipped_non_paper:
            text += f"; {_count(self.skipped_non_paper, 'non-paper event')}"
        if self.unmatched:
            count = len(self.unmatched)
            text += (
                f"; {count:,} {'entry' if count == 1 else 'entries'} matched no paper "
                f"(first: {', '.join(self.unmatched[:5])})"
            )
        if self.timezone_changed:
            old, new = self.timezone_changed
            text += f"; time zone set to {new} (was {old})"
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


def import_schedule(
    data: bytes, *, conference: Conference, timezone: str | None = None, progress: Progress | None = None
) -> ScheduleSummary:
    """
    Import the virtual-site schedule in data into conference. Raises ImportFailed, naming the
    first bad entry, before anything is written; otherwise writes everything in one transaction.

    timezone, when given, becomes the conference's time zone in that same transaction (so a failed
    import leaves it as it was), and the days of sessions are taken in it.
    """
    if timezone is not None:
        try:
            validate_timezone(timezone)
        except ValidationError:
            raise ImportFailed(f"Unknown time zone {timezone!r}. Use a name such as Europe/Vienna.") from None
    zone_name = conference.timezone if timezone is None else timezone
    tz = ZoneInfo(zone_name)
    # A conference left in UTC by import_openreview would put late sessions on the wrong day.
    refuse_offsets = timezone is None and zone_name == "UTC"

    records = _read_records(data)
    total = len(records)
    entries = []
    for index, record in enumerate(records):
        entry = _check_entry(index, record, tz)
        if refuse_offsets:
            _check_utc(entry, conference)
        entries.append(entry)
        if progress and (index + 1) % PROGRESS_EVERY == 0:
            progress(index + 1, total)
    if progress and total % PROGRESS_EVERY:
        progress(total, total)
    plans = _plan_sessions(entries, tz)

    summary = ScheduleSummary(conference=conference)
    previous = conference.timezone
    try:
        with transaction.atomic():
            if zone_name != previous:
                conference.timezone = zone_name
                conference.save(update_fields=["timezone"])
                summary.timezone_changed = (previous, zone_name)
            _write(conference, plans, summary, tz)
            versions.programme_changed(conferences=[conference.pk])
    except BaseException:
        conference.timezone = previous  # the database kept the old one
        raise
    return summary


# Reading and checking, one entry at a time -----------------------------------------------------------


def _read_records(data: bytes) -> list:
    """The entries: the "results" of the file's object, or a bare array (or JSON Lines) of entries."""
    text = decode_text(data)
    body = text.lstrip()
    if body.startswith("{"):
        try:
            whole, end = DECODER.raw_decode(body)
        except JSON_ERRORS:
            whole, end = None, 0  # parse_records names the place
        if isinstance(whole, dict) and not body[end:].strip():
            if "results" not in whole:
                raise ImportFailed(
                    'Not a schedule: expected {"results": [...]} (the conference\'s virtual-site JSON), '
                    f"found {_describe_object(whole)}."
                )
            records = whole["results"]
            if not isinstance(records, list):
                raise ImportFailed(f'"results" must be a list of records, not {type_name(records)}.')
        else:
            records = parse_records(text, list_keys=("results",))
    else:
        records = parse_records(text, list_keys=("results",))
    if not records:
        raise ImportFailed("The schedule holds no entries.")
    return records


def _describe_object(whole: dict) -> str:
    if not whole:
        return "an empty object"
    keys = sorted(printable(key)[:80] for key in whole)
    more = ", …" if len(keys) > 5 else ""
    return f"an object with keys: {', '.join(keys[:5])}{more}"


def _check_entry(index: int, record: object, tz) -> _Entry:
    label = record_label(index, record)
    if not isinstance(record, dict):
        raise ImportFailed(f"{label}: expected an object, not {type_name(record)}.")
    if too_deep(record):
        raise ImportFailed(f"{label}: nested more than {MAX_DEPTH} levels deep; an entry is not.")
    if has_invalid_text(record):
        raise ImportFailed(f"{label}: contains text that is not valid UTF-8.")
    if not any(_given(record.get(key)) for key in ENTRY_KEYS):
        raise ImportFailed(f"{label}: is not a schedule entry (it has no name, session, eventtype or paper_url).")

    name = clean_text(label, record.get("name"), "name")
    eventtype = clean_text(label, record.get("eventtype"), "eventtype")
    session_title = clean_text(label, record.get("session"), "session")
    room = clean_text(label, record.get("room_name"), "room_name", max_length=ROOM_MAX)
    poster_position = clean_text(
        label, record.get("poster_position"), "poster_position", max_length=POSTER_POSITION_MAX
    )
    paper_url = clean_text(label, record.get("paper_url"), "paper_url")
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
    # The title is checked as the session will store it, under the field it came from.
    session_title = clean_text(label, session_title, source, max_length=SESSION_TITLE_MAX)
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
        day=localtime(moment, tz).date() if moment else None,
    )


def _given(value: object) -> bool:
    """A field the entry has: present and not empty (a value of the wrong type counts, to be reported)."""
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None


def _check_utc(entry: _Entry, conference: Conference) -> None:
    for moment in (entry.starts_at, entry.ends_at):
        offset = moment.utcoffset() if moment else None
        if offset:
            raise ImportFailed(
                f"The conference {conference.name} is in the UTC time zone but the schedule's times are at "
                f"{_format_offset(offset)} ({entry.label}); set the conference's time zone first "
                "(--timezone Europe/Vienna, or in the admin)."
            )


def _format_offset(offset: timedelta) -> str:
    minutes = round(offset.total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def _external_id(record: dict, label: str) -> str:
    for key in ("id", "uid"):
        value = record.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ImportFailed(f"{label}: {key} must be a string or a whole number, not {type_name(value)}.")
        text = clean_text(label, str(value), key, max_length=EXTERNAL_ID_MAX)
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
        raise ImportFailed(f"{label}: {key} is not an ISO-8601 date-time: {excerpt(value)}.") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ImportFailed(f"{label}: {key} has no time-zone offset: {value!r}.")
    if too_far_out(moment):
        raise ImportFailed(f"{label}: {key} is too far in the past or future: {value!r}.")
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
        local = localtime(starts_at, tz)
        title += f", {MONTHS[local.month - 1]} {local.day} {local:%H:%M}"
    return title


# Grouping entries into sessions, still without the database --------------------------------------------


def _plan_sessions(entries: list[_Entry], tz) -> list[_SessionPlan]:
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
                f"({localtime(plan.ends_at, tz):%Y-%m-%d %H:%M}) before it starts "
                f"({localtime(plan.starts_at, tz):%Y-%m-%d %H:%M})."
            )
        if plan.starts_at:
            # What Session.save() would fill in; bulk_create does not call save(). (The same day as the
            # plan's key: the earliest start is that of an entry of this day.)
            plan.day = localtime(plan.starts_at, tz).date()
        rooms = Counter(entry.room for entry in plan.entries if entry.room)
        plan.room = rooms.most_common(1)[0][0] if rooms else ""
    return list(plans.values())


# Writing ------------------------------------------------------------------------------------------


def _write(conference: Conference, plans: list[_SessionPlan], summary: ScheduleSummary, tz) -> None:
    papers = dict(Paper.objects.filter(conference=conference).values_list("forum_id", "id"))
    sessions = list(
        Session.objects.filter(conference=conference, lab__isnull=True).order_by("id")
    )  # the programme only
    _redate(sessions, tz)
    matches = _match_sessions(sessions, plans)

    new_sessions: list[Session] = []
    changed_sessions: list[Session] = []
    session_for_plan: list[tuple[_SessionPlan, Session]] = []
    for number, plan in enumerate(plans):
        session = matches.get(number)
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
            if plan.day is not None:  # a plan has a day only when some entry of it has times
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

    existing_presentations: dict[tuple[int, int], Presentation] = {}
    stale: list[int] = []
    scheduled_papers = {paper_id for paper_id, _ in wanted_presentations}
    for presentation in Presentation.objects.filter(session__conference=conference).order_by("id"):
        key = (presentation.paper_id, presentation.session_id)
        if presentation.paper_id in scheduled_papers and key not in wanted_presentations:
            stale.append(presentation.pk)  # the file schedules this paper, but no longer here
        else:
            existing_presentations[key] = presentation
    for start in range(0, len(stale), BATCH):
        Presentation.objects.filter(pk__in=stale[start : start + BATCH]).delete()
    summary.presentations_removed = len(stale)

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


def _redate(sessions: list[Session], tz) -> None:
    """
    Put each stored session with a start time on the day of that start in tz: its day is stale when
    the conference's time zone changed since it was stored. A session whose new day is held by another
    of the same title (a duplicate an earlier import made) keeps its day, so no two collide. One
    UPDATE per moved session, each into a free (title, day), so no unique index sees a clash midway.
    """
    new_day = {}
    for session in sessions:
        if session.starts_at is not None:
            day = localtime(session.starts_at, tz).date()
            if day != session.day:
                new_day[session.pk] = day
    if not new_day:
        return
    occupied = {(session.title, session.day) for session in sessions}
    pending = [session for session in sessions if session.pk in new_day]
    moved = True
    while pending and moved:
        moved = False
        for session in list(pending):
            slot = (session.title, new_day[session.pk])
            if slot in occupied:
                continue
            occupied.discard((session.title, session.day))
            occupied.add(slot)
            Session.objects.filter(pk=session.pk).update(day=slot[1])
            session.day = slot[1]
            pending.remove(session)
            moved = True


def _match_sessions(sessions: list[Session], plans: list[_SessionPlan]) -> dict[int, Session]:
    """
    The stored session for each plan (by its index) that has one: the session of the same title and
    day; else the only session of that title, whatever its day, unless another plan has it.
    """
    by_key = {(session.title, session.day): session for session in sessions}
    by_title: dict[str, list[Session]] = {}
    for session in sessions:
        by_title.setdefault(session.title, []).append(session)

    matches: dict[int, Session] = {}
    for number, plan in enumerate(plans):
        session = by_key.get((plan.title, plan.day))
        if session is not None:
            matches[number] = session
    taken = {session.pk for session in matches.values()}
    for number, plan in enumerate(plans):
        if number in matches:
            continue
        same_title = by_title.get(plan.title, [])
        if len(same_title) == 1 and same_title[0].pk not in taken:
            matches[number] = same_title[0]
            taken.add(same_title[0].pk)
    return matches


def _assign(instance, values: dict) -> bool:
    """Set values on instance; True when any of them differed."""
    changed = False
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed
