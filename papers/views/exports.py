"""
Exports of a filtered list (Markdown trip report, CSV, BibTeX, iCalendar) and the private calendar feed.

The exports take the list's filters from the query string (the same PaperFilter as the list), so the
list's "export" links give exactly what the member is looking at.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from papers import services
from papers.access import get_conference_for_member
from papers.exporters import bibtex, export_queryset, ics, markdown
from papers.exporters import csv as csv_export
from papers.filters import PaperFilter
from papers.models import CalendarFeed, Conference, Lab, Membership, Paper, User

CONTENT_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "bib": "application/x-bibtex; charset=utf-8",
    "ics": "text/calendar; charset=utf-8",
}
# My agenda: what the calendar holds when no filter is asked for.
AGENDA = "starred=me"


@require_GET
@login_required
def export(request: HttpRequest, lab_slug: str, conference_slug: str, fmt: str) -> HttpResponse:
    lab, conference = get_conference_for_member(request, lab_slug, conference_slug)
    if fmt not in CONTENT_TYPES:
        raise Http404("No such export format.")
    query = request.GET.copy()
    whole_lab = query.pop("who", [""])[-1] == "lab" and fmt == "md"
    if fmt == "ics" and not query:
        query = QueryDict(AGENDA)
    papers = _filtered(query, lab=lab, user=request.user, conference=conference)
    if fmt == "md":
        body = _trip_report(papers, lab=lab, user=request.user, conference=conference, whole_lab=whole_lab)
    elif fmt == "csv":
        body = csv_export.papers_csv(list(export_queryset(papers, lab=lab, user=request.user)))
    elif fmt == "bib":
        body = bibtex.bibliography(list(papers.select_related("conference")), conference=conference)
    else:
        body = _calendar(papers, lab=lab, user=request.user, conference=conference)
    suffix = "-lab" if whole_lab else ""
    return _download(body, fmt, f"{conference.slug}-{lab.slug}{suffix}.{fmt}")


def _filtered(query: QueryDict, *, lab: Lab, user: User, conference: Conference):
    papers = Paper.objects.for_conference(conference)
    return PaperFilter(query or None, queryset=papers, lab=lab, user=user, conference=conference).qs


def _trip_report(papers, *, lab: Lab, user: User, conference: Conference, whole_lab: bool) -> str:
    kept = markdown.kept_papers(papers, lab=lab, user=user, whole_lab=whole_lab)
    return markdown.trip_report(
        list(export_queryset(kept, lab=lab, user=user)),
        conference=conference,
        lab=lab,
        user=user,
        whole_lab=whole_lab,
        events=list(markdown.lab_events(lab=lab, conference=conference)),
    )


def _calendar(papers, *, lab: Lab, user: User, conference: Conference) -> bytes:
    return ics.calendar(
        list(export_queryset(papers, lab=lab, user=user)),
        conference=conference,
        lab=lab,
        user=user,
        events=list(markdown.lab_events(lab=lab, conference=conference)),
        now=timezone.now(),
    )


def _download(body: str | bytes, fmt: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@login_required
def calendar_feeds(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    lab, conference = get_conference_for_member(request, lab_slug, conference_slug)
    feed = CalendarFeed.objects.filter(user=request.user, lab=lab, conference=conference).first()
    feed_url = request.build_absolute_uri(reverse("calendar_feed", args=[feed.token])) if feed else ""
    return render(
        request,
        "papers/calendar_feeds.html",
        {
            "lab": lab,
            "conference": conference,
            "feed": feed,
            "feed_url": feed_url,
            "download_url": reverse("export", args=[lab.slug, conference.slug, "ics"]),
        },
    )


@require_POST
@login_required
def calendar_feed_renew(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    lab, conference = get_conference_for_member(request, lab_slug, conference_slug)
    # The list's filters (a query string) may come along; only PaperFilter's own fields are kept.
    fields = PaperFilter.base_filters.keys()
    query = QueryDict(request.POST.get("query", "")[:500]).copy()
    for name in list(query):
        if name not in fields or name == "page":
            del query[name]
    services.renew_calendar_feed(user=request.user, lab=lab, conference=conference, query=query.urlencode()[:500])
    return redirect("calendar_feeds", lab.slug, conference.slug)


@require_POST
@login_required
def calendar_feed_revoke(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    lab, conference = get_conference_for_member(request, lab_slug, conference_slug)
    services.revoke_calendar_feed(user=request.user, lab=lab, conference=conference)
    return redirect("calendar_feeds", lab.slug, conference.slug)


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed a calendar app polls: the token is the only key, so no login; unknown or revoked → 404."""
    feed = CalendarFeed.objects.select_related("user", "lab", "conference").filter(token=token).first()
    # A member who left the lab keeps no window onto it.
    if feed is None or not Membership.objects.filter(lab=feed.lab, user=feed.user).exists():
        raise Http404("No such calendar.")
    query = QueryDict(feed.query or AGENDA)
    papers = _filtered(query, lab=feed.lab, user=feed.user, conference=feed.conference)
    body = _calendar(papers, lab=feed.lab, user=feed.user, conference=feed.conference)
    response = HttpResponse(body, content_type=CONTENT_TYPES["ics"])
    response["Content-Disposition"] = f'inline; filename="{feed.conference.slug}.ics"'
    response["Cache-Control"] = "private, max-age=900"
    return response
