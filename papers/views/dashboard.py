"""The lab's dashboard for a conference: the funnel, each member's progress, the most wanted papers, activity."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from papers import dashboard as reads
from papers import versions
from papers.access import get_conference_for_member
from papers.models import Conference, Lab

ACTIVITY_PER_PAGE = 20


@require_GET
@login_required
@vary_on_headers("HX-Request")
def dashboard(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    """
    The lab's progress on a conference. Its figures are the same for every member: computed once per
    version of the lab and the programme (papers.versions), then shared by the members who look.
    """
    lab, conference = get_conference_for_member(request, lab_slug, conference_slug)
    context = {"lab": lab, "conference": conference, "activity_limit": reads.ACTIVITY_LIMIT}

    def activity() -> Page:
        events = versions.cached(
            "dashboard-activity",
            lambda: reads.recent_activity(lab=lab, conference=conference),
            lab=lab,
            conference=conference,
        )
        return Paginator(events, ACTIVITY_PER_PAGE).get_page(request.GET.get("activity_page"))

    # htmx pages through the activity alone; a history restore (back button) needs the whole page.
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "papers/dashboard_activity.html", {**context, "activity": activity()})

    def figures_html() -> str:
        figures = versions.cached(
            "dashboard-figures", lambda: _figures(lab, conference), lab=lab, conference=conference
        )
        return render_to_string(
            "papers/dashboard_figures.html", {**context, **figures, "activity": activity()}, request
        )

    # Drawn once per member (it says which row is theirs), from the figures computed once for the lab.
    html = versions.cached(
        "dashboard-figures-html",
        figures_html,
        lab=lab,
        conference=conference,
        vary=(request.user.pk, request.GET.get("activity_page", "")),
    )
    return render(request, "papers/dashboard.html", {**context, "figures_html": html})


def _figures(lab: Lab, conference: Conference) -> dict:
    funnel = reads.funnel(lab=lab, conference=conference)
    progress = reads.member_progress(lab=lab, conference=conference, total=funnel.total)
    members = [member.user for member in progress.members]
    starred = reads.most_starred(lab=lab, conference=conference, members=members)
    return {
        "funnel": funnel,
        "progress": progress,
        "members": members,
        "most_wanted": starred[: reads.MOST_WANTED],
        "matrix": starred,
        "matrix_limit": reads.MATRIX_PAPERS,
    }
