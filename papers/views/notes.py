"""Notes on a paper: add, edit, tick, delete (built in the next step)."""

from django.http import HttpRequest, HttpResponse


def note_add(request: HttpRequest, lab_slug: str, conference_slug: str, forum_id: str) -> HttpResponse:
    raise NotImplementedError


def note_edit(request: HttpRequest, lab_slug: str, conference_slug: str, forum_id: str, note_id: int) -> HttpResponse:
    raise NotImplementedError


def note_done(request: HttpRequest, lab_slug: str, conference_slug: str, forum_id: str, note_id: int) -> HttpResponse:
    raise NotImplementedError


def note_delete(request: HttpRequest, lab_slug: str, conference_slug: str, forum_id: str, note_id: int) -> HttpResponse:
    raise NotImplementedError
