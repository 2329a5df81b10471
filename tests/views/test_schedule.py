import datetime as dt
import re
import zoneinfo

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from papers import services
from papers.models import ReadingStatus, Session
from papers.schedule import build_schedule, find_clashes
from tests.factories import (
    LabFactory,
    MembershipFactory,
    NoteFactory,
    PaperFactory,
    PresentationFactory,
    SessionFactory,
    UserFactory,
)

UTC = dt.UTC
VIENNA = zoneinfo.ZoneInfo("Europe/Vienna")


def url(lab, conference, name="schedule", *args) -> str:
    return reverse(name, args=[lab.slug, conference.slug, *args])


def at(day: int, hour: int, minute: int = 0, tz=VIENNA) -> dt.datetime:
    return dt.datetime(2024, 5, day, hour, minute, tzinfo=tz)


def html_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def star(user, paper, state="shortlisted"):
    return ReadingStatus.objects.create(user=user, paper=paper, state=state, starred=True)


@pytest.fixture
def conference(conference):
    conference.start_date, conference.end_date = dt.date(2024, 5, 7), dt.date(2024, 5, 11)
    conference.save()
    return conference


@pytest.fixture
def programme(conference):
    """Two days in Vienna: an oral session and a poster session on Tuesday, a day-only one on Wednesday."""
    orals = SessionFactory(
        conference=conference,
        kind=Session.Kind.ORAL,
        title="Oral 1A",
        room="Halle A",
        starts_at=at(7, 10),
        ends_at=at(7, 11),
    )
    posters = SessionFactory(
        conference=conference, title="Poster Session 1", room="Halle B", starts_at=at(7, 10, 30), ends_at=at(7, 12, 30)
    )
    allday = SessionFactory(conference=conference, title="Poster Session 2", day=dt.date(2024, 5, 8))
    registers = PaperFactory(conference=conference, title="Vision Transformers Need Registers", tier="oral")
    spiking = PaperFactory(conference=conference, title="Learning Delays in Spiking Neural Networks")
    coder = PaperFactory(conference=conference, title=r"$\mathcal{B}$-Coder: Value-Based Deep RL")
    PresentationFactory(paper=registers, session=orals, starts_at=at(7, 10), ends_at=at(7, 10, 15))
    PresentationFactory(paper=registers, session=posters, poster_position="#10")
    PresentationFactory(paper=spiking, session=posters, poster_position="#9")
    PresentationFactory(paper=coder, session=allday, poster_position="#1")
    return {
        "orals": orals,
        "posters": posters,
        "allday": allday,
        "registers": registers,
        "spiking": spiking,
        "coder": coder,
    }


# --- The schedule -----------------------------------------------------------------------------------


def test_schedule_shows_days_sessions_times_rooms_and_boards(member_client, lab, conference, programme):
    html = html_of(member_client.get(url(lab, conference)))
    assert "Times in Europe/Vienna" in html
    days = re.findall(r'<h2 class="sched-day__title" id="[^"]+">([^<]+)</h2>', html)
    assert days == ["Tuesday, 7 May 2024", "Wednesday, 8 May 2024"]
    sessions = re.findall(r'<h3 class="sched-session__title">([^<]+)</h3>', html)
    assert sessions == ["Oral 1A", "Poster Session 1", "Poster Session 2"]
    # Times are the conference's local times; the day-only session says so.
    assert '<span>10:00</span><span class="sched-session__until">–11:00</span>' in html
    assert '<span>10:30</span><span class="sched-session__until">–12:30</span>' in html
    assert '<span class="sched-session__allday">All day</span>' in html
    assert "Halle A" in html and "Halle B" in html
    assert '<span class="sched-kind sched-kind--oral">Oral</span>' in html
    # Posters in board order (#9 before #10); an oral's own slot.
    assert html.index("Board #9") < html.index("Board #10")
    assert '<span class="sched-paper__time">10:00–10:15</span>' in html
    assert "ℬ-Coder: Value-Based Deep RL" in html
    assert "Not yet scheduled" not in html
    # Before the conference every day is drawn; the day bar links to all days and to each day's own page.
    assert day_links(html) == [
        ("All days", f"{url(lab, conference)}?day=all", True),
        ("Tue 7 May", f"{url(lab, conference)}?day=2024-05-07", False),
        ("Wed 8 May", f"{url(lab, conference)}?day=2024-05-08", False),
    ]


