import datetime as dt
import re

import pytest
from django.urls import reverse

from papers import search
from papers.models import Note, Paper, ReadingStatus
from tests.factories import (
    MembershipFactory,
    NoteFactory,
    PaperFactory,
    PresentationFactory,
    ReadingStatusFactory,
    SessionFactory,
    UserFactory,
)

UTC = dt.UTC


def url(lab, conference):
    return reverse("paper_list", args=[lab.slug, conference.slug])


def titles(client, lab, conference, **params) -> list[str]:
    response = client.get(url(lab, conference), params)
    return [paper.title for paper in response.context["page"].object_list]


@pytest.fixture
def programme(conference, lab, member):
    """A small programme over two days, with the lab's activity on it."""
    tuesday = SessionFactory(
        conference=conference, title="Poster Session 1", starts_at=dt.datetime(2024, 5, 7, 8, 30, tzinfo=UTC)
    )
    wednesday = SessionFactory(
        conference=conference, title="Poster Session 3", starts_at=dt.datetime(2024, 5, 8, 8, 30, tzinfo=UTC)
    )
    papers = {
        "spiking": PaperFactory(
            conference=conference,
            title="Learning Delays in Spiking Neural Networks",
            abstract="Spikes carry time.",
            tier="spotlight",
            keywords=["Spiking Neural Networks", "neuromorphic"],
            authors=["Ilyass Hammouamri", "Timothée Masquelier"],
        ),
        "registers": PaperFactory(
            conference=conference,
            title="Vision Transformers Need Registers",
            abstract="Artifacts in attention maps.",
            tier="oral",
            authors=["Timothée Darcet", "Maxime Oquab"],
        ),
        "coder": PaperFactory(
            conference=conference,
            title=r"$\mathcal{B}$-Coder: Value-Based Deep RL for Program Synthesis",
            abstract="Programs from values.",
            tier="poster",
            primary_area="reinforcement learning",
        ),
        "unscheduled": PaperFactory(conference=conference, title="An Unscheduled Paper", tier="poster"),
    }
    PresentationFactory(paper=papers["spiking"], session=tuesday, poster_position="#12")
    PresentationFactory(paper=papers["registers"], session=wednesday)
    PresentationFactory(paper=papers["coder"], session=tuesday)
    colleague = UserFactory(username="grace")
    MembershipFactory(lab=lab, user=colleague)
    ReadingStatusFactory(user=member, paper=papers["registers"], state="shortlisted", starred=True)
    ReadingStatusFactory(user=member, paper=papers["coder"], state="skipped")
    ReadingStatusFactory(user=colleague, paper=papers["registers"], state="read", starred=True)
    ReadingStatusFactory(user=colleague, paper=papers["spiking"], starred=True)
    NoteFactory(paper=papers["coder"], author=colleague, lab=lab, body="Nice idea.")
    return papers


# --- Content ----------------------------------------------------------------------------------------


def test_rows_show_title_authors_tier_session_my_controls_and_the_lab_signals(
    member_client, lab, conference, programme
):
    NoteFactory(paper=programme["registers"], author=UserFactory(username="m2"), lab=None, body="not mine")
    from papers import services

    services.add_note(
        author=programme["registers"].reading_statuses.first().user,
        paper=programme["registers"],
        lab=lab,
        kind=Note.Kind.SUMMARY,
        body="Registers soak up the attention artifacts.",
    )
    html = member_client.get(url(lab, conference)).content.decode()

    assert "<strong>4</strong> of 4 papers" in html
    assert "ℬ-Coder: Value-Based Deep RL for Program Synthesis" in html  # LaTeX shown cleanly
    assert r"$\mathcal{B}$" not in html
    assert "Ilyass Hammouamri, Timothée Masquelier" in html
    assert '<span class="badge badge--spotlight">Spotlight</span>' in html
    assert re.search(
        r'<strong class="presentation__when">Tue 7 May, 10:30</strong>\s*<span>Poster Session 1</span>\s*'
        r"<span>poster #12</span>",
        html,
    )
    # My star and state on "registers"; the lab's two stars (who, on hover/tap) and one read.
    row = html[html.index(f'id="paper-{programme["registers"].pk}"') :]
    row = row[: row.index("</li>")]
    assert 'class="star-toggle is-on" aria-pressed="true"' in row
    assert 'aria-pressed="true">Shortlist</button>' in row
    assert "★ 2" in row and "Starred by grace, max" in row
    assert "✓ 1 read" in row
    assert "Registers soak up the attention artifacts." in row  # my one-liner
    assert "1 note" in row  # my one-liner; another user's private note is not counted


