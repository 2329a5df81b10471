"""
The Content-Security-Policy in a real browser: the pages a lab uses every day, and the admin, load
and work without a single violation, and htmx still stars in place.
"""

import datetime as dt

import pytest
from playwright.sync_api import expect

from papers.models import Membership, ReadingStatus
from tests.conftest import PASSWORD
from tests.factories import (
    ConferenceFactory,
    LabFactory,
    MembershipFactory,
    PaperFactory,
    PresentationFactory,
    SessionFactory,
    UserFactory,
)

# Chromium reports both in the console ("Refused to apply inline style because it violates the
# following Content Security Policy directive ..."); the init script below also records the DOM's own
# securitypolicyviolation events, which name the blocked directive.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


@pytest.fixture
def watched(page):
    """The page, with every console message and page error collected; fails the test on a violation."""
    messages = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text} ({message.location['url']})"))
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    page.context.add_init_script(RECORD_VIOLATIONS)
    page.messages = messages
    yield page
    refused = [m for m in messages if "Refused to" in m or "Content Security Policy" in m]
    assert refused == []


def assert_no_violation(page) -> None:
    refused = [m for m in page.messages if "Refused to" in m or "Content Security Policy" in m]
    assert refused == [], page.url
    assert page.evaluate("window.cspViolations") == [], page.url
    # An eval htmx may not do shows as htmx:evalDisallowedError; a page error as a pageerror. Not counted:
    # htmx:syntax:error, which the list's filter form logs for a from: selector htmx 2 cannot parse
    # (templates/papers/paper_list.html; no eval and no CSP matter, reported to its owner).
    # Nor the admin's pages asking for /favicon.ico: they have no icon link of ours.
    ignored = ("htmx:syntax:error", "/favicon.ico)")
    errors = [m for m in page.messages if m.startswith(("error:", "pageerror:")) and not any(i in m for i in ignored)]
    assert errors == [], (page.url, page.messages)


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My labs")).to_be_visible()


@pytest.fixture
def lab_world(transactional_db):
    conference = ConferenceFactory(slug="iclr-2024", name="ICLR 2024", timezone="Europe/Vienna")
    lab = LabFactory(name="Vision Lab", slug="vision")
    max_, olivia = UserFactory(username="max"), UserFactory(username="olivia")
    MembershipFactory(lab=lab, user=olivia, role=Membership.Role.OWNER)
    MembershipFactory(lab=lab, user=max_, role=Membership.Role.MEMBER)
    session = SessionFactory(
        conference=conference,
        title="Poster Session 1",
        starts_at=dt.datetime(2024, 5, 7, 8, 45, tzinfo=dt.UTC),
        ends_at=dt.datetime(2024, 5, 7, 10, 45, tzinfo=dt.UTC),
    )
    papers = [
        PaperFactory(conference=conference, forum_id=forum_id, title=title, tier=tier)
        for forum_id, title, tier in [
            ("2dnO3LLiJ1", "Vision Transformers Need Registers", "oral"),
            ("spike1", "Learning Delays in Spiking Neural Networks", "poster"),
        ]
    ]
    for paper in papers:
        PresentationFactory(paper=paper, session=session, poster_position=f"#{paper.pk}")
    return {"max": max_, "olivia": olivia, "papers": papers}


def test_the_lab_s_pages_load_without_a_violation_and_htmx_stars_in_place(live_server, watched, lab_world):
    page = watched
    registers = lab_world["papers"][0]
    log_in(page, live_server, "max")
    assert_no_violation(page)

    base = f"{live_server.url}/labs/vision/iclr-2024"
    page.goto(f"{base}/papers/")
    row = page.locator(f"#paper-{registers.pk}")
    expect(row).to_contain_text("Vision Transformers Need Registers")
    page.evaluate("window.noReload = true")  # a full reload would drop this marker
    row.get_by_role("button", name="Star").click()
    expect(row.get_by_role("button", name="Star")).to_have_attribute("aria-pressed", "true")
    expect(row.get_by_text("★ 1")).to_be_visible()  # the out-of-band lab count, swapped by htmx
    assert page.evaluate("window.noReload") is True
    # The filters answer in place too (htmx GET with the URL pushed).
    page.get_by_label("Search").fill("spiking")
    expect(page.get_by_text("1 of 2 papers")).to_be_visible()
    assert page.evaluate("window.noReload") is True
    assert_no_violation(page)
    assert ReadingStatus.objects.get(user=lab_world["max"], paper=registers).starred is True

    # The paper page: my star in place, and the lab's view follows it (an event, since htmx may not eval).
    page.goto(f"{base}/papers/spike1/")
    expect(page.get_by_role("heading", name="Learning Delays in Spiking Neural Networks")).to_be_visible()
    page.evaluate("window.noReload = true")
    lab_view = page.locator("#paper-lab-view")
    expect(lab_view.get_by_role("row", name="max")).to_contain_text("Not starred")
    page.locator(".triage-controls").get_by_role("button", name="Star").click()
    expect(lab_view.get_by_role("row", name="max")).to_contain_text("Starred")
    expect(lab_view.get_by_role("row", name="max")).to_contain_text("Shortlisted")
    assert page.evaluate("window.noReload") is True
    assert_no_violation(page)

    page.goto(f"{base}/triage/?slice=")
    expect(page.locator("[data-inbox]")).to_be_visible()
    page.keyboard.press("?")  # the keys' help opens: the inbox's script runs
    expect(page.locator("#inbox-help")).to_have_attribute("open", "")
    assert_no_violation(page)

    page.goto(f"{base}/")
    expect(page.get_by_role("heading", name="ICLR 2024")).to_be_visible()
    assert_no_violation(page)

    for path in ("/labs/vision/", "/labs/vision/iclr-2024/schedule/", "/labs/vision/meetings/"):
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("main")).to_be_visible()
        assert_no_violation(page)


def test_the_admin_works_under_the_policy(live_server, watched, lab_world):
    page = watched
    UserFactory(username="root", is_staff=True, is_superuser=True)
    log_in(page, live_server, "root")
    pages = [
        ("/admin/", "Site administration"),
        ("/admin/papers/conference/", "Select conference to change"),
        (f"/admin/papers/conference/{lab_world['papers'][0].conference.pk}/change/", "Change conference"),
        (f"/admin/papers/user/{lab_world['max'].pk}/change/", "Change user"),
        ("/admin/axes/accessattempt/", "Select access attempt to change"),
    ]
    for path, heading in pages:
        page.goto(f"{live_server.url}{path}")
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        assert_no_violation(page)
    # The admin's own scripts still run: the changelist's "select all" ticks every row.
    page.goto(f"{live_server.url}/admin/papers/paper/")
    page.locator("#action-toggle").check()
    expect(page.locator("input.action-select:checked")).to_have_count(2)
    assert_no_violation(page)


def test_the_lock_out_page_under_the_policy(live_server, watched, lab_world):
    page = watched
    for _ in range(5):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill("max")
        page.get_by_label("Password").fill("wrong")
        page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Too many failed log-ins for this account. Try again in 15 minutes, or ask an administrator to unlock it."
    )
    messages = [m for m in page.messages if "429" not in m]  # the browser logs the status itself
    page.messages[:] = messages
    assert_no_violation(page)
