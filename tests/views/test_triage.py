import datetime as dt

import pytest
from django.urls import reverse

from papers.models import ReadingStatus
from papers.views.triage import UNDO_DEPTH
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
HTMX = {"HX-Request": "true"}


def inbox(lab, conference, query=""):
    url = reverse("triage", args=[lab.slug, conference.slug])
    return f"{url}?{query}" if query else url


def decide(lab, conference, query=""):
    url = reverse("triage_decide", args=[lab.slug, conference.slug])
    return f"{url}?{query}" if query else url


def undo(lab, conference, query=""):
    url = reverse("triage_undo", args=[lab.slug, conference.slug])
    return f"{url}?{query}" if query else url


def papers(conference, *titles, **fields):
    return [PaperFactory(conference=conference, title=title, forum_id=f"f-{title}", **fields) for title in titles]


def status_rows(user):
    return sorted(
        (s.paper.title, s.state, s.starred) for s in ReadingStatus.objects.filter(user=user).select_related("paper")
    )


# --- The queue ---------------------------------------------------------------------------------------


def test_queue_defaults_to_my_unseen_papers(member_client, member, owner, lab, conference):
    a, b, c, _ = papers(conference, "A", "B", "C", "D")
    ReadingStatusFactory(user=member, paper=a, state="shortlisted")
    ReadingStatusFactory(user=member, paper=c, state="", starred=True)  # starred but not triaged: still unseen
    ReadingStatusFactory(user=owner, paper=b, state="skipped")  # a lab mate's triage is not mine

    response = member_client.get(inbox(lab, conference))

    html = response.content.decode()
    assert response.context["paper"] == b
    assert '<h2 class="inbox-paper__title" id="inbox-title" tabindex="-1">B</h2>' in html
    assert '<strong class="inbox-filters">Unseen papers</strong>' in html
    assert '<span class="inbox-nav__position">Paper 1 of 3</span>' in html
    assert f'href="{inbox(lab, conference, "at=f-C")}"' in html  # j: the next unseen paper
    assert 'data-key="j"' in html and 'rel="prev"' not in html


def test_a_state_in_the_url_replaces_the_default_and_an_empty_one_means_any(member_client, member, lab, conference):
    a, b, _ = papers(conference, "A", "B", "C")
    ReadingStatusFactory(user=member, paper=b, state="shortlisted")

    shortlisted = member_client.get(inbox(lab, conference, "state=shortlisted"))
    everything = member_client.get(inbox(lab, conference, "state="))

    assert shortlisted.context["paper"] == b and shortlisted.context["queue_size"] == 1
    assert '<strong class="inbox-filters">Shortlisted papers</strong>' in shortlisted.content.decode()
    assert everything.context["paper"] == a and everything.context["queue_size"] == 3
    assert '<strong class="inbox-filters">All papers</strong>' in everything.content.decode()


def test_filters_narrow_the_queue_and_are_described(member_client, lab, conference):
    tuesday = SessionFactory(
        conference=conference, title="Poster Session 3", starts_at=dt.datetime(2024, 5, 7, 8, 0, tzinfo=UTC)
    )
    wednesday = SessionFactory(
        conference=conference, title="Poster Session 5", starts_at=dt.datetime(2024, 5, 8, 8, 0, tzinfo=UTC)
    )
    spot_tue, spot_wed, poster_tue = (
        PaperFactory(conference=conference, title="Spotlight on Tuesday", tier="spotlight"),
        PaperFactory(conference=conference, title="Another spotlight, Wednesday", tier="spotlight"),
        PaperFactory(conference=conference, title="A poster on Tuesday", tier="poster"),
    )
    PresentationFactory(paper=spot_tue, session=tuesday)
    PresentationFactory(paper=spot_wed, session=wednesday)
    PresentationFactory(paper=poster_tue, session=tuesday)

    spotlights = member_client.get(inbox(lab, conference, "tier=spotlight"))
    on_tuesday = member_client.get(inbox(lab, conference, "tier=spotlight&day=2024-05-07"))

    assert spotlights.context["queue_size"] == 2
    assert spotlights.context["paper"] == spot_wed  # title order, as on the list
    html = on_tuesday.content.decode()
    assert on_tuesday.context["queue_size"] == 1 and on_tuesday.context["paper"] == spot_tue
    assert '<strong class="inbox-filters">Unseen spotlights on Tue 7 May</strong>' in html
    list_url = reverse("paper_list", args=[lab.slug, conference.slug])
    assert f'<a href="{list_url}?tier=spotlight&amp;day=2024-05-07&amp;state=unseen">See them as a list</a>' in html


