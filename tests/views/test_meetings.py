"""Reading-group meetings: scheduling with a fair rotation, volunteering, the meeting page and its exports."""

import datetime as dt
import re

import icalendar
import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from papers import services
from papers.meetings import rotation, suggest_presenters, upcoming_meetings
from papers.models import Meeting, MeetingPaper, Membership, ReadingStatus
from tests.factories import LabFactory, MembershipFactory, NoteFactory, PaperFactory, UserFactory

UTC = dt.UTC


def at(day: int, hour: int = 14) -> dt.datetime:
    return dt.datetime(2030, 6, day, hour, tzinfo=UTC)


def html_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def meeting_of(lab, by, papers, starts=None, presenters=(), **fields):
    meeting = Meeting.objects.create(lab=lab, created_by=by, starts_at=starts or at(3), **fields)
    for n, paper in enumerate(papers):
        presenter = presenters[n] if n < len(presenters) else None
        MeetingPaper.objects.create(meeting=meeting, paper=paper, presenter=presenter, position=n)
    return meeting


def url(name, lab, *args) -> str:
    return reverse(name, args=[lab.slug, *args])


@pytest.fixture
def team(lab, owner, member):
    """olivia (owner), max and two more members, ann and zoe."""
    ann, zoe = UserFactory(username="ann"), UserFactory(username="zoe")
    MembershipFactory(lab=lab, user=ann)
    MembershipFactory(lab=lab, user=zoe)
    return {"olivia": owner, "max": member, "ann": ann, "zoe": zoe}


@pytest.fixture
def starred(conference, lab, member):
    """Two papers starred by max: the lab's candidates."""
    papers = [PaperFactory(conference=conference, title=title) for title in ("Alpha paper", "Beta paper")]
    for paper in papers:
        services.set_star(user=member, paper=paper, starred=True)
    return papers


# --- The rotation --------------------------------------------------------------------------------------


def test_rotation_puts_never_presented_first_then_least_recent_then_least_often(lab, team, conference):
    papers = PaperFactory.create_batch(4, conference=conference)
    olivia, max_, ann = team["olivia"], team["max"], team["ann"]
    # olivia presented twice, last on the 2nd; max once, on the 2nd; ann once, long ago; zoe never.
    meeting_of(lab, olivia, [papers[0]], starts=at(1), presenters=[ann])
    meeting_of(lab, olivia, [papers[1], papers[2], papers[3]], starts=at(2), presenters=[olivia, max_, olivia])
    # Another lab's meetings do not count.
    other = LabFactory(slug="other")
    MembershipFactory(lab=other, user=UserFactory(username="zoe"))
    meeting_of(other, team["zoe"], [papers[0]], starts=at(5), presenters=[team["zoe"]])

    order = rotation(lab)

    assert [(u.username, u.presented) for u in order] == [("zoe", 0), ("ann", 1), ("max", 1), ("olivia", 2)]
    assert [u.username for u in suggest_presenters(lab, 6)] == ["zoe", "ann", "max", "olivia", "zoe", "ann"]


def test_rotation_ties_go_to_fewest_presentations_then_username(lab, team, conference):
    papers = PaperFactory.create_batch(3, conference=conference)
    meeting_of(lab, team["olivia"], papers, starts=at(4), presenters=[team["max"], team["ann"], team["max"]])
    assert [u.username for u in rotation(lab)] == ["olivia", "zoe", "ann", "max"]


def test_the_form_is_prefilled_with_the_rotation(client, lab, team, starred):
    meeting_of(lab, team["olivia"], [starred[0]], starts=at(1), presenters=[team["olivia"]])
    client.force_login(team["max"])
    response = client.get(url("meeting_new", lab) + f"?papers={starred[1].pk}")
    form = response.context["form"]
    # The preselected paper comes first and gets the first suggestion.
    rows = [(paper.title, presenter.value()) for paper, presenter, _ in form.rows]
    assert rows == [("Beta paper", team["ann"].pk), ("Alpha paper", team["max"].pk)]
    assert form["papers"].value() == [starred[1].pk]
    html = html_of(response)
    assert f'<option value="{team["ann"].pk}" selected>ann</option>' in html