def day_links(html: str) -> list[tuple[str, str, bool]]:
    links = re.findall(r'<a class="sched-days__link" href="([^"]+)"( aria-current="page")?>([^<]+)</a>', html)
    return [(label, href.replace("&amp;", "&"), bool(current)) for href, current, label in links]


def day_titles(html: str) -> list[str]:
    return re.findall(r'<h2 class="sched-day__title" id="[^"]+">([^<]+)</h2>', html)


def test_a_day_asked_for_is_drawn_alone_and_the_filters_stay(member_client, member, lab, conference, programme):
    star(member, programme["spiking"])
    star(member, programme["coder"])
    html = html_of(member_client.get(url(lab, conference), {"day": "2024-05-08"}))
    assert day_titles(html) == ["Wednesday, 8 May 2024"]
    assert re.findall(r'<h3 class="sched-session__title">([^<]+)</h3>', html) == ["Poster Session 2"]
    assert ("Wed 8 May", f"{url(lab, conference)}?day=2024-05-08", True) in day_links(html)
    assert '<input type="hidden" name="day" value="2024-05-08">' in html  # the kind filter keeps the day

    # My agenda's posters (Tuesday's and Wednesday's), Tuesday alone: the day links keep the view and the kind.
    agenda = html_of(member_client.get(url(lab, conference), {"mine": "1", "kind": "poster", "day": "2024-05-07"}))
    assert day_titles(agenda) == ["Tuesday, 7 May 2024"]
    assert day_links(agenda)[0] == ("All days", f"{url(lab, conference)}?mine=1&kind=poster&day=all", False)
    assert day_links(agenda)[2] == ("Wed 8 May", f"{url(lab, conference)}?mine=1&kind=poster&day=2024-05-08", False)


def test_while_the_conference_runs_the_page_opens_on_today(member_client, lab, conference, programme, monkeypatch):
    # 23:30 on 7 May in UTC is already 8 May in Vienna: the conference's own day counts.
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2024, 5, 7, 23, 30, tzinfo=dt.UTC))
    html = html_of(member_client.get(url(lab, conference)))
    assert day_titles(html) == ["Wednesday, 8 May 2024"]
    assert ("Wed 8 May", f"{url(lab, conference)}?day=2024-05-08", True) in day_links(html)
    assert '<input type="hidden" name="day"' not in html  # the default is not carried into the filters

    everything = html_of(member_client.get(url(lab, conference), {"day": "all"}))
    assert day_titles(everything) == ["Tuesday, 7 May 2024", "Wednesday, 8 May 2024"]


@pytest.mark.parametrize("asked", ["2024-05-09", "yesterday", "<script>"])
def test_a_day_the_schedule_does_not_have_shows_every_day(member_client, lab, conference, programme, asked):
    html = html_of(member_client.get(url(lab, conference), {"day": asked}))
    assert day_titles(html) == ["Tuesday, 7 May 2024", "Wednesday, 8 May 2024"]
    assert "<script>" not in html


def test_a_session_without_a_day_comes_last_under_not_yet_scheduled(member_client, lab, conference, programme):
    SessionFactory(conference=conference, title="Town Hall")
    html = html_of(member_client.get(url(lab, conference)))
    days = re.findall(r'<h2 class="sched-day__title" id="[^"]+">([^<]+)</h2>', html)
    assert days == ["Tuesday, 7 May 2024", "Wednesday, 8 May 2024", "Not yet scheduled"]
    assert html.index("Town Hall") > html.index("Poster Session 2")
    assert day_links(html)[-1] == ("Not yet scheduled", f"{url(lab, conference)}?day=unscheduled", False)
    alone = html_of(member_client.get(url(lab, conference), {"day": "unscheduled"}))
    assert day_titles(alone) == ["Not yet scheduled"]


def test_each_paper_shows_my_star_and_the_lab_stars(member_client, member, owner, lab, conference, programme):
    star(member, programme["spiking"])
    star(owner, programme["spiking"])
    html = html_of(member_client.get(url(lab, conference)))
    spiking = programme["spiking"]
    assert f'id="triage-{spiking.pk}"' in html
    assert 'class="star-toggle is-on" aria-pressed="true"' in html
    assert '<summary title="Starred by max, olivia">★ 2</summary>' in html


