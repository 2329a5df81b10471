"""
The version stamps (papers.versions) that keep cached pages fresh: every write path bumps the counter of
what it changed, and only that. A lab's `activity_version` grows when a member's status or note, the
membership, the split, the lab's events or its reading group change; a conference's `programme_version`
when its programme does. A stale in-memory Lab or Conference never writes an older counter back, a login
bumps nothing, `versions.cached` computes once per versions, and the cached pages show a change at once.
"""

import datetime as dt
import json
import re
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from papers import services, versions
from papers.exporters.backup import export_lab_json
from papers.importers.backup import import_lab
from papers.importers.csv import import_csv
from papers.importers.openreview import import_openreview
from papers.importers.virtualsite import import_schedule
from papers.models import Conference, Lab, Membership, Note, PaperNeighbor, Presentation, ReadingStatus, Session
from papers.services import MeetingSlot
from papers.similarity import build_neighbors
from tests.conftest import PASSWORD
from tests.factories import (
    ConferenceFactory,
    LabFactory,
    MembershipFactory,
    NoteFactory,
    PaperFactory,
    PresentationFactory,
    ReadingStatusFactory,
    SessionFactory,
    UserFactory,
)

VISION = "Vision Lab"
# max is a member of the Vision Lab and of the NLP Lab, and has his personal lab: his stars show in all three.
MAX_LABS = {VISION, "NLP Lab", "max's papers"}
MEETING_AT = dt.datetime(2024, 5, 9, 16, 0, tzinfo=dt.UTC)
DAY = dt.date(2024, 5, 8)


@pytest.fixture
def world(lab, owner, member, outsider, conference, paper):
    """
    The Vision Lab (olivia owns it, max is a member), the NLP Lab (nina owns it, max is a member), a lab
    nobody here is in (Elsewhere, sam's), everyone's personal lab; two papers of ICLR 2024 and another
    conference. otto is in no team lab.
    """
    nina, sam = UserFactory(username="nina"), UserFactory(username="sam")
    nlp = LabFactory(name="NLP Lab", slug="nlp")
    MembershipFactory(lab=nlp, user=nina, role=Membership.Role.OWNER)
    MembershipFactory(lab=nlp, user=member)
    MembershipFactory(lab=LabFactory(name="Elsewhere", slug="elsewhere"), user=sam, role=Membership.Role.OWNER)
    return SimpleNamespace(
        lab=lab,
        olivia=owner,
        max=member,
        otto=outsider,
        conference=conference,
        paper=paper,
        paper2=PaperFactory(conference=conference, title="A Second Paper"),
        other_conference=ConferenceFactory(slug="neurips-2023", name="NeurIPS 2023"),
    )


def lab_versions() -> dict[str, int]:
    return dict(Lab.objects.values_list("name", "activity_version"))


def conference_versions() -> dict[str, int]:
    return dict(Conference.objects.values_list("slug", "programme_version"))


def grown(before: dict[str, int], after: dict[str, int]) -> set[str]:
    """The keys whose counter grew; a counter never shrinks."""
    assert all(after[key] >= value for key, value in before.items() if key in after), (before, after)
    return {key for key, value in before.items() if key in after and after[key] > value}


def labs_bumped_by(action) -> set[str]:
    before = lab_versions()
    action()
    return grown(before, lab_versions())


# --- 1. The services: each write bumps the labs that show it, and no other -----------------------------
# Each case prepares its data and returns the write to watch.


def star_new(w):
    return lambda: services.set_star(user=w.max, paper=w.paper, starred=True)


def unstar_existing(w):
    ReadingStatusFactory(user=w.max, paper=w.paper, starred=True, state="shortlisted")
    return lambda: services.set_star(user=w.max, paper=w.paper, starred=False)


def state_new(w):
    return lambda: services.set_state(user=w.max, paper=w.paper, state=ReadingStatus.State.READ)


def state_existing(w):
    ReadingStatusFactory(user=w.max, paper=w.paper, state="shortlisted")
    return lambda: services.set_state(user=w.max, paper=w.paper, state=ReadingStatus.State.READ)


def restore_status_existed(w):
    ReadingStatusFactory(user=w.max, paper=w.paper, state="read", starred=True)
    return lambda: services.restore_status(user=w.max, paper=w.paper, state="shortlisted", starred=False, existed=True)


def restore_status_not_existed(w):
    ReadingStatusFactory(user=w.max, paper=w.paper, state="read")
    return lambda: services.restore_status(user=w.max, paper=w.paper, state="", starred=False, existed=False)


