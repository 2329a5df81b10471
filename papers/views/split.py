"""Splitting a conference's papers between the lab's members, so that every paper is seen by someone."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from papers import services
from papers.access import get_conference_for_member
from papers.forms import SplitForm
from papers.models import Assignment, Conference, Lab, Membership, ReadingStatus, User
from papers.views.labs import run_lab_action


def _split_url(lab: Lab, conference: Conference) -> str:
    return reverse("split", args=[lab.slug, conference.slug])


@require_GET
@login_required
def split(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    lab, conference = get_conference_for_member(request, lab_slug, conference_slug)
    membership = Membership.objects.get(lab=lab, user=request.user)
    triaged = ReadingStatus.objects.triaged().filter(paper=OuterRef("paper"), user=OuterRef("user"))
    slices = {
        row["user"]: row
        for row in Assignment.objects.filter(lab=lab, paper__conference=conference)
        .annotate(done=Exists(triaged))
        .values("user")
        .annotate(assigned=Count("pk"), triaged=Count("pk", filter=Q(done=True)))
    }
    members = [
        {
            "membership": m,
            "assigned": slices.get(m.user_id, {}).get("assigned", 0),
            "triaged": slices.get(m.user_id, {}).get("triaged", 0),
        }
        for m in lab.memberships.owners_first()
    ]
    assigned = sum(row["assigned"] for row in members)
    return render(
        request,
        "papers/split.html",
        {
            "lab": lab,
            "conference": conference,
            "is_owner": membership.role == Membership.Role.OWNER,
            "members": members,
            "assigned": assigned,
            "total": conference.papers.count(),
            "methods": services.SPLIT_METHODS,
        },
    )


def _run(request: HttpRequest, lab: Lab, conference: Conference, action) -> HttpResponse:
    return run_lab_action(request, action, back_to=_split_url(lab, conference))


@require_POST
@login_required
def split_create(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    lab, conference = get_conference_for_member(request, lab_slug, conference_slug)
    form = SplitForm(request.POST, lab=lab)
    if not form.is_valid():
        for error in (error for errors in form.errors.values() for error in errors):
            messages.error(request, error)
        return redirect(_split_url(lab, conference))

    def create() -> str:
        load = services.split_papers(
            lab=lab,
            conference=conference,
            by=request.user,
            method=form.cleaned_data["method"],
            members=list(form.cleaned_data["members"]),
        )
        return f"Split {sum(load.values()):,} papers between {len(load)} member{'s' if len(load) != 1 else ''}."

    return _run(request, lab, conference, create)


@require_POST
@login_required
def split_clear(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    lab, conference = get_conference_for_member(request, lab_slug, conference_slug)

    def clear() -> str:
        services.clear_split(lab=lab, conference=conference, by=request.user)
        return "The split is gone: everyone's inbox shows all papers again."

    return _run(request, lab, conference, clear)


@require_POST
@login_required
def split_take_over(request: HttpRequest, lab_slug: str, conference_slug: str, user_id: int) -> HttpResponse:
    lab, conference = get_conference_for_member(request, lab_slug, conference_slug)
    other = get_object_or_404(User, pk=user_id, memberships__lab=lab)

    def take() -> str:
        moved = services.take_over_slice(lab=lab, conference=conference, from_user=other, by=request.user)
        return f"You took over {moved:,} untriaged paper{'s' if moved != 1 else ''} from {other.username}."

    return _run(request, lab, conference, take)


@require_POST
@login_required
def split_swap(request: HttpRequest, lab_slug: str, conference_slug: str, user_id: int) -> HttpResponse:
    lab, conference = get_conference_for_member(request, lab_slug, conference_slug)
    other = get_object_or_404(User, pk=user_id, memberships__lab=lab)

    def swap() -> str:
        services.swap_slices(lab=lab, conference=conference, with_user=other, by=request.user)
        return f"You and {other.username} swapped slices."

    return _run(request, lab, conference, swap)
