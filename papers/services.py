"""
Writes. Every change to the lab's data goes through a function here: keyword-only, typed,
in a transaction, and idempotent where a user can double-click.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Value, When
from django.utils import timezone
from django.utils.text import slugify

from papers import versions
from papers.models import (
    Assignment,
    CalendarFeed,
    Conference,
    Invite,
    Lab,
    Meeting,
    MeetingPaper,
    Membership,
    Nomination,
    Note,
    Paper,
    ReadingStatus,
    Session,
    User,
    Vote,
    new_invite_token,
)
from papers.rendering import render_markdown

# /labs/new/ is a page of its own, not a lab.
RESERVED_LAB_SLUGS = {"new"}


def _unique_lab_slug(name: str) -> str:
    base = slugify(name)[:40] or "lab"
    if base in RESERVED_LAB_SLUGS:
        base = f"{base}-lab"
    slug = base
    suffix = 2
    while Lab.objects.filter(slug=slug).exists():
        slug = f"{base}-{suffix}"
        suffix += 1
    return slug


@transaction.atomic
def create_lab(*, name: str, owner: User, is_personal: bool = False) -> Lab:
    lab = Lab.objects.create(name=name, slug=_unique_lab_slug(name), is_personal=is_personal)
    Membership.objects.create(lab=lab, user=owner, role=Membership.Role.OWNER)
    return lab


@transaction.atomic
def sign_up(*, username: str, email: str, password: str) -> User:
    """A new account and, with it (papers.signals), the user's personal lab: both or neither."""
    return User.objects.create_user(username=username, email=email, password=password)


def create_personal_lab(*, user: User) -> Lab:
    """A user's own lab, so that triage works alone as well as in a team. Made once."""
    existing = Lab.objects.filter(is_personal=True, memberships__user=user).first()
    if existing is not None:
        return existing
    return create_lab(name=f"{user.username}'s papers", owner=user, is_personal=True)


# --- Triage: stars and states ------------------------------------------------------------------------


def _lock_member(user: User) -> None:
    """
    Make this member's writes that read before they write (a decision and its undo record, a note and its
    double-submit check) take turns, until the transaction ends: a PostgreSQL row lock on the user's row
    (FOR NO KEY UPDATE: rows pointing at the user, such as their stars, can still be inserted meanwhile;
    only another change to the user's own row waits). SQLite takes one writer at a time anyway.
    """
    User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()


def _status_upsert(*, user: User, paper: Paper, values: dict, new_row: dict | None = None) -> None:
    """
    Set fields of the user's status on the paper (values may be expressions), making the row from
    new_row (default: values) if there is none. Safe to repeat or race.
    """
    updated = ReadingStatus.objects.filter(user=user, paper=paper).update(**values, updated_at=timezone.now())
    if updated:
        versions.lab_activity_changed(users=[user.pk])  # an update sends no signal (papers.signals)
        return
    try:
        with transaction.atomic():
            ReadingStatus.objects.create(user=user, paper=paper, **(new_row or values))
    except IntegrityError:  # a double submit made the row in between: update it instead
        ReadingStatus.objects.filter(user=user, paper=paper).update(**values, updated_at=timezone.now())
        versions.lab_activity_changed(users=[user.pk])


@transaction.atomic
def set_star(*, user: User, paper: Paper, starred: bool) -> None:
    """
    Star or unstar (a set, not a toggle: a double click leaves the same result). A star means "I want
    to read this", so a paper starred before it was triaged counts as shortlisted: seen, and kept.
    """
    if not starred:
        _status_upsert(user=user, paper=paper, values={"starred": False})
        return
    shortlisted = ReadingStatus.State.SHORTLISTED
    untriaged_to_shortlisted = Case(When(state=ReadingStatus.State.UNSEEN, then=Value(shortlisted)), default=F("state"))
    _status_upsert(
        user=user,
        paper=paper,
        values={"starred": True, "state": untriaged_to_shortlisted},
        new_row={"starred": True, "state": shortlisted},
    )


@transaction.atomic
def set_state(*, user: User, paper: Paper, state: str) -> None:
    if state not in ReadingStatus.State.values:
        raise ValueError(f"Unknown triage state {state!r}.")
    _status_upsert(user=user, paper=paper, values={"state": state})


@transaction.atomic
def restore_status(*, user: User, paper: Paper, state: str, starred: bool, existed: bool) -> None:
    """Put a status back as it was before a decision (the inbox's undo); no row if there was none."""
    if existed:
        _status_upsert(user=user, paper=paper, values={"state": state, "starred": starred})
    else:
        ReadingStatus.objects.filter(user=user, paper=paper).delete()
        versions.lab_activity_changed(users=[user.pk])


# --- Notes -------------------------------------------------------------------------------------------


class StaleEdit(Exception):
    """The note changed since the editor loaded it; the edit was not saved."""


# The same note posted again this soon is a double submit (a double click, a re-sent form), not a new note.
DOUBLE_SUBMIT_WINDOW = timedelta(seconds=10)


