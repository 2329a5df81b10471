"""The virtual-site schedule importer (papers/importers/virtualsite.py) and its command."""

import json
import threading
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from papers.importers.base import ImportFailed, read_source
from papers.importers.virtualsite import ScheduleSummary, forum_id_from, import_schedule, kind_from
from papers.models import Paper, Presentation, Session
from tests.conftest import ICLR_2024
from tests.factories import ConferenceFactory, PaperFactory, SessionFactory

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "schedule"
BASIC = FIXTURES / "basic.json"
CHANGED = FIXTURES / "changed.json"
BARE_ARRAY = FIXTURES / "bare_array.json"

BASIC_SUMMARY = (
    "ICLR 2024 schedule: 4 sessions (4 created, 0 updated, 0 unchanged), "
    "5 presentations (5 created, 0 updated, 0 unchanged); 2 non-paper events; "
    "1 entry matched no paper (first: unknownZZ9)."
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def papers(conference, paper):
    """The papers basic.json schedules: two posters, the oral `paper` (2dnO3LLiJ1) and a second oral."""
    return {
        "posterAA01": PaperFactory(conference=conference, forum_id="posterAA01"),
        "posterBB02": PaperFactory(conference=conference, forum_id="posterBB02"),
        "2dnO3LLiJ1": paper,
        "oralCC03": PaperFactory(conference=conference, forum_id="oralCC03", tier=Paper.Tier.ORAL),
    }


def results(path: Path = BASIC) -> list[dict]:
    return json.loads(path.read_text())["results"]


def as_file(entries: list) -> bytes:
    return json.dumps({"count": len(entries), "results": entries}).encode()


def counts() -> tuple[int, int, int]:
    return Session.objects.count(), Presentation.objects.count(), Paper.objects.count()


def snapshot() -> list[tuple]:
    """Every stored session and presentation field, to prove a failed import wrote nothing."""
    sessions = list(Session.objects.order_by("id").values_list("id", "title", "day", "starts_at", "ends_at", "room"))
    presentations = list(
        Presentation.objects.order_by("id").values_list(
            "id", "paper_id", "session_id", "poster_position", "starts_at", "ends_at", "external_id"
        )
    )
    return sessions + presentations


def poster(entry_id, forum_id, **fields) -> dict:
    entry = {
        "id": entry_id,
        "eventtype": "Poster",
        "session": "Poster Session 2",
        "starttime": "2024-05-08T10:45:00+02:00",
        "endtime": "2024-05-08T12:45:00+02:00",
        "room_name": "Halle B",
        "poster_position": f"#{entry_id}",
        "paper_url": f"https://openreview.net/forum?id={forum_id}",
    }
    entry.update(fields)
    return entry


# Creating ---------------------------------------------------------------------------------------------


def test_import_creates_sessions_with_times_in_utc_day_room_and_kind(conference, papers):
    summary = import_schedule(BASIC.read_bytes(), conference=conference)

    assert str(summary) == BASIC_SUMMARY
    sessions = {session.title: session for session in Session.objects.filter(conference=conference)}
    assert set(sessions) == {"Poster Session 1", "Oral 1A", "Invited Talk 1", "Night Owls Social"}

    posters = sessions["Poster Session 1"]
    assert posters.kind == Session.Kind.POSTER
    assert posters.starts_at == utc(2024, 5, 7, 8, 45)
    assert posters.ends_at == utc(2024, 5, 7, 11, 0)  # the latest end of its entries (13:00 in Vienna)
    assert posters.day == date(2024, 5, 7)
    assert posters.room == "Halle B"  # three entries say Halle B, one Halle C

    orals = sessions["Oral 1A"]
    assert orals.kind == Session.Kind.ORAL
    assert (orals.starts_at, orals.ends_at) == (utc(2024, 5, 7, 8, 0), utc(2024, 5, 7, 8, 30))
    assert orals.room == "Halle A 7"


def test_day_is_taken_in_the_conference_time_zone(conference, papers):
    import_schedule(BASIC.read_bytes(), conference=conference)

    social = Session.objects.get(title="Night Owls Social")
    # 22:30 UTC on May 7 is 00:30 on May 8 in Vienna.
    assert social.starts_at == utc(2024, 5, 7, 22, 30)
    assert social.day == date(2024, 5, 8)
    assert social.kind == Session.Kind.SOCIAL
    assert social.room == "Stolz 1"
    assert not social.presentations.exists()


def test_presentations_have_their_own_position_times_and_event_id(conference, papers):
    import_schedule(BASIC.read_bytes(), conference=conference)

    first = Presentation.objects.get(paper=papers["posterAA01"])
    assert first.session.title == "Poster Session 1"
    assert first.poster_position == "#101"
    assert (first.starts_at, first.ends_at) == (utc(2024, 5, 7, 8, 45), utc(2024, 5, 7, 10, 45))
    assert first.external_id == "19001"

    second_oral = Presentation.objects.get(paper=papers["oralCC03"])  # paper_url was a bare forum id
    assert second_oral.session.title == "Oral 1A"
    assert second_oral.poster_position == ""
    assert (second_oral.starts_at, second_oral.ends_at) == (utc(2024, 5, 7, 8, 15), utc(2024, 5, 7, 8, 30))


def test_an_oral_paper_gets_its_poster_and_its_talk(conference, papers):
    import_schedule(BASIC.read_bytes(), conference=conference)

    presentations = Presentation.objects.filter(paper=papers["2dnO3LLiJ1"]).select_related("session")
    assert sorted((p.session.title, p.session.kind, p.poster_position, p.external_id) for p in presentations) == [
        ("Oral 1A", "oral", "", "19101"),
        ("Poster Session 1", "poster", "#103", "19003"),
    ]


def test_unmatched_entries_are_reported_by_forum_id_and_not_imported(conference, papers):
    summary = import_schedule(BASIC.read_bytes(), conference=conference)

    assert summary.unmatched == ["unknownZZ9"]
    assert Presentation.objects.count() == 5
    assert not Presentation.objects.filter(external_id="19004").exists()


def test_papers_of_another_conference_do_not_match(conference, papers):
    other = ConferenceFactory(slug="iclr-2023", name="ICLR 2023")
    PaperFactory(conference=other, forum_id="unknownZZ9")

    summary = import_schedule(BASIC.read_bytes(), conference=conference)

    assert summary.unmatched == ["unknownZZ9"]
    assert not Session.objects.filter(conference=other).exists()


def test_a_non_paper_event_is_a_session_without_presentations(conference, papers):
    summary = import_schedule(BASIC.read_bytes(), conference=conference)

    talk = Session.objects.get(title="Invited Talk 1")
    assert talk.kind == Session.Kind.INVITED_TALK
    assert (talk.starts_at, talk.ends_at, talk.day) == (utc(2024, 5, 8, 7, 0), utc(2024, 5, 8, 8, 0), date(2024, 5, 8))
    assert talk.room == "Halle A 1"
    assert not talk.presentations.exists()
    assert summary.skipped_non_paper == 2
    assert summary.sessions_created == 4


def test_summary_fields(conference, papers):
    summary = import_schedule(BASIC.read_bytes(), conference=conference)

    assert summary == ScheduleSummary(
        conference=conference,
        sessions_created=4,
        presentations_created=5,
        unmatched=["unknownZZ9"],
        skipped_non_paper=2,
    )


def test_a_bare_array_is_accepted(conference, papers):
    summary = import_schedule(BARE_ARRAY.read_bytes(), conference=conference)

    assert (summary.sessions_created, summary.presentations_created) == (1, 1)
    assert Presentation.objects.get().paper == papers["posterAA01"]


def test_the_same_paper_twice_in_one_session_keeps_the_later_entry(conference, papers):
    data = as_file([poster(1, "posterAA01", poster_position="#1"), poster(2, "posterAA01", poster_position="#2")])

    summary = import_schedule(data, conference=conference)

    presentation = Presentation.objects.get()
    assert (presentation.poster_position, presentation.external_id) == ("#2", "2")
    assert (summary.presentations_created, summary.presentations_unchanged) == (1, 0)


def test_an_entry_without_a_session_is_grouped_by_event_type_and_time(conference, papers):
    data = as_file(
        [
            poster(1, "oralCC03", eventtype="Oral", session=None, starttime="2024-05-07T10:00:00+02:00"),
            poster(2, "2dnO3LLiJ1", eventtype="Oral", session="", starttime="2024-05-07T10:00:00+02:00"),
        ]
    )

    import_schedule(data, conference=conference)

    session = Session.objects.get()
    assert (session.title, session.kind, session.day) == ("Oral, May 7 10:00", Session.Kind.ORAL, date(2024, 5, 7))
    assert session.presentations.count() == 2


def test_an_entry_without_times_joins_its_session_of_the_day(conference, papers):
    data = as_file([poster(1, "posterAA01"), poster(2, "posterBB02", starttime=None, endtime=None)])

    import_schedule(data, conference=conference)

    session = Session.objects.get()
    assert session.day == date(2024, 5, 8)
    untimed = Presentation.objects.get(paper=papers["posterBB02"])
    assert untimed.session == session
    assert (untimed.starts_at, untimed.ends_at) == (None, None)


def test_sourceid_is_used_when_there_is_no_paper_url(conference, papers):
    data = as_file(
        [
            poster(1, "x", paper_url=None, sourceid="posterAA01"),
            poster(2, "x", paper_url=None, sourceid=123, eventtype="Social", session="Social 1"),
        ]
    )

    summary = import_schedule(data, conference=conference)

    assert Presentation.objects.get().paper == papers["posterAA01"]
    assert (summary.skipped_non_paper, summary.unmatched) == (1, [])


def test_a_paper_url_without_a_forum_id_is_unmatched_by_its_label(conference, papers):
    data = as_file([poster(7, "x", paper_url="https://arxiv.org/abs/2309.16588")])

    summary = import_schedule(data, conference=conference)

    assert summary.unmatched == ["record 1 (id 7)"]
    assert Presentation.objects.count() == 0


def test_sessions_on_different_days_with_the_same_title_are_separate(conference, papers):
    data = as_file(
        [
            poster(1, "posterAA01", session="Poster Session"),
            poster(2, "posterBB02", session="Poster Session", starttime="2024-05-09T10:45:00+02:00", endtime=None),
        ]
    )

    import_schedule(data, conference=conference)

    assert list(Session.objects.order_by("day").values_list("title", "day")) == [
        ("Poster Session", date(2024, 5, 8)),
        ("Poster Session", date(2024, 5, 9)),
    ]


@pytest.mark.parametrize(
    ("eventtype", "kind"),
    [
        ("Poster", "poster"),
        ("Spotlight Poster", "poster"),
        ("Oral", "oral"),
        ("Workshop", "workshop"),
        ("Workshop Poster", "workshop"),
        ("Tutorial", "tutorial"),
        ("Invited Talk", "invited_talk"),
        ("Keynote", "invited_talk"),
        ("Social", "social"),
        ("Mentorship", "mentoring"),
        ("Break", "other"),
    ],
)
def test_kind_from_event_type(eventtype, kind):
    assert kind_from(eventtype) == kind


@pytest.mark.parametrize(
    ("paper_url", "forum_id"),
    [
        ("https://openreview.net/forum?id=2dnO3LLiJ1", "2dnO3LLiJ1"),
        ("https://openreview.net/forum?id=2dnO3LLiJ1&noteId=abc", "2dnO3LLiJ1"),
        ("openreview.net/forum?id=2dnO3LLiJ1", "2dnO3LLiJ1"),
        (" 2dnO3LLiJ1 ", "2dnO3LLiJ1"),
        ("https://openreview.net/forum", None),
        ("https://arxiv.org/abs/2309.16588", None),
        ("not a forum id", None),
    ],
)
def test_forum_id_from(paper_url, forum_id):
    assert forum_id_from(paper_url) == forum_id


# Re-importing -----------------------------------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(conference, papers):
    import_schedule(BASIC.read_bytes(), conference=conference)
    before, rows = counts(), snapshot()

    summary = import_schedule(BASIC.read_bytes(), conference=conference)

    assert str(summary) == (
        "ICLR 2024 schedule: 4 sessions (0 created, 0 updated, 4 unchanged), "
        "5 presentations (0 created, 0 updated, 5 unchanged); 2 non-paper events; "
        "1 entry matched no paper (first: unknownZZ9)."
    )
    assert counts() == before
    assert snapshot() == rows


def test_a_changed_file_updates_in_place(conference, papers):
    import_schedule(BASIC.read_bytes(), conference=conference)
    session_id = Session.objects.get(title="Poster Session 1").id
    presentation_id = Presentation.objects.get(paper=papers["posterBB02"]).id
    before = counts()

    summary = import_schedule(CHANGED.read_bytes(), conference=conference)

    assert (summary.sessions_created, summary.sessions_updated, summary.sessions_unchanged) == (0, 1, 3)
    assert (summary.presentations_created, summary.presentations_updated, summary.presentations_unchanged) == (
        0,
        1,
        4,
    )
    assert counts() == before
    assert Session.objects.get(id=session_id).room == "Halle D"
    assert Presentation.objects.get(id=presentation_id).poster_position == "#202"
    assert Session.objects.get(title="Oral 1A").room == "Halle A 7"


def test_a_changed_time_updates_session_and_presentation(conference, papers):
    import_schedule(as_file([poster(1, "posterAA01")]), conference=conference)

    summary = import_schedule(
        as_file([poster(1, "posterAA01", starttime="2024-05-08T11:00:00+02:00")]), conference=conference
    )

    assert (summary.sessions_updated, summary.presentations_updated) == (1, 1)
    session = Session.objects.get()
    assert (session.starts_at, session.day) == (utc(2024, 5, 8, 9, 0), date(2024, 5, 8))
    assert Presentation.objects.get().starts_at == utc(2024, 5, 8, 9, 0)


def test_values_missing_from_the_file_do_not_erase_stored_ones(conference, papers):
    SessionFactory(conference=conference, title="Poster Session 2", room="Hall set by hand", kind="poster")
    import_schedule(
        as_file([poster(1, "posterAA01", starttime=None, endtime=None, room_name=None)]), conference=conference
    )
    assert Session.objects.get().room == "Hall set by hand"
    presentation = Presentation.objects.get()
    assert presentation.poster_position == "#1"

    summary = import_schedule(
        as_file([poster(1, "posterAA01", starttime=None, endtime=None, room_name="", poster_position=None)]),
        conference=conference,
    )

    assert (summary.sessions_unchanged, summary.presentations_unchanged) == (1, 1)
    assert Session.objects.get().room == "Hall set by hand"
    assert Presentation.objects.get().poster_position == "#1"


def test_a_moved_paper_keeps_only_its_new_presentation(conference, papers):
    import_schedule(as_file([poster(1, "posterAA01")]), conference=conference)
    old_session = Session.objects.get()

    summary = import_schedule(as_file([poster(1, "posterAA01", session="Poster Session 3")]), conference=conference)

    assert str(summary) == (
        "ICLR 2024 schedule: 1 session (1 created, 0 updated, 0 unchanged), "
        "1 presentation (1 created, 0 updated, 0 unchanged, 1 removed)."
    )
    assert summary.presentations_removed == 1
    presentation = Presentation.objects.get()  # only one is left
    assert (presentation.paper, presentation.session.title) == (papers["posterAA01"], "Poster Session 3")
    # Sessions are never deleted: the old one stays, empty.
    assert Session.objects.get(id=old_session.id).title == "Poster Session 2"
    assert not old_session.presentations.exists()


def test_only_papers_the_file_schedules_lose_presentations(conference, papers):
    import_schedule(BASIC.read_bytes(), conference=conference)
    kept = set(Presentation.objects.exclude(paper=papers["posterAA01"]).values_list("id", flat=True))

    summary = import_schedule(as_file([poster(1, "posterAA01", session="Poster Session 3")]), conference=conference)

    assert (summary.presentations_created, summary.presentations_removed) == (1, 1)
    assert set(Presentation.objects.exclude(paper=papers["posterAA01"]).values_list("id", flat=True)) == kept
    assert list(Presentation.objects.filter(paper=papers["posterAA01"]).values_list("session__title", flat=True)) == [
        "Poster Session 3"
    ]
    assert Session.objects.count() == 5


def test_an_oral_that_loses_its_talk_keeps_its_poster(conference, papers):
    import_schedule(BASIC.read_bytes(), conference=conference)
    poster_presentation = Presentation.objects.get(paper=papers["2dnO3LLiJ1"], session__title="Poster Session 1")
    entries = [entry for entry in results() if entry["id"] != 19101]

    summary = import_schedule(as_file(entries), conference=conference)

    assert str(summary) == (
        "ICLR 2024 schedule: 4 sessions (0 created, 1 updated, 3 unchanged), "
        "4 presentations (0 created, 0 updated, 4 unchanged, 1 removed); 2 non-paper events; "
        "1 entry matched no paper (first: unknownZZ9)."
    )
    assert list(Presentation.objects.filter(paper=papers["2dnO3LLiJ1"]).values_list("id", flat=True)) == [
        poster_presentation.id
    ]
    assert Presentation.objects.count() == 4
    # Its talk was the first of Oral 1A, which now starts with the next one.
    assert Session.objects.get(title="Oral 1A").starts_at == utc(2024, 5, 7, 8, 15)


def test_a_session_that_gets_times_is_updated_not_duplicated(conference, papers):
    import_schedule(as_file([poster(1, "posterAA01", starttime=None, endtime=None)]), conference=conference)
    session = Session.objects.get()
    presentation = Presentation.objects.get()
    assert (session.day, session.starts_at) == (None, None)

    summary = import_schedule(as_file([poster(1, "posterAA01")]), conference=conference)

    assert str(summary) == (
        "ICLR 2024 schedule: 1 session (0 created, 1 updated, 0 unchanged), "
        "1 presentation (0 created, 1 updated, 0 unchanged)."
    )
    assert Session.objects.get().id == session.id  # the same one, now dated
    session.refresh_from_db()
    assert (session.day, session.starts_at, session.ends_at) == (
        date(2024, 5, 8),
        utc(2024, 5, 8, 8, 45),
        utc(2024, 5, 8, 10, 45),
    )
    assert list(Presentation.objects.values_list("id", "session_id", "starts_at")) == [
        (presentation.id, session.id, utc(2024, 5, 8, 8, 45))
    ]


def test_a_session_moved_to_another_day_is_updated_not_duplicated(conference, papers):
    import_schedule(as_file([poster(1, "posterAA01"), poster(2, "posterBB02")]), conference=conference)
    session_id = Session.objects.get().id
    presentation_ids = set(Presentation.objects.values_list("id", flat=True))

    summary = import_schedule(
        as_file(
            [
                poster(1, "posterAA01", starttime="2024-05-09T10:45:00+02:00", endtime="2024-05-09T12:45:00+02:00"),
                poster(2, "posterBB02", starttime="2024-05-09T10:45:00+02:00", endtime="2024-05-09T12:45:00+02:00"),
            ]
        ),
        conference=conference,
    )

    assert (summary.sessions_created, summary.sessions_updated) == (0, 1)
    assert (summary.presentations_created, summary.presentations_updated, summary.presentations_removed) == (0, 2, 0)
    assert list(Session.objects.values_list("id", "title", "day", "starts_at")) == [
        (session_id, "Poster Session 2", date(2024, 5, 9), utc(2024, 5, 9, 8, 45))
    ]
    assert set(Presentation.objects.values_list("id", flat=True)) == presentation_ids


def test_a_file_without_times_keeps_the_day_of_the_session_it_adopts(conference, papers):
    import_schedule(as_file([poster(1, "posterAA01")]), conference=conference)
    session = Session.objects.get()

    summary = import_schedule(as_file([poster(1, "posterAA01", starttime=None, endtime=None)]), conference=conference)

    assert (summary.sessions_created, summary.sessions_unchanged, summary.presentations_unchanged) == (0, 1, 1)
    assert list(Session.objects.values_list("id", "day", "starts_at")) == [
        (session.id, date(2024, 5, 8), utc(2024, 5, 8, 8, 45))
    ]


def test_a_session_of_the_same_title_and_day_is_not_adopted_by_another_day(conference, papers):
    import_schedule(as_file([poster(1, "posterAA01")]), conference=conference)
    first = Session.objects.get()

    summary = import_schedule(
        as_file(
            [poster(1, "posterAA01"), poster(2, "posterBB02", starttime="2024-05-09T10:45:00+02:00", endtime=None)]
        ),
        conference=conference,
    )

    assert (summary.sessions_created, summary.sessions_updated, summary.sessions_unchanged) == (1, 0, 1)
    assert Session.objects.get(id=first.id).day == date(2024, 5, 8)
    assert Session.objects.exclude(id=first.id).get().day == date(2024, 5, 9)


def test_the_first_plan_of_the_file_adopts_the_only_session_of_its_title(conference, papers):
    SessionFactory(conference=conference, title="Poster Session 2")
    undated = Session.objects.get()

    summary = import_schedule(
        as_file(
            [
                poster(1, "posterAA01", starttime="2024-05-09T10:45:00+02:00", endtime=None),
                poster(2, "posterBB02"),
            ]
        ),
        conference=conference,
    )

    assert (summary.sessions_created, summary.sessions_updated) == (1, 1)
    assert Session.objects.get(id=undated.id).day == date(2024, 5, 9)
    assert Session.objects.exclude(id=undated.id).get().day == date(2024, 5, 8)


def test_a_title_held_by_two_sessions_is_not_adopted(conference, papers):
    import_schedule(
        as_file(
            [poster(1, "posterAA01"), poster(2, "posterBB02", starttime="2024-05-09T10:45:00+02:00", endtime=None)]
        ),
        conference=conference,
    )

    summary = import_schedule(
        as_file([poster(1, "posterAA01", starttime="2024-05-10T10:45:00+02:00", endtime=None)]), conference=conference
    )

    assert (summary.sessions_created, summary.presentations_created, summary.presentations_removed) == (1, 1, 1)
    assert list(Session.objects.order_by("day").values_list("day", flat=True)) == [
        date(2024, 5, 8),
        date(2024, 5, 9),
        date(2024, 5, 10),
    ]
    assert sorted(Presentation.objects.values_list("paper__forum_id", "session__day")) == [
        ("posterAA01", date(2024, 5, 10)),
        ("posterBB02", date(2024, 5, 9)),
    ]


# Time zones -------------------------------------------------------------------------------------------

UTC_REFUSED = (
    "The conference ICLR 2024 is in the UTC time zone but the schedule's times are at +02:00 "
    "(record 1 (id 19001)); set the conference's time zone first (--timezone Europe/Vienna, or in the admin)."
)


@pytest.fixture
def utc_conference(conference):
    """The conference as import_openreview creates it: in UTC."""
    conference.timezone = "UTC"
    conference.save(update_fields=["timezone"])
    return conference


def test_a_utc_conference_refuses_times_with_another_offset(utc_conference, papers):
    with pytest.raises(ImportFailed) as error:
        import_schedule(BASIC.read_bytes(), conference=utc_conference)

    assert str(error.value) == UTC_REFUSED
    assert counts() == (0, 0, 4)
    utc_conference.refresh_from_db()
    assert utc_conference.timezone == "UTC"


@pytest.mark.parametrize(
    ("times", "offset"),
    [
        (("2024-05-08T05:45:00-05:00", None), "-05:00"),
        ((None, "2024-05-08T16:15:00+05:30"), "+05:30"),
    ],
)
def test_the_refusal_names_the_first_entry_with_an_offset(utc_conference, papers, times, offset):
    starttime, endtime = times
    entries = [
        poster(1, "posterAA01", starttime="2024-05-08T08:45:00Z", endtime="2024-05-08T10:45:00+00:00"),
        poster(2, "posterBB02", starttime=starttime, endtime=endtime),
        poster(3, "2dnO3LLiJ1"),
    ]

    with pytest.raises(ImportFailed) as error:
        import_schedule(as_file(entries), conference=utc_conference)

    assert str(error.value) == (
        f"The conference ICLR 2024 is in the UTC time zone but the schedule's times are at {offset} "
        "(record 2 (id 2)); set the conference's time zone first (--timezone Europe/Vienna, or in the admin)."
    )
    assert Session.objects.count() == 0


def test_a_utc_conference_takes_times_in_utc(utc_conference, papers):
    import_schedule(
        as_file([poster(1, "posterAA01", starttime="2024-05-07T22:30:00Z", endtime="2024-05-07T23:30:00+00:00")]),
        conference=utc_conference,
    )

    assert list(Session.objects.values_list("day", "starts_at")) == [(date(2024, 5, 7), utc(2024, 5, 7, 22, 30))]


def test_the_timezone_is_set_with_the_import(utc_conference, papers):
    summary = import_schedule(BASIC.read_bytes(), conference=utc_conference, timezone="Europe/Vienna")

    assert str(summary) == BASIC_SUMMARY[:-1] + "; time zone set to Europe/Vienna (was UTC)."
    assert summary.timezone_changed == ("UTC", "Europe/Vienna")
    assert utc_conference.timezone == "Europe/Vienna"
    utc_conference.refresh_from_db()
    assert utc_conference.timezone == "Europe/Vienna"
    assert Session.objects.get(title="Night Owls Social").day == date(2024, 5, 8)  # 00:30 in Vienna


def test_an_explicit_utc_confirms_utc(utc_conference, papers):
    summary = import_schedule(BASIC.read_bytes(), conference=utc_conference, timezone="UTC")

    assert str(summary) == BASIC_SUMMARY  # no change of time zone to report
    assert Session.objects.get(title="Night Owls Social").day == date(2024, 5, 7)  # 22:30 in UTC


def test_a_failed_import_leaves_the_timezone_as_it_was(utc_conference, papers):
    entries = [*results(), {**BAD, "starttime": "tomorrow"}]

    with pytest.raises(ImportFailed, match=r"^record 9 \(id 99999\): starttime is not an ISO-8601"):
        import_schedule(as_file(entries), conference=utc_conference, timezone="Europe/Vienna")

    assert utc_conference.timezone == "UTC"
    utc_conference.refresh_from_db()
    assert utc_conference.timezone == "UTC"
    assert counts() == (0, 0, 4)


def test_a_database_error_leaves_the_timezone_as_it_was(utc_conference, papers, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Presentation.objects, "bulk_create", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        import_schedule(BASIC.read_bytes(), conference=utc_conference, timezone="Europe/Vienna")

    assert utc_conference.timezone == "UTC"
    utc_conference.refresh_from_db()
    assert utc_conference.timezone == "UTC"
    assert counts() == (0, 0, 4)


def test_an_unknown_timezone_is_refused(conference, papers):
    with pytest.raises(ImportFailed) as error:
        import_schedule(BASIC.read_bytes(), conference=conference, timezone="Mars/Olympus")

    assert str(error.value) == "Unknown time zone 'Mars/Olympus'. Use a name such as Europe/Vienna."
    conference.refresh_from_db()
    assert conference.timezone == "Europe/Vienna"
    assert Session.objects.count() == 0


def late_in_utc() -> bytes:
    """Times in UTC (accepted by a UTC conference); the social starts on May 8 in Vienna, May 7 in UTC."""
    return as_file(
        [
            poster(1, "posterAA01", starttime="2024-05-08T08:45:00Z", endtime="2024-05-08T10:45:00Z"),
            {
                "id": 2,
                "name": "Night Owls Social",
                "eventtype": "Social",
                "starttime": "2024-05-07T22:30:00Z",
                "endtime": "2024-05-07T23:30:00Z",
            },
        ]
    )


def test_a_new_timezone_moves_stored_sessions_to_their_local_day(utc_conference, papers):
    import_schedule(late_in_utc(), conference=utc_conference)
    # A session this file does not mention is put on its local day too.
    other = SessionFactory(conference=utc_conference, title="Late Talk", starts_at=utc(2024, 5, 9, 23, 0))
    before = dict(Session.objects.values_list("title", "id"))
    assert list(Session.objects.order_by("title").values_list("title", "day")) == [
        ("Late Talk", date(2024, 5, 9)),
        ("Night Owls Social", date(2024, 5, 7)),
        ("Poster Session 2", date(2024, 5, 8)),
    ]

    summary = import_schedule(late_in_utc(), conference=utc_conference, timezone="Europe/Vienna")

    assert str(summary) == (
        "ICLR 2024 schedule: 2 sessions (0 created, 0 updated, 2 unchanged), "
        "1 presentation (0 created, 0 updated, 1 unchanged); 1 non-paper event; "
        "time zone set to Europe/Vienna (was UTC)."
    )
    assert dict(Session.objects.values_list("title", "id")) == before
    assert list(Session.objects.order_by("title").values_list("title", "day")) == [
        ("Late Talk", date(2024, 5, 10)),
        ("Night Owls Social", date(2024, 5, 8)),
        ("Poster Session 2", date(2024, 5, 8)),
    ]
    assert Session.objects.get(id=other.id).starts_at == utc(2024, 5, 9, 23, 0)


def test_a_timezone_corrected_in_the_admin_does_not_duplicate_sessions(utc_conference, papers):
    import_schedule(late_in_utc(), conference=utc_conference)
    social_id = Session.objects.get(title="Night Owls Social").id
    utc_conference.timezone = "Europe/Vienna"  # as the admin would
    utc_conference.save(update_fields=["timezone"])

    summary = import_schedule(late_in_utc(), conference=utc_conference)

    assert (summary.sessions_created, summary.sessions_unchanged, summary.timezone_changed) == (0, 2, None)
    assert list(Session.objects.filter(title="Night Owls Social").values_list("id", "day")) == [
        (social_id, date(2024, 5, 8))
    ]


def test_sessions_of_one_title_on_consecutive_days_move_together(utc_conference, papers):
    # 23:00 UTC is the next day in Vienna: each must move onto the day the other leaves.
    first = SessionFactory(conference=utc_conference, title="Night Talks", starts_at=utc(2024, 5, 7, 23, 0))
    second = SessionFactory(conference=utc_conference, title="Night Talks", starts_at=utc(2024, 5, 8, 23, 0))
    assert (first.day, second.day) == (date(2024, 5, 7), date(2024, 5, 8))

    import_schedule(late_in_utc(), conference=utc_conference, timezone="Europe/Vienna")

    assert list(Session.objects.filter(title="Night Talks").order_by("id").values_list("id", "day")) == [
        (first.id, date(2024, 5, 8)),
        (second.id, date(2024, 5, 9)),
    ]


def test_a_duplicate_made_by_an_earlier_import_keeps_its_day(utc_conference, papers):
    # What the old importer did after a time-zone fix: the same session twice, on its UTC and its local day.
    stale = SessionFactory(conference=utc_conference, title="Night Owls Social", starts_at=utc(2024, 5, 7, 22, 30))
    duplicate = SessionFactory(conference=utc_conference, title="Night Owls Social", starts_at=utc(2024, 5, 8, 9, 0))
    Session.objects.filter(id=duplicate.id).update(  # its day stays May 8
        kind=Session.Kind.SOCIAL, starts_at=utc(2024, 5, 7, 22, 30), ends_at=utc(2024, 5, 7, 23, 30)
    )

    summary = import_schedule(late_in_utc(), conference=utc_conference, timezone="Europe/Vienna")

    assert (summary.sessions_created, summary.sessions_unchanged) == (1, 1)  # Poster Session 2 is new
    assert list(Session.objects.filter(title="Night Owls Social").order_by("id").values_list("id", "day")) == [
        (stale.id, date(2024, 5, 7)),
        (duplicate.id, date(2024, 5, 8)),
    ]


# Rejecting --------------------------------------------------------------------------------------------

BAD = {"id": 99999, "eventtype": "Poster", "paper_url": "https://openreview.net/forum?id=posterAA01"}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("not an event", "record 10: expected an object, not a string."),
        (["a", "list"], "record 10: expected an object, not a list."),
        ({**BAD, "session": 7}, "record 10 (id 99999): session must be a string, not a number."),
        ({**BAD, "name": ["A", "B"]}, "record 10 (id 99999): name must be a string, not a list."),
        ({**BAD, "room_name": {"x": 1}}, "record 10 (id 99999): room_name must be a string, not an object."),
        ({**BAD, "poster_position": ["#1"]}, "record 10 (id 99999): poster_position must be a string, not a list."),
        ({**BAD, "eventtype": True}, "record 10 (id 99999): eventtype must be a string, not true/false."),
        ({**BAD, "paper_url": 12}, "record 10 (id 99999): paper_url must be a string, not a number."),
        ({**BAD, "uid": {"a": 1}, "id": None}, "record 10: uid must be a string or a whole number, not an object."),
        (
            {**BAD, "starttime": "tomorrow"},
            "record 10 (id 99999): starttime is not an ISO-8601 date-time: 'tomorrow'.",
        ),
        (
            {**BAD, "endtime": "2024-05-07T25:00:00+02:00"},
            "record 10 (id 99999): endtime is not an ISO-8601 date-time: '2024-05-07T25:00:00+02:00'.",
        ),
        (
            {**BAD, "starttime": 1715071500},
            "record 10 (id 99999): starttime must be an ISO-8601 date-time string, not a number.",
        ),
        (
            {**BAD, "starttime": "2024-05-07T10:45:00"},
            "record 10 (id 99999): starttime has no time-zone offset: '2024-05-07T10:45:00'.",
        ),
        (
            {**BAD, "endtime": "2024-05-07"},
            "record 10 (id 99999): endtime has no time-zone offset: '2024-05-07'.",
        ),
        (
            {**BAD, "starttime": "2024-05-07T11:00:00+02:00", "endtime": "2024-05-07T10:00:00+02:00"},
            "record 10 (id 99999): endtime '2024-05-07T10:00:00+02:00' is before starttime "
            "'2024-05-07T11:00:00+02:00'.",
        ),
        (
            {**BAD, "session": "S" * 301},
            "record 10 (id 99999): session is longer than 300 characters.",
        ),
        (
            {**BAD, "room_name": "R" * 201},
            "record 10 (id 99999): room_name is longer than 200 characters.",
        ),
        (
            {**BAD, "poster_position": "#" * 51},
            "record 10 (id 99999): poster_position is longer than 50 characters.",
        ),
        (
            {**BAD, "id": "i" * 101},
            f"record 10 (id {'i' * 80}): id is longer than 100 characters.",
        ),
        (
            {**BAD, "paper_url": None, "session": None, "name": "N" * 301},
            "record 10 (id 99999): name is longer than 300 characters.",
        ),
        ({**BAD, "room_name": "Halle\x00B"}, "record 10 (id 99999): room_name contains a NUL character."),
    ],
)
def test_a_bad_entry_after_good_ones_writes_nothing(conference, papers, bad, message):
    import_schedule(BASIC.read_bytes(), conference=conference)
    before, rows = counts(), snapshot()
    # The good entries would change rooms and a poster position, and add a session: none of it may land.
    entries = [*results(CHANGED), poster(5, "posterAA01", session="Poster Session 9"), bad]

    with pytest.raises(ImportFailed) as error:
        import_schedule(as_file(entries), conference=conference)

    assert str(error.value) == message
    assert counts() == before
    assert snapshot() == rows
    assert Session.objects.get(title="Poster Session 1").room == "Halle B"


