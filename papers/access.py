"""The one access helper for lab-scoped pages: members get the lab, everyone else a 404."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from papers.models import Lab, Membership


def get_lab_for_member(request: HttpRequest, slug: str) -> tuple[Lab, Membership]:
    """
    The lab named by slug, and the requesting user's membership of it.

    A logged-in outsider gets the same 404 as for a lab that does not exist, so lab names do not
    leak. Views call this after @login_required, which sends anonymous visitors to the login page.
    """
    membership = (
        Membership.objects.select_related("lab").filter(lab__slug=slug, user=request.user).first()
        if request.user.is_authenticated
        else None
    )
    if membership is None:
        raise Http404("No such lab.")
    return membership.lab, membership
