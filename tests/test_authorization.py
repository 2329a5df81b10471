"""
Every URL under /labs/<lab>/, taken from the URL resolver (so that a new view cannot be forgotten):
anonymous visitors are sent to the login page, logged-in outsiders get a 404, and members get the
page or their action done, for GET and for every POST action.
"""

import datetime as dt
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from papers import services
from papers.models import Meeting, MeetingPaper, Membership, Session
from tests.factories import (
    ConferenceFactory,
    LabFactory,
    MembershipFactory,
    NoteFactory,
    PaperFactory,
    UserFactory,
)

LAB_PREFIX = "labs/<slug:lab_slug>/"


def lab_patterns(patterns=None, prefix: str = "") -> list[tuple[str, str]]:
    """(name, full route) of every named pattern whose route starts under a lab."""
    found = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += lab_patterns(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith(LAB_PREFIX):
            found.append((pattern.name, route))
    return found


# How a member (or, for owner-only actions, the owner) uses each URL: method and form data.
# A URL under /labs/ that is missing here fails test_every_lab_url_is_covered.
REQUESTS = {
    "lab_detail": ("member", "get", {}),
    "invite_create": ("owner", "post", {"days": "7"}),
    "invite_revoke": ("owner", "post", {}),
    "member_remove": ("owner", "post", {}),
    "member_role": ("owner", "post", {"role": "owner"}),
    "ownership_hand_over": ("owner", "post", {}),
    "lab_leave": ("member", "post", {}),
    "dashboard": ("member", "get", {}),
    "paper_list": ("member", "get", {}),
    "paper_detail": ("member", "get", {}),
    "paper_star": ("member", "post", {"starred": "1"}),
    "paper_state": ("member", "post", {"state": "read"}),
    "note_add": ("member", "post", {"kind": "note", "body": "A thought.", "visibility": "lab"}),
    "note_edit": ("member", "get", {}),
    "note_done": ("member", "post", {"done": "1"}),
    "note_delete": ("member", "post", {}),
    "note_restore": ("member", "post", {}),
    "triage": ("member", "get", {}),
    "triage_decide": ("member", "post", {"paper": "AUTHZpaper", "action": "shortlist"}),
    "triage_undo": ("member", "post", {}),
    "split": ("member", "get", {}),
    "split_create": ("owner", "post", {"method": "even"}),
    "split_clear": ("owner", "post", {}),
    "split_take_over": ("member", "post", {}),
    "split_swap": ("member", "post", {}),
    "schedule": ("member", "get", {}),
    "event_add": ("member", "post", {"title": "Lab dinner", "kind": "social", "day": "2024-05-08"}),
    "event_edit": ("member", "get", {}),
    "event_delete": ("member", "post", {}),
    "clash_choose": ("member", "post", {"keep": "AUTHZpaper", "drop": "AUTHZpaper"}),
    "export": ("member", "get", {}),
    "calendar_feeds": ("member", "get", {}),
    "calendar_feed_renew": ("member", "post", {}),
    "calendar_feed_revoke": ("member", "post", {}),
    "meetings": ("member", "get", {}),
    "nominate": ("member", "post", {"paper": "PAPER_PK"}),
    "vote": ("member", "post", {"paper": "PAPER_PK", "vote": "1"}),
    "meeting_new": ("member", "get", {}),
    "meeting_detail": ("member", "get", {}),
    "meeting_edit": ("member", "get", {}),
    "meeting_delete": ("member", "post", {}),
    "meeting_volunteer": ("member", "post", {"paper": "PAPER_PK", "role": "lead"}),
    "meeting_held": ("member", "post", {"attendees": ["MEMBER_PK"]}),
    "meeting_handout": ("member", "get", {}),
    "meeting_ics": ("member", "get", {}),
    "lab_export": ("member", "get", {}),
    "lab_import": ("owner", "post", {}),
}
# The edit view also saves (POST) an edit: covered as a second request.
EXTRA_POSTS = {"note_edit": {"body": "Edited.", "version": "1", "visibility": "lab"}}


@pytest.fixture
def world(db):
    conference = ConferenceFactory(slug="authz-conf", name="AuthZ Conference")
    paper = PaperFactory(conference=conference, forum_id="AUTHZpaper")
    lab = LabFactory(name="Authz Lab", slug="authz-lab")
    owner, member, other = UserFactory(username="owner"), UserFactory(username="member"), UserFactory(username="other")
    MembershipFactory(lab=lab, user=owner, role=Membership.Role.OWNER)
    MembershipFactory(lab=lab, user=member)
    MembershipFactory(lab=lab, user=other)
    note = NoteFactory(paper=paper, author=member, lab=lab, kind="todo", body="Read the appendix.")
    invite = services.create_invite(lab=lab, by=owner)
    event = Session.objects.create(
        conference=conference, lab=lab, created_by=member, title="Lab dinner", kind="social", day=dt.date(2024, 5, 8)
    )
    meeting = Meeting.objects.create(
        lab=lab, created_by=member, starts_at=dt.datetime(2024, 6, 3, 14, tzinfo=dt.UTC), place="Room 1"
    )
    MeetingPaper.objects.create(meeting=meeting, paper=paper, presenter=member)
    kwargs = {
        "lab_slug": lab.slug,
        "conference_slug": conference.slug,
        "forum_id": paper.forum_id,
        "note_id": note.pk,
        "invite_id": invite.pk,
        "user_id": other.pk,
        "session_id": event.pk,
        "fmt": "md",
        "meeting_id": meeting.pk,
    }
    placeholders = {"PAPER_PK": str(paper.pk), "MEMBER_PK": str(member.pk)}
    return {"owner": owner, "member": member, "kwargs": kwargs, "placeholders": placeholders}


def url_for(name: str, route: str, world) -> str:
    names = re.findall(r"<(?:\w+:)?(\w+)>", route)
    return reverse(name, kwargs={key: world["kwargs"][key] for key in names})


def test_every_lab_url_is_covered():
    names = {name for name, _ in lab_patterns()}
    assert names, "the resolver walk found no URL under /labs/<lab>/"
    missing = sorted(names - REQUESTS.keys())
    assert not missing, f"Add these URLs to REQUESTS in tests/test_authorization.py: {missing}"


CASES = [(name, route) for name, route in lab_patterns()]


def requests_for(name: str, world=None):
    persona, method, data = REQUESTS[name]
    yield persona, method, _fill(data, world)
    if name in EXTRA_POSTS:
        yield persona, "post", _fill(EXTRA_POSTS[name], world)


def _fill(data: dict, world) -> dict:
    """Put the world's ids where the table has placeholders (the table is written before the world)."""
    if world is None:
        return data
    values = world["placeholders"]

    def fill(value):
        if isinstance(value, list):
            return [fill(item) for item in value]
        return values.get(value, value)

    return {key: fill(value) for key, value in data.items()}


@pytest.mark.parametrize(("name", "route"), CASES, ids=[name for name, _ in CASES])
def test_anonymous_visitors_are_sent_to_login(client, world, name, route):
    url = url_for(name, route, world)
    for _, method, data in requests_for(name, world):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, (name, method)
        assert response["Location"] == f"{reverse('login')}?next={url}", (name, method)


@pytest.mark.parametrize(("name", "route"), CASES, ids=[name for name, _ in CASES])
def test_outsiders_get_404(client, world, name, route):
    client.force_login(UserFactory(username="outsider"))
    url = url_for(name, route, world)
    for _, method, data in requests_for(name, world):
        assert getattr(client, method)(url, data).status_code == 404, (name, method)


@pytest.mark.parametrize(("name", "route"), CASES, ids=[name for name, _ in CASES])
def test_members_are_served(client, world, name, route):
    url = url_for(name, route, world)
    for persona, method, data in requests_for(name, world):
        client.force_login(world[persona])
        response = getattr(client, method)(url, data)
        if method == "get":
            assert response.status_code == 200, (name, method, response.status_code)
        else:
            assert response.status_code in {200, 302, 303}, (name, method, response.status_code)
            assert not response.get("Location", "").startswith(reverse("login")), (name, method)


def test_members_of_another_lab_get_404_too(client, world):
    stranger_lab = LabFactory(slug="other-lab")
    stranger = UserFactory(username="stranger")
    MembershipFactory(lab=stranger_lab, user=stranger, role=Membership.Role.OWNER)
    client.force_login(stranger)
    for name, route in CASES:
        for _, method, data in requests_for(name, world):
            assert getattr(client, method)(url_for(name, route, world), data).status_code == 404, (name, method)