def test_a_bad_entry_into_an_empty_database_writes_nothing(conference, papers):
    entries = [*results(), {**BAD, "starttime": "tomorrow"}]

    with pytest.raises(ImportFailed, match=r"^record 9 \(id 99999\): starttime is not an ISO-8601"):
        import_schedule(as_file(entries), conference=conference)

    assert (Session.objects.count(), Presentation.objects.count()) == (0, 0)


def test_invalid_utf8_is_rejected_and_writes_nothing(conference, papers):
    import_schedule(BASIC.read_bytes(), conference=conference)
    before, rows = counts(), snapshot()
    entries = [*results(CHANGED), {**BAD, "room_name": "Halle PLACEHOLDER"}]
    data = as_file(entries).replace(b"PLACEHOLDER", b"\xff\xfe")

    with pytest.raises(ImportFailed) as error:
        import_schedule(data, conference=conference)

    assert str(error.value) == "record 9 (id 99999): contains text that is not valid UTF-8."
    assert counts() == before
    assert snapshot() == rows


def test_invalid_utf8_in_the_id_gives_a_printable_message(conference, papers):
    data = as_file([{**BAD, "id": "abcPLACEHOLDER"}]).replace(b"PLACEHOLDER", b"\xff")

    with pytest.raises(ImportFailed) as error:
        import_schedule(data, conference=conference)

    assert str(error.value) == "record 1 (id abc\ufffd): contains text that is not valid UTF-8."
    str(error.value).encode("utf-8")  # printable: no lone surrogates


