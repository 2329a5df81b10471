import datetime as dt
import html as htmllib
import re

import pytest
from django.urls import reverse

from papers import services
from papers.forms import TRIAGE_ACTIONS
from papers.models import Assignment, Note, ReadingStatus
from papers.views.triage import UNDO_DEPTH
from tests.factories import (
    LabFactory,
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


def undo_stack(client, lab, conference):
    return client.session.get(f"triage-undo-{lab.pk}-{conference.pk}", [])


def undo_fields(client, lab, conference, paper=""):
    """What the undo button on a freshly drawn card posts: the last change and the stack's depth."""
    stack = undo_stack(client, lab, conference)
    return {"undo": stack[-1]["forum_id"] if stack else "", "depth": len(stack), "paper": paper}


def summary_form(page: str) -> tuple[str, dict]:
    """The card's one-liner form as a browser would post it unchanged: its action and its fields."""
    form = re.search(r'<form class="inbox-summary".*?</form>', page, re.S).group(0)
    action = htmllib.unescape(re.search(r' action="([^"]*)"', form).group(1))
    fields = {
        name: htmllib.unescape(value) for name, value in re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form)
    }
    fields["body"] = htmllib.unescape(re.search(r'name="body" type="text" value="([^"]*)"', form).group(1))
    return action, fields


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
    assert '<strong class="inbox-filters">Unseen papers · Tier: Spotlight · Day: Tue 7 May</strong>' in html
    list_url = reverse("paper_list", args=[lab.slug, conference.slug])
    assert f'<a href="{list_url}?tier=spotlight&amp;day=2024-05-07&amp;state=unseen">See them as a list</a>' in html


def test_other_filters_and_a_sort_are_described_as_the_lists_chips_name_them(member_client, member, lab, conference):
    paper = PaperFactory(conference=conference, title="Diffusion models", keywords=["diffusion"], tier="oral")
    ReadingStatusFactory(user=member, paper=paper, state="read", starred=True)
    NoteFactory(paper=paper, author=member, lab=lab)

    query = "tier=oral&keyword=diffusion&q=models&starred=me&notes=on&state=read&sort=schedule"
    response = member_client.get(inbox(lab, conference, query))

    assert response.context["paper"] == paper
    assert (
        '<strong class="inbox-filters">Papers I have read · Search: models · Tier: Oral · Keyword: diffusion · '
        "Stars: Starred by me · Has notes: yes · Sort: Schedule time</strong>"
    ) in response.content.decode()


def test_the_inbox_describes_the_filters_with_the_same_words_as_the_lists_chips(member_client, lab, conference):
    session = SessionFactory(conference=conference, title="Poster Session 3")
    paper = PaperFactory(conference=conference, primary_area="generative models")
    PresentationFactory(paper=paper, session=session)
    query = f"area=generative+models&session={session.pk}&unseen_by_lab=on&state="

    inbox_html = member_client.get(inbox(lab, conference, query)).content.decode()
    list_page = member_client.get(f"{reverse('paper_list', args=[lab.slug, conference.slug])}?{query}")

    chips = " · ".join(f"{label}: {shown}" for label, shown, _ in list_page.context["active_filters"])
    assert chips == "Session: Poster Session 3 · Area: generative models · Not seen by anyone in the lab: yes"
    assert f'<strong class="inbox-filters">All papers · {chips}</strong>' in inbox_html


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


def test_at_picks_the_card_when_it_is_in_the_filtered_papers(member_client, member, lab, conference):
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
    assert at_read_paper.context["paper"] == c  # asked for by name: shown though no longer unseen
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
    assert 'name="body" type="text" value="Registers soak up attention artefacts."' in html
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


# --- My one-liner ------------------------------------------------------------------------------------


