import datetime as dt
import re
from collections import Counter

import pytest
from django.urls import reverse

from papers import services
from papers.models import Assignment, ReadingStatus
from tests.factories import MembershipFactory, PaperFactory, PresentationFactory, SessionFactory, UserFactory

UTC = dt.UTC


@pytest.fixture
def team(lab, owner, member):
    third = UserFactory(username="zoe")
    MembershipFactory(lab=lab, user=third)
    return [owner, member, third]


@pytest.fixture
def programme(conference):
    """30 papers over three days (10, 12 and 8), two sessions a day, areas in round robin."""
    papers = []
    for day, count in ((7, 10), (8, 12), (9, 8)):
        sessions = [
            SessionFactory(
                conference=conference,
                title=f"Poster Session {day}{half}",
                starts_at=dt.datetime(2024, 5, day, hour, tzinfo=UTC),
            )
            for half, hour in (("a", 8), ("b", 14))
        ]
        for number in range(count):
            paper = PaperFactory(conference=conference, primary_area=["vision", "rl", "theory"][number % 3])
            PresentationFactory(paper=paper, session=sessions[number % 2])
            papers.append(paper)
    return papers


def assignees(lab) -> dict[int, int]:
    return dict(Assignment.objects.filter(lab=lab).values_list("paper_id", "user_id"))


@pytest.mark.parametrize("method", ["even", "day", "session", "area"])
def test_every_paper_goes_to_exactly_one_member(lab, owner, team, conference, programme, method):
    load = services.split_papers(lab=lab, conference=conference, by=owner, method=method, members=team)
    split = assignees(lab)
    assert sorted(split) == sorted(p.pk for p in programme)
    assert Assignment.objects.filter(lab=lab).count() == 30
    assert sum(load.values()) == 30
    assert set(split.values()) == {user.pk for user in team}


def test_an_even_split_is_even(lab, owner, team, conference, programme):
    services.split_papers(lab=lab, conference=conference, by=owner, method="even", members=team)
    assert sorted(Counter(assignees(lab).values()).values()) == [10, 10, 10]


def test_a_split_by_day_keeps_each_day_with_one_member(lab, owner, team, conference, programme):
    services.split_papers(lab=lab, conference=conference, by=owner, method="day", members=team)
    split = assignees(lab)
    by_day: dict = {}
    for paper in programme:
        day = paper.presentations.get().session.day
        by_day.setdefault(day, set()).add(split[paper.pk])
    assert all(len(members) == 1 for members in by_day.values())
    assert sorted(Counter(split.values()).values()) == [8, 10, 12]


def test_resplitting_keeps_what_was_already_triaged(lab, owner, member, team, conference, programme):
    services.split_papers(lab=lab, conference=conference, by=owner, method="even", members=team)
    mine = [paper_id for paper_id, user_id in assignees(lab).items() if user_id == member.pk][:4]
    for paper_id in mine:
        ReadingStatus.objects.create(user=member, paper_id=paper_id, state="skipped")

    services.split_papers(lab=lab, conference=conference, by=owner, method="day", members=[owner, team[2]])

    split = assignees(lab)
    assert all(split[paper_id] == member.pk for paper_id in mine)  # kept, though max is not in this split
    assert len(split) == 30


def test_only_members_of_the_lab_get_papers(lab, owner, outsider, conference, programme):
    services.split_papers(lab=lab, conference=conference, by=owner, method="even", members=[owner, outsider])
    assert set(assignees(lab).values()) == {owner.pk}


def test_only_an_owner_splits(lab, owner, member, team, conference, programme):
    with pytest.raises(services.LabRuleBroken, match=r"Only an owner of the lab can do that\."):
        services.split_papers(lab=lab, conference=conference, by=member, method="even", members=team)
    assert Assignment.objects.count() == 0


def test_take_over_moves_only_the_untriaged_papers(lab, owner, member, team, conference, programme):
    services.split_papers(lab=lab, conference=conference, by=owner, method="even", members=team)
    theirs = [paper_id for paper_id, user_id in assignees(lab).items() if user_id == member.pk]
    ReadingStatus.objects.create(user=member, paper_id=theirs[0], state="read")
    ReadingStatus.objects.create(user=member, paper_id=theirs[1], starred=True)  # a star alone is not triage

    moved = services.take_over_slice(lab=lab, conference=conference, from_user=member, by=team[2])

    assert moved == 9
    split = assignees(lab)
    assert split[theirs[0]] == member.pk and split[theirs[1]] == team[2].pk


def test_swap_exchanges_whole_slices(lab, owner, member, team, conference, programme):
    services.split_papers(lab=lab, conference=conference, by=owner, method="day", members=[owner, member])
    before = assignees(lab)
    services.swap_slices(lab=lab, conference=conference, with_user=owner, by=member)
    after = assignees(lab)
    assert all(after[p] == (member.pk if u == owner.pk else owner.pk) for p, u in before.items())


