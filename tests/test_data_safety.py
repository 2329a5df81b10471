"""
Nothing a lab wrote is lost by a slip: a deleted note can be brought back for NOTE_UNDO_WINDOW, and is gone
from every page, count and export meanwhile; a member who leaves or is removed (or whose account is
deleted) leaves the lab's shared notes behind, attributed to a former member.
"""

import datetime as dt
import json
import re
from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from papers import services
from papers.exporters.backup import export_lab, export_lab_json
from papers.importers.backup import import_lab
from papers.models import Note
from tests.factories import NoteFactory, PaperFactory, UserFactory

HTMX = {"HX-Request": "true"}
WINDOW = 30 * 60
GONE = "This note can no longer be restored: it was deleted more than 30 minutes ago."


def paper_url(lab, paper):
    return reverse("paper_detail", args=[lab.slug, paper.conference.slug, paper.forum_id])


def note_url(name, lab, note):
    return reverse(name, args=[lab.slug, note.paper.conference.slug, note.paper.forum_id, note.pk])


def text(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def notice(html: str) -> str:
    found = re.search(r'<(div|p) class="note-undo" role="status">(.*?)</\1>', html, flags=re.S)
    return text(found.group(2)) if found else ""


def note_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<article class="note [^"]*" id="note-(\d+)">', html)]


def snapshot(note_id: int) -> tuple:
    note = Note.all_objects.get(pk=note_id)
    return (
        note.body,
        note.body_html,
        note.lab_id,
        note.kind,
        note.done,
        note.version,
        note.created_at,
        note.updated_at,
    )


def age(note: Note, seconds: int) -> None:
    """Make the note's deletion `seconds` old (no sleeping, no clock)."""
    Note.all_objects.filter(pk=note.pk).update(deleted_at=timezone.now() - dt.timedelta(seconds=seconds))


@pytest.fixture(autouse=True)
def undo_window(settings):
    settings.NOTE_UNDO_WINDOW = WINDOW


@pytest.fixture
def shared_todo(member, lab, paper):
    note = NoteFactory(paper=paper, author=member, lab=lab, kind="todo", body="Read the *appendix*", done=True)
    # An edited note, made a while ago: the undo must bring back these exact times and version.
    Note.objects.filter(pk=note.pk).update(
        version=3,
        created_at=dt.datetime(2024, 5, 7, 9, 0, tzinfo=dt.UTC),
        updated_at=dt.datetime(2024, 5, 7, 10, 30, tzinfo=dt.UTC),
    )
    return Note.objects.get(pk=note.pk)


@pytest.fixture
def kept_note(owner, lab, paper):
    return NoteFactory(paper=paper, author=owner, lab=lab, kind="note", body="Olivia's note stays")


# --- Deleting, undoing ------------------------------------------------------------------------------------


def test_a_deleted_note_leaves_every_page_count_and_export_at_once(
    member_client, member, owner, lab, paper, shared_todo, kept_note
):
    services.set_star(user=member, paper=paper, starred=True)
    services.delete_note(note=shared_todo, editor=member)

    assert list(Note.objects.values_list("pk", flat=True)) == [kept_note.pk]
    assert Note.all_objects.count() == 2  # still there, for the undo
    assert list(paper.notes.all()) == [kept_note]
    assert list(lab.notes.all()) == [kept_note]

    page = member_client.get(paper_url(lab, paper)).content.decode()
    assert note_ids(page) == [kept_note.pk]
    assert "appendix" not in page
    assert re.findall(r"<span>(\d+ notes?)</span>", page) == ["1 note"]

    conference = paper.conference
    listing = member_client.get(reverse("paper_list", args=[lab.slug, conference.slug]), {"notes": "on"})
    assert "appendix" not in listing.content.decode()
    trip_report = member_client.get(reverse("export", args=[lab.slug, conference.slug, "md"]), {"who": "lab"})
    assert "appendix" not in trip_report.content.decode()
    assert "Olivia's note stays" in trip_report.content.decode()
    dashboard = member_client.get(reverse("dashboard", args=[lab.slug, conference.slug])).content.decode()
    assert "appendix" not in dashboard
    assert "added a note on" in dashboard  # olivia's

    # Backups hold the notes as the lab sees them: live ones only (a deleted note is on its way out).
    assert [note["body"] for note in export_lab(lab, private_of=member)["notes"]] == ["Olivia's note stays"]