def test_without_a_one_liner_the_box_adds_one_the_lab_sees_and_comes_back_here(member_client, lab, conference, paper):
    html = member_client.get(inbox(lab, conference, "tier=oral")).content.decode()
    note_add = reverse("note_add", args=[lab.slug, conference.slug, paper.forum_id])
    here = inbox(lab, conference, "tier=oral&amp;at=2dnO3LLiJ1")
    assert (
        f'<form class="inbox-summary" method="post" action="{note_add}"\n          hx-post="{note_add}" hx-swap="none"'
        in html
    )
    assert f'data-inbox-summary data-card-url="{here}">' in html
    assert '<input type="hidden" name="kind" value="summary">' in html
    assert '<input type="hidden" name="visibility" value="lab">' in html
    assert f'<input type="hidden" name="next" value="{here}">' in html
    assert 'name="version"' not in html
    assert 'My one-liner <span class="muted">(the lab sees it)</span> <kbd>N</kbd></label>' in html
    assert 'name="body" type="text" value=""' in html and 'maxlength="300"' in html
    assert 'data-key="n" aria-keyshortcuts="n"' in html


def test_a_new_one_liner_from_the_inbox_is_shared_with_the_lab_and_comes_back_here(
    member_client, member, lab, conference, paper
):
    action, fields = summary_form(member_client.get(inbox(lab, conference, "tier=oral")).content.decode())

    response = member_client.post(action, {**fields, "body": "Registers fix attention maps."})

    assert response.status_code == 302
    assert response["Location"] == inbox(lab, conference, "tier=oral&at=2dnO3LLiJ1")
    note = Note.objects.get(author=member, paper=paper)
    assert (note.kind, note.body, note.lab) == ("summary", "Registers fix attention maps.", lab)


@pytest.mark.parametrize(
    ("where", "visibility", "audience"),
    [
        ("private", "private", "private"),
        ("this lab", "lab", "shared with Vision Lab"),
        ("other lab", "keep", "shared with Robotics Lab"),
    ],
)
def test_with_a_one_liner_the_box_edits_it_and_says_who_sees_it(
    member_client, member, lab, conference, paper, where, visibility, audience
):
    other = LabFactory(name="Robotics Lab")
    MembershipFactory(lab=other, user=member)
    note_lab = {"private": None, "this lab": lab, "other lab": other}[where]
    note = NoteFactory(paper=paper, author=member, lab=note_lab, kind="summary", body="Registers & <tokens>.")
    Note.objects.filter(pk=note.pk).update(version=3)

    html = member_client.get(inbox(lab, conference)).content.decode()

    note_edit = reverse("note_edit", args=[lab.slug, conference.slug, paper.forum_id, note.pk])
    assert f'<form class="inbox-summary" method="post" action="{note_edit}"\n' in html
    assert f'hx-post="{note_edit}" hx-swap="none"' in html
    assert '<input type="hidden" name="version" value="3">' in html
    assert f'<input type="hidden" name="visibility" value="{visibility}">' in html
    assert 'name="kind"' not in html.split('<form class="inbox-summary"')[1]
    assert f'My one-liner <span class="muted">({audience})</span> <kbd>N</kbd></label>' in html
    assert 'name="body" type="text" value="Registers &amp; &lt;tokens&gt;."' in html


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_private_one_liner_saved_unchanged_from_the_inbox_stays_private(
    member_client, member, lab, conference, paper, htmx
):
    note = NoteFactory(paper=paper, author=member, lab=None, kind="summary", body="Only for me.")
    action, fields = summary_form(member_client.get(inbox(lab, conference)).content.decode())

    response = member_client.post(action, fields, headers=HTMX if htmx else {})

    # Without JavaScript note_edit sends me on to the paper page (it does not follow `next`).
    assert response.status_code == (200 if htmx else 302)
    note.refresh_from_db()
    assert (note.lab, note.body, note.version) == (None, "Only for me.", 2)
    card = member_client.get(inbox(lab, conference), headers=HTMX).content.decode()
    assert 'My one-liner <span class="muted">(private)</span>' in card


