"""The reading group's candidates (/labs/<lab>/meetings/): ranking, nominations, votes, access, queries."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from papers import reading_group, services
from papers.models import Meeting, MeetingPaper, Nomination, ReadingStatus, Vote
from tests.factories import (
    ConferenceFactory,
    LabFactory,
    MembershipFactory,
    PaperFactory,
    ReadingStatusFactory,
    UserFactory,
)


def url(lab) -> str:
    return reverse("meetings", args=[lab.slug])


def ranked_titles(lab, user, member_count: int, **kwargs) -> list[str]:
    return [paper.title for paper in reading_group.candidates(lab=lab, user=user, member_count=member_count, **kwargs)]


def status(user, paper, state="", starred=False) -> ReadingStatus:
    return ReadingStatusFactory(user=user, paper=paper, state=state, starred=starred)


@pytest.fixture
def zoe(lab):
    user = UserFactory(username="zoe")
    MembershipFactory(lab=lab, user=user)
    return user


@pytest.fixture
def neurips(db):
    return ConferenceFactory(slug="neurips-2023", name="NeurIPS 2023")


@pytest.fixture
def fixture_lab(lab, owner, member, zoe, conference, neurips):
    """
    Three members (olivia, max, zoe) and papers across two conferences, scored
    3 × votes + 2 × stars + shortlists (shortlisted or reading) + 2 if nominated:
      Alpha    ICLR     2 votes, 1 star (shortlisted), read by 1        6 + 2 + 1  = 9
      Gamma    ICLR     1 vote, 1 star (shortlisted), read by none      3 + 2 + 1  = 6
      Beta     NeurIPS  nominated, 1 star, shortlisted + reading, 1 read  2 + 2 + 2  = 6
      Delta    ICLR     2 shortlists, read by 1                                    = 2
      Epsilon  NeurIPS  1 shortlist, read by 1                                     = 1
      Eta      ICLR     1 shortlist, read by 1                                     = 1
    and two that are no candidates: one only skipped, one untouched.
    """
    papers = {
        name: PaperFactory(conference=conf, title=title)
        for name, conf, title in [
            ("alpha", conference, "Alpha attention"),
            ("beta", neurips, "Beta diffusion"),
            ("gamma", conference, "Gamma graphs"),
            ("delta", conference, "Delta distillation"),
            ("epsilon", neurips, "Epsilon equivariance"),
            ("eta", conference, "Eta embeddings"),
            ("skipped", conference, "Skipped paper"),
            ("untouched", neurips, "Untouched paper"),
        ]
    }
    services.vote_for(lab=lab, paper=papers["alpha"], user=owner)
    services.vote_for(lab=lab, paper=papers["alpha"], user=member)
    status(zoe, papers["alpha"], "shortlisted", starred=True)
    status(member, papers["alpha"], "read")

    services.nominate_paper(lab=lab, paper=papers["beta"], by=member)
    status(owner, papers["beta"], "shortlisted", starred=True)
    status(member, papers["beta"], "reading")  # a shortlist too
    status(zoe, papers["beta"], "read")

    services.vote_for(lab=lab, paper=papers["gamma"], user=zoe)
    status(owner, papers["gamma"], "shortlisted", starred=True)

    status(owner, papers["delta"], "shortlisted")
    status(zoe, papers["delta"], "shortlisted")
    status(member, papers["delta"], "read")

    status(owner, papers["epsilon"], "shortlisted")
    status(zoe, papers["epsilon"], "read")

    status(owner, papers["eta"], "shortlisted")
    status(member, papers["eta"], "read")

    status(owner, papers["skipped"], "skipped")
    return papers


# Gamma and Beta tie at 6: Gamma, read by nobody, goes first although Beta's title comes first.
# Epsilon and Eta tie at 1 with one read each: by title.
EXPECTED = [
    "Alpha attention",
    "Gamma graphs",
    "Beta diffusion",
    "Delta distillation",
    "Epsilon equivariance",
    "Eta embeddings",
]


def test_candidates_are_ranked_by_score_then_fewest_reads_then_title(fixture_lab, lab, owner):
    assert ranked_titles(lab, owner, 3) == EXPECTED
    scores = {p.title: p.score for p in reading_group.candidates(lab=lab, user=owner, member_count=3)}
    assert scores == {
        "Alpha attention": 9,
        "Gamma graphs": 6,
        "Beta diffusion": 6,
        "Delta distillation": 2,
        "Epsilon equivariance": 1,
        "Eta embeddings": 1,
    }


def test_the_page_lists_candidates_in_rank_order_with_their_counts(fixture_lab, lab, member, client):
    client.force_login(member)
    response = client.get(url(lab))
    assert response.status_code == 200
    html = response.content.decode()
    positions = [html.index(title) for title in EXPECTED]
    assert positions == sorted(positions)
    assert "Skipped paper" not in html
    assert "Untouched paper" not in html
    assert "3 × votes + 2 × stars + shortlists + 2 if nominated" in html
    alpha = html[html.index(f'id="candidate-{fixture_lab["alpha"].pk}"') :]
    alpha = alpha[: alpha.index("</li>")]
    assert "Score 9" in alpha
    assert "2 votes" in alpha
    assert "1 star" in alpha
    assert "read by 1 of 3 members" in alpha
    assert "Take back my vote" in alpha  # max voted for it
    assert "ICLR 2024" in alpha
    assert reverse("paper_detail", args=[lab.slug, "iclr-2024", fixture_lab["alpha"].forum_id]) in alpha
    beta = html[html.index(f'id="candidate-{fixture_lab["beta"].pk}"') :]
    beta = beta[: beta.index("</li>")]
    assert "nominated by max" in beta
    assert "NeurIPS 2023" in beta
    assert ">Vote</button>" in beta


def test_the_conference_filter_keeps_its_papers(fixture_lab, lab, owner, member, client):
    assert ranked_titles(lab, owner, 3, conference=fixture_lab["beta"].conference) == [
        "Beta diffusion",
        "Epsilon equivariance",
    ]
    client.force_login(member)
    html = client.get(url(lab), {"conference": "neurips-2023"}).content.decode()
    assert "Beta diffusion" in html
    assert "Alpha attention" not in html


def test_papers_read_by_every_member_drop_out(fixture_lab, lab, owner, zoe):
    status(owner, fixture_lab["alpha"], "read")
    ReadingStatus.objects.filter(user=zoe, paper=fixture_lab["alpha"]).update(state="read")
    assert ranked_titles(lab, owner, 3) == EXPECTED[1:]


def test_papers_of_a_held_meeting_drop_out_and_planned_ones_are_marked(fixture_lab, lab, owner, member, client):
    now = timezone.now()
    held = Meeting.objects.create(lab=lab, starts_at=now - dt.timedelta(days=7), held_at=now - dt.timedelta(days=7))
    MeetingPaper.objects.create(meeting=held, paper=fixture_lab["alpha"])
    planned = Meeting.objects.create(lab=lab, starts_at=dt.datetime(2031, 3, 4, 16, tzinfo=dt.UTC))
    MeetingPaper.objects.create(meeting=planned, paper=fixture_lab["gamma"])
    assert ranked_titles(lab, owner, 3) == EXPECTED[1:]
    client.force_login(member)
    html = client.get(url(lab)).content.decode()
    gamma = html[html.index(f'id="candidate-{fixture_lab["gamma"].pk}"') :]
    assert "On the meeting of Tue 4 Mar" in gamma[: gamma.index("</li>")]
    assert reverse("meeting_detail", args=[lab.slug, planned.pk]) in gamma


def test_another_labs_votes_stars_and_nominations_never_count(fixture_lab, lab, owner, member):
    other = LabFactory(slug="nlp")
    stranger = UserFactory(username="sam")
    MembershipFactory(lab=other, user=stranger)
    MembershipFactory(lab=other, user=member)  # max is in both labs: his votes there stay there
    for paper in fixture_lab.values():
        services.vote_for(lab=other, paper=paper, user=stranger)
        services.vote_for(lab=other, paper=paper, user=member)
        services.nominate_paper(lab=other, paper=paper, by=stranger)
    status(stranger, fixture_lab["untouched"], "shortlisted", starred=True)
    status(stranger, fixture_lab["delta"], "shortlisted", starred=True)
    assert ranked_titles(lab, owner, 3) == EXPECTED
    # In the other lab, the same papers rank by that lab's signals (max's statuses count in both labs).
    assert ranked_titles(other, stranger, 2) == [
        "Untouched paper",  # 2 votes, nominated, sam's star and shortlist: 11, unread
        "Delta distillation",  # 11, read by max
        "Beta diffusion",  # 8 + max reading it
        "Epsilon equivariance",  # 8, unread, by title…
        "Gamma graphs",
        "Skipped paper",
        "Alpha attention",  # 8, read by max
        "Eta embeddings",
    ]


def test_votes_of_a_member_who_left_no_longer_count(fixture_lab, lab, owner, member):
    lab.memberships.filter(user=member).delete()
    alpha = reading_group.candidates(lab=lab, user=owner, member_count=2).get(pk=fixture_lab["alpha"].pk)
    assert (alpha.vote_count, alpha.read_count) == (1, 0)


# --- Votes ------------------------------------------------------------------------------------------------


def test_a_double_vote_is_one_vote(lab, member, member_client, paper):
    for _ in range(2):
        response = member_client.post(reverse("vote", args=[lab.slug]), {"paper": paper.pk, "vote": "1"})
        assert response.status_code == 302
        assert response.url == url(lab)
    assert list(Vote.objects.values_list("lab", "paper", "user")) == [(lab.pk, paper.pk, member.pk)]
    html = member_client.get(url(lab)).content.decode()
    assert "You voted for “Vision Transformers Need Registers”." in html
    assert '<span class="rg-votes">1 vote</span>' in html


def test_taking_back_removes_the_vote_and_twice_is_harmless(lab, owner, member, member_client, paper):
    services.vote_for(lab=lab, paper=paper, user=member)
    services.vote_for(lab=lab, paper=paper, user=owner)
    for _ in range(2):
        response = member_client.post(reverse("vote", args=[lab.slug]), {"paper": paper.pk, "vote": "0"})
        assert response.status_code == 302
    assert list(Vote.objects.values_list("user", flat=True)) == [owner.pk]


def test_a_vote_goes_back_to_the_page_it_came_from(lab, member_client, paper):
    back = url(lab) + "?conference=iclr-2024&page=1"
    response = member_client.post(reverse("vote", args=[lab.slug]), {"paper": paper.pk, "vote": "1", "next": back})
    assert response.url == back
    response = member_client.post(
        reverse("vote", args=[lab.slug]), {"paper": paper.pk, "vote": "1", "next": "https://evil.example/"}
    )
    assert response.url == url(lab)


def test_a_bad_vote_is_a_message_not_a_row(lab, member_client, paper):
    response = member_client.post(reverse("vote", args=[lab.slug]), {"paper": paper.pk, "vote": "2"}, follow=True)
    assert "vote must be 1 or 0." in response.content.decode()
    response = member_client.post(reverse("vote", args=[lab.slug]), {"paper": 999999, "vote": "1"}, follow=True)
    assert "There is no such paper." in response.content.decode()
    assert Vote.objects.count() == 0


# --- Nominations ------------------------------------------------------------------------------------------


def test_nominating_twice_is_one_nomination(lab, owner, member, member_client, client, paper):
    response = member_client.post(reverse("nominate", args=[lab.slug]), {"paper": paper.pk}, follow=True)
    assert "You nominated “Vision Transformers Need Registers”." in response.content.decode()
    client.force_login(owner)
    response = client.post(reverse("nominate", args=[lab.slug]), {"paper": paper.pk}, follow=True)
    assert "“Vision Transformers Need Registers” was already nominated." in response.content.decode()
    assert list(Nomination.objects.values_list("lab", "paper", "nominated_by")) == [(lab.pk, paper.pk, member.pk)]
    assert "nominated by max" in response.content.decode()
    assert ranked_titles(lab, owner, 2) == ["Vision Transformers Need Registers"]


def test_only_the_nominator_or_an_owner_withdraws(lab, owner, member, zoe, client, paper):
    services.nominate_paper(lab=lab, paper=paper, by=owner)
    client.force_login(member)
    response = client.post(reverse("nominate", args=[lab.slug]), {"paper": paper.pk, "nominate": "0"}, follow=True)
    assert "Only whoever nominated a paper" in response.content.decode()
    assert Nomination.objects.count() == 1
    client.force_login(owner)
    client.post(reverse("nominate", args=[lab.slug]), {"paper": paper.pk, "nominate": "0"})
    assert Nomination.objects.count() == 0


def test_the_title_search_finds_papers_to_nominate(lab, member_client, paper, neurips):
    PaperFactory(conference=neurips, title="Registers for language models")
    PaperFactory(conference=neurips, title="Something else")
    html = member_client.get(url(lab), {"q": "registers"}).content.decode()
    found = html[html.index('id="rg-found"') : html.index('id="rg-candidates"')]
    assert found.index("Registers for language models") < found.index("Vision Transformers Need Registers")
    assert "Something else" not in found
    assert found.count(">Nominate</button>") == 2
    html = member_client.get(url(lab), {"q": "registers", "conference": "iclr-2024"}).content.decode()
    found = html[html.index('id="rg-found"') : html.index('id="rg-candidates"')]
    assert "Registers for language models" not in found


# --- Authorization ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["meetings", "nominate", "vote"])
def test_anonymous_visitors_are_sent_to_log_in(client, lab, paper, name):
    target = reverse(name, args=[lab.slug])
    response = client.get(target) if name == "meetings" else client.post(target, {"paper": paper.pk, "vote": "1"})
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={target}"
    assert Vote.objects.count() == Nomination.objects.count() == 0


@pytest.mark.parametrize("name", ["meetings", "nominate", "vote"])
def test_outsiders_get_404(outsider_client, lab, owner, paper, name):
    target = reverse(name, args=[lab.slug])
    if name == "meetings":
        response = outsider_client.get(target)
    else:
        response = outsider_client.post(target, {"paper": paper.pk, "vote": "1"})
    assert response.status_code == 404
    assert Vote.objects.count() == Nomination.objects.count() == 0


def test_votes_and_nominations_are_posts_only(member_client, lab, paper):
    assert member_client.get(reverse("vote", args=[lab.slug]), {"paper": paper.pk, "vote": "1"}).status_code == 405
    assert member_client.get(reverse("nominate", args=[lab.slug]), {"paper": paper.pk}).status_code == 405
    assert member_client.post(url(lab)).status_code == 405


# --- Queries ----------------------------------------------------------------------------------------------


def make_candidates(lab, members, conference, count: int) -> None:
    for number in range(count):
        paper = PaperFactory(conference=conference, title=f"Candidate {number:03d}")
        for user in members:
            status(user, paper, "shortlisted", starred=number % 2 == 0)
            Vote.objects.create(lab=lab, paper=paper, user=user)
        Nomination.objects.create(lab=lab, paper=paper, nominated_by=members[0])


def page_queries(client, lab, **params) -> int:
    cache.clear()  # the page's own queries, not what an earlier look left cached (papers.versions)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(lab), params)
    assert response.status_code == 200
    return len(queries)


# session, user, membership, member count, page count, page rows, upcoming meetings (its include), conference choices
CANDIDATE_PAGE_QUERIES = 8


@pytest.mark.parametrize(("papers", "extra_members"), [(1, 0), (3, 0), (60, 0), (1, 9), (3, 9)])
def test_the_page_takes_the_same_queries_for_any_number_of_candidates_and_members(
    lab, member, member_client, conference, papers, extra_members
):
    members = [member]
    for number in range(extra_members):
        user = UserFactory(username=f"m{number}")
        MembershipFactory(lab=lab, user=user)
        members.append(user)
    assert lab.memberships.count() == 1 + extra_members
    make_candidates(lab, members, conference, papers)
    assert page_queries(member_client, lab) == CANDIDATE_PAGE_QUERIES
    html = member_client.get(url(lab)).content.decode()
    assert html.count('class="paper-row rg-row"') == min(papers, 50)


def test_filters_and_search_add_a_fixed_number_of_queries(lab, member, member_client, conference):
    make_candidates(lab, [member], conference, 5)
    # the conference's slug is looked up (1) and the search is one query, however many papers match
    assert page_queries(member_client, lab, conference="iclr-2024") == CANDIDATE_PAGE_QUERIES + 1
    assert page_queries(member_client, lab, q="candidate") == CANDIDATE_PAGE_QUERIES + 1
    make_candidates(lab, [member], ConferenceFactory(), 0)
    assert page_queries(member_client, lab, conference="iclr-2024", q="candidate") == CANDIDATE_PAGE_QUERIES + 2
