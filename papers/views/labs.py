from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from papers.access import get_lab_for_member
from papers.models import Conference, Membership


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "papers/home.html",
        {
            "memberships": Membership.objects.of_user(request.user),
            "conferences": Conference.objects.with_paper_counts(),
        },
    )


@require_GET
@login_required
def lab_detail(request: HttpRequest, lab_slug: str) -> HttpResponse:
    lab, membership = get_lab_for_member(request, lab_slug)
    return render(
        request,
        "papers/lab_detail.html",
        {
            "lab": lab,
            "membership": membership,
            "members": lab.memberships.owners_first(),
            "conferences": Conference.objects.with_paper_counts(),
        },
    )