def test_other_filters_and_a_sort_are_described_in_words(member_client, member, lab, conference):
    paper = PaperFactory(conference=conference, title="Diffusion models", keywords=["diffusion"], tier="oral")
    ReadingStatusFactory(user=member, paper=paper, state="read", starred=True)

    query = "tier=oral&keyword=diffusion&q=models&starred=me&state=read&sort=schedule"
    html = member_client.get(inbox(lab, conference, query)).content.decode()

    assert (
        '<strong class="inbox-filters">Orals with the keyword “diffusion” matching “models” starred by me '
        "I have read, sorted by schedule time</strong>"
    ) in html


@pytest.mark.parametrize("sort", ["relevance", "stars", "schedule", "title"])
def test_search_and_every_sort_give_a_queue_and_a_progress(member_client, member, owner, lab, conference, sort):
    attention, transformers, other = (
        PaperFactory(conference=conference, title="Attention is all you need", abstract="Transformers."),
        PaperFactory(conference=conference, title="Transformers without attention", abstract="Attention-free."),
        PaperFactory(conference=conference, title="Graph networks", abstract="Message passing."),
    )
    ReadingStatusFactory(user=owner, paper=transformers, starred=True)
    ReadingStatusFactory(user=member, paper=attention, state="skipped")

    response = member_client.get(inbox(lab, conference, f"q=attention&sort={sort}"))

    assert response.context["paper"] == transformers
    assert response.context["queue_size"] == 1
    assert '<p class="inbox-progress__text" id="inbox-progress-text">1 of 2 triaged</p>' in response.content.decode()
    assert other.title not in response.content.decode()


def test_filter_values_that_do_not_validate_are_ignored_as_on_the_list(member_client, lab, conference):
    papers(conference, "A", "B")
    response = member_client.get(inbox(lab, conference, "tier=huge&day=someday&session=999&state=bogus"))
    assert response.context["queue_size"] == 2
    assert '<strong class="inbox-filters">All papers</strong>' in response.content.decode()


def test_at_picks_the_card_when_it_is_in_the_queue(member_client, member, lab, conference):
    a, b, c = papers(conference, "A", "B", "C")
    ReadingStatusFactory(user=member, paper=c, state="read")

    at_b = member_client.get(inbox(lab, conference, "at=f-B"))
    at_read_paper = member_client.get(inbox(lab, conference, "at=f-C"))
    at_unknown = member_client.get(inbox(lab, conference, "at=nope"))

    assert at_b.context["paper"] == b
    html = at_b.content.decode()
    assert '<span class="inbox-nav__position">Paper 2 of 2</span>' in html
    assert f'href="{inbox(lab, conference, "at=f-A")}"' in html and 'data-key="k"' in html
    assert 'data-key="j"' not in html  # the last paper: no next
    assert at_read_paper.context["paper"] == a  # not in the unseen queue: the first one instead
    assert at_unknown.context["paper"] == a


def test_progress_counts_my_triaged_papers_of_the_filtered_set_whatever_the_state(
    member_client, member, owner, lab, conference
):
    spotlights = [PaperFactory(conference=conference, tier="spotlight") for _ in range(5)]
    poster = PaperFactory(conference=conference, tier="poster")
    ReadingStatusFactory(user=member, paper=spotlights[0], state="skipped")
    ReadingStatusFactory(user=member, paper=spotlights[1], state="read")
    ReadingStatusFactory(user=member, paper=spotlights[2], state="", starred=True)  # a star is not a triage
    ReadingStatusFactory(user=member, paper=poster, state="shortlisted")  # not in the filtered set
    ReadingStatusFactory(user=owner, paper=spotlights[3], state="read")  # not mine

    html = member_client.get(inbox(lab, conference, "tier=spotlight")).content.decode()

    assert '<p class="inbox-progress__text" id="inbox-progress-text">2 of 5 triaged</p>' in html
    assert '<progress class="inbox-progress__bar" value="2" max="5"' in html
    assert '<span class="inbox-nav__position">Paper 1 of 3</span>' in html


