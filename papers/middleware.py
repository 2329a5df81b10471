import logging
import sqlite3
import sys
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.signals import got_request_exception
from django.db.utils import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
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


# --- The database is briefly away ------------------------------------------------------------------------

RETRY_AFTER_SECONDS = 5
OUTAGE_LOG_INTERVAL_SECONDS = 10.0
# SQLite raises OperationalError for bugs too ("no such table", syntax errors): only these mean "away".
SQLITE_UNAVAILABLE = (
    "unable to open database file",
    "database is locked",
    "database table is locked",
    "disk i/o error",
)

logger = logging.getLogger(__name__)


def is_database_unavailable(error: BaseException | None) -> bool:
    """
    Whether an exception means the database cannot answer just now (restarting, unreachable, out of
    connections, a lost connection), so that trying again in a moment is the right advice.
    PostgreSQL's OperationalErrors are all such runtime conditions; SQLite's also cover bugs.
    """
    if isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    if isinstance(cause, sqlite3.Error):
        return str(cause).lower().startswith(SQLITE_UNAVAILABLE)
    return True


class _OutageLog:
    """One log line per interval and process, however many requests fail: an outage is not a log storm."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.last: float | None = None
        self.unlogged = 0

    def record(self, request: HttpRequest, error: BaseException) -> None:
        now = time.monotonic()
        with self.lock:
            if self.last is not None and now - self.last < OUTAGE_LOG_INTERVAL_SECONDS:
                self.unlogged += 1
                return
            unlogged, self.unlogged, self.last = self.unlogged, 0, now
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        more = f" (and {unlogged} more 503s since the last line)" if unlogged else ""
        logger.warning("Database unavailable, answering 503 to %s %s: %s%s", request.method, request.path, reason, more)


outage_log = _OutageLog()


class _AnsweredWith503(logging.Filter):
    """Django's request logger would log a traceback for each error raised in a middleware; the 503 has its line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and is_database_unavailable(record.exc_info[1]))


answered_with_503 = _AnsweredWith503()


def database_unavailable_response(request: HttpRequest, error: BaseException) -> HttpResponse:
    """
    The 503 page (or, for htmx, its message alone and no swap), rendered without the request: no
    context processor runs, so nothing reads the session, the user or anything else in the database.
    """
    outage_log.record(request, error)
    htmx = request.headers.get("HX-Request") == "true"
    template = "503.html#message" if htmx else "503.html"
    response = HttpResponse(render_to_string(template, {"retry_after": RETRY_AFTER_SECONDS}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    if htmx:
        response["HX-Reswap"] = "none"  # keep the page as it is; static/js/iclrnotes.js shows a toast
    # Django's request logger would add an ERROR line for every 503; the line above speaks for them all.
    response._has_been_logged = True
    return response


class DatabaseUnavailableMiddleware:
    """
    While the database is unreachable, every request gets the friendly 503 with Retry-After instead of
    a 500 and a traceback, and the app recovers by itself when the database returns (Django drops a
    broken connection at the end of the request; CONN_HEALTH_CHECKS replaces a stale one).

    The session and the user are loaded lazily, at their first use in a view or a template, so
    `process_exception` sees those errors too. An error raised by another middleware itself (the
    session saved on the way out, say) never reaches here as an exception: Django turns it into a 500
    at that middleware's layer. The `got_request_exception` receiver below marks the request then, and
    this middleware, placed outside them all, answers the same 503 in place of that 500.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        logging.getLogger("django.request").addFilter(answered_with_503)  # once: the same filter is not added twice

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        error = getattr(request, "database_unavailable_error", None)
        if error is not None and response.status_code == 500:
            return database_unavailable_response(request, error)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_unavailable(exception):
            return database_unavailable_response(request, exception)
        return None


@receiver(got_request_exception, dispatch_uid="papers.middleware.remember_database_unavailable")
def remember_database_unavailable(sender, request: HttpRequest | None = None, **kwargs) -> None:
    """Sent while Django handles an exception that no view-level handler took: keep it if it is ours."""
    error = sys.exc_info()[1]
    if request is not None and is_database_unavailable(error):
        request.database_unavailable_error = error
