"""
Notes on a paper: add, edit, tick, delete. Each answers htmx with the part of the paper page it changed
and a plain form post with a redirect back, so everything works without JavaScript too.

A member may only change their own notes; anyone else's note, or one they cannot see, is a 404 (not a
403), so that a note's existence does not leak.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from papers import services
from papers.access import get_paper_for_member
from papers.forms import NoteEditForm, NoteForm
from papers.models import Lab, Note, Paper
from papers.views.paper_page import TEMPLATE, load_paper, notes_context, render_paper_page
from papers.views.papers import safe_next

EDIT_TEMPLATE = "papers/notes/note_edit.html"


def _my_note(request: HttpRequest, lab: Lab, paper: Paper, note_id: int, *, even_deleted: bool = False) -> Note:
    """
    The requesting member's own note on this paper, or a 404. even_deleted: also one deleted and waiting
    for its undo (a repeated delete, the undo itself, an edit posted from a tab opened before the deletion).
    """
    notes = (Note.all_objects if even_deleted else Note.objects).visible_to(user=request.user, lab=lab)
    return get_object_or_404(notes.select_related("author", "lab"), pk=note_id, paper=paper, author=request.user)


def _note_url(lab: Lab, paper: Paper, note: Note) -> str:
    return f"{paper.get_absolute_url_for(lab)}#note-{note.pk}"


def _render_note(request: HttpRequest, lab: Lab, paper: Paper, note: Note) -> HttpResponse:
    """One note as the page shows it (htmx swaps it in place of its editor or its old self)."""
    context = {"lab": lab, "conference": paper.conference, "paper": paper, "note": note}
    return render(request, f"{TEMPLATE}#note", context)


def _render_part(
    request: HttpRequest, lab: Lab, paper: Paper, part: str, *, note_form: NoteForm | None = None, **extra
) -> HttpResponse:
    """A part of the notes section again, with the lab's signals (the note count) out of band."""
    paper = load_paper(lab=lab, user=request.user, pk=paper.pk)
    context = {**notes_context(lab, paper, note_form=note_form), "oob": True, **extra}
    return render(request, f"{TEMPLATE}#{part}", context)


@require_POST
@login_required
def note_add(request: HttpRequest, lab_slug: str, conference_slug: str, forum_id: str) -> HttpResponse:
    lab, paper = get_paper_for_member(request, lab_slug, conference_slug, forum_id)
    form = NoteForm(request.POST, lab=lab)
    if not form.is_valid():
        if request.htmx:  # 200, or htmx would not swap the errors in
            return _render_part(request, lab, paper, "notes", note_form=form)
        full = load_paper(lab=lab, user=request.user, pk=paper.pk)
        return render_paper_page(request, lab, full, note_form=form, status=400)
    kind, body = form.cleaned_data["kind"], form.cleaned_data["body"]
    values = {"author": request.user, "paper": paper, "lab": form.note_lab(), "kind": kind, "body": body}
    note = services.add_note(**values)
    if request.htmx:
        return _render_part(request, lab, paper, "notes")  # with an empty form for the next note
    return redirect(safe_next(request, _note_url(lab, paper, note)))


