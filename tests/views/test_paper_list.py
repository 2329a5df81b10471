import pytest
from django.urls import reverse

from tests.factories import PaperFactory, PresentationFactory, SessionFactory


def url(lab, conference):
    return reverse("paper_list", args=[lab.slug, conference.slug])


def test_member_sees_the_papers_with_tier_authors_and_session(member_client, lab, conference, paper):
    session = SessionFactory(conference=conference, title="Poster Session 3", room="Halle B")
    PresentationFactory(paper=paper, session=session, poster_position="#2504")

    response = member_client.get(url(lab, conference))

    html = response.content.decode()
    assert "Vision Transformers Need Registers" in html
    assert "Timothée Darcet, Maxime Oquab, Julien Mairal et al." in html
    assert '<span class="badge badge--oral">Oral</span>' in html
    assert "Poster Session 3" in html and "#2504" in html
    assert reverse("paper_detail", args=[lab.slug, conference.slug, paper.forum_id]) in html
    assert "1 paper" in html


def test_list_is_paged_by_50_in_title_order(member_client, lab, conference):
    for number in range(120):
        PaperFactory(conference=conference, title=f"Paper {number:03d}")

    first = member_client.get(url(lab, conference)).context["page"]
    third = member_client.get(url(lab, conference), {"page": 3}).context["page"]

    assert [p.title for p in first.object_list] == [f"Paper {n:03d}" for n in range(50)]
    assert [p.title for p in third.object_list] == [f"Paper {n:03d}" for n in range(100, 120)]
    assert "page 3 of 3" in member_client.get(url(lab, conference), {"page": 3}).content.decode()


def test_a_page_number_out_of_range_shows_the_last_page(member_client, lab, conference):
    PaperFactory(conference=conference, title="Only paper")
    assert [p.title for p in member_client.get(url(lab, conference), {"page": "99"}).context["page"]] == ["Only paper"]
    assert [p.title for p in member_client.get(url(lab, conference), {"page": "x"}).context["page"]] == ["Only paper"]


def test_empty_conference_says_how_to_import(member_client, lab, conference):
    html = member_client.get(url(lab, conference)).content.decode()
    assert "No papers yet" in html
    assert "import_openreview notes.json --conference iclr-2024" in html


def test_only_the_conference_papers_are_listed(member_client, lab, conference):
    PaperFactory(conference=conference, title="In ICLR")
    PaperFactory(title="In another conference")
    titles = [p.title for p in member_client.get(url(lab, conference)).context["page"]]
    assert titles == ["In ICLR"]


def test_anonymous_visitor_is_sent_to_login(client, lab, conference):
    response = client.get(url(lab, conference))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url(lab, conference)}"


def test_outsider_gets_404(outsider_client, lab, conference):
    assert outsider_client.get(url(lab, conference)).status_code == 404


def test_unknown_conference_is_404(member_client, lab):
    assert member_client.get(reverse("paper_list", args=[lab.slug, "no-such-conf"])).status_code == 404


@pytest.mark.parametrize("papers", [1, 30])
def test_query_count_does_not_grow_with_papers(member_client, lab, conference, django_assert_num_queries, papers):
    session = SessionFactory(conference=conference)
    for _ in range(papers):
        PresentationFactory(paper=PaperFactory(conference=conference), session=session)
    # session, user, membership+lab, conference, count, page of papers, their presentations+sessions
    with django_assert_num_queries(7):
        member_client.get(url(lab, conference))


def test_htmx_page_request_gets_only_the_results(member_client, lab, conference):
    for number in range(60):
        PaperFactory(conference=conference, title=f"Paper {number:03d}")

    html = member_client.get(url(lab, conference), {"page": 2}, headers={"HX-Request": "true"}).content.decode()

    assert html.lstrip().startswith('<div id="paper-results">')
    assert "<html" not in html and "<h1>" not in html
    assert "Paper 050" in html and "Paper 049" not in html
    assert 'hx-get="?page=1" hx-target="#paper-results"' in html


def test_htmx_history_restore_gets_the_whole_page_and_responses_vary_on_htmx(member_client, lab, conference):
    PaperFactory(conference=conference)
    response = member_client.get(
        url(lab, conference), headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<h1>ICLR 2024</h1>" in response.content.decode()
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("papers", [1, 30])
def test_htmx_query_count_does_not_grow_with_papers(member_client, lab, conference, django_assert_num_queries, papers):
    for _ in range(papers):
        PaperFactory(conference=conference)
    # session, user, membership+lab, conference, count, page of papers, their presentations
    with django_assert_num_queries(7):
        member_client.get(url(lab, conference), headers={"HX-Request": "true"})
