import pytest
from django.urls import reverse

from papers.models import ReadingStatus
from tests.factories import MembershipFactory, ReadingStatusFactory, UserFactory


def star_url(lab, paper):
    return reverse("paper_star", args=[lab.slug, paper.conference.slug, paper.forum_id])


def state_url(lab, paper):
    return reverse("paper_state", args=[lab.slug, paper.conference.slug, paper.forum_id])


def my_status(user, paper):
    return ReadingStatus.objects.filter(user=user, paper=paper).values_list("state", "starred").first()


def test_starring_twice_is_one_row_and_the_same_result(member_client, member, lab, paper):
    for _ in range(2):
        member_client.post(star_url(lab, paper), {"starred": "1"})
    assert ReadingStatus.objects.filter(user=member, paper=paper).count() == 1
    # A star means "I want to read this": an untriaged paper becomes shortlisted (seen, kept).
    assert my_status(member, paper) == ("shortlisted", True)

    member_client.post(star_url(lab, paper), {"starred": "0"})
    assert my_status(member, paper) == ("shortlisted", False)


def test_a_star_keeps_a_state_already_given(member_client, member, lab, paper):
    member_client.post(state_url(lab, paper), {"state": "read"})
    member_client.post(star_url(lab, paper), {"starred": "1"})
    assert my_status(member, paper) == ("read", True)


def test_a_state_is_set_kept_with_the_star_and_cleared(member_client, member, lab, paper):
    member_client.post(star_url(lab, paper), {"starred": "1"})
    member_client.post(state_url(lab, paper), {"state": "shortlisted"})
    member_client.post(state_url(lab, paper), {"state": "shortlisted"})
    assert my_status(member, paper) == ("shortlisted", True)
    member_client.post(state_url(lab, paper), {"state": "read"})
    assert my_status(member, paper) == ("read", True)
    member_client.post(state_url(lab, paper), {"state": ""})
    assert my_status(member, paper) == ("", True)
    assert ReadingStatus.objects.count() == 1


def test_without_javascript_the_form_goes_back_to_the_page_it_came_from(member_client, lab, paper):
    back = reverse("paper_list", args=[lab.slug, paper.conference.slug]) + "?tier=oral&page=2"
    response = member_client.post(star_url(lab, paper), {"starred": "1", "next": back})
    assert response["Location"] == back


def test_next_to_another_site_is_ignored(member_client, lab, paper):
    response = member_client.post(star_url(lab, paper), {"starred": "1", "next": "https://evil.example/x"})
    assert response["Location"] == paper.get_absolute_url_for(lab)


def test_htmx_gets_the_controls_and_the_lab_signals_back(member_client, member, lab, paper):
    colleague = UserFactory(username="grace")
    MembershipFactory(lab=lab, user=colleague)
    ReadingStatusFactory(user=colleague, paper=paper, starred=True)

    html = member_client.post(star_url(lab, paper), {"starred": "1"}, headers={"HX-Request": "true"}).content.decode()

    assert html.lstrip().startswith(f'<div class="triage-controls" id="triage-{paper.pk}">')
    assert 'class="star-toggle is-on" aria-pressed="true"' in html
    assert '<input type="hidden" name="starred" value="0">' in html  # the next click unstars
    assert f'id="signals-{paper.pk}" hx-swap-oob="true"' in html
    assert "★ 2" in html and "Starred by grace, max" in html
    assert "<html" not in html


@pytest.mark.parametrize(
    ("view", "data", "message"),
    [
        ("star", {"starred": "yes"}, "starred must be 1 or 0."),
        ("state", {"state": "loved"}, "state must be one of: (empty), skipped, shortlisted, reading, read."),
    ],
)
def test_bad_values_are_refused_with_a_message(member_client, lab, paper, view, data, message):
    url = star_url(lab, paper) if view == "star" else state_url(lab, paper)
    response = member_client.post(url, data)
    assert (response.status_code, response.content.decode()) == (400, message)
    assert ReadingStatus.objects.count() == 0


@pytest.mark.parametrize("view", ["star", "state"])
def test_anonymous_is_sent_to_login_and_outsider_gets_404(client, outsider, lab, paper, view):
    url = star_url(lab, paper) if view == "star" else state_url(lab, paper)
    data = {"starred": "1", "state": "read"}
    assert client.post(url, data)["Location"] == f"{reverse('login')}?next={url}"
    client.force_login(outsider)
    assert client.post(url, data).status_code == 404
    assert ReadingStatus.objects.count() == 0


@pytest.mark.parametrize("view", ["star", "state"])
def test_get_is_not_allowed(member_client, lab, paper, view):
    url = star_url(lab, paper) if view == "star" else state_url(lab, paper)
    assert member_client.get(url).status_code == 405


@pytest.mark.parametrize("members", [1, 10])
def test_htmx_query_count_is_fixed(member_client, lab, paper, django_assert_num_queries, members):
    for _ in range(members):
        ReadingStatusFactory(user=MembershipFactory(lab=lab).user, paper=paper, starred=True)
    # session, user, membership+lab, paper+conference, the upsert in its savepoints (update, insert, get),
    # the labs' version bump, the paper again with the lab's statuses and the visible notes
    with django_assert_num_queries(14):
        member_client.post(star_url(lab, paper), {"starred": "1"}, headers={"HX-Request": "true"})
