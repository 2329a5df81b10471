"""
Version stamps, so that costly parts of a page can be cached and never be stale.

Two counters only ever grow:

- `Lab.activity_version`: anything a lab's pages show of its members changed: a member's status or note,
  a private note (it shows in each of its author's labs), the membership, a username, the split, the
  lab's own events, its reading group;
- `Conference.programme_version`: the programme changed: the conference, its papers, sessions,
  presentations, similar papers, search data.

A cached part's key holds both counters as the request read them (one query, papers.access: the membership's
row with its lab's and the conference's version; the conference's row is itself cached by its version, see
conference_at), so a change makes a new key and the old entry is never read again. The bump is written after
the change it stands for, in the same transaction where there is one, and a page reads the counters before the
data: a page may store fresher data under an older key, never older data under a newer one.

Where the bumps come from: signal receivers for every save and delete of the models involved (papers.signals:
the admin, the services, any script), and the writes that send no signal (QuerySet.update, bulk_create,
bulk_update, COPY) call lab_activity_changed / programme_changed themselves, once per import. (A programme
import bumps its conference alone, not every lab: a lab's row is locked by each star of its members, and an
import holding them all for its whole transaction would deadlock with them.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import models
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.middleware.csrf import get_token

from papers.models import Conference, Lab


def lab_activity_changed(*, labs: Iterable[int] | QuerySet = (), users: Iterable[int] = ()) -> None:
    """Bump the version of these labs (ids, or a query of their ids) and of every lab these users (ids) belong to."""
    lab_ids = labs if isinstance(labs, QuerySet) else {pk for pk in labs if pk is not None}
    user_ids = {pk for pk in users if pk is not None}
    if isinstance(lab_ids, QuerySet) or lab_ids:
        Lab.objects.filter(pk__in=lab_ids).update(activity_version=F("activity_version") + 1)
    if user_ids:
        # One statement: the labs of these members (a lab of two of them is bumped once).
        member_of = Lab.objects.filter(memberships__user__in=user_ids).values("pk")
        Lab.objects.filter(pk__in=member_of).update(activity_version=F("activity_version") + 1)


def labs_shown_in(user) -> QuerySet:
    """
    The labs that show a user's name without their being a member now: the labs of the shared notes they
    wrote and of the events they added (a former member, who renamed or deleted their account).
    """
    from papers.models import Note, Session

    notes = Note.all_objects.filter(author=user, lab__isnull=False).values("lab_id")
    events = Session.objects.filter(created_by=user, lab__isnull=False).values("lab_id")
    return Lab.objects.filter(models.Q(pk__in=notes) | models.Q(pk__in=events)).values("pk")


def programme_changed(*, conferences: Iterable[int] | QuerySet) -> None:
    """Bump the programme version of these conferences (ids, or a query of their ids)."""
    ids = conferences if isinstance(conferences, QuerySet) else set(conferences)
    if isinstance(ids, QuerySet) or ids:
        Conference.objects.filter(pk__in=ids).update(programme_version=F("programme_version") + 1)


def cache_key(part: str, *, lab: Lab | None, conference: Conference, vary: Iterable[Any] = ()) -> str:
    """
    The key of one cached part of a page on a conference: the part's name, the lab's (None: a part that
    shows the programme alone) and the conference's versions as read with them, and what else the part
    depends on (the member, the query, …).
    """
    detail = hashlib.sha256(repr(tuple(vary)).encode()).hexdigest()[:32] if vary else "-"
    of_lab = f"lab{lab.pk}.{lab.activity_version}" if lab is not None else "programme"
    return f"{part}:{of_lab}:conference{conference.pk}.{conference.programme_version}:{detail}"


def for_member(request: HttpRequest) -> tuple[int, str]:
    """
    What a part drawn for one member varies on, besides the versions: the member, and the CSRF secret that
    the tokens in its forms are made from (a token from an earlier drawing is valid for the same secret).
    """
    if "CSRF_COOKIE" not in request.META:  # the browser sent none: make the secret (the response sets its cookie)
        get_token(request)
    return request.user.pk, request.META["CSRF_COOKIE"]


# How long an entry may stay unread before the cache may drop it: a key is never stale, so this only bounds
# memory (the cache also drops the least recently used entries past its MAX_ENTRIES).
TIMEOUT = 60 * 60

T = TypeVar("T")


def cached(
    part: str, compute: Callable[[], T], *, lab: Lab | None, conference: Conference, vary: Iterable[Any] = ()
) -> T:
    """compute() once per key (see cache_key); later calls with the same versions get the stored value."""
    key = cache_key(part, lab=lab, conference=conference, vary=vary)
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, TIMEOUT)
    return value


def conference_at(pk: int, version: int) -> Conference:
    """
    The conference's row as of this programme version (read with the member's lab, papers.access): from the
    database once per version, then from the cache (any change to the row bumps the version). Each caller
    gets its own copy (the cache stores a pickled one). Conference.DoesNotExist if it was deleted since.
    """
    conference = cache.get(f"conference:{pk}.{version}")
    if conference is None:
        conference = Conference.objects.get(pk=pk)
        # Under the version read now, which may be newer than the one asked for (changed in between).
        cache.set(f"conference:{pk}.{conference.programme_version}", conference, TIMEOUT)
    return conference
