import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from papers import services
from papers.models import Conference, Lab, Note, ReadingStatus
from tests.factories import NoteFactory, PaperFactory, ReadingStatusFactory, SessionFactory, UserFactory


def violates(create) -> bool:
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


def test_one_reading_status_per_user_and_paper(paper, member):
    ReadingStatusFactory(user=member, paper=paper, state="skipped")
    assert violates(lambda: ReadingStatusFactory(user=member, paper=paper, state="read"))


def test_reading_status_state_must_be_known(paper, member):
    assert violates(lambda: ReadingStatus.objects.create(user=member, paper=paper, state="loved"))


def test_one_paper_per_forum_id_and_conference_but_the_same_id_in_another(paper, conference):
    assert violates(lambda: PaperFactory(conference=conference, forum_id=paper.forum_id))
    other = Conference.objects.create(slug="iclr-2025", name="ICLR 2025")
    PaperFactory(conference=other, forum_id=paper.forum_id)


def test_one_summary_per_author_and_paper_but_many_notes(paper, member):
    NoteFactory(paper=paper, author=member, kind=Note.Kind.SUMMARY)
    NoteFactory(paper=paper, author=member, kind=Note.Kind.NOTE)
    NoteFactory(paper=paper, author=member, kind=Note.Kind.NOTE)
    assert violates(lambda: NoteFactory(paper=paper, author=member, kind=Note.Kind.SUMMARY))


def test_venue_id_is_unique_when_given(conference):
    assert violates(lambda: Conference.objects.create(slug="copy", name="Copy", venue_id=conference.venue_id))
    Conference.objects.create(slug="a", name="A")
    Conference.objects.create(slug="b", name="B")


def test_session_cannot_end_before_it_starts(conference):
    start = dt.datetime(2024, 5, 7, 10, tzinfo=dt.UTC)
    assert violates(
        lambda: SessionFactory(conference=conference, starts_at=start, ends_at=start - dt.timedelta(hours=1))
    )


def test_session_day_is_the_local_date_of_its_start(conference):
    # 23:30 UTC on 7 May is 01:30 on 8 May in Vienna.
    session = SessionFactory(conference=conference, starts_at=dt.datetime(2024, 5, 7, 23, 30, tzinfo=dt.UTC))
    assert session.day == dt.date(2024, 5, 8)


def test_unknown_time_zone_is_rejected(db):
    with pytest.raises(ValidationError, match="'Mars/Olympus' is not a known time zone"):
        Conference(slug="x", name="X", timezone="Mars/Olympus").full_clean()


def test_every_new_user_gets_one_personal_lab_they_own(db):
    user = UserFactory(username="solo")
    lab = Lab.objects.get(memberships__user=user)
    assert (lab.name, lab.slug, lab.is_personal) == ("solo's papers", "solos-papers", True)
    assert services.create_personal_lab(user=user) == lab
    assert Lab.objects.filter(memberships__user=user).count() == 1


def test_lab_slugs_stay_unique(db):
    owner = UserFactory()
    first = services.create_lab(name="Vision Lab", owner=owner)
    second = services.create_lab(name="Vision Lab", owner=owner)
    assert (first.slug, second.slug) == ("vision-lab", "vision-lab-2")


def test_paper_short_authors(paper):
    assert paper.authors_short == "Timothée Darcet, Maxime Oquab, Julien Mairal et al."
    paper.authors = ["Ada Lovelace"]
    assert paper.authors_short == "Ada Lovelace"


def test_a_note_written_anywhere_shows_its_text_rendered_and_sanitised(paper, member):
    note = Note.objects.create(
        paper=paper,
        author=member,
        body='**admin note** <code class="htmx-indicator skip-link">x</code> [y](javascript:alert(1))',
    )
    assert (
        note.body_html
        == '<p><strong>admin note</strong> <code>x</code> <a rel="noopener noreferrer nofollow">y</a></p>'
    )
    note.body = "*edited*"
    note.save()
    assert note.body_html == "<p><em>edited</em></p>"