def test_the_page_shows_each_members_slice_and_progress(client, lab, owner, member, team, conference, programme):
    services.split_papers(lab=lab, conference=conference, by=owner, method="even", members=team)
    first = next(paper_id for paper_id, user_id in assignees(lab).items() if user_id == member.pk)
    ReadingStatus.objects.create(user=member, paper_id=first, state="shortlisted")
    client.force_login(member)
    html = client.get(reverse("split", args=[lab.slug, conference.slug])).content.decode()
    assert "30 of 30 papers split" in html
    row = re.search(
        r'<th scope="row">max <span class="muted">\(you\)</span></th>\s*<td>(\d+)</td>\s*<td>(.*?)</td>', html
    )
    assert row.groups() == ("10", '1 <span class="muted">(10%)</span>')
    assert "Split the papers" not in html  # owners only
    assert "Take over the untriaged" in html


def test_owner_splits_from_the_page(client, lab, owner, team, conference, programme):
    client.force_login(owner)
    response = client.post(
        reverse("split_create", args=[lab.slug, conference.slug]),
        {"method": "day", "members": [str(u.pk) for u in team]},
        follow=True,
    )
    assert "Split 30 papers between 3 members." in [str(m) for m in response.context["messages"]]
    assert Assignment.objects.count() == 30


@pytest.mark.parametrize("members", [1, 10])
def test_page_query_count_is_fixed(client, lab, owner, conference, programme, django_assert_num_queries, members):
    extra = [MembershipFactory(lab=lab).user for _ in range(members)]
    services.split_papers(lab=lab, conference=conference, by=owner, method="even", members=[owner, *extra])
    client.force_login(owner)
    # session, user, membership+lab, conference, my membership, slices, members, paper count
    with django_assert_num_queries(8):
        client.get(reverse("split", args=[lab.slug, conference.slug]))


def test_my_slice_filter_on_the_list(client, lab, owner, member, team, conference, programme):
    services.split_papers(lab=lab, conference=conference, by=owner, method="even", members=team)
    client.force_login(member)
    response = client.get(reverse("paper_list", args=[lab.slug, conference.slug]), {"slice": "mine"})
    assert response.context["page"].paginator.count == 10


def test_a_swap_exchanges_only_what_is_left_to_triage(lab, owner, member, team, conference, programme):
    services.split_papers(lab=lab, conference=conference, by=owner, method="even", members=[owner, member])
    mine_before = [p for p, u in assignees(lab).items() if u == member.pk]
    ReadingStatus.objects.create(user=member, paper_id=mine_before[0], state="read")

    services.swap_slices(lab=lab, conference=conference, with_user=owner, by=member)

    after = assignees(lab)
    assert after[mine_before[0]] == member.pk  # my finished paper stays mine
    assert all(after[p] == owner.pk for p in mine_before[1:])
    assert sorted(Counter(after.values()).values()) == [14, 16]  # 14 left to do went one way, 15 the other


def test_a_swap_needs_papers_on_both_sides(lab, owner, member, team, conference, programme):
    services.split_papers(lab=lab, conference=conference, by=owner, method="even", members=[owner])
    with pytest.raises(services.LabRuleBroken, match=r"A swap needs papers left to triage on both sides"):
        services.swap_slices(lab=lab, conference=conference, with_user=owner, by=member)
    assert set(assignees(lab).values()) == {owner.pk}


def test_a_split_gives_a_paper_to_whoever_already_triaged_it(lab, owner, member, team, conference, programme):
    ReadingStatus.objects.create(user=team[2], paper=programme[0], state="skipped")
    services.split_papers(lab=lab, conference=conference, by=owner, method="even", members=[owner, member])
    assert assignees(lab)[programme[0].pk] == team[2].pk
    assert len(assignees(lab)) == 30


def test_a_leaving_members_papers_go_to_the_others(lab, owner, member, team, conference, programme):
    services.split_papers(lab=lab, conference=conference, by=owner, method="even", members=team)
    services.remove_member(lab=lab, member=member, by=member)
    split = assignees(lab)
    assert len(split) == 30  # every paper still has someone
    assert set(split.values()) == {owner.pk, team[2].pk}
    assert sorted(Counter(split.values()).values()) == [15, 15]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"method": "even"}, "Choose at least one member of the lab to split the papers between."),
        ({"method": "astrology", "members": ["1"]}, "Choose how to split."),
    ],
)
def test_a_bad_split_request_says_what_is_missing(client, lab, owner, conference, programme, data, message):
    client.force_login(owner)
    response = client.post(reverse("split_create", args=[lab.slug, conference.slug]), data, follow=True)
    assert message in [str(m) for m in response.context["messages"]]
    assert Assignment.objects.count() == 0