@transaction.atomic
def add_note(*, author: User, paper: Paper, lab: Lab | None, kind: str, body: str) -> Note:
    """A new note; a one-liner (summary) replaces the author's earlier one on the paper."""
    body = body.strip()
    # Two submits at once (a double click) must not both pass the checks below before either writes.
    _lock_member(author)
    just_added = (
        Note.objects.filter(author=author, paper=paper, lab=lab, kind=kind, body=body)
        .filter(created_at__gte=timezone.now() - DOUBLE_SUBMIT_WINDOW)
        .order_by("-created_at")
        .first()
    )
    if just_added is not None:
        return just_added
    if kind == Note.Kind.SUMMARY:
        existing = Note.objects.select_for_update().filter(paper=paper, author=author, kind=Note.Kind.SUMMARY).first()
        if existing is not None:
            return edit_note(note=existing, editor=author, body=body, lab=lab, version=existing.version)
        # A one-liner deleted a moment ago is replaced by the new one, as a live one would be: its undo ends.
        Note.all_objects.filter(paper=paper, author=author, kind=Note.Kind.SUMMARY, deleted_at__isnull=False).delete()
    try:
        with transaction.atomic():
            return Note.objects.create(paper=paper, author=author, lab=lab, kind=kind, body=body)
    except IntegrityError:  # a second one-liner submitted at the same moment
        existing = Note.objects.get(paper=paper, author=author, kind=Note.Kind.SUMMARY)
        return edit_note(note=existing, editor=author, body=body, lab=lab, version=existing.version)


@transaction.atomic
def edit_note(*, note: Note, editor: User, body: str, lab: Lab | None, version: int, done: bool | None = None) -> Note:
    """
    Save an edit made from `version` of the note. If the note changed since (another tab, another
    device), nothing is saved and StaleEdit is raised: an edit never silently overwrites another.
    """
    if note.author_id != editor.pk:
        raise PermissionDenied("Only a note's author can edit it.")
    body = body.strip()
    values = {"body": body, "body_html": render_markdown(body), "lab": lab, "updated_at": timezone.now()}
    if done is not None:
        values["done"] = done
    saved = Note.objects.filter(pk=note.pk, version=version).update(version=F("version") + 1, **values)
    if saved:
        _note_changed(note, lab)
    current = Note.objects.filter(pk=note.pk).first()
    if current is None:
        raise StaleEdit("This note was deleted elsewhere since you opened it; your edit was not saved.")
    if not saved and (current.body, current.lab_id) != (body, lab.pk if lab else None):
        raise StaleEdit("This note was changed elsewhere since you opened it; your edit was not saved.")
    return current  # saved, or the same edit sent twice


@transaction.atomic
def set_todo_done(*, note: Note, editor: User, done: bool) -> Note:
    if note.author_id != editor.pk:
        raise PermissionDenied("Only a note's author can tick it.")
    Note.objects.filter(pk=note.pk).update(done=done, version=F("version") + 1, updated_at=timezone.now())
    _note_changed(note)
    note.refresh_from_db()
    return note


def _note_changed(note: Note, *labs: Lab | None) -> None:
    """A note's update (no signal): its lab's pages and its author's (a private note shows in each of their labs)."""
    versions.lab_activity_changed(labs=[note.lab_id, *(lab.pk for lab in labs if lab)], users=[note.author_id])


class NoteGone(Exception):
    """A deleted note that can no longer be brought back (its undo window passed, or it was purged)."""


def note_undo_window() -> timedelta:
    return timedelta(seconds=settings.NOTE_UNDO_WINDOW)


