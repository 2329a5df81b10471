"""The lab's dashboard for a conference: the funnel, each member's progress, the most wanted papers, activity."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from papers import dashboard as reads
from papers.access import get_conference_for_member

ACTIVITY_PER_PAGE = 20


@require_GET
@login_required
@vary_on_headers("HX-Request")
def dashboard(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    lab, conference = get_conference_for_member(request, lab_slug, conference_slug)
    events = reads.recent_activity(lab=lab, conference=conference)
    activity = Paginator(events, ACTIVITY_PER_PAGE).get_page(request.GET.get("activity_page"))
    context = {"lab": lab, "conference": conference, "activity": activity, "activity_limit": reads.ACTIVITY_LIMIT}
    # htmx pages through the activity alone; a history restore (back button) needs the whole page.
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "papers/dashboard.html#activity", context)

    funnel = reads.funnel(lab=lab, conference=conference)
    progress = reads.member_progress(lab=lab, conference=conference, total=funnel.total)
    members = [member.user for member in progress.members]
    starred = reads.most_starred(lab=lab, conference=conference, members=members)
    return render(
        request,
        "papers/dashboard.html",
        {
            **context,
            "funnel": funnel,
            "progress": progress,
            "members": members,
            "most_wanted": starred[: reads.MOST_WANTED],
            "matrix": starred,
            "matrix_limit": reads.MATRIX_PAPERS,
        },
    )
