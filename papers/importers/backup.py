"""
Import a full lab export (papers.exporters.backup) into an existing lab, here or on another instance.

Every record is checked first (an ImportFailed names the section and the record), then everything is
written in one transaction. Re-importing the same file changes nothing:

- users are matched by username. A user this instance does not have is created inactive, with an
  unusable password (an admin or a password reset lets them in later), and made a member with the
  file's role; a user the file lists without a role (a former member who left notes) is created but
  not made a member. An existing user who is not a member of the lab is refused unless the caller
  adopts existing users (the import_lab command's --adopt-existing-users): the same username on two
  instances need not be the same person, and a lab owner must not write into a stranger's account.
  Existing members keep their role.
- conferences are matched by slug and papers by (conference, forum id); missing ones are created from
  the file, existing ones are left as they are (this instance's programme wins).
- statuses are upserted by (user, paper): the newer updated_at wins.
- notes are created; a note already there with the same author, paper, visibility, kind and text is
  the same note (its done flag taken from the file when the file's copy is newer). A one-liner
  replaces the author's other one-liner on the paper only when the file's is newer.
- the lab's own events are created unless the same event is there; assignments are created for
  papers the lab has not split yet (the lab's current split wins).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.db.models import Q

from papers import search, versions
from papers.exporters.backup import FORMAT, PAPER_FIELDS, VERSION
from papers.forms import NOTE_MAX_LENGTH
from papers.importers.base import (
    DECODER,
    JSON_ERRORS,
    MAX_DEPTH,
    BrokenRecord,
    ImportFailed,
    decode_text,
    find_broken_record,
    has_invalid_text,
    line_and_column,
    plural,
    printable,
    too_deep,
    too_far_out,
    type_name,
)
from papers.models import (
    FORUM_ID,
    RESERVED_CONFERENCE_SLUGS,
    Assignment,
    Conference,
    Lab,
    Membership,
    Note,
    Paper,
    ReadingStatus,
    Session,
    User,
    validate_timezone,
)
from papers.rendering import render_markdown

BATCH = 500
SECTIONS = ("members", "conferences", "papers", "sessions", "statuses", "notes", "assignments", "meetings")


@dataclass
class BackupSummary:
    lab: Lab
    users_created: int = 0
    members_added: int = 0
    conferences_created: int = 0
    papers_created: int = 0
    statuses_created: int = 0
    statuses_updated: int = 0
    statuses_unchanged: int = 0
    notes_created: int = 0
    notes_updated: int = 0
    notes_unchanged: int = 0
    private_notes_skipped: int = 0
    events_created: int = 0
    events_unchanged: int = 0
    assignments_created: int = 0
    assignments_unchanged: int = 0

    @property
    def changed(self) -> bool:
        return any(
            (
                self.users_created,
                self.members_added,
                self.conferences_created,
                self.papers_created,
                self.statuses_created,
                self.statuses_updated,
                self.notes_created,
                self.notes_updated,
                self.events_created,
                self.assignments_created,
            )
        )

    def __str__(self) -> str:
        def count(number: int, noun: str) -> str:
            return f"{number:,} {noun}{'e' if noun.endswith('s') and number != 1 else ''}{plural(number)}"

        text = (
            f"{self.lab.name} ({self.lab.slug}): "
            f"{count(self.statuses_created, 'status')} created, {self.statuses_updated:,} updated, "
            f"{self.statuses_unchanged:,} unchanged; "
            f"{count(self.notes_created, 'note')} created, {self.notes_updated:,} updated, "
            f"{self.notes_unchanged:,} unchanged; "
            f"{count(self.events_created, 'event')} and {count(self.assignments_created, 'assignment')} created; "
            f"{count(self.users_created, 'user')} created (inactive), {count(self.members_added, 'member')} added, "
            f"{count(self.conferences_created, 'conference')} and {count(self.papers_created, 'paper')} created"
        )
        if self.private_notes_skipped:
            text += f"; {count(self.private_notes_skipped, 'private note')} of other people skipped"
        return text + "."


# --- Reading and checking the file ----------------------------------------------------------------------


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


class _Record:
    """One record of a section, with its label for messages: 'notes #3 (max on 2dnO3LLiJ1)'."""

    def __init__(self, section: str, index: int, value: Any, name: str | None = None):
        self.label = f"{section} #{index + 1}"
        if not isinstance(value, dict):
            raise ImportFailed(f"{self.label}: is {type_name(value)}, not an object.")
        if too_deep(value):
            raise ImportFailed(f"{self.label}: nested more than {MAX_DEPTH} levels deep; a record is not.")
        if has_invalid_text(value):
            raise ImportFailed(f"{self.label}: holds text that is not valid UTF-8.")
        self.value = value
        if name is not None:
            named = value.get(name)
            if isinstance(named, str) and named:
                self.label += f" ({printable(named[:80])})"

    def fail(self, problem: str) -> ImportFailed:
        return ImportFailed(f"{self.label}: {problem}")

    def text(self, key: str, *, max_length: int | None = None, required: bool = False, strip: bool = True) -> str:
        value = self.value.get(key)
        if value is None:
            if required:
                raise self.fail(f"has no {key}.")
            return ""
        if not isinstance(value, str):
            raise self.fail(f"{key} must be a string, not {type_name(value)}.")
        if strip:
            value = value.strip()
        if required and not value.strip():
            raise self.fail(f"{key} is empty.")
        if "\x00" in value:
            raise self.fail(f"{key} contains a NUL character.")
        if max_length is not None and len(value) > max_length:
            raise self.fail(f"{key} is longer than {max_length:,} characters.")
        return value

    def choice(self, key: str, choices, *, default: str | None = None) -> str:
        value = self.value.get(key, default)
        if value not in choices:
            allowed = ", ".join(repr(choice) for choice in choices)
            raise self.fail(f"{key} {str(value)[:80]!r} is not one of {allowed}.")
        return value

    def flag(self, key: str) -> bool:
        value = self.value.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(f"{key} must be true or false, not {type_name(value)}.")
        return value

    def day(self, key: str) -> date | None:
        value = self.value.get(key)
        if value is None:
            return None
        try:
            if not isinstance(value, str):
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            raise self.fail(f"{key} {str(value)[:80]!r} is not a date (YYYY-MM-DD).") from None

    def moment(self, key: str, *, required: bool = False) -> datetime | None:
        value = self.value.get(key)
        if value is None:
            if required:
                raise self.fail(f"has no {key}.")
            return None
        try:
            if not isinstance(value, str):
                raise ValueError
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise self.fail(f"{key} {str(value)[:80]!r} is not a date and time (ISO 8601).") from None
        if moment.tzinfo is None:
            raise self.fail(f"{key} {value[:80]!r} has no time zone offset.")
        if too_far_out(moment):
            raise self.fail(f"{key} {value[:80]!r} is too far in the past or future.")
        return moment

    def strings(self, key: str) -> list[str]:
        value = self.value.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(f"{key} must be a list of strings.")
        if any("\x00" in item for item in value):  # PostgreSQL's jsonb cannot hold one
            raise self.fail(f"{key} contains a NUL character.")
        return value


def _parse_document(data: bytes) -> dict:
    text = decode_text(data)
    if not text.strip():
        raise ImportFailed("The file is empty.")
    try:
        document = DECODER.decode(text)
    except JSON_ERRORS as error:
        broken = _broken_record(text)
        if isinstance(error, json.JSONDecodeError):
            truncated = error.pos >= len(text.rstrip()) or error.msg.startswith("Unterminated")
            reason = "the file ends in the middle of it (truncated?)" if truncated else error.msg
            where = f" (in {broken.label})" if broken else ""
            raise ImportFailed(f"Not valid JSON at {line_and_column(text, error.pos)}{where}: {reason}.") from None
        if broken:
            raise ImportFailed(str(broken)) from None
        problem = "nested too deeply" if isinstance(error, RecursionError) else f"it {error}"
        raise ImportFailed(f"Not a lab backup: {problem}.") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ImportFailed(f'Not an iclrnotes lab backup (it has no "format": "{FORMAT}").')
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ImportFailed(f"The backup's version must be a whole number, not {str(version)[:40]!r}.")
    if version > VERSION:
        raise ImportFailed(
            f"This backup is format version {version}, made by a newer iclrnotes; this one reads version {VERSION}."
        )
    for section in SECTIONS:
        value = document.setdefault(section, [])
        if not isinstance(value, list):
            raise ImportFailed(f'"{section}" must be a list, not {type_name(value)}.')
    if document["meetings"]:
        raise ImportFailed("meetings #1: this instance keeps no meetings, so the backup's cannot be imported.")
    return document


def _broken_record(text: str) -> BrokenRecord | None:
    """The record of a section ("notes #3") where a file json cannot read breaks, if it is in one."""
    for section in SECTIONS:
        _, broken = find_broken_record(text, section, lambda number, _, section=section: f"{section} #{number}")
        if broken is not None:
            return broken
    return None


def _check_members(records: list) -> dict[str, dict]:
    members: dict[str, dict] = {}
    username_max = _max_length(User, "username")
    for index, raw in enumerate(records):
        record = _Record("members", index, raw, "username")
        username = record.text("username", max_length=username_max, required=True)
        try:
            User.username_validator(username)
        except ValidationError:
            raise record.fail(f"{username[:80]!r} is not a valid username.") from None
        if username in members:
            first = members[username]["label"].split(" (")[0]
            raise record.fail(f"the user {username!r} is listed twice (also {first}).")
        members[username] = {
            "username": username,
            "email": record.text("email", max_length=_max_length(User, "email")),
            "role": record.choice("role", [*Membership.Role.values, None]),
            "label": record.label,
        }
    return members


def _check_conferences(records: list) -> dict[str, dict]:
    conferences: dict[str, dict] = {}
    for index, raw in enumerate(records):
        record = _Record("conferences", index, raw, "slug")
        slug = record.text("slug", max_length=_max_length(Conference, "slug"), required=True)
        try:
            validate_slug(slug)
        except ValidationError:
            raise record.fail(f"{slug[:80]!r} is not a slug.") from None
        if slug in RESERVED_CONFERENCE_SLUGS:
            raise record.fail(f"{slug!r} is a page of every lab, not a conference slug.")
        if slug in conferences:
            first = conferences[slug]["label"].split(" (")[0]
            raise record.fail(f"the conference {slug!r} is listed twice (also {first}).")
        zone = record.text("timezone") or "UTC"
        try:
            validate_timezone(zone)
        except ValidationError:
            raise record.fail(f"{zone[:80]!r} is not a known time zone.") from None
        start, end = record.day("start_date"), record.day("end_date")
        if start and end and end < start:
            raise record.fail("end_date is before start_date.")
        conferences[slug] = {
            "slug": slug,
            "name": record.text("name", max_length=_max_length(Conference, "name"), required=True),
            "venue_id": record.text("venue_id", max_length=_max_length(Conference, "venue_id")),
            "start_date": start,
            "end_date": end,
            "city": record.text("city", max_length=_max_length(Conference, "city")),
            "timezone": zone,
            "label": record.label,
        }
    return conferences


def _paper_key(record: _Record, papers: dict | None) -> tuple[str, str]:
    key = (record.text("conference", required=True), record.text("forum_id", required=True))
    if papers is not None and key not in papers:
        raise record.fail(f"refers to the paper {key[1][:80]!r} of {key[0][:80]!r}, which the backup's papers lack.")
    return key


def _check_papers(records: list, conferences: dict) -> dict[tuple[str, str], dict]:
    papers: dict[tuple[str, str], dict] = {}
    labels: dict[tuple[str, str], str] = {}
    for index, raw in enumerate(records):
        record = _Record("papers", index, raw, "forum_id")
        conference, forum_id = _paper_key(record, None)
        if conference not in conferences:
            raise record.fail(f"its conference {conference[:80]!r} is not among the backup's conferences.")
        if len(forum_id) > _max_length(Paper, "forum_id") or not FORUM_ID.fullmatch(forum_id):
            raise record.fail(f"{forum_id[:80]!r} is not an OpenReview forum id.")
        first = labels.setdefault((conference, forum_id), record.label.split(" (")[0])
        if first != record.label.split(" (")[0]:
            raise record.fail(f"the same paper is listed twice (also {first}).")
        number = raw.get("number")
        if number is not None and (not isinstance(number, int) or isinstance(number, bool) or not 0 <= number < 2**31):
            raise record.fail(f"number must be a whole number, not {str(number)[:40]!r}.")
        pdf_url = record.text("pdf_url", max_length=_max_length(Paper, "pdf_url"))
        if pdf_url and not pdf_url.startswith(("http://", "https://")):
            raise record.fail(f"pdf_url {pdf_url[:80]!r} is not a web address.")
        papers[(conference, forum_id)] = {
            "number": number,
            "title": record.text("title", max_length=_max_length(Paper, "title"), required=True),
            "authors": record.strings("authors"),
            "abstract": record.text("abstract", strip=False),
            "keywords": record.strings("keywords"),
            "primary_area": record.text("primary_area", max_length=_max_length(Paper, "primary_area")),
            "tldr": record.text("tldr", strip=False),
            "tier": record.choice("tier", Paper.Tier.values, default=""),
            "venue": record.text("venue", max_length=_max_length(Paper, "venue")),
            "pdf_url": pdf_url,
        }
    return papers


def _member(record: _Record, key: str, members: dict, *, required: bool = True) -> str | None:
    username = record.value.get(key)
    if username is None and not required:
        return None
    if not isinstance(username, str) or username not in members:
        raise record.fail(f"{key} {str(username)[:80]!r} is not among the backup's members.")
    return username


def _check_sessions(records: list, conferences: dict, members: dict) -> list[dict]:
    events = []
    for index, raw in enumerate(records):
        record = _Record("sessions", index, raw, "title")
        conference = record.text("conference", required=True)
        if conference not in conferences:
            raise record.fail(f"its conference {conference[:80]!r} is not among the backup's conferences.")
        starts_at, ends_at = record.moment("starts_at"), record.moment("ends_at")
        if starts_at and ends_at and ends_at < starts_at:
            raise record.fail("ends_at is before starts_at.")
        events.append(
            {
                "conference": conference,
                "kind": record.choice("kind", Session.Kind.values, default=Session.Kind.OTHER),
                "title": record.text("title", max_length=_max_length(Session, "title"), required=True),
                "day": record.day("day"),
                "starts_at": starts_at,
                "ends_at": ends_at,
                "room": record.text("room", max_length=_max_length(Session, "room")),
                "created_by": _member(record, "created_by", members, required=False),
            }
        )
    return events


def _check_statuses(records: list, papers: dict, members: dict) -> list[dict]:
    statuses, seen = [], {}
    for index, raw in enumerate(records):
        record = _Record("statuses", index, raw, "forum_id")
        username = _member(record, "username", members)
        paper = _paper_key(record, papers)
        first = seen.setdefault((username, paper), record.label)
        if first != record.label:
            raise record.fail(f"{username}'s status on this paper is also {first.split(' (')[0]}.")
        statuses.append(
            {
                "username": username,
                "paper": paper,
                "state": record.choice("state", ReadingStatus.State.values, default=""),
                "starred": record.flag("starred"),
                "seen_on": record.day("seen_on"),
                "created_at": record.moment("created_at", required=True),
                "updated_at": record.moment("updated_at", required=True),
            }
        )
    return statuses


def _check_notes(records: list, papers: dict, members: dict) -> list[dict]:
    notes, summaries = [], {}
    for index, raw in enumerate(records):
        record = _Record("notes", index, raw, "forum_id")
        # No username: a shared note whose author's account was deleted (it stays the lab's).
        username = _member(record, "username", members, required=False)
        shared = record.flag("shared")
        if username is None and not shared:
            raise record.fail("a note without an author (a deleted account's) must be shared with the lab.")
        paper = _paper_key(record, papers)
        kind = record.choice("kind", Note.Kind.values, default=Note.Kind.NOTE)
        if kind == Note.Kind.SUMMARY and username is not None:
            first = summaries.setdefault((username, paper), record.label)
            if first != record.label:
                raise record.fail(f"{username} has one one-liner a paper; another is {first.split(' (')[0]}.")
        notes.append(
            {
                "username": username,
                "paper": paper,
                "kind": kind,
                "body": record.text("body", max_length=NOTE_MAX_LENGTH, required=True, strip=False),
                "done": record.flag("done"),
                "shared": shared,
                "created_at": record.moment("created_at", required=True),
                "updated_at": record.moment("updated_at", required=True),
            }
        )
    return notes


def _check_assignments(records: list, papers: dict, members: dict) -> list[dict]:
    assignments, seen = [], {}
    for index, raw in enumerate(records):
        record = _Record("assignments", index, raw, "forum_id")
        username = _member(record, "username", members)
        if members[username]["role"] is None:
            raise record.fail(f"{username} is not a member of the lab (no role), so cannot be assigned papers.")
        paper = _paper_key(record, papers)
        first = seen.setdefault(paper, record.label)
        if first != record.label:
            raise record.fail(f"the paper is also assigned by {first.split(' (')[0]}; a paper has one assignee.")
        assignments.append({"username": username, "paper": paper, "created_at": record.moment("created_at")})
    return assignments


def _check_against_database(
    lab: Lab, members: dict, conferences: dict, *, adopt_existing_users: bool
) -> tuple[dict[str, User], dict[str, Conference]]:
    """What this instance already has, and the clashes that stop the import before anything is written."""
    users = {user.username: user for user in User.objects.filter(username__in=list(members))}
    lab_members = set(
        Membership.objects.filter(lab=lab, user__in=list(users.values())).values_list("user_id", flat=True)
    )
    # A former member (no role in the file) is known here by what they left in the lab.
    former = set(Note.objects.filter(lab=lab).values_list("author_id", flat=True).distinct())
    former |= set(Session.objects.filter(lab=lab).values_list("created_by_id", flat=True).distinct())
    if not adopt_existing_users:
        for username, member in members.items():
            user = users.get(username)
            known = user is not None and (user.pk in lab_members or (member["role"] is None and user.pk in former))
            if user is not None and not known:
                raise ImportFailed(
                    f"{member['label']}: a user {username!r} exists here but is not a member of {lab.name}; "
                    "invite them to the lab first (an administrator can import with --adopt-existing-users)."
                )
    existing = {conference.slug: conference for conference in Conference.objects.filter(slug__in=list(conferences))}
    new_venue_ids = {c["venue_id"]: c for slug, c in conferences.items() if slug not in existing and c["venue_id"]}
    for clash in Conference.objects.filter(venue_id__in=list(new_venue_ids)):
        conference = new_venue_ids[clash.venue_id]
        raise ImportFailed(
            f"{conference['label']}: its venue id {clash.venue_id!r} belongs to the conference {clash.slug!r} "
            "here; rename one of the two slugs to match."
        )
    return users, existing


def import_lab(
    data: bytes, *, lab: Lab, private_notes_only_of: str | None = None, adopt_existing_users: bool = False
) -> BackupSummary:
    """
    Import a lab backup (the file's bytes) into lab. Raises ImportFailed, having written nothing.

    private_notes_only_of: import private notes of this username only (the web import passes the
    importing owner's); None imports every private note in the file (an administrator's command).
    """
    document = _parse_document(data)
    members = _check_members(document["members"])
    conferences = _check_conferences(document["conferences"])
    papers = _check_papers(document["papers"], conferences)
    events = _check_sessions(document["sessions"], conferences, members)
    statuses = _check_statuses(document["statuses"], papers, members)
    notes = _check_notes(document["notes"], papers, members)
    assignments = _check_assignments(document["assignments"], papers, members)

    summary = BackupSummary(lab=lab)
    try:
        with transaction.atomic():
            # Checked inside the transaction, before any write: a clash leaves nothing behind.
            users, _ = _check_against_database(lab, members, conferences, adopt_existing_users=adopt_existing_users)
            users = _write_users(lab, members, users, summary)
            conference_objs = _write_conferences(conferences, summary)
            paper_ids = _write_papers(conference_objs, papers, summary)
            _write_statuses(statuses, users, paper_ids, summary)
            _write_notes(lab, notes, users, paper_ids, summary, private_notes_only_of)
            _write_events(lab, events, users, conference_objs, summary)
            _write_assignments(lab, assignments, users, paper_ids, summary)
            # The lab, its members' other labs (their statuses), and the conferences' papers it added.
            versions.lab_activity_changed(labs=[lab.pk], users=[user.pk for user in users.values()])
            versions.programme_changed(conferences=[conference.pk for conference in conference_objs.values()])
    except IntegrityError:
        # Everything was checked first: a clash here is a change made at the same moment; all rolled back.
        raise ImportFailed("The lab changed during the import; nothing was imported. Try again.") from None
    return summary


# --- Writing (inside the import's transaction) -----------------------------------------------------------


def _create_keeping_times(model, rows: list[tuple[Any, dict[str, datetime | None]]]) -> None:
    """
    Create the rows with the file's timestamps. auto_now / auto_now_add overwrite them on insert, so
    they are put back by a bulk_update, which leaves values as they are.
    """
    if not rows:
        return
    objects = [obj for obj, _ in rows]
    model.objects.bulk_create(objects, batch_size=BATCH)
    names = sorted({name for _, times in rows for name, value in times.items() if value is not None})
    for obj, times in rows:
        for name, value in times.items():
            if value is not None:
                setattr(obj, name, value)
    if names:
        model.objects.bulk_update(objects, names, batch_size=BATCH)


def _write_users(lab: Lab, members: dict, users: dict[str, User], summary: BackupSummary) -> dict[str, User]:
    for username, member in members.items():
        user = users.get(username)
        if user is None:
            user = User(username=username, email=member["email"], is_active=False)
            user.set_unusable_password()
            user.save()  # papers.signals gives them a personal lab, as every user has
            users[username] = user
            summary.users_created += 1
        if member["role"] is not None:
            _, added = Membership.objects.get_or_create(lab=lab, user=user, defaults={"role": member["role"]})
            summary.members_added += added
    return users


def _write_conferences(conferences: dict, summary: BackupSummary) -> dict[str, Conference]:
    existing = {conference.slug: conference for conference in Conference.objects.filter(slug__in=list(conferences))}
    for slug, fields in conferences.items():
        if slug not in existing:
            values = {name: value for name, value in fields.items() if name != "label"}
            existing[slug] = Conference.objects.create(**values)
            summary.conferences_created += 1
    return existing


def _write_papers(
    conferences: dict[str, Conference], papers: dict, summary: BackupSummary
) -> dict[tuple[str, str], int]:
    by_pk = {conference.pk: slug for slug, conference in conferences.items()}
    ids = {
        (by_pk[conference_id], forum_id): pk
        for conference_id, forum_id, pk in Paper.objects.filter(conference__in=list(conferences.values())).values_list(
            "conference_id", "forum_id", "pk"
        )
    }
    to_create = []
    for (slug, forum_id), fields in papers.items():
        if (slug, forum_id) not in ids:
            paper = Paper(
                conference=conferences[slug], forum_id=forum_id, **{name: fields[name] for name in PAPER_FIELDS}
            )
            search.fill_search_fields(paper)
            to_create.append(paper)
    Paper.objects.bulk_create(to_create, batch_size=BATCH)
    if to_create:
        search.update_search_vectors(
            Paper.objects.filter(conference__in=list(conferences.values()), search_vector__isnull=True)
        )
    for paper in to_create:
        ids[(paper.conference.slug, paper.forum_id)] = paper.pk
    summary.papers_created = len(to_create)
    return ids


def _write_statuses(statuses: list[dict], users: dict[str, User], paper_ids: dict, summary: BackupSummary) -> None:
    user_ids = {users[status["username"]].pk for status in statuses}
    existing = {(row.user_id, row.paper_id): row for row in ReadingStatus.objects.filter(user_id__in=user_ids)}
    to_create, to_update = [], []
    for status in statuses:
        user_id, paper_id = users[status["username"]].pk, paper_ids[status["paper"]]
        values = {"state": status["state"], "starred": status["starred"], "seen_on": status["seen_on"]}
        row = existing.get((user_id, paper_id))
        if row is None:
            times = {"created_at": status["created_at"], "updated_at": status["updated_at"]}
            to_create.append((ReadingStatus(user_id=user_id, paper_id=paper_id, **values), times))
        elif status["updated_at"] > row.updated_at:
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = status["updated_at"]
            to_update.append(row)
        else:
            summary.statuses_unchanged += 1  # this instance's is as new or newer
    _create_keeping_times(ReadingStatus, to_create)
    ReadingStatus.objects.bulk_update(to_update, ["state", "starred", "seen_on", "updated_at"], batch_size=BATCH)
    summary.statuses_created, summary.statuses_updated = len(to_create), len(to_update)


def _write_notes(
    lab: Lab,
    notes: list[dict],
    users: dict[str, User],
    paper_ids: dict,
    summary: BackupSummary,
    private_notes_only_of: str | None,
) -> None:
    author_ids = {users[note["username"]].pk for note in notes if note["username"] is not None}
    same: dict[tuple, list[Note]] = defaultdict(list)
    summaries: dict[tuple[int, int], Note] = {}
    authorless = Q(author__isnull=True, lab=lab)  # a deleted account's shared notes, matched like any
    for note in Note.objects.filter(Q(author_id__in=author_ids) | authorless).order_by("created_at", "pk"):
        same[(note.author_id, note.paper_id, note.lab_id, note.kind, note.body)].append(note)
        if note.kind == Note.Kind.SUMMARY and note.author_id is not None:
            summaries[(note.author_id, note.paper_id)] = note
    to_create, to_update = [], []
    for note in notes:
        if not note["shared"] and private_notes_only_of is not None and note["username"] != private_notes_only_of:
            summary.private_notes_skipped += 1
            continue
        author_id = users[note["username"]].pk if note["username"] is not None else None
        paper_id = paper_ids[note["paper"]]
        lab_id = lab.pk if note["shared"] else None
        # The n-th of several identical notes in the file is the n-th such note here.
        matches = same.get((author_id, paper_id, lab_id, note["kind"], note["body"]))
        match = matches.pop(0) if matches else None
        if match is None and note["kind"] == Note.Kind.SUMMARY:
            match = summaries.get((author_id, paper_id))
        values = {"body": note["body"], "lab_id": lab_id, "done": note["done"]}
        if match is None:
            times = {"created_at": note["created_at"], "updated_at": note["updated_at"]}
            row = Note(author_id=author_id, paper_id=paper_id, kind=note["kind"], **values)
            row.body_html = render_markdown(row.body)  # bulk_create skips Note.save, which renders it
            to_create.append((row, times))
        elif note["updated_at"] > match.updated_at and any(getattr(match, k) != v for k, v in values.items()):
            for name, value in values.items():
                setattr(match, name, value)
            match.body_html = render_markdown(match.body)
            match.updated_at = note["updated_at"]
            match.version += 1  # an editor open on the old text must not overwrite this
            to_update.append(match)
        else:
            summary.notes_unchanged += 1
    # A one-liner its author deleted here (its undo still open) gives way to the file's, as it does to a new one.
    replaced = {(row.author_id, row.paper_id) for row, _ in to_create if row.kind == Note.Kind.SUMMARY}
    if replaced:
        deleted = Note.all_objects.filter(
            kind=Note.Kind.SUMMARY, deleted_at__isnull=False, author_id__in={author for author, _ in replaced}
        )
        Note.all_objects.filter(pk__in=[n.pk for n in deleted if (n.author_id, n.paper_id) in replaced]).delete()
    _create_keeping_times(Note, to_create)
    Note.objects.bulk_update(to_update, ["body", "body_html", "lab", "done", "updated_at", "version"], batch_size=BATCH)
    summary.notes_created, summary.notes_updated = len(to_create), len(to_update)


def _event_key(event: Session) -> tuple:
    return (event.conference_id, event.kind, event.title, event.day, event.starts_at, event.ends_at, event.room)


def _write_events(
    lab: Lab, events: list[dict], users: dict[str, User], conferences: dict[str, Conference], summary: BackupSummary
) -> None:
    existing: dict[tuple, list[Session]] = defaultdict(list)
    for event in Session.objects.filter(lab=lab).order_by("pk"):
        existing[_event_key(event)].append(event)
    for fields in events:
        conference = conferences[fields["conference"]]
        event = Session(
            lab=lab,
            conference=conference,
            created_by=users.get(fields["created_by"]) if fields["created_by"] else None,
            **{name: fields[name] for name in ("kind", "title", "day", "starts_at", "ends_at", "room")},
        )
        if event.starts_at is not None:  # as Session.save will have it
            event.day = event.starts_at.astimezone(conference.tzinfo).date()
        matches = existing.get(_event_key(event))
        if matches:
            matches.pop(0)
            summary.events_unchanged += 1
        else:
            event.save()
            summary.events_created += 1


def _write_assignments(
    lab: Lab, assignments: list[dict], users: dict[str, User], paper_ids: dict, summary: BackupSummary
) -> None:
    split = set(Assignment.objects.filter(lab=lab).values_list("paper_id", flat=True))
    to_create = []
    for assignment in assignments:
        paper_id = paper_ids[assignment["paper"]]
        if paper_id in split:
            summary.assignments_unchanged += 1
            continue
        row = Assignment(lab=lab, paper_id=paper_id, user_id=users[assignment["username"]].pk)
        to_create.append((row, {"created_at": assignment["created_at"]}))
    _create_keeping_times(Assignment, to_create)
    summary.assignments_created = len(to_create)
