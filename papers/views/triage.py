"""
The keyboard triage inbox: one paper at a time from the list's filters (my untriaged papers unless the
URL asks for another state), decided with a key, a click or a tap, with an undo stack in the session.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.text import capfirst
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from papers import services
from papers.access import get_conference_for_member
from papers.filters import SORT_CHOICES, STATE_CHOICES, PaperFilter
from papers.forms import SUMMARY_MAX_LENGTH
from papers.latex import latex_to_text
from papers.models import Conference, Lab, Paper, ReadingStatus, User

# The inbox shows what I have not triaged yet unless the URL names a state (`state=` for any).
DEFAULT_STATE = "unseen"
UNDO_DEPTH = 50

State = ReadingStatus.State
ACTION_STATES = {"skip": State.SKIPPED, "shortlist": State.SHORTLISTED, "reading": State.READING, "read": State.READ}
STAR_ACTIONS = {"star": True, "unstar": False}
DONE = {
    "skip": "Skipped",
    "shortlist": "Shortlisted",
    "reading": "Marked as reading",
    "read": "Marked as read",
    "star": "Starred",
    "unstar": "Unstarred",
}
# How a state reads in the description of the queue: before the noun ("unseen posters") or after it.
STATE_BEFORE = {"unseen": "unseen", "skipped": "skipped", "shortlisted": "shortlisted"}
STATE_AFTER = {"reading": "I am reading", "read": "I have read"}


@dataclass
class Queue:
    """The inbox's papers in the list's order, and the set the progress bar counts (the same without the state)."""

    params: QueryDict  # the filters as the URL gives them, without the inbox's own `at`
    state: str  # "unseen", a ReadingStatus state, or "" for any
    filters: PaperFilter  # every filter but the state
    scope: QuerySet  # the filtered papers, whatever my triage
    papers: QuerySet  # the queue: the scope in my chosen state

    @classmethod
    def from_query(cls, data: QueryDict, *, lab: Lab, user: User, conference: Conference) -> Queue:
        params = data.copy()
        for own in ("at", "page"):
            params.pop(own, None)
        state = params.get("state", DEFAULT_STATE)
        if state not in dict(STATE_CHOICES):
            state = ""  # an unknown state filters nothing, as on the list
        # One FilterSet (its queries once) serves both sets: the state is applied with its own method.
        others = params.copy()
        others.pop("state", None)
        papers = Paper.objects.for_conference(conference)
        filters = PaperFilter(others, queryset=papers, lab=lab, user=user, conference=conference)
        scope = filters.qs
        queue = filters.filter_state(scope, "state", state) if state else scope
        return cls(params=params, state=state, filters=filters, scope=scope, papers=queue)

    @property
    def effective_params(self) -> QueryDict:
        """The filters with the default state spelled out: the list shows the same papers with these."""
        params = self.params.copy()
        params.setdefault("state", DEFAULT_STATE)
        return params

    def next_after(self, paper: Paper) -> str | None:
        """
        The forum id of the paper after this one, in the queue's order before a decision on it. The paper
        counts as queued even once it has left the queue, so that a repeated submit moves on to the
        same paper as the first did.
        """
        queued = set(self.papers.values_list("pk", flat=True)) | {paper.pk}
        order = [forum_id for pk, forum_id in self.scope.values_list("pk", "forum_id") if pk in queued]
        if paper.forum_id not in order:
            return None
        position = order.index(paper.forum_id)
        return order[position + 1] if position + 1 < len(order) else None

    def describe(self, *, with_state: bool = True, count: int = 2) -> str:
        """The filters in words, e.g. "unseen spotlights on Tue 7 May"."""
        data = self.filters.form.cleaned_data
        state = self.state if with_state else ""
        tier = data.get("tier")
        noun = Paper.Tier(tier).label.lower() if tier else "paper"
        words = [STATE_BEFORE[state]] if state in STATE_BEFORE else []
        words.append(noun if count == 1 else f"{noun}s")
        if day := data.get("day"):
            words.append(f"on {dict(self.filters.filters['day'].extra['choices']).get(day, day)}")
        if session := data.get("session"):
            words.append(f"in “{session.title}”")
        if area := data.get("area"):
            words.append(f"in {area}")
        if keyword := (data.get("keyword") or "").strip():
            words.append(f"with the keyword “{keyword}”")
        if query := (data.get("q") or "").strip():
            words.append(f"matching “{query}”")
        if starred := data.get("starred"):
            words.append("starred by me" if starred == "me" else "starred by someone in the lab")
        if data.get("notes"):
            words.append("with notes")
        if data.get("unseen_by_lab"):
            words.append("that no one in the lab has triaged")
        if state in STATE_AFTER:
            words.append(STATE_AFTER[state])
        phrase = " ".join(words)
        sort = data.get("sort")
        if sort and sort != self.filters.default_sort:
            phrase += f", sorted by {dict(SORT_CHOICES)[sort].lower()}"
        return phrase


def _inbox_url(lab: Lab, conference: Conference, params: QueryDict, *, at: str | None = None) -> str:
    query = params.copy()
    if at:
        query["at"] = at
    base = reverse("triage", args=[lab.slug, conference.slug])
    return f"{base}?{query.urlencode()}" if query else base


def _with_query(url: str, params: QueryDict) -> str:
    return f"{url}?{params.urlencode()}" if params else url


def _undo_key(lab: Lab, conference: Conference) -> str:
    return f"triage-undo-{lab.pk}-{conference.pk}"


def _notice_key(lab: Lab, conference: Conference) -> str:
    return f"triage-notice-{lab.pk}-{conference.pk}"


def _title(paper: Paper) -> str:
    return f"“{latex_to_text(paper.title)}”"


def _context(
    request: HttpRequest, lab: Lab, conference: Conference, queue: Queue, *, at: str | None, notice: str
) -> dict:
    user = request.user
    rows = list(queue.papers.values_list("pk", "forum_id"))
    forum_ids = [forum_id for _, forum_id in rows]
    index = forum_ids.index(at) if at in forum_ids else 0
    paper = None
    if rows:
        paper = Paper.objects.filter(pk=rows[index][0]).with_presentations().with_lab_signals(lab=lab, user=user).get()
        paper.conference = conference
    mine = ReadingStatus.objects.filter(paper=OuterRef("pk"), user=user).exclude(state=State.UNSEEN)
    progress = queue.scope.aggregate(total=Count("pk"), triaged=Count("pk", filter=Q(Exists(mine))))
    total, triaged = progress["total"], progress["triaged"]
    without_state = queue.params.copy()
    without_state["state"] = ""
    list_url = reverse("paper_list", args=[lab.slug, conference.slug])
    list_all = queue.params.copy()
    list_all.pop("state", None)
    filters = queue.params
    return {
        "lab": lab,
        "conference": conference,
        "paper": paper,
        "state": queue.state,
        "state_word": dict(STATE_CHOICES).get(queue.state, "").lower(),
        "has_filters": bool(list_all),
        "my_state_label": State(paper.signals.my_state).label if paper else "",
        "description": capfirst(queue.describe()) if queue.state else f"All {queue.describe()}",
        "scope_description": queue.describe(with_state=False, count=total),
        "position": index + 1,
        "queue_size": len(rows),
        "total": total,
        "triaged": triaged,
        "progress_text": f"{triaged:,} of {total:,} triaged",
        "notice": notice,
        "summary_max_length": SUMMARY_MAX_LENGTH,
        "here_url": _inbox_url(lab, conference, filters, at=paper.forum_id if paper else None),
        "previous_url": _inbox_url(lab, conference, filters, at=forum_ids[index - 1]) if index > 0 else "",
        "next_url": _inbox_url(lab, conference, filters, at=forum_ids[index + 1]) if index + 1 < len(rows) else "",
        "decide_url": _with_query(reverse("triage_decide", args=[lab.slug, conference.slug]), filters),
        "undo_url": _with_query(reverse("triage_undo", args=[lab.slug, conference.slug]), filters),
        "list_url": _with_query(list_url, queue.effective_params),
        "list_all_url": _with_query(list_url, list_all),
        "any_state_url": _inbox_url(lab, conference, without_state),
        "unfiltered_url": reverse("triage", args=[lab.slug, conference.slug]),
    }


def _render(request: HttpRequest, context: dict) -> HttpResponse:
    # htmx swaps the card alone; a history restore (the back button) needs the whole page.
    partial = request.htmx and not request.htmx.history_restore_request
    return render(request, "papers/triage.html#card" if partial else "papers/triage.html", context)


def _after_post(
    request: HttpRequest, lab: Lab, conference: Conference, queue: Queue, *, at: str | None, notice: str
) -> HttpResponse:
    """htmx: the next card, its URL in the address bar. Without JavaScript: back to the inbox (303)."""
    if request.htmx:
        context = _context(request, lab, conference, queue, at=at, notice=notice)
        response = _render(request, context)
        response["HX-Push-Url"] = context["here_url"]
        return response
    request.session[_notice_key(lab, conference)] = notice
    return HttpResponseRedirect(_inbox_url(lab, conference, queue.params, at=at), status=303)


@require_GET
@login_required
@vary_on_headers("HX-Request")
def triage(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    lab, conference = get_conference_for_member(request, lab_slug, conference_slug)
    queue = Queue.from_query(request.GET, lab=lab, user=request.user, conference=conference)
    notice = request.session.pop(_notice_key(lab, conference), "")
    return _render(request, _context(request, lab, conference, queue, at=request.GET.get("at"), notice=notice))


@require_POST
@login_required
def triage_decide(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    lab, conference = get_conference_for_member(request, lab_slug, conference_slug)
    action = request.POST.get("action", "")
    if action not in ACTION_STATES and action not in STAR_ACTIONS:
        return HttpResponseBadRequest(f"action must be one of: {', '.join([*ACTION_STATES, *STAR_ACTIONS])}.")
    paper = get_object_or_404(Paper, conference=conference, forum_id=request.POST.get("paper", ""))
    user = request.user
    queue = Queue.from_query(request.GET, lab=lab, user=user, conference=conference)

    before = ReadingStatus.objects.filter(user=user, paper=paper).first()
    if action in STAR_ACTIONS:
        # A star is not a triage decision: the same card stays, star on.
        after = services.set_star(user=user, paper=paper, starred=STAR_ACTIONS[action])
        at = paper.forum_id
    else:
        at = queue.next_after(paper)
        after = services.set_state(user=user, paper=paper, state=ACTION_STATES[action])
    # A repeated submit changes nothing, so it leaves nothing to undo either.
    if before is None or (before.state, before.starred) != (after.state, after.starred):
        stack = request.session.get(_undo_key(lab, conference), [])
        stack.append(
            {
                "forum_id": paper.forum_id,
                "state": before.state if before else State.UNSEEN,
                "starred": before.starred if before else False,
                "existed": before is not None,
            }
        )
        request.session[_undo_key(lab, conference)] = stack[-UNDO_DEPTH:]
    notice = f"{DONE[action]}: {_title(paper)}."
    return _after_post(request, lab, conference, queue, at=at, notice=notice)


@require_POST
@login_required
def triage_undo(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    lab, conference = get_conference_for_member(request, lab_slug, conference_slug)
    queue = Queue.from_query(request.GET, lab=lab, user=request.user, conference=conference)
    stack = request.session.get(_undo_key(lab, conference), [])
    at = request.POST.get("paper") or None  # with nothing to undo, the card stays
    if not stack:
        notice = "Nothing to undo."
    else:
        record = stack.pop()
        request.session[_undo_key(lab, conference)] = stack
        paper = Paper.objects.filter(conference=conference, forum_id=record["forum_id"]).first()
        if paper is None:
            notice = "Nothing to undo: that paper is no longer in the programme."
        else:
            services.restore_status(
                user=request.user,
                paper=paper,
                state=record["state"],
                starred=record["starred"],
                existed=record["existed"],
            )
            at = paper.forum_id
            notice = f"Undone: {_title(paper)} is back as it was."
    return _after_post(request, lab, conference, queue, at=at, notice=notice)