def add_shared_note(w):
    return lambda: services.add_note(author=w.max, paper=w.paper, lab=w.lab, kind=Note.Kind.NOTE, body="Shared.")


def add_private_note(w):
    return lambda: services.add_note(author=w.max, paper=w.paper, lab=None, kind=Note.Kind.NOTE, body="Mine.")


def replace_one_liner(w):
    services.add_note(author=w.max, paper=w.paper, lab=w.lab, kind=Note.Kind.SUMMARY, body="First take.")
    return lambda: services.add_note(author=w.max, paper=w.paper, lab=w.lab, kind=Note.Kind.SUMMARY, body="Second.")


def edit_shared_note(w):
    note = NoteFactory(paper=w.paper, author=w.max, lab=w.lab)
    return lambda: services.edit_note(note=note, editor=w.max, body="Edited.", lab=w.lab, version=note.version)


def share_private_note(w):
    note = NoteFactory(paper=w.paper, author=w.max, lab=None)
    return lambda: services.edit_note(note=note, editor=w.max, body="Now shared.", lab=w.lab, version=note.version)


def make_shared_note_private(w):
    note = NoteFactory(paper=w.paper, author=w.max, lab=w.lab)
    return lambda: services.edit_note(note=note, editor=w.max, body="Now mine.", lab=None, version=note.version)


def tick_todo(w):
    note = NoteFactory(paper=w.paper, author=w.max, lab=w.lab, kind=Note.Kind.TODO)
    return lambda: services.set_todo_done(note=note, editor=w.max, done=True)


def delete_shared_note(w):
    note = NoteFactory(paper=w.paper, author=w.max, lab=w.lab)
    return lambda: services.delete_note(note=note, editor=w.max)


def delete_private_note(w):
    note = NoteFactory(paper=w.paper, author=w.max, lab=None)
    return lambda: services.delete_note(note=note, editor=w.max)


def restore_shared_note(w):
    note = services.delete_note(note=NoteFactory(paper=w.paper, author=w.max, lab=w.lab), editor=w.max)
    return lambda: services.restore_note(note_id=note.pk, editor=w.max)


def triage_star(w):
    return lambda: services.triage_decide(user=w.max, paper=w.paper, action="star")


def triage_read(w):
    return lambda: services.triage_decide(user=w.max, paper=w.paper, action="read")


def triage_undo_new_row(w):
    record = services.triage_decide(user=w.max, paper=w.paper, action="read")
    assert record["existed"] is False
    return lambda: services.triage_undo(user=w.max, paper=w.paper, record=record)


def triage_undo_existing_row(w):
    ReadingStatusFactory(user=w.max, paper=w.paper, state="shortlisted")
    record = services.triage_decide(user=w.max, paper=w.paper, action="read")
    assert record["existed"] is True
    return lambda: services.triage_undo(user=w.max, paper=w.paper, record=record)


def accept_invite(w):
    invite = services.create_invite(lab=w.lab, by=w.olivia)
    return lambda: services.accept_invite(token=invite.token, user=w.otto)


def remove_member(w):
    return lambda: services.remove_member(lab=w.lab, member=w.max, by=w.olivia)


def leave_lab(w):
    return lambda: services.remove_member(lab=w.lab, member=w.max, by=w.max)


def set_role(w):
    return lambda: services.set_role(lab=w.lab, member=w.max, role=Membership.Role.OWNER, by=w.olivia)


def hand_over_ownership(w):
    return lambda: services.hand_over_ownership(lab=w.lab, to=w.max, by=w.olivia)


def _split(w):
    services.split_papers(lab=w.lab, conference=w.conference, by=w.olivia, method="even", members=[w.olivia, w.max])


def split_papers(w):
    return lambda: _split(w)


def clear_split(w):
    _split(w)
    return lambda: services.clear_split(lab=w.lab, conference=w.conference, by=w.olivia)


def take_over_slice(w):
    _split(w)
    return lambda: services.take_over_slice(lab=w.lab, conference=w.conference, from_user=w.olivia, by=w.max)


def swap_slices(w):
    _split(w)
    return lambda: services.swap_slices(lab=w.lab, conference=w.conference, with_user=w.olivia, by=w.max)


def _event(w, title="Lab dinner"):
    return services.add_event(
        lab=w.lab, conference=w.conference, by=w.max, title=title, kind="social", day=DAY, starts=dt.time(19)
    )


def add_event(w):
    return lambda: _event(w)


def edit_event(w):
    event = _event(w)
    return lambda: services.edit_event(event=event, by=w.max, title="Lab lunch", kind="social", day=DAY)