# --- Scheduling, editing, deleting ------------------------------------------------------------------------


def schedule_data(chosen, **extra):
    data = {"day": "2030-06-03", "starts": "16:00", "ends": "17:30", "time_zone": "Europe/Vienna"}
    data |= {"place": "https://meet.example.org/rg", "agenda": "Read **both**.", "papers": [p.pk for p in chosen]}
    return data | extra


def test_a_member_schedules_a_meeting_in_their_time_zone(client, lab, team, starred):
    client.force_login(team["max"])
    data = schedule_data(starred, **{f"presenter_{starred[0].pk}": team["zoe"].pk, f"lead_{starred[0].pk}": ""})
    data[f"presenter_{starred[1].pk}"] = ""
    data[f"lead_{starred[1].pk}"] = team["olivia"].pk
    response = client.post(url("meeting_new", lab), data)
    meeting = Meeting.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("meeting_detail", lab, meeting.pk)
    assert (meeting.starts_at, meeting.ends_at) == (at(3, 14), dt.datetime(2030, 6, 3, 15, 30, tzinfo=UTC))
    # Shown in the zone it was planned in: 16:00 in Vienna is 14:00 UTC.
    assert meeting.time_zone == "Europe/Vienna"
    page = html_of(client.get(url("meeting_detail", lab, meeting.pk)))
    assert "16:00–17:30 Europe/Vienna</time>" in page
    assert (meeting.place, meeting.agenda, meeting.created_by) == (
        "https://meet.example.org/rg",
        "Read **both**.",
        team["max"],
    )
    assert list(
        MeetingPaper.objects.values_list("paper__title", "presenter__username", "discussion_lead__username")
    ) == [
        ("Alpha paper", "zoe", None),
        ("Beta paper", None, "olivia"),
    ]
    # A double submit makes no second meeting.
    client.post(url("meeting_new", lab), data)
    assert Meeting.objects.count() == 1


def test_a_paper_can_be_added_by_forum_id_with_the_next_presenter(client, lab, team, conference):
    paper = PaperFactory(conference=conference, forum_id="Xy_12-z", title="By forum id")
    client.force_login(team["max"])
    client.post(url("meeting_new", lab), schedule_data([], forum_id="Xy_12-z"))
    slot = MeetingPaper.objects.get()
    assert (slot.paper, slot.presenter.username) == (paper, "ann")  # nobody presented: ann first by name


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"papers": []}, "Choose at least one paper to read: tick it, or give its forum id."),
        ({"ends": "15:00"}, "The meeting must end after it starts (past midnight: leave the end empty)."),
        ({"time_zone": "Mars/Base"}, "'Mars/Base' is not a known time zone (use a name such as Europe/Vienna)."),
        ({"forum_id": "nope", "papers": []}, "No paper has the forum id nope."),
    ],
)
def test_invalid_meetings_are_refused_with_a_reason(client, lab, team, starred, data, error):
    client.force_login(team["max"])
    response = client.post(url("meeting_new", lab), schedule_data(starred, **data))
    assert response.status_code == 200
    assert error in [e for errors in response.context["form"].errors.values() for e in errors]
    assert not Meeting.objects.exists()


def test_a_presenter_must_be_a_member(client, lab, team, starred, outsider):
    client.force_login(team["max"])
    client.post(url("meeting_new", lab), schedule_data(starred[:1], **{f"presenter_{starred[0].pk}": outsider.pk}))
    assert not Meeting.objects.exists()