def test_progress_numbers_have_thousands_separators(member_client, member, lab, conference):
    PaperFactory.create_batch(1001, conference=conference)
    html = member_client.get(inbox(lab, conference)).content.decode()
    assert '<p class="inbox-progress__text" id="inbox-progress-text">0 of 1,001 triaged</p>' in html


def test_card_shows_the_paper_sessions_in_conference_time_and_my_signals(member_client, member, lab, conference, paper):
    paper.tldr = "Add register tokens."
    paper.keywords = ["vision transformers", "attention maps"]
    paper.save()
    session = SessionFactory(
        conference=conference,
        title="Poster Session 3",
        room="Halle B",
        starts_at=dt.datetime(2024, 5, 7, 8, 45, tzinfo=UTC),
        ends_at=dt.datetime(2024, 5, 7, 10, 45, tzinfo=UTC),
    )
    PresentationFactory(paper=paper, session=session, poster_position="#2504")
    ReadingStatusFactory(user=member, paper=paper, state="", starred=True)
    NoteFactory(paper=paper, author=member, lab=lab, kind="summary", body="Registers soak up attention artefacts.")

    html = member_client.get(inbox(lab, conference)).content.decode()

    assert "Timothée Darcet, Maxime Oquab, Julien Mairal, Piotr Bojanowski" in html
    assert '<span class="badge badge--oral">Oral</span>' in html
    # Vienna is UTC+2 in May.
    assert "<li><strong>Tue 7 May, 10:45–12:45</strong>" in html
    assert "<span>Poster Session 3</span><span>Halle B</span><span>poster #2504</span>" in html
    assert "Transformers have recently emerged as a powerful tool for learning visual representations." in html
    assert '<p class="inbox-paper__tldr"><strong>TL;DR</strong> Add register tokens.</p>' in html
    assert '<span class="chip">vision transformers</span><span class="chip">attention maps</span>' in html
    mine = (
        '<strong class="inbox-mine__state">Not triaged</strong> · <strong class="inbox-mine__star">★ starred</strong>'
    )
    assert f"<span>Me: {mine}</span>" in html
    assert '<span class="inbox-mine__lab">Lab: ' in html and "1 note</span>" in html
    assert 'value="Registers soak up attention artefacts."' in html
    assert 'name="action" value="unstar"' in html and 'name="action" value="star"' not in html
    assert (
        'href="https://openreview.net/pdf?id=2dnO3LLiJ1" target="_blank" rel="noopener noreferrer" data-key="o"' in html
    )


def test_title_latex_is_shown_as_text_and_everything_is_escaped(member_client, lab, conference, paper):
    paper.title = "$\\mathcal{B}$-Coder <script>"
    paper.abstract = '"><img src=x onerror=alert(1)>'
    paper.save()
    html = member_client.get(inbox(lab, conference)).content.decode()
    assert ">ℬ-Coder &lt;script&gt;</h2>" in html
    assert "<img src=x" not in html and "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html


def test_one_liner_form_posts_a_lab_summary_and_comes_back_here(member_client, lab, conference, paper):
    html = member_client.get(inbox(lab, conference, "tier=oral")).content.decode()
    note_add = reverse("note_add", args=[lab.slug, conference.slug, paper.forum_id])
    assert f'<form class="inbox-summary" method="post" action="{note_add}">' in html
    assert '<input type="hidden" name="kind" value="summary">' in html
    assert '<input type="hidden" name="visibility" value="lab">' in html
    assert f'<input type="hidden" name="next" value="{inbox(lab, conference, "tier=oral&amp;at=2dnO3LLiJ1")}">' in html
    assert 'name="body" type="text" value=""' in html and 'maxlength="300"' in html
    assert 'data-key="n" aria-keyshortcuts="n"' in html


