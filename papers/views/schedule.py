"""
The conference schedule by day and session, my agenda (?mine=1) with its clashes, and the lab's own
events (a dinner, a meet-up) that members add beside the programme.

A lab's event can be changed by whoever added it and by the lab's owners; for anyone else its edit
and delete URLs are a 404, like another lab's things.
"""

from __future__ import annotations

import re
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from papers import services, versions
from papers.access import get_membership_and_conference
from papers.forms import ClashChoiceForm, EventForm, ScheduleFilterForm
from papers.latex import latex_to_text
from papers.models import Conference, Lab, Membership, Paper, Session
from papers.schedule import Day, build_schedule

TEMPLATE = "papers/schedule.html"


def _lab_and_conference(
    request: HttpRequest, lab_slug: str, conference_slug: str
) -> tuple[Lab, Membership, Conference]:
    membership, conference = get_membership_and_conference(request, lab_slug, conference_slug)
    return membership.lab, membership, conference


ALL_DAYS = "all"


def pick_days(days: list[Day], asked: str, today: date) -> tuple[list[Day], str]:
    """
    The days the page draws, and the key of the current choice: the day asked for (?day=2024-05-07,
    ?day=unscheduled) or every day (?day=all); by default, today alone while the conference runs (at the
    conference, on a phone: the day's sessions, not the whole programme), every day before and after it. A day
    the schedule does not have shows every day.
    """
    by_key = {day.key: day for day in days}
    if asked in by_key:
        return [by_key[asked]], asked
    if not asked and today.isoformat() in by_key:
        return [by_key[today.isoformat()]], today.isoformat()
    return days, ALL_DAYS


# What ?day= may hold: a day's key (papers.schedule.Day.key) or every day.
DAY_KEY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}|unscheduled|all")


def _event_url(lab: Lab, conference: Conference, event: Session) -> str:
    """The schedule on the event's own day, at the event (the page may open on another day)."""
    return f"{_schedule_url(lab, conference, f'day={Day(event.day).key}')}#session-{event.pk}"


def _day_label(day: Day) -> str:
    return dateformat.format(day.day, "D j M") if day.day else "Not yet scheduled"


def _schedule_url(lab: Lab, conference: Conference, query: str = "") -> str:
    url = reverse("schedule", args=[lab.slug, conference.slug])
    return f"{url}?{query}" if query else url


def _event_for_manager(request: HttpRequest, lab: Lab, membership: Membership, conference: Conference, pk: int):
    """The lab's event, if this member may change it (its creator or an owner); else 404."""
    event = get_object_or_404(Session.objects.select_related("conference"), pk=pk, lab=lab, conference=conference)
    if event.created_by_id != request.user.pk and membership.role != Membership.Role.OWNER:
        raise Http404("No such event.")
    return event


def _render_schedule(
    request: HttpRequest,
    lab: Lab,
    membership: Membership,
    conference: Conference,
    *,
    event_form: EventForm | None = None,
    status: int = 200,
) -> HttpResponse:
    filters = ScheduleFilterForm(request.GET)
    # A bad value (an unknown kind) is ignored, not an error page: the rest of the filters still apply.
    wanted = filters.cleaned_data if filters.is_valid() else {"mine": False, "lab": False, "kind": ""}
    # The same for this member and filters until the lab or the programme changes (papers.versions).
    schedule = versions.cached(
        "schedule",
        lambda: build_schedule(
            conference=conference,
            lab=lab,
            user=request.user,
            mine=wanted["mine"],
            lab_stars=wanted["lab"],
            kind=wanted["kind"],
        ),
        lab=lab,
        conference=conference,
        vary=(request.user.pk, wanted["mine"], wanted["lab"], wanted["kind"]),
    )
    asked_day = request.GET.get("day", "")
    days, current_day = pick_days(schedule.days, asked_day, timezone.localdate(timezone=conference.tzinfo))
    view_query = "&".join(
        part for part in ("mine=1" if wanted["mine"] else "", "lab=1" if wanted["lab"] else "") if part
    )
    kind_query = urlencode({"kind": wanted["kind"]}) if wanted["kind"] else ""
    day_links = [
        (label, _schedule_url(lab, conference, "&".join(p for p in (view_query, kind_query, f"day={key}") if p)), key)
        for label, key in [("All days", ALL_DAYS)] + [(_day_label(day), day.key) for day in schedule.days]
    ]
    views = [
        ("Programme", "", not wanted["mine"] and not wanted["lab"]),
        ("My agenda", "mine=1", wanted["mine"]),
        ("Lab's stars", "lab=1", wanted["lab"] and not wanted["mine"]),
    ]
    tabs = [
        (label, _schedule_url(lab, conference, "&".join(part for part in (query, kind_query) if part)), current)
        for label, query, current in views
    ]
    return render(
        request,
        TEMPLATE,
        {
            "lab": lab,
            "conference": conference,
            "schedule": schedule,
            "days": days,
            "current_day": current_day,
            "asked_day": asked_day if asked_day == current_day else "",
            "day_links": day_links if len(schedule.days) > 1 else [],
            "mine": wanted["mine"],
            "lab_stars": wanted["lab"],
            "kind": wanted["kind"],
            "kind_label": dict(Session.Kind.choices).get(wanted["kind"], ""),
            "kind_choices": Session.Kind.choices,
            "tabs": tabs,
            "filtered": wanted["mine"] or wanted["lab"] or bool(wanted["kind"]),
            "is_owner": membership.role == Membership.Role.OWNER,
            "event_form": event_form or EventForm(conference=conference),
            # The empty form to add an event, drawn once per programme version (its day choices).
            "event_fields_html": None
            if event_form
            else versions.cached(
                "schedule-event-fields",
                lambda: render_to_string(f"{TEMPLATE}#event_fields", {"event_form": EventForm(conference=conference)}),
                lab=None,
                conference=conference,
            ),
            "next_url": request.get_full_path(),
        },
        status=status,
    )