def test_creator_edits_and_others_get_404_unless_owner(client, lab, team, starred):
    meeting = meeting_of(lab, team["max"], starred, presenters=[team["max"]])
    client.force_login(team["ann"])
    assert client.get(url("meeting_edit", lab, meeting.pk)).status_code == 404
    assert client.post(url("meeting_delete", lab, meeting.pk)).status_code == 404
    assert Meeting.objects.filter(pk=meeting.pk).exists()

    client.force_login(team["max"])
    form = client.get(url("meeting_edit", lab, meeting.pk)).context["form"]
    assert (form["day"].value(), form["starts"].value(), form["papers"].value()) == (
        dt.date(2030, 6, 3), dt.time(14), [starred[0].pk, starred[1].pk]
    )  # fmt: skip
    data = schedule_data(starred[1:], time_zone="UTC", place="Room 2")
    data[f"presenter_{starred[1].pk}"] = team["zoe"].pk
    response = client.post(url("meeting_edit", lab, meeting.pk), data)
    assert messages_of(client.get(response["Location"])) == ["The meeting is updated."]
    meeting.refresh_from_db()
    assert (meeting.starts_at, meeting.place) == (at(3, 16), "Room 2")
    assert list(meeting.meeting_papers.values_list("paper__title", "presenter__username")) == [("Beta paper", "zoe")]

    client.force_login(team["olivia"])  # an owner
    response = client.post(url("meeting_delete", lab, meeting.pk))
    assert response["Location"] == url("meetings", lab)
    assert messages_of(response) == ["The meeting is deleted."]
    assert not Meeting.objects.exists()


# --- Volunteering -------------------------------------------------------------------------------------------


@pytest.fixture
def planned(lab, team, starred):
    """Alpha presented by zoe, Beta open."""
    return meeting_of(lab, team["max"], starred, presenters=[team["zoe"]])


def volunteer(client, lab, meeting, paper, role="presenter"):
    return client.post(url("meeting_volunteer", lab, meeting.pk), {"paper": paper.pk, "role": role})


def test_a_member_takes_an_open_slot_and_a_repeat_changes_nothing(client, lab, team, starred, planned):
    client.force_login(team["ann"])
    response = volunteer(client, lab, planned, starred[1])
    assert messages_of(response) == ["You present “Beta paper”."]
    volunteer(client, lab, planned, starred[1])
    volunteer(client, lab, planned, starred[1], role="lead")
    assert list(planned.meeting_papers.values_list("presenter__username", "discussion_lead__username")) == [
        ("zoe", None),
        ("ann", "ann"),
    ]


def test_a_member_cannot_take_someone_elses_slot_but_an_owner_can(client, lab, team, starred, planned):
    client.force_login(team["ann"])
    response = volunteer(client, lab, planned, starred[0])
    assert messages_of(response) == ["Someone else has that slot already: ask them or an owner to swap."]
    assert planned.meeting_papers.get(paper=starred[0]).presenter == team["zoe"]

    client.force_login(team["olivia"])
    volunteer(client, lab, planned, starred[0])
    assert planned.meeting_papers.get(paper=starred[0]).presenter == team["olivia"]


def test_volunteering_for_a_paper_not_on_the_agenda_is_404(client, lab, team, planned, conference):
    client.force_login(team["ann"])
    assert volunteer(client, lab, planned, PaperFactory(conference=conference)).status_code == 404


def test_volunteering_needs_a_known_role(client, lab, team, starred, planned):
    client.force_login(team["ann"])
    response = volunteer(client, lab, planned, starred[1], role="host")
    assert messages_of(response) == ["role must be presenter or lead."]


# --- Marking a meeting held ---------------------------------------------------------------------------------