def test_every_key_has_its_button_or_link(member_client, lab, conference):
    papers(conference, "A", "B", "C")
    html = member_client.get(inbox(lab, conference, "at=f-B")).content.decode()
    for key in ["x ArrowLeft", "l ArrowRight", "r", "s", "u", "j", "k", "n", "?"]:
        assert f'data-key="{key}" aria-keyshortcuts="{key}"' in html
    assert "<script" not in html.split("</head>")[1]  # no inline scripts: keys live in static/js/triage.js
    assert 'src="/static/js/triage.js"' in html


def test_all_done_when_nothing_is_left_to_triage(member_client, member, lab, conference):
    a, b = papers(conference, "A", "B", tier="spotlight")
    ReadingStatusFactory(user=member, paper=a, state="skipped")
    ReadingStatusFactory(user=member, paper=b, state="read")

    response = member_client.get(inbox(lab, conference, "tier=spotlight"))

    html = response.content.decode()
    assert response.context["paper"] is None
    assert "<h2>All done</h2>" in html
    assert "<p>You have triaged all 2 spotlights.</p>" in html
    assert '<p class="inbox-progress__text" id="inbox-progress-text">2 of 2 triaged</p>' in html
    assert (
        f'<a class="button" href="{inbox(lab, conference, "tier=spotlight&amp;state=")}">Go through all 2 again</a>'
        in html
    )
    list_url = reverse("paper_list", args=[lab.slug, conference.slug])
    assert f'href="{list_url}?tier=spotlight">See them on the list</a>' in html
    assert 'data-key="u"' in html  # the last decision can still be undone


def test_no_papers_match_the_filters(member_client, lab, conference):
    papers(conference, "A", tier="poster")
    html = member_client.get(inbox(lab, conference, "tier=oral")).content.decode()
    assert "<h2>No papers match these filters</h2>" in html
    assert "<p>There are no orals in ICLR 2024.</p>" in html


def test_empty_state_for_another_state(member_client, lab, conference):
    papers(conference, "A", "B")
    html = member_client.get(inbox(lab, conference, "state=read")).content.decode()
    assert "<h2>No papers here</h2>" in html
    assert "<p>None of these 2 papers is marked read.</p>" in html
    assert f'<a class="button" href="{inbox(lab, conference, "state=")}">Drop the state filter</a>' in html


def test_htmx_get_returns_only_the_card(member_client, lab, conference):
    papers(conference, "A", "B")
    response = member_client.get(inbox(lab, conference, "at=f-B"), headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="inbox-body" id="inbox-card">')
    assert "<html" not in html and "<h1" not in html
    assert '<h2 class="inbox-paper__title" id="inbox-title" tabindex="-1">B</h2>' in html
    assert "HX-Request" in response["Vary"]


def test_htmx_history_restore_gets_the_whole_page(member_client, lab, conference):
    papers(conference, "A")
    headers = {**HTMX, "HX-History-Restore-Request": "true"}
    html = member_client.get(inbox(lab, conference), headers=headers).content.decode()
    assert '<h1 class="inbox-head__title">Triage inbox</h1>' in html


# --- Decisions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "state"), [("shortlist", "shortlisted"), ("skip", "skipped"), ("read", "read"), ("reading", "reading")]
)
def test_a_decision_sets_my_state_and_moves_to_the_next_paper(member_client, member, lab, conference, action, state):
    papers(conference, "A", "B", "C")

    response = member_client.post(decide(lab, conference), {"paper": "f-A", "action": action})

    assert response.status_code == 303
    assert response["Location"] == inbox(lab, conference, "at=f-B")
    assert status_rows(member) == [("A", state, False)]
    html = member_client.get(response["Location"]).content.decode()
    assert '<h2 class="inbox-paper__title" id="inbox-title" tabindex="-1">B</h2>' in html
    assert '<p class="inbox-progress__text" id="inbox-progress-text">1 of 3 triaged</p>' in html


def test_the_next_paper_is_the_next_in_the_queue_order_before_the_decision(member_client, member, lab, conference):
    papers(conference, "A", "B", "C", "D")

    # B is decided from the card reached with j: the next is C, not the first unseen paper (A).
    response = member_client.post(decide(lab, conference), {"paper": "f-B", "action": "skip"})

    assert response["Location"] == inbox(lab, conference, "at=f-C")