def delete_event(w):
    event = _event(w)
    return lambda: services.delete_event(event=event, by=w.max)


def nominate_paper(w):
    return lambda: services.nominate_paper(lab=w.lab, paper=w.paper, by=w.max)


def withdraw_nomination(w):
    services.nominate_paper(lab=w.lab, paper=w.paper, by=w.max)
    return lambda: services.withdraw_nomination(lab=w.lab, paper=w.paper, by=w.max)


def vote_for(w):
    return lambda: services.vote_for(lab=w.lab, paper=w.paper, user=w.max)


def take_back_vote(w):
    services.vote_for(lab=w.lab, paper=w.paper, user=w.max)
    return lambda: services.take_back_vote(lab=w.lab, paper=w.paper, user=w.max)


def _meeting(w):
    return services.create_meeting(lab=w.lab, by=w.max, starts_at=MEETING_AT, slots=[MeetingSlot(paper=w.paper)])


def schedule_meeting(w):
    return lambda: _meeting(w)


def update_meeting(w):
    meeting = _meeting(w)
    slots = [MeetingSlot(paper=w.paper2, presenter=w.max)]
    return lambda: services.update_meeting(meeting=meeting, by=w.max, starts_at=MEETING_AT, place="Room 2", slots=slots)


def delete_meeting(w):
    meeting = _meeting(w)
    return lambda: services.delete_meeting(meeting=meeting, by=w.max)


def volunteer(w):
    meeting = _meeting(w)
    return lambda: services.volunteer(meeting=meeting, by=w.max, paper=w.paper, role="presenter")


def mark_meeting_held(w):
    meeting = _meeting(w)
    return lambda: services.mark_meeting_held(meeting=meeting, by=w.max, attendees=[w.max])


def load_shortlist(w):
    return lambda: services.load_shortlist(
        user=w.max, conference=w.conference, papers=[(w.paper, DAY, True)], events=[("Lab dinner", DAY, "social")]
    )


def save_lab(w):
    """As the admin saves it after a rename (the name is kept here: the versions are compared by name)."""
    nlp = Lab.objects.get(name="NLP Lab")
    services.add_note(author=w.max, paper=w.paper, lab=nlp, kind=Note.Kind.NOTE, body="For the NLP folks")
    return nlp.save


def rename_user(w):
    def rename():
        w.max.username = "maxwell"
        w.max.save()

    return rename


def delete_account(w):
    return lambda: w.max.delete()


