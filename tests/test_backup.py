"""
The full lab export and its import: a round trip through an empty database reproduces the lab field by
field, others' private notes never leave, re-importing changes nothing, a broken file changes nothing.
"""

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from papers.exporters.backup import export_lab, export_lab_json
from papers.importers.backup import import_lab
from papers.importers.base import ImportFailed
from papers.models import (
    Assignment,
    Conference,
    Lab,
    Membership,
    Note,
    Paper,
    ReadingStatus,
    Session,
    User,
)
from tests.factories import (
    ConferenceFactory,
    LabFactory,
    MembershipFactory,
    NoteFactory,
    PaperFactory,
    ReadingStatusFactory,
    UserFactory,
)

UTC = dt.UTC


def at(day: int, hour: int = 9, minute: int = 0, micro: int = 0) -> dt.datetime:
    return dt.datetime(2024, 5, day, hour, minute, 0, micro, tzinfo=UTC)


def set_times(obj, created_at, updated_at=None) -> None:
    """Timestamps as they would be after weeks of use (auto_now fields ignore assignment on save)."""
    values = {"created_at": created_at}
    if updated_at is not None:
        values["updated_at"] = updated_at
    type(obj).objects.filter(pk=obj.pk).update(**values)


def status_rows(lab: Lab) -> list[tuple]:
    return sorted(
        ReadingStatus.objects.in_lab(lab).values_list(
            "user__username",
            "paper__conference__slug",
            "paper__forum_id",
            "state",
            "starred",
            "seen_on",
            "created_at",
            "updated_at",
        )
    )


def note_rows(notes) -> list[tuple]:
    return sorted(
        (
            note.author.username,
            note.paper.conference.slug,
            note.paper.forum_id,
            note.kind,
            note.body,
            note.body_html,
            note.done,
            note.lab_id is not None,
            note.created_at,
            note.updated_at,
        )
        for note in notes.select_related("author", "paper__conference")
    )


def shared_notes(lab: Lab) -> list[tuple]:
    return note_rows(Note.objects.filter(lab=lab))


def private_notes(username: str) -> list[tuple]:
    return note_rows(Note.objects.filter(author__username=username, lab__isnull=True))


def event_rows(lab: Lab) -> list[tuple]:
    return sorted(
        Session.objects.filter(lab=lab).values_list(
            "conference__slug", "kind", "title", "day", "starts_at", "ends_at", "room", "created_by__username"
        )
    )


def assignment_rows(lab: Lab) -> list[tuple]:
    return sorted(
        Assignment.objects.filter(lab=lab).values_list(
            "user__username", "paper__conference__slug", "paper__forum_id", "created_at"
        )
    )


def table_counts() -> dict[str, int]:
    models = (User, Lab, Membership, Conference, Paper, ReadingStatus, Note, Session, Assignment)
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture
def full_lab(lab, owner, member, conference, paper):
    """The Vision Lab after a conference: every triage state, stars, days seen, every kind of note."""
    neurips = ConferenceFactory(slug="neurips-2023", name="NeurIPS 2023", venue_id="NeurIPS.cc/2023/Conference")
    papers = [paper] + [
        PaperFactory(
            conference=conference,
            forum_id=f"iclrPaper{n}",
            title=f"On $\\mathcal{{B}}$ number {n}",
            keywords=["vision", f"k{n}"],
            primary_area="representation learning",
            tldr="Short.",
            venue="ICLR 2024 poster",
        )
        for n in range(4)
    ]
    papers.append(PaperFactory(conference=neurips, forum_id="nipsPaper0", title="A NeurIPS paper"))
    PaperFactory(conference=conference, forum_id="untouched", title="Nobody looked at this one")

    for n, (state, starred, seen_on) in enumerate(
        [
            ("skipped", False, None),
            ("shortlisted", True, None),
            ("reading", False, dt.date(2024, 5, 8)),
            ("read", True, dt.date(2024, 5, 9)),
            ("", True, None),
        ]
    ):
        status = ReadingStatusFactory(user=owner, paper=papers[n], state=state, starred=starred, seen_on=seen_on)
        set_times(status, at(1, 8, n, 123456), at(7, 10 + n, 30, 654321))
    status = ReadingStatusFactory(
        user=member, paper=papers[5], state="read", starred=True, seen_on=dt.date(2023, 12, 12)
    )
    set_times(status, at(2), at(8, 15))

    for n, kind in enumerate(["summary", "note", "todo", "question", "follow_up"]):
        note = NoteFactory(
            paper=papers[n], author=member, lab=lab, kind=kind, body=f"**{kind}** about paper {n}", done=kind == "todo"
        )
        set_times(note, at(3, 9, n), at(4, 9, n))
    set_times(NoteFactory(paper=papers[0], author=owner, lab=lab, kind="todo", body="Open todo."), at(3), at(3))
    set_times(NoteFactory(paper=papers[1], author=owner, lab=None, kind="note", body="Olivia's secret."), at(5), at(6))
    set_times(NoteFactory(paper=papers[1], author=member, lab=None, kind="note", body="Max's secret."), at(5), at(6))
    NoteFactory(paper=papers[2], author=member, lab=LabFactory(slug="another-lab"), body="For another lab.")

    former = UserFactory(username="fiona")  # left the lab; her shared note stays with it
    set_times(NoteFactory(paper=papers[3], author=former, lab=lab, kind="note", body="From Fiona."), at(2), at(2))

    event = Session(
        conference=conference, lab=lab, kind="social", title="Lab dinner", room="Heuriger", created_by=member
    )
    event.starts_at, event.ends_at = at(8, 17), at(8, 20)
    event.save()
    Session.objects.create(conference=conference, lab=lab, kind="other", title="Poster duty", day=dt.date(2024, 5, 9))
    Session.objects.create(conference=conference, kind="poster", title="Programme session", day=dt.date(2024, 5, 9))

    for n, user in enumerate([owner, member, owner]):
        set_times(Assignment.objects.create(lab=lab, paper=papers[n], user=user), at(1, 12, n))
    return lab


