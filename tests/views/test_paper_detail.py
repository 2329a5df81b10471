import datetime as dt
import re

import pytest
from django.urls import reverse

from papers import services
from papers.models import Membership, Note
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
    # session, user, membership+lab, paper+conference (to know the page's key: papers.versions), then on a miss
    # paper+conference, presentations+sessions, the lab's statuses, the visible notes, the members; the
    # similar papers (none stored here), why
    with django_assert_num_queries(11):
        member_client.get(url(lab, paper))


# --- My triage, the lab's view and the notes ---------------------------------------------------------


def text(fragment: str) -> str:
    """The words of an HTML fragment, tags dropped and spaces squeezed."""
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def lab_view_rows(html: str) -> list[str]:
    return [text(row) for row in re.findall(r'<tr class="lab-view__row[^"]*">(.*?)</tr>', html, flags=re.S)]


def notes_section(html: str) -> str:
    start = html.index('<section class="paper-section paper-notes"')
    return html[start : html.index('<form class="note-form"', start)]


def note_heads(html: str) -> list[str]:
    """Each visible note as 'kind | author | visibility | time | body', in page order."""
    notes = []
    for article in re.findall(r'<article class="note .*?</article>', html, flags=re.S):
        head = re.search(r'<header class="note__head">(.*?)</header>', article, flags=re.S).group(1)
        parts = [
            text(part)
            for part in re.findall(
                r"<(?:span|time) class=\"note__\w+[^\"]*\"[^>]*>(.*?)</(?:span|time)>\n", head, flags=re.S
            )
        ]
        body = re.search(r'<div class="note__body">(.*?)</div>', article, flags=re.S).group(1)
        notes.append(" | ".join([*parts, text(body)]))
    return notes


def at(note, when: str):
    """Give a note a known creation time (UTC)."""
    Note.objects.filter(pk=note.pk).update(created_at=dt.datetime.fromisoformat(when).replace(tzinfo=UTC))
    return note


def test_my_star_and_state_are_shown_as_pressed(member_client, member, lab, paper):
    ReadingStatusFactory(user=member, paper=paper, starred=True, state="shortlisted")
    html = member_client.get(url(lab, paper)).content.decode()
    assert '<button type="submit" class="star-toggle is-on" aria-pressed="true"' in html
    pressed = re.findall(r'class="state-toggle state-toggle--(\w+) is-on"\s+aria-pressed="true">(\w+)<', html)
    assert pressed == [("shortlisted", "Shortlist")]


def test_lab_view_lists_every_member_owners_first_with_their_star_and_state(
    member_client, owner, member, lab, conference, paper
):
    nina = UserFactory(username="nina")
    MembershipFactory(lab=lab, user=nina)
    adam = UserFactory(username="adam")
    MembershipFactory(lab=lab, user=adam, role=Membership.Role.OWNER)
    ReadingStatusFactory(user=owner, paper=paper, starred=True, state="reading")
    ReadingStatusFactory(user=member, paper=paper, starred=False, state="shortlisted")
    ReadingStatusFactory(user=adam, paper=paper, starred=True, state="")
    # Someone else's lab and another paper do not show.
    stranger = UserFactory(username="zoe")
    ReadingStatusFactory(user=stranger, paper=paper, starred=True, state="read")
    ReadingStatusFactory(user=nina, paper=PaperFactory(conference=conference), starred=True, state="read")

    html = member_client.get(url(lab, paper)).content.decode()

    assert lab_view_rows(html) == [
        "adam Owner ★ Starred Not triaged",
        "olivia Owner ★ Starred Reading",
        "max (you) – Not starred Shortlisted",
        "nina – Not starred Not triaged",
    ]


def test_a_personal_lab_has_no_lab_view(client, paper):
    from papers.services import create_personal_lab

    solo = UserFactory(username="solo")
    personal = create_personal_lab(user=solo)
    client.force_login(solo)
    html = client.get(url(personal, paper)).content.decode()
    assert "The lab's view" not in html and lab_view_rows(html) == []
    assert '<h2 id="paper-notes-title">Notes</h2>' in html


