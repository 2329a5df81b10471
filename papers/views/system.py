from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and benchmarks: touches no database and needs no login."""
    return HttpResponse("ok", content_type="text/plain")