def empty_the_database() -> None:
    """As if the backup were taken to a new instance: every table emptied (inside the test's transaction)."""
    if connection.vendor == "postgresql":
        # TRUNCATE refuses to run while deferred foreign-key checks of this transaction are pending.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("flush", interactive=False)


def snapshot(lab: Lab) -> dict:
    return {
        "statuses": status_rows(lab),
        "shared": shared_notes(lab),
        "olivia": private_notes("olivia"),
        "events": event_rows(lab),
        "assignments": assignment_rows(lab),
    }


# --- The file ---------------------------------------------------------------------------------------------


def test_the_export_holds_the_lab_and_the_papers_it_refers_to(full_lab, owner):
    data = export_lab(full_lab, private_of=owner)
    assert (data["format"], data["version"], data["lab"]) == (
        "iclrnotes-lab",
        1,
        {"name": "Vision Lab", "slug": "vision"},
    )
    assert data["members"] == [
        {"username": "max", "email": "max@example.org", "role": "member"},
        {"username": "olivia", "email": "olivia@example.org", "role": "owner"},
        {"username": "fiona", "email": "fiona@example.org", "role": None},
    ]
    assert [c["slug"] for c in data["conferences"]] == ["iclr-2024", "neurips-2023"]
    assert [p["forum_id"] for p in data["papers"]] == [
        "2dnO3LLiJ1",
        "iclrPaper0",
        "iclrPaper1",
        "iclrPaper2",
        "iclrPaper3",
        "nipsPaper0",
    ]
    assert data["statuses"][0] == {
        "username": "max",
        "conference": "neurips-2023",
        "forum_id": "nipsPaper0",
        "state": "read",
        "starred": True,
        "seen_on": "2023-12-12",
        "created_at": "2024-05-02T09:00:00+00:00",
        "updated_at": "2024-05-08T15:00:00+00:00",
    }
    assert [e["title"] for e in data["sessions"]] == ["Lab dinner", "Poster duty"]
    assert data["meetings"] == []


def test_private_notes_of_others_never_leave(full_lab, owner, member):
    for private_of in (owner, None):
        text = export_lab_json(full_lab, private_of=private_of)
        assert "Max's secret." not in text
        assert "For another lab." not in text
    assert "Olivia's secret." in export_lab_json(full_lab, private_of=owner)
    assert "Olivia's secret." not in export_lab_json(full_lab, private_of=member)
    private = [n for n in export_lab(full_lab, private_of=owner)["notes"] if not n["shared"]]
    assert [(n["username"], n["body"]) for n in private] == [("olivia", "Olivia's secret.")]


# --- The round trip ---------------------------------------------------------------------------------------


