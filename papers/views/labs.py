"""Labs: my labs, a lab's page (members, invites, conferences), creating a lab, joining by invite."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from papers import services
from papers.access import get_lab_for_member
from papers.forms import InviteForm, LabForm
from papers.models import Conference, Invite, Lab, Membership, User


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
def lab_switcher(request: HttpRequest) -> HttpResponse:
    """My labs, for the menu in the top bar (loaded when it is opened), or as a page without JavaScript."""
    if not request.htmx:
        return redirect("home")
    return render(request, "papers/lab_switcher.html", {"memberships": Membership.objects.of_user(request.user)})


@require_http_methods(["GET", "POST"])
@login_required
def lab_new(request: HttpRequest) -> HttpResponse:
    form = LabForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        lab = services.create_lab(name=form.cleaned_data["name"], owner=request.user)
        messages.success(request, f"“{lab.name}” is ready. Invite your teammates with a link below.")
        return redirect(lab)
    return render(request, "papers/lab_new.html", {"form": form})


@require_GET
@login_required
def lab_detail(request: HttpRequest, lab_slug: str) -> HttpResponse:
    lab, membership = get_lab_for_member(request, lab_slug)
    is_owner = membership.role == Membership.Role.OWNER
    invites = Invite.objects.filter(lab=lab).usable() if is_owner else Invite.objects.none()
    return render(
        request,
        "papers/lab_detail.html",
        {
            "lab": lab,
            "membership": membership,
            "is_owner": is_owner,
            "members": lab.memberships.owners_first(),
            "conferences": Conference.objects.with_paper_counts(),
            "invites": [
                (invite, request.build_absolute_uri(reverse("join", args=[invite.token]))) for invite in invites
            ],
            "invite_form": InviteForm(),
        },
    )


def run_lab_action(request: HttpRequest, action, *, back_to) -> HttpResponse:
    """Run a lab action and go back: its result, or the rule it broke, as a message on that page."""
    try:
        messages.success(request, action())
    except services.LabRuleBroken as broken:
        messages.error(request, str(broken))
    return redirect(back_to)


def _back_to_lab(request: HttpRequest, lab: Lab, action) -> HttpResponse:
    return run_lab_action(request, action, back_to=lab)


@require_POST
@login_required
def invite_create(request: HttpRequest, lab_slug: str) -> HttpResponse:
    lab, _ = get_lab_for_member(request, lab_slug)
    form = InviteForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(lab)

    def create() -> str:
        services.create_invite(lab=lab, by=request.user, **form.cleaned_data)
        return "A new invite link is ready: copy it below and send it to your teammates."

    return _back_to_lab(request, lab, create)


@require_POST
@login_required
def invite_revoke(request: HttpRequest, lab_slug: str, invite_id: int) -> HttpResponse:
    lab, _ = get_lab_for_member(request, lab_slug)
    invite = get_object_or_404(Invite, pk=invite_id, lab=lab)

    def revoke() -> str:
        services.revoke_invite(invite=invite, by=request.user)
        return "The invite link no longer works."

    return _back_to_lab(request, lab, revoke)


def _member(lab: Lab, user_id: int) -> User:
    return get_object_or_404(User, pk=user_id, memberships__lab=lab)


@require_POST
@login_required
def member_remove(request: HttpRequest, lab_slug: str, user_id: int) -> HttpResponse:
    lab, _ = get_lab_for_member(request, lab_slug)
    member = _member(lab, user_id)

    if member == request.user:
        return lab_leave(request, lab_slug)

    def remove() -> str:
        services.remove_member(lab=lab, member=member, by=request.user)
        return f"{member.username} is no longer in {lab.name}. Their shared notes stay with the lab."

    return _back_to_lab(request, lab, remove)


@require_POST
@login_required
def member_role(request: HttpRequest, lab_slug: str, user_id: int) -> HttpResponse:
    lab, _ = get_lab_for_member(request, lab_slug)
    member = _member(lab, user_id)
    role = request.POST.get("role", "")

    def change() -> str:
        services.set_role(lab=lab, member=member, role=role, by=request.user)
        return f"{member.username} is now {'an owner' if role == Membership.Role.OWNER else 'a member'}."

    return _back_to_lab(request, lab, change)


@require_POST
@login_required
def ownership_hand_over(request: HttpRequest, lab_slug: str, user_id: int) -> HttpResponse:
    lab, _ = get_lab_for_member(request, lab_slug)
    member = _member(lab, user_id)

    def hand_over() -> str:
        services.hand_over_ownership(lab=lab, to=member, by=request.user)
        return f"{member.username} owns {lab.name} now; you are a member."

    return _back_to_lab(request, lab, hand_over)


@require_POST
@login_required
def lab_leave(request: HttpRequest, lab_slug: str) -> HttpResponse:
    lab, _ = get_lab_for_member(request, lab_slug)
    try:
        services.remove_member(lab=lab, member=request.user, by=request.user)
    except services.LabRuleBroken as broken:
        messages.error(request, str(broken))
        return redirect(lab)
    messages.success(request, f"You left {lab.name}.")
    return redirect("home")


@require_http_methods(["GET", "POST"])
@login_required
def join(request: HttpRequest, token: str) -> HttpResponse:
    """An invite link: see which lab it is, then join with one click."""
    invite = Invite.objects.select_related("lab", "created_by").filter(token=token).first()
    if invite is None:
        return render(
            request,
            "papers/join.html",
            {"problem": "This invite link is not valid. Check that it was copied whole."},
            status=404,
        )
    already = Membership.objects.filter(lab=invite.lab, user=request.user).exists()
    if request.method == "POST":
        try:
            services.accept_invite(token=token, user=request.user)
        except services.LabRuleBroken as broken:
            return render(request, "papers/join.html", {"invite": invite, "problem": str(broken)}, status=410)
        if not already:
            messages.success(request, f"Welcome to {invite.lab.name}!")
        return redirect(invite.lab)
    problem = None if already else services.invite_problem(invite)
    return render(
        request,
        "papers/join.html",
        {"invite": invite, "already": already, "problem": problem},
        status=410 if problem else 200,
    )
