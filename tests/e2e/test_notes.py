import datetime as dt
import re

from playwright.sync_api import expect

from papers import services
from papers.models import Membership, Note, ReadingStatus
from tests.conftest import PASSWORD
from tests.factories import (
    ConferenceFactory,
    LabFactory,
    MembershipFactory,
    PaperFactory,
    PresentationFactory,
    ReadingStatusFactory,
    SessionFactory,
    UserFactory,
)


def test_member_adds_a_markdown_note_ticks_a_todo_and_stars_without_a_reload(
    live_server, page, screenshot, transactional_db
):
    conference = ConferenceFactory(slug="iclr-2024", name="ICLR 2024", city="Vienna", timezone="Europe/Vienna")
    lab = LabFactory(name="Vision Lab", slug="vision")
    max_ = UserFactory(username="max")
    olivia = UserFactory(username="olivia")
    MembershipFactory(lab=lab, user=olivia, role=Membership.Role.OWNER)
    MembershipFactory(lab=lab, user=max_, role=Membership.Role.MEMBER)
    paper = PaperFactory(
        conference=conference,
        forum_id="2dnO3LLiJ1",
        title="Vision Transformers Need Registers",
        authors=["Timothée Darcet", "Maxime Oquab", "Julien Mairal", "Piotr Bojanowski"],
        abstract="Transformers have recently emerged as a powerful tool for learning visual representations.",
        tldr="Adding register tokens to ViTs removes artefacts in their attention maps.",
        keywords=["vision transformers", "attention maps"],
        tier="oral",
        pdf_url="https://openreview.net/pdf?id=2dnO3LLiJ1",
    )
    session = SessionFactory(
        conference=conference,
        title="Oral 2A",
        kind="oral",
        room="Halle A 7",
        starts_at=dt.datetime(2024, 5, 8, 8, 0, tzinfo=dt.UTC),
        ends_at=dt.datetime(2024, 5, 8, 8, 45, tzinfo=dt.UTC),
    )
    PresentationFactory(paper=paper, session=session)
    ReadingStatusFactory(user=olivia, paper=paper, starred=True, state="read")
    services.add_note(
        author=olivia, paper=paper, lab=lab, kind="summary", body="Registers soak up the high-norm tokens."
    )
    services.add_note(author=olivia, paper=paper, lab=lab, kind="question", body="Does this hold for *DINOv2-S*?")

    paper_path = f"/labs/vision/iclr-2024/papers/{paper.forum_id}/"
    page.goto(f"{live_server.url}{paper_path}")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next={paper_path}")
    page.get_by_label("Username").fill("max")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Vision Transformers Need Registers")).to_be_visible()
    lab_view = page.locator("#paper-lab-view")
    expect(lab_view.get_by_role("row", name="olivia")).to_contain_text("Read")
    expect(lab_view.get_by_role("row", name="max")).to_contain_text("Not triaged")

    # Anything below happens in place: a full reload would drop this marker.
    page.evaluate("window.noReload = true")

    form = page.locator("form.note-form")
    form.get_by_label("Kind").select_option("note")
    form.get_by_label("Text").fill("**bold** and a list:\n\n- first\n- second")
    form.get_by_role("button", name="Add note").click()
    mine = page.locator("article.note", has_text="and a list")
    expect(mine.locator("strong")).to_have_text("bold")
    expect(mine.locator("li")).to_have_text(["first", "second"])
    expect(mine).to_contain_text("shared with Vision Lab")
    expect(page.locator("form.note-form").get_by_label("Text")).to_have_value("")
    expect(page.locator(f"#signals-{paper.pk}")).to_contain_text("3 notes")

    form = page.locator("form.note-form")
    form.get_by_label("Kind").select_option("todo")
    form.get_by_label("Private: only me").check()
    form.get_by_label("Text").fill("Try registers on our ViT-S")
    form.get_by_role("button", name="Add note").click()
    todo = page.locator("article.note--todo", has_text="Try registers on our ViT-S")
    expect(todo).to_contain_text("private")
    todo.get_by_role("checkbox", name="Done").click()
    expect(page.locator("article.note--todo.note--done")).to_have_count(1)
    expect(page.locator("article.note--todo").get_by_role("checkbox", name="Done")).to_have_attribute(
        "aria-checked", "true"
    )

    # My star updates my row of the lab's view too.
    page.locator(f"#triage-{paper.pk}").get_by_role("button", name="Star").click()
    expect(lab_view.get_by_role("row", name="max")).to_contain_text("Starred")
    page.locator(f"#triage-{paper.pk}").get_by_role("button", name="Reading").click()
    expect(page.locator("#paper-lab-view").get_by_role("row", name="max")).to_contain_text("Reading")

    assert page.evaluate("window.noReload") is True
    assert list(Note.objects.filter(author=max_).order_by("pk").values_list("kind", "done", "lab__slug")) == [
        ("note", False, "vision"),
        ("todo", True, None),
    ]
    assert ReadingStatus.objects.filter(user=max_, paper=paper, starred=True, state="reading").exists()
    screenshot("paper-page")

    # Edit in place, then delete, undo, and delete again (no confirmation: the deletion can be undone).
    mine.get_by_role("link", name="Edit").click()
    editor = page.locator(f"form#note-{Note.objects.get(author=max_, kind='note').pk}")
    expect(editor.get_by_label("Text")).to_have_value("**bold** and a list:\n\n- first\n- second")
    editor.get_by_label("Text").fill("*Registers* are cheap: 4 extra tokens.")
    editor.get_by_role("button", name="Save").click()
    edited = page.locator("article.note--note", has_text="are cheap")
    expect(edited.locator("em")).to_have_text("Registers")
    page.locator("article.note--todo").get_by_role("button", name="Delete").click()
    expect(page.locator("article.note--todo")).to_have_count(0)
    expect(page.locator(f"#signals-{paper.pk}")).to_contain_text("3 notes")
    expect(page.locator(".note-undo")).to_have_text(re.compile(r"^\s*Note deleted.\s+Undo\s*$"))
    page.locator(".note-undo").get_by_role("button", name="Undo").click()
    expect(page.locator("article.note--todo")).to_have_count(1)
    expect(page.locator(".note-undo")).to_have_text("Note restored.")
    expect(page.locator(f"#signals-{paper.pk}")).to_contain_text("4 notes")
    page.locator("article.note--todo").get_by_role("button", name="Delete").click()
    expect(page.locator("article.note--todo")).to_have_count(0)
    expect(page.locator(f"#signals-{paper.pk}")).to_contain_text("3 notes")
    assert page.evaluate("window.noReload") is True
    assert list(Note.objects.filter(author=max_).values_list("kind", "body", "version")) == [
        ("note", "*Registers* are cheap: 4 extra tokens.", 2)
    ]