def test_empty_result_says_what_to_change(member_client, lab, conference, programme):
    html = member_client.get(url(lab, conference), {"tier": "oral", "state": "skipped"}).content.decode()
    assert "No paper matches" in html
    assert "Nothing among the 4 papers fits all of these filters." in html
    assert "Tier: Oral" in html and "My triage: Skipped" in html
    assert 'href="?state=skipped"' in html  # removing the tier filter keeps the other


def test_empty_conference_says_how_to_import(member_client, lab, conference):
    html = member_client.get(url(lab, conference)).content.decode()
    assert "No papers yet" in html
    assert "import_openreview notes.json --conference iclr-2024" in html


def test_only_the_conference_papers_are_listed(member_client, lab, conference):
    PaperFactory(conference=conference, title="In ICLR")
    PaperFactory(title="In another conference")
    assert titles(member_client, lab, conference) == ["In ICLR"]


# --- Filters ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"tier": "oral"}, ["Vision Transformers Need Registers"]),
        (
            {"day": "2024-05-07"},
            [
                r"$\mathcal{B}$-Coder: Value-Based Deep RL for Program Synthesis",
                "Learning Delays in Spiking Neural Networks",
            ],
        ),
        ({"keyword": "spiking neural networks"}, ["Learning Delays in Spiking Neural Networks"]),
        ({"keyword": "Neuromorphic"}, ["Learning Delays in Spiking Neural Networks"]),
        ({"keyword": "spiking"}, []),  # a keyword filter is exact, not a search
        ({"area": "reinforcement learning"}, [r"$\mathcal{B}$-Coder: Value-Based Deep RL for Program Synthesis"]),
        ({"state": "unseen"}, ["An Unscheduled Paper", "Learning Delays in Spiking Neural Networks"]),
        ({"state": "shortlisted"}, ["Vision Transformers Need Registers"]),
        ({"state": "skipped"}, [r"$\mathcal{B}$-Coder: Value-Based Deep RL for Program Synthesis"]),
        ({"state": "read"}, []),  # grace read it, not me
        ({"starred": "me"}, ["Vision Transformers Need Registers"]),
        ({"starred": "lab"}, ["Learning Delays in Spiking Neural Networks", "Vision Transformers Need Registers"]),
        ({"notes": "on"}, [r"$\mathcal{B}$-Coder: Value-Based Deep RL for Program Synthesis"]),
        (
            {"unseen_by_lab": "on"},
            ["An Unscheduled Paper", "Learning Delays in Spiking Neural Networks"],  # grace only starred "spiking"
        ),
        ({"tier": "poster", "state": "unseen"}, ["An Unscheduled Paper"]),
    ],
)
def test_each_filter(member_client, lab, conference, programme, params, expected):
    assert titles(member_client, lab, conference, **params) == expected


def test_session_filter(member_client, lab, conference, programme):
    session = programme["registers"].presentations.get().session
    assert titles(member_client, lab, conference, session=session.pk) == ["Vision Transformers Need Registers"]


def test_another_labs_activity_does_not_count(member_client, lab, conference, programme):
    stranger = UserFactory(username="stranger")
    ReadingStatusFactory(user=stranger, paper=programme["coder"], starred=True, state="read")
    assert "B}$-Coder" not in " ".join(titles(member_client, lab, conference, starred="lab"))


