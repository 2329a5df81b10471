import datetime as dt

from playwright.sync_api import expect

from papers.models import Membership, Note, ReadingStatus
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.test_list import log_in
from tests.factories import ConferenceFactory, LabFactory, MembershipFactory, NoteFactory, PaperFactory, UserFactory

TITLES = [
    "Vision Transformers Need Registers",
    r"$\mathcal{B}$-Coder: Value-Based Deep RL for Program Synthesis",
    "Learning Delays in Spiking Neural Networks using Dilated Convolutions with Learnable Spacings",
    "Generative Modeling with Phase Stochastic Bridges",
    "Never Train from Scratch: Fair Comparison of Long-Sequence Models Requires Data-Driven Priors",
    "Flow Matching on General Geometries",
    "Statistically Optimal K-means Clustering via Nonnegative Low-rank Semidefinite Programming",
    "Provable Compositional Generalization for Object-Centric Learning",
    "Mastering Memory Tasks with World Models",
    "Proving Test Set Contamination in Black-Box Language Models",
    "Small-scale proxies for large-scale Transformer training instabilities",
    "Zipformer: A faster and better encoder for automatic speech recognition",
]


def test_two_members_stars_show_on_the_dashboard(live_server, page, screenshot, transactional_db):
    conference = ConferenceFactory(slug="iclr-2024", name="ICLR 2024", timezone="Europe/Vienna")
    lab = LabFactory(name="Vision Lab", slug="vision")
    olivia, max_ = UserFactory(username="olivia"), UserFactory(username="max")
    MembershipFactory(lab=lab, user=olivia, role=Membership.Role.OWNER)
    MembershipFactory(lab=lab, user=max_)
    papers = [PaperFactory(conference=conference, title=title) for title in TITLES]
    PaperFactory.create_batch(28, conference=conference)  # the rest of a (small) programme
    start = dt.datetime(2024, 5, 7, 7, 0, tzinfo=dt.UTC)

    def status(user, paper, state, starred, minute):
        made = ReadingStatus.objects.create(user=user, paper=paper, state=state, starred=starred)
        ReadingStatus.objects.filter(pk=made.pk).update(updated_at=start + dt.timedelta(minutes=minute))

    # olivia triaged ten papers and starred four; max triaged five and starred three.
    for n, paper in enumerate(papers[:10]):
        status(olivia, paper, ["read", "shortlisted", "reading", "skipped", "shortlisted"][n % 5], n < 4, n)
    for n, paper in enumerate(papers[:5]):
        status(max_, paper, ["shortlisted", "read", "", "shortlisted", "skipped"][n], n in (0, 1, 2), 20 + n)
    for n in range(16):
        note = NoteFactory(paper=papers[n % 6], author=[olivia, max_][n % 2], lab=lab, body=f"Thought number {n}.")
        Note.objects.filter(pk=note.pk).update(created_at=start + dt.timedelta(minutes=30 + n))
    NoteFactory(paper=papers[0], author=max_, lab=None, body="My private doubt")

    log_in(page, live_server, "max")
    page.goto(f"{live_server.url}/labs/vision/iclr-2024/")

    expect(page.get_by_role("heading", name="ICLR 2024 · Vision Lab")).to_be_visible()
    expect(page.locator("#dash-coverage")).to_have_text("10 of 40 papers seen by someone · 30 not seen by anyone yet")
    expect(page.locator(f"#member-{olivia.pk}")).to_contain_text("olivia Owner Triaged 10 25%")
    expect(page.locator(f"#member-{max_.pk}")).to_contain_text("max (you) Behind Triaged 4 10%")
    wanted = page.locator(".dash-wanted__item")
    expect(wanted).to_have_count(4)
    # Three papers with two stars (by title), then olivia's fourth with one.
    expect(wanted.nth(0)).to_contain_text(
        "ℬ-Coder: Value-Based Deep RL for Program Synthesis ★ 2 stars ✓ 1 of 2 read Starred by olivia, max"
    )
    expect(wanted.nth(1)).to_contain_text("Learning Delays in Spiking Neural Networks")
    expect(wanted.nth(2)).to_contain_text(
        "Vision Transformers Need Registers ★ 2 stars ✓ 1 of 2 read Starred by olivia, max"
    )
    expect(wanted.nth(3)).to_contain_text(
        "Generative Modeling with Phase Stochastic Bridges ★ 1 star ✓ 0 of 2 read Starred by olivia"
    )
    expect(page.get_by_text("My private doubt")).to_have_count(0)
    screenshot("dashboard")
    page.set_viewport_size(PHONE)  # nothing wider than a phone but the matrix, which scrolls in its box
    assert page.evaluate("document.documentElement.scrollWidth") == PHONE["width"]
    page.set_viewport_size(DESKTOP)

    # The activity pages in place (htmx), and the address bar follows.
    activity = page.locator("#dash-activity")
    expect(activity).to_contain_text("Page 1 of 2")
    activity.get_by_role("link", name="Older →").click()
    expect(activity).to_contain_text("Page 2 of 2")
    expect(page).to_have_url(f"{live_server.url}/labs/vision/iclr-2024/?activity_page=2")
    expect(page.locator("#dash-coverage")).to_be_visible()  # the rest of the page stayed

    # A title leads to the paper page.
    wanted.nth(2).get_by_role("link").click()
    expect(page.get_by_role("heading", name="Vision Transformers Need Registers")).to_be_visible()