# (prepare, labs that must be bumped, labs that may be bumped too): every other lab must keep its version.
SERVICE_CASES = [
    pytest.param(star_new, MAX_LABS, set(), id="set_star-new-row"),
    pytest.param(unstar_existing, MAX_LABS, set(), id="set_star-unstar-existing-row"),
    pytest.param(state_new, MAX_LABS, set(), id="set_state-new-row"),
    pytest.param(state_existing, MAX_LABS, set(), id="set_state-existing-row"),
    pytest.param(restore_status_existed, MAX_LABS, set(), id="restore_status-existed"),
    pytest.param(restore_status_not_existed, MAX_LABS, set(), id="restore_status-did-not-exist"),
    pytest.param(add_shared_note, {VISION}, MAX_LABS, id="add_note-shared"),
    pytest.param(add_private_note, MAX_LABS, set(), id="add_note-private"),
    pytest.param(replace_one_liner, {VISION}, MAX_LABS, id="add_note-replaces-one-liner"),
    pytest.param(edit_shared_note, {VISION}, MAX_LABS, id="edit_note-shared"),
    pytest.param(share_private_note, MAX_LABS, set(), id="edit_note-private-to-shared"),
    pytest.param(make_shared_note_private, MAX_LABS, set(), id="edit_note-shared-to-private"),
    pytest.param(tick_todo, {VISION}, MAX_LABS, id="set_todo_done"),
    pytest.param(delete_shared_note, {VISION}, MAX_LABS, id="delete_note-shared"),
    pytest.param(delete_private_note, MAX_LABS, set(), id="delete_note-private"),
    pytest.param(restore_shared_note, {VISION}, MAX_LABS, id="restore_note"),
    pytest.param(triage_star, MAX_LABS, set(), id="triage_decide-star"),
    pytest.param(triage_read, MAX_LABS, set(), id="triage_decide-read"),
    pytest.param(triage_undo_new_row, MAX_LABS, set(), id="triage_undo-new-row"),
    pytest.param(triage_undo_existing_row, MAX_LABS, set(), id="triage_undo-existing-row"),
    pytest.param(accept_invite, {VISION}, set(), id="accept_invite"),
    pytest.param(remove_member, {VISION}, set(), id="remove_member-by-owner"),
    pytest.param(leave_lab, {VISION}, set(), id="remove_member-leaves"),
    pytest.param(set_role, {VISION}, set(), id="set_role"),
    pytest.param(hand_over_ownership, {VISION}, set(), id="hand_over_ownership"),
    pytest.param(split_papers, {VISION}, set(), id="split_papers"),
    pytest.param(clear_split, {VISION}, set(), id="clear_split"),
    pytest.param(take_over_slice, {VISION}, set(), id="take_over_slice"),
    pytest.param(swap_slices, {VISION}, set(), id="swap_slices"),
    pytest.param(add_event, {VISION}, set(), id="add_event"),
    pytest.param(edit_event, {VISION}, set(), id="edit_event"),
    pytest.param(delete_event, {VISION}, set(), id="delete_event"),
    pytest.param(nominate_paper, {VISION}, set(), id="nominate_paper"),
    pytest.param(withdraw_nomination, {VISION}, set(), id="withdraw_nomination"),
    pytest.param(vote_for, {VISION}, set(), id="vote_for"),
    pytest.param(take_back_vote, {VISION}, set(), id="take_back_vote"),
    pytest.param(schedule_meeting, {VISION}, set(), id="create_meeting"),
    pytest.param(update_meeting, {VISION}, set(), id="update_meeting"),
    pytest.param(delete_meeting, {VISION}, set(), id="delete_meeting"),
    pytest.param(volunteer, {VISION}, set(), id="volunteer"),
    # The attendees' papers become read: their statuses show in each of their labs.
    pytest.param(mark_meeting_held, MAX_LABS, set(), id="mark_meeting_held"),
    # Statuses in every lab of his, the events in his personal lab.
    pytest.param(load_shortlist, MAX_LABS, set(), id="load_shortlist"),
    pytest.param(rename_user, MAX_LABS, set(), id="username-change"),
    # Its name shows beside max's notes shared with it, on his other labs' pages.
    pytest.param(save_lab, {"NLP Lab", *MAX_LABS}, set(), id="lab-saved"),
    # His personal lab is left without members: nobody sees it.
    pytest.param(delete_account, {VISION, "NLP Lab"}, {"max's papers"}, id="account-deleted"),
]


@pytest.mark.parametrize(("prepare", "must", "may"), SERVICE_CASES)
def test_a_write_bumps_the_labs_that_show_it_and_no_other(world, prepare, must, may):
    write = prepare(world)

    bumped = labs_bumped_by(write)

    assert must - bumped == set(), "not bumped"
    assert bumped - must - may == set(), "bumped though unrelated"


def test_a_star_bumps_every_lab_of_the_user_and_no_lab_of_a_colleague(world):
    """Stated on its own: olivia shares the Vision Lab with max, but her personal lab shows only her."""
    bumped = labs_bumped_by(lambda: services.set_star(user=world.max, paper=world.paper, starred=True))

    assert bumped == {VISION, "NLP Lab", "max's papers"}
    assert bumped.isdisjoint({"olivia's papers", "nina's papers", "Elsewhere", "sam's papers"})


@pytest.fixture
def admin_client(db):
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("how", ["delete-page", "bulk-action"])
def test_deleting_a_status_in_the_admin_bumps_the_labs_of_its_user(world, admin_client, how):
    status = ReadingStatusFactory(user=world.max, paper=world.paper, starred=True)

    def delete():
        if how == "delete-page":
            url = reverse("admin:papers_readingstatus_delete", args=[status.pk])
            response = admin_client.post(url, {"post": "yes"})
        else:
            url = reverse("admin:papers_readingstatus_changelist")
            data = {"action": "delete_selected", "_selected_action": [status.pk], "post": "yes"}
            response = admin_client.post(url, data)
        assert response.status_code == 302

    assert labs_bumped_by(delete) == MAX_LABS
    assert not ReadingStatus.objects.filter(pk=status.pk).exists()


# --- 2. The programme ------------------------------------------------------------------------------------


def v2_note(forum_id: str) -> dict:
    fields = {
        "title": {"value": f"Paper {forum_id}"},
        "authors": {"value": ["Ada Lovelace"]},
        "abstract": {"value": "We study things."},
        "venue": {"value": "ICLR 2024 poster"},
        "venueid": {"value": "ICLR.cc/2024/Conference"},
    }
    return {"id": forum_id, "forum": forum_id, "content": fields}


