from playwright.sync_api import expect

from papers.models import Membership, Nomination, Vote
from tests.conftest import PASSWORD
from tests.factories import ConferenceFactory, LabFactory, MembershipFactory, PaperFactory, UserFactory


def test_a_member_finds_and_nominates_a_paper_then_votes_for_it(live_server, page, screenshot, transactional_db):
    conference = ConferenceFactory(slug="iclr-2024", name="ICLR 2024")
    registers = PaperFactory(conference=conference, title="Vision Transformers Need Registers", tier="oral")
    PaperFactory(conference=conference, title="Learning Delays in Spiking Neural Networks")
    lab = LabFactory(name="Vision Lab", slug="vision")
    max_ = UserFactory(username="max")
    MembershipFactory(lab=lab, user=max_, role=Membership.Role.OWNER)
    MembershipFactory(lab=lab, user=UserFactory(username="olivia"))

    page.goto(f"{live_server.url}/accounts/login/?next=/labs/vision/meetings/")
    page.get_by_label("Username").fill("max")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.locator(".rg-filters__search input").fill("registers")
    page.get_by_role("button", name="Apply").click()
    page.get_by_role("button", name="Nominate").first.click()
    row = page.locator("li, tr, article", has_text="Vision Transformers Need Registers").last
    row.get_by_role("button", name="Vote").click()
    expect(page.get_by_role("button", name="Take back my vote")).to_be_visible()
    screenshot("candidates")

    assert list(Nomination.objects.values_list("paper__title", "nominated_by__username")) == [
        ("Vision Transformers Need Registers", "max")
    ]
    assert list(Vote.objects.values_list("paper_id", "user__username")) == [(registers.pk, "max")]
