"""
The site's URLs and, for the load benchmark only, two views that do nothing but what every lab page does
first: the middleware, the session and the user (`floor/`, a GET), and a write of one row in a transaction
(`floor/write/`, a POST with its CSRF check). Their throughput is the ceiling of any page's and of any write's.
"""

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from iclrnotes.urls import urlpatterns as site
from papers.models import User


@require_GET
@login_required
def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


@require_POST
@login_required
def floor_write(request: HttpRequest) -> HttpResponse:
    with transaction.atomic():
        User.objects.filter(pk=request.user.pk).update(last_login=F("last_login"))
    return HttpResponse("ok")


urlpatterns = [path("floor/", floor), path("floor/write/", floor_write), *site]
