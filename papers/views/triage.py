"""
The keyboard triage inbox: one paper at a time from the list's filters (my untriaged papers unless the
URL asks for another state), decided with a key, a click or a tap, with an undo stack in the session.
"""

from __future__ import annotations

from functools import cached_property
from typing import NamedTuple

from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, QuerySet, Value
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from papers import services, versions
from papers.access import get_conference_for_member
from papers.filters import STATE_CHOICES, PaperFilter, active_filters
from papers.forms import SUMMARY_MAX_LENGTH, NoteEditForm, TriageDecisionForm, TriageUndoForm, first_error
from papers.latex import latex_to_text
from papers.models import Assignment, Conference, Lab, Paper, ReadingStatus, User

# The inbox shows what I have not triaged yet unless the URL names a state (`state=` for any).
DEFAULT_STATE = "unseen"
UNDO_DEPTH = 50

State = ReadingStatus.State
DONE = {
    "skip": "Skipped",
    "shortlist": "Shortlisted",
    "reading": "Marked as reading",
    "read": "Marked as read",
    "star": "Starred",
    "unstar": "Unstarred",
}
# The head of the queue's description; the other filters follow as the list's chips name them.
STATE_PHRASES = {
    "": "All papers",
    "unseen": "Unseen papers",
    "skipped": "Skipped papers",
    "shortlisted": "Shortlisted papers",
    "reading": "Papers I am reading",
    "read": "Papers I have read",
}


class Row(NamedTuple):
    """One filtered paper, in the list's order: is it in the queue (my chosen state), have I triaged it."""

    pk: int
    forum_id: str
    queued: bool
    triaged: bool


class Queue:
    """
    The inbox's papers: the list's filters (the scope, which the progress bar counts) and, within them,
    the queue (the scope in my chosen state). Nothing is read until it is needed, and the scope's rows
    are read once per request.
    """

    def __init__(self, data: QueryDict, *, lab: Lab, user: User, conference: Conference) -> None:
        self.data = data
        state = data.get("state", DEFAULT_STATE)
        self.state = state if state in dict(STATE_CHOICES) else ""  # an unknown state filters nothing, as on the list
        self.lab, self.user, self.conference = lab, user, conference

    @cached_property
    def params(self) -> QueryDict:
        """The filters as the URL gives them, without the inbox's own `at`; my slice when the lab split."""
        params = self.data.copy()
        for own in ("at", "page"):
            params.pop(own, None)
        # When the lab has split the conference, my inbox starts with my slice (?slice= shows all).
        if (
            "slice" not in params
            and Assignment.objects.filter(lab=self.lab, user=self.user, paper__conference=self.conference).exists()
        ):
            params["slice"] = "mine"
        return params

    @cached_property
    def filters(self) -> PaperFilter:
        """Every filter but the state, which the rows apply with the FilterSet's own method."""
        others = self.params.copy()
        others.pop("state", None)
        papers = Paper.objects.for_conference(self.conference)
        return PaperFilter(others, queryset=papers, lab=self.lab, user=self.user, conference=self.conference)

    @cached_property
    def rows(self) -> list[Row]:
        # The whole scope's rows (every paper of the conference, unfiltered): read once per version of the
        # lab and the programme for this member and these filters (papers.versions); a decision bumps it.
        return versions.cached(
            "inbox-rows",
            lambda: self._read(self.filters.qs),
            lab=self.lab,
            conference=self.conference,
            vary=(self.user.pk, self.state, sorted(self.params.lists())),
        )

    def _read(self, scope: QuerySet) -> list[Row]:
        # filter_state on the one paper of each row: the list's rule for a state, not a copy of it.
        if self.state:
            this_paper = Paper.objects.filter(pk=OuterRef("pk"))
            queued = Exists(self.filters.filter_state(this_paper, "state", self.state))
        else:
            queued = Value(True)
        triaged = Exists(ReadingStatus.objects.triaged().filter(paper=OuterRef("pk"), user=self.user))
        rows = scope.annotate(in_queue=queued, triaged_by_me=triaged)
        return [Row(*values) for values in rows.values_list("pk", "forum_id", "in_queue", "triaged_by_me")]

    def reread(self, paper: Paper) -> None:
        """After my decision on a paper: its row again (it may have left the queue, even the scope), not all."""
        if "rows" not in self.__dict__:
            return  # not read yet: it will be read as it is now
        fresh = self._read(self.filters.qs.filter(pk=paper.pk))  # [] once it has left the scope
        at = next((index for index, row in enumerate(self.rows) if row.pk == paper.pk), None)
        if at is not None:
            self.rows[at : at + 1] = fresh

    @property
    def queued(self) -> list[Row]:
        return [row for row in self.rows if row.queued]

    def next_after(self, paper: Paper) -> str | None:
        """
        The forum id of the paper after this one, in the queue's order before a decision on it. The paper
        counts as queued even once it has left the queue, so that a repeated submit moves on to the
        same paper as the first did.
        """
        order = [row.forum_id for row in self.rows if row.queued or row.pk == paper.pk]
        if paper.forum_id not in order:
            return None
        position = order.index(paper.forum_id)
        return order[position + 1] if position + 1 < len(order) else None

    @cached_property
    def filter_words(self) -> str:
        """The filters in use as the list's chips show them, e.g. "Tier: Spotlight · Day: Tue 7 May"."""
        return " · ".join(f"{label}: {shown}" for label, shown, _ in active_filters(self.filters))

    def describe(self) -> str:
        """The queue in words, e.g. "Unseen papers · Tier: Spotlight · Day: Tue 7 May · Sort: Schedule time"."""
        words = [STATE_PHRASES[self.state], self.filter_words]
        sort = self.filters.form.cleaned_data.get("sort")
        if sort and sort != self.filters.default_sort:
            field = self.filters.form["sort"]
            words.append(f"{field.label}: {dict(field.field.choices)[sort]}")
        return " · ".join(word for word in words if word)


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