def test_a_one_liner_shared_with_another_lab_saved_from_the_inbox_stays_there(
    member_client, member, lab, conference, paper
):
    other = LabFactory(name="Robotics Lab")
    MembershipFactory(lab=other, user=member)
    note = NoteFactory(paper=paper, author=member, lab=other, kind="summary", body="For the robots.")
    action, fields = summary_form(member_client.get(inbox(lab, conference)).content.decode())

    response = member_client.post(action, {**fields, "body": "For the robots, edited."}, headers=HTMX)

    assert response.status_code == 200
    note.refresh_from_db()
    assert (note.lab, note.body) == (other, "For the robots, edited.")
    assert Note.objects.filter(author=member).count() == 1
    card = member_client.get(inbox(lab, conference), headers=HTMX).content.decode()
    assert 'My one-liner <span class="muted">(shared with Robotics Lab)</span>' in card
    assert 'name="body" type="text" value="For the robots, edited."' in card
    assert '<input type="hidden" name="version" value="2">' in card


def test_a_one_liner_shared_with_this_lab_saved_from_the_inbox_stays_shared(
    member_client, member, lab, conference, paper
):
    note = NoteFactory(paper=paper, author=member, lab=lab, kind="summary", body="For the lab.")
    action, fields = summary_form(member_client.get(inbox(lab, conference)).content.decode())

    member_client.post(action, {**fields, "body": "For the lab, edited."})

    note.refresh_from_db()
    assert (note.lab, note.body) == (lab, "For the lab, edited.")


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
    assert "<p>You have triaged all 2 papers that match Tier: Spotlight.</p>" in html
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
    assert "<p>No paper in ICLR 2024 matches Tier: Oral.</p>" in html


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


def test_star_keeps_the_card_and_shortlists_an_untriaged_paper(member_client, member, lab, conference):
    papers(conference, "A", "B")

    response = member_client.post(decide(lab, conference), {"paper": "f-A", "action": "star"}, follow=True)

    assert response.redirect_chain == [(inbox(lab, conference, "at=f-A"), 303)]
    assert status_rows(member) == [("A", "shortlisted", True)]  # the same star as on the list
    html = response.content.decode()
    assert '<h2 class="inbox-paper__title" id="inbox-title" tabindex="-1">A</h2>' in html
    assert 'name="action" value="unstar"' in html and "Starred <kbd>S</kbd>" in html
    assert '<p class="inbox-progress__text" id="inbox-progress-text">1 of 2 triaged</p>' in html


def test_after_a_decision_the_card_counts_the_papers_as_a_fresh_load_would(member_client, member, lab, conference):
    papers(conference, "A", "B", "C")
    query = "unseen_by_lab=on"  # my decision takes the paper out of the filtered set, not only out of the queue

    response = member_client.post(decide(lab, conference, query), {"paper": "f-A", "action": "skip"}, headers=HTMX)
    fresh = member_client.get(inbox(lab, conference, f"{query}&at=f-B"), headers=HTMX)

    html = response.content.decode()
    assert '<h2 class="inbox-paper__title" id="inbox-title" tabindex="-1">B</h2>' in html
    assert '<span class="inbox-nav__position">Paper 1 of 2</span>' in html
    assert '<p class="inbox-progress__text" id="inbox-progress-text">0 of 2 triaged</p>' in html
    assert [response.context[key] for key in ("queue_size", "total", "triaged", "position")] == [2, 2, 0, 1]
    assert [fresh.context[key] for key in ("queue_size", "total", "triaged", "position")] == [2, 2, 0, 1]


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
    assert len(undo_stack(member_client, lab, conference)) == 1
    member_client.post(undo(lab, conference), undo_fields(member_client, lab, conference, "f-B"))
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


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"paper": "2dnO3LLiJ1", "action": "delete"},
            "action must be one of: skip, shortlist, reading, read, star, unstar.",
        ),
        ({"paper": "2dnO3LLiJ1"}, "action must be one of: skip, shortlist, reading, read, star, unstar."),
        ({"action": "skip"}, "paper (a forum id) is required."),
    ],
)
def test_a_decision_that_does_not_validate_is_a_bad_request(
    member_client, member, lab, conference, paper, data, message
):
    response = member_client.post(decide(lab, conference), data)
    assert response.status_code == 400
    assert response.content.decode() == message
    assert status_rows(member) == []
    assert undo_stack(member_client, lab, conference) == []