def test_htmx_delete_shows_note_deleted_undo_and_the_undo_brings_it_back_exactly(
    member_client, member, lab, paper, shared_todo, kept_note
):
    before = snapshot(shared_todo.pk)
    response = member_client.post(note_url("note_delete", lab, shared_todo), headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert notice(html) == "Note deleted. Undo"
    restore = note_url("note_restore", lab, shared_todo)
    assert f'hx-post="{restore}" hx-target="#paper-note-list" hx-swap="outerHTML"' in html
    assert f'action="{restore}"' in html
    assert note_ids(html) == [kept_note.pk]

    undone = member_client.post(restore, headers=HTMX).content.decode()
    assert notice(undone) == "Note restored."
    assert sorted(note_ids(undone)) == sorted([kept_note.pk, shared_todo.pk])
    assert snapshot(shared_todo.pk) == before
    assert Note.objects.get(pk=shared_todo.pk).deleted_at is None


def test_without_javascript_the_paper_page_offers_the_undo_while_it_lasts(
    member_client, member, lab, paper, shared_todo
):
    response = member_client.post(note_url("note_delete", lab, shared_todo))
    assert response["Location"] == f"{paper_url(lab, paper)}?deleted={shared_todo.pk}#paper-notes"
    page = member_client.get(response["Location"]).content.decode()
    assert notice(page) == "Note deleted. Undo"
    assert note_ids(page) == []

    age(shared_todo, WINDOW + 1)
    assert notice(member_client.get(response["Location"]).content.decode()) == ""

    Note.all_objects.filter(pk=shared_todo.pk).update(deleted_at=timezone.now())
    back = member_client.post(note_url("note_restore", lab, shared_todo))
    assert back["Location"] == f"{paper_url(lab, paper)}#note-{shared_todo.pk}"
    assert note_ids(member_client.get(paper_url(lab, paper)).content.decode()) == [shared_todo.pk]


def test_the_undo_notice_is_only_for_the_author_of_the_deleted_note(client, owner, member, lab, paper, shared_todo):
    services.delete_note(note=shared_todo, editor=member)
    client.force_login(owner)
    page = client.get(f"{paper_url(lab, paper)}?deleted={shared_todo.pk}").content.decode()
    assert notice(page) == ""
    assert note_url("note_restore", lab, shared_todo) not in page


@pytest.mark.parametrize("bad", ["abc", "²", "99999999999999999999999999", "-1"])
def test_a_malformed_deleted_parameter_is_ignored(member_client, lab, paper, bad):
    response = member_client.get(paper_url(lab, paper), {"deleted": bad})
    assert (response.status_code, notice(response.content.decode())) == (200, "")


def test_double_clicks_are_harmless(member_client, member, lab, paper, shared_todo):
    before = snapshot(shared_todo.pk)
    first = member_client.post(note_url("note_delete", lab, shared_todo), headers=HTMX)
    deleted_at = Note.all_objects.get(pk=shared_todo.pk).deleted_at
    second = member_client.post(note_url("note_delete", lab, shared_todo), headers=HTMX)
    assert notice(first.content.decode()) == notice(second.content.decode()) == "Note deleted. Undo"
    assert Note.all_objects.get(pk=shared_todo.pk).deleted_at == deleted_at  # the window runs from the first

    for _ in range(2):
        undone = member_client.post(note_url("note_restore", lab, shared_todo), headers=HTMX)
        assert notice(undone.content.decode()) == "Note restored."
    assert snapshot(shared_todo.pk) == before
    assert Note.objects.filter(pk=shared_todo.pk).count() == 1


def test_after_the_window_the_undo_is_refused_and_the_note_is_purged(
    member_client, member, lab, paper, shared_todo, kept_note, owner
):
    services.delete_note(note=shared_todo, editor=member)
    age(shared_todo, WINDOW)
    response = member_client.post(note_url("note_restore", lab, shared_todo), headers=HTMX)
    assert notice(response.content.decode()) == GONE
    assert Note.objects.filter(pk=shared_todo.pk).exists() is False

    # Without JavaScript: the same words, as a message on the paper page.
    response = member_client.post(note_url("note_restore", lab, shared_todo), follow=True)
    assert [str(message) for message in response.context["messages"]] == [GONE]

    # The next deletion, by anyone, purges it for good.
    services.delete_note(note=kept_note, editor=owner)
    assert list(Note.all_objects.values_list("pk", flat=True)) == [kept_note.pk]
    assert member_client.post(note_url("note_restore", lab, shared_todo)).status_code == 404


def test_purge_deleted_notes_command_removes_only_expired_ones(
    member, owner, lab, paper, shared_todo, kept_note, capsys
):
    fresh = NoteFactory(paper=paper, author=owner, lab=None, kind="question", body="Deleted just now")
    services.delete_note(note=shared_todo, editor=member)
    services.delete_note(note=fresh, editor=owner)
    age(shared_todo, WINDOW + 60)

    call_command("purge_deleted_notes")
    assert capsys.readouterr().out == "1 deleted note purged (undo window: 30 minutes).\n"
    assert sorted(Note.all_objects.values_list("body", flat=True)) == ["Deleted just now", "Olivia's note stays"]
    call_command("purge_deleted_notes")
    assert capsys.readouterr().out == "0 deleted notes purged (undo window: 30 minutes).\n"


def test_only_the_author_can_delete_or_undo(client, owner, member, lab, paper, shared_todo):
    client.force_login(owner)
    assert client.post(note_url("note_delete", lab, shared_todo)).status_code == 404
    assert Note.objects.filter(pk=shared_todo.pk).exists()

    services.delete_note(note=shared_todo, editor=member)
    assert client.post(note_url("note_restore", lab, shared_todo), headers=HTMX).status_code == 404
    assert Note.objects.filter(pk=shared_todo.pk).exists() is False
    with pytest.raises(PermissionDenied):
        services.restore_note(note_id=shared_todo.pk, editor=owner)
    kept = NoteFactory(paper=paper, author=member, lab=lab)
    with pytest.raises(PermissionDenied):
        services.delete_note(note=kept, editor=owner)
    assert Note.objects.filter(pk=kept.pk).exists()


def test_an_outsider_cannot_undo(client, outsider, member, lab, paper, shared_todo):
    services.delete_note(note=shared_todo, editor=member)
    client.force_login(outsider)
    assert client.post(note_url("note_restore", lab, shared_todo)).status_code == 404
    assert Note.objects.filter(pk=shared_todo.pk).exists() is False


def test_a_new_one_liner_replaces_a_deleted_one_whose_undo_then_ends(member_client, member, lab, paper):
    old = services.add_note(author=member, paper=paper, lab=lab, kind="summary", body="First take")
    services.delete_note(note=old, editor=member)
    new = services.add_note(author=member, paper=paper, lab=lab, kind="summary", body="Second take")
    assert list(Note.all_objects.values_list("pk", "body")) == [(new.pk, "Second take")]
    response = member_client.post(note_url("note_restore", lab, old), headers=HTMX)
    assert response.status_code == 404


def test_editing_a_note_deleted_meanwhile_keeps_the_draft_on_screen(member_client, member, lab, paper, shared_todo):
    services.delete_note(note=shared_todo, editor=member)
    response = member_client.post(
        note_url("note_edit", lab, shared_todo), {"body": "My careful rewrite", "version": 3, "visibility": "lab"}
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert "This note was deleted elsewhere since you opened it; your edit was not saved." in html
    assert re.search(r'<textarea name="body"[^>]*>\s*My careful rewrite</textarea>', html)
    assert Note.all_objects.get(pk=shared_todo.pk).body == "Read the *appendix*"


def test_a_backup_import_replaces_a_deleted_one_liner(member, owner, lab, paper):
    services.add_note(author=member, paper=paper, lab=lab, kind="summary", body="In the backup")
    backup = export_lab_json(lab)
    services.delete_note(note=Note.objects.get(), editor=member)
    Note.all_objects.update(body="Changed before deleting")  # so the file's one-liner is not the same note

    summary = import_lab(backup.encode(), lab=lab)
    assert summary.notes_created == 1
    assert list(Note.all_objects.values_list("body", "deleted_at")) == [("In the backup", None)]


def test_a_deleted_note_is_not_in_the_backup_but_restoring_it_puts_it_back(member, lab, paper, shared_todo):
    services.delete_note(note=shared_todo, editor=member)
    assert json.loads(export_lab_json(lab))["notes"] == []
    services.restore_note(note_id=shared_todo.pk, editor=member)
    assert [note["body"] for note in json.loads(export_lab_json(lab))["notes"]] == ["Read the *appendix*"]


def test_deleting_a_paper_takes_its_deleted_notes_too(member, lab, conference):
    paper = PaperFactory(conference=conference, forum_id="gone")
    note = NoteFactory(paper=paper, author=member, lab=lab)
    services.delete_note(note=note, editor=member)
    paper.delete()
    assert Note.all_objects.count() == 0


def test_the_undo_window_is_a_setting(settings, member, lab, paper, shared_todo):
    settings.NOTE_UNDO_WINDOW = 60
    services.delete_note(note=shared_todo, editor=member)
    age(shared_todo, 61)
    with pytest.raises(services.NoteGone) as gone:
        services.restore_note(note_id=shared_todo.pk, editor=member)
    assert str(gone.value) == "This note can no longer be restored: it was deleted more than 1 minute ago."


# --- Members who leave, are removed, or whose account is deleted ------------------------------------------


@pytest.fixture
def grace(lab):
    from papers.models import Membership
    from tests.factories import MembershipFactory

    user = UserFactory(username="grace")
    MembershipFactory(lab=lab, user=user, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def maxs_notes(member, lab, paper):
    """max's one-liner shared with the lab, and a private to-do of his."""
    shared = services.add_note(author=member, paper=paper, lab=lab, kind="summary", body="Registers fix artefacts")
    private = services.add_note(author=member, paper=paper, lab=None, kind="todo", body="MAX-PRIVATE reread")
    return shared, private


@pytest.fixture
def upcoming_meeting(lab, member, owner, paper):
    starts = timezone.now() + dt.timedelta(days=7)
    slot = services.MeetingSlot(paper=paper, presenter=member, lead=member)
    return services.create_meeting(lab=lab, by=owner, starts_at=starts, slots=[slot])


def note_authors(html: str) -> list[str]:
    return [
        text(found)
        for found in re.findall(r'<span class="note__author">(.*?)</span>\s*<span class="note__vis', html, re.S)
    ]


def activity(html: str) -> str:
    found = re.search(r'<ol class="dash-events"[^>]*>(.*?)</ol>', html, flags=re.S)
    return text(found.group(1)) if found else ""


def what_the_lab_sees(client, lab, paper, meeting=None) -> dict:
    conference = paper.conference
    seen = {
        "page": note_authors(client.get(paper_url(lab, paper)).content.decode()),
        "dashboard": activity(client.get(reverse("dashboard", args=[lab.slug, conference.slug])).content.decode()),
        "report": client.get(
            reverse("export", args=[lab.slug, conference.slug, "md"]), {"who": "lab"}
        ).content.decode(),
    }
    if meeting is not None:
        seen["handout"] = client.get(reverse("meeting_handout", args=[lab.slug, meeting.pk])).content.decode()
    return seen


@pytest.mark.parametrize("how", ["removed", "left"])
def test_a_member_who_goes_leaves_the_shared_notes_to_the_lab_as_a_former_member(
    client, how, owner, member, grace, lab, paper, maxs_notes, upcoming_meeting
):
    services.set_star(user=grace, paper=paper, starred=True)  # so that the lab's trip report has the paper
    client.force_login(member if how == "left" else owner)
    url = (
        reverse("lab_leave", args=[lab.slug]) if how == "left" else reverse("member_remove", args=[lab.slug, member.pk])
    )
    assert client.post(url).status_code == 302
    assert not lab.memberships.filter(user=member).exists()

    client.force_login(grace)
    seen = what_the_lab_sees(client, lab, paper, upcoming_meeting)
    assert seen["page"] == ["max (former member)"]
    assert "max (former member) wrote a one-liner on Vision Transformers Need Registers" in seen["dashboard"]
    assert "Registers fix artefacts (max, former member)" in seen["report"]
    assert "- max (former member) (One-liner): Registers fix artefacts" in seen["handout"]
    for sink in seen.values():
        assert "MAX-PRIVATE" not in str(sink)

    # His private to-do is still his, and only his: in his own lab he sees both notes, as their author.
    assert set(Note.objects.filter(author=member).values_list("body", "lab")) == {
        ("Registers fix artefacts", lab.pk),
        ("MAX-PRIVATE reread", None),
    }
    own_lab = services.create_personal_lab(user=member)
    client.force_login(member)
    assert note_authors(client.get(paper_url(own_lab, paper)).content.decode()) == ["max (you)", "max (you)"]


def test_what_else_a_member_who_goes_leaves_behind(owner, member, grace, lab, paper, conference, upcoming_meeting):
    from papers.models import Assignment, MeetingPaper, ReadingStatus, Vote

    services.set_star(user=member, paper=paper, starred=True)
    services.vote_for(lab=lab, paper=paper, user=member)
    Assignment.objects.create(lab=lab, paper=paper, user=member)

    services.remove_member(lab=lab, member=member, by=owner)

    # His star and vote stay his (he may rejoin) but no longer count in the lab.
    assert ReadingStatus.objects.filter(user=member, paper=paper, starred=True).count() == 1
    assert ReadingStatus.objects.in_lab(lab).count() == 0
    assert Vote.objects.filter(user=member).count() == 1
    # His paper of the split went to someone still in the lab.
    assert Assignment.objects.get(lab=lab, paper=paper).user in {owner, grace}
    # The meeting to come has his slots open for volunteers.
    assert list(MeetingPaper.objects.values_list("presenter", "discussion_lead")) == [(None, None)]


def test_a_held_meeting_keeps_who_presented(owner, member, lab, paper, upcoming_meeting):
    from papers.models import MeetingPaper

    services.mark_meeting_held(meeting=upcoming_meeting, by=owner, attendees=[owner, member])
    services.remove_member(lab=lab, member=member, by=owner)
    assert list(MeetingPaper.objects.values_list("presenter", "discussion_lead")) == [(member.pk, member.pk)]


def test_a_deleted_account_leaves_its_shared_notes_to_the_lab_and_takes_its_private_ones(
    client, member, grace, lab, paper, maxs_notes, upcoming_meeting
):
    shared, _private = maxs_notes
    services.set_star(user=grace, paper=paper, starred=True)
    services.delete_note(note=NoteFactory(paper=paper, author=member, lab=None, body="Deleted private"), editor=member)
    member.delete()

    assert list(Note.all_objects.values_list("pk", "author", "lab", "body")) == [
        (shared.pk, None, lab.pk, "Registers fix artefacts")
    ]
    client.force_login(grace)
    seen = what_the_lab_sees(client, lab, paper, upcoming_meeting)
    assert seen["page"] == ["A former member"]
    assert "A former member wrote a one-liner on Vision Transformers Need Registers" in seen["dashboard"]
    assert "Registers fix artefacts (a former member)" in seen["report"]
    assert "- A former member (One-liner): Registers fix artefacts" in seen["handout"]


def test_a_deleted_accounts_notes_go_through_a_backup_and_back(member, owner, lab, paper, maxs_notes):
    from papers.models import Lab

    member.delete()
    document = export_lab(lab)
    assert [(n["username"], n["body"], n["shared"]) for n in document["notes"]] == [
        (None, "Registers fix artefacts", True)
    ]
    assert [m["username"] for m in document["members"]] == ["olivia"]

    # Into the same lab again: nothing changes. Into another lab: the note is the lab's, by nobody.
    again = import_lab(json.dumps(document).encode(), lab=lab)
    assert (again.notes_created, again.notes_unchanged) == (0, 1)
    copy = services.create_lab(name="Copy Lab", owner=owner)
    summary = import_lab(json.dumps(document).encode(), lab=Lab.objects.get(pk=copy.pk))
    assert summary.notes_created == 1
    assert list(Note.objects.filter(lab=copy).values_list("author", "body")) == [(None, "Registers fix artefacts")]


def test_a_backup_refuses_a_private_note_without_an_author(owner, lab, paper, maxs_notes):
    from papers.importers.base import ImportFailed

    document = export_lab(lab)
    document["notes"][0]["username"] = None
    document["notes"][0]["shared"] = False
    with pytest.raises(ImportFailed) as failed:
        import_lab(json.dumps(document).encode(), lab=lab)
    assert "must be shared with the lab" in str(failed.value)


def test_the_database_refuses_a_private_note_without_an_author(lab, paper):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Note.objects.create(paper=paper, author=None, lab=None, body="Nobody's")
    assert Note.objects.create(paper=paper, author=None, lab=lab, body="The lab's").author_username is None


def test_an_admin_deleting_an_account_says_what_goes_and_keeps_the_shared_notes(client, member, lab, paper, maxs_notes):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = reverse("admin:papers_user_delete", args=[member.pk])
    confirm = text(client.get(url).content.decode())
    # His private to-do goes with him, and the admin is told; the shared one-liner stays.
    assert "Note: To do by max on Vision Transformers Need Registers" in confirm
    assert "One-liner by max" not in confirm
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert list(Note.all_objects.values_list("author", "body")) == [(None, "Registers fix artefacts")]


def test_a_deleted_accounts_papers_of_the_split_go_to_the_others(owner, member, grace, lab, conference):
    from papers.models import Assignment

    papers = [PaperFactory(conference=conference, forum_id=f"split{index}") for index in range(4)]
    for index, paper in enumerate(papers):
        Assignment.objects.create(lab=lab, paper=paper, user=[member, member, member, grace][index])
    member.delete()
    load = Counter(Assignment.objects.filter(lab=lab).values_list("user__username", flat=True))
    assert load == {"olivia": 2, "grace": 2}  # the smallest slices first: every paper still has someone