def _one_liner(lab: Lab, conference: Conference, paper: Paper) -> dict:
    """
    The card's one-liner box. My one-liner may be private or shared with another of my labs: saving it
    here edits it where it is (its visibility as the note editor would preselect it), it never moves it.
    """
    note = paper.signals.my_summary
    if note is None:
        url = reverse("note_add", args=[lab.slug, conference.slug, paper.forum_id])
        return {"summary": None, "summary_url": url, "summary_audience": "the lab sees it"}
    url = reverse("note_edit", args=[lab.slug, conference.slug, paper.forum_id, note.pk])
    return {
        "summary": note,
        "summary_url": url,
        "summary_visibility": NoteEditForm(lab=lab, note=note)["visibility"].value(),
        "summary_audience": "private" if note.is_private else f"shared with {note.lab.name}",
    }


def _head(lab: Lab, conference: Conference, queue: Queue) -> dict:
    """What the page shows around the card: the queue in words and the same papers as a list."""
    list_url = reverse("paper_list", args=[lab.slug, conference.slug])
    return {
        "lab": lab,
        "conference": conference,
        "description": queue.describe(),
        "list_url": _with_query(list_url, _with_default_state(queue.params)),
    }


def _context(
    request: HttpRequest, lab: Lab, conference: Conference, queue: Queue, *, at: str | None, notice: str
) -> dict:
    # The paper asked for stays on the card even once it has left the queue (just starred, which
    # shortlists it; or undone into a state the queue does not show).
    queued = [row for row in queue.rows if row.queued or row.forum_id == at]
    forum_ids = [row.forum_id for row in queued]
    index = forum_ids.index(at) if at in forum_ids else 0
    paper = None
    if queued:
        papers = Paper.objects.filter(pk=queued[index].pk).with_presentations()
        paper = papers.with_lab_signals(lab=lab, user=request.user).get()
        paper.conference = conference
    total, triaged = len(queue.rows), sum(row.triaged for row in queue.rows)
    without_state = queue.params.copy()
    without_state["state"] = ""
    list_url = reverse("paper_list", args=[lab.slug, conference.slug])
    list_all = queue.params.copy()
    list_all.pop("state", None)
    filters = queue.params
    stack = request.session.get(_undo_key(lab, conference), [])
    return {
        "lab": lab,
        "conference": conference,
        "paper": paper,
        "state": queue.state,
        "state_word": dict(STATE_CHOICES).get(queue.state, "").lower(),
        "filter_words": queue.filter_words,
        "my_state_label": State(paper.signals.my_state).label if paper else "",
        "position": index + 1,
        "queue_size": len(queued),
        "total": total,
        "triaged": triaged,
        "progress_text": f"{triaged:,} of {total:,} triaged",
        "notice": notice,
        # The undo button names the change it undoes: a second click sent before the page changed
        # (no JavaScript) no longer matches, and undoes nothing more.
        "undo_forum_id": stack[-1]["forum_id"] if stack else "",
        "undo_depth": len(stack),
        "summary_max_length": SUMMARY_MAX_LENGTH,
        **(_one_liner(lab, conference, paper) if paper else {}),
        "here_url": _inbox_url(lab, conference, filters, at=paper.forum_id if paper else None),
        "previous_url": _inbox_url(lab, conference, filters, at=forum_ids[index - 1]) if index > 0 else "",
        "next_url": _inbox_url(lab, conference, filters, at=forum_ids[index + 1]) if index + 1 < len(queued) else "",
        "decide_url": _with_query(reverse("triage_decide", args=[lab.slug, conference.slug]), filters),
        "undo_url": _with_query(reverse("triage_undo", args=[lab.slug, conference.slug]), filters),
        "list_all_url": _with_query(list_url, list_all),
        "any_state_url": _inbox_url(lab, conference, without_state),
        "unfiltered_url": reverse("triage", args=[lab.slug, conference.slug]),
    }


def _with_default_state(params: QueryDict) -> QueryDict:
    """The filters with the default state spelled out: the list shows the same papers with these."""
    params = params.copy()
    params.setdefault("state", DEFAULT_STATE)
    return params


