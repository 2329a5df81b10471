"""
Writes. Every change to the lab's data goes through a function here: keyword-only, typed,
in a transaction, and idempotent where a user can double-click.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from papers.models import Lab, Membership, Note, Paper, ReadingStatus, User
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


def _status_upsert(*, user: User, paper: Paper, values: dict) -> ReadingStatus:
    """Set fields of the user's status on the paper, making the row if need be. Safe to repeat or race."""
    updated = ReadingStatus.objects.filter(user=user, paper=paper).update(**values, updated_at=timezone.now())
    if not updated:
        try:
            with transaction.atomic():
                return ReadingStatus.objects.create(user=user, paper=paper, **values)
        except IntegrityError:  # a double submit made the row in between: update it instead
            ReadingStatus.objects.filter(user=user, paper=paper).update(**values, updated_at=timezone.now())
    return ReadingStatus.objects.get(user=user, paper=paper)


@transaction.atomic
def set_star(*, user: User, paper: Paper, starred: bool) -> ReadingStatus:
    """Star or unstar (a set, not a toggle: a double click leaves the same result)."""
    return _status_upsert(user=user, paper=paper, values={"starred": starred})


@transaction.atomic
def set_state(*, user: User, paper: Paper, state: str) -> ReadingStatus:
    if state not in ReadingStatus.State.values:
        raise ValueError(f"Unknown triage state {state!r}.")
    return _status_upsert(user=user, paper=paper, values={"state": state})


@transaction.atomic
def restore_status(*, user: User, paper: Paper, state: str, starred: bool, existed: bool) -> None:
    """Put a status back as it was before a decision (the inbox's undo); no row if there was none."""
    if existed:
        _status_upsert(user=user, paper=paper, values={"state": state, "starred": starred})
    else:
        ReadingStatus.objects.filter(user=user, paper=paper).delete()


# --- Notes -------------------------------------------------------------------------------------------


class StaleEdit(Exception):
    """The note changed since the editor loaded it; the edit was not saved."""


# The same note posted again this soon is a double submit (a double click, a re-sent form), not a new note.
DOUBLE_SUBMIT_WINDOW = timedelta(seconds=10)


@transaction.atomic
def add_note(*, author: User, paper: Paper, lab: Lab | None, kind: str, body: str) -> Note:
    """A new note; a one-liner (summary) replaces the author's earlier one on the paper."""
    body = body.strip()
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
    note.refresh_from_db()
    return note


@transaction.atomic
def delete_note(*, note: Note, editor: User) -> None:
    if note.author_id != editor.pk:
        raise PermissionDenied("Only a note's author can delete it.")
    note.delete()
