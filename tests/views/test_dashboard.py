"""The lab dashboard for a conference: funnel, members' progress, most wanted, matrix, activity; who sees it."""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from papers.models import Assignment, Membership, Note, ReadingStatus
from tests.factories import (
    LabFactory,
    MembershipFactory,
    NoteFactory,
    PaperFactory,
    ReadingStatusFactory,
    UserFactory,
)

HTMX = {"HX-Request": "true"}
VOID = {"br", "img", "input", "hr", "meta", "link", "wbr"}


def url(lab, conference, **params):
    base = reverse("dashboard", args=[lab.slug, conference.slug])
    return base + ("?" + "&".join(f"{key}={value}" for key, value in params.items()) if params else "")


class _TextOf(HTMLParser):
    """The text inside the element with a given id (its descendants' too), whitespace squeezed."""

    def __init__(self, element_id: str) -> None:
        super().__init__()
        self.element_id, self.depth, self.found, self.parts = element_id, 0, False, []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        if self.depth:
            self.depth += 1
        elif not self.found and dict(attrs).get("id") == self.element_id:
            self.depth, self.found = 1, True

    def handle_endtag(self, tag):
        if self.depth and tag not in VOID:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def text_of(html: str, element_id: str) -> str:
    parser = _TextOf(element_id)
    parser.feed(html)
    assert parser.found, f"no element with id={element_id!r}"
    return " ".join("".join(parser.parts).split())


def page(client, lab, conference, **params) -> str:
    response = client.get(url(lab, conference, **params))
    assert response.status_code == 200
    return response.content.decode()


def status(user, paper, state="", starred=False, at=None):
    made = ReadingStatusFactory(user=user, paper=paper, state=state, starred=starred)
    if at is not None:
        ReadingStatus.objects.filter(pk=made.pk).update(updated_at=at)
    return made


def note(author, paper, lab, body, at=None, kind=Note.Kind.NOTE):
    made = NoteFactory(author=author, paper=paper, lab=lab, body=body, kind=kind)
    if at is not None:
        Note.objects.filter(pk=made.pk).update(created_at=at)
    return made


T0 = dt.datetime(2024, 5, 7, 8, 0, tzinfo=dt.UTC)


