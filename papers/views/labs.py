from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from papers.access import get_lab_for_member
from papers.models import Conference, Membership


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    memberships = (
        Membership.objects.filter(user=request.user).select_related("lab").order_by("-lab__is_personal", "lab__name")
    )
    conferences = Conference.objects.with_paper_counts()
    return render(request, "papers/home.html", {"memberships": memberships, "conferences": conferences})


@require_GET
@login_required
def lab_detail(request: HttpRequest, lab: str) -> HttpResponse:
    lab_obj, membership = get_lab_for_member(request, lab)
    members = lab_obj.memberships.select_related("user").order_by("-role", "user__username")
    conferences = Conference.objects.with_paper_counts()
    return render(
        request,
        "papers/lab_detail.html",
        {"lab": lab_obj, "membership": membership, "members": members, "conferences": conferences},
    )
