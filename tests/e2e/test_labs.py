from playwright.sync_api import expect

from papers.models import Membership, ReadingStatus
from tests.conftest import PASSWORD
from tests.factories import ConferenceFactory, LabFactory, MembershipFactory, PaperFactory, UserFactory


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My labs")).to_be_visible()


def log_out(page):
    page.locator(".menu summary").click()
    page.get_by_role("button", name="Log out").click()


def star(page, live_server, paper):
    page.goto(f"{live_server.url}/labs/vision/iclr-2024/papers/")
    row = page.locator(f"#paper-{paper.pk}")
    row.get_by_role("button", name="Star").click()
    expect(row.get_by_role("button", name="Star")).to_have_attribute("aria-pressed", "true")
    # The live server shares the test's in-memory SQLite: let its requests finish before the test reads.
    page.wait_for_load_state("networkidle")


def test_owner_invites_a_teammate_who_joins_and_both_stars_show_on_the_dashboard(
    live_server, page, screenshot, transactional_db
):
    ConferenceFactory(slug="iclr-2024", name="ICLR 2024", timezone="Europe/Vienna")
    registers = PaperFactory(conference__slug="iclr-2024", title="Vision Transformers Need Registers", tier="oral")
    coder = PaperFactory(conference=registers.conference, title="Learning Delays in Spiking Neural Networks")
    lab = LabFactory(name="Vision Lab", slug="vision")
    MembershipFactory(lab=lab, user=UserFactory(username="olivia"), role=Membership.Role.OWNER)
    UserFactory(username="nina")

    log_in(page, live_server, "olivia")
    page.goto(f"{live_server.url}/labs/vision/")
    page.get_by_label("Use limit").fill("1")
    page.get_by_role("button", name="Create an invite link").click()
    expect(page.get_by_text("A new invite link is ready")).to_be_visible()
    link = page.locator(".invite__link").input_value()
    assert "/join/" in link
    screenshot("lab-page")
    star(page, live_server, registers)
    log_out(page)

    log_in(page, live_server, "nina")
    page.goto(link)
    expect(page.get_by_role("heading", name="Join Vision Lab")).to_be_visible()
    page.get_by_role("button", name="Join Vision Lab").click()
    expect(page.get_by_text("Welcome to Vision Lab!")).to_be_visible()
    star(page, live_server, registers)
    star(page, live_server, coder)
    assert Membership.objects.filter(lab=lab, user__username="nina", role="member").exists()
    assert ReadingStatus.objects.filter(paper=registers, starred=True).count() == 2

    page.goto(f"{live_server.url}/labs/vision/iclr-2024/")
    main = page.locator("main")
    expect(main.get_by_text("olivia").first).to_be_visible()
    expect(main.get_by_text("nina").first).to_be_visible()
    expect(main.get_by_role("link", name="Vision Transformers Need Registers").first).to_be_visible()
    screenshot("dashboard-after-invite")

    # The link was for one person: it is used up now.
    log_out(page)
    UserFactory(username="late")
    log_in(page, live_server, "late")
    page.goto(link)
    expect(page.get_by_text("This invite has been used as many times as it allows.")).to_be_visible()


def test_the_owner_splits_the_papers_and_a_member_triages_their_slice(live_server, page, screenshot, transactional_db):
    conference = ConferenceFactory(slug="iclr-2024", name="ICLR 2024", timezone="Europe/Vienna")
    for number in range(12):
        PaperFactory(
            conference=conference, title=f"Paper {number:02d}", primary_area=["vision", "rl", "theory"][number % 3]
        )
    lab = LabFactory(name="Vision Lab", slug="vision")
    MembershipFactory(lab=lab, user=UserFactory(username="olivia"), role=Membership.Role.OWNER)
    MembershipFactory(lab=lab, user=UserFactory(username="nina"))

    log_in(page, live_server, "olivia")
    page.goto(f"{live_server.url}/labs/vision/iclr-2024/split/")
    page.get_by_label("By area or first keyword: whole topics to each member").check()
    page.get_by_role("button", name="Split", exact=True).click()
    expect(page.get_by_text("Split 12 papers between 2 members.")).to_be_visible()
    screenshot("split")
    log_out(page)

    log_in(page, live_server, "nina")
    page.goto(f"{live_server.url}/labs/vision/iclr-2024/triage/")
    expect(page.get_by_text("of 4 triaged")).to_be_visible()  # one topic of four papers is hers
