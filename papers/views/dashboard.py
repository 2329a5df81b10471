"""The lab's dashboard for a conference (built in the next step)."""

from django.http import HttpRequest, HttpResponse


def dashboard(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    raise NotImplementedError