def test_marking_held_reads_the_papers_for_attendees_only(client, lab, team, starred, planned):
    ReadingStatus.objects.create(user=team["zoe"], paper=starred[0], state="skipped")
    client.force_login(team["ann"])
    data = {"attendees": [team["max"].pk, team["zoe"].pk]}
    response = client.post(url("meeting_held", lab, planned.pk), data)
    assert messages_of(response) == ["Marked held: its papers are read for 2 attendees."]
    planned.refresh_from_db()
    held_at = planned.held_at
    assert held_at is not None
    assert sorted(planned.attendees.values_list("username", flat=True)) == ["max", "zoe"]
    rows = ReadingStatus.objects.filter(state="read").order_by("user__username", "paper__title")
    expected = [("max", "Alpha paper", True), ("max", "Beta paper", True)]
    expected += [("zoe", "Alpha paper", False), ("zoe", "Beta paper", False)]
    assert list(rows.values_list("user__username", "paper__title", "starred")) == expected
    assert not ReadingStatus.objects.filter(user__in=[team["ann"], team["olivia"]]).exists()

    client.post(url("meeting_held", lab, planned.pk), data)  # idempotent
    planned.refresh_from_db()
    assert planned.held_at == held_at
    assert ReadingStatus.objects.filter(state="read").count() == 4


def test_marking_held_refuses_attendees_from_outside(client, lab, team, planned, outsider):
    client.force_login(team["ann"])
    response = client.post(url("meeting_held", lab, planned.pk), {"attendees": [outsider.pk]})
    assert messages_of(response) == [f"Select a valid choice. {outsider.pk} is not one of the available choices."]
    planned.refresh_from_db()
    assert planned.held_at is None


def test_the_dashboard_read_count_moves_after_the_meeting(client, lab, team, starred, planned, conference):
    client.force_login(team["max"])
    dashboard = reverse("dashboard", args=[lab.slug, conference.slug])
    before = client.get(dashboard).context["funnel"]
    client.post(url("meeting_held", lab, planned.pk), {"attendees": [team["max"].pk, team["ann"].pk]})
    after = client.get(dashboard).context["funnel"]
    assert before.read == 0
    assert after.read == 2


# --- The meeting page ------------------------------------------------------------------------------------


def test_the_meeting_page_shows_agenda_papers_people_and_visible_notes(client, lab, team, starred, planned):
    planned.agenda = "Bring **questions**.\n\n<script>alert(1)</script>"
    planned.place = "https://meet.example.org/rg"
    planned.save()
    NoteFactory(paper=starred[0], author=team["zoe"], lab=lab, kind="summary", body="Shared *one-liner*.")
    NoteFactory(paper=starred[0], author=team["ann"], lab=None, body="Ann's private thought.")
    NoteFactory(paper=starred[0], author=team["max"], lab=None, body="Max's private thought.")
    client.force_login(team["max"])
    html = html_of(client.get(url("meeting_detail", lab, planned.pk)))
    assert "<h1>Reading group, Monday 3 June 2030</h1>" in html
    assert '14:00 UTC</time> · <a href="https://meet.example.org/rg" rel="noopener noreferrer">' in html
    assert "<p>Bring <strong>questions</strong>.</p>" in html
    assert "<script>" not in html
    assert "We study things." in html
    assert "Shared <em>one-liner</em>." in html
    assert "Max's private thought." in html
    assert "Ann's private thought." not in html
    assert html.count("I'll present") == 1  # Beta is open; Alpha is zoe's
    assert html.count("I'll lead") == 2
    assert url("meeting_handout", lab, planned.pk) in html
    assert url("meeting_ics", lab, planned.pk) in html
    assert url("meeting_edit", lab, planned.pk) in html  # max scheduled it

    client.force_login(team["ann"])
    html = html_of(client.get(url("meeting_detail", lab, planned.pk)))
    assert url("meeting_edit", lab, planned.pk) not in html


@pytest.mark.parametrize(("papers", "members"), [(1, 1), (3, 4)])
def test_meeting_page_query_count_is_fixed(client, lab, member, conference, django_assert_num_queries, papers, members):
    users = [member] + [UserFactory() for _ in range(members - 1)]
    for user in users[1:]:
        MembershipFactory(lab=lab, user=user)
    meeting = meeting_of(lab, member, PaperFactory.create_batch(papers, conference=conference), presenters=users)
    for slot in meeting.meeting_papers.all():
        NoteFactory(paper=slot.paper, author=member, lab=lab)
    meeting.attendees.set(users)
    client.force_login(member)
    # session, user, membership+lab, meeting, its papers with people, visible notes, members, attendees
    with django_assert_num_queries(8):
        response = client.get(url("meeting_detail", lab, meeting.pk))
    assert len(response.context["slots"]) == papers