def test_notes_are_grouped_by_kind_newest_last_with_author_visibility_and_time(
    member_client, owner, member, lab, paper
):
    at(
        NoteFactory(paper=paper, author=owner, lab=lab, kind="note", body="Second note"),
        "2024-05-08T09:00",
    )
    at(
        NoteFactory(paper=paper, author=member, lab=lab, kind="note", body="First note"),
        "2024-05-08T08:00",
    )
    at(
        NoteFactory(paper=paper, author=member, lab=None, kind="todo", body="Read the appendix"),
        "2024-05-08T10:30",
    )
    at(
        NoteFactory(paper=paper, author=owner, lab=lab, kind="summary", body="Registers fix artefacts"),
        "2024-05-09T07:00",
    )
    at(
        NoteFactory(paper=paper, author=owner, lab=lab, kind="question", body="Why 4 registers?"),
        "2024-05-08T11:00",
    )

    html = member_client.get(url(lab, paper)).content.decode()

    assert re.findall(r'<h3 class="note-group__title">(.*?) <span class="note-group__count">(\d+)</span>', html) == [
        ("One-liners", "1"),
        ("Notes", "2"),
        ("To do", "1"),
        ("Questions", "1"),
    ]
    # Times in the conference's time zone (Vienna, UTC+2 in May).
    assert note_heads(html) == [
        "One-liner | olivia | shared with Vision Lab | 9 May, 09:00 | Registers fix artefacts",
        "Note | max (you) | shared with Vision Lab | 8 May, 10:00 | First note",
        "Note | olivia | shared with Vision Lab | 8 May, 11:00 | Second note",
        "To do | max (you) | private | 8 May, 12:30 | Read the appendix",
        "Question | olivia | shared with Vision Lab | 8 May, 13:00 | Why 4 registers?",
    ]
    assert "<span>5 notes</span>" in html


def test_no_notes_says_how_to_start(member_client, lab, paper):
    html = member_client.get(url(lab, paper)).content.decode()
    assert "No notes yet. Add a one-liner, a to-do, a question or what to read next." in html
    assert note_heads(html) == []


def test_a_private_note_is_seen_by_its_author_only(client, owner, member, lab, paper):
    NoteFactory(paper=paper, author=owner, lab=None, kind="note", body="Olivia's own thought")
    NoteFactory(paper=paper, author=owner, lab=lab, kind="note", body="For the lab")
    NoteFactory(paper=paper, author=member, lab=None, kind="note", body="Max's own thought")

    client.force_login(member)
    response = client.get(url(lab, paper))
    assert [note.body_html for note in response.context["paper"].signals.notes] == [
        "<p>For the lab</p>",
        "<p>Max's own thought</p>",
    ]
    assert [head.split(" | ")[-1] for head in note_heads(response.content.decode())] == [
        "For the lab",
        "Max's own thought",
    ]
    assert "Olivia's own thought" not in response.content.decode()

    client.force_login(owner)
    html = client.get(url(lab, paper)).content.decode()
    assert [head.split(" | ")[-1] for head in note_heads(html)] == ["Olivia's own thought", "For the lab"]
    assert "Max&#x27;s own thought" not in html and "Max's own thought" not in html


def test_another_labs_notes_do_not_show(member_client, lab, paper):
    other_lab = LabFactory(name="Robotics Lab", slug="robotics")
    stranger = UserFactory(username="zoe")
    MembershipFactory(lab=other_lab, user=stranger)
    NoteFactory(paper=paper, author=stranger, lab=other_lab, body="Robotics only")
    html = member_client.get(url(lab, paper)).content.decode()
    assert "Robotics only" not in html and note_heads(html) == []


def test_only_my_own_notes_have_edit_delete_and_a_tickable_box(member_client, owner, member, lab, paper):
    mine = NoteFactory(paper=paper, author=member, lab=lab, kind="todo", body="Mine")
    theirs = NoteFactory(paper=paper, author=owner, lab=lab, kind="todo", done=True, body="Theirs")
    args = [lab.slug, paper.conference.slug, paper.forum_id]

    html = member_client.get(url(lab, paper)).content.decode()

    assert f'href="{reverse("note_edit", args=[*args, mine.pk])}"' in html
    assert f'action="{reverse("note_delete", args=[*args, mine.pk])}"' in html
    assert f'action="{reverse("note_done", args=[*args, mine.pk])}"' in html
    assert reverse("note_edit", args=[*args, theirs.pk]) not in html
    assert reverse("note_delete", args=[*args, theirs.pk]) not in html
    assert reverse("note_done", args=[*args, theirs.pk]) not in html
    theirs_html = re.search(rf'<article [^>]*id="note-{theirs.pk}">.*?</article>', html, flags=re.S).group(0)
    assert '<span class="note-check note-check--readonly note-check--on" title="Done">' in theirs_html


