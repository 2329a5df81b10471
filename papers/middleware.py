from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