def test_a_session_that_would_end_before_it_starts_is_rejected(conference, papers):
    entries = [
        poster(1, "posterAA01", starttime="2024-05-08T10:45:00+02:00", endtime=None),
        poster(2, "posterBB02", starttime=None, endtime="2024-05-08T09:00:00+02:00"),
    ]

    with pytest.raises(ImportFailed) as error:
        import_schedule(as_file(entries), conference=conference)

    assert str(error.value) == (
        "record 2 (id 2): its session 'Poster Session 2' would end (2024-05-08 09:00) before it starts "
        "(2024-05-08 10:45)."
    )
    assert Session.objects.count() == 0


def test_broken_json_is_rejected(conference, papers):
    with pytest.raises(ImportFailed, match=r"^record 1: invalid JSON"):
        import_schedule(b'{"count": 1, "results": [', conference=conference)
    assert Session.objects.count() == 0


def test_results_that_are_not_a_list_are_rejected(conference):
    with pytest.raises(ImportFailed) as error:
        import_schedule(b'{"count": 1, "results": {"id": 1}}', conference=conference)
    assert str(error.value) == '"results" must be a list of records, not an object.'


NOT_A_SCHEDULE = 'Not a schedule: expected {"results": [...]} (the conference\'s virtual-site JSON), found '


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{}", NOT_A_SCHEDULE + "an empty object."),
        (b'{"notes": [{"id": "abc"}]}', NOT_A_SCHEDULE + "an object with keys: notes."),
        (b'{"count": 0, "next": null}', NOT_A_SCHEDULE + "an object with keys: count, next."),
        (
            b'{"g": 1, "f": 1, "e": 1, "d": 1, "c": 1, "b": 1, "a": 1}',
            NOT_A_SCHEDULE + "an object with keys: a, b, c, d, e, \u2026.",
        ),
        (  # one entry on its own, not in "results"
            json.dumps(poster(1, "posterAA01")).encode(),
            NOT_A_SCHEDULE + "an object with keys: endtime, eventtype, id, paper_url, poster_position, \u2026.",
        ),
        (b'{"count": 0, "results": []}', "The schedule holds no entries."),
        (b"[]", "The schedule holds no entries."),
        (
            b'[{"id": 1, "forum": "abc"}]',
            "record 1 (id 1): is not a schedule entry (it has no name, session, eventtype or paper_url).",
        ),
        (
            b'{"results": [{"id": "x9", "name": " ", "session": "", "eventtype": null, "paper_url": null}]}',
            "record 1 (id x9): is not a schedule entry (it has no name, session, eventtype or paper_url).",
        ),
    ],
)
def test_what_is_not_a_schedule_is_refused(conference, papers, data, message):
    import_schedule(BASIC.read_bytes(), conference=conference)
    rows = snapshot()

    with pytest.raises(ImportFailed) as error:
        import_schedule(data, conference=conference)

    assert str(error.value) == message
    assert snapshot() == rows


