"""The lab's reading group: candidates, votes, meetings (being built)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from papers import meetings as meeting_reads
from papers import reading_group, services
from papers.access import get_lab_for_member
from papers.exporters.handout import handout
from papers.exporters.meeting_ics import meeting_calendar
from papers.forms import (
    CandidateFilterForm,
    MeetingForm,
    MeetingHeldForm,
    NominateForm,
    VolunteerForm,
    VoteForm,
    first_error,
)
from papers.models import Conference, Lab, Meeting, Membership, Nomination, Note, Paper
from papers.rendering import render_markdown
from papers.templatetags.papers_extras import plain_title
from papers.views.labs import run_lab_action
from papers.views.papers import safe_next

CANDIDATES_PER_PAGE = 50
SEARCH_RESULTS = 20


@require_GET
@login_required
def candidates(request: HttpRequest, lab_slug: str) -> HttpResponse:
    lab, _ = get_lab_for_member(request, lab_slug)
    filters = CandidateFilterForm(request.GET or None)
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    conference: Conference | None = cleaned.get("conference")
    member_count = lab.memberships.count()
    ranked = reading_group.candidates(lab=lab, user=request.user, member_count=member_count, conference=conference)
    page = Paginator(ranked, CANDIDATES_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    query = cleaned.get("q", "").strip()
    found = []
    if query:
        # Any paper of any conference can be nominated: find it by its title.
        found = list(
            Paper.objects.filter(title__icontains=query, **({"conference": conference} if conference else {}))
            .select_related("conference")
            .annotate(nominated=Exists(Nomination.objects.filter(lab=lab, paper=OuterRef("pk"))))
            .order_by("title", "pk")[:SEARCH_RESULTS]
        )
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "papers/meetings.html",
        {
            "lab": lab,
            "filters": filters,
            "page": page,
            "member_count": member_count,
            "score_formula": reading_group.SCORE_FORMULA,
            "query": query,
            "found": found,
            "query_string": params.urlencode(),
            "next_url": request.get_full_path(),
        },
    )


def _candidates_url(request: HttpRequest, lab_slug: str) -> str:
    return safe_next(request, reverse("meetings", args=[lab_slug]))


@require_POST
@login_required
def nominate(request: HttpRequest, lab_slug: str) -> HttpResponse:
    lab, _ = get_lab_for_member(request, lab_slug)
    form = NominateForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect(_candidates_url(request, lab_slug))
    paper = form.cleaned_data["paper"]
    title = plain_title(paper.title)

    def act() -> str:
        if not form.cleaned_data["nominate"]:
            withdrawn = services.withdraw_nomination(lab=lab, paper=paper, by=request.user)
            return f"“{title}” is no longer nominated." if withdrawn else f"“{title}” was not nominated."
        created = services.nominate_paper(lab=lab, paper=paper, by=request.user)
        return f"You nominated “{title}”." if created else f"“{title}” was already nominated."

    return run_lab_action(request, act, back_to=_candidates_url(request, lab_slug))


@require_POST
@login_required
def vote(request: HttpRequest, lab_slug: str) -> HttpResponse:
    lab, _ = get_lab_for_member(request, lab_slug)
    form = VoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect(_candidates_url(request, lab_slug))
    paper = form.cleaned_data["paper"]
    title = plain_title(paper.title)
    if form.cleaned_data["vote"]:
        services.vote_for(lab=lab, paper=paper, user=request.user)
        messages.success(request, f"You voted for “{title}”.")
    else:
        services.take_back_vote(lab=lab, paper=paper, user=request.user)
        messages.success(request, f"You took back your vote for “{title}”.")
    return redirect(_candidates_url(request, lab_slug))


def _meeting_for_member(
    request: HttpRequest, lab_slug: str, meeting_id: int, *, manage: bool = False
) -> tuple[Lab, Membership, Meeting]:
    """
    The lab (members only) and one of its meetings. manage: only its creator or an owner; any other
    member gets the same 404 as an outsider.
    """
    lab, membership = get_lab_for_member(request, lab_slug)
    meeting = get_object_or_404(Meeting.objects.select_related("lab"), pk=meeting_id, lab=lab)
    if manage and not _may_manage(meeting, membership):
        raise Http404("No such meeting.")
    return lab, membership, meeting


def _may_manage(meeting: Meeting, membership: Membership) -> bool:
    """services.may_manage_meeting without a query: the membership is at hand."""
    return meeting.created_by_id == membership.user_id or membership.role == Membership.Role.OWNER


def _meeting_form(request: HttpRequest, lab: Lab, meeting: Meeting | None = None) -> MeetingForm:
    members = meeting_reads.rotation(lab)
    data = request.POST if request.method == "POST" else None
    if meeting is not None:
        slots = list(meeting_reads.meeting_slots(meeting))
        return MeetingForm.for_meeting(meeting, data, lab=lab, members=members, slots=slots)
    preselected = [int(pk) for pk in request.GET.getlist("papers") if pk.isdigit()]
    return MeetingForm(data, lab=lab, members=members, preselected=preselected)


def _meeting_fields(form: MeetingForm) -> dict:
    cleaned = form.cleaned_data
    return {
        "starts_at": cleaned["starts_at"],
        "ends_at": cleaned["ends_at"],
        "place": cleaned["place"],
        "agenda": cleaned["agenda"],
        "time_zone": cleaned["time_zone"],
        "slots": cleaned["slots"],
    }


@require_http_methods(["GET", "POST"])
@login_required
def meeting_new(request: HttpRequest, lab_slug: str) -> HttpResponse:
    lab, _ = get_lab_for_member(request, lab_slug)
    form = _meeting_form(request, lab)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.create_meeting(lab=lab, by=request.user, **_meeting_fields(form))
        except services.LabRuleBroken as broken:
            form.add_error(None, str(broken))
        else:
            messages.success(request, "The meeting is scheduled: everyone in the lab sees it.")
            return redirect("meeting_detail", lab.slug, meeting.pk)
    return render(request, "papers/meetings/meeting_form.html", {"lab": lab, "form": form, "meeting": None})


@require_GET
@login_required
def meeting_detail(request: HttpRequest, lab_slug: str, meeting_id: int) -> HttpResponse:
    lab, membership, meeting = _meeting_for_member(request, lab_slug, meeting_id)
    slots = list(meeting_reads.meeting_slots(meeting))
    notes: dict[int, list[Note]] = {}
    for note in (
        Note.objects.visible_to(user=request.user, lab=lab)
        .filter(paper__in=[slot.paper_id for slot in slots])
        .with_author_standing(lab)
        .select_related("author")
        .order_by("created_at", "pk")
    ):
        notes.setdefault(note.paper_id, []).append(note)
    members = [m.user for m in lab.memberships.owners_first()]
    attended = set(meeting.attendees.values_list("pk", flat=True))
    is_owner = membership.role == Membership.Role.OWNER
    for slot in slots:
        slot.visible_notes = notes.get(slot.paper_id, [])
        # Who may take each role: an open slot anyone, a taken one only an owner (never one's own again).
        slot.can_present = slot.presenter_id != request.user.pk and (slot.presenter_id is None or is_owner)
        slot.can_lead = slot.discussion_lead_id != request.user.pk and (slot.discussion_lead_id is None or is_owner)
    return render(
        request,
        "papers/meetings/meeting_detail.html",
        {
            "lab": lab,
            "meeting": meeting,
            "slots": slots,
            "agenda_html": render_markdown(meeting.agenda),
            "place_is_link": meeting.place.startswith(("https://", "http://")),
            "can_manage": _may_manage(meeting, membership),
            "members": [(member, member.pk in attended or not meeting.held_at) for member in members],
            "attendees": [member for member in members if member.pk in attended],
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def meeting_edit(request: HttpRequest, lab_slug: str, meeting_id: int) -> HttpResponse:
    lab, _, meeting = _meeting_for_member(request, lab_slug, meeting_id, manage=True)
    form = _meeting_form(request, lab, meeting)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_meeting(meeting=meeting, by=request.user, **_meeting_fields(form))
        except services.LabRuleBroken as broken:
            form.add_error(None, str(broken))
        else:
            messages.success(request, "The meeting is updated.")
            return redirect("meeting_detail", lab.slug, meeting.pk)
    return render(request, "papers/meetings/meeting_form.html", {"lab": lab, "form": form, "meeting": meeting})


@require_POST
@login_required
def meeting_delete(request: HttpRequest, lab_slug: str, meeting_id: int) -> HttpResponse:
    lab, _, meeting = _meeting_for_member(request, lab_slug, meeting_id, manage=True)

    def delete() -> str:
        services.delete_meeting(meeting=meeting, by=request.user)
        return "The meeting is deleted."

    return run_lab_action(request, delete, back_to=reverse("meetings", args=[lab.slug]))


@require_POST
@login_required
def meeting_volunteer(request: HttpRequest, lab_slug: str, meeting_id: int) -> HttpResponse:
    lab, _, meeting = _meeting_for_member(request, lab_slug, meeting_id)
    back = reverse("meeting_detail", args=[lab.slug, meeting.pk])
    form = VolunteerForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect(back)
    paper = get_object_or_404(Paper, pk=form.cleaned_data["paper"], meeting_papers__meeting=meeting)
    role = form.cleaned_data["role"]

    def take() -> str:
        services.volunteer(meeting=meeting, by=request.user, paper=paper, role=role)
        what = "present" if role == "presenter" else "lead the discussion of"
        return f"You {what} “{plain_title(paper.title)}”."

    return run_lab_action(request, take, back_to=back)


@require_POST
@login_required
def meeting_held(request: HttpRequest, lab_slug: str, meeting_id: int) -> HttpResponse:
    lab, _, meeting = _meeting_for_member(request, lab_slug, meeting_id)
    back = reverse("meeting_detail", args=[lab.slug, meeting.pk])
    form = MeetingHeldForm(request.POST, members=[m.user for m in lab.memberships.owners_first()])
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect(back)
    attendees = form.cleaned_data["attendees"]

    def held() -> str:
        services.mark_meeting_held(meeting=meeting, by=request.user, attendees=attendees)
        count = len(attendees)
        return f"Marked held: its papers are read for {count} attendee{'' if count == 1 else 's'}."

    return run_lab_action(request, held, back_to=back)


@require_GET
@login_required
def meeting_handout(request: HttpRequest, lab_slug: str, meeting_id: int) -> HttpResponse:
    lab, _, meeting = _meeting_for_member(request, lab_slug, meeting_id)
    slots = list(meeting_reads.meeting_slots(meeting))
    # The lab's shared notes only: a handout is passed around, so never a private note, not even mine.
    notes = list(
        Note.objects.filter(lab=lab, paper__in=[slot.paper_id for slot in slots])
        .with_author_standing(lab)
        .select_related("author")
        .order_by("created_at", "pk")
    )
    response = HttpResponse(handout(meeting, slots, notes), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{lab.slug}-meeting-{meeting.starts_at:%Y-%m-%d}.md"'
    return response


@require_GET
@login_required
def meeting_ics(request: HttpRequest, lab_slug: str, meeting_id: int) -> HttpResponse:
    lab, _, meeting = _meeting_for_member(request, lab_slug, meeting_id)
    slots = list(meeting_reads.meeting_slots(meeting))
    url = request.build_absolute_uri(reverse("meeting_detail", args=[lab.slug, meeting.pk]))
    body = meeting_calendar(meeting, slots, url=url, now=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{lab.slug}-meeting-{meeting.pk}.ics"'
    return response
