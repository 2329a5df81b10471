"""
Writes. Every change to the lab's data goes through a function here: keyword-only, typed,
in a transaction, and idempotent where a user can double-click.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from papers.models import Lab, Membership, User

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