def test_paper_of_another_conference_is_404(member_client, member, lab, conference):
    other = PaperFactory(forum_id="elsewhere")
    response = member_client.post(decide(lab, conference), {"paper": other.forum_id, "action": "shortlist"})
    assert response.status_code == 404
    assert ReadingStatus.objects.count() == 0


def test_a_decision_pushes_how_the_paper_was_before_on_the_undo_stack(member_client, member, lab, conference):
    a, _ = papers(conference, "A", "B")
    ReadingStatusFactory(user=member, paper=a, state="", starred=True)

    member_client.post(decide(lab, conference), {"paper": "f-A", "action": "skip"})
    member_client.post(decide(lab, conference), {"paper": "f-B", "action": "star"})
    member_client.post(decide(lab, conference), {"paper": "f-B", "action": "star"})  # no change: nothing pushed

    assert undo_stack(member_client, lab, conference) == [
        {"forum_id": "f-A", "state": "", "starred": True, "existed": True},
        {"forum_id": "f-B", "state": "", "starred": False, "existed": False},
    ]


# --- The services behind the inbox -------------------------------------------------------------------


def test_triage_decide_returns_the_status_before_or_none_when_nothing_changed(member, conference):
    a, b = papers(conference, "A", "B")
    ReadingStatusFactory(user=member, paper=b, state="read", starred=False)

    first = services.triage_decide(user=member, paper=a, action="shortlist")
    again = services.triage_decide(user=member, paper=a, action="shortlist")
    star = services.triage_decide(user=member, paper=b, action="star")
    unstar_without_row = services.triage_decide(user=member, paper=papers(conference, "C")[0], action="unstar")

    assert first == {"forum_id": "f-A", "state": "", "starred": False, "existed": False}
    assert again is None
    assert star == {"forum_id": "f-B", "state": "read", "starred": False, "existed": True}
    assert unstar_without_row is None
    assert status_rows(member) == [("A", "shortlisted", False), ("B", "read", True)]


def test_triage_decide_refuses_an_unknown_action(member, paper):
    with pytest.raises(ValueError, match=r"Unknown triage action 'delete'\."):
        services.triage_decide(user=member, paper=paper, action="delete")
    assert status_rows(member) == []


def test_triage_undo_restores_the_record_and_refuses_another_papers(member, conference):
    a, b = papers(conference, "A", "B")
    ReadingStatusFactory(user=member, paper=b, state="skipped", starred=True)
    record_a = services.triage_decide(user=member, paper=a, action="read")
    record_b = services.triage_decide(user=member, paper=b, action="unstar")

    with pytest.raises(ValueError, match=r"This undo record is for f-A, not f-B\."):
        services.triage_undo(user=member, paper=b, record=record_a)
    services.triage_undo(user=member, paper=b, record=record_b)
    services.triage_undo(user=member, paper=a, record=record_a)

    assert status_rows(member) == [("B", "skipped", True)]


def test_the_form_offers_the_actions_the_service_knows():
    assert [*services.TRIAGE_ACTION_STATES, *services.TRIAGE_ACTION_STARS] == TRIAGE_ACTIONS


# --- Undo --------------------------------------------------------------------------------------------


def test_the_undo_button_names_the_change_it_undoes(member_client, lab, conference):
    papers(conference, "A", "B")
    empty = member_client.get(inbox(lab, conference)).content.decode()
    member_client.post(decide(lab, conference), {"paper": "f-A", "action": "skip"})
    after = member_client.get(inbox(lab, conference)).content.decode()

    assert '<input type="hidden" name="undo" value=""><input type="hidden" name="depth" value="0">' in empty
    assert '<input type="hidden" name="undo" value="f-A"><input type="hidden" name="depth" value="1">' in after
    assert '<input type="hidden" name="paper" value="f-B">' in after


