"""The one access helper for lab-scoped pages: members get the lab, everyone else a 404."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from papers.models import Conference, Lab, Membership, Paper


def get_lab_for_member(request: HttpRequest, slug: str) -> tuple[Lab, Membership]:
    """
    The lab named by slug, and the requesting user's membership of it.

    A logged-in outsider gets the same 404 as for a lab that does not exist, so lab names do not
    leak. Views call this after @login_required, which sends anonymous visitors to the login page.
    """
    try:
        if not request.user.is_authenticated:
            raise Membership.DoesNotExist
        membership = Membership.objects.select_related("lab").get(lab__slug=slug, user=request.user)
    except Membership.DoesNotExist:
        raise Http404("No such lab.") from None
    return membership.lab, membership


def get_conference_for_member(request: HttpRequest, lab_slug: str, conference_slug: str) -> tuple[Lab, Conference]:
    """The lab (members only, as above) and the conference it is looking at."""
    lab, _ = get_lab_for_member(request, lab_slug)
    return lab, get_object_or_404(Conference, slug=conference_slug)


def get_paper_for_member(request: HttpRequest, lab_slug: str, conference_slug: str, forum_id: str) -> tuple[Lab, Paper]:
    """The lab (members only) and one paper of the conference, by its forum id."""
    lab, _ = get_lab_for_member(request, lab_slug)
    paper = get_object_or_404(
        Paper.objects.select_related("conference"), conference__slug=conference_slug, forum_id=forum_id
    )
    return lab, paper