PAGE, CARD = "papers/triage.html", "papers/triage_card.html"


def _card(request: HttpRequest, context: dict) -> str:
    return render_to_string(CARD, context, request)


def _render(request: HttpRequest, lab: Lab, conference: Conference, queue: Queue, card: str) -> HttpResponse:
    """The card alone for htmx; the whole page (also for a history restore: the back button) otherwise."""
    if request.htmx and not request.htmx.history_restore_request:
        return HttpResponse(card)
    return render(request, PAGE, {**_head(lab, conference, queue), "card_html": card})


def _after_post(
    request: HttpRequest,
    lab: Lab,
    conference: Conference,
    queue: Queue,
    *,
    at: str | None,
    notice: str,
    changed: Paper | None = None,
) -> HttpResponse:
    """htmx: the next card, its URL in the address bar. Without JavaScript: back to the inbox (303)."""
    if request.htmx:
        if changed is not None:
            queue.reread(changed)
        context = _context(request, lab, conference, queue, at=at, notice=notice)
        response = _render(request, lab, conference, queue, _card(request, context))
        response["HX-Push-Url"] = context["here_url"]
        return response
    request.session[_notice_key(lab, conference)] = notice
    return HttpResponseRedirect(_inbox_url(lab, conference, queue.params, at=at), status=303)


@require_GET
@login_required
@vary_on_headers("HX-Request")
def triage(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    """
    The inbox at a paper. Its card is cached (papers.versions) by the lab's and the programme's versions for
    this member, URL and undo stack; a notice left by a decision without JavaScript is shown once, uncached.
    """
    lab, conference = get_conference_for_member(request, lab_slug, conference_slug)
    queue = Queue(request.GET, lab=lab, user=request.user, conference=conference)
    notice = request.session.pop(_notice_key(lab, conference), "")
    at = request.GET.get("at")
    if notice:
        return _render(
            request,
            lab,
            conference,
            queue,
            _card(request, _context(request, lab, conference, queue, at=at, notice=notice)),
        )
    stack = request.session.get(_undo_key(lab, conference), [])
    card = versions.cached(
        "inbox-card",
        lambda: _card(request, _context(request, lab, conference, queue, at=at, notice="")),
        lab=lab,
        conference=conference,
        vary=(
            *versions.for_member(request),
            request.get_full_path(),
            len(stack),
            stack[-1]["forum_id"] if stack else "",
        ),
    )
    return _render(request, lab, conference, queue, card)


@require_POST
@login_required
def triage_decide(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    lab, conference = get_conference_for_member(request, lab_slug, conference_slug)
    form = TriageDecisionForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(first_error(form))
    action = form.cleaned_data["action"]
    paper = get_object_or_404(Paper, conference=conference, forum_id=form.cleaned_data["paper"])
    queue = Queue(request.GET, lab=lab, user=request.user, conference=conference)
    # A star is not a triage decision: the same card stays. A decision moves on to the paper that came
    # after this one, so the queue is read before the decision changes it.
    at = paper.forum_id if action in services.TRIAGE_ACTION_STARS else queue.next_after(paper)
    record = services.triage_decide(user=request.user, paper=paper, action=action)
    if record is not None:  # a repeated submit changes nothing, so it leaves nothing to undo either
        stack = request.session.get(_undo_key(lab, conference), [])
        request.session[_undo_key(lab, conference)] = [*stack, record][-UNDO_DEPTH:]
    notice = f"{DONE[action]}: {_title(paper)}."
    return _after_post(request, lab, conference, queue, at=at, notice=notice, changed=paper)


@require_POST
@login_required
def triage_undo(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    lab, conference = get_conference_for_member(request, lab_slug, conference_slug)
    form = TriageUndoForm(request.POST)
    form.is_valid()  # every field is optional: one that does not validate is left out, and matches nothing
    asked = form.cleaned_data
    queue = Queue(request.GET, lab=lab, user=request.user, conference=conference)
    stack = request.session.get(_undo_key(lab, conference), [])
    at = asked.get("paper") or None  # with nothing to undo, the card stays
    if not stack or (stack[-1]["forum_id"], len(stack)) != (asked.get("undo"), asked.get("depth")):
        notice = "Nothing to undo."
    else:
        record = stack.pop()
        request.session[_undo_key(lab, conference)] = stack
        paper = Paper.objects.filter(conference=conference, forum_id=record["forum_id"]).first()
        if paper is None:
            notice = "Nothing to undo: that paper is no longer in the programme."
        else:
            # As for a decision: the rows as they were (cached under the versions this request read), then
            # the undone paper's row again.
            queue.rows  # noqa: B018
            services.triage_undo(user=request.user, paper=paper, record=record)
            at = paper.forum_id
            notice = f"Undone: {_title(paper)} is back as it was."
            return _after_post(request, lab, conference, queue, at=at, notice=notice, changed=paper)
    return _after_post(request, lab, conference, queue, at=at, notice=notice)
