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


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My labs")).to_be_visible()


def test_star_and_state_from_the_list_persist_after_reload(live_server, page, screenshot, transactional_db):
    conference = ConferenceFactory(slug="iclr-2024", name="ICLR 2024", timezone="Europe/Vienna")
    lab = LabFactory(name="Vision Lab", slug="vision")
    user = UserFactory(username="max")
    MembershipFactory(lab=lab, user=user, role=Membership.Role.OWNER)
    session = SessionFactory(conference=conference, title="Poster Session 1")
    papers = [
        PaperFactory(conference=conference, title=title, tier=tier)
        for title, tier in [
            ("Vision Transformers Need Registers", "oral"),
            (r"$\mathcal{B}$-Coder: Value-Based Deep RL", "spotlight"),
            ("Learning Delays in Spiking Neural Networks", "poster"),
        ]
    ]
    for paper in papers:
        PresentationFactory(paper=paper, session=session, poster_position=f"#{paper.pk}")
    registers = papers[0]

    log_in(page, live_server, "max")
    page.goto(f"{live_server.url}/labs/vision/iclr-2024/papers/")
    row = page.locator(f"#paper-{registers.pk}")
    row.get_by_role("button", name="Star").click()
    expect(row.get_by_role("button", name="Star")).to_have_attribute("aria-pressed", "true")
    # A star on an untriaged paper shortlists it too.
    expect(row.get_by_role("button", name="Shortlist")).to_have_attribute("aria-pressed", "true")
    row.get_by_role("button", name="Reading").click()
    expect(row.get_by_role("button", name="Reading")).to_have_attribute("aria-pressed", "true")
    expect(row.get_by_role("button", name="Shortlist")).to_have_attribute("aria-pressed", "false")
    expect(row.get_by_text("★ 1")).to_be_visible()  # the lab's count moved without a reload
    screenshot("paper-list")

    page.reload()
    row = page.locator(f"#paper-{registers.pk}")
    expect(row.get_by_role("button", name="Star")).to_have_attribute("aria-pressed", "true")
    expect(row.get_by_role("button", name="Reading")).to_have_attribute("aria-pressed", "true")
    status = ReadingStatus.objects.get(user=user, paper=registers)
    assert (status.state, status.starred) == ("reading", True)

    # Search narrows the list in place, and the address bar holds it.
    page.get_by_label("Search").fill("spiking")
    expect(page.get_by_text("1 of 3 papers")).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/labs/vision/iclr-2024/papers/?q=spiking")
    page.get_by_text("Filters and sort").click()
    screenshot("paper-list-filtered")
