"""The keyboard triage inbox (built in the next step)."""

from django.http import HttpRequest, HttpResponse


def triage(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    raise NotImplementedError


def triage_decide(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    raise NotImplementedError


def triage_undo(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    raise NotImplementedError