def test_the_lab_sees_its_own_events_and_never_another_labs(member_client, member, lab, conference, programme):
    services.add_event(
        lab=lab, conference=conference, by=member, title="Lab dinner", kind="social", day=dt.date(2024, 5, 7),
        starts=dt.time(19, 30), room="Figlmüller",
    )  # fmt: skip
    other = LabFactory(slug="other")
    Session.objects.create(conference=conference, lab=other, title="Their dinner", day=dt.date(2024, 5, 7))
    html = html_of(member_client.get(url(lab, conference)))
    assert "Lab dinner" in html and "Figlmüller" in html and "Vision Lab event · added by max" in html
    assert "<span>19:30</span>" in html
    assert "Their dinner" not in html


def test_my_agenda_holds_the_sessions_of_what_i_starred_or_shortlisted(
    member_client, member, lab, conference, programme
):
    ReadingStatus.objects.create(user=member, paper=programme["coder"], state="shortlisted")
    ReadingStatus.objects.create(user=member, paper=programme["spiking"], state="skipped")
    services.add_event(
        lab=lab, conference=conference, by=member, title="Lab dinner", kind="social", day=dt.date(2024, 5, 7)
    )
    html = html_of(member_client.get(url(lab, conference), {"mine": "1"}))
    assert "<h1>My agenda" in html
    sessions = re.findall(r'<h3 class="sched-session__title">([^<]+)</h3>', html)
    assert sessions == ["Lab dinner", "Poster Session 2"]
    assert "Learning Delays" not in html
    assert 'aria-current="page">My agenda</a>' in html


def test_the_lab_filter_shows_what_anyone_in_the_lab_starred(member_client, owner, lab, conference, programme):
    star(owner, programme["spiking"])
    html = html_of(member_client.get(url(lab, conference), {"lab": "1"}))
    assert re.findall(r'<h3 class="sched-session__title">([^<]+)</h3>', html) == ["Poster Session 1"]
    assert "Learning Delays" in html and "Vision Transformers" not in html


def test_the_kind_filter_keeps_one_kind_of_session(member_client, lab, conference, programme):
    html = html_of(member_client.get(url(lab, conference), {"kind": "oral"}))
    assert re.findall(r'<h3 class="sched-session__title">([^<]+)</h3>', html) == ["Oral 1A"]
    assert '<option value="oral" selected>Oral</option>' in html
    html = html_of(member_client.get(url(lab, conference), {"kind": "social"}))
    assert "No social sessions" in html


def test_an_unknown_kind_is_ignored(member_client, lab, conference, programme):
    html = html_of(member_client.get(url(lab, conference), {"kind": "banquet"}))
    assert len(re.findall(r'<h3 class="sched-session__title">', html)) == 3


def test_without_a_programme_the_page_says_how_to_import_it(member_client, lab, conference):
    html = html_of(member_client.get(url(lab, conference)))
    assert "No schedule yet" in html
    assert "<code>python manage.py import_schedule schedule.json --conference iclr-2024</code>" in html


def test_an_empty_agenda_says_to_star_or_shortlist(member_client, lab, conference, programme):
    html = html_of(member_client.get(url(lab, conference), {"mine": "1"}))
    assert "Your agenda is empty" in html
    assert "Star or shortlist papers in" in html


# --- Clashes ----------------------------------------------------------------------------------------


def agenda(conference, lab, user):
    return build_schedule(conference=conference, lab=lab, user=user, mine=True)


def clashes_by_title(schedule) -> dict[str, list[str]]:
    return {
        slot.paper.title: [clash.paper.title for clash in slot.clashes]
        for day in schedule.days
        for block in day.sessions
        for slot in block.slots
        if slot.clashes
    }


def two_talks(conference, first: tuple, second: tuple):
    """Two papers, each in its own session at these (start, end) times."""
    papers = []
    for index, (starts, ends) in enumerate((first, second)):
        session = SessionFactory(conference=conference, title=f"Session {index}", starts_at=starts, ends_at=ends)
        paper = PaperFactory(conference=conference, title=f"Paper {'AB'[index]}")
        PresentationFactory(paper=paper, session=session)
        papers.append(paper)
    return papers


def test_overlapping_starred_papers_clash_on_both(lab, member, conference):
    a, b = two_talks(conference, (at(7, 10), at(7, 11)), (at(7, 10, 30), at(7, 12)))
    star(member, a)
    star(member, b)
    schedule = agenda(conference, lab, member)
    assert clashes_by_title(schedule) == {"Paper A": ["Paper B"], "Paper B": ["Paper A"]}
    assert schedule.clash_count == 1


