from playwright.sync_api import expect

from papers.models import Membership
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


def test_member_logs_in_opens_the_paper_list_and_a_paper(live_server, page, screenshot, transactional_db):
    conference = ConferenceFactory(slug="iclr-2024", name="ICLR 2024", city="Vienna", timezone="Europe/Vienna")
    lab = LabFactory(name="Vision Lab", slug="vision")
    user = UserFactory(username="max")
    MembershipFactory(lab=lab, user=user, role=Membership.Role.OWNER)
    session = SessionFactory(conference=conference, title="Poster Session 1", room="Halle B")
    paper = PaperFactory(
        conference=conference,
        forum_id="2dnO3LLiJ1",
        title="Vision Transformers Need Registers",
        authors=["Timothée Darcet", "Maxime Oquab", "Julien Mairal", "Piotr Bojanowski"],
        abstract="Transformers have recently emerged as a powerful tool for learning visual representations.",
        tier="oral",
        pdf_url="https://openreview.net/pdf?id=2dnO3LLiJ1",
    )
    PresentationFactory(paper=paper, session=session, poster_position="#2504")
    for number in range(60):
        PaperFactory(conference=conference, title=f"A Study of Attention, Part {number}", tier="poster")

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    screenshot("login")
    page.get_by_label("Username").fill("max")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="My labs")).to_be_visible()
    screenshot("home")
    page.locator("section.card", has_text="Vision Lab").get_by_role("link", name="ICLR 2024").click()

    expect(page.get_by_role("heading", name="ICLR 2024")).to_be_visible()
    expect(page.get_by_text("61 papers · page 1 of 2")).to_be_visible()
    screenshot("paper-list")
    page.get_by_role("link", name="Next →").click()
    expect(page.get_by_text("Page 2 of 2", exact=True)).to_be_visible()
    # htmx swapped the results in place and put the page in the address bar.
    expect(page).to_have_url(f"{live_server.url}/labs/{lab.slug}/iclr-2024/papers/?page=2")
    expect(page.get_by_role("heading", name="ICLR 2024")).to_have_count(1)
    expect(page.get_by_role("link", name="← Previous")).to_be_visible()

    page.get_by_role("link", name="Vision Transformers Need Registers").click()
    expect(page.get_by_role("heading", name="Vision Transformers Need Registers")).to_be_visible()
    expect(page.get_by_text("Timothée Darcet, Maxime Oquab, Julien Mairal, Piotr Bojanowski")).to_be_visible()
    expect(page.get_by_role("link", name="OpenReview")).to_have_attribute(
        "href", "https://openreview.net/forum?id=2dnO3LLiJ1"
    )
    expect(page.get_by_text("Poster Session 1")).to_be_visible()
    screenshot("paper-detail")