def test_markdown_is_rendered_and_anything_that_runs_is_dropped(member_client, member, lab, paper):
    from papers import services

    services.add_note(
        author=member,
        paper=paper,
        lab=lab,
        kind="note",
        body=(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))\n\n"
            "**bold** and a list:\n\n- one\n- two\n\n[the code](https://github.com/facebookresearch/dinov2)"
        ),
    )
    html = member_client.get(url(lab, paper)).content.decode()
    notes = notes_section(html)

    assert "<strong>bold</strong> and a list:" in notes
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in notes
    assert (
        '<a href="https://github.com/facebookresearch/dinov2" rel="noopener noreferrer nofollow">the code</a>' in notes
    )
    assert "<script" not in notes and "alert(1)" not in notes
    assert "onerror" not in html and "javascript:" not in html
    assert '<a rel="noopener noreferrer nofollow">x</a>' in notes


def test_htmx_asks_for_one_part_of_the_page_by_its_target(member_client, member, lab, paper):
    NoteFactory(paper=paper, author=member, lab=lab, body="A shared note")

    notes = member_client.get(url(lab, paper), headers={"HX-Request": "true", "HX-Target": "paper-note-list"})
    assert notes.content.decode().strip().startswith('<div class="note-list" id="paper-note-list">')
    assert "A shared note" in notes.content.decode() and "<html" not in notes.content.decode()

    table = member_client.get(url(lab, paper), headers={"HX-Request": "true", "HX-Target": "paper-lab-view"})
    assert table.content.decode().strip().startswith('<section class="paper-section lab-view" id="paper-lab-view"')
    assert lab_view_rows(table.content.decode()) == ["max (you) – Not starred Not triaged"]
    assert "HX-Target" in table["Vary"]

    # Any other htmx target (or a history restore) gets the whole page.
    page = member_client.get(url(lab, paper), headers={"HX-Request": "true", "HX-Target": "main"})
    assert "<html" in page.content.decode()


def populate(lab, paper, *, members: int, notes: int) -> None:
    """`members` lab members in all (max among them) with statuses; `notes` notes of every kind, all
    visible to max: the others' shared, max's own shared or private."""
    me = Membership.objects.get(lab=lab, user__username="max").user
    users = [UserFactory(username=f"member{n:02d}") for n in range(members - 1)]
    for user in users:
        MembershipFactory(lab=lab, user=user)
        ReadingStatusFactory(user=user, paper=paper, starred=True, state="read")
    authors = [me, *users]
    kinds = ["note", "todo", "question", "follow_up"]
    for n in range(notes):
        author = authors[n % len(authors)]
        kind = "summary" if n == 0 else kinds[n % 4]
        private = author == me and n % 2 == 0
        NoteFactory(paper=paper, author=author, lab=None if private else lab, kind=kind, body_html=f"<p>{n}</p>")


@pytest.mark.parametrize(("members", "notes"), [(1, 1), (10, 1), (1, 20), (10, 20)])
def test_query_count_does_not_grow_with_members_or_notes(
    member_client, member, lab, paper, django_assert_num_queries, members, notes
):
    populate(lab, paper, members=members, notes=notes)
    # session, user, membership+lab, paper+conference (the page's key), then on a miss paper+conference,
    # presentations+sessions, the lab's statuses, the visible notes (+authors, labs), the members (owners
    # first); the similar papers (none), why
    with django_assert_num_queries(11):
        response = member_client.get(url(lab, paper))
    assert len(lab_view_rows(response.content.decode())) == members
    assert len(response.context["paper"].signals.notes) == notes