# --- The handout and the calendar -------------------------------------------------------------------------


def test_the_handout_is_markdown_with_shared_notes_only(client, lab, team, paper, planned):
    MeetingPaper.objects.filter(meeting=planned).delete()
    MeetingPaper.objects.create(meeting=planned, paper=paper, presenter=team["zoe"], discussion_lead=team["olivia"])
    planned.ends_at, planned.place, planned.agenda = at(3, 15), "Room 1", "Registers, then *lunch*."
    planned.save()
    NoteFactory(paper=paper, author=team["zoe"], lab=lab, kind="summary", body="Registers soak up\nthe artefacts.")
    NoteFactory(paper=paper, author=team["max"], lab=None, body="My private note.")
    client.force_login(team["max"])
    response = client.get(url("meeting_handout", lab, planned.pk))
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response.content.decode() == (
        "# Vision Lab reading group\n"
        "\n"
        "- When: Monday, June 3, 2030, 14:00-15:00 (UTC)\n"
        "- Where: Room 1\n"
        "\n"
        "## Agenda\n"
        "\n"
        "Registers, then *lunch*.\n"
        "\n"
        "## 1. Vision Transformers Need Registers\n"
        "\n"
        "Timothée Darcet, Maxime Oquab, Julien Mairal, Piotr Bojanowski · ICLR 2024 · "
        "https://openreview.net/forum?id=2dnO3LLiJ1\n"
        "\n"
        "Presenter: zoe · Discussion lead: olivia\n"
        "\n"
        "> Transformers have recently emerged as a powerful tool for learning visual representations.\n"
        "\n"
        "Notes from the lab:\n"
        "- zoe (One-liner): Registers soak up the artefacts.\n"
    )


def test_the_ics_has_utc_times_and_a_stable_uid(client, lab, team, planned):
    planned.ends_at, planned.place = at(3, 15), "Room 1"
    planned.save()
    client.force_login(team["max"])
    first = client.get(url("meeting_ics", lab, planned.pk))
    assert first["Content-Type"] == "text/calendar; charset=utf-8"
    second = client.get(url("meeting_ics", lab, planned.pk))
    events = [icalendar.Calendar.from_ical(r.content).walk("VEVENT") for r in (first, second)]
    assert [len(e) for e in events] == [1, 1]
    event = events[0][0]
    assert str(event["uid"]) == f"meeting-{planned.pk}@iclrnotes" == str(events[1][0]["uid"])
    assert (event.decoded("dtstart"), event.decoded("dtend")) == (at(3, 14), at(3, 15))
    assert b"DTSTART:20300603T140000Z" in first.content
    assert str(event["summary"]) == "Vision Lab reading group"
    assert str(event["location"]) == "Room 1"
    assert "Alpha paper (presented by zoe)" in str(event["description"])
    sequence = int(event["sequence"])
    client.force_login(team["ann"])
    volunteer(client, lab, planned, planned.papers.get(title="Beta paper"))
    third = icalendar.Calendar.from_ical(client.get(url("meeting_ics", lab, planned.pk)).content).walk("VEVENT")[0]
    assert str(third["uid"]) == f"meeting-{planned.pk}@iclrnotes"
    assert int(third["sequence"]) >= sequence


# --- Upcoming meetings --------------------------------------------------------------------------------------