def test_a_bad_filter_value_is_ignored_not_an_error(member_client, lab, conference, programme):
    response = member_client.get(url(lab, conference), {"tier": "legendary", "sort": "random"})
    assert len(response.context["page"].object_list) == 4
    assert "Select a valid choice. legendary is not one of the available choices." in response.content.decode()


# --- Search -----------------------------------------------------------------------------------------


def test_search_needs_every_word_case_insensitively(member_client, lab, conference, programme):
    assert titles(member_client, lab, conference, q="vision REGISTERS") == ["Vision Transformers Need Registers"]
    assert titles(member_client, lab, conference, q="vision spiking") == []
    assert titles(member_client, lab, conference, q="timothée") == [
        "Learning Delays in Spiking Neural Networks",
        "Vision Transformers Need Registers",
    ]
    assert titles(member_client, lab, conference, q="attention") == ["Vision Transformers Need Registers"]


@pytest.mark.skipif(not search.is_postgresql(), reason="stemming is PostgreSQL's full-text search")
def test_search_stems_english_words_on_postgresql(member_client, lab, conference, programme):
    assert titles(member_client, lab, conference, q="spike") == ["Learning Delays in Spiking Neural Networks"]
    assert titles(member_client, lab, conference, q="delay network") == ["Learning Delays in Spiking Neural Networks"]


def test_search_finds_keywords_and_authors(member_client, lab, conference, programme):
    assert titles(member_client, lab, conference, q="neuromorphic") == ["Learning Delays in Spiking Neural Networks"]
    assert titles(member_client, lab, conference, q="oquab") == ["Vision Transformers Need Registers"]


def test_relevance_puts_a_title_hit_first(member_client, lab, conference):
    PaperFactory(conference=conference, title="A Paper About Other Things", abstract="It uses diffusion once.")
    PaperFactory(conference=conference, title="Diffusion Models Beat GANs", abstract="Images.")
    assert titles(member_client, lab, conference, q="diffusion") == [
        "Diffusion Models Beat GANs",
        "A Paper About Other Things",
    ]


def test_an_edited_paper_is_found_by_its_new_words(member_client, lab, conference, programme):
    paper = programme["unscheduled"]
    paper.abstract = "Hyperbolic embeddings everywhere."
    paper.save()
    assert titles(member_client, lab, conference, q="hyperbolic") == ["An Unscheduled Paper"]


# --- Sorts ------------------------------------------------------------------------------------------


def test_sort_by_lab_stars_then_title(member_client, lab, conference, programme):
    assert titles(member_client, lab, conference, sort="stars") == [
        "Vision Transformers Need Registers",
        "Learning Delays in Spiking Neural Networks",
        r"$\mathcal{B}$-Coder: Value-Based Deep RL for Program Synthesis",
        "An Unscheduled Paper",
    ]


def test_sort_by_schedule_time_unscheduled_last(member_client, lab, conference, programme):
    assert titles(member_client, lab, conference, sort="schedule") == [
        r"$\mathcal{B}$-Coder: Value-Based Deep RL for Program Synthesis",
        "Learning Delays in Spiking Neural Networks",
        "Vision Transformers Need Registers",
        "An Unscheduled Paper",
    ]


def test_default_sort_is_title(member_client, lab, conference, programme):
    expected = list(Paper.objects.filter(conference=conference).order_by("title", "pk").values_list("title", flat=True))
    assert titles(member_client, lab, conference) == expected
    assert len(expected) == 4


# --- Paging and htmx --------------------------------------------------------------------------------


def test_list_is_paged_by_50_and_pages_keep_the_filters(member_client, lab, conference):
    for number in range(120):
        PaperFactory(conference=conference, title=f"Paper {number:03d}", tier="oral" if number % 2 else "poster")

    response = member_client.get(url(lab, conference), {"tier": "poster", "page": 2})

    assert [p.title for p in response.context["page"].object_list] == [f"Paper {n:03d}" for n in range(100, 120, 2)]
    html = response.content.decode()
    assert "<strong>60</strong> of 120 papers · page 2 of 2" in html
    assert 'href="?tier=poster&amp;page=1"' in html