def test_touching_sessions_do_not_clash(lab, member, conference):
    a, b = two_talks(conference, (at(7, 10), at(7, 11)), (at(7, 11), at(7, 12)))
    star(member, a)
    star(member, b)
    assert clashes_by_title(agenda(conference, lab, member)) == {}


def test_a_day_only_session_never_clashes_with_a_timed_one(lab, member, conference):
    a, b = two_talks(conference, (at(7, 10), at(7, 11)), (None, None))
    Session.objects.filter(title="Session 1").update(day=dt.date(2024, 5, 7))
    star(member, a)
    star(member, b)
    assert clashes_by_title(agenda(conference, lab, member)) == {}


def test_times_in_different_zones_compare_by_the_instant(lab, member, conference):
    # 08:00 UTC and 10:00+02:00 are the same instant.
    plus_two = dt.timezone(dt.timedelta(hours=2))
    a, b = two_talks(
        conference,
        (dt.datetime(2024, 5, 7, 8, tzinfo=UTC), dt.datetime(2024, 5, 7, 9, tzinfo=UTC)),
        (dt.datetime(2024, 5, 7, 10, tzinfo=plus_two), dt.datetime(2024, 5, 7, 10, 30, tzinfo=plus_two)),
    )
    star(member, a)
    star(member, b)
    assert clashes_by_title(agenda(conference, lab, member)) == {"Paper A": ["Paper B"], "Paper B": ["Paper A"]}
    # An hour apart in the same clock time is no clash: 10:00 UTC is 12:00 in Vienna.
    Session.objects.filter(title="Session 1").update(
        starts_at=dt.datetime(2024, 5, 7, 10, tzinfo=UTC), ends_at=dt.datetime(2024, 5, 7, 10, 30, tzinfo=UTC)
    )
    assert clashes_by_title(agenda(conference, lab, member)) == {}


def test_only_starred_papers_clash(lab, member, conference):
    a, b = two_talks(conference, (at(7, 10), at(7, 11)), (at(7, 10), at(7, 11)))
    star(member, a)
    ReadingStatus.objects.create(user=member, paper=b, state="shortlisted")
    assert clashes_by_title(agenda(conference, lab, member)) == {}


def test_an_orals_own_slot_decides_its_clashes(lab, member, conference, programme):
    # Registers' talk is 10:00–10:15 inside Oral 1A; Spiking's poster session starts at 10:30.
    star(member, programme["registers"])
    star(member, programme["spiking"])
    schedule = agenda(conference, lab, member)
    # Registers' poster (10:30–12:30) and Spiking's share the poster session: a clash; the talk does not.
    clashes = {
        (block.session.title, slot.paper.title): [c.paper.title for c in slot.clashes]
        for day in schedule.days
        for block in day.sessions
        for slot in block.slots
    }
    assert clashes[("Oral 1A", "Vision Transformers Need Registers")] == []
    assert clashes[("Poster Session 1", "Vision Transformers Need Registers")] == [
        "Learning Delays in Spiking Neural Networks"
    ]


def test_find_clashes_ignores_a_paper_against_itself(conference):
    paper = PaperFactory(conference=conference)
    first = PresentationFactory(
        paper=paper, session=SessionFactory(conference=conference, starts_at=at(7, 10), ends_at=at(7, 11))
    )
    second = PresentationFactory(
        paper=paper, session=SessionFactory(conference=conference, starts_at=at(7, 10), ends_at=at(7, 11))
    )
    assert find_clashes([first, second]) == {}


def test_the_agenda_flags_a_clash_and_offers_a_choice(member_client, member, lab, conference):
    a, b = two_talks(conference, (at(7, 10), at(7, 11)), (at(7, 10, 30), at(7, 12)))
    star(member, a)
    star(member, b)
    html = html_of(member_client.get(url(lab, conference), {"mine": "1"}))
    assert "1 clash between papers you starred" in html
    assert html.count("Clashes with") == 2
    assert re.search(r"Clashes with <a href=\"#slot-\d+\">Paper B</a> \( ?10:30–12:00\)", html)
    assert f'name="keep" value="{a.forum_id}"> <input type="hidden" name="drop" value="{b.forum_id}">' in html
    on_the_day = html_of(member_client.get(url(lab, conference), {"mine": "1", "day": "2024-05-07"}))
    assert '<input type="hidden" name="day" value="2024-05-07">' in on_the_day.split('name="keep"')[1]
    # The whole programme does not flag clashes.
    assert "Clashes with" not in html_of(member_client.get(url(lab, conference)))