def test_the_filters_are_kept_across_a_decision(member_client, member, lab, conference):
    papers(conference, "A", "B", tier="spotlight")
    papers(conference, "AA", tier="poster")

    response = member_client.post(decide(lab, conference, "tier=spotlight"), {"paper": "f-A", "action": "shortlist"})

    assert response["Location"] == inbox(lab, conference, "tier=spotlight&at=f-B")


def test_deciding_the_last_paper_shows_the_first_left_or_all_done(member_client, member, lab, conference):
    papers(conference, "A", "B")

    after_b = member_client.post(decide(lab, conference), {"paper": "f-B", "action": "skip"}, follow=True)
    assert after_b.context["paper"].title == "A"
    after_a = member_client.post(decide(lab, conference), {"paper": "f-A", "action": "skip"}, follow=True)
    assert after_a.context["paper"] is None
    assert "<h2>All done</h2>" in after_a.content.decode()


def test_a_decision_shows_what_was_done_once(member_client, lab, conference, paper):
    papers(conference, "Zebra")

    first = member_client.post(decide(lab, conference), {"paper": paper.forum_id, "action": "shortlist"}, follow=True)
    again = member_client.get(inbox(lab, conference))

    notice = '<p class="inbox-notice" role="status">Shortlisted: “Vision Transformers Need Registers”.</p>'
    assert notice in first.content.decode()
    assert "inbox-notice" not in again.content.decode()


def test_star_keeps_the_card_and_does_not_triage(member_client, member, lab, conference):
    papers(conference, "A", "B")

    response = member_client.post(decide(lab, conference), {"paper": "f-A", "action": "star"}, follow=True)

    assert response.redirect_chain == [(inbox(lab, conference, "at=f-A"), 303)]
    assert status_rows(member) == [("A", "", True)]
    html = response.content.decode()
    assert '<h2 class="inbox-paper__title" id="inbox-title" tabindex="-1">A</h2>' in html
    assert 'name="action" value="unstar"' in html and "Starred <kbd>S</kbd>" in html
    assert '<p class="inbox-progress__text" id="inbox-progress-text">0 of 2 triaged</p>' in html


def test_unstar_keeps_the_state(member_client, member, lab, conference):
    (a,) = papers(conference, "A")
    ReadingStatusFactory(user=member, paper=a, state="", starred=True)
    member_client.post(decide(lab, conference), {"paper": "f-A", "action": "unstar"})
    assert status_rows(member) == [("A", "", False)]


def test_double_submit_is_harmless(member_client, member, lab, conference):
    papers(conference, "A", "B", "C")

    first = member_client.post(decide(lab, conference), {"paper": "f-A", "action": "shortlist"})
    second = member_client.post(decide(lab, conference), {"paper": "f-A", "action": "shortlist"})

    assert ReadingStatus.objects.filter(user=member).count() == 1
    assert status_rows(member) == [("A", "shortlisted", False)]
    assert first["Location"] == second["Location"] == inbox(lab, conference, "at=f-B")
    # The repeat changed nothing, so one undo takes the decision back.
    member_client.post(undo(lab, conference), {"paper": "f-B"})
    assert status_rows(member) == []


