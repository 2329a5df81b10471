import datetime as dt
import re
import zoneinfo

from playwright.sync_api import expect

from papers.models import Membership, ReadingStatus, Session
from tests.e2e.test_list import log_in
from tests.factories import (
    ConferenceFactory,
    LabFactory,
    MembershipFactory,
    PaperFactory,
    PresentationFactory,
    SessionFactory,
    UserFactory,
)

VIENNA = zoneinfo.ZoneInfo("Europe/Vienna")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, 5, day, hour, minute, tzinfo=VIENNA)


def test_schedule_agenda_clash_and_a_lab_event(live_server, page, screenshot, transactional_db):
    conference = ConferenceFactory(
        slug="iclr-2024",
        name="ICLR 2024",
        timezone="Europe/Vienna",
        city="Vienna",
        start_date=dt.date(2024, 5, 7),
        end_date=dt.date(2024, 5, 11),
    )
    lab = LabFactory(name="Vision Lab", slug="vision")
    max_ = UserFactory(username="max")
    olivia = UserFactory(username="olivia")
    MembershipFactory(lab=lab, user=max_, role=Membership.Role.MEMBER)
    MembershipFactory(lab=lab, user=olivia, role=Membership.Role.OWNER)

    orals = SessionFactory(
        conference=conference,
        kind="oral",
        title="Oral 1A: Vision",
        room="Halle A",
        starts_at=at(7, 10),
        ends_at=at(7, 11),
    )
    posters = SessionFactory(
        conference=conference, title="Poster Session 1", room="Halle B", starts_at=at(7, 10, 30), ends_at=at(7, 12, 30)
    )
    day_two = SessionFactory(conference=conference, title="Poster Session 3", room="Halle B", day=dt.date(2024, 5, 8))
    registers = PaperFactory(conference=conference, title="Vision Transformers Need Registers", tier="oral")
    spiking = PaperFactory(conference=conference, title="Learning Delays in Spiking Neural Networks")
    coder = PaperFactory(conference=conference, title=r"$\mathcal{B}$-Coder: Value-Based Deep RL for Program Synthesis")
    flow = PaperFactory(conference=conference, title="Flow Matching on General Geometries", tier="spotlight")
    PresentationFactory(paper=registers, session=orals)
    PresentationFactory(paper=spiking, session=posters, poster_position="#2504")
    PresentationFactory(paper=coder, session=posters, poster_position="#2511")
    PresentationFactory(paper=flow, session=day_two, poster_position="#107")
    for paper in (registers, spiking, flow):
        ReadingStatus.objects.create(user=max_, paper=paper, state="shortlisted", starred=True)
    ReadingStatus.objects.create(user=olivia, paper=spiking, state="read", starred=True)

    log_in(page, live_server, "max")
    page.goto(f"{live_server.url}/labs/vision/iclr-2024/schedule/")
    expect(page.get_by_role("heading", name="Tuesday, 7 May 2024")).to_be_visible()

    # Add the lab's dinner from the page.
    page.get_by_text("+ Add a lab event").click()
    form = page.locator("#add-event form")
    form.get_by_label("Title").fill("Vision Lab dinner")
    form.get_by_label("Kind").select_option("social")
    form.get_by_role("textbox", name="Day").fill("2024-05-07")
    form.get_by_label("Starts").fill("19:30")
    form.get_by_label("Where").fill("Figlmüller, Wollzeile 5")
    page.get_by_role("button", name="Add to the schedule").click()
    expect(page.get_by_text("Added “Vision Lab dinner” to Vision Lab's schedule")).to_be_visible()
    dinner = Session.objects.get(lab=lab)
    assert dinner.starts_at == dt.datetime(2024, 5, 7, 17, 30, tzinfo=dt.UTC)
    expect(page.locator(f"#session-{dinner.pk}")).to_contain_text("19:30")
    page.goto(f"{live_server.url}/labs/vision/iclr-2024/schedule/")
    screenshot("schedule")

    # My agenda: the oral and the poster I starred overlap.
    page.get_by_role("link", name="My agenda", exact=True).click()
    expect(page.get_by_role("heading", name="My agenda")).to_be_visible()
    expect(page.get_by_text("1 clash between papers you starred")).to_be_visible()
    expect(page.get_by_text("Clashes with")).to_have_count(2)
    expect(page.get_by_text("ℬ-Coder")).to_have_count(0)
    screenshot("agenda")

    page.get_by_role("button", name=re.compile(r"unstar the other\W+keep “Vision Transformers Need Registers”")).click()
    expect(page.get_by_text("Kept “Vision Transformers Need Registers”; unstarred “Learning Delays")).to_be_visible()
    expect(page.get_by_text("Clashes with")).to_have_count(0)
    assert ReadingStatus.objects.get(user=max_, paper=spiking).starred is False