def test_undo_deletes_a_row_that_did_not_exist(member_client, member, lab, conference):
    papers(conference, "A", "B")
    member_client.post(decide(lab, conference), {"paper": "f-A", "action": "shortlist"})

    response = member_client.post(
        undo(lab, conference), undo_fields(member_client, lab, conference, "f-B"), follow=True
    )

    assert status_rows(member) == []
    assert undo_stack(member_client, lab, conference) == []
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

    member_client.post(undo(lab, conference, "state="), undo_fields(member_client, lab, conference, "f-A"))
    assert status_rows(member) == [("A", "read", True)]
    member_client.post(undo(lab, conference, "state="), undo_fields(member_client, lab, conference, "f-A"))
    assert status_rows(member) == [("A", "skipped", True)]


def test_undo_walks_back_through_several_papers(member_client, member, lab, conference):
    papers(conference, "A", "B", "C")
    member_client.post(decide(lab, conference), {"paper": "f-A", "action": "shortlist"})
    member_client.post(decide(lab, conference), {"paper": "f-B", "action": "star"})
    member_client.post(decide(lab, conference), {"paper": "f-B", "action": "skip"})

    first = member_client.post(undo(lab, conference), undo_fields(member_client, lab, conference, "f-C"))
    assert first["Location"] == inbox(lab, conference, "at=f-B")
    assert status_rows(member) == [("A", "shortlisted", False), ("B", "shortlisted", True)]
    member_client.post(undo(lab, conference), undo_fields(member_client, lab, conference, "f-B"))
    assert status_rows(member) == [("A", "shortlisted", False)]
    member_client.post(undo(lab, conference), undo_fields(member_client, lab, conference, "f-B"))
    assert status_rows(member) == []


def test_a_double_clicked_undo_without_javascript_undoes_one_change(member_client, member, lab, conference):
    papers(conference, "A", "B", "C")
    member_client.post(decide(lab, conference), {"paper": "f-A", "action": "shortlist"})
    member_client.post(decide(lab, conference), {"paper": "f-B", "action": "star"})
    member_client.post(decide(lab, conference), {"paper": "f-B", "action": "skip"})  # the same paper twice in a row
    clicked = undo_fields(member_client, lab, conference, "f-C")
    assert clicked == {"undo": "f-B", "depth": 3, "paper": "f-C"}

    first = member_client.post(undo(lab, conference), clicked)
    second = member_client.post(undo(lab, conference), clicked, follow=True)

    assert first["Location"] == inbox(lab, conference, "at=f-B")
    assert status_rows(member) == [("A", "shortlisted", False), ("B", "shortlisted", True)]  # only the skip was undone
    assert [record["forum_id"] for record in undo_stack(member_client, lab, conference)] == ["f-A", "f-B"]
    assert second.redirect_chain == [(inbox(lab, conference, "at=f-C"), 303)]
    assert '<p class="inbox-notice" role="status">Nothing to undo.</p>' in second.content.decode()


def test_an_undo_that_names_another_change_undoes_nothing(member_client, member, lab, conference):
    papers(conference, "A", "B")
    member_client.post(decide(lab, conference), {"paper": "f-A", "action": "skip"})

    for data in [
        {"undo": "f-B", "depth": 1, "paper": "f-B"},  # another paper
        {"undo": "f-A", "depth": 2, "paper": "f-B"},  # another depth: a page drawn before a change since
        {"undo": "f-A", "depth": "many", "paper": "f-B"},
        {"paper": "f-B"},
    ]:
        response = member_client.post(undo(lab, conference), data, headers=HTMX)
        assert '<p class="inbox-notice" role="status">Nothing to undo.</p>' in response.content.decode()
        assert '<h2 class="inbox-paper__title" id="inbox-title" tabindex="-1">B</h2>' in response.content.decode()

    assert status_rows(member) == [("A", "skipped", False)]
    assert len(undo_stack(member_client, lab, conference)) == 1