@pytest.mark.parametrize("neighbors", [1, 8])
def test_similar_papers_show_with_signals_and_why_in_a_fixed_number_of_queries(
    member_client, member, lab, conference, paper, django_assert_num_queries, neighbors
):
    from papers.models import PaperNeighbor

    mine = PaperFactory(conference=conference, title="Registers for Convolutional Networks")
    services.set_star(user=member, paper=mine, starred=True)
    others = [PaperFactory(conference=conference, title=f"Neighbour {n}") for n in range(neighbors)]
    rows = [PaperNeighbor(paper=paper, neighbor=mine, score=0.9, rank=1)]
    rows += [PaperNeighbor(paper=paper, neighbor=o, score=0.5 - n / 100, rank=n + 2) for n, o in enumerate(others)]
    PaperNeighbor.objects.bulk_create(rows)

    # ... as above, then the similar papers, their lab statuses, their visible notes, and why (with its papers'
    # conference)
    with django_assert_num_queries(13):
        html = member_client.get(url(lab, paper)).content.decode()
    # A second look with nothing changed: session, user, membership+lab, paper+conference; the page's content
    # comes from the cache (papers.versions).
    with django_assert_num_queries(4):
        assert member_client.get(url(lab, paper)).content.decode().count("similar__item") == html.count("similar__item")

    assert '<h2 id="similar-title">Similar papers</h2>' in html
    assert "Registers for Convolutional Networks</a>, which you kept." in html
    assert html.index("Registers for Convolutional Networks") < html.index("Neighbour 0")
    assert '<span class="similar__mine" title="You starred it">★ you</span>' in html


def test_similar_papers_follow_my_stars_at_once(member_client, member, lab, conference):
    """The page's "more like this" and "like what you kept" are cached (papers.versions): never stale."""
    from papers.models import PaperNeighbor, ReadingStatus

    paper = PaperFactory(conference=conference, title="Seen Paper")
    other = PaperFactory(conference=conference, title="Starred Neighbour")
    PaperNeighbor.objects.create(paper=paper, neighbor=other, score=0.9, rank=1)
    url = reverse("paper_detail", args=[lab.slug, conference.slug, paper.forum_id])
    assert "which you kept" not in member_client.get(url).content.decode()
    ReadingStatus.objects.create(user=member, paper=other, starred=True)
    html = member_client.get(url).content.decode()
    assert re.search(r"Like <a [^>]*>Starred Neighbour</a>, which you kept\.", html)


def test_the_cached_page_shows_a_colleagues_note_and_star_at_once(member_client, owner, member, lab, conference):
    paper = PaperFactory(conference=conference)
    page = reverse("paper_detail", args=[lab.slug, conference.slug, paper.forum_id])
    assert "A colleague's thought" not in member_client.get(page).content.decode()
    services.add_note(author=owner, paper=paper, lab=lab, kind=Note.Kind.NOTE, body="A colleague's thought")
    services.set_star(user=owner, paper=paper, starred=True)
    html = member_client.get(page).content.decode()
    assert "A colleague's thought" in html
    assert "Starred by olivia" in html


def test_a_message_to_show_once_is_shown_over_a_cached_page_and_not_cached(member_client, lab, conference):
    from django.contrib.messages import constants
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpResponse
    from django.test import RequestFactory

    paper = PaperFactory(conference=conference)
    page = reverse("paper_detail", args=[lab.slug, conference.slug, paper.forum_id])
    cached = member_client.get(page).content.decode()  # the page as the cache now holds it
    # A message left by another page (the messages' cookie, as a redirect after a refused form sets it).
    storage, carrier = CookieStorage(RequestFactory().get("/")), HttpResponse()
    storage.add(constants.ERROR, "Said once.")
    storage.update(carrier)
    member_client.cookies[storage.cookie_name] = carrier.cookies[storage.cookie_name].value

    shown = member_client.get(page).content.decode()
    again = member_client.get(page).content.decode()

    assert '<li class="message message--error">Said once.</li>' in shown
    assert "Said once." not in again
    assert again == cached


def test_the_deleted_note_notice_is_never_cached(member_client, member, lab, conference):
    paper = PaperFactory(conference=conference)
    note = services.add_note(author=member, paper=paper, lab=lab, kind=Note.Kind.NOTE, body="Soon gone")
    services.delete_note(note=note, editor=member)
    page = reverse("paper_detail", args=[lab.slug, conference.slug, paper.forum_id])
    assert "Note deleted" in member_client.get(f"{page}?deleted={note.pk}").content.decode()
    assert "Note deleted" not in member_client.get(page).content.decode()
