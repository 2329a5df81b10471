"""The paper page: the paper, my triage of it, the lab's view of it, and the notes I may see."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from papers import recommend, versions
from papers.access import get_lab_for_member
from papers.forms import NoteForm
from papers.models import Lab, Membership, Note, Paper, ReadingStatus, User

TEMPLATE = "papers/paper_page.html"  # the page's content, and its parts for htmx
LAYOUT = "papers/paper_detail.html"  # the content in the site's layout
SIMILAR_SHOWN = 8

# htmx refreshes one part of the page by naming it as the request's target (the partial's element id):
# the note list when an edit is cancelled, the lab's view after my star or state changed.
PARTS = {"paper-note-list": "note-list", "paper-lab-view": "lab-view"}

# The headings of the note groups, in the order a reader wants them: what it is about, then the rest.
NOTE_GROUP_TITLES = {
    Note.Kind.SUMMARY: "One-liners",
    Note.Kind.NOTE: "Notes",
    Note.Kind.TODO: "To do",
    Note.Kind.QUESTION: "Questions",
    Note.Kind.FOLLOW_UP: "Follow-up reading",
}


@dataclass(frozen=True)
class NoteGroup:
    kind: str
    title: str
    notes: list[Note]


@dataclass(frozen=True)
class LabViewRow:
    """One member of the lab and what they did with the paper (no status: not triaged yet)."""

    membership: Membership
    status: ReadingStatus | None

    @property
    def user(self) -> User:
        return self.membership.user

    @property
    def is_owner(self) -> bool:
        return self.membership.role == Membership.Role.OWNER

    @property
    def starred(self) -> bool:
        return bool(self.status and self.status.starred)

    @property
    def state(self) -> str:
        return self.status.state if self.status else ReadingStatus.State.UNSEEN

    @property
    def state_label(self) -> str:
        return ReadingStatus.State(self.state).label


def load_paper(*, lab: Lab, user: User, **lookup) -> Paper:
    """The paper with everything its page shows, in a fixed number of queries; 404 if there is none."""
    papers = Paper.objects.select_related("conference").with_presentations().with_lab_signals(lab=lab, user=user)
    return get_object_or_404(papers, **lookup)


def note_groups(notes: list[Note]) -> list[NoteGroup]:
    """The visible notes by kind, each group oldest first (newest last)."""
    ordered = sorted(notes, key=lambda note: (note.created_at, note.pk))
    return [
        NoteGroup(kind=kind, title=title, notes=[note for note in ordered if note.kind == kind])
        for kind, title in NOTE_GROUP_TITLES.items()
        if any(note.kind == kind for note in ordered)
    ]


def lab_view(lab: Lab, paper: Paper) -> list[LabViewRow]:
    """Every member of the lab, owners first, with their star and state from the prefetched statuses."""
    statuses = {status.user_id: status for status in paper.lab_statuses}
    return [
        LabViewRow(membership=membership, status=statuses.get(membership.user_id))
        for membership in lab.memberships.owners_first()
    ]


def notes_context(lab: Lab, paper: Paper, *, note_form: NoteForm | None = None) -> dict:
    """What the notes section needs (the paper from load_paper)."""
    return {
        "lab": lab,
        "conference": paper.conference,
        "paper": paper,
        "paper_url": paper.get_absolute_url_for(lab),
        "note_groups": note_groups(paper.signals.notes),
        "note_form": note_form or NoteForm(lab=lab),
    }


def paper_page_body(
    request: HttpRequest, lab: Lab, paper: Paper, *, note_form: NoteForm | None = None, deleted_note: Note | None = None
) -> str:
    """The page's content (the paper from load_paper), without the site's layout."""
    context = _context(lab, paper, note_form=note_form, deleted_note=deleted_note)
    # "More like this", and why it is suggested to me.
    context["similar"] = list(
        recommend.similar_papers(paper, limit=SIMILAR_SHOWN).with_lab_signals(lab=lab, user=request.user)
    )
    context["like_mine"] = recommend.why(paper, user=request.user)
    return render_to_string(TEMPLATE, context, request)


def render_paper_page(
    request: HttpRequest,
    lab: Lab,
    paper: Paper,
    *,
    note_form: NoteForm | None = None,
    status: int = 200,
    deleted_note: Note | None = None,
) -> HttpResponse:
    """The page, or the part of it that htmx asks for (the paper from load_paper)."""
    part = _part(request)
    if part is not None:
        context = _context(lab, paper, note_form=note_form, deleted_note=deleted_note)
        return render(request, f"{TEMPLATE}#{part}", context, status=status)
    body = paper_page_body(request, lab, paper, note_form=note_form, deleted_note=deleted_note)
    return _in_layout(request, lab, paper, body, status=status)


def _context(lab: Lab, paper: Paper, *, note_form: NoteForm | None, deleted_note: Note | None) -> dict:
    return {
        **notes_context(lab, paper, note_form=note_form),
        "lab_view": lab_view(lab, paper),
        "next_url": paper.get_absolute_url_for(lab),
        "deleted_note": deleted_note,
    }


def _part(request: HttpRequest) -> str | None:
    return PARTS.get(request.htmx.target) if request.htmx and not request.htmx.history_restore_request else None


def _in_layout(request: HttpRequest, lab: Lab, paper: Paper, body: str, *, status: int = 200) -> HttpResponse:
    context = {"lab": lab, "conference": paper.conference, "paper": paper, "body_html": body}
    return render(request, LAYOUT, context, status=status)


@require_GET
@login_required
@vary_on_headers("HX-Request", "HX-Target")
def paper_detail(request: HttpRequest, lab_slug: str, conference_slug: str, forum_id: str) -> HttpResponse:
    """
    The paper's page. As it stands (no part for htmx, no deleted note to undo, no message to show once), the
    whole page is cached per member (and CSRF secret: its forms carry a token for it) until the lab or the
    programme changes.
    """
    lab, _ = get_lab_for_member(request, lab_slug)
    deleted = request.GET.get("deleted", "")
    if not deleted and _part(request) is None and not len(get_messages(request)):
        # The key needs no abstract nor search data: the cached page shows them.
        paper = get_object_or_404(
            Paper.objects.select_related("conference").for_rows(), conference__slug=conference_slug, forum_id=forum_id
        )
        page = versions.cached(
            "paper-page",
            lambda: render_paper_page(request, lab, load_paper(lab=lab, user=request.user, pk=paper.pk)).content,
            lab=lab,
            conference=paper.conference,
            vary=(*versions.for_member(request), paper.pk),
        )
        return HttpResponse(page)
    paper = load_paper(lab=lab, user=request.user, conference__slug=conference_slug, forum_id=forum_id)
    # Back from deleting a note without JavaScript: "Note deleted. Undo", while the undo lasts.
    deleted_note = (
        Note.all_objects.undoable(author=request.user).filter(pk=deleted, paper=paper).first()
        if re.fullmatch(r"[0-9]{1,18}", deleted)
        else None
    )
    return render_paper_page(request, lab, paper, deleted_note=deleted_note)
