"""The export views (md, csv, bib, ics of the filtered list) and the private calendar feed."""

import csv
import datetime as dt
import io

import bibtexparser
import icalendar
import pytest
from django.urls import reverse

from papers.models import CalendarFeed, Membership
from tests.factories import NoteFactory, PaperFactory, PresentationFactory, ReadingStatusFactory, SessionFactory

UTC = dt.UTC
SECRET = "OLIVIA-PRIVATE"


def export_url(lab, conference, fmt):
    return reverse("export", args=[lab.slug, conference.slug, fmt])


@pytest.fixture
def papers(conference, lab, member, owner):
    """Three scheduled papers: max starred two; olivia wrote a private note on each."""
    session = SessionFactory(
        conference=conference, title="Poster Session 1", starts_at=dt.datetime(2024, 5, 7, 8, 45, tzinfo=UTC)
    )
    made = []
    for index in range(3):
        paper = PaperFactory(conference=conference, forum_id=f"paper{index}", title=f"Paper {index}")
        PresentationFactory(paper=paper, session=session)
        ReadingStatusFactory(user=member, paper=paper, state="shortlisted", starred=index < 2)
        NoteFactory(author=owner, paper=paper, lab=None, kind="summary", body=f"{SECRET} {index}")
        NoteFactory(author=member, paper=paper, lab=None, kind="summary", body=f"Mine {index}")
        made.append(paper)
    return made


def test_anonymous_visitor_is_sent_to_login(client, lab, conference):
    response = client.get(export_url(lab, conference, "md"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["export", "calendar_feeds"])
def test_outsider_gets_404(outsider_client, lab, conference, name):
    args = [lab.slug, conference.slug, "csv"] if name == "export" else [lab.slug, conference.slug]
    assert outsider_client.get(reverse(name, args=args)).status_code == 404


def test_unknown_format_is_404(member_client, lab, conference):
    assert member_client.get(export_url(lab, conference, "pdf")).status_code == 404


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("md", "text/markdown; charset=utf-8"),
        ("csv", "text/csv; charset=utf-8"),
        ("bib", "application/x-bibtex; charset=utf-8"),
        ("ics", "text/calendar; charset=utf-8"),
    ],
)
def test_every_format_downloads_without_anyone_elses_private_notes(
    member_client, lab, conference, papers, fmt, content_type
):
    response = member_client.get(export_url(lab, conference, fmt))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="iclr-2024-vision.{fmt}"'
    text = response.content.decode()
    assert SECRET not in text
    if fmt != "bib":  # BibTeX carries no notes at all
        assert "Mine 0" in text


def test_the_labs_trip_report_leaves_out_even_my_own_private_notes(member_client, lab, conference, papers):
    response = member_client.get(export_url(lab, conference, "md"), {"who": "lab"})
    assert response["Content-Disposition"] == 'attachment; filename="iclr-2024-vision-lab.md"'
    text = response.content.decode()
    assert text.startswith("# ICLR 2024 trip report: Vision Lab\n")
    assert "Mine" not in text
    assert SECRET not in text