def test_an_openreview_notes_file_is_not_a_schedule(conference, papers):
    with pytest.raises(ImportFailed) as error:
        import_schedule(ICLR_2024.read_bytes(), conference=conference)

    assert str(error.value) == (
        "record 1 (id HE9eUQlAvo): is not a schedule entry (it has no name, session, eventtype or paper_url)."
    )
    assert (Session.objects.count(), Presentation.objects.count()) == (0, 0)


def test_json_lines_of_entries_are_accepted(conference, papers):
    data = b"\n".join(json.dumps(entry).encode() for entry in [poster(1, "posterAA01"), poster(2, "posterBB02")])

    summary = import_schedule(data, conference=conference)

    assert (summary.sessions_created, summary.presentations_created) == (1, 2)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "A\x00B"),
        ("session", "Poster\x00"),
        ("eventtype", "Po\x00ster"),
        ("poster_position", "#\x001"),
        ("paper_url", "https://openreview.net/forum?id=posterAA01\x00"),
        ("id", "19\x00001"),
    ],
)
def test_a_nul_character_in_any_text_field_is_refused(conference, papers, field, value):
    label = "record 1 (id 19\x00001)" if field == "id" else "record 1 (id 1)"

    with pytest.raises(ImportFailed) as error:
        import_schedule(as_file([poster(1, "posterAA01", **{field: value})]), conference=conference)

    assert str(error.value) == f"{label}: {field} contains a NUL character."
    assert Session.objects.count() == 0


