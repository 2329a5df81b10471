from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from papers.access import get_lab_for_member
from papers.models import Paper


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