def undo_window_words() -> str:
    """The undo window for people: '30 minutes', '1 minute', '45 seconds'."""
    seconds = settings.NOTE_UNDO_WINDOW
    count, unit = (seconds // 60, "minute") if seconds % 60 == 0 and seconds >= 60 else (seconds, "second")
    return f"{count} {unit}{'' if count == 1 else 's'}"


@transaction.atomic
def delete_note(*, note: Note, editor: User) -> Note:
    """
    Delete a note, undoably: it leaves every page, count and export at once, and its author can restore it
    (restore_note) for NOTE_UNDO_WINDOW. Deleting it again changes nothing (the window runs from the first
    time). Notes whose window has passed are purged for good on the way. Returns the deleted note.
    """
    if note.author_id != editor.pk:
        raise PermissionDenied("Only a note's author can delete it.")
    now = timezone.now()
    if Note.all_objects.filter(pk=note.pk, deleted_at__isnull=True).update(deleted_at=now):
        _note_changed(note)
    purge_deleted_notes(now=now)
    deleted = Note.all_objects.filter(pk=note.pk).first()
    if deleted is None:
        raise NoteGone("This note was deleted for good.")
    return deleted


@transaction.atomic
def restore_note(*, note_id: int, editor: User) -> Note:
    """
    Undo a deletion: the note comes back exactly as it was (text, visibility, times, version). Restoring a
    note that is already back changes nothing. NoteGone once the undo window has passed.
    """
    note = Note.all_objects.select_for_update().filter(pk=note_id).first()
    if note is not None and note.author_id != editor.pk:
        raise PermissionDenied("Only a note's author can restore it.")
    if note is None or (note.deleted_at is not None and note.deleted_at <= timezone.now() - note_undo_window()):
        raise NoteGone(f"This note can no longer be restored: it was deleted more than {undo_window_words()} ago.")
    if note.deleted_at is not None:
        Note.all_objects.filter(pk=note.pk).update(deleted_at=None)
        note.deleted_at = None
        _note_changed(note)
    return note


def purge_deleted_notes(*, now: datetime | None = None) -> int:
    """Remove for good the notes deleted longer ago than NOTE_UNDO_WINDOW. Returns how many."""
    cutoff = (now or timezone.now()) - note_undo_window()
    purged, _ = Note.all_objects.filter(deleted_at__lte=cutoff).delete()
    return purged


# --- The triage inbox: a decision and its undo -------------------------------------------------------


# What each of the inbox's actions sets: a triage state, or the star (a star is not a triage decision).
TRIAGE_ACTION_STATES = {
    "skip": ReadingStatus.State.SKIPPED,
    "shortlist": ReadingStatus.State.SHORTLISTED,
    "reading": ReadingStatus.State.READING,
    "read": ReadingStatus.State.READ,
}
TRIAGE_ACTION_STARS = {"star": True, "unstar": False}


@transaction.atomic
def triage_decide(*, user: User, paper: Paper, action: str) -> dict | None:
    """
    Apply one of the inbox's actions to my status on the paper. Returns how the status was before, for
    triage_undo ({"forum_id", "state", "starred", "existed"}), or None when the action changed nothing
    (a repeated submit): then there is nothing to undo either.
    """
    if action not in TRIAGE_ACTION_STATES and action not in TRIAGE_ACTION_STARS:
        raise ValueError(f"Unknown triage action {action!r}.")
    # Of two submits at once the second must see the first's result, even when the first makes the row:
    # a lock on a status that does not exist yet holds nothing, so the member's own decisions take turns.
    _lock_member(user)
    before = ReadingStatus.objects.filter(user=user, paper=paper).first()
    unseen = {"state": ReadingStatus.State.UNSEEN.value, "starred": False}
    was = {"state": before.state, "starred": before.starred} if before else unseen
    if action in TRIAGE_ACTION_STARS:
        values = {"starred": TRIAGE_ACTION_STARS[action]}
    else:
        values = {"state": TRIAGE_ACTION_STATES[action]}
    if was | values == was:
        return None  # the same decision again, or an unstar where there was no row
    if action in TRIAGE_ACTION_STARS:
        set_star(user=user, paper=paper, starred=values["starred"])  # the same star as everywhere else
    else:
        _status_upsert(user=user, paper=paper, values=values)
    return {"forum_id": paper.forum_id, **was, "existed": before is not None}


def triage_undo(*, user: User, paper: Paper, record: dict) -> None:
    """Put my status on the paper back as triage_decide's record says it was (restore_status is atomic)."""
    if record["forum_id"] != paper.forum_id:
        raise ValueError(f"This undo record is for {record['forum_id']}, not {paper.forum_id}.")
    restore_status(user=user, paper=paper, state=record["state"], starred=record["starred"], existed=record["existed"])


# --- Labs: invites, members, roles --------------------------------------------------------------------


class LabRuleBroken(Exception):
    """An action on a lab that its rules forbid (the message says which and what to do instead)."""


def _lock_lab(lab: Lab) -> None:
    """
    Serialise changes to a lab's members, invites and split (PostgreSQL row lock; SQLite writes one at a
    time anyway), so that two owners acting at once never leave it without an owner or half split.
    """
    Lab.objects.select_for_update().filter(pk=lab.pk).first()


def _require_owner(lab: Lab, user: User) -> None:
    if not Membership.objects.filter(lab=lab, user=user, role=Membership.Role.OWNER).exists():
        raise LabRuleBroken("Only an owner of the lab can do that.")


def _owner_count(lab: Lab) -> int:
    return Membership.objects.filter(lab=lab, role=Membership.Role.OWNER).count()


@transaction.atomic
def create_invite(*, lab: Lab, by: User, days: int = 14, max_uses: int | None = None) -> Invite:
    _lock_lab(lab)
    _require_owner(lab, by)
    if lab.is_personal:
        raise LabRuleBroken("A personal lab is yours alone: create a lab to triage with others.")
    if not 1 <= days <= 90:
        raise LabRuleBroken("An invite lasts from 1 to 90 days.")
    if max_uses is not None and max_uses < 1:
        raise LabRuleBroken("An invite's use limit must be at least 1 (or empty: no limit).")
    return Invite.objects.create(
        lab=lab, created_by=by, expires_at=timezone.now() + timedelta(days=days), max_uses=max_uses
    )


@transaction.atomic
def revoke_invite(*, invite: Invite, by: User) -> None:
    _lock_lab(invite.lab)
    _require_owner(invite.lab, by)
    Invite.objects.filter(pk=invite.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def invite_problem(invite: Invite) -> str | None:
    """Why this invite cannot be used now, in words for the person holding the link; None if it can."""
    if invite.revoked_at is not None:
        return "This invite was revoked. Ask the lab's owner for a new link."
    if invite.expires_at <= timezone.now():
        return "This invite has expired. Ask the lab's owner for a new link."
    if invite.max_uses is not None and invite.uses >= invite.max_uses:
        return "This invite has been used as many times as it allows. Ask the lab's owner for a new link."
    return None


@transaction.atomic
def accept_invite(*, token: str, user: User) -> Membership:
    """Join the invite's lab. Already a member: nothing changes and no use is counted."""
    invite = Invite.objects.select_related("lab").filter(token=token).first()
    if invite is None:
        raise LabRuleBroken("This invite link is not valid. Check that it was copied whole.")
    existing = Membership.objects.filter(lab=invite.lab, user=user).first()
    if existing is not None:
        return existing
    # Counted only while the invite is usable, in one statement: of two people taking its last use at
    # once, one gets in and the other is told, whatever the database.
    counted = Invite.objects.usable().filter(pk=invite.pk).update(uses=F("uses") + 1)
    if not counted:
        invite.refresh_from_db()
        raise LabRuleBroken(invite_problem(invite) or "This invite cannot be used now.")
    membership, _ = Membership.objects.get_or_create(
        lab=invite.lab, user=user, defaults={"role": Membership.Role.MEMBER}
    )
    return membership


@transaction.atomic
def remove_member(*, lab: Lab, member: User, by: User) -> None:
    """
    An owner removes a member, or a member leaves (by == member). A lab never loses its last owner.

    What they leave behind: the notes they shared stay the lab's (shown as by a former member); their
    private notes stay theirs, seen by nobody in the lab; their stars, states and votes stay theirs but no
    longer count in the lab (the lab's reads take current members only); their papers of the split go to
    the others; their presenter and discussion-lead slots in the lab's meetings not yet held open up.
    """
    _lock_lab(lab)
    if by.pk != member.pk:
        _require_owner(lab, by)
    membership = Membership.objects.select_for_update().filter(lab=lab, user=member).first()
    if membership is None:
        return  # already gone: a double click
    if membership.role == Membership.Role.OWNER and _owner_count(lab) == 1:
        raise LabRuleBroken(
            "A lab needs an owner: hand over ownership to another member first."
            if by.pk == member.pk
            else "A lab needs an owner: this is its last one."
        )
    membership.delete()
    _share_out(Assignment.objects.filter(lab=lab, user=member))  # nobody's papers go unseen
    to_come = MeetingPaper.objects.filter(meeting__lab=lab, meeting__held_at__isnull=True)
    changed = set(to_come.filter(presenter=member).values_list("meeting_id", flat=True))
    changed |= set(to_come.filter(discussion_lead=member).values_list("meeting_id", flat=True))
    to_come.filter(presenter=member).update(presenter=None)
    to_come.filter(discussion_lead=member).update(discussion_lead=None)
    Meeting.objects.filter(pk__in=changed).update(updated_at=timezone.now())  # for the calendar's SEQUENCE
    versions.lab_activity_changed(labs=[lab.pk])


@transaction.atomic
def release_account(*, user: User) -> None:
    """
    Before an account is deleted (papers.signals): its papers of every lab's split go to the lab's other
    members, as when it leaves a lab. Its shared notes stay by themselves (Note.author's on_delete).
    """
    # Labs they left still show their name on their notes and events, until the deletion empties it.
    versions.lab_activity_changed(users=[user.pk], labs=versions.labs_shown_in(user))
    slices = Assignment.objects.filter(user=user).values_list("lab_id", "paper__conference_id").distinct()
    for lab_id, conference_id in list(slices):
        _share_out(Assignment.objects.filter(lab_id=lab_id, user=user, paper__conference_id=conference_id))


@transaction.atomic
def set_role(*, lab: Lab, member: User, role: str, by: User) -> Membership:
    """Make a member an owner, or an owner a member (never the last owner)."""
    _lock_lab(lab)
    _require_owner(lab, by)
    if role not in Membership.Role.values:
        raise LabRuleBroken(f"Unknown role {role!r}.")
    membership = Membership.objects.select_for_update().get(lab=lab, user=member)
    if membership.role == Membership.Role.OWNER and role != Membership.Role.OWNER and _owner_count(lab) == 1:
        raise LabRuleBroken("A lab needs an owner: make someone else owner first.")
    Membership.objects.filter(pk=membership.pk).update(role=role)
    versions.lab_activity_changed(labs=[lab.pk])
    membership.role = role
    return membership


@transaction.atomic
def hand_over_ownership(*, lab: Lab, to: User, by: User) -> None:
    """The owner makes another member owner and becomes a member."""
    set_role(lab=lab, member=to, role=Membership.Role.OWNER, by=by)
    set_role(lab=lab, member=by, role=Membership.Role.MEMBER, by=by)


# --- Splitting a conference's papers between the lab's members -------------------------------------

SPLIT_METHODS = {
    "even": "Evenly, paper by paper",
    "day": "By day: whole days to each member",
    "session": "By session: whole sessions to each member",
    "area": "By area or first keyword: whole topics to each member",
}


def _split_key(paper: Paper, method: str) -> object:
    """The group a paper goes with: papers of one group go to one member."""
    if method == "even":
        return paper.pk
    presentations = sorted(paper.presentations.all(), key=lambda p: (p.session.day is None, p.session.day, p.pk))
    if method == "day":
        return presentations[0].session.day if presentations else None
    if method == "session":
        return presentations[0].session_id if presentations else None
    return paper.primary_area or (paper.keywords[0].lower() if paper.keywords else None)


@transaction.atomic
def split_papers(*, lab: Lab, conference: Conference, by: User, method: str, members: list[User]) -> dict[int, int]:
    """
    Give every paper of the conference to exactly one of `members`, keeping whole groups (days,
    sessions, topics) together and the load even. A paper its assignee already triaged stays theirs,
    so re-splitting never takes finished work away. Returns papers per member id.
    """
    _lock_lab(lab)
    _require_owner(lab, by)
    if method not in SPLIT_METHODS:
        raise LabRuleBroken(f"Unknown way to split: {method!r}.")
    member_ids = set(Membership.objects.filter(lab=lab, user__in=members).values_list("user_id", flat=True))
    if not member_ids:
        raise LabRuleBroken("Choose at least one member of the lab to split the papers between.")
    papers = list(
        Paper.objects.filter(conference=conference).prefetch_related("presentations__session").order_by("title", "pk")
    )
    current = dict(Assignment.objects.filter(lab=lab, paper__conference=conference).values_list("paper_id", "user_id"))
    triaged = set(
        ReadingStatus.objects.in_lab(lab)
        .triaged()
        .filter(paper__conference=conference)
        .values_list("paper_id", "user_id")
    )
    load = dict.fromkeys(sorted(member_ids), 0)
    owner_of: dict[int, int] = {}
    groups: dict[object, list[Paper]] = {}
    triaged_by: dict[int, list[int]] = {}
    for paper_id, user_id in sorted(triaged):
        triaged_by.setdefault(paper_id, []).append(user_id)
    for paper in papers:
        assignee = current.get(paper.pk)
        if (paper.pk, assignee) in triaged or paper.pk in triaged_by:
            # Finished work stays where it is, even with someone left out of this split: with its
            # assignee if they triaged it, else with a member who did (the least loaded one).
            if (paper.pk, assignee) not in triaged:
                assignee = min(triaged_by[paper.pk], key=lambda user_id: (load.get(user_id, 0), user_id))
            owner_of[paper.pk] = assignee
            if assignee in load:
                load[assignee] += 1
        else:
            groups.setdefault(_split_key(paper, method), []).append(paper)
    # Biggest groups first, each to the member with the least so far: an even load, groups kept whole.
    # Papers with no group (no day, no topic) are spread one by one.
    loose = groups.pop(None, [])
    ordered = sorted(groups.values(), key=len, reverse=True) + [[paper] for paper in loose]
    for group in ordered:
        member_id = min(load, key=lambda user_id: (load[user_id], user_id))
        for paper in group:
            owner_of[paper.pk] = member_id
        load[member_id] += len(group)
    Assignment.objects.filter(lab=lab, paper__conference=conference).delete()
    Assignment.objects.bulk_create(
        [Assignment(lab=lab, paper_id=paper_id, user_id=user_id) for paper_id, user_id in owner_of.items()],
        batch_size=1000,
    )
    versions.lab_activity_changed(labs=[lab.pk])
    return load


@transaction.atomic
def clear_split(*, lab: Lab, conference: Conference, by: User) -> None:
    _lock_lab(lab)
    _require_owner(lab, by)
    Assignment.objects.filter(lab=lab, paper__conference=conference).delete()
    versions.lab_activity_changed(labs=[lab.pk])


@transaction.atomic
def take_over_slice(*, lab: Lab, conference: Conference, from_user: User, by: User) -> int:
    """A member takes over what another has not triaged yet of their slice. Returns how many papers."""
    if not Membership.objects.filter(lab=lab, user=by).exists():
        raise LabRuleBroken("Only a member of the lab can take over a slice.")
    _lock_lab(lab)
    untriaged = _untriaged_slice(lab, conference, from_user)
    taken = Assignment.objects.filter(pk__in=list(untriaged.values_list("pk", flat=True))).update(user=by)
    versions.lab_activity_changed(labs=[lab.pk])
    return taken


def _untriaged_slice(lab: Lab, conference: Conference, user: User):
    """The assignments of user's slice that they have not triaged yet."""
    done = ReadingStatus.objects.triaged().filter(paper=OuterRef("paper"), user=user)
    return Assignment.objects.filter(lab=lab, paper__conference=conference, user=user).exclude(Exists(done))


def _share_out(assignments) -> None:
    """Give these assignments, one by one, to the lab's members with the smallest slices."""
    assignments = list(assignments.select_related("paper"))
    if not assignments:
        return
    lab = assignments[0].lab_id
    conference = assignments[0].paper.conference_id
    leaving = {a.user_id for a in assignments}
    members = list(Membership.objects.filter(lab_id=lab).exclude(user_id__in=leaving).values_list("user_id", flat=True))
    if not members:
        Assignment.objects.filter(pk__in=[a.pk for a in assignments]).delete()
        versions.lab_activity_changed(labs=[lab])
        return
    load = dict.fromkeys(members, 0)
    for user_id, count in (
        Assignment.objects.filter(lab_id=lab, paper__conference_id=conference, user_id__in=members)
        .values_list("user_id")
        .annotate(count=Count("pk"))
    ):
        load[user_id] = count
    for assignment in assignments:
        assignment.user_id = min(load, key=lambda user_id: (load[user_id], user_id))
        load[assignment.user_id] += 1
    Assignment.objects.bulk_update(assignments, ["user"])
    versions.lab_activity_changed(labs=[lab])


@transaction.atomic
def swap_slices(*, lab: Lab, conference: Conference, with_user: User, by: User) -> None:
    """Two members exchange their slices of the conference (both whole)."""
    _lock_lab(lab)
    if not Membership.objects.filter(lab=lab, user=with_user).exists():
        raise LabRuleBroken("You can only swap with a member of the lab.")
    mine = list(_untriaged_slice(lab, conference, by).values_list("pk", flat=True))
    theirs = list(_untriaged_slice(lab, conference, with_user).values_list("pk", flat=True))
    if not mine or not theirs:
        raise LabRuleBroken("A swap needs papers left to triage on both sides: take over their papers instead.")
    # What each has triaged stays with them; only what is left to do changes hands.
    Assignment.objects.filter(pk__in=mine).update(user=with_user)
    Assignment.objects.filter(pk__in=theirs).update(user=by)
    versions.lab_activity_changed(labs=[lab.pk])


# --- The lab's own events on the schedule ----------------------------------------------------------


def _event_times(
    *, conference: Conference, day: date, starts: time | None, ends: time | None
) -> tuple[datetime | None, datetime | None]:
    """Local times of the conference on a day, as aware datetimes (what Session stores)."""

    def aware(at: time | None) -> datetime | None:
        return timezone.make_aware(datetime.combine(day, at), conference.tzinfo) if at is not None else None

    return aware(starts), aware(ends)


def _made_by_or_owned_by(lab_id: int, created_by_id: int | None, user: User) -> bool:
    """The lab's things (events, meetings) are changed by whoever made them and by the lab's owners."""
    if created_by_id == user.pk:
        return True
    return Membership.objects.filter(lab_id=lab_id, user=user, role=Membership.Role.OWNER).exists()


def may_manage_event(*, event: Session, user: User) -> bool:
    """A lab's event may be changed by whoever added it and by the lab's owners."""
    return event.lab_id is not None and _made_by_or_owned_by(event.lab_id, event.created_by_id, user)


@transaction.atomic
def add_event(
    *,
    lab: Lab,
    conference: Conference,
    by: User,
    title: str,
    kind: str,
    day: date,
    starts: time | None = None,
    ends: time | None = None,
    room: str = "",
) -> Session:
    """A non-paper event (a lab dinner, a workshop) that the lab's members see on their schedule."""
    if not Membership.objects.filter(lab=lab, user=by).exists():
        raise PermissionDenied("Only a member of the lab can add an event.")
    starts_at, ends_at = _event_times(conference=conference, day=day, starts=starts, ends=ends)
    event = Session(
        conference=conference,
        lab=lab,
        created_by=by,
        title=title,
        kind=kind,
        day=day,
        starts_at=starts_at,
        ends_at=ends_at,
        room=room,
    )
    event.full_clean()
    event.save()  # Session.save() keeps `day` in step with the start time
    return event


@transaction.atomic
def edit_event(
    *,
    event: Session,
    by: User,
    title: str,
    kind: str,
    day: date,
    starts: time | None = None,
    ends: time | None = None,
    room: str = "",
) -> Session:
    if not may_manage_event(event=event, user=by):
        raise PermissionDenied("Only whoever added this event, or an owner of the lab, can change it.")
    event.starts_at, event.ends_at = _event_times(conference=event.conference, day=day, starts=starts, ends=ends)
    event.title, event.kind, event.day, event.room = title, kind, day, room
    event.full_clean()
    event.save()
    return event


@transaction.atomic
def delete_event(*, event: Session, by: User) -> None:
    if not may_manage_event(event=event, user=by):
        raise PermissionDenied("Only whoever added this event, or an owner of the lab, can delete it.")
    event.delete()


# --- Calendar feeds and an attendee's shortlist ---------------------------------------------------------


@transaction.atomic
def renew_calendar_feed(*, user: User, lab: Lab, conference: Conference, query: str = ""):
    """
    The member's private feed of this lab's agenda, with a fresh token: made if missing, else its token
    replaced (the old URL stops working). query: the list's filters it serves (empty: my starred papers).
    """

    feed = CalendarFeed.objects.select_for_update().filter(user=user, lab=lab, conference=conference).first()
    if feed is None:
        try:
            with transaction.atomic():
                return CalendarFeed.objects.create(user=user, lab=lab, conference=conference, query=query)
        except IntegrityError:  # a double submit made it in between
            feed = CalendarFeed.objects.select_for_update().get(user=user, lab=lab, conference=conference)
    feed.token = new_invite_token()
    feed.query = query
    feed.save(update_fields=["token", "query"])
    return feed


@transaction.atomic
def revoke_calendar_feed(*, user: User, lab: Lab, conference: Conference) -> bool:
    """Delete the member's feed (its URL then answers 404). False when there was none: a repeat is harmless."""

    deleted, _ = CalendarFeed.objects.filter(user=user, lab=lab, conference=conference).delete()
    return bool(deleted)


@transaction.atomic
def load_shortlist(
    *,
    user: User,
    conference: Conference,
    papers: list[tuple[Paper, date, bool]],
    events: list[tuple[str, date, str]],
    start_date: date | None = None,
    end_date: date | None = None,
    city: str = "",
    timezone_name: str = "",
) -> Lab:
    """
    An attendee's shortlist: for each (paper, day seen, starred), the user's status becomes shortlisted
    (a paper already being read or read stays so), starred as given, seen on that day; each (title, day,
    kind) event becomes a day-only event of the user's personal lab. The conference's dates, city and
    time zone are filled in when it has none. Idempotent. Returns the personal lab.
    """
    shortlisted, kept = ReadingStatus.State.SHORTLISTED, [ReadingStatus.State.READING, ReadingStatus.State.READ]
    for paper, day, starred in papers:
        _status_upsert(
            user=user,
            paper=paper,
            values={
                "state": Case(When(state__in=kept, then=F("state")), default=Value(shortlisted)),
                "starred": starred,
                "seen_on": day,
            },
            new_row={"state": shortlisted, "starred": starred, "seen_on": day},
        )
    lab = create_personal_lab(user=user)
    for title, day, kind in events:
        Session.objects.get_or_create(
            conference=conference, lab=lab, title=title, day=day, defaults={"kind": kind, "created_by": user}
        )
    changed = []
    if start_date and not conference.start_date:
        conference.start_date, conference.end_date = start_date, end_date or start_date
        changed += ["start_date", "end_date"]
    if city and not conference.city:
        conference.city = city
        changed.append("city")
    # Sessions' days are taken in the conference's time zone: once times are in, only the schedule importer moves it.
    timed = conference.sessions.filter(starts_at__isnull=False).exists()
    if timezone_name and conference.timezone == "UTC" and not timed:
        conference.timezone = timezone_name
        changed.append("timezone")
    if changed:
        conference.full_clean()
        conference.save(update_fields=changed)
    return lab


# --- The reading group: nominations and votes -----------------------------------------------------------


@transaction.atomic
def nominate_paper(*, lab: Lab, paper: Paper, by: User) -> bool:
    """Propose a paper for the lab's reading group. False when it already was: nominating twice is once."""
    _, created = Nomination.objects.get_or_create(lab=lab, paper=paper, defaults={"nominated_by": by})
    return created


@transaction.atomic
def withdraw_nomination(*, lab: Lab, paper: Paper, by: User) -> bool:
    """
    Take a nomination back: its nominator or an owner of the lab may. False when there was none (a
    repeat is harmless); LabRuleBroken for anyone else.
    """
    nomination = Nomination.objects.select_for_update().filter(lab=lab, paper=paper).first()
    if nomination is None:
        return False
    is_owner = Membership.objects.filter(lab=lab, user=by, role=Membership.Role.OWNER).exists()
    if nomination.nominated_by_id not in (by.pk, None) and not is_owner:
        raise LabRuleBroken("Only whoever nominated a paper, or an owner of the lab, can withdraw the nomination.")
    nomination.delete()
    return True


@transaction.atomic
def vote_for(*, lab: Lab, paper: Paper, user: User) -> bool:
    """The member's vote for reading the paper together. False when it was already there: one vote a member."""
    _, created = Vote.objects.get_or_create(lab=lab, paper=paper, user=user)
    return created


@transaction.atomic
def take_back_vote(*, lab: Lab, paper: Paper, user: User) -> bool:
    """Remove the member's vote. False when there was none: taking back twice is harmless."""
    deleted, _ = Vote.objects.filter(lab=lab, paper=paper, user=user).delete()
    return bool(deleted)


# --- The reading group's meetings ---------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingSlot:
    """One paper of a meeting and who presents it (None: open, for a member to volunteer)."""

    paper: Paper
    presenter: User | None = None
    lead: User | None = None


MEETING_ROLES = {"presenter": "presenter", "lead": "discussion_lead"}


def may_manage_meeting(*, meeting: Meeting, user: User) -> bool:
    """A meeting may be changed or deleted by whoever scheduled it and by the lab's owners."""
    return _made_by_or_owned_by(meeting.lab_id, meeting.created_by_id, user)


def _check_meeting_people(lab: Lab, people: list[User | None]) -> None:
    wanted = {person.pk for person in people if person is not None}
    if wanted - set(Membership.objects.filter(lab=lab, user_id__in=wanted).values_list("user_id", flat=True)):
        raise LabRuleBroken("Presenters, discussion leads and attendees must be members of the lab.")


def _check_meeting(*, lab: Lab, starts_at: datetime, ends_at: datetime | None, slots: list[MeetingSlot]) -> None:
    if timezone.is_naive(starts_at) or (ends_at is not None and timezone.is_naive(ends_at)):
        raise ValueError("A meeting's times must be aware datetimes.")
    if ends_at is not None and ends_at <= starts_at:
        raise LabRuleBroken("A meeting must end after it starts.")
    if not slots:
        raise LabRuleBroken("Choose at least one paper to read.")
    if len({slot.paper.pk for slot in slots}) != len(slots):
        raise LabRuleBroken("Each paper can be on a meeting's agenda once.")
    _check_meeting_people(lab, [person for slot in slots for person in (slot.presenter, slot.lead)])


@transaction.atomic
def create_meeting(
    *,
    lab: Lab,
    by: User,
    starts_at: datetime,
    ends_at: datetime | None = None,
    place: str = "",
    agenda: str = "",
    time_zone: str = "UTC",
    slots: list[MeetingSlot],
) -> Meeting:
    """Any member schedules a meeting. The same meeting posted twice in a row (a double click) is made once."""
    if not Membership.objects.filter(lab=lab, user=by).exists():
        raise LabRuleBroken("Only a member of the lab can schedule a meeting.")
    _lock_lab(lab)
    _check_meeting(lab=lab, starts_at=starts_at, ends_at=ends_at, slots=slots)
    just_made = (
        Meeting.objects.filter(lab=lab, created_by=by, starts_at=starts_at, place=place.strip())
        .filter(created_at__gte=timezone.now() - DOUBLE_SUBMIT_WINDOW)
        .first()
    )
    if just_made is not None:
        return just_made
    meeting = Meeting.objects.create(
        lab=lab,
        created_by=by,
        starts_at=starts_at,
        ends_at=ends_at,
        place=place.strip(),
        agenda=agenda.strip(),
        time_zone=time_zone,
    )
    MeetingPaper.objects.bulk_create(
        MeetingPaper(meeting=meeting, paper=slot.paper, presenter=slot.presenter, discussion_lead=slot.lead, position=n)
        for n, slot in enumerate(slots)
    )
    versions.lab_activity_changed(labs=[lab.pk])
    return meeting


@transaction.atomic
def update_meeting(
    *,
    meeting: Meeting,
    by: User,
    starts_at: datetime,
    ends_at: datetime | None = None,
    place: str = "",
    agenda: str = "",
    time_zone: str = "UTC",
    slots: list[MeetingSlot],
) -> Meeting:
    """Change a meeting (its creator or an owner): its times, place, agenda and papers with their people."""
    if not may_manage_meeting(meeting=meeting, user=by):
        raise LabRuleBroken("Only whoever scheduled this meeting, or an owner of the lab, can change it.")
    _lock_lab(meeting.lab)
    _check_meeting(lab=meeting.lab, starts_at=starts_at, ends_at=ends_at, slots=slots)
    meeting.starts_at, meeting.ends_at = starts_at, ends_at
    meeting.place, meeting.agenda, meeting.time_zone = place.strip(), agenda.strip(), time_zone
    meeting.save()
    MeetingPaper.objects.filter(meeting=meeting).exclude(paper__in=[slot.paper for slot in slots]).delete()
    for n, slot in enumerate(slots):
        MeetingPaper.objects.update_or_create(
            meeting=meeting,
            paper=slot.paper,
            defaults={"presenter": slot.presenter, "discussion_lead": slot.lead, "position": n},
        )
    return meeting


@transaction.atomic
def delete_meeting(*, meeting: Meeting, by: User) -> None:
    if not may_manage_meeting(meeting=meeting, user=by):
        raise LabRuleBroken("Only whoever scheduled this meeting, or an owner of the lab, can delete it.")
    meeting.delete()


@transaction.atomic
def volunteer(*, meeting: Meeting, by: User, paper: Paper, role: str) -> MeetingPaper:
    """
    A member takes a paper's presenter or discussion-lead slot: an open one, or one already theirs (a
    repeat changes nothing). Only an owner takes a slot someone else holds. Returns the MeetingPaper.
    """
    if role not in MEETING_ROLES:
        raise LabRuleBroken(f"Unknown role {role!r}: volunteer as presenter or lead.")
    membership = Membership.objects.filter(lab_id=meeting.lab_id, user=by).first()
    if membership is None:
        raise LabRuleBroken("Only a member of the lab can volunteer.")
    if meeting.held_at is not None:
        raise LabRuleBroken("This meeting has been held already.")
    slot = MeetingPaper.objects.select_for_update().filter(meeting=meeting, paper=paper).first()
    if slot is None:
        raise LabRuleBroken("That paper is not on this meeting's agenda.")
    field = MEETING_ROLES[role]
    holder = getattr(slot, f"{field}_id")
    if holder == by.pk:
        return slot
    if holder is not None and membership.role != Membership.Role.OWNER:
        raise LabRuleBroken("Someone else has that slot already: ask them or an owner to swap.")
    setattr(slot, field, by)
    slot.save(update_fields=[field])
    # The meeting changed for the calendar (SEQUENCE / LAST-MODIFIED of its .ics).
    Meeting.objects.filter(pk=meeting.pk).update(updated_at=timezone.now())
    versions.lab_activity_changed(labs=[meeting.lab_id])
    return slot


@transaction.atomic
def mark_meeting_held(*, meeting: Meeting, by: User, attendees: list[User]) -> Meeting:
    """
    After the meeting: it was held, these members attended, and each of them has read each of its papers.
    Repeating it is harmless; a corrected list of attendees replaces the earlier one (a paper marked read
    stays read: we cannot know what the member had before).
    """
    if not Membership.objects.filter(lab_id=meeting.lab_id, user=by).exists():
        raise LabRuleBroken("Only a member of the lab can mark a meeting held.")
    _check_meeting_people(meeting.lab, list(attendees))
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.held_at is None:
        meeting.held_at = timezone.now()
    meeting.save(update_fields=["held_at", "updated_at"])
    meeting.attendees.set(attendees)
    for paper in meeting.papers.all():
        for attendee in attendees:
            set_state(user=attendee, paper=paper, state=ReadingStatus.State.READ)
    return meeting
