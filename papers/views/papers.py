from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from papers.access import get_lab_for_member
from papers.models import Conference, Paper

PAPERS_PER_PAGE = 50


@require_GET
@login_required
def paper_list(request: HttpRequest, lab: str, conf: str) -> HttpResponse:
    lab_obj, _ = get_lab_for_member(request, lab)
    conference = get_object_or_404(Conference, slug=conf)
    papers = Paper.objects.for_conference(conference).with_presentations().order_by("title", "pk")
    page = Paginator(papers, PAPERS_PER_PAGE).get_page(request.GET.get("page"))
    # htmx asks for the results only (pagination); a plain request gets the whole page.
    template = "papers/paper_list.html#results" if request.htmx else "papers/paper_list.html"
    return render(request, template, {"lab": lab_obj, "conference": conference, "page": page})


@require_GET
@login_required
def paper_detail(request: HttpRequest, lab: str, conf: str, forum_id: str) -> HttpResponse:
    lab_obj, _ = get_lab_for_member(request, lab)
    paper = get_object_or_404(
        Paper.objects.select_related("conference").with_presentations(),
        conference__slug=conf,
        forum_id=forum_id,
    )
    return render(
        request,
        "papers/paper_detail.html",
        {"lab": lab_obj, "conference": paper.conference, "paper": paper},
    )