def test_undo_with_nothing_to_undo_says_so_on_the_card(member_client, member, lab, conference):
    papers(conference, "A", "B")
    fields = undo_fields(member_client, lab, conference, "f-B")

    response = member_client.post(undo(lab, conference), fields, follow=True)
    htmx = member_client.post(undo(lab, conference), fields, headers=HTMX)

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
    other_fields = undo_fields(member_client, other_lab, conference, many[0].forum_id)
    empty = member_client.post(undo(other_lab, conference), other_fields, follow=True)
    assert '<p class="inbox-notice" role="status">Nothing to undo.</p>' in empty.content.decode()

    for _ in range(UNDO_DEPTH + 1):
        member_client.post(undo(lab, conference), undo_fields(member_client, lab, conference, many[0].forum_id))

    assert UNDO_DEPTH == 50
    assert ReadingStatus.objects.filter(user=member).count() == 5
    assert set(ReadingStatus.objects.filter(user=member).values_list("paper", flat=True)) == {p.pk for p in many[:5]}


def test_htmx_undo_returns_the_card_of_the_paper_it_restored(member_client, member, lab, conference):
    papers(conference, "A", "B")
    member_client.post(decide(lab, conference), {"paper": "f-A", "action": "read"}, headers=HTMX)

    response = member_client.post(
        undo(lab, conference), undo_fields(member_client, lab, conference, "f-B"), headers=HTMX
    )

    html = response.content.decode()
    assert "<html" not in html
    assert '<h2 class="inbox-paper__title" id="inbox-title" tabindex="-1">A</h2>' in html
    assert '<input type="hidden" name="undo" value=""><input type="hidden" name="depth" value="0">' in html
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
    return first


SIZES = [(1, 1), (50, 1), (1, 10), (50, 10)]

# session, user, membership+lab, conference, whether I have a slice, the filter's days and areas, the
# filtered papers' rows (order, queue, progress), the paper, its presentations+sessions, the lab's
# statuses+users, the notes I see
INBOX_QUERIES = 12


@pytest.mark.parametrize(("papers_count", "members_count"), SIZES)
def test_inbox_query_count_does_not_grow_with_papers_or_lab_members(
    member_client, member, lab, conference, django_assert_num_queries, papers_count, members_count
):
    _busy_conference(conference, lab, member, papers_count=papers_count, members_count=members_count)
    with django_assert_num_queries(INBOX_QUERIES):
        response = member_client.get(inbox(lab, conference))
    assert response.context["queue_size"] == papers_count
    assert len(response.context["paper"].signals.read_by) == members_count
    assert len(response.context["paper"].signals.notes) == members_count
    card = _card_html(response)
    # Again with nothing changed: the card and the conference's row come from the cache (papers.versions); the
    # page around it asks whether I have a slice (session, user, membership+lab with the conference's version,
    # slice).
    with django_assert_num_queries(4):
        again = member_client.get(inbox(lab, conference))
    assert _card_html(again) == card


def _card_html(response) -> str:
    html = response.content.decode()
    return html[html.index('<div class="inbox-body" id="inbox-card">') : html.index("</main>")]


@pytest.mark.parametrize(("papers_count", "members_count"), SIZES)
def test_htmx_card_query_count_does_not_grow(
    member_client, member, lab, conference, django_assert_num_queries, papers_count, members_count
):
    _busy_conference(conference, lab, member, papers_count=papers_count, members_count=members_count)
    with django_assert_num_queries(INBOX_QUERIES):
        response = member_client.get(inbox(lab, conference, "at=nope"), headers=HTMX)
    assert response.context["queue_size"] == papers_count
    # The card again with nothing changed: from the cache (session, user, membership+lab with the conference's
    # version).
    with django_assert_num_queries(3):
        again = member_client.get(inbox(lab, conference, "at=nope"), headers=HTMX)
    assert again.content == response.content


# session, user, membership+lab, conference, the paper, the filter's days and areas, the rows before the
# decision; the service (savepoint, the lock that makes my decisions take turns, my status before, update
# of no row, savepoint, insert, the labs' version bump, release, release); the decided paper's row again; the
# card (paper, presentations, lab statuses, notes); the session saved (savepoint, update, release)
DECIDE_QUERIES = 26


