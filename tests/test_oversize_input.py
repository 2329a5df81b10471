"""
Oversize input is refused with a message that says the limit and the size, the form comes back with the
text still in it, and nothing is written: notes, lab names, searches, events, meetings, invites, sign-ups.
Nothing is a 500, not even a body over the upload limit.
"""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from papers import services
from papers.forms import NOTE_MAX_LENGTH
from papers.models import Invite, Lab, Meeting, Note, Session, User
from tests.factories import PaperFactory

HTMX = {"HX-Request": "true"}


def text_of(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def form_errors(response, name: str = "form") -> list[str]:
    return [error for errors in response.context[name].errors.values() for error in errors]


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- Notes -----------------------------------------------------------------------------------------------

NOTE_TOO_LONG = f"A note can be at most {NOTE_MAX_LENGTH:,} characters long; this one has {NOTE_MAX_LENGTH + 1:,}."


def note_add_url(lab, paper) -> str:
    return reverse("note_add", args=[lab.slug, paper.conference.slug, paper.forum_id])


def test_a_note_over_10000_characters_is_refused_on_the_page_with_the_text_kept(member_client, lab, paper):
    body = "x" * (NOTE_MAX_LENGTH + 1)
    response = member_client.post(note_add_url(lab, paper), {"kind": "note", "body": body, "visibility": "lab"})

    assert response.status_code == 400  # the paper page again, with the form's error
    assert form_errors(response, "note_form") == [NOTE_TOO_LONG]
    assert NOTE_TOO_LONG in text_of(response)
    assert body in response.content.decode()  # the draft is not lost
    assert not Note.objects.exists()


def test_a_note_over_10000_characters_is_refused_in_the_htmx_fragment(member_client, lab, paper):
    body = "y" * (NOTE_MAX_LENGTH + 1)
    data = {"kind": "note", "body": body, "visibility": "lab"}
    response = member_client.post(note_add_url(lab, paper), data, headers=HTMX)

    assert response.status_code == 200  # htmx swaps only a 2xx in: the notes section with the error
    assert NOTE_TOO_LONG in text_of(response)
    assert body in response.content.decode()
    assert not Note.objects.exists()


def test_a_note_of_exactly_10000_characters_is_kept(member_client, lab, paper):
    body = "z" * NOTE_MAX_LENGTH
    member_client.post(note_add_url(lab, paper), {"kind": "note", "body": body, "visibility": "lab"})
    assert Note.objects.get().body == body


def test_an_edit_over_10000_characters_leaves_the_note_as_it_was(member_client, member, lab, paper):
    note = services.add_note(author=member, paper=paper, lab=lab, kind="note", body="Short and sweet.")
    url = reverse("note_edit", args=[lab.slug, paper.conference.slug, paper.forum_id, note.pk])
    data = {"body": "w" * (NOTE_MAX_LENGTH + 1), "visibility": "lab", "version": note.version}

    response = member_client.post(url, data)
    assert response.status_code == 400
    assert form_errors(response) == [NOTE_TOO_LONG]

    response = member_client.post(url, data, headers=HTMX)
    assert response.status_code == 200
    assert NOTE_TOO_LONG in text_of(response)

    note.refresh_from_db()
    assert (note.body, note.version) == ("Short and sweet.", 1)


# --- Labs ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [101, 10_000])
def test_a_lab_name_over_100_characters_is_refused(member_client, member, length):
    labs = Lab.objects.count()
    response = member_client.post(reverse("lab_new"), {"name": "L" * length})

    assert response.status_code == 200  # the form again
    assert form_errors(response) == [f"Ensure this value has at most 100 characters (it has {length})."]
    assert 'maxlength="100"' in response.content.decode()
    assert Lab.objects.count() == labs


# --- Searching the paper list ----------------------------------------------------------------------------

SEARCH_TOO_LONG = "Search: A search can be at most 200 characters long; this one has 10,000. (ignored)"


@pytest.mark.parametrize("query", ["a" * 10_000, "ab " * 3_333 + "a", "é" * 10_000])
def test_a_search_of_10000_characters_is_ignored_with_a_message(member_client, lab, conference, paper, query):
    # Thousands of words made SQLite's expression tree overflow: a RecursionError and a 500.
    PaperFactory(conference=conference, title="Another paper")
    url = reverse("paper_list", args=[lab.slug, conference.slug])

    for headers in ({}, HTMX):
        response = member_client.get(url, {"q": query}, headers=headers)
        assert response.status_code == 200
        assert SEARCH_TOO_LONG in text_of(response)
        assert "2 of 2 papers" in text_of(response)  # the search is ignored, not the list


def test_a_search_of_more_than_32_words_is_ignored_with_a_message(member_client, lab, conference, paper):
    # 100 one-letter words fit in 200 characters, and overflowed SQLite's parser stack: a 500.
    url = reverse("paper_list", args=[lab.slug, conference.slug])
    response = member_client.get(url, {"q": "v " * 99 + "registers"})
    assert response.status_code == 200
    assert "Search: A search can have at most 32 words; this one has 100. (ignored)" in text_of(response)
    assert "1 of 1 paper" in text_of(response)

    response = member_client.get(url, {"q": "zz " * 31 + "registers"})
    assert "A search can" not in text_of(response)
    assert "0 of 1 paper" in text_of(response)  # 32 words: searched, and no paper has them all


def test_the_inbox_and_the_exports_take_a_10000_character_search_without_a_500(member_client, lab, conference, paper):
    query = {"q": "ab " * 3_333}
    assert member_client.get(reverse("triage", args=[lab.slug, conference.slug]), query).status_code == 200
    response = member_client.get(reverse("export", args=[lab.slug, conference.slug, "csv"]), query)
    assert response.status_code == 200
    assert paper.forum_id in response.content.decode()  # the search is ignored, as on the list


def test_a_keyword_of_10000_characters_finds_nothing_without_a_500(member_client, lab, conference, paper):
    response = member_client.get(reverse("paper_list", args=[lab.slug, conference.slug]), {"keyword": "k" * 10_000})
    assert response.status_code == 200
    assert "0 of 1 paper" in text_of(response)


# --- A lab's events --------------------------------------------------------------------------------------

EVENT = {"title": "Lab dinner", "kind": "social", "day": "2024-05-08", "starts": "19:30", "ends": "22:00"}


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"title": "T" * 301}, "Ensure this value has at most 300 characters (it has 301)."),
        ({"title": "T" * 10_000}, "Ensure this value has at most 300 characters (it has 10000)."),
        ({"room": "R" * 201}, "Ensure this value has at most 200 characters (it has 201)."),
    ],
)
def test_an_event_title_or_place_over_its_limit_is_refused(member_client, lab, conference, change, error):
    response = member_client.post(reverse("event_add", args=[lab.slug, conference.slug]), {**EVENT, **change})
    assert response.status_code == 400  # the schedule again, its form open with the error
    assert form_errors(response, "event_form") == [error]
    assert error in text_of(response)
    assert not Session.objects.filter(lab=lab).exists()