def test_choosing_keeps_one_and_unstars_the_other(member_client, member, lab, conference):
    a, b = two_talks(conference, (at(7, 10), at(7, 11)), (at(7, 10, 30), at(7, 12)))
    star(member, a)
    star(member, b)
    response = member_client.post(url(lab, conference, "clash_choose"), {"keep": a.forum_id, "drop": b.forum_id})
    assert response.status_code == 302
    assert response["Location"] == f"{url(lab, conference)}?mine=1"
    assert messages_of(response) == ["Kept “Paper A”; unstarred “Paper B”."]
    # From a day's page, back to that day (a day that is no day's key is dropped).
    for day, back in [("2024-05-07", "?mine=1&day=2024-05-07"), ("all", "?mine=1&day=all"), ("x&y=1", "?mine=1")]:
        again = member_client.post(
            url(lab, conference, "clash_choose"), {"keep": a.forum_id, "drop": b.forum_id, "day": day}
        )
        assert again["Location"] == f"{url(lab, conference)}{back}"
    assert ReadingStatus.objects.get(user=member, paper=a).starred is True
    dropped = ReadingStatus.objects.get(user=member, paper=b)
    assert (dropped.starred, dropped.state) == (False, "shortlisted")
    assert "Clashes with" not in html_of(member_client.get(url(lab, conference), {"mine": "1"}))


def test_choosing_needs_two_different_papers(member_client, member, lab, conference, paper):
    star(member, paper)
    response = member_client.post(
        url(lab, conference, "clash_choose"), {"keep": paper.forum_id, "drop": paper.forum_id}
    )
    assert messages_of(response) == ["Choose which of the two papers to keep."]
    assert ReadingStatus.objects.get(user=member, paper=paper).starred is True
    missing = member_client.post(url(lab, conference, "clash_choose"), {"keep": paper.forum_id, "drop": "nope"})
    assert missing.status_code == 404


# --- The lab's own events ---------------------------------------------------------------------------

EVENT = {
    "title": "Lab dinner",
    "kind": "social",
    "day": "2024-05-08",
    "starts": "19:30",
    "ends": "22:00",
    "room": "Figlmüller",
}


def test_a_member_adds_an_event_in_the_conference_time(member_client, member, lab, conference):
    response = member_client.post(url(lab, conference, "event_add"), EVENT)
    event = Session.objects.get(lab=lab)
    assert response.status_code == 302
    # On the event's own day: while the conference runs, the schedule would open on today's.
    assert response["Location"] == f"{url(lab, conference)}?day=2024-05-08#session-{event.pk}"
    assert messages_of(response) == ["Added “Lab dinner” to Vision Lab's schedule: everyone in the lab sees it."]
    assert (event.title, event.kind, event.room, event.created_by, event.conference) == (
        "Lab dinner", "social", "Figlmüller", member, conference,
    )  # fmt: skip
    # 19:30 in Vienna (summer time, UTC+2) is 17:30 UTC.
    assert event.starts_at == dt.datetime(2024, 5, 8, 17, 30, tzinfo=UTC)
    assert event.ends_at == dt.datetime(2024, 5, 8, 20, 0, tzinfo=UTC)
    assert event.day == dt.date(2024, 5, 8)


def test_an_all_day_event_needs_no_times(member_client, lab, conference):
    member_client.post(url(lab, conference, "event_add"), {**EVENT, "starts": "", "ends": ""})
    event = Session.objects.get(lab=lab)
    assert (event.day, event.starts_at, event.ends_at) == (dt.date(2024, 5, 8), None, None)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"ends": "19:00"}, "The event must end after it starts (an event past midnight: leave the end empty)."),
        ({"starts": ""}, "Give a start time too, or leave both times empty for an all-day event."),
        ({"day": "2024-05-20"}, "Choose a day of the conference, from Tue 7 May to Sat 11 May 2024."),
        ({"title": ""}, "Give the event a title."),
        ({"day": ""}, "Choose the day of the event."),
        ({"kind": "oral"}, "Select a valid choice. oral is not one of the available choices."),
    ],
)
def test_a_bad_event_is_refused_with_a_clear_message(member_client, lab, conference, change, error):
    response = member_client.post(url(lab, conference, "event_add"), {**EVENT, **change})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Session.objects.filter(lab=lab).exists()
    assert '<details class="sched-add" id="add-event" open>' in response.content.decode()


