from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect

from papers.views.system import healthz


def healthz_middleware(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """
    Answer /healthz before anything else: a load balancer probes over plain HTTP by IP address,
    which the HTTPS redirect and the host check would otherwise turn away.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return healthz(request)
        return get_response(request)

    return middleware


def htmx_login_redirect_middleware(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """
    When a session has expired, an htmx request would swap the whole login page into a row or a
    card. Tell htmx to go to the login page instead (HX-Redirect), coming back here afterwards.
    """
    login_path = resolve_url(settings.LOGIN_URL)

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if getattr(request, "htmx", False) and response.status_code == 302:
            location = response.get("Location", "")
            if location.startswith(login_path):
                return HttpResponseClientRedirect(location)
        return response

    return middleware
