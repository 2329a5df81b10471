"""
Browser-side hardening that Django 5.2 does not ship: the Content-Security-Policy header, and the
client address that login throttling (django-axes) counts failures against.

The policy is one fixed string for the whole site (no nonces, no per-view exceptions, no report
endpoint), so a few lines of middleware do it; django-csp would add a dependency and a settings
vocabulary for features we do not use. Django 6 has CSP built in: move to it then.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# Everything the app loads is its own: one stylesheet, htmx and two small scripts, all from static/.
# No inline script or style anywhere (htmx is told not to inject its indicator <style> and not to
# eval, see base.html), so neither 'unsafe-inline' nor 'unsafe-eval' is needed. img-src allows data:
# URLs because the admin's and the browser's own small icons come as data: URLs in CSS.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


def content_security_policy_middleware(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """
    Send the policy with every response (pages, htmx fragments, exports, static files): a file
    that a browser renders as HTML by mistake is as locked down as a page.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if settings.DEBUG and response.status_code in {404, 500}:
            # With DEBUG, these are Django's own error pages, built from inline <style> and <script>:
            # under the policy a developer would get an unstyled page with dead buttons.
            return response
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response

    return middleware


def client_ip_address(request: HttpRequest) -> str:
    """
    The address that failed log-ins are counted against (AXES_CLIENT_IP_CALLABLE).

    Behind the TLS-terminating proxy (SECURE_PROXY_SSL_HEADER on), every request comes from the
    proxy, which appends the real client to X-Forwarded-For: take the last address, the one our own
    proxy wrote. The ones before it are whatever the client sent and could be made up to dodge the
    lock-out. Without a proxy, X-Forwarded-For is ignored altogether.
    """
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if forwarded[-1]:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR", "")