def test_a_page_number_out_of_range_shows_the_last_page(member_client, lab, conference):
    PaperFactory(conference=conference, title="Only paper")
    assert titles(member_client, lab, conference, page="99") == ["Only paper"]
    assert titles(member_client, lab, conference, page="x") == ["Only paper"]


def test_htmx_request_gets_only_the_results(member_client, lab, conference):
    for number in range(60):
        PaperFactory(conference=conference, title=f"Paper {number:03d}")

    html = member_client.get(url(lab, conference), {"page": 2}, headers={"HX-Request": "true"}).content.decode()

    assert html.lstrip().startswith('<div id="paper-results"')
    assert "<html" not in html and "<h1>" not in html and 'id="paper-filters"' not in html
    assert "Paper 050" in html and "Paper 049" not in html
    assert 'hx-get="?page=1" hx-target="#paper-results"' in html


def test_htmx_history_restore_gets_the_whole_page_and_responses_vary_on_htmx(member_client, lab, conference):
    PaperFactory(conference=conference)
    response = member_client.get(
        url(lab, conference), headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<h1>ICLR 2024</h1>" in response.content.decode()
    assert "HX-Request" in response["Vary"]


def test_the_inbox_link_carries_the_filters(member_client, lab, conference, programme):
    html = member_client.get(url(lab, conference), {"tier": "spotlight"}).content.decode()
    assert f'href="{reverse("triage", args=[lab.slug, conference.slug])}?tier=spotlight"' in html


# --- Authorization and query counts -----------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login(client, lab, conference):
    response = client.get(url(lab, conference))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url(lab, conference)}"


def test_outsider_gets_404(outsider_client, lab, conference):
    assert outsider_client.get(url(lab, conference)).status_code == 404


def test_unknown_conference_is_404(member_client, lab):
    assert member_client.get(reverse("paper_list", args=[lab.slug, "no-such-conf"])).status_code == 404


def populate(conference, lab, member, papers: int, members: int) -> None:
    session = SessionFactory(conference=conference)
    others = [UserFactory() for _ in range(members - 1)]
    for other in others:
        MembershipFactory(lab=lab, user=other)
    for _ in range(papers):
        paper = PaperFactory(conference=conference)
        PresentationFactory(paper=paper, session=session)
        for user in [member, *others]:
            ReadingStatus.objects.create(user=user, paper=paper, state="read", starred=True)
            NoteFactory(paper=paper, author=user, lab=lab)


# session, user, membership+lab, conference, filter choices (days, areas, sessions), count, total (only when
# filtered: unfiltered, the count is the total), page of papers, their presentations, the lab's statuses,
# the visible notes
LIST_QUERIES = 12
UNFILTERED_LIST_QUERIES = 11


@pytest.mark.parametrize(("papers", "members"), [(1, 1), (50, 1), (1, 10), (50, 10)])
def test_query_count_is_fixed(member_client, member, lab, conference, django_assert_num_queries, papers, members):
    populate(conference, lab, member, papers, members)
    with django_assert_num_queries(LIST_QUERIES):
        member_client.get(url(lab, conference), {"sort": "stars", "q": "paper", "state": "read"})


# A second look with nothing changed: session, user, membership+lab with the conference's version; the
# conference's row, the filters and the results come from the cache (papers.versions).
CACHED_LIST_QUERIES = 3


@pytest.mark.parametrize(("papers", "members"), [(1, 1), (50, 10)])
def test_a_second_look_comes_from_the_cache(
    member_client, member, lab, conference, django_assert_num_queries, papers, members
):
    populate(conference, lab, member, papers, members)
    params = {"sort": "stars", "q": "paper", "state": "read"}
    first = member_client.get(url(lab, conference), params).content.decode()
    with django_assert_num_queries(CACHED_LIST_QUERIES):
        again = member_client.get(url(lab, conference), params).content.decode()
    assert again.count('class="paper-row"') == papers
    # The same rows and counts (only the page's own CSRF token differs).
    strip = re.compile(r"[A-Za-z0-9]{64}")
    assert strip.sub("", again) == strip.sub("", first)


