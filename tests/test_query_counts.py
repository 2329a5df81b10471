"""
The pages whose query counts no other test pins: each runs the same literal number of queries for a
small lab and conference as for a larger one (more members, papers, notes, meetings, events).
"""

import datetime as dt

import pytest
from django.urls import reverse

from papers import services
from papers.models import Meeting, MeetingPaper, Membership, PaperNeighbor, Session
from tests.factories import (
    ConferenceFactory,
    LabFactory,
    MembershipFactory,
    NoteFactory,
    PaperFactory,
    ReadingStatusFactory,
    UserFactory,
)

# Literal counts, measured once and the same for size 1 and size 8 (session and user included).
QUERIES = {
    "lab_new": 2,
    "lab_switcher": 3,
    "join": 4,
    "calendar_feeds": 5,
    "calendar_feed": 9,
    "lab_import": 3,
    "meeting_new": 5,
    "meeting_edit": 7,
    "meeting_handout": 6,
    "meeting_ics": 5,
    "event_edit": 5,
    "note_edit": 5,
}


def build(size: int):
    conference = ConferenceFactory(slug="qc-conf", name="QC Conference", timezone="Europe/Vienna")
    lab = LabFactory(slug="qc-lab", name="QC Lab")
    owner = UserFactory(username="qc-owner")
    MembershipFactory(lab=lab, user=owner, role=Membership.Role.OWNER)
    members = [MembershipFactory(lab=lab).user for _ in range(size)]
    papers = [PaperFactory(conference=conference) for _ in range(size)]
    for paper in papers:
        for user in [owner, *members]:
            ReadingStatusFactory(user=user, paper=paper, state="shortlisted", starred=True)
            NoteFactory(paper=paper, author=user, lab=lab, body="A shared thought.")
    for rank, other in enumerate(papers[1:], start=1):
        PaperNeighbor.objects.create(paper=papers[0], neighbor=other, score=1 / rank, rank=rank)
    meeting = Meeting.objects.create(
        lab=lab, created_by=owner, starts_at=dt.datetime(2030, 6, 3, 14, tzinfo=dt.UTC), time_zone="Europe/Vienna"
    )
    for position, paper in enumerate(papers):
        MeetingPaper.objects.create(meeting=meeting, paper=paper, presenter=owner, position=position)
    event = Session.objects.create(
        conference=conference, lab=lab, created_by=owner, title="Lab dinner", kind="social", day=dt.date(2030, 6, 3)
    )
    for number in range(size):
        Session.objects.create(conference=conference, lab=lab, title=f"Event {number}", day=dt.date(2030, 6, 4))
    invite = services.create_invite(lab=lab, by=owner)
    feed = services.renew_calendar_feed(user=owner, lab=lab, conference=conference)
    note = NoteFactory(paper=papers[0], author=owner, lab=lab, body="Mine.")
    urls = {
        "lab_new": reverse("lab_new"),
        "lab_switcher": reverse("lab_switcher"),
        "join": reverse("join", args=[invite.token]),
        "calendar_feeds": reverse("calendar_feeds", args=[lab.slug, conference.slug]),
        "calendar_feed": reverse("calendar_feed", args=[feed.token]),
        "lab_import": reverse("lab_import", args=[lab.slug]),
        "meeting_new": reverse("meeting_new", args=[lab.slug]),
        "meeting_edit": reverse("meeting_edit", args=[lab.slug, meeting.pk]),
        "meeting_handout": reverse("meeting_handout", args=[lab.slug, meeting.pk]),
        "meeting_ics": reverse("meeting_ics", args=[lab.slug, meeting.pk]),
        "event_edit": reverse("event_edit", args=[lab.slug, conference.slug, event.pk]),
        "note_edit": reverse("note_edit", args=[lab.slug, conference.slug, papers[0].forum_id, note.pk]),
    }
    return owner, urls


@pytest.mark.parametrize("size", [1, 8])
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_count_is_fixed(client, db, django_assert_num_queries, name, size):
    owner, urls = build(size)
    client.force_login(owner)
    headers = {"HX-Request": "true"} if name == "lab_switcher" else {}
    with django_assert_num_queries(QUERIES[name]):
        response = client.get(urls[name], headers=headers)
    assert response.status_code == 200