@require_GET
@login_required
def schedule(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    lab, membership, conference = _lab_and_conference(request, lab_slug, conference_slug)
    return _render_schedule(request, lab, membership, conference)


def _event_data(form: EventForm) -> dict:
    data = form.cleaned_data
    return {key: data[key] for key in ("title", "kind", "day", "starts", "ends", "room")}


@require_POST
@login_required
def event_add(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    lab, membership, conference = _lab_and_conference(request, lab_slug, conference_slug)
    form = EventForm(request.POST, conference=conference)
    if not form.is_valid():
        return _render_schedule(request, lab, membership, conference, event_form=form, status=400)
    event = services.add_event(lab=lab, conference=conference, by=request.user, **_event_data(form))
    messages.success(request, f"Added “{event.title}” to {lab.name}'s schedule: everyone in the lab sees it.")
    return redirect(_event_url(lab, conference, event))


@require_http_methods(["GET", "POST"])
@login_required
def event_edit(request: HttpRequest, lab_slug: str, conference_slug: str, session_id: int) -> HttpResponse:
    lab, membership, conference = _lab_and_conference(request, lab_slug, conference_slug)
    event = _event_for_manager(request, lab, membership, conference, session_id)
    if request.method == "POST":
        form = EventForm(request.POST, conference=conference)
        if form.is_valid():
            services.edit_event(event=event, by=request.user, **_event_data(form))
            messages.success(request, f"Saved “{event.title}”.")
            return redirect(_event_url(lab, conference, event))
    else:
        form = EventForm.for_event(event)
    context = {
        "lab": lab,
        "conference": conference,
        "event": event,
        "event_form": form,
        "editing": True,
        "event_url": _event_url(lab, conference, event),
    }
    return render(request, TEMPLATE, context, status=400 if form.is_bound else 200)


@require_POST
@login_required
def event_delete(request: HttpRequest, lab_slug: str, conference_slug: str, session_id: int) -> HttpResponse:
    lab, membership, conference = _lab_and_conference(request, lab_slug, conference_slug)
    event = _event_for_manager(request, lab, membership, conference, session_id)
    title = event.title
    services.delete_event(event=event, by=request.user)
    messages.success(request, f"Deleted “{title}” from {lab.name}'s schedule.")
    return redirect(_schedule_url(lab, conference))


@require_POST
@login_required
def clash_choose(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    """Of two clashing papers, keep one starred and unstar the other; back to my agenda, on the day it was."""
    lab, _, conference = _lab_and_conference(request, lab_slug, conference_slug)
    day = request.POST.get("day", "")
    agenda = _schedule_url(lab, conference, urlencode({"mine": 1, "day": day}) if DAY_KEY.fullmatch(day) else "mine=1")
    form = ClashChoiceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose which of the two papers to keep.")
        return redirect(agenda)
    papers = {
        paper.forum_id: paper
        for paper in Paper.objects.for_conference(conference).filter(
            forum_id__in=[form.cleaned_data["keep"], form.cleaned_data["drop"]]
        )
    }
    if len(papers) != 2:
        raise Http404("No such paper.")
    keep, drop = papers[form.cleaned_data["keep"]], papers[form.cleaned_data["drop"]]
    services.set_star(user=request.user, paper=drop, starred=False)
    messages.success(request, f"Kept “{latex_to_text(keep.title)}”; unstarred “{latex_to_text(drop.title)}”.")
    return redirect(agenda)