def test_export_then_import_into_an_empty_database_reproduces_the_lab(full_lab, owner):
    before = snapshot(full_lab)
    data = export_lab_json(full_lab, private_of=owner).encode()

    empty_the_database()
    assert table_counts()["ReadingStatus"] == table_counts()["Note"] == 0
    olivia = UserFactory(username="olivia")
    restored = LabFactory(name="Vision Lab (restored)", slug="vision-restored")
    MembershipFactory(lab=restored, user=olivia, role=Membership.Role.OWNER)

    summary = import_lab(data, lab=restored, private_notes_only_of="olivia")

    assert snapshot(restored) == before
    assert len(before["statuses"]) == 6 and len(before["shared"]) == 7 and len(before["olivia"]) == 1
    assert not Note.objects.filter(body__in=["Max's secret.", "For another lab."]).exists()
    assert sorted(restored.memberships.values_list("user__username", "role")) == [
        ("max", "member"),
        ("olivia", "owner"),
    ]
    created = User.objects.get(username="max")
    assert (created.is_active, created.has_usable_password(), created.email) == (False, False, "max@example.org")
    assert not User.objects.get(username="fiona").memberships.filter(lab=restored).exists()
    assert Paper.objects.get(forum_id="iclrPaper1").keywords == ["vision", "k1"]
    assert Conference.objects.get(slug="neurips-2023").venue_id == "NeurIPS.cc/2023/Conference"
    assert (summary.statuses_created, summary.notes_created, summary.events_created) == (6, 8, 2)
    assert (summary.papers_created, summary.assignments_created, summary.users_created) == (6, 3, 2)


def test_re_importing_the_same_file_changes_nothing(full_lab, owner):
    data = export_lab_json(full_lab, private_of=owner).encode()
    first = import_lab(data, lab=full_lab)
    before, counts = snapshot(full_lab), table_counts()

    again = import_lab(data, lab=full_lab)

    assert not first.changed and not again.changed
    assert (snapshot(full_lab), table_counts()) == (before, counts)
    assert (again.statuses_unchanged, again.notes_unchanged, again.events_unchanged) == (6, 8, 2)


def test_a_second_import_into_a_fresh_lab_is_idempotent(full_lab, owner):
    data = export_lab_json(full_lab, private_of=owner).encode()
    empty_the_database()
    restored = LabFactory(slug="restored")
    MembershipFactory(lab=restored, user=UserFactory(username="olivia"), role=Membership.Role.OWNER)
    import_lab(data, lab=restored)
    before, counts = snapshot(restored), table_counts()

    summary = import_lab(data, lab=restored)

    assert not summary.changed
    assert (snapshot(restored), table_counts()) == (before, counts)


def test_the_newer_status_and_one_liner_win(full_lab, owner, member, paper):
    data = json.loads(export_lab_json(full_lab, private_of=owner))
    ReadingStatus.objects.filter(user=owner, paper=paper).update(state="read", updated_at=at(20))
    summary_note = Note.objects.get(author=member, kind="summary")
    Note.objects.filter(pk=summary_note.pk).update(body="Edited here, earlier.", updated_at=at(1))

    import_lab(json.dumps(data).encode(), lab=full_lab)

    assert ReadingStatus.objects.get(user=owner, paper=paper).state == "read"  # newer here: kept
    summary_note.refresh_from_db()
    assert (summary_note.body, summary_note.updated_at) == ("**summary** about paper 0", at(4, 9, 0))
    assert summary_note.body_html == "<p><strong>summary</strong> about paper 0</p>"
    assert Note.objects.filter(author=member, kind="summary").count() == 1


def test_the_web_import_leaves_out_private_notes_of_others(full_lab, owner):
    data = json.loads(export_lab_json(full_lab, private_of=owner))
    note = next(n for n in data["notes"] if n["body"] == "Olivia's secret.")
    data["notes"].append({**note, "username": "max", "body": "Smuggled."})
    empty_the_database()
    restored = LabFactory(slug="restored")
    MembershipFactory(lab=restored, user=UserFactory(username="olivia"), role=Membership.Role.OWNER)

    summary = import_lab(json.dumps(data).encode(), lab=restored, private_notes_only_of="olivia")

    assert summary.private_notes_skipped == 1
    assert list(Note.objects.filter(lab__isnull=True).values_list("author__username", "body")) == [
        ("olivia", "Olivia's secret.")
    ]


# --- Broken files change nothing -------------------------------------------------------------------------


