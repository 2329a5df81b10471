"""The one access helper for lab-scoped pages: members get the lab, everyone else a 404."""

from __future__ import annotations

from django.db import connection
from django.db.models import IntegerField
from django.db.models.expressions import RawSQL
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from papers import versions
from papers.models import Conference, Lab, Membership, Paper


def _membership(request: HttpRequest, slug: str, **annotations) -> Membership:
    try:
        if not request.user.is_authenticated:
            raise Membership.DoesNotExist
        return Membership.objects.select_related("lab").annotate(**annotations).get(lab__slug=slug, user=request.user)
    except Membership.DoesNotExist:
        raise Http404("No such lab.") from None


def get_lab_for_member(request: HttpRequest, slug: str) -> tuple[Lab, Membership]:
    """
    The lab named by slug, and the requesting user's membership of it.

    A logged-in outsider gets the same 404 as for a lab that does not exist, so lab names do not
    leak. Views call this after @login_required, which sends anonymous visitors to the login page.
    """
    membership = _membership(request, slug)
    return membership.lab, membership


def get_membership_and_conference(
    request: HttpRequest, lab_slug: str, conference_slug: str
) -> tuple[Membership, Conference]:
    """
    The member's membership (with its lab) and the conference, in one query: the membership's row comes with
    the conference's id and programme version, and the conference's row from the cache while that version
    stands (papers.versions.conference_at); a conference that does not exist is a 404.
    """
    membership = _membership(
        request,
        lab_slug,
        conference_pk=_conference_column("id", conference_slug),
        conference_version=_conference_column("programme_version", conference_slug),
    )
    try:
        if membership.conference_pk is None:
            raise Conference.DoesNotExist
        return membership, versions.conference_at(membership.conference_pk, membership.conference_version)
    except Conference.DoesNotExist:
        raise Http404("No such conference.") from None


def _conference_column(column: str, slug: str) -> RawSQL:
    """
    One column of the conference named by slug, as a scalar subquery. RawSQL because every lab page builds
    it: the ORM's Subquery costs about a millisecond to build, more than the query it saves.
    """
    quote = connection.ops.quote_name
    sql = f"SELECT {quote(column)} FROM {quote(Conference._meta.db_table)} WHERE {quote('slug')} = %s"
    return RawSQL(sql, [slug], output_field=IntegerField())


def get_conference_for_member(request: HttpRequest, lab_slug: str, conference_slug: str) -> tuple[Lab, Conference]:
    """The lab (members only, as above) and the conference it is looking at."""
    membership, conference = get_membership_and_conference(request, lab_slug, conference_slug)
    return membership.lab, conference


def get_paper_for_member(request: HttpRequest, lab_slug: str, conference_slug: str, forum_id: str) -> tuple[Lab, Paper]:
    """The lab (members only) and one paper of the conference, by its forum id."""
    lab, _ = get_lab_for_member(request, lab_slug)
    paper = get_object_or_404(
        Paper.objects.without_search_data().select_related("conference"),
        conference__slug=conference_slug,
        forum_id=forum_id,
    )
    return lab, paper
