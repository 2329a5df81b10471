"""
What a security scanner and an attacker try: the response headers (a strict Content-Security-Policy
and the rest), templates that need no inline code, CSRF on every state-changing request (htmx
included), login throttling (django-axes), and authorization on every URL of the project.
"""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.html import escape

from papers import services
from papers.models import Invite, Membership, Note, ReadingStatus
from tests.factories import UserFactory
from tests.test_authorization import REQUESTS

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
}
LOCKED_OUT = "Too many failed log-ins for this account. Try again in 15 minutes, or ask an administrator to unlock it."


def security_headers(response) -> dict[str, str | None]:
    return {name: response.headers.get(name) for name in HEADERS}


# ---- Headers -----------------------------------------------------------------------------------


def test_the_paper_list_of_a_lab_sends_every_security_header(member_client, lab, paper):
    response = member_client.get(reverse("paper_list", args=[lab.slug, paper.conference.slug]))
    assert "Vision Transformers Need Registers" in response.content.decode()
    assert security_headers(response) == HEADERS
    # Plain HTTP in development: no HSTS (browsers ignore it there anyway).
    assert "Strict-Transport-Security" not in response.headers


def test_the_login_page_sends_every_security_header(client, db):
    response = client.get(reverse("login"))
    assert "<h1>Log in</h1>" in response.content.decode()
    assert security_headers(response) == HEADERS


def test_an_htmx_fragment_sends_every_security_header(member_client, lab, paper):
    url = reverse("paper_list", args=[lab.slug, paper.conference.slug])
    fragment = member_client.get(url, {"q": "registers"}, headers={"HX-Request": "true"})
    html = fragment.content.decode()
    assert "Vision Transformers Need Registers" in html and "<html" not in html
    assert security_headers(fragment) == HEADERS

    star = member_client.post(
        reverse("paper_star", args=[lab.slug, paper.conference.slug, paper.forum_id]),
        {"starred": "1"},
        headers={"HX-Request": "true"},
    )
    assert f'id="triage-{paper.pk}"' in star.content.decode()
    assert security_headers(star) == HEADERS


def test_the_lock_out_page_and_downloads_send_the_policy_too(client, member, lab, paper):
    for _ in range(5):
        client.post(reverse("login"), {"username": "max", "password": "wrong"})
    locked = client.post(reverse("login"), {"username": "max", "password": PASSWORD})
    assert security_headers(locked) == HEADERS

    client.force_login(member)
    export = client.get(reverse("export", args=[lab.slug, paper.conference.slug, "md"]))
    assert export["Content-Type"].startswith("text/markdown")
    assert export["Content-Security-Policy"] == CSP


@pytest.fixture
def production_https_settings():
    """The SECURE_* values the settings file computes in production (DEBUG off), read in a fresh process."""
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
    env |= {"SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "notes.example.org"}
    names = ["SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD"]
    names += ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"]
    code = "import json; from django.conf import settings as s; "
    code += f"print(json.dumps({{n: getattr(s, n) for n in {names}}}))"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_sends_hsts_over_https_and_redirects_plain_http(client, member, production_https_settings):
    assert production_https_settings == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
    }
    with override_settings(**production_https_settings):
        secure = client.get(reverse("login"), secure=True)
        assert secure.status_code == 200
        assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        assert security_headers(secure) == HEADERS

        plain = client.get(reverse("login"))
        assert (plain.status_code, plain["Location"]) == (301, "https://testserver/accounts/login/")


@override_settings(DEBUG=True)
def test_with_debug_django_s_own_error_pages_go_without_the_policy(member_client, lab):
    # Those pages are made of inline styles and scripts; every other response keeps the policy.
    missing = member_client.get(reverse("lab_detail", args=["no-such-lab"]))
    assert missing.status_code == 404
    assert "Content-Security-Policy" not in missing.headers
    assert member_client.get(reverse("home"))["Content-Security-Policy"] == CSP


@override_settings(DEBUG=False)
def test_without_debug_even_a_404_has_the_policy(member_client, lab):
    missing = member_client.get(reverse("lab_detail", args=["no-such-lab"]))
    assert missing.status_code == 404
    assert missing["Content-Security-Policy"] == CSP


# ---- Templates the policy can serve ----------------------------------------------------------------

TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
TAG = re.compile(r"<([a-zA-Z][\w-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
FILTER = re.compile(r"\s*(?:every\s+[\w.]+\s*|[\w:.-]+)\[")
INLINE_ATTRIBUTE = re.compile(r"(?:^|\s)(on[a-z]+|style|hx-on[\w:-]*|data-hx-on[\w:-]*)\s*=", re.IGNORECASE)


def template_problems(path: Path) -> list[str]:
    text = re.sub(r"\{#.*?#\}", "", path.read_text())  # comments may talk about what they avoid
    problems = []
    for match in TAG.finditer(text):
        name, attributes = match.group(1).lower(), match.group(2)
        line = text.count("\n", 0, match.start()) + 1
        if name == "style":
            problems.append(f"{path.name}:{line}: a <style> element")
        if name == "script" and "src=" not in attributes and 'type="application/json"' not in attributes:
            problems.append(f"{path.name}:{line}: an inline <script>")
        for attribute in INLINE_ATTRIBUTE.findall(attributes):
            problems.append(f"{path.name}:{line}: a {attribute}= attribute")
        # htmx evaluates trigger filters ("click[ctrlKey]") and js: values with eval, which the policy refuses.
        # (A "[" inside a from: selector is no filter: a filter follows the event name.)
        trigger = re.search(r"hx-trigger=\"([^\"]*)\"", attributes)
        if trigger and any(FILTER.match(spec) for spec in trigger.group(1).split(",")):
            problems.append(f"{path.name}:{line}: an hx-trigger filter needs eval")
        if re.search(r"hx-(?:vals|vars|headers)=['\"]\s*(?:js|javascript):", attributes):
            problems.append(f"{path.name}:{line}: a js: value needs eval")
    return problems


def test_the_template_scanner_finds_what_the_policy_would_block(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text(
        "{# <style> in a comment is fine #}\n<style>p {}</style>\n<script>alert(1)</script>\n"
        '<p style="color: red" onclick="go()">x</p>\n<div hx-trigger="click[ctrlKey]" hx-vals="js:{a: 1}"></div>\n'
        '<form hx-trigger="change from:#f input[type=checkbox], every 2s [ready]"></form>\n'
        '<script src="/static/x.js"></script>'
    )
    assert template_problems(bad) == [
        "bad.html:2: a <style> element",
        "bad.html:3: an inline <script>",
        "bad.html:4: a style= attribute",
        "bad.html:4: a onclick= attribute",
        "bad.html:5: an hx-trigger filter needs eval",
        "bad.html:5: a js: value needs eval",
        "bad.html:6: an hx-trigger filter needs eval",
    ]


def test_no_template_has_inline_script_style_or_handlers():
    assert len(TEMPLATES) > 30, "the template walk found too few templates"
    assert any(path.parts[-3:-1] == ("admin", "papers") or "admin" in path.parts for path in TEMPLATES)
    problems = [problem for path in TEMPLATES for problem in template_problems(path)]
    assert problems == []


def test_htmx_is_configured_for_the_policy(member_client, lab):
    html = member_client.get(reverse("lab_detail", args=[lab.slug])).content.decode()
    config = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", html)
    assert config, "base.html has no htmx-config meta"
    assert json.loads(config.group(1)) == {
        "includeIndicatorStyles": False,
        "allowEval": False,
        "allowScriptTags": False,
        "selfRequestsOnly": True,
    }
    css = (ROOT / "static" / "css" / "iclrnotes.css").read_text()
    assert ".htmx-request .htmx-indicator, .htmx-request.htmx-indicator {" in css


# ---- CSRF ----------------------------------------------------------------------------------------


def test_no_code_exempts_a_view_from_csrf():
    here = Path(__file__).resolve()
    sources = [p for d in ("papers", "iclrnotes", "templates", "tests") for p in (ROOT / d).rglob("*.py")]
    offenders = [str(p.relative_to(ROOT)) for p in sources if p != here and "csrf_exempt" in p.read_text()]
    assert offenders == []


def all_patterns(patterns=None, prefix: str = "", namespace: str = "") -> list[tuple[str, str, object]]:
    """(name, full route, view) of every pattern of the project, admin included."""
    found = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found += all_patterns(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            found.append((f"{namespace}{pattern.name}" if pattern.name else None, route, pattern.callback))
    return found


def test_no_url_of_the_project_is_csrf_exempt():
    # Catches what a grep cannot: a library's view, or `view.csrf_exempt = True`.
    patterns = all_patterns()
    assert len(patterns) > 60
    exempt = [route for _, route, view in patterns if getattr(view, "csrf_exempt", False)]
    assert exempt == []


@pytest.fixture
def csrf_client(member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    return client


def test_state_changing_posts_without_the_token_are_refused(csrf_client, lab, owner, member, paper):
    conference = paper.conference
    paper_args = [lab.slug, conference.slug, paper.forum_id]
    owner_client = Client(enforce_csrf_checks=True)
    owner_client.force_login(owner)
    attempts = [
        (csrf_client, reverse("paper_star", args=paper_args), {"starred": "1"}),
        (csrf_client, reverse("paper_state", args=paper_args), {"state": "read"}),
        (csrf_client, reverse("note_add", args=paper_args), {"kind": "note", "body": "Hi", "visibility": "lab"}),
        (csrf_client, reverse("triage_decide", args=[lab.slug, conference.slug]), {"paper": paper.forum_id}),
        (owner_client, reverse("invite_create", args=[lab.slug]), {"days": "7"}),
        (csrf_client, reverse("lab_leave", args=[lab.slug]), {}),
        (csrf_client, reverse("logout"), {}),
    ]
    for client, url, data in attempts:
        plain = client.post(url, data)
        htmx = client.post(url, data, headers={"HX-Request": "true"})
        assert (plain.status_code, htmx.status_code) == (403, 403), url
        # Our own page (templates/403_csrf.html): Django's has an inline <style> the CSP would block.
        assert "This form could not be checked, so nothing was changed." in plain.content.decode(), url
        assert "<style" not in plain.content.decode(), url

    assert not ReadingStatus.objects.exists()
    assert not Note.objects.exists()
    assert not Invite.objects.exists()
    assert Membership.objects.filter(lab=lab, user=member).exists()
    assert csrf_client.get(reverse("home")).status_code == 200  # still logged in


def test_an_htmx_post_with_the_token_in_the_header_is_served(csrf_client, lab, member, paper):
    page = csrf_client.get(reverse("paper_detail", args=[lab.slug, paper.conference.slug, paper.forum_id]))
    # base.html puts the token in hx-headers on <body>: htmx sends it with every request.
    token = body_hx_headers(page.content.decode())["X-CSRFToken"]

    response = csrf_client.post(
        reverse("paper_star", args=[lab.slug, paper.conference.slug, paper.forum_id]),
        {"starred": "1"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert 'class="star-toggle is-on" aria-pressed="true"' in response.content.decode()
    assert ReadingStatus.objects.get(user=member, paper=paper).starred is True

    note = csrf_client.post(
        reverse("note_add", args=[lab.slug, paper.conference.slug, paper.forum_id]),
        {"kind": "note", "body": "Registers soak up the artefacts.", "visibility": "lab"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert "Registers soak up the artefacts." in note.content.decode()
    assert list(Note.objects.values_list("author__username", "body")) == [("max", "Registers soak up the artefacts.")]


def body_hx_headers(html: str) -> dict:
    body = re.search(r"<body hx-headers='([^']*)'>", html)
    return json.loads(body.group(1).replace("&quot;", '"'))


def test_every_page_gives_htmx_the_token_and_only_that(member_client, lab):
    headers = body_hx_headers(member_client.get(reverse("lab_detail", args=[lab.slug])).content.decode())
    assert list(headers) == ["X-CSRFToken"] and len(headers["X-CSRFToken"]) == 64


# ---- Login throttling (django-axes) ----------------------------------------------------------------


def log_in(client, username: str, password: str, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, member):
    for attempt in range(4):
        response = log_in(client, "max", f"wrong-{attempt}")
        assert response.status_code == 200
        assert "Please enter a correct username and password." in response.content.decode()
    fifth = log_in(client, "max", "wrong-4")
    assert fifth.status_code == 429
    assert LOCKED_OUT in fifth.content.decode()

    sixth = log_in(client, "max", PASSWORD)
    html = sixth.content.decode()
    assert sixth.status_code == 429
    assert LOCKED_OUT in html
    assert "<title>Log-in locked · iclrnotes</title>" in html  # a page of the site, not a bare message
    assert not is_logged_in(client)


def test_the_lock_is_for_one_username_from_one_address(client, member, outsider):
    for _ in range(5):
        log_in(client, "max", "wrong")
    assert log_in(client, "max", PASSWORD).status_code == 429
    # Another account from the same address, and the same account from another address, still log in.
    assert log_in(Client(), "otto", PASSWORD)["Location"] == reverse("home")
    other_address = Client(REMOTE_ADDR="192.0.2.7")
    assert log_in(other_address, "max", PASSWORD)["Location"] == reverse("home")


def test_a_made_up_forwarded_for_does_not_dodge_the_lock(client, member):
    for attempt in range(5):
        log_in(client, "max", "wrong", headers={"X-Forwarded-For": f"198.51.100.{attempt}"})
    locked = log_in(client, "max", PASSWORD, headers={"X-Forwarded-For": "198.51.100.99"})
    assert locked.status_code == 429


@override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
def test_behind_the_proxy_the_address_it_appended_counts(member):
    # The proxy appends the client's address; what comes before it is the client's own say.
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    for attempt in range(5):
        log_in(proxy, "max", "wrong", headers={"X-Forwarded-For": f"198.51.100.{attempt}, 203.0.113.5"})
    assert log_in(proxy, "max", PASSWORD, headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 429
    # Someone else behind the same proxy is not locked out of that account.
    elsewhere = log_in(proxy, "max", PASSWORD, headers={"X-Forwarded-For": "203.0.113.6"})
    assert elsewhere["Location"] == reverse("home")


def test_a_right_password_before_the_limit_starts_the_count_again(client, member):
    for _ in range(4):
        log_in(client, "max", "wrong")
    assert log_in(client, "max", PASSWORD)["Location"] == reverse("home")
    client.logout()
    for _ in range(4):
        assert log_in(client, "max", "wrong").status_code == 200
    assert log_in(client, "max", PASSWORD)["Location"] == reverse("home")


@pytest.mark.parametrize("command", [("axes_reset",), ("axes_reset_username", "max")])
def test_after_a_reset_the_right_password_works(client, member, command, capsys):
    for _ in range(5):
        log_in(client, "max", "wrong")
    assert log_in(client, "max", PASSWORD).status_code == 429

    call_command(*command)
    assert capsys.readouterr().out == "1 attempts removed.\n"
    response = log_in(client, "max", PASSWORD)
    assert response["Location"] == reverse("home")
    assert is_logged_in(client)


def test_an_admin_sees_the_attempts_and_unlocks_the_account(client, member):
    for _ in range(5):
        log_in(client, "max", "wrong")
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.failures_since_start) == ("max", 5)

    staff = Client()
    staff.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    listing = staff.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    assert "max" in listing and "127.0.0.1" in listing
    staff.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )
    assert not AccessAttempt.objects.exists()
    assert log_in(client, "max", PASSWORD)["Location"] == reverse("home")


def test_signup_still_logs_the_new_user_in(client, db):
    response = client.post(
        reverse("signup"),
        {"username": "newbie", "email": "", "password1": "a-long-pass-phrase-42", "password2": "a-long-pass-phrase-42"},
    )
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    assert is_logged_in(client)


def test_the_admin_log_in_is_throttled_too(client, db):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    url = reverse("admin:login")
    for _ in range(5):
        client.post(url, {"username": "root", "password": "wrong"})
    locked = client.post(url, {"username": "root", "password": PASSWORD})
    assert locked.status_code == 429
    assert LOCKED_OUT in locked.content.decode()


# ---- Every URL of the project is covered by an authorization test -------------------------------------

# URL names outside /labs/<lab>/ (which tests/test_authorization.py walks), each with who may use it.
OTHER_URLS = {
    "healthz": "public: load balancers probe it; answers 'ok' and reads nothing",
    "login": "public: the log-in form",
    "logout": "POST only; logs out whoever is logged in",
    "signup": "public: anyone may sign up",
    "password_change": "login required; changes the caller's own password",
    "password_change_done": "login required",
    "home": "login required; lists the caller's own labs",
    "lab_switcher": "login required; lists the caller's own labs",
    "lab_new": "login required; makes a lab the caller owns",
    "join": "login required; an unknown token is a 404 that names no lab",
    "calendar_feed": "the unguessable token is the key: unknown or revoked → 404",
}
ADMIN_PREFIX = "admin/"


def test_every_url_of_the_project_is_covered_by_an_authorization_test():
    uncovered = []
    for name, route, _ in all_patterns():
        if route.startswith(ADMIN_PREFIX):
            continue  # the admin site: staff only, see test_the_admin_is_for_staff_only
        if name not in REQUESTS and name not in OTHER_URLS:
            uncovered.append((name, route))
    assert uncovered == [], (
        "Add these URLs to REQUESTS in tests/test_authorization.py (under /labs/) "
        "or to OTHER_URLS in tests/test_security.py, with a test of who may use them"
    )
    stale = sorted(OTHER_URLS.keys() - {name for name, _, _ in all_patterns()})
    assert stale == []


LOGIN_REQUIRED = ["password_change", "password_change_done", "home", "lab_switcher", "lab_new"]


@pytest.mark.parametrize("name", LOGIN_REQUIRED)
def test_account_pages_send_anonymous_visitors_to_log_in(client, db, name):
    url = reverse(name)
    response = client.get(url)
    assert (response.status_code, response["Location"]) == (302, f"{reverse('login')}?next={url}")


@pytest.mark.parametrize("name", ["healthz", "login", "signup"])
def test_public_pages_are_public(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    expected = {"healthz": "ok", "login": "<h1>Log in</h1>", "signup": "Create an account"}[name]
    assert expected in response.content.decode()


def test_logout_is_post_only(client, member):
    client.force_login(member)
    assert client.get(reverse("logout")).status_code == 405
    assert is_logged_in(client)


def test_an_outsider_sees_only_their_own_labs_on_home_and_in_the_switcher(client, lab, member, outsider):
    client.force_login(outsider)
    home = client.get(reverse("home")).content.decode()
    switcher = client.get(reverse("lab_switcher"), headers={"HX-Request": "true"}).content.decode()
    assert "otto" in home
    assert "Vision Lab" not in home and "Vision Lab" not in switcher


def test_invite_links_need_a_log_in_and_a_real_token(client, lab, owner, outsider):
    invite = services.create_invite(lab=lab, by=owner)
    url = reverse("join", args=[invite.token])
    assert client.get(url)["Location"] == f"{reverse('login')}?next={url}"

    client.force_login(outsider)
    bogus = client.get(reverse("join", args=["not-a-token"]))
    assert bogus.status_code == 404
    assert "Vision Lab" not in bogus.content.decode()
    assert client.post(reverse("join", args=["not-a-token"])).status_code == 404
    assert not Membership.objects.filter(user=outsider, lab=lab).exists()


def test_a_calendar_feed_answers_only_to_its_live_token(client, lab, member, paper):
    feed = services.renew_calendar_feed(user=member, lab=lab, conference=paper.conference)
    live = client.get(reverse("calendar_feed", args=[feed.token]))
    assert live.status_code == 200 and live.content.startswith(b"BEGIN:VCALENDAR")
    assert client.get(reverse("calendar_feed", args=["not-a-token"])).status_code == 404

    services.revoke_calendar_feed(user=member, lab=lab, conference=paper.conference)
    assert client.get(reverse("calendar_feed", args=[feed.token])).status_code == 404


def test_a_calendar_feed_dies_with_its_owner_s_membership(client, lab, member, owner, paper):
    feed = services.renew_calendar_feed(user=member, lab=lab, conference=paper.conference)
    services.remove_member(lab=lab, member=member, by=owner)
    assert client.get(reverse("calendar_feed", args=[feed.token])).status_code == 404


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_the_admin_is_for_staff_only(client, member, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    login = reverse("admin:login")
    assert client.get(url)["Location"] == f"{login}?next={url}"
    client.force_login(member)  # a lab member, not staff
    assert client.get(url)["Location"] == f"{login}?next={url}"


def test_the_lock_out_page_shows_nothing_of_what_was_typed(client, db):
    # The lock-out page shows no user input at all: not even the username that was tried.
    name = '"><img src=x onerror=alert(1)>'
    for _ in range(5):
        response = log_in(client, name, "wrong")
    html = response.content.decode()
    assert response.status_code == 429
    assert name not in html and escape(name) not in html