@pytest.fixture
def dinner(lab, member, conference):
    return services.add_event(
        lab=lab, conference=conference, by=member, title="Lab dinner", kind="social", day=dt.date(2024, 5, 8),
        starts=dt.time(19, 30), ends=dt.time(22, 0), room="Figlmüller",
    )  # fmt: skip


def test_the_creator_edits_an_event_shown_in_local_time(member_client, lab, conference, dinner):
    html = html_of(member_client.get(url(lab, conference, "event_edit", dinner.pk)))
    assert 'value="19:30"' in html and 'value="22:00"' in html and 'value="2024-05-08"' in html
    assert f'href="{url(lab, conference)}?day=2024-05-08#session-{dinner.pk}">Cancel</a>' in html
    response = member_client.post(
        url(lab, conference, "event_edit", dinner.pk),
        {**EVENT, "title": "Lab dinner (moved)", "day": "2024-05-09", "starts": "20:00"},
    )
    assert response["Location"] == f"{url(lab, conference)}?day=2024-05-09#session-{dinner.pk}"  # its new day
    assert messages_of(response) == ["Saved “Lab dinner (moved)”."]
    dinner.refresh_from_db()
    assert (dinner.title, dinner.starts_at) == ("Lab dinner (moved)", dt.datetime(2024, 5, 9, 18, tzinfo=UTC))


def test_an_invalid_edit_changes_nothing(member_client, lab, conference, dinner):
    response = member_client.post(url(lab, conference, "event_edit", dinner.pk), {**EVENT, "ends": "18:00"})
    assert response.status_code == 400
    assert "The event must end after it starts" in response.content.decode()
    dinner.refresh_from_db()
    assert dinner.ends_at == dt.datetime(2024, 5, 8, 20, tzinfo=UTC)


def test_an_owner_may_edit_and_delete_a_members_event(client, owner, lab, conference, dinner):
    client.force_login(owner)
    assert client.get(url(lab, conference, "event_edit", dinner.pk)).status_code == 200
    response = client.post(url(lab, conference, "event_delete", dinner.pk))
    assert response["Location"] == url(lab, conference)
    assert messages_of(response) == ["Deleted “Lab dinner” from Vision Lab's schedule."]
    assert not Session.objects.filter(pk=dinner.pk).exists()


def test_another_member_gets_404_on_someone_elses_event(client, lab, conference, dinner):
    zoe = UserFactory(username="zoe")
    MembershipFactory(lab=lab, user=zoe)
    client.force_login(zoe)
    assert client.get(url(lab, conference, "event_edit", dinner.pk)).status_code == 404
    assert client.post(url(lab, conference, "event_edit", dinner.pk), EVENT).status_code == 404
    assert client.post(url(lab, conference, "event_delete", dinner.pk)).status_code == 404
    dinner.refresh_from_db()
    assert dinner.title == "Lab dinner"
    # They see it on the schedule, without an edit link.
    html = html_of(client.get(url(lab, conference)))
    assert "Lab dinner" in html and url(lab, conference, "event_edit", dinner.pk) not in html


def test_the_creator_sees_an_edit_link_and_deletes(member_client, lab, conference, dinner):
    assert url(lab, conference, "event_edit", dinner.pk) in html_of(member_client.get(url(lab, conference)))
    member_client.post(url(lab, conference, "event_delete", dinner.pk))
    assert not Session.objects.filter(pk=dinner.pk).exists()


def test_programme_sessions_and_other_labs_events_cannot_be_edited(client, owner, lab, conference, programme):
    client.force_login(owner)
    theirs = Session.objects.create(conference=conference, lab=LabFactory(slug="other"), title="Theirs")
    for session in (programme["orals"], theirs):
        assert client.get(url(lab, conference, "event_edit", session.pk)).status_code == 404
        assert client.post(url(lab, conference, "event_delete", session.pk)).status_code == 404
    assert Session.objects.filter(pk__in=[programme["orals"].pk, theirs.pk]).count() == 2


# --- Authorization ----------------------------------------------------------------------------------


@pytest.fixture
def all_urls(lab, conference, dinner):
    return [
        ("get", url(lab, conference)),
        ("post", url(lab, conference, "event_add")),
        ("get", url(lab, conference, "event_edit", dinner.pk)),
        ("post", url(lab, conference, "event_edit", dinner.pk)),
        ("post", url(lab, conference, "event_delete", dinner.pk)),
        ("post", url(lab, conference, "clash_choose")),
    ]


