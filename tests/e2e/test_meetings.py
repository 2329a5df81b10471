import datetime as dt
import zoneinfo

from playwright.sync_api import expect

from papers import services
from papers.models import Meeting, Membership, ReadingStatus
from tests.e2e.test_list import log_in
from tests.factories import ConferenceFactory, LabFactory, MembershipFactory, NoteFactory, PaperFactory, UserFactory


def test_schedule_a_meeting_with_a_presenter_open_it_and_mark_it_held(live_server, page, screenshot, transactional_db):
    conference = ConferenceFactory(slug="iclr-2024", name="ICLR 2024", timezone="Europe/Vienna")
    lab = LabFactory(name="Vision Lab", slug="vision")
    olivia, max_ = UserFactory(username="olivia"), UserFactory(username="max")
    MembershipFactory(lab=lab, user=olivia, role=Membership.Role.OWNER)
    MembershipFactory(lab=lab, user=max_)
    registers = PaperFactory(
        conference=conference,
        title="Vision Transformers Need Registers",
        authors=["Timothée Darcet", "Maxime Oquab", "Julien Mairal", "Piotr Bojanowski"],
        abstract="Transformers have recently emerged as a powerful tool for learning visual representations. "
        "We identify artifacts in feature maps and propose registers to remove them.",
    )
    spiking = PaperFactory(conference=conference, title="Learning Delays in Spiking Neural Networks")
    for paper in (registers, spiking):
        services.set_star(user=max_, paper=paper, starred=True)
    NoteFactory(paper=registers, author=olivia, lab=lab, kind="summary", body="Registers soak up the *artefacts*.")
    day = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).date()

    log_in(page, live_server, "max")
    page.goto(f"{live_server.url}/labs/vision/meetings/new/")
    page.get_by_label("Day").fill(day.isoformat())
    page.get_by_label("Starts").fill("16:00")
    page.get_by_label("Ends").fill("17:00")
    page.get_by_label("Time zone").fill("Europe/Vienna")
    page.get_by_label("Where").fill("Seminar room 2")
    page.get_by_label("Agenda").fill("Two papers, then **pizza**.")
    row = page.locator(".meet-row", has_text="Vision Transformers Need Registers")
    row.get_by_role("checkbox").check()
    row.get_by_label("Presenter").select_option(label="olivia")
    screenshot("meeting-form")
    page.get_by_role("button", name="Schedule the meeting").click()

    expect(page.get_by_text("The meeting is scheduled")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Reading group,")
    card = page.locator(".meet-paper", has_text="Vision Transformers Need Registers")
    expect(card.locator(".meet-role", has_text="Presenter")).to_contain_text("olivia")
    expect(card).to_contain_text("Registers soak up the artefacts.")
    card.get_by_role("button", name="I'll lead").click()
    expect(page.get_by_text("You lead the discussion of")).to_be_visible()
    expect(card.locator(".meet-role", has_text="Discussion lead")).to_contain_text("max (you)")

    page.goto(f"{live_server.url}/labs/vision/meetings/")
    expect(page.locator("#upcoming-meetings")).to_contain_text("Vision Transformers Need Registers — olivia presents")
    screenshot("meeting-upcoming")
    expect(page.locator(".meet-upcoming__when").first).to_contain_text("16:00 Europe/Vienna")
    page.locator(".meet-upcoming__when").first.click()  # shown in the meeting's zone, Europe/Vienna

    page.get_by_label("olivia").uncheck()  # olivia could not come after all
    page.get_by_role("button", name="Mark held: papers read for attendees").click()
    expect(page.get_by_text("Marked held: its papers are read for 1 attendee.")).to_be_visible()
    expect(page.locator(".meet-held-form")).to_contain_text("attended by max")
    screenshot("meeting")

    meeting = Meeting.objects.get()
    assert meeting.held_at is not None
    assert meeting.starts_at == dt.datetime.combine(day, dt.time(16), tzinfo=zoneinfo.ZoneInfo("Europe/Vienna"))
    assert list(ReadingStatus.objects.filter(state="read").values_list("user__username", "paper__title")) == [
        ("max", "Vision Transformers Need Registers")
    ]

    page.goto(f"{live_server.url}/")
    expect(page.locator("#upcoming-meetings")).to_have_count(0)  # held: no longer upcoming
