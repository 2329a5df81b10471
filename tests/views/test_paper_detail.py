import datetime as dt

import pytest
from django.urls import reverse

from tests.factories import PresentationFactory, SessionFactory

UTC = dt.UTC


def url(lab, paper):
    return reverse("paper_detail", args=[lab.slug, paper.conference.slug, paper.forum_id])


def test_member_sees_abstract_authors_tier_links_and_sessions(member_client, lab, conference, paper):
    session = SessionFactory(
        conference=conference,
        title="Oral 2A",
        kind="oral",
        room="Halle A 7",
        starts_at=dt.datetime(2024, 5, 8, 8, 0, tzinfo=UTC),
        ends_at=dt.datetime(2024, 5, 8, 8, 45, tzinfo=UTC),
    )
    PresentationFactory(paper=paper, session=session)

    html = member_client.get(url(lab, paper)).content.decode()

    assert '<h1 class="paper__title">Vision Transformers Need Registers</h1>' in html
    assert "Timothée Darcet, Maxime Oquab, Julien Mairal, Piotr Bojanowski" in html
    assert "Transformers have recently emerged as a powerful tool" in html
    assert '<span class="badge badge--oral">Oral</span>' in html
    assert 'href="https://openreview.net/forum?id=2dnO3LLiJ1"' in html
    assert 'href="https://openreview.net/pdf?id=2dnO3LLiJ1"' in html
    # Times are shown in the conference's time zone (Vienna, UTC+2 in May).
    assert "Wednesday 8 May, 10:00–10:45" in html
    assert "Halle A 7" in html


def test_unscheduled_paper_says_so(member_client, lab, paper):
    assert "Not scheduled yet" in member_client.get(url(lab, paper)).content.decode()


def test_title_and_abstract_are_escaped(member_client, lab, paper):
    paper.title = '<script>alert("x")</script> $\\mathcal{B}$'
    paper.abstract = '"><img src=x onerror=alert(1)>'
    paper.authors = ["<b>Mallory</b>"]
    paper.save()
    html = member_client.get(url(lab, paper)).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>Mallory" not in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; $\\mathcal{B}$" in html


def test_paper_of_another_conference_is_404(member_client, lab, paper):
    assert member_client.get(reverse("paper_detail", args=[lab.slug, "other-conf", paper.forum_id])).status_code == 404


def test_anonymous_visitor_is_sent_to_login(client, lab, paper):
    response = client.get(url(lab, paper))
    assert response["Location"] == f"{reverse('login')}?next={url(lab, paper)}"


def test_outsider_gets_404(outsider_client, lab, paper):
    assert outsider_client.get(url(lab, paper)).status_code == 404


@pytest.mark.parametrize("sessions", [1, 4])
def test_query_count_does_not_grow_with_sessions(
    member_client, lab, conference, paper, django_assert_num_queries, sessions
):
    for _ in range(sessions):
        PresentationFactory(paper=paper, session=SessionFactory(conference=conference))
    # session, user, membership+lab, paper+conference, presentations+sessions
    with django_assert_num_queries(5):
        member_client.get(url(lab, paper))