def test_anonymous_visitors_are_sent_to_login(client, all_urls):
    for method, address in all_urls:
        response = getattr(client, method)(address)
        assert (response.status_code, response["Location"]) == (302, f"{reverse('login')}?next={address}")


def test_outsiders_get_404(outsider_client, all_urls, dinner):
    for method, address in all_urls:
        assert getattr(outsider_client, method)(address, EVENT).status_code == 404
    assert Session.objects.filter(pk=dinner.pk).exists()


def test_the_schedule_answers_get_only(member_client, lab, conference):
    assert member_client.post(url(lab, conference)).status_code == 405
    assert member_client.get(url(lab, conference, "event_add")).status_code == 405
    assert member_client.get(url(lab, conference, "clash_choose")).status_code == 405


# --- Query counts -----------------------------------------------------------------------------------


def populate(conference, lab, member, *, sessions: int, papers: int, members: int) -> None:
    others = [UserFactory() for _ in range(members - 1)]
    for other in others:
        MembershipFactory(lab=lab, user=other)
    rooms = [
        SessionFactory(
            conference=conference, starts_at=at(7 + index % 2, 9 + index), ends_at=at(7 + index % 2, 10 + index)
        )
        for index in range(sessions)
    ]
    for number in range(papers):
        paper = PaperFactory(conference=conference)
        PresentationFactory(paper=paper, session=rooms[number % sessions], poster_position=f"#{number}")
        for user in [member, *others]:
            ReadingStatus.objects.create(user=user, paper=paper, state="read", starred=True)
            NoteFactory(paper=paper, author=user, lab=lab)
    Session.objects.create(conference=conference, lab=lab, title="Dinner", day=dt.date(2024, 5, 7), created_by=member)


# session, user, membership+lab, conference; the sessions, the papers, their lab statuses and notes,
# the presentations.
SCHEDULE_QUERIES = 9


@pytest.mark.parametrize(("sessions", "papers", "members"), [(1, 1, 1), (6, 40, 1), (1, 1, 10), (6, 40, 10)])
@pytest.mark.parametrize("query", [{}, {"mine": "1"}, {"lab": "1", "kind": "poster"}])
def test_query_count_is_fixed(
    member_client, member, lab, conference, django_assert_num_queries, sessions, papers, members, query
):
    populate(conference, lab, member, sessions=sessions, papers=papers, members=members)
    with django_assert_num_queries(SCHEDULE_QUERIES):
        response = member_client.get(url(lab, conference), query)
    assert html_of(response).count('id="slot-') == papers
    # A second look with nothing changed: session, user, membership+lab with the conference's version; the
    # rest, the conference's row too, is cached (papers.versions).
    with django_assert_num_queries(3):
        assert html_of(member_client.get(url(lab, conference), query)).count('id="slot-') == papers


@pytest.mark.parametrize(("sessions", "papers", "members"), [(1, 1, 1), (6, 40, 1), (1, 1, 10), (6, 40, 10)])
def test_a_days_page_makes_the_same_queries_and_draws_that_day_alone(
    member_client, member, lab, conference, django_assert_num_queries, sessions, papers, members
):
    populate(conference, lab, member, sessions=sessions, papers=papers, members=members)
    on_tuesday = sum(1 for number in range(papers) if number % sessions % 2 == 0)  # populate's even rooms
    with django_assert_num_queries(SCHEDULE_QUERIES):
        html = html_of(member_client.get(url(lab, conference), {"day": "2024-05-07"}))
    assert html.count('id="slot-') == on_tuesday
    with django_assert_num_queries(3):  # again, with nothing changed: from the cache
        again = html_of(member_client.get(url(lab, conference), {"day": "2024-05-07"}))
    assert again.count('id="slot-') == on_tuesday


def test_the_cached_schedule_shows_a_new_lab_event_at_once(member_client, member, lab, conference):
    populate(conference, lab, member, sessions=1, papers=1, members=1)
    assert "Poster walk" not in html_of(member_client.get(url(lab, conference)))
    Session.objects.create(conference=conference, lab=lab, title="Poster walk", day=dt.date(2024, 5, 8))
    assert "Poster walk" in html_of(member_client.get(url(lab, conference)))