def test_upcoming_meetings_are_the_next_unheld_ones_in_one_query(
    lab, team, starred, conference, django_assert_num_queries
):
    now = at(2)
    soon = meeting_of(lab, team["max"], starred, starts=at(3), presenters=[team["zoe"]])
    later = meeting_of(lab, team["max"], starred[:1], starts=at(9))
    meeting_of(lab, team["max"], starred[:1], starts=at(4), held_at=now)  # held
    meeting_of(lab, team["max"], starred[:1], starts=dt.datetime(2030, 5, 1, tzinfo=UTC))  # long past
    other = LabFactory(slug="other")
    meeting_of(other, team["max"], starred[:1], starts=at(5))  # not max's lab
    with django_assert_num_queries(1):
        upcoming = upcoming_meetings(user=team["max"], now=now)
        shown = [
            (u.meeting, [(s.paper.title, s.presenter and s.presenter.username) for s in u.slots]) for u in upcoming
        ]
    assert shown == [(soon, [("Alpha paper", "zoe"), ("Beta paper", None)]), (later, [("Alpha paper", None)])]


def test_upcoming_meetings_show_on_home_dashboard_and_candidates(client, lab, team, starred, conference):
    meeting = meeting_of(
        lab, team["max"], starred, starts=timezone.now() + dt.timedelta(days=2), presenters=[team["zoe"]]
    )
    client.force_login(team["ann"])
    line = 'Alpha paper <span class="muted">— zoe presents</span>'
    for page in (reverse("home"), reverse("dashboard", args=[lab.slug, conference.slug]), url("meetings", lab)):
        html = html_of(client.get(page))
        assert "Upcoming meetings" in html, page
        assert line in html, page
        assert url("meeting_detail", lab, meeting.pk) in html, page
        assert 'Beta paper <span class="muted">— presenter wanted</span>' in html, page


# --- Authorization -----------------------------------------------------------------------------------------


MEETING_URLS = [
    ("meeting_detail", "get"),
    ("meeting_edit", "get"),
    ("meeting_edit", "post"),
    ("meeting_delete", "post"),
    ("meeting_volunteer", "post"),
    ("meeting_held", "post"),
    ("meeting_handout", "get"),
    ("meeting_ics", "get"),
]


@pytest.mark.parametrize(("name", "method"), MEETING_URLS)
def test_outsiders_get_404_and_anonymous_visitors_log_in(client, lab, team, planned, outsider, name, method):
    target = url(name, lab, planned.pk)
    response = getattr(client, method)(target)
    assert response["Location"] == f"{reverse('login')}?next={target}"
    client.force_login(outsider)
    assert getattr(client, method)(target).status_code == 404
    assert Meeting.objects.filter(pk=planned.pk, held_at__isnull=True).exists()


def test_outsiders_cannot_schedule(client, lab, outsider, starred):
    client.force_login(outsider)
    assert client.get(url("meeting_new", lab)).status_code == 404
    assert client.post(url("meeting_new", lab), schedule_data(starred)).status_code == 404
    assert not Meeting.objects.exists()


def test_a_meeting_of_another_lab_is_404(client, lab, team, starred):
    other = LabFactory(slug="other")
    foreign = meeting_of(other, UserFactory(username="stranger"), starred)
    client.force_login(team["olivia"])
    assert client.get(url("meeting_detail", lab, foreign.pk)).status_code == 404


def test_membership_roles_are_what_the_fixtures_say(lab, team):
    assert Membership.objects.get(lab=lab, user=team["olivia"]).role == "owner"


def test_the_form_offers_the_labs_most_starred_candidates_only(client, lab, team, conference):
    from papers.forms import MEETING_FORM_CANDIDATES

    popular = PaperFactory(conference=conference, title="Zz popular")
    for user in team.values():
        services.set_star(user=user, paper=popular, starred=True)
    for number in range(MEETING_FORM_CANDIDATES + 5):
        services.set_star(
            user=team["max"], paper=PaperFactory(conference=conference, title=f"Paper {number:02d}"), starred=True
        )
    client.force_login(team["max"])

    form = client.get(url("meeting_new", lab)).context["form"]

    offered = [title for _, title in form.fields["papers"].choices]
    assert len(offered) == MEETING_FORM_CANDIDATES
    assert "Zz popular" in offered