def schedule_entry(forum_id: str) -> dict:
    return {
        "id": 1,
        "eventtype": "Poster",
        "session": "Poster Session 2",
        "starttime": "2024-05-08T10:45:00+02:00",
        "endtime": "2024-05-08T12:45:00+02:00",
        "room_name": "Halle B",
        "poster_position": "#1",
        "paper_url": f"https://openreview.net/forum?id={forum_id}",
    }


def run_import_openreview(w):
    data = json.dumps([v2_note("newPaper01"), v2_note("newPaper02")]).encode()
    return lambda: import_openreview(data)


def run_import_schedule(w):
    data = json.dumps({"count": 1, "results": [schedule_entry(w.paper.forum_id)]}).encode()
    return lambda: import_schedule(data, conference=w.conference)


def run_import_csv(w):
    data = b"forum_id,title\ncsvPaper01,A Paper From a Spreadsheet\n"
    return lambda: import_csv(data, conference=w.conference)


def run_import_backup(w):
    ReadingStatusFactory(user=w.max, paper=w.paper, starred=True)
    data = export_lab_json(w.lab, private_of=w.olivia).encode()
    return lambda: import_lab(data, lab=w.lab)


PROGRAMME_IMPORTS = [
    pytest.param(run_import_openreview, id="import_openreview"),
    pytest.param(run_import_schedule, id="import_schedule"),
    pytest.param(run_import_csv, id="import_csv"),
]


@pytest.mark.parametrize("prepare", PROGRAMME_IMPORTS)
def test_a_programme_import_bumps_its_conference_and_no_lab(world, prepare):
    """No lab's row is locked by a programme import: stars, which lock their labs' rows, never wait on one."""
    write = prepare(world)
    conferences, labs = conference_versions(), lab_versions()

    write()

    assert "iclr-2024" in grown(conferences, conference_versions())
    assert grown(labs, lab_versions()) == set()


def test_a_backup_import_bumps_the_lab_its_members_labs_and_its_conferences(world):
    write = run_import_backup(world)
    conferences, labs = conference_versions(), lab_versions()

    write()

    assert "iclr-2024" in grown(conferences, conference_versions())
    assert grown(labs, lab_versions()) >= MAX_LABS


def save_paper(w):
    def save():
        w.paper.title = "Vision Transformers Need Registers (revised)"
        w.paper.save()

    return save


def add_paper(w):
    return lambda: PaperFactory(conference=w.conference)


def delete_paper(w):
    return lambda: w.paper.delete()


def add_presentation(w):
    session = SessionFactory(conference=w.conference)
    return lambda: Presentation.objects.create(paper=w.paper, session=session)


def edit_presentation(w):
    presentation = PresentationFactory(paper=w.paper)

    def save():
        presentation.poster_position = "#12"
        presentation.save()

    return save


def delete_presentation(w):
    presentation = PresentationFactory(paper=w.paper)
    return lambda: presentation.delete()


def add_programme_session(w):
    return lambda: SessionFactory(conference=w.conference, title="Poster Session 9", day=DAY)


def edit_programme_session(w):
    session = SessionFactory(conference=w.conference, day=DAY)

    def save():
        session.room = "Halle A"
        session.save()

    return save


def delete_programme_session(w):
    session = SessionFactory(conference=w.conference, day=DAY)
    return lambda: session.delete()


def save_conference(w):
    def save():
        w.conference.city = "Vienna"
        w.conference.save()

    return save


def build_similar_papers(w):
    PaperFactory(conference=w.conference, title="Registers for Vision Transformers")

    def build():
        rows, _ = build_neighbors(w.conference, k=1)
        assert rows == PaperNeighbor.objects.count() == 3

    return build


PROGRAMME_CASES = [
    pytest.param(save_paper, id="paper-saved"),
    pytest.param(add_paper, id="paper-added"),
    pytest.param(delete_paper, id="paper-deleted"),
    pytest.param(add_presentation, id="presentation-added"),
    pytest.param(edit_presentation, id="presentation-saved"),
    pytest.param(delete_presentation, id="presentation-deleted"),
    pytest.param(add_programme_session, id="programme-session-added"),
    pytest.param(edit_programme_session, id="programme-session-saved"),
    pytest.param(delete_programme_session, id="programme-session-deleted"),
    pytest.param(save_conference, id="conference-saved"),
    pytest.param(build_similar_papers, id="build_neighbors"),
]


@pytest.mark.parametrize("prepare", PROGRAMME_CASES)
def test_a_programme_write_bumps_its_conference_only_and_no_lab(world, prepare):
    write = prepare(world)
    conferences, labs = conference_versions(), lab_versions()

    write()

    assert grown(conferences, conference_versions()) == {"iclr-2024"}
    assert grown(labs, lab_versions()) == set()