def test_the_cached_list_shows_a_change_at_once(member_client, client, owner, member, lab, conference):
    paper = PaperFactory(conference=conference, title="Cached Paper")
    assert "★ 1" not in member_client.get(url(lab, conference)).content.decode()
    ReadingStatus.objects.create(user=owner, paper=paper, starred=True)  # another member, another request
    assert "★ 1" in member_client.get(url(lab, conference)).content.decode()
    paper.title = "Renamed Paper"
    paper.save()
    assert "Renamed Paper" in member_client.get(url(lab, conference)).content.decode()


def test_members_do_not_share_a_cached_list(member_client, client, owner, member, lab, conference):
    paper = PaperFactory(conference=conference)
    ReadingStatus.objects.create(user=member, paper=paper, starred=True)
    assert 'aria-pressed="true" title="Starred' in member_client.get(url(lab, conference)).content.decode()
    client.force_login(owner)
    assert 'aria-pressed="true" title="Starred' not in client.get(url(lab, conference)).content.decode()


@pytest.mark.parametrize("papers", [1, 50])
def test_htmx_query_count_is_fixed(member_client, member, lab, conference, django_assert_num_queries, papers):
    populate(conference, lab, member, papers, 2)
    with django_assert_num_queries(UNFILTERED_LIST_QUERIES):
        member_client.get(url(lab, conference), headers={"HX-Request": "true"})


def test_every_filter_has_a_readable_label(member_client, lab, conference, programme):
    html = member_client.get(url(lab, conference)).content.decode()
    assert "[invalid name]" not in html
    for label in ("Tier", "Day", "Session", "Area", "Keyword", "My triage", "Stars", "Sort"):
        assert f">{label}:</label>" in html


def test_search_matches_words_not_the_inside_of_words(member_client, lab, conference):
    PaperFactory(conference=conference, title="Generative Adversarial Networks for Tables", keywords=["GAN"])
    PaperFactory(conference=conference, title="Organic Chemistry with Transformers", abstract="Organisms.")
    assert titles(member_client, lab, conference, q="gan") == ["Generative Adversarial Networks for Tables"]
    # The start of a word is enough while typing.
    assert titles(member_client, lab, conference, q="organi") == ["Organic Chemistry with Transformers"]


def test_search_finds_a_latex_title_as_it_is_shown_and_ignores_the_markup(member_client, lab, conference, programme):
    coder = r"$\mathcal{B}$-Coder: Value-Based Deep RL for Program Synthesis"
    assert titles(member_client, lab, conference, q="B-Coder") == [coder]
    assert titles(member_client, lab, conference, q="mathcal") == []


def test_search_ignores_accents(member_client, lab, conference, programme):
    assert titles(member_client, lab, conference, q="timothee darcet") == ["Vision Transformers Need Registers"]


def test_schedule_sort_uses_an_orals_own_slot(member_client, lab, conference):
    oral_session = SessionFactory(
        conference=conference,
        title="Oral 1A",
        kind="oral",
        starts_at=dt.datetime(2024, 5, 7, 8, 0, tzinfo=UTC),
        ends_at=dt.datetime(2024, 5, 7, 9, 0, tzinfo=UTC),
    )
    late, early = (
        PaperFactory(conference=conference, title="A late talk"),
        PaperFactory(conference=conference, title="B early talk"),
    )
    PresentationFactory(paper=late, session=oral_session, starts_at=dt.datetime(2024, 5, 7, 8, 45, tzinfo=UTC))
    PresentationFactory(paper=early, session=oral_session, starts_at=dt.datetime(2024, 5, 7, 8, 0, tzinfo=UTC))
    assert titles(member_client, lab, conference, sort="schedule") == ["B early talk", "A late talk"]