# --- Reading-group meetings ------------------------------------------------------------------------------


@pytest.fixture
def starred(conference, member):
    paper = PaperFactory(conference=conference, title="Alpha paper")
    services.set_star(user=member, paper=paper, starred=True)
    return paper


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"place": "P" * 301}, "Ensure this value has at most 300 characters (it has 301)."),
        ({"agenda": "A" * 10_001}, "An agenda can be at most 10,000 characters long; this one has 10,001."),
        ({"time_zone": "Z" * 65}, "Ensure this value has at most 64 characters (it has 65)."),
    ],
)
def test_a_meeting_field_over_its_limit_is_refused(member_client, lab, starred, change, error):
    data = {"day": "2030-06-03", "starts": "16:00", "time_zone": "Europe/Vienna", "papers": [starred.pk]}
    response = member_client.post(reverse("meeting_new", args=[lab.slug]), {**data, **change})
    assert response.status_code == 200  # the form again
    assert error in form_errors(response)
    assert error in text_of(response)
    assert not Meeting.objects.exists()


def test_an_agenda_of_exactly_10000_characters_is_kept(member_client, lab, starred):
    data = {"day": "2030-06-03", "starts": "16:00", "time_zone": "UTC", "papers": [starred.pk], "agenda": "a" * 10_000}
    member_client.post(reverse("meeting_new", args=[lab.slug]), data)
    assert len(Meeting.objects.get().agenda) == 10_000


# --- Invites ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"days": "91"}, "Ensure this value is less than or equal to 90."),
        ({"days": "14", "max_uses": "501"}, "Ensure this value is less than or equal to 500."),
        ({"days": "9" * 5_000}, "Enter a whole number."),  # more digits than Python turns into an int
        ({"days": "1" * 10_000}, "Enter a whole number."),
    ],
)
def test_an_invite_over_its_limits_is_refused_with_a_message(client, owner, lab, data, error):
    client.force_login(owner)
    response = client.post(reverse("invite_create", args=[lab.slug]), data)
    assert response.status_code == 302
    assert response["Location"] == lab.get_absolute_url()
    assert messages_of(response) == [error]
    assert not Invite.objects.exists()


def test_an_invite_link_with_a_10000_character_token_is_not_found(member_client):
    response = member_client.get(reverse("join", args=["t" * 10_000]))
    assert response.status_code == 404
    assert "This invite link is not valid. Check that it was copied whole." in text_of(response)


# --- Signing up ------------------------------------------------------------------------------------------


def test_a_username_over_150_characters_is_refused(client, db):
    data = {"username": "u" * 151, "password1": "a long pass phrase 9", "password2": "a long pass phrase 9"}
    response = client.post(reverse("signup"), data)
    assert response.status_code == 200
    assert "Ensure this value has at most 150 characters (it has 151)." in form_errors(response)
    assert not User.objects.exists()


# --- A body over the upload limit ------------------------------------------------------------------------


def test_a_post_over_the_upload_limit_is_a_400_not_a_500(member_client, lab, paper, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000  # the real limit is 10 MB; the same code path
    response = member_client.post(note_add_url(lab, paper), {"kind": "note", "body": "b" * 200_000})
    assert response.status_code == 400
    assert not Note.objects.exists()