@pytest.mark.parametrize(("papers_count", "members_count"), [(1, 1), (30, 1), (1, 10), (30, 10)])
def test_htmx_decision_query_count_does_not_grow(
    member_client, member, lab, conference, django_assert_num_queries, papers_count, members_count
):
    first = _busy_conference(conference, lab, member, papers_count=papers_count, members_count=members_count)
    # Any state: the decided paper stays in the queue, so there is always a card to draw.
    with django_assert_num_queries(DECIDE_QUERIES):
        response = member_client.post(
            decide(lab, conference, "state="), {"paper": first.forum_id, "action": "shortlist"}, headers=HTMX
        )
    assert response.context["queue_size"] == papers_count
    assert response.context["triaged"] == 1
    assert status_rows(member) == [(first.title, "shortlisted", False)]


# session, user, membership+lab with the conference's version, the paper; the rows before the undo (the
# conference's row and the filter's days and areas are cached since the decision: the programme did not
# change); the service (savepoint, delete, the labs' version bump, release); the undone paper's row again; the
# card (paper, presentations, lab statuses, notes); the session saved (savepoint, update, release)
UNDO_QUERIES = 18


@pytest.mark.parametrize(("papers_count", "members_count"), [(1, 1), (30, 1), (1, 10), (30, 10)])
def test_htmx_undo_query_count_does_not_grow(
    member_client, member, lab, conference, django_assert_num_queries, papers_count, members_count
):
    first = _busy_conference(conference, lab, member, papers_count=papers_count, members_count=members_count)
    member_client.post(decide(lab, conference), {"paper": first.forum_id, "action": "skip"})
    fields = undo_fields(member_client, lab, conference, first.forum_id)
    with django_assert_num_queries(UNDO_QUERIES):
        response = member_client.post(undo(lab, conference), fields, headers=HTMX)
    assert response.context["paper"] == first
    assert response.context["queue_size"] == papers_count
    assert status_rows(member) == []


def test_an_undo_after_a_reload_puts_the_paper_back_in_the_queue(member_client, member, lab, conference):
    """The rows cached by a reload between the decision and its undo are not the rows after the undo."""
    first = _busy_conference(conference, lab, member, papers_count=3, members_count=1)
    member_client.post(decide(lab, conference), {"paper": first.forum_id, "action": "skip"}, headers=HTMX)
    assert member_client.get(inbox(lab, conference), headers=HTMX).context["triaged"] == 1
    fields = undo_fields(member_client, lab, conference, first.forum_id)
    response = member_client.post(undo(lab, conference), fields, headers=HTMX)
    assert response.context["paper"] == first
    assert (response.context["queue_size"], response.context["triaged"]) == (3, 0)


def test_a_decision_without_javascript_reads_the_queue_once_and_a_star_not_at_all(
    member_client, member, lab, conference, django_assert_num_queries
):
    papers(conference, "A", "B", "C")
    # session, user, membership+lab, conference, the paper, the filter's days and areas, the rows, the
    # service (9, as above), the session saved (3)
    with django_assert_num_queries(21):
        response = member_client.post(decide(lab, conference), {"paper": "f-A", "action": "skip"})
    assert response["Location"] == inbox(lab, conference, "at=f-B")
    # No filters and no rows: a star keeps the card, so the redirect needs no queue; the conference's row is
    # cached since the first post. (The star's service: the lock, my status before, then set_star's.)
    with django_assert_num_queries(19):
        response = member_client.post(decide(lab, conference), {"paper": "f-B", "action": "star"})
    assert response["Location"] == inbox(lab, conference, "at=f-B")
    assert status_rows(member) == [("A", "skipped", False), ("B", "shortlisted", True)]


def test_with_a_split_my_inbox_starts_with_my_slice(client, lab, owner, member, conference):
    from papers import services

    papers = [PaperFactory(conference=conference, title=f"Split paper {n}") for n in range(6)]
    services.split_papers(lab=lab, conference=conference, by=owner, method="even", members=[owner, member])
    mine = set(Assignment.objects.filter(user=member).values_list("paper__title", flat=True))
    client.force_login(member)

    html = client.get(inbox(lab, conference)).content.decode()

    assert "of 3 triaged" in html
    assert any(title in html for title in mine)
    assert not any(f">{p.title}<" in html for p in papers if p.title not in mine)
    assert "0 of 6 triaged" in client.get(inbox(lab, conference), {"slice": ""}).content.decode()