# Efficiency and progress ------------------------------------------------------------------------------


def many_posters(conference, number: int) -> bytes:
    Paper.objects.bulk_create(
        [Paper(conference=conference, forum_id=f"bulk{n:05d}", title=f"Paper {n}") for n in range(number)]
    )
    return as_file(
        [poster(n, f"bulk{n:05d}", session=f"Poster Session {n % 6 + 1}") for n in range(number)]
        + [poster(n + 10_000, f"bulk{n:05d}", eventtype="Oral", session="Oral 1A") for n in range(10)]
    )


def test_a_large_import_uses_few_queries(conference, django_assert_max_num_queries):
    data = many_posters(conference, 1200)
    calls = []

    with django_assert_max_num_queries(16):
        summary = import_schedule(data, conference=conference, progress=lambda done, total: calls.append(done))

    assert (summary.sessions_created, summary.presentations_created) == (7, 1210)
    assert calls == [500, 1000, 1210]
    with django_assert_max_num_queries(8):
        summary = import_schedule(data, conference=conference)
    assert summary.presentations_unchanged == 1210


# The management command -------------------------------------------------------------------------------


def run(*args: str) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command("import_schedule", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def test_command_prints_the_summary(conference, papers):
    stdout, stderr = run(str(BASIC), "--conference", "iclr-2024")

    assert stdout == BASIC_SUMMARY + "\n"
    assert stderr == ""
    assert Presentation.objects.count() == 5


def test_command_reports_progress_on_long_imports(conference, tmp_path):
    source = tmp_path / "schedule.json"
    source.write_bytes(many_posters(conference, 1000))

    stdout, stderr = run(str(source), "--conference", "iclr-2024")

    assert stderr.splitlines() == [
        "  500 of 1,010 entries checked…",
        "  1,000 of 1,010 entries checked…",
        "  1,010 of 1,010 entries checked…",
    ]
    assert stdout.startswith("ICLR 2024 schedule: 7 sessions (7 created, 0 updated, 0 unchanged), 1,010 presentations")


def test_command_unknown_conference(db):
    with pytest.raises(CommandError) as error:
        run(str(BASIC), "--conference", "nope")
    assert str(error.value) == (
        "No conference with slug 'nope'. Import its papers first (import_openreview) or create it in the admin."
    )


def test_command_requires_the_conference(db):
    with pytest.raises(CommandError, match="--conference"):
        run(str(BASIC))


def test_command_bad_file_changes_nothing(conference, papers, tmp_path):
    import_schedule(BASIC.read_bytes(), conference=conference)
    before, rows = counts(), snapshot()
    source = tmp_path / "bad.json"
    source.write_bytes(as_file([*results(CHANGED), {**BAD, "endtime": "soon"}]))

    with pytest.raises(CommandError) as error:
        run(str(source), "--conference", "iclr-2024")

    assert str(error.value) == (
        "record 9 (id 99999): endtime is not an ISO-8601 date-time: 'soon'. Nothing was imported."
    )
    assert counts() == before
    assert snapshot() == rows


def test_command_missing_file(conference, tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(CommandError) as error:
        run(str(missing), "--conference", "iclr-2024")
    assert str(error.value) == f"Cannot read {missing}: No such file or directory. Nothing was imported."


def test_command_sets_the_timezone(utc_conference, papers):
    stdout, _ = run(str(BASIC), "--conference", "iclr-2024", "--timezone", "Europe/Vienna")

    assert stdout == BASIC_SUMMARY[:-1] + "; time zone set to Europe/Vienna (was UTC).\n"
    utc_conference.refresh_from_db()
    assert utc_conference.timezone == "Europe/Vienna"
    assert Session.objects.get(title="Night Owls Social").day == date(2024, 5, 8)


def test_command_unknown_timezone(conference, papers):
    with pytest.raises(CommandError) as error:
        run(str(BASIC), "--conference", "iclr-2024", "--timezone", "Mars/Olympus")

    assert str(error.value) == "Unknown time zone 'Mars/Olympus'. Use a name such as Europe/Vienna."
    conference.refresh_from_db()
    assert conference.timezone == "Europe/Vienna"
    assert Session.objects.count() == 0


def test_command_refuses_a_utc_conference_without_timezone(utc_conference, papers):
    with pytest.raises(CommandError) as error:
        run(str(BASIC), "--conference", "iclr-2024")

    assert str(error.value) == UTC_REFUSED + " Nothing was imported."
    assert Session.objects.count() == 0


def test_command_failed_import_keeps_the_timezone(utc_conference, papers, tmp_path):
    source = tmp_path / "bad.json"
    source.write_bytes(as_file([*results(), {**BAD, "endtime": "soon"}]))

    with pytest.raises(CommandError) as error:
        run(str(source), "--conference", "iclr-2024", "--timezone", "Europe/Vienna")

    assert str(error.value) == (
        "record 9 (id 99999): endtime is not an ISO-8601 date-time: 'soon'. Nothing was imported."
    )
    utc_conference.refresh_from_db()
    assert utc_conference.timezone == "UTC"
    assert counts() == (0, 0, 4)


def test_command_refuses_an_openreview_notes_file(conference, papers):
    with pytest.raises(CommandError) as error:
        run(str(ICLR_2024), "--conference", "iclr-2024")

    assert str(error.value) == (
        "record 1 (id HE9eUQlAvo): is not a schedule entry (it has no name, session, eventtype or paper_url). "
        "Nothing was imported."
    )
    assert (Session.objects.count(), Presentation.objects.count()) == (0, 0)


# Reading the source -----------------------------------------------------------------------------------


class ScheduleHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/schedule.json":
            body = BASIC.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    """An HTTP server on the loopback interface only: the tests make no real network requests."""
    server = HTTPServer(("127.0.0.1", 0), ScheduleHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_read_source_reads_a_local_file():
    assert read_source(str(BASIC)) == BASIC.read_bytes()


def test_read_source_fetches_a_url(local_server):
    assert read_source(f"{local_server}/schedule.json") == BASIC.read_bytes()


def test_read_source_http_error(local_server):
    with pytest.raises(ImportFailed) as error:
        read_source(f"{local_server}/gone.json")
    assert str(error.value) == f"Cannot download {local_server}/gone.json: HTTP 404 Not Found."


def test_read_source_network_error():
    server = HTTPServer(("127.0.0.1", 0), ScheduleHandler)
    port = server.server_address[1]
    server.server_close()  # nothing listens there any more

    with pytest.raises(ImportFailed, match=rf"^Cannot download http://127\.0\.0\.1:{port}/x\.json: "):
        read_source(f"http://127.0.0.1:{port}/x.json")


def test_read_source_refuses_other_schemes():
    with pytest.raises(ImportFailed) as error:
        read_source("ftp://example.org/schedule.json")
    assert str(error.value) == (
        "Cannot read ftp://example.org/schedule.json: only local files and http(s) URLs are supported."
    )


def test_command_imports_from_a_url(conference, papers, local_server):
    stdout, _ = run(f"{local_server}/schedule.json", "--conference", "iclr-2024")
    assert stdout == BASIC_SUMMARY + "\n"


def test_a_database_error_while_writing_rolls_everything_back(conference, papers, monkeypatch):
    import_schedule(BASIC.read_bytes(), conference=conference)
    before, rows = counts(), snapshot()

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    # Sessions are written (a new one, and updated rooms) before presentations fail.
    monkeypatch.setattr(Presentation.objects, "bulk_create", fail)
    entries = [*results(CHANGED), poster(5, "posterAA01", session="Poster Session 9")]
    with pytest.raises(RuntimeError, match="disk full"):
        import_schedule(as_file(entries), conference=conference)

    assert counts() == before
    assert snapshot() == rows


def test_unmatched_forum_ids_are_listed_once_in_file_order(conference):
    data = as_file(
        [
            poster(1, "zzLast0001", session="Poster Session 1"),
            poster(2, "aaFirst001", session="Poster Session 2"),
            poster(3, "zzLast0001", eventtype="Oral", session="Oral 1A"),
        ]
    )

    summary = import_schedule(data, conference=conference)

    assert summary.unmatched == ["zzLast0001", "aaFirst001"]
    assert str(summary).endswith("; 2 entries matched no paper (first: zzLast0001, aaFirst001).")
