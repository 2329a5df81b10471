import json
from pathlib import Path

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from papers.models import Conference, Paper, Presentation
from tests.factories import LabFactory, NoteFactory, UserFactory

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "schedule"


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def upload(client, **data):
    return client.post(reverse("admin:papers_conference_import"), data, follow=True)


def notes_file(*forum_ids: str, name="notes.json") -> SimpleUploadedFile:
    notes = [
        {
            "id": forum_id,
            "content": {
                "title": {"value": f"Paper {forum_id}"},
                "venue": {"value": "ICLR 2024 spotlight"},
                "venueid": {"value": "ICLR.cc/2024/Conference"},
            },
        }
        for forum_id in forum_ids
    ]
    return SimpleUploadedFile(name, json.dumps(notes).encode(), content_type="application/json")


@pytest.mark.parametrize("model", [m for m in admin.site._registry if m._meta.app_label == "papers"])
def test_every_changelist_and_add_page_renders(admin_client, model, paper):
    info = model._meta.app_label, model._meta.model_name
    changelist = admin_client.get(reverse("admin:{}_{}_changelist".format(*info)))
    assert changelist.status_code == 200
    assert f"Select {model._meta.verbose_name} to change" in changelist.content.decode()
    assert admin_client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 200


def test_paper_change_page_shows_its_presentations_and_notes_inlines(admin_client, paper):
    html = admin_client.get(reverse("admin:papers_paper_change", args=[paper.pk])).content.decode()
    assert 'value="Vision Transformers Need Registers"' in html
    assert 'id="presentations-group"' in html
    assert 'id="notes-group"' in html


def test_private_notes_stay_out_of_the_admin(admin_client, paper):
    author = UserFactory(username="writer")
    NoteFactory(paper=paper, author=author, lab=None, body="my private thought")
    NoteFactory(paper=paper, author=author, lab=LabFactory(), body="shared with the lab")

    listing = admin_client.get(reverse("admin:papers_note_changelist")).content.decode()
    change = admin_client.get(reverse("admin:papers_paper_change", args=[paper.pk])).content.decode()

    assert "my private thought" not in listing + change
    assert "shared with the lab" in change


def test_conference_changelist_links_to_the_import_page(admin_client):
    html = admin_client.get(reverse("admin:papers_conference_changelist")).content.decode()
    assert reverse("admin:papers_conference_import") in html


def test_uploading_notes_imports_them_and_says_how_many(admin_client):
    response = upload(admin_client, kind="openreview", file=notes_file("adminup001", "adminup002"))

    assert Paper.objects.filter(conference__slug="iclr-2024", tier="spotlight").count() == 2
    assert (
        "ICLR 2024 (iclr-2024): 2 papers: 2 created, 0 updated, 0 unchanged; 0 oral, 2 spotlight, 0 poster; "
        "conference created." in response.content.decode()
    )


def test_uploading_a_bad_file_shows_the_error_and_imports_nothing(admin_client):
    bad = SimpleUploadedFile("bad.json", b'[{"id": "ok00000001", "content": {"title": {"value": 1}}}]')
    response = upload(admin_client, kind="openreview", file=bad)

    assert (
        "record 1 (id ok00000001): title must be a string, not a number. Nothing was imported."
        in response.content.decode()
    )
    assert Paper.objects.count() == 0


def test_a_schedule_needs_its_conference(admin_client):
    response = upload(admin_client, kind="schedule", file=SimpleUploadedFile("s.json", b"{}"))
    assert "Choose the conference this schedule belongs to." in response.content.decode()


def test_uploading_a_schedule_imports_sessions_and_presentations(admin_client):
    upload(admin_client, kind="openreview", file=notes_file("adminup001"))
    conference = Conference.objects.get()
    schedule = {
        "count": 1,
        "results": [
            {
                "id": 77,
                "name": "Paper adminup001",
                "eventtype": "Poster",
                "session": "Poster Session 1",
                "starttime": "2024-05-07T10:45:00+02:00",
                "endtime": "2024-05-07T12:45:00+02:00",
                "room_name": "Halle B",
                "poster_position": "#101",
                "paper_url": "https://openreview.net/forum?id=adminup001",
            }
        ],
    }
    schedule_file = SimpleUploadedFile("schedule.json", json.dumps(schedule).encode())
    refused = upload(admin_client, kind="schedule", conference=conference.pk, file=schedule_file)
    assert "is in the UTC time zone but the schedule&#x27;s times are at +02:00" in refused.content.decode()
    assert Presentation.objects.count() == 0

    schedule_file.seek(0)
    response = upload(
        admin_client, kind="schedule", conference=conference.pk, timezone="Europe/Vienna", file=schedule_file
    )

    presentation = Presentation.objects.select_related("session").get()
    assert (presentation.session.title, presentation.session.room, presentation.poster_position) == (
        "Poster Session 1",
        "Halle B",
        "#101",
    )
    assert "ICLR 2024 schedule: 1 session (1 created" in response.content.decode()
    conference.refresh_from_db()
    assert conference.timezone == "Europe/Vienna"
    assert presentation.session.day.isoformat() == "2024-05-07"


def test_import_page_is_for_staff_only(client, member):
    client.force_login(member)
    response = client.get(reverse("admin:papers_conference_import"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