@pytest.mark.parametrize("change", ["added", "saved", "deleted"])
def test_a_labs_own_session_bumps_that_lab_and_not_the_programme(world, change):
    event = Session.objects.create(conference=world.conference, lab=world.lab, title="Lab dinner", day=DAY)

    def write():
        if change == "added":
            Session.objects.create(conference=world.conference, lab=world.lab, title="Poster duty", day=DAY)
        elif change == "saved":
            event.room = "Heuriger"
            event.save()
        else:
            event.delete()

    conferences = conference_versions()
    assert labs_bumped_by(write) == {VISION}
    assert grown(conferences, conference_versions()) == set()


def test_load_shortlist_filling_in_the_conference_bumps_the_programme(world):
    conferences = conference_versions()

    services.load_shortlist(
        user=world.max, conference=world.conference, papers=[], events=[], start_date=DAY, city="Vienna"
    )

    assert grown(conferences, conference_versions()) == {"iclr-2024"}


# --- 3. A stale copy never writes an older counter back ----------------------------------------------------


def test_saving_a_stale_lab_keeps_the_bump_and_saves_the_change(lab):
    stale = Lab.objects.get(pk=lab.pk)
    start = stale.activity_version
    versions.lab_activity_changed(labs=[lab.pk])

    stale.name = "Vision Lab (renamed)"
    stale.save()

    saved = Lab.objects.get(pk=lab.pk)
    assert saved.name == "Vision Lab (renamed)"
    # The bump kept (start + 1), and the save bumped once more; the stale copy's counter was not written.
    assert saved.activity_version == start + 2


def test_saving_a_stale_conference_keeps_the_bump_and_saves_the_change(conference):
    stale = Conference.objects.get(pk=conference.pk)
    start = stale.programme_version
    versions.programme_changed(conferences=[conference.pk])

    stale.name = "ICLR 2024 (Vienna)"
    stale.save()

    saved = Conference.objects.get(pk=conference.pk)
    assert saved.name == "ICLR 2024 (Vienna)"
    assert saved.programme_version == start + 2


def test_saving_with_update_fields_keeps_the_bump_too(lab):
    stale = Lab.objects.get(pk=lab.pk)
    start = stale.activity_version
    versions.lab_activity_changed(labs=[lab.pk])

    stale.name = "Renamed"
    stale.save(update_fields=["name"])

    assert Lab.objects.values_list("name", "activity_version").get(pk=lab.pk) == ("Renamed", start + 2)


def test_a_new_lab_and_a_new_conference_save_fine_and_later_saves_bump_them(db):
    lab = Lab(name="Fresh Lab", slug="fresh")
    lab.save()
    conference = Conference(slug="icml-2024", name="ICML 2024")
    conference.save()

    assert Lab.objects.values_list("name", "activity_version").get(pk=lab.pk) == ("Fresh Lab", 0)
    created = Conference.objects.get(pk=conference.pk)
    assert (created.slug, created.name) == ("icml-2024", "ICML 2024")

    lab.name, conference.name = "Fresh Lab (renamed)", "ICML 2024 (Vienna)"
    lab.save()
    conference.save()

    assert Lab.objects.values_list("name", "activity_version").get(pk=lab.pk) == ("Fresh Lab (renamed)", 1)
    assert Conference.objects.values_list("name", "programme_version").get(pk=conference.pk) == (
        "ICML 2024 (Vienna)",
        created.programme_version + 1,
    )


# --- 4. A login changes nothing a lab shows ---------------------------------------------------------------


def test_a_login_does_not_bump_the_users_labs(world):
    before, last_login = lab_versions(), world.max.last_login

    response = Client().post(reverse("login"), {"username": "max", "password": PASSWORD})

    assert response.status_code == 302

    world.max.refresh_from_db()
    assert world.max.last_login is not None and world.max.last_login != last_login
    assert lab_versions() == before


# --- 5. versions.cached -------------------------------------------------------------------------------------


def test_cached_computes_once_per_versions_and_again_after_a_bump(lab, conference):
    calls = []

    def compute():
        calls.append(len(calls) + 1)
        return f"computed {len(calls)}"

    def get(**kwargs):
        fresh_lab, fresh_conference = Lab.objects.get(pk=lab.pk), Conference.objects.get(pk=conference.pk)
        return versions.cached("part", compute, lab=fresh_lab, conference=fresh_conference, **kwargs)

    assert [get(), get()] == ["computed 1", "computed 1"]

    versions.lab_activity_changed(labs=[lab.pk])
    assert [get(), get()] == ["computed 2", "computed 2"]

    versions.programme_changed(conferences=[conference.pk])
    assert [get(), get()] == ["computed 3", "computed 3"]

    assert [get(vary=["max"]), get(vary=["max"]), get()] == ["computed 4", "computed 4", "computed 3"]
    assert len(calls) == 4


