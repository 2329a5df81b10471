from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from papers.access import get_lab_for_member
from papers.models import Conference, Paper

PAPERS_PER_PAGE = 50


@require_GET
@login_required
@vary_on_headers("HX-Request")
def paper_list(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    lab, _ = get_lab_for_member(request, lab_slug)
    conference = get_object_or_404(Conference, slug=conference_slug)
    papers = Paper.objects.for_conference(conference).with_presentations().order_by("title", "pk")
    page = Paginator(papers, PAPERS_PER_PAGE).get_page(request.GET.get("page"))
    # htmx asks for the results alone (paging); a history restore (back button, cache gone) needs the page.
    partial = request.htmx and not request.htmx.history_restore_request
    template = "papers/paper_list.html#results" if partial else "papers/paper_list.html"
    return render(request, template, {"lab": lab, "conference": conference, "page": page})


@require_GET
@login_required
def paper_detail(request: HttpRequest, lab_slug: str, conference_slug: str, forum_id: str) -> HttpResponse:
    lab, _ = get_lab_for_member(request, lab_slug)
    paper = get_object_or_404(
        Paper.objects.select_related("conference").with_presentations(),
        conference__slug=conference_slug,
        forum_id=forum_id,
    )
    return render(request, "papers/paper_detail.html", {"lab": lab, "conference": paper.conference, "paper": paper})
