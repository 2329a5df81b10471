import datetime as dt

from playwright.sync_api import expect

from papers.models import Membership, Note, ReadingStatus
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

TITLES = [
    "Adaptive Sparse Attention for Long Documents",
    "Benchmarking Robustness of Vision-Language Models",
    "Contrastive Pretraining Without Negatives",
    "Diffusion Models as Plug-and-Play Priors",
    "Efficient Fine-Tuning with Low-Rank Adapters",
    "Federated Learning Under Label Shift",
    "Graph Transformers Need Positional Encodings",
    "How Much Data Does In-Context Learning Need?",
]


def test_member_triages_five_papers_with_the_keyboard_and_undoes_one(live_server, page, screenshot, transactional_db):
    conference = ConferenceFactory(slug="iclr-2024", name="ICLR 2024", timezone="Europe/Vienna")
    lab = LabFactory(name="Vision Lab", slug="vision")
    user = UserFactory(username="max")
    MembershipFactory(lab=lab, user=user, role=Membership.Role.OWNER)
    session = SessionFactory(
        conference=conference,
        title="Poster Session 3",
        room="Halle B",
        starts_at=dt.datetime(2024, 5, 7, 8, 45, tzinfo=dt.UTC),
        ends_at=dt.datetime(2024, 5, 7, 10, 45, tzinfo=dt.UTC),
    )
    papers = []
    for number, title in enumerate(TITLES):
        paper = PaperFactory(
            conference=conference,
            forum_id=f"paper{number}",
            title=title,
            authors=["Ada Lovelace", "Alan Turing", "Grace Hopper", "Katherine Johnson"],
            abstract=(
                "We study a question that matters to many people in machine learning. "
                "Our method is simple, fast and works on every benchmark we tried. " * 3
            ).strip(),
            tldr="A short summary of the idea." if number % 2 == 0 else "",
            keywords=["attention", "efficiency"],
            tier="spotlight" if number < 3 else "poster",
            pdf_url=f"https://openreview.net/pdf?id=paper{number}",
        )
        PresentationFactory(paper=paper, session=session, poster_position=f"#{100 + number}")
        papers.append(paper)

    mine = Note.objects.create(paper=papers[5], author=user, lab=None, kind="summary", body="Only for me.")

    page.goto(f"{live_server.url}/labs/vision/iclr-2024/triage/")
    page.get_by_label("Username").fill("max")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/triage/")
    page.wait_for_load_state("load")  # the keys are in a deferred script: a key pressed before it runs is lost

    native_posts = []
    page.on(
        "request",
        lambda r: native_posts.append(r.url) if r.method == "POST" and not r.headers.get("hx-request") else None,
    )
    title = page.locator("#inbox-title")
    progress = page.locator("#inbox-progress-text")
    expect(page.get_by_role("heading", name="Triage inbox")).to_be_visible()
    expect(page.locator(".inbox-filters")).to_have_text("Unseen papers")
    expect(title).to_have_text(TITLES[0])
    expect(progress).to_have_text("0 of 8 triaged")

    def press(key: str, then_title: str) -> None:
        page.keyboard.press(key)
        expect(title).to_have_text(then_title)

    press("Shift+L", TITLES[1])  # shortlist: a capital letter is the same key
    press("X", TITLES[2])  # skip (as with Caps Lock on)
    page.keyboard.press("s")  # star: the card stays, star on
    expect(page.get_by_role("button", name="Starred")).to_have_attribute("aria-pressed", "true")
    expect(title).to_have_text(TITLES[2])

    # A key pressed while the next paper loads does nothing to that paper, unseen: a toast says so.
    held = []

    def deciding(url: str) -> bool:
        return "/triage/decide/" in url

    page.route(deciding, lambda route: held.append(route))
    page.keyboard.press("r")  # read: its answer is held back
    for _ in range(100):  # until Playwright has handed the held request to this test
        if held:
            break
        page.wait_for_timeout(50)
    expect(page.locator("form.htmx-request")).to_have_count(1)
    page.keyboard.press("l")
    busy = page.locator("[data-inbox-busy]")
    expect(busy).to_have_text("Still loading: that key did nothing. Press it again when the paper shows.")
    expect(busy).to_be_visible()
    screenshot("inbox-busy")
    held[0].continue_()
    page.unroute(deciding)
    expect(title).to_have_text(TITLES[3])
    assert not ReadingStatus.objects.filter(user=user, paper=papers[3]).exists()
    press("ArrowRight", TITLES[4])  # shortlist
    press("ArrowLeft", TITLES[5])  # skip
    expect(progress).to_have_text("5 of 8 triaged")
    # htmx swapped the cards in place and kept the address bar in step.
    expect(page).to_have_url(f"{live_server.url}/labs/vision/iclr-2024/triage/?at=paper5")

    press("u", TITLES[4])  # undo the last skip: its paper comes back
    expect(page.locator(".inbox-notice")).to_have_text(f"Undone: “{TITLES[4]}” is back as it was.")
    expect(progress).to_have_text("4 of 8 triaged")
    expect(page).to_have_url(f"{live_server.url}/labs/vision/iclr-2024/triage/?at=paper4")

    rows = sorted(ReadingStatus.objects.filter(user=user).values_list("paper__forum_id", "state", "starred"))
    assert rows == [
        ("paper0", "shortlisted", False),
        ("paper1", "skipped", False),
        ("paper2", "read", True),
        ("paper3", "shortlisted", False),
    ]

    # Keys are ignored while typing: "l" in the one-liner field is a letter, not a shortlist.
    page.keyboard.press("n")
    summary = page.get_by_label("My one-liner")
    expect(summary).to_be_focused()
    page.keyboard.type("Sparse kernels")
    expect(summary).to_have_value("Sparse kernels")
    page.keyboard.press("Escape")
    expect(summary).not_to_be_focused()
    expect(title).to_have_text(TITLES[4])

    # My one-liner is saved in place, and the card says who sees it.
    summary.press("Enter")
    expect(page.locator("[data-inbox-summary-status]")).to_have_text("Saved.")
    expect(page.locator(".inbox-summary__label")).to_contain_text("My one-liner (shared with Vision Lab)")
    expect(summary).to_have_value("Sparse kernels")
    expect(title).to_have_text(TITLES[4])
    added = Note.objects.get(author=user, paper=papers[4])
    assert (added.kind, added.body, added.lab) == ("summary", "Sparse kernels", lab)

    # j and k move through the queue without deciding. My private one-liner stays private when edited here.
    press("j", TITLES[5])
    expect(page.locator(".inbox-summary__label")).to_contain_text("My one-liner (private)")
    expect(summary).to_have_value("Only for me.")
    summary.fill("Still only for me.")
    summary.press("Enter")
    expect(page.locator("[data-inbox-summary-status]")).to_have_text("Saved.")
    expect(summary).to_have_value("Still only for me.")
    expect(page.locator(".inbox-summary__label")).to_contain_text("My one-liner (private)")
    mine.refresh_from_db()
    assert (mine.body, mine.lab, mine.version) == ("Still only for me.", None, 2)
    # Changed elsewhere since the card was drawn: the edit is refused, and the draft stays with the reason.
    Note.objects.filter(pk=mine.pk).update(body="From my phone.", version=3)
    summary.focus()
    summary.fill("From my laptop.")
    summary.press("Enter")
    expect(page.locator("[data-inbox-summary-status]")).to_have_text(
        "This note was changed elsewhere since you opened it; your edit was not saved."
    )
    expect(summary).to_have_value("From my laptop.")
    mine.refresh_from_db()
    assert (mine.body, mine.lab, mine.version) == ("From my phone.", None, 3)
    page.keyboard.press("Escape")
    press("k", TITLES[4])
    assert ReadingStatus.objects.filter(user=user).count() == 4
    assert native_posts == []  # every decision and note went through htmx, none reloaded the page
    screenshot("inbox")

    page.keyboard.press("?")
    help_panel = page.get_by_role("group", name="Keyboard shortcuts")
    expect(help_panel).to_be_visible()
    expect(help_panel).to_contain_text("Undo my last change")
    screenshot("inbox-help")
    page.keyboard.press("Escape")
    expect(help_panel).to_be_hidden()