def broken(data: dict, section: str, index: int, **changes) -> dict:
    data[section][index] = {**data[section][index], **changes}
    return data


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda text, d: text[: len(text) // 2], "Not valid JSON at line"),
        (lambda text, d: "", "The file is empty."),
        (lambda text, d: json.dumps({**d, "format": "other"}), 'Not an iclrnotes lab backup (it has no "format"'),
        (lambda text, d: json.dumps({**d, "version": 2}), "This backup is format version 2"),
        (
            lambda text, d: json.dumps(broken(d, "statuses", 2, state="loved")),
            "statuses #3 (iclrPaper0): state 'loved' is not one of '', 'skipped', 'shortlisted', 'reading', 'read'.",
        ),
        (
            lambda text, d: json.dumps(broken(d, "notes", 1, username="mallory")),
            "notes #2 (2dnO3LLiJ1): username 'mallory' is not among the backup's members.",
        ),
        (
            lambda text, d: json.dumps(broken(d, "statuses", 0, updated_at="yesterday")),
            "statuses #1 (nipsPaper0): updated_at 'yesterday' is not a date and time (ISO 8601).",
        ),
        (
            lambda text, d: json.dumps(broken(d, "papers", 0, forum_id="no spaces")),
            "papers #1 (no spaces): 'no spaces' is not an OpenReview forum id.",
        ),
        (
            lambda text, d: json.dumps(broken(d, "assignments", 2, forum_id="missing")),
            "assignments #3 (missing): refers to the paper 'missing' of 'iclr-2024', which the backup's papers lack.",
        ),
        (
            lambda text, d: json.dumps(broken(d, "assignments", 0, username="fiona")),
            "assignments #1 (2dnO3LLiJ1): fiona is not a member of the lab",
        ),
        (lambda text, d: json.dumps({**d, "notes": {"a": 1}}), '"notes" must be a list, not an object.'),
    ],
    ids=[
        "truncated",
        "empty",
        "format",
        "version",
        "state",
        "author",
        "time",
        "forum-id",
        "paper",
        "assignee",
        "shape",
    ],
)
def test_a_broken_file_is_refused_with_a_message_and_changes_nothing(full_lab, owner, corrupt, message):
    text = export_lab_json(full_lab, private_of=owner)
    bad = corrupt(text, json.loads(text)).encode()
    empty_the_database()
    restored = LabFactory(slug="restored")
    MembershipFactory(lab=restored, user=UserFactory(username="olivia"), role=Membership.Role.OWNER)
    counts = table_counts()

    with pytest.raises(ImportFailed) as failure:
        import_lab(bad, lab=restored)

    assert message in str(failure.value)
    assert table_counts() == counts


def test_an_existing_user_who_is_not_a_member_stops_the_import(full_lab, owner):
    data = export_lab_json(full_lab, private_of=owner).encode()
    other = LabFactory(slug="other")
    MembershipFactory(lab=other, user=owner, role=Membership.Role.OWNER)
    counts = table_counts()

    with pytest.raises(ImportFailed) as failure:
        import_lab(data, lab=other)

    assert str(failure.value) == (
        "members #1 (max): a user 'max' exists here but is not a member of Lab 0; invite them to the lab first "
        "(an administrator can import with --adopt-existing-users)."
    ).replace("Lab 0", other.name)
    assert table_counts() == counts


# --- The commands ----------------------------------------------------------------------------------------


def test_the_commands_round_trip_through_a_file(full_lab, owner, tmp_path):
    path = tmp_path / "vision.json"
    out = StringIO()
    call_command("export_lab", "vision", "--output", str(path), "--include-private-of", "max", stdout=out)
    assert out.getvalue().startswith(f"Vision Lab (vision) exported to {path} (")
    data = json.loads(path.read_text())
    assert [n["body"] for n in data["notes"] if not n["shared"]] == ["Max's secret."]
    before = snapshot(full_lab)

    empty_the_database()
    restored = LabFactory(name="Restored", slug="restored")
    out = StringIO()
    call_command("import_lab", str(path), "--lab", "restored", stdout=out)

    assert out.getvalue().startswith("Restored (restored): 6 statuses created, 0 updated, 0 unchanged; 8 notes")
    assert {k: v for k, v in snapshot(restored).items() if k != "olivia"} == {
        k: v for k, v in before.items() if k != "olivia"
    }
    assert private_notes("max") == [
        ("max", "iclr-2024", "iclrPaper0", "note", "Max's secret.", "<p>Max's secret.</p>", False, False, at(5), at(6))
    ]


# --- The views: who may do what ---------------------------------------------------------------------------


def upload(data: bytes) -> dict:
    return {"file": SimpleUploadedFile("backup.json", data, content_type="application/json")}


