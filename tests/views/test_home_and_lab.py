import pytest
from django.urls import reverse

from papers.models import Membership
from tests.factories import ConferenceFactory, LabFactory, MembershipFactory, PaperFactory, UserFactory


def test_home_lists_my_labs_with_links_to_each_conference(member_client, member, lab, conference, paper):
    html = member_client.get(reverse("home")).content.decode()

    assert "Vision Lab" in html
    assert "max&#x27;s papers" in html  # the personal lab every user gets
    assert reverse("paper_list", args=[lab.slug, conference.slug]) in html
    assert 'ICLR 2024</a> <span class="muted">1 paper</span>' in html


def test_home_without_conferences_says_how_to_import(member_client):
    assert "No conference yet" in member_client.get(reverse("home")).content.decode()


def test_home_does_not_show_labs_i_am_not_in(member_client):
    LabFactory(name="Secret Lab")
    assert "Secret Lab" not in member_client.get(reverse("home")).content.decode()


def test_home_sends_anonymous_visitor_to_login(client):
    assert client.get(reverse("home"))["Location"] == f"{reverse('login')}?next=/"


@pytest.mark.parametrize("count", [1, 5])
def test_home_query_count_does_not_grow_with_labs_or_conferences(client, db, django_assert_num_queries, count):
    user = UserFactory(username="many")
    for _ in range(count):
        MembershipFactory(user=user)
        PaperFactory(conference=ConferenceFactory())
    client.force_login(user)
    # session, user, memberships+labs, conferences with paper counts, upcoming meetings of my labs
    with django_assert_num_queries(5):
        client.get(reverse("home"))


def test_lab_page_lists_members_roles_and_conferences(member_client, lab, owner, member, conference):
    html = member_client.get(reverse("lab_detail", args=[lab.slug])).content.decode()
    assert "<h1>Vision Lab</h1>" in html
    assert "olivia" in html and 'max <span class="muted">(you)</span>' in html
    assert '<span class="badge">Owner</span>' in html
    assert reverse("paper_list", args=[lab.slug, conference.slug]) in html


def test_lab_page_sends_anonymous_visitor_to_login(client, lab):
    url = reverse("lab_detail", args=[lab.slug])
    assert client.get(url)["Location"] == f"{reverse('login')}?next={url}"


def test_lab_page_is_404_for_an_outsider_and_for_a_missing_lab(outsider_client, lab):
    assert outsider_client.get(reverse("lab_detail", args=[lab.slug])).status_code == 404
    assert outsider_client.get(reverse("lab_detail", args=["no-such-lab"])).status_code == 404


@pytest.mark.parametrize("members", [1, 10])
def test_lab_page_query_count_does_not_grow_with_members(
    member_client, lab, conference, django_assert_num_queries, members
):
    for _ in range(members):
        MembershipFactory(lab=lab, role=Membership.Role.MEMBER)
    # session, user, membership+lab, members+users, conferences with paper counts
    with django_assert_num_queries(5):
        member_client.get(reverse("lab_detail", args=[lab.slug]))