def test_htmx_decision_returns_the_next_card_and_pushes_its_url(member_client, member, lab, conference):
    papers(conference, "A", "B", tier="spotlight")

    response = member_client.post(
        decide(lab, conference, "tier=spotlight"), {"paper": "f-A", "action": "skip"}, headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div class="inbox-body" id="inbox-card">')
    assert "<html" not in html
    assert '<h2 class="inbox-paper__title" id="inbox-title" tabindex="-1">B</h2>' in html
    assert '<p class="inbox-notice" role="status">Skipped: “A”.</p>' in html
    assert '<p class="inbox-progress__text" id="inbox-progress-text">1 of 2 triaged</p>' in html
    assert response["HX-Push-Url"] == inbox(lab, conference, "tier=spotlight&at=f-B")
    assert f'hx-post="{decide(lab, conference, "tier=spotlight")}"' in html
    assert status_rows(member) == [("A", "skipped", False)]


def test_unknown_action_is_a_bad_request(member_client, member, lab, conference, paper):
    response = member_client.post(decide(lab, conference), {"paper": paper.forum_id, "action": "delete"})
    assert response.status_code == 400
    assert response.content.decode() == "action must be one of: skip, shortlist, reading, read, star, unstar."
    assert status_rows(member) == []


def test_paper_of_another_conference_is_404(member_client, member, lab, conference):
    other = PaperFactory(forum_id="elsewhere")
    response = member_client.post(decide(lab, conference), {"paper": other.forum_id, "action": "shortlist"})
    assert response.status_code == 404
    assert ReadingStatus.objects.count() == 0


# --- Undo --------------------------------------------------------------------------------------------


def test_undo_deletes_a_row_that_did_not_exist(member_client, member, lab, conference):
    papers(conference, "A", "B")
    member_client.post(decide(lab, conference), {"paper": "f-A", "action": "shortlist"})

    response = member_client.post(undo(lab, conference), {"paper": "f-B"}, follow=True)

    assert status_rows(member) == []
    assert response.redirect_chain == [(inbox(lab, conference, "at=f-A"), 303)]
    html = response.content.decode()
    assert '<h2 class="inbox-paper__title" id="inbox-title" tabindex="-1">A</h2>' in html
    assert '<p class="inbox-notice" role="status">Undone: “A” is back as it was.</p>' in html


def test_undo_restores_the_state_and_star_before_the_decision(member_client, member, lab, conference):
    (a,) = papers(conference, "A")
    ReadingStatusFactory(user=member, paper=a, state="skipped", starred=True)

    member_client.post(decide(lab, conference, "state="), {"paper": "f-A", "action": "read"})
    member_client.post(decide(lab, conference, "state="), {"paper": "f-A", "action": "unstar"})
    assert status_rows(member) == [("A", "read", False)]

    member_client.post(undo(lab, conference, "state="), {"paper": "f-A"})
    assert status_rows(member) == [("A", "read", True)]
    member_client.post(undo(lab, conference, "state="), {"paper": "f-A"})
    assert status_rows(member) == [("A", "skipped", True)]


def test_undo_walks_back_through_several_papers(member_client, member, lab, conference):
    papers(conference, "A", "B", "C")
    member_client.post(decide(lab, conference), {"paper": "f-A", "action": "shortlist"})
    member_client.post(decide(lab, conference), {"paper": "f-B", "action": "star"})
    member_client.post(decide(lab, conference), {"paper": "f-B", "action": "skip"})

    first = member_client.post(undo(lab, conference), {"paper": "f-C"})
    assert first["Location"] == inbox(lab, conference, "at=f-B")
    assert status_rows(member) == [("A", "shortlisted", False), ("B", "", True)]
    member_client.post(undo(lab, conference), {"paper": "f-B"})
    assert status_rows(member) == [("A", "shortlisted", False)]
    member_client.post(undo(lab, conference), {"paper": "f-B"})
    assert status_rows(member) == []


def test_undo_with_nothing_to_undo_says_so_on_the_card(member_client, member, lab, conference):
    papers(conference, "A", "B")

    response = member_client.post(undo(lab, conference), {"paper": "f-B"}, follow=True)
    htmx = member_client.post(undo(lab, conference), {"paper": "f-B"}, headers=HTMX)

    assert response.redirect_chain == [(inbox(lab, conference, "at=f-B"), 303)]
    assert '<p class="inbox-notice" role="status">Nothing to undo.</p>' in response.content.decode()
    assert '<h2 class="inbox-paper__title" id="inbox-title" tabindex="-1">B</h2>' in response.content.decode()
    assert htmx.status_code == 200
    assert '<p class="inbox-notice" role="status">Nothing to undo.</p>' in htmx.content.decode()
    assert status_rows(member) == []


def test_undo_stack_keeps_the_last_50_and_is_per_lab_and_conference(member_client, member, lab, conference):
    many = [PaperFactory(conference=conference) for _ in range(UNDO_DEPTH + 5)]
    for paper in many:
        member_client.post(decide(lab, conference), {"paper": paper.forum_id, "action": "skip"})
    other_lab = MembershipFactory(user=member).lab
    empty = member_client.post(undo(other_lab, conference), {"paper": many[0].forum_id}, follow=True)
    assert "Nothing to undo." in empty.content.decode()

    for _ in range(UNDO_DEPTH + 1):
        member_client.post(undo(lab, conference), {"paper": many[0].forum_id})

    assert UNDO_DEPTH == 50
    assert ReadingStatus.objects.filter(user=member).count() == 5
    assert set(ReadingStatus.objects.filter(user=member).values_list("paper", flat=True)) == {p.pk for p in many[:5]}


def test_htmx_undo_returns_the_card_of_the_paper_it_restored(member_client, member, lab, conference):
    papers(conference, "A", "B")
    member_client.post(decide(lab, conference), {"paper": "f-A", "action": "read"}, headers=HTMX)

    response = member_client.post(undo(lab, conference), {"paper": "f-B"}, headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert '<h2 class="inbox-paper__title" id="inbox-title" tabindex="-1">A</h2>' in html
    assert response["HX-Push-Url"] == inbox(lab, conference, "at=f-A")
    assert status_rows(member) == []


# --- Access ------------------------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login(client, lab, conference, paper):
    for url, method in [
        (inbox(lab, conference), client.get),
        (decide(lab, conference), client.post),
        (undo(lab, conference), client.post),
    ]:
        response = method(url, {"paper": paper.forum_id, "action": "shortlist"} if method == client.post else {})
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={url}"
    assert ReadingStatus.objects.count() == 0


def test_outsider_gets_404_everywhere(outsider_client, outsider, lab, conference, paper):
    assert outsider_client.get(inbox(lab, conference)).status_code == 404
    assert (
        outsider_client.post(decide(lab, conference), {"paper": paper.forum_id, "action": "shortlist"}).status_code
        == 404
    )
    assert outsider_client.post(undo(lab, conference), {"paper": paper.forum_id}).status_code == 404
    assert ReadingStatus.objects.count() == 0


def test_decide_and_undo_refuse_get(member_client, lab, conference):
    assert member_client.get(decide(lab, conference)).status_code == 405
    assert member_client.get(undo(lab, conference)).status_code == 405


def test_unknown_conference_is_404(member_client, lab):
    assert member_client.get(reverse("triage", args=[lab.slug, "no-such-conf"])).status_code == 404


# --- Queries -----------------------------------------------------------------------------------------


def _busy_conference(conference, lab, member, *, papers_count, members_count):
    session = SessionFactory(conference=conference, starts_at=dt.datetime(2024, 5, 7, 8, 0, tzinfo=UTC))
    for number in range(papers_count):
        paper = PaperFactory(conference=conference, title=f"Paper {number:03d}")
        PresentationFactory(paper=paper, session=session)
    first = conference.papers.order_by("title").first()
    for _ in range(members_count):
        mate = UserFactory()
        MembershipFactory(lab=lab, user=mate)
        ReadingStatusFactory(user=mate, paper=first, state="read", starred=True)
        NoteFactory(paper=first, author=mate, lab=lab)


# session, user, membership+lab, conference, the filter's days and areas, the queue's ids, the progress,
# the paper, its presentations+sessions, the lab's statuses+users, the notes I see
INBOX_QUERIES = 12


@pytest.mark.parametrize("papers_count", [1, 50])
def test_query_count_does_not_grow_with_papers(
    member_client, member, lab, conference, django_assert_num_queries, papers_count
):
    _busy_conference(conference, lab, member, papers_count=papers_count, members_count=1)
    with django_assert_num_queries(INBOX_QUERIES):
        response = member_client.get(inbox(lab, conference))
    assert response.context["queue_size"] == papers_count


@pytest.mark.parametrize("members_count", [1, 10])
def test_query_count_does_not_grow_with_lab_members(
    member_client, member, lab, conference, django_assert_num_queries, members_count
):
    _busy_conference(conference, lab, member, papers_count=3, members_count=members_count)
    with django_assert_num_queries(INBOX_QUERIES):
        response = member_client.get(inbox(lab, conference))
    assert len(response.context["paper"].signals.read_by) == members_count


@pytest.mark.parametrize("papers_count", [1, 50])
def test_htmx_card_query_count_does_not_grow(
    member_client, member, lab, conference, django_assert_num_queries, papers_count
):
    _busy_conference(conference, lab, member, papers_count=papers_count, members_count=3)
    with django_assert_num_queries(INBOX_QUERIES):
        member_client.get(inbox(lab, conference, "at=forum00001"), headers=HTMX)