def test_a_bump_of_another_lab_keeps_the_cached_value(world):
    calls = []

    def get():
        fresh = Lab.objects.get(pk=world.lab.pk)
        return versions.cached("part", lambda: calls.append(1) or len(calls), lab=fresh, conference=world.conference)

    assert get() == 1
    versions.lab_activity_changed(labs=[Lab.objects.get(name="Elsewhere").pk])
    versions.programme_changed(conferences=[world.other_conference.pk])
    assert get() == 1
    assert len(calls) == 1


# --- 6. The cached pages show a colleague's change at once --------------------------------------------------


def member_row(html: str, user) -> str:
    """The dashboard's row of one member, as text."""
    match = re.search(rf'id="member-{user.pk}">(.*?)</li>', html, re.DOTALL)
    assert match, f"no row for {user.username}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_the_paper_list_shows_a_colleagues_new_star(member_client, lab, owner, member, conference, paper):
    list_url = reverse("paper_list", args=[lab.slug, conference.slug])
    star_url = reverse("paper_star", args=[lab.slug, conference.slug, paper.forum_id])
    for _ in range(2):  # the second view may come from the cache
        html = member_client.get(list_url).content.decode()
        assert paper.title in html
        assert "Starred by olivia" not in html

    olivia = Client()
    olivia.force_login(owner)
    assert olivia.post(star_url, {"starred": "1"}, headers={"HX-Request": "true"}).status_code == 200

    html = member_client.get(list_url).content.decode()
    assert '<summary title="Starred by olivia">★ 1</summary>' in html


def test_the_dashboard_shows_a_colleagues_new_status(member_client, lab, owner, member, conference, paper):
    dashboard_url = reverse("dashboard", args=[lab.slug, conference.slug])
    state_url = reverse("paper_state", args=[lab.slug, conference.slug, paper.forum_id])
    for _ in range(2):
        html = member_client.get(dashboard_url).content.decode()
        assert member_row(html, owner) == "olivia Owner Triaged 0 0% Shortlisted 0 Starred 0 Read 0"

    olivia = Client()
    olivia.force_login(owner)
    assert olivia.post(state_url, {"state": "read"}, headers={"HX-Request": "true"}).status_code == 200

    html = member_client.get(dashboard_url).content.decode()
    assert member_row(html, owner) == "olivia Owner Triaged 1 100% Shortlisted 1 Starred 0 Read 1"


def test_the_inbox_card_shows_a_colleagues_new_star(member_client, lab, owner, member, conference, paper):
    inbox_url = reverse("triage", args=[lab.slug, conference.slug])
    star_url = reverse("paper_star", args=[lab.slug, conference.slug, paper.forum_id])
    for _ in range(2):  # the second look comes from the cache
        html = member_client.get(inbox_url, headers={"HX-Request": "true"}).content.decode()
        assert paper.title in html
        assert "Starred by olivia" not in html

    olivia = Client()
    olivia.force_login(owner)
    assert olivia.post(star_url, {"starred": "1"}, headers={"HX-Request": "true"}).status_code == 200

    html = member_client.get(inbox_url, headers={"HX-Request": "true"}).content.decode()
    assert '<summary title="Starred by olivia">★ 1</summary>' in html


def test_two_members_never_share_a_cached_inbox_card(member_client, lab, owner, member, conference, paper):
    """The same URL for two members: each sees their own state and star on the card."""
    ReadingStatus.objects.create(user=owner, paper=paper, state="read", starred=True)
    inbox_url = reverse("triage", args=[lab.slug, conference.slug]) + f"?state=&at={paper.forum_id}"
    mine = member_client.get(inbox_url, headers={"HX-Request": "true"}).content.decode()
    olivia = Client()
    olivia.force_login(owner)
    hers = olivia.get(inbox_url, headers={"HX-Request": "true"}).content.decode()

    assert '<strong class="inbox-mine__state">Not triaged</strong></span>' in mine
    assert (
        '<strong class="inbox-mine__state">Read</strong> · <strong class="inbox-mine__star">★ starred</strong>' in hers
    )