def test_exports_follow_the_lists_filters(member_client, lab, conference, papers):
    response = member_client.get(export_url(lab, conference, "csv"), {"starred": "me", "sort": "title"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["forum_id"] for row in rows] == ["paper0", "paper1"]
    bib = bibtexparser.parse_string(
        member_client.get(export_url(lab, conference, "bib"), {"q": "Paper 2"}).content.decode()
    )
    assert [entry["url"] for entry in bib.entries] == ["https://openreview.net/forum?id=paper2"]


def test_calendar_download_is_my_agenda_by_default(member_client, lab, conference, papers):
    response = member_client.get(export_url(lab, conference, "ics"))
    calendar = icalendar.Calendar.from_ical(response.content)
    session = papers[0].presentations.get().session
    assert sorted(str(e["UID"]) for e in calendar.walk("VEVENT")) == [
        f"paper0-{session.pk}@iclrnotes",
        f"paper1-{session.pk}@iclrnotes",
    ]
    again = icalendar.Calendar.from_ical(member_client.get(export_url(lab, conference, "ics")).content)
    assert [str(e["UID"]) for e in again.walk("VEVENT")] == [str(e["UID"]) for e in calendar.walk("VEVENT")]
    assert all(e["DTSTART"].to_ical().endswith(b"Z") for e in calendar.walk("VEVENT"))


# Session, user, membership with the conference's version: 3 (the conference's row and the filter form's days
# and areas come from the cache since the warm-up: papers.versions). Then the papers (bib: 1); with
# presentations, statuses and notes (csv: 4); and the lab's events (md, ics: 5).
@pytest.mark.parametrize(("fmt", "queries"), [("md", 8), ("csv", 7), ("bib", 4), ("ics", 8)])
@pytest.mark.parametrize("count", [1, 3])
def test_query_count_does_not_grow_with_the_papers(
    member_client, lab, conference, papers, django_assert_num_queries, fmt, queries, count
):
    for paper in papers[count:]:
        paper.delete()
    member_client.get(export_url(lab, conference, "csv"))  # warm the session and the user
    with django_assert_num_queries(queries):
        response = member_client.get(export_url(lab, conference, fmt))
    assert response.status_code == 200


# --- The calendar feed --------------------------------------------------------------------------------------


def test_feed_page_offers_to_make_a_feed(member_client, lab, conference):
    response = member_client.get(reverse("calendar_feeds", args=[lab.slug, conference.slug]))
    assert response.status_code == 200
    assert "You have no feed for this conference yet." in response.content.decode()
    assert response.context["feed"] is None


def test_making_a_feed_shows_its_absolute_url_with_a_copy_button(member_client, lab, conference, member):
    response = member_client.post(reverse("calendar_feed_renew", args=[lab.slug, conference.slug]))
    assert response.status_code == 302
    feed = CalendarFeed.objects.get(user=member, lab=lab, conference=conference)
    page = member_client.get(reverse("calendar_feeds", args=[lab.slug, conference.slug])).content.decode()
    assert f'value="http://testserver/ics/{feed.token}.ics"' in page
    assert '<button type="button" class="button button--small" data-copy="#feed-url">Copy</button>' in page


def test_feed_serves_my_agenda_without_login(client, member, lab, conference, papers):
    CalendarFeed.objects.create(user=member, lab=lab, conference=conference, token="t0ken")
    response = client.get(reverse("calendar_feed", args=["t0ken"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    events = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert sorted(str(e["SUMMARY"]) for e in events) == ["★ Paper 0", "★ Paper 1"]
    assert SECRET not in response.content.decode()


def test_feed_with_a_stored_query_serves_that_list(client, member, lab, conference, papers):
    CalendarFeed.objects.create(user=member, lab=lab, conference=conference, token="t0ken", query="q=Paper+2")
    events = icalendar.Calendar.from_ical(client.get("/ics/t0ken.ics").content).walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["Paper 2"]


def test_renew_keeps_only_the_lists_filters(member_client, member, lab, conference):
    member_client.post(
        reverse("calendar_feed_renew", args=[lab.slug, conference.slug]), {"query": "starred=lab&page=3&evil=1"}
    )
    assert CalendarFeed.objects.get(user=member).query == "starred=lab"


def test_unknown_token_is_404(client, db):
    assert client.get("/ics/nope.ics").status_code == 404


def test_regenerated_feed_answers_on_the_new_url_only(member_client, client, member, lab, conference):
    renew = reverse("calendar_feed_renew", args=[lab.slug, conference.slug])
    member_client.post(renew)
    old = CalendarFeed.objects.get(user=member).token
    member_client.post(renew)
    new = CalendarFeed.objects.get(user=member).token
    assert new != old
    assert CalendarFeed.objects.count() == 1
    assert client.get(f"/ics/{old}.ics").status_code == 404
    assert client.get(f"/ics/{new}.ics").status_code == 200


def test_revoked_feed_is_404(member_client, client, member, lab, conference):
    member_client.post(reverse("calendar_feed_renew", args=[lab.slug, conference.slug]))
    token = CalendarFeed.objects.get(user=member).token
    response = member_client.post(reverse("calendar_feed_revoke", args=[lab.slug, conference.slug]))
    assert response.status_code == 302
    assert not CalendarFeed.objects.exists()
    assert client.get(f"/ics/{token}.ics").status_code == 404
    # Revoking again is harmless.
    assert member_client.post(reverse("calendar_feed_revoke", args=[lab.slug, conference.slug])).status_code == 302


def test_feed_of_a_member_who_left_is_404(client, member, lab, conference):
    CalendarFeed.objects.create(user=member, lab=lab, conference=conference, token="t0ken")
    Membership.objects.filter(user=member, lab=lab).delete()
    assert client.get("/ics/t0ken.ics").status_code == 404


def test_feed_actions_need_post(member_client, lab, conference):
    assert member_client.get(reverse("calendar_feed_renew", args=[lab.slug, conference.slug])).status_code == 405
    assert member_client.get(reverse("calendar_feed_revoke", args=[lab.slug, conference.slug])).status_code == 405


def test_outsider_cannot_make_or_revoke_a_feed(outsider_client, lab, conference):
    assert outsider_client.post(reverse("calendar_feed_renew", args=[lab.slug, conference.slug])).status_code == 404
    assert outsider_client.post(reverse("calendar_feed_revoke", args=[lab.slug, conference.slug])).status_code == 404
    assert not CalendarFeed.objects.exists()