def minutes(n: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


@pytest.fixture
def grace(lab):
    user = UserFactory(username="grace")
    MembershipFactory(lab=lab, user=user)
    return user


@pytest.fixture
def rival_lab(db):
    return LabFactory(name="Rival Lab", slug="rival")


@pytest.fixture
def papers(conference):
    return {
        title: PaperFactory(conference=conference, title=title)
        for title in ("Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta")
    }


@pytest.fixture
def activity(lab, conference, owner, member, grace, rival_lab, papers):
    """
    Six papers; olivia (owner), grace and max (the viewer) triage some of them. A rival lab's member
    stars and reads Zeta, max shares a note with the rival lab too, olivia keeps a private note:
    none of that is the lab's. grace's read in another conference does not count here either.
    """
    alpha, beta, gamma, delta, epsilon, zeta = papers.values()
    status(owner, alpha, "read", starred=True, at=minutes(10))
    status(owner, beta, "shortlisted", starred=True, at=minutes(20))
    status(owner, gamma, "skipped", at=minutes(21))
    status(member, alpha, "reading", starred=True, at=minutes(30))
    status(member, beta, "", starred=True, at=minutes(40))
    status(member, gamma, "skipped", at=minutes(41))
    status(member, delta, "read", at=minutes(50))
    status(grace, alpha, "shortlisted", starred=True, at=minutes(60))
    status(grace, epsilon, "skipped", at=minutes(61))
    status(grace, PaperFactory(title="Elsewhere"), "read", starred=True, at=minutes(62))

    rival = UserFactory(username="rival")
    MembershipFactory(lab=rival_lab, user=rival)
    MembershipFactory(lab=rival_lab, user=member)
    status(rival, zeta, "read", starred=True, at=minutes(70))
    note(rival, zeta, rival_lab, "A rival lab's note", at=minutes(71))
    note(member, delta, rival_lab, "Shared with the rival lab only", at=minutes(72))
    note(owner, alpha, None, "Olivia's private thought", at=minutes(73))
    note(grace, gamma, lab, "Check the *ablations*", at=minutes(55), kind=Note.Kind.TODO)
    return papers


# --- The funnel --------------------------------------------------------------------------------------


def test_funnel_counts_the_papers_each_stage_reached_in_the_lab(member_client, lab, conference, activity):
    html = page(member_client, lab, conference)

    assert text_of(html, "funnel-programme") == "In the programme every accepted paper 6 100%"
    # Gamma and Epsilon only skipped, Beta starred by max without a state but shortlisted by olivia.
    assert text_of(html, "funnel-seen") == "Seen someone in the lab gave it a state 5 83%"
    assert text_of(html, "funnel-shortlisted") == "Shortlisted shortlisted, reading or read by someone 3 50%"
    assert text_of(html, "funnel-starred") == "Starred starred by someone 2 33%"  # not Zeta: the rival's star
    assert text_of(html, "funnel-read") == "Read read by someone 2 33%"
    assert text_of(html, "dash-coverage") == "5 of 6 papers seen by someone · 1 not seen by anyone yet"
    assert 'href="/labs/vision/iclr-2024/papers/?unseen_by_lab=on"' in html
    # The list's "Not seen by anyone in the lab" filter agrees: Zeta.
    unseen = member_client.get(reverse("paper_list", args=[lab.slug, conference.slug]), {"unseen_by_lab": "on"})
    assert [paper.title for paper in unseen.context["page"].object_list] == ["Zeta"]
    assert '<rect class="dash-bar__fill" width="83.33%"' in html


def test_coverage_has_thousands_separators(member_client, lab, conference):
    PaperFactory.create_batch(1200, conference=conference)
    html = page(member_client, lab, conference)
    assert text_of(html, "dash-coverage") == "0 of 1,200 papers seen by someone · 1,200 not seen by anyone yet"


def test_a_conference_without_papers_says_how_to_import(member_client, lab, conference):
    html = page(member_client, lab, conference)
    assert "No papers yet" in html
    assert "import_openreview notes.json --conference iclr-2024" in html


# --- Members' progress --------------------------------------------------------------------------------


def test_member_progress_owners_first_with_counts_and_who_is_behind(
    member_client, lab, conference, owner, grace, member, activity
):
    html = page(member_client, lab, conference)
    olivia, max_ = owner, member

    order = [html.index(f'id="member-{user.pk}"') for user in (olivia, grace, max_)]
    assert order == sorted(order)
    # name, triaged (share of the programme), shortlisted or further, starred, read
    assert text_of(html, f"member-{olivia.pk}") == "olivia Owner Triaged 3 50% Shortlisted 2 Starred 2 Read 1"
    assert text_of(html, f"member-{max_.pk}") == "max (you) Triaged 3 50% Shortlisted 2 Starred 2 Read 1"
    assert (
        text_of(html, f"member-{grace.pk}") == "grace Behind Triaged 2 33% Shortlisted 1 Starred 1 Read 0"
    )  # her other conference not counted
    assert "Triaged counts the whole programme (the lab has not <a href=" in html
    assert "Behind: <strong>grace</strong>." in html


def test_member_progress_counts_each_slice_when_the_lab_split_the_programme(
    member_client, lab, conference, owner, member, grace, activity
):
    alpha, beta, gamma, delta, epsilon, zeta = activity.values()
    for user, slice_ in ((owner, [alpha, beta, gamma]), (grace, [delta, epsilon]), (member, [zeta])):
        for paper in slice_:
            Assignment.objects.create(lab=lab, paper=paper, user=user)
    newcomer = UserFactory(username="nina")
    MembershipFactory(lab=lab, user=newcomer)
    # Another lab's split of the same papers is not this lab's.
    other = LabFactory(slug="other")
    Assignment.objects.create(lab=other, paper=zeta, user=owner)

    html = page(member_client, lab, conference)

    assert "The lab split the programme: triaged counts each member's slice (<a href=" in html
    assert text_of(html, f"member-{owner.pk}") == (
        "olivia Owner Triaged of slice 3 of 3 assigned 100% 3 triaged in all Shortlisted 2 Starred 2 Read 1"
    )
    assert (
        text_of(html, f"member-{grace.pk}")
        == "grace Triaged of slice 1 of 2 assigned 50% 2 triaged in all Shortlisted 1 Starred 1 Read 0"
    )
    # max triaged three papers, none of them his one-paper slice: he is the one behind.
    assert text_of(html, f"member-{member.pk}") == (
        "max (you) Behind Triaged of slice 0 of 1 assigned 0% 3 triaged in all Shortlisted 2 Starred 2 Read 1"
    )
    assert text_of(html, f"member-{newcomer.pk}") == "nina Triaged of slice 0 (no slice) Shortlisted 0 Starred 0 Read 0"
    assert "Behind: <strong>max</strong>." in html


def test_nobody_is_behind_when_everyone_is_level(member_client, lab, conference, member, grace, papers):
    html = page(member_client, lab, conference)
    assert "dash-behind" not in html and "Behind:" not in html


# --- Most wanted and the matrix --------------------------------------------------------------------------


def test_most_wanted_by_lab_stars_then_title_with_who_starred_and_who_read(
    member_client, lab, conference, owner, member, grace, papers
):
    alpha, beta, gamma, delta, _, zeta = papers.values()
    for user in (owner, member, grace):
        status(user, gamma, "read" if user == grace else "", starred=True)
    status(owner, zeta, "read", starred=True)
    status(grace, zeta, "reading", starred=True)
    status(member, beta, starred=True)
    status(owner, alpha, "read", starred=True)
    status(member, delta, "read")  # read, not starred: not wanted
    outsider = UserFactory(username="stranger")
    status(outsider, beta, starred=True)  # no lab of ours: does not lift Beta above Alpha

    html = page(member_client, lab, conference)

    items = [text_of(html, f"wanted-{paper.pk}") for paper in (gamma, zeta, alpha, beta)]
    assert items == [
        "Gamma ★ 3 stars ✓ 1 of 3 read Starred by olivia, grace, max",
        "Zeta ★ 2 stars ✓ 1 of 3 read Starred by olivia, grace",
        "Alpha ★ 1 star ✓ 1 of 3 read Starred by olivia",
        "Beta ★ 1 star ✓ 0 of 3 read Starred by max",
    ]
    positions = [html.index(f'id="wanted-{paper.pk}"') for paper in (gamma, zeta, alpha, beta)]
    assert positions == sorted(positions)
    assert f'id="wanted-{delta.pk}"' not in html
    assert f'href="/labs/vision/iclr-2024/papers/{gamma.forum_id}/"' in html


def test_most_wanted_shows_ten_and_the_matrix_thirty_and_says_so(member_client, lab, conference, member):
    starred = [PaperFactory(conference=conference, title=f"Paper {n:02d}") for n in range(32)]
    for paper in starred:
        status(member, paper, starred=True)

    html = page(member_client, lab, conference)

    assert html.count('class="dash-wanted__item"') == 10
    assert html.count('<tr id="matrix-') == 30
    assert "The 30 most starred of the lab's 32 starred papers." in html
    assert f'id="matrix-{starred[29].pk}"' in html and f'id="matrix-{starred[30].pk}"' not in html


def test_matrix_says_who_read_each_starred_paper(member_client, lab, conference, owner, member, grace, activity):
    html = page(member_client, lab, conference)
    alpha, beta = activity["Alpha"], activity["Beta"]

    assert "All 2 papers starred in the lab." in html
    # Columns: olivia, grace, max (owners first); a star marks who starred it.
    assert text_of(html, f"matrix-{alpha.pk}") == "Alpha ★ 3 read★ starred unread★ starred reading★ starred"
    assert text_of(html, f"matrix-{beta.pk}") == "Beta ★ 2 unread★ starred unread unread★ starred"
    row = html[html.index(f'id="matrix-{alpha.pk}"') :]
    row = row[: row.index("</tr>")]
    assert re.findall(r'<td><span class="dash-cell dash-cell--(\w+)">', row) == ["read", "unread", "reading"]
    assert f'id="matrix-{activity["Zeta"].pk}"' not in html  # starred in the rival lab only


# --- Recent activity ------------------------------------------------------------------------------------


def test_activity_newest_first_with_stars_reads_and_the_lab_notes_only(member_client, lab, conference, activity):
    html = page(member_client, lab, conference)
    events = text_of(html, "dash-activity")

    assert events == (
        "Recent activity "
        "★ grace starred Alpha Tue 7 May, 11:00 "
        "✎ grace added a to-do on Gamma Check the ablations Tue 7 May, 10:55 "
        "✓ max read Delta Tue 7 May, 10:50 "
        "★ max starred Beta Tue 7 May, 10:40 "
        "★ max starred Alpha Tue 7 May, 10:30 "
        "★ olivia starred Beta Tue 7 May, 10:20 "
        "★ olivia starred and read Alpha Tue 7 May, 10:10"
    )
    assert "<em>ablations</em>" in html


@pytest.mark.parametrize("viewer", ["owner", "member"])
def test_private_notes_and_other_labs_never_show(client, lab, conference, activity, request, viewer):
    client.force_login(request.getfixturevalue(viewer))
    html = page(client, lab, conference)
    for hidden in ("Olivia&#x27;s private thought", "Olivia's private thought", "rival", "Shared with the rival lab"):
        assert hidden not in html
    assert text_of(html, "dash-activity").count("✎") == 1  # grace's note to the lab, nothing else


def test_activity_pages_twenty_at_a_time(member_client, lab, conference, member):
    papers = [PaperFactory(conference=conference, title=f"Paper {n:02d}") for n in range(25)]
    for n, paper in enumerate(papers):
        status(member, paper, starred=True, at=minutes(n))

    first = page(member_client, lab, conference)
    second = page(member_client, lab, conference, activity_page=2)

    def starred(html):
        section = html[html.index('id="dash-activity"') :]
        return re.findall(r'<strong>max</strong> starred\s*<a href="[^"]+">(Paper \d+)</a>', section)

    assert starred(first) == [f"Paper {n:02d}" for n in range(24, 4, -1)]
    assert starred(second) == [f"Paper {n:02d}" for n in range(4, -1, -1)]
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert 'href="?activity_page=2#dash-activity"' in first
    assert 'href="?activity_page=1#dash-activity"' in second


def test_htmx_pages_the_activity_alone(member_client, lab, conference, member, django_assert_num_queries):
    papers = [PaperFactory(conference=conference, title=f"Paper {n:02d}") for n in range(21)]
    for n, paper in enumerate(papers):
        status(member, paper, starred=True, at=minutes(n))
    # session, user, membership+lab, conference, the lab's stars and reads, its shared notes
    with django_assert_num_queries(6):
        response = member_client.get(url(lab, conference, activity_page=2), headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card dash-section dash-activity" id="dash-activity"')
    assert "<html" not in html and "funnel" not in html
    assert (
        text_of(html, "dash-activity")
        == "Recent activity ★ max starred Paper 00 Tue 7 May, 10:00 ← Newer Page 2 of 2 Older →"
    )
    assert response["Vary"] == "HX-Request, Cookie"


def test_no_activity_says_how_to_start(member_client, lab, conference, papers):
    html = page(member_client, lab, conference)
    assert text_of(html, "dash-activity").startswith("Recent activity Nothing has happened yet.")
    section = html[html.index('id="dash-activity"') :]
    assert 'href="/labs/vision/iclr-2024/triage/">the triage inbox</a>' in section
    assert 'href="/labs/vision/iclr-2024/papers/">the list of all papers</a>' in section
    assert "No stars yet." in html


def test_top_of_the_page_links_to_the_list_and_the_inbox(member_client, lab, conference, papers):
    html = page(member_client, lab, conference)
    head = html[html.index('class="page-head dash-head"') : html.index('id="dash-coverage"')]
    assert '<a class="button button--small button--ghost" href="/labs/vision/iclr-2024/papers/">All papers</a>' in head
    assert '<a class="button button--small" href="/labs/vision/iclr-2024/triage/">Triage inbox →</a>' in head


# --- Who may see it ---------------------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_log_in(client, lab, conference):
    target = url(lab, conference)
    assert client.get(target)["Location"] == f"{reverse('login')}?next={target}"


def test_outsider_gets_404(outsider_client, lab, conference, papers):
    assert outsider_client.get(url(lab, conference)).status_code == 404


def test_unknown_conference_is_404(member_client, lab):
    assert member_client.get(reverse("dashboard", args=[lab.slug, "neurips-1987"])).status_code == 404


def test_posting_is_not_allowed(member_client, lab, conference):
    assert member_client.post(url(lab, conference)).status_code == 405


# --- Queries ------------------------------------------------------------------------------------------------


def populate(conference, lab, member, *, papers: int, members: int) -> None:
    others = [UserFactory() for _ in range(members - 1)]
    for other in others:
        MembershipFactory(lab=lab, user=other, role=Membership.Role.OWNER if len(others) > 5 else "member")
    for _ in range(papers):
        paper = PaperFactory(conference=conference)
        for user in [member, *others]:
            ReadingStatus.objects.create(user=user, paper=paper, state="read", starred=True)
            NoteFactory(paper=paper, author=user, lab=lab)
            Assignment.objects.get_or_create(lab=lab, paper=paper, defaults={"user": user})


# session, user, membership+lab, conference; the activity's statuses and notes; the funnel (programme size,
# papers per stage); the members with their slices, their statuses counted per member; the most starred
# papers, their statuses; the lab's upcoming reading-group meetings
DASHBOARD_QUERIES = 13


@pytest.mark.parametrize(("papers", "members"), [(2, 1), (2, 20), (40, 1), (40, 20)])
def test_query_count_is_fixed(member_client, member, lab, conference, django_assert_num_queries, papers, members):
    populate(conference, lab, member, papers=papers, members=members)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        html = page(member_client, lab, conference)
    assert html.count('<li class="dash-member') == members
    assert html.count('<tr id="matrix-') == min(papers, 30)


# A second look with nothing changed: session, user, membership+lab with the conference's version; the
# conference's row, the figures and the upcoming meetings (within the minute) come from the cache
# (papers.versions).
CACHED_DASHBOARD_QUERIES = 3


@pytest.mark.parametrize(("papers", "members"), [(2, 1), (40, 20)])
def test_a_second_look_comes_from_the_cache(
    member_client, member, lab, conference, django_assert_num_queries, papers, members, monkeypatch
):
    from django.utils import timezone

    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now)  # both looks in the same minute (the upcoming meetings)
    populate(conference, lab, member, papers=papers, members=members)
    first = page(member_client, lab, conference)
    with django_assert_num_queries(CACHED_DASHBOARD_QUERIES):
        again = page(member_client, lab, conference)
    token = re.compile(r"[A-Za-z0-9]{64}")
    assert token.sub("", again) == token.sub("", first)


def test_members_share_the_figures_but_each_sees_their_own_row(client, member_client, owner, member, lab, conference):
    populate(conference, lab, member, papers=3, members=2)
    assert page(member_client, lab, conference).count("(you)") == 1
    client.force_login(owner)
    html = page(client, lab, conference)
    you = re.search(r'<li class="dash-member[^"]*" id="member-(\d+)">(?:(?!</li>).)*\(you\)', html, re.S)
    assert you is not None and int(you.group(1)) == owner.pk


def test_a_triage_shows_on_the_cached_dashboard_at_once(member_client, member, lab, conference):
    paper = PaperFactory(conference=conference, title="Fresh Paper")
    assert "Fresh Paper" not in page(member_client, lab, conference)
    ReadingStatus.objects.create(user=member, paper=paper, state="read", starred=True)
    assert "Fresh Paper" in page(member_client, lab, conference)


def test_upcoming_meetings_follow_the_lab_and_the_clock(member_client, member, lab, conference, monkeypatch):
    """Cached by the lab's version and the minute: a new meeting shows at once, a past one leaves with time."""
    import datetime as dt

    from django.utils import timezone

    from papers.models import Meeting, MeetingPaper
    from papers.templatetags import meetings_tags

    paper = PaperFactory(conference=conference, title="Reading Group Paper")
    assert "Reading Group Paper" not in page(member_client, lab, conference)
    starts = timezone.now() + dt.timedelta(hours=2)
    meeting = Meeting.objects.create(lab=lab, created_by=member, starts_at=starts, time_zone="UTC")
    MeetingPaper.objects.create(meeting=meeting, paper=paper, position=0)
    assert "Reading Group Paper" in page(member_client, lab, conference)
    # Two days later nothing in the lab changed, but the meeting is no longer upcoming.
    later = timezone.now() + dt.timedelta(days=2)
    monkeypatch.setattr(meetings_tags.timezone, "now", lambda: later)
    assert "Reading Group Paper" not in page(member_client, lab, conference)