def test_a_renamed_conference_shows_its_new_name_on_the_next_page(
    member_client, lab, conference, django_assert_num_queries
):
    list_url = reverse("paper_list", args=[lab.slug, conference.slug])
    assert f"<title>{conference.name} papers · iclrnotes</title>" in member_client.get(list_url).content.decode()

    conference.name = "ICLR 2024 (Vienna)"
    conference.save()  # as the admin saves it: the programme's version is bumped

    assert "<title>ICLR 2024 (Vienna) papers · iclrnotes</title>" in member_client.get(list_url).content.decode()


def test_the_conference_row_is_read_once_per_version_and_each_caller_gets_a_copy(conference, django_assert_num_queries):
    conference.refresh_from_db()  # the version as it is now
    with django_assert_num_queries(1):
        first = versions.conference_at(conference.pk, conference.programme_version)
    with django_assert_num_queries(0):
        second = versions.conference_at(conference.pk, conference.programme_version)
    second.name = "changed in one request"
    assert versions.conference_at(conference.pk, conference.programme_version).name == first.name == conference.name


def test_a_conference_deleted_since_its_version_was_read_is_not_found(conference):
    pk, version = conference.pk, conference.programme_version
    conference.delete()
    with pytest.raises(Conference.DoesNotExist):
        versions.conference_at(pk, version)


@pytest.mark.parametrize("page", ["paper_list", "triage"])
def test_a_cached_part_holds_tokens_for_each_browsers_own_csrf_cookie(member, lab, conference, paper, page):
    """Two browsers of one member: each gets its own CSRF cookie, and the forms of a cached look post with it."""
    url = reverse(page, args=[lab.slug, conference.slug])
    star_url = reverse("paper_star", args=[lab.slug, conference.slug, paper.forum_id])
    tokens = []
    for browser in (laptop := Client(enforce_csrf_checks=True)), (phone := Client(enforce_csrf_checks=True)):
        browser.force_login(member)
        assert settings.CSRF_COOKIE_NAME in browser.get(url).cookies  # a browser without one gets its secret
        cached = browser.get(url).content.decode()  # the second look: from the cache
        # The last form's token: in the cached part (the page's header has a log-out form of its own).
        tokens.append(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', cached)[-1])

    for browser, token, starred in [(laptop, tokens[0], "1"), (phone, tokens[1], "0")]:
        response = browser.post(star_url, {"starred": starred, "csrfmiddlewaretoken": token})
        assert response.status_code == 302
        assert ReadingStatus.objects.get(user=member, paper=paper).starred is (starred == "1")


def test_a_renamed_lab_shows_its_new_name_beside_a_note_shared_with_it_on_another_labs_page(world):
    """max's note shared with the NLP Lab shows on the Vision Lab's paper page to him, labelled with its lab,
    even after he left the NLP Lab."""
    nlp = Lab.objects.get(name="NLP Lab")
    services.add_note(author=world.max, paper=world.paper, lab=nlp, kind=Note.Kind.NOTE, body="For the NLP folks")
    Membership.objects.filter(lab=nlp, user=world.max).delete()  # he left it since: his note still shows to him
    page = reverse("paper_detail", args=[world.lab.slug, world.conference.slug, world.paper.forum_id])
    browser = Client()
    browser.force_login(world.max)
    for _ in range(2):  # the second look comes from the cache
        assert "shared with NLP Lab" in browser.get(page).content.decode()

    nlp.name = "NLP Group"
    nlp.save()  # as the admin saves it

    assert "shared with NLP Group" in browser.get(page).content.decode()


def test_a_note_moved_to_another_lab_bumps_the_lab_it_left(world):
    """In the admin a shared note can change lab: both labs showed or show it (olivia's note: not via max)."""
    from papers.models import Lab

    note = NoteFactory(paper=world.paper, author=world.olivia, lab=world.lab)
    labs = lab_versions()
    note.lab = Lab.objects.get(name="Elsewhere")
    note.save()
    assert {VISION, "Elsewhere"} <= grown(labs, lab_versions())


def test_a_paper_moved_to_another_conference_bumps_the_conference_it_left(world):
    conferences = conference_versions()
    world.paper2.conference = world.other_conference
    world.paper2.save()
    assert grown(conferences, conference_versions()) == {"iclr-2024", "neurips-2023"}


def test_a_save_that_moves_nothing_reads_no_old_row(world, django_assert_num_queries):
    """A save naming its fields, none of them its place, does not look up where the row was."""
    note = NoteFactory(paper=world.paper, author=world.max, lab=world.lab)
    with django_assert_num_queries(3):  # the update; the bumps of the note's lab and of its author's labs
        note.save(update_fields=["body", "body_html"])
    with django_assert_num_queries(4):  # a whole save: where the note was, then as above
        note.save()