def _render_edit(
    request: HttpRequest,
    lab: Lab,
    paper: Paper,
    note: Note,
    form: NoteEditForm,
    *,
    current: Note | None = None,
    status: int = 200,
) -> HttpResponse:
    """The note's editor: in place of the note for htmx, or as a page of its own without JavaScript."""
    context = {"lab": lab, "conference": paper.conference, "paper": paper, "note": note, "form": form}
    context |= {"current": current, "paper_url": paper.get_absolute_url_for(lab)}
    if request.htmx:
        return render(request, f"{EDIT_TEMPLATE}#note-form", context)  # 200, so that htmx swaps it in
    return render(request, EDIT_TEMPLATE, context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def note_edit(request: HttpRequest, lab_slug: str, conference_slug: str, forum_id: str, note_id: int) -> HttpResponse:
    lab, paper = get_paper_for_member(request, lab_slug, conference_slug, forum_id)
    if request.method == "GET":
        note = _my_note(request, lab, paper, note_id)
        return _render_edit(request, lab, paper, note, NoteEditForm(lab=lab, note=note))
    # An edit posted after the note was deleted (in another tab) is refused below, with the draft kept.
    note = _my_note(request, lab, paper, note_id, even_deleted=True)

    form = NoteEditForm(request.POST, lab=lab, note=note)
    if not form.is_valid():
        return _render_edit(request, lab, paper, note, form, status=400)
    body, new_lab = form.cleaned_data["body"], form.note_lab()
    try:
        note = services.edit_note(
            note=note, editor=request.user, body=body, lab=new_lab, version=form.cleaned_data["version"]
        )
    except services.StaleEdit as stale:
        # Nothing was saved. Show the text as it is now and keep the draft, based on the current version:
        # saving it again is then a deliberate choice. A note deleted meanwhile keeps the draft on screen
        # too, to copy (saving it again is refused the same way).
        current = Note.objects.filter(pk=note.pk).first()
        version = current.version if current else form.cleaned_data["version"]
        form = NoteEditForm({**request.POST.dict(), "version": version}, lab=lab, note=current or note)
        form.add_error(None, str(stale))
        return _render_edit(request, lab, paper, current or note, form, current=current, status=409)
    if request.htmx:
        return _render_note(request, lab, paper, note)
    return redirect(safe_next(request, _note_url(lab, paper, note)))


@require_POST
@login_required
def note_done(request: HttpRequest, lab_slug: str, conference_slug: str, forum_id: str, note_id: int) -> HttpResponse:
    lab, paper = get_paper_for_member(request, lab_slug, conference_slug, forum_id)
    note = _my_note(request, lab, paper, note_id)
    if note.kind != Note.Kind.TODO:
        return HttpResponseBadRequest("Only a to-do can be ticked.")
    done = request.POST.get("done")
    if done not in {"0", "1"}:
        return HttpResponseBadRequest("done must be 1 or 0.")
    note = services.set_todo_done(note=note, editor=request.user, done=done == "1")  # a set: safe to repeat
    if request.htmx:
        return _render_note(request, lab, paper, note)
    return redirect(safe_next(request, _note_url(lab, paper, note)))


@require_POST
@login_required
def note_delete(request: HttpRequest, lab_slug: str, conference_slug: str, forum_id: str, note_id: int) -> HttpResponse:
    """Delete my note; the page then says "Note deleted. Undo" for NOTE_UNDO_WINDOW (a second click is harmless)."""
    lab, paper = get_paper_for_member(request, lab_slug, conference_slug, forum_id)
    note = _my_note(request, lab, paper, note_id, even_deleted=True)
    try:
        note = services.delete_note(note=note, editor=request.user)
    except services.NoteGone:
        raise Http404("No such note.") from None
    if request.htmx:
        return _render_part(request, lab, paper, "note-list", deleted_note=note)
    # The paper page shows the undo for this note (papers.views.paper_page reads ?deleted=).
    return redirect(f"{paper.get_absolute_url_for(lab)}?{urlencode({'deleted': note.pk})}#paper-notes")


@require_POST
@login_required
def note_restore(
    request: HttpRequest, lab_slug: str, conference_slug: str, forum_id: str, note_id: int
) -> HttpResponse:
    """Undo a deletion: the note is back as it was. Too late (or a second click after): said, not an error page."""
    lab, paper = get_paper_for_member(request, lab_slug, conference_slug, forum_id)
    _my_note(request, lab, paper, note_id, even_deleted=True)
    try:
        note = services.restore_note(note_id=note_id, editor=request.user)
    except services.NoteGone as gone:
        if request.htmx:
            return _render_part(request, lab, paper, "note-list", notes_notice=str(gone))
        messages.error(request, str(gone))
        return redirect(f"{paper.get_absolute_url_for(lab)}#paper-notes")
    if request.htmx:
        return _render_part(request, lab, paper, "note-list", notes_notice="Note restored.")
    return redirect(_note_url(lab, paper, note))