def test_anonymous_visitors_are_sent_to_login(client, full_lab):
    for method, name in (("get", "lab_export"), ("post", "lab_import"), ("get", "lab_import")):
        url = reverse(name, args=["vision"])
        response = getattr(client, method)(url)
        assert (response.status_code, response["Location"]) == (302, f"{reverse('login')}?next={url}")


def test_outsiders_get_404(outsider_client, full_lab, owner):
    data = export_lab_json(full_lab, private_of=owner).encode()
    assert outsider_client.get(reverse("lab_export", args=["vision"])).status_code == 404
    assert outsider_client.get(reverse("lab_import", args=["vision"])).status_code == 404
    assert outsider_client.post(reverse("lab_import", args=["vision"]), upload(data)).status_code == 404


def test_a_member_downloads_the_lab_with_their_own_private_notes(member_client, full_lab):
    response = member_client.get(reverse("lab_export", args=["vision"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="iclrnotes-vision-')
    data = json.loads(response.content)
    assert [n["body"] for n in data["notes"] if not n["shared"]] == ["Max's secret."]
    assert len(data["statuses"]) == 6


def test_a_plain_member_cannot_import(member_client, full_lab, owner):
    data = json.loads(export_lab_json(full_lab, private_of=owner))
    data["statuses"][0]["updated_at"] = "2030-01-01T00:00:00+00:00"
    data["statuses"][0]["state"] = "skipped"
    before, counts = snapshot(full_lab), table_counts()

    response = member_client.post(
        reverse("lab_import", args=["vision"]), upload(json.dumps(data).encode()), follow=True
    )

    assert response.redirect_chain == [(reverse("lab_import", args=["vision"]), 302)]
    assert [str(m) for m in response.context["messages"]] == ["Only an owner of the lab can import a backup into it."]
    assert b'enctype="multipart/form-data"' not in response.content  # no upload form for members
    assert (snapshot(full_lab), table_counts()) == (before, counts)


def test_the_owner_imports_a_backup(client, full_lab, owner, member):
    data = json.loads(export_lab_json(full_lab, private_of=owner))
    data["statuses"][0].update(state="skipped", updated_at="2030-01-01T00:00:00+00:00")
    client.force_login(owner)

    response = client.post(reverse("lab_import", args=["vision"]), upload(json.dumps(data).encode()), follow=True)

    assert response.redirect_chain == [(reverse("lab_detail", args=["vision"]), 302)]
    [message] = [str(m) for m in response.context["messages"]]
    assert message.startswith("Backup imported: Vision Lab (vision): 0 statuses created, 1 updated, 5 unchanged;")
    assert ReadingStatus.objects.get(user=member, paper__forum_id="nipsPaper0").state == "skipped"


def test_the_owner_sees_what_is_wrong_with_a_broken_file(client, full_lab, owner):
    client.force_login(owner)
    counts = table_counts()
    response = client.post(reverse("lab_import", args=["vision"]), upload(b'{"format": "iclrnotes-lab", "vers'))
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "Not valid JSON at line 1, column 29: the file ends in the middle of it (truncated?). Nothing was imported."
    ]
    assert table_counts() == counts
    response = client.post(reverse("lab_import", args=["vision"]), {})
    assert response.context["form"].errors["file"] == ["This field is required."]


def test_the_backup_page_offers_the_download_to_members(member_client, full_lab):
    response = member_client.get(reverse("lab_import", args=["vision"]))
    assert response.status_code == 200
    assert f'href="{reverse("lab_export", args=["vision"])}"'.encode() in response.content


@pytest.mark.parametrize(("members", "papers"), [(1, 1), (3, 12)])
def test_the_export_query_count_does_not_grow_with_the_lab(client, db, django_assert_num_queries, members, papers):
    lab = LabFactory(slug="sized")
    conference = ConferenceFactory(slug="sized-conf")
    users = [UserFactory(username=f"sized{n}") for n in range(members)]
    for user in users:
        MembershipFactory(lab=lab, user=user)
        for n in range(papers):
            paper = PaperFactory(conference=conference) if user == users[0] else Paper.objects.all()[n]
            ReadingStatusFactory(user=user, paper=paper, starred=True)
            NoteFactory(paper=paper, author=user, lab=lab if n % 2 else None)
    for n in range(members):
        Session.objects.create(conference=conference, lab=lab, title=f"Event {n}", created_by=users[n])
        Assignment.objects.create(lab=lab, paper=Paper.objects.all()[n], user=users[n])
    client.force_login(users[0])

    with django_assert_num_queries(8):
        response = client.get(reverse("lab_export", args=["sized"]))

    assert len(json.loads(response.content)["statuses"]) == members * papers
