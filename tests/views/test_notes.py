"""Notes on the paper page: add, edit (with the stale-edit refusal), tick, delete; who may do what."""

import re

import pytest
from django.urls import reverse

from papers import services
from papers.models import Note
from tests.factories import LabFactory, MembershipFactory, NoteFactory, UserFactory

HTMX = {"HX-Request": "true"}
STALE = "This note was changed elsewhere since you opened it; your edit was not saved."


def paper_url(lab, paper):
    return reverse("paper_detail", args=[lab.slug, paper.conference.slug, paper.forum_id])


def add_url(lab, paper):
    return reverse("note_add", args=[lab.slug, paper.conference.slug, paper.forum_id])


def note_url(name, lab, note):
    return reverse(name, args=[lab.slug, note.paper.conference.slug, note.paper.forum_id, note.pk])


def text(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def errors(html: str) -> list[str]:
    return [text(item) for item in re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, flags=re.S)]


def textarea(html: str, name: str = "body") -> str:
    return re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', html, flags=re.S).group(1).strip()


def notes_of(paper) -> list[tuple[str, str, str, str | None]]:
    return [
        (note.author.username, note.kind, note.body, note.lab.slug if note.lab else None)
        for note in Note.objects.filter(paper=paper).select_related("author", "lab").order_by("pk")
    ]


@pytest.fixture
def my_note(member, lab, paper):
    return services.add_note(author=member, paper=paper, lab=lab, kind="note", body="Registers soak up *attention*.")


@pytest.fixture
def my_todo(member, lab, paper):
    return services.add_note(author=member, paper=paper, lab=lab, kind="todo", body="Read the appendix")


@pytest.fixture
def their_note(owner, lab, paper):
    return services.add_note(author=owner, paper=paper, lab=lab, kind="todo", body="Olivia's shared to-do")


@pytest.fixture
def their_private_note(owner, paper):
    return services.add_note(author=owner, paper=paper, lab=None, kind="note", body="Olivia's private note")


# --- Adding ------------------------------------------------------------------------------------------


def test_add_a_shared_note_without_javascript_redirects_to_it(member_client, member, lab, paper):
    response = member_client.post(
        add_url(lab, paper), {"kind": "question", "body": "  Why do **registers** help?  ", "visibility": "lab"}
    )
    note = Note.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{paper_url(lab, paper)}#note-{note.pk}"
    assert notes_of(paper) == [("max", "question", "Why do **registers** help?", "vision")]
    assert note.body_html == "<p>Why do <strong>registers</strong> help?</p>"
    html = member_client.get(response["Location"]).content.decode()
    assert "<p>Why do <strong>registers</strong> help?</p>" in html


def test_add_a_private_note(member_client, lab, paper):
    member_client.post(add_url(lab, paper), {"kind": "todo", "body": "Try it on ViT-S", "visibility": "private"})
    assert notes_of(paper) == [("max", "todo", "Try it on ViT-S", None)]


def test_a_one_liner_goes_back_to_next(member_client, lab, paper):
    # The triage inbox posts its one-liner box here with next= the inbox.
    inbox = reverse("triage", args=[lab.slug, paper.conference.slug])
    response = member_client.post(
        add_url(lab, paper),
        {"kind": "summary", "body": "Registers fix ViT artefacts", "visibility": "lab", "next": inbox},
    )
    assert response["Location"] == inbox
    assert notes_of(paper) == [("max", "summary", "Registers fix ViT artefacts", "vision")]


def test_a_note_that_does_not_say_who_sees_it_stays_private(member_client, lab, paper):
    member_client.post(add_url(lab, paper), {"kind": "note", "body": "Who sees me?"})
    assert notes_of(paper) == [("max", "note", "Who sees me?", None)]


def test_next_to_another_site_is_ignored(member_client, lab, paper):
    response = member_client.post(
        add_url(lab, paper), {"kind": "note", "body": "Hi", "next": "https://evil.example/phish"}
    )
    assert response["Location"] == f"{paper_url(lab, paper)}#note-{Note.objects.get().pk}"


def test_a_second_one_liner_replaces_the_first(member_client, member, lab, paper):
    first = services.add_note(author=member, paper=paper, lab=lab, kind="summary", body="Old one-liner")
    member_client.post(add_url(lab, paper), {"kind": "summary", "body": "New one-liner", "visibility": "private"})
    assert notes_of(paper) == [("max", "summary", "New one-liner", None)]
    assert Note.objects.get().pk == first.pk


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "note", "body": "   "}, "Write something first: the note is empty."),
        ({"kind": "note", "body": "x" * 10_001}, "A note can be at most 10,000 characters long; this one has 10,001."),
        (
            {"kind": "summary", "body": "y" * 301},
            "A one-liner can be at most 300 characters long; this one has 301. Choose “Note” for more.",
        ),
        (
            {"kind": "summary", "body": "Line one\r\nLine two"},
            "A one-liner is a single line: choose “Note” for more than one line.",
        ),
        ({"kind": "poem", "body": "Roses"}, "Select a valid choice. poem is not one of the available choices."),
        (
            {"kind": "note", "body": "Hi", "visibility": "public"},
            "Select a valid choice. public is not one of the available choices.",
        ),
    ],
)
def test_invalid_note_without_javascript_shows_the_page_with_the_error(member_client, lab, paper, data, message):
    response = member_client.post(add_url(lab, paper), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert errors(html) == [message]
    assert '<h1 class="paper__title">Vision Transformers Need Registers</h1>' in html
    assert Note.objects.count() == 0


def test_a_note_of_exactly_10000_characters_and_a_one_liner_of_300_are_fine(member_client, lab, paper):
    member_client.post(add_url(lab, paper), {"kind": "note", "body": "x" * 10_000})
    member_client.post(add_url(lab, paper), {"kind": "summary", "body": "y" * 300})
    assert sorted(len(body) for body in Note.objects.values_list("body", flat=True)) == [300, 10_000]


def test_htmx_add_returns_the_notes_section_with_the_new_note_and_an_empty_form(member_client, lab, paper):
    response = member_client.post(
        add_url(lab, paper),
        {"kind": "note", "body": "**bold** and a list:\n\n- one\n- two", "visibility": "lab"},
        headers=HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith('<section class="paper-section paper-notes" id="paper-notes"')
    assert "<html" not in html
    assert "<p><strong>bold</strong> and a list:</p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html
    assert textarea(html) == ""
    # The note count beside my triage controls, out of band.
    assert re.search(r'<span class="signals" id="signals-\d+" hx-swap-oob="true">\s*<span>1 note</span>', html)
    assert notes_of(paper) == [("max", "note", "**bold** and a list:\n\n- one\n- two", "vision")]


def test_htmx_add_of_an_invalid_note_swaps_in_the_errors_and_keeps_the_text(member_client, lab, paper):
    response = member_client.post(
        add_url(lab, paper), {"kind": "summary", "body": "One\nTwo", "visibility": "private"}, headers=HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200  # htmx only swaps a 2xx in
    assert errors(html) == ["A one-liner is a single line: choose “Note” for more than one line."]
    assert textarea(html) == "One\nTwo"
    assert re.search(r'<option value="summary" selected>One-liner</option>', html)
    assert re.search(r'value="private"[^>]*checked', html)
    assert Note.objects.count() == 0


def test_a_double_submitted_note_is_added_once(member_client, lab, paper):
    for _ in range(2):
        member_client.post(
            add_url(lab, paper), {"kind": "todo", "body": "Read the appendix", "visibility": "lab"}, headers=HTMX
        )
    assert notes_of(paper) == [("max", "todo", "Read the appendix", "vision")]


def test_the_same_text_as_another_kind_or_visibility_is_a_new_note(member_client, lab, paper):
    member_client.post(add_url(lab, paper), {"kind": "todo", "body": "Appendix", "visibility": "lab"})
    member_client.post(add_url(lab, paper), {"kind": "question", "body": "Appendix", "visibility": "lab"})
    member_client.post(add_url(lab, paper), {"kind": "question", "body": "Appendix", "visibility": "private"})
    assert notes_of(paper) == [
        ("max", "todo", "Appendix", "vision"),
        ("max", "question", "Appendix", "vision"),
        ("max", "question", "Appendix", None),
    ]


@pytest.mark.parametrize("existing", [1, 20])
def test_htmx_add_query_count_is_fixed(member_client, member, lab, paper, django_assert_num_queries, existing):
    for n in range(existing):
        NoteFactory(paper=paper, author=member, lab=lab, body=f"Note {n}", body_html=f"<p>Note {n}</p>")
    # session, user, membership+lab, paper+conference, the lock that makes my note writes take turns, the
    # double-submit check, 2 savepoints (the service's transactions inside the test's), insert, the labs'
    # version bump, 2 releases, then the paper again as the page loads it: paper+conference, presentations,
    # the lab's statuses, the visible notes
    with django_assert_num_queries(16):
        response = member_client.post(add_url(lab, paper), {"kind": "note", "body": "Another"}, headers=HTMX)
    assert response.content.decode().count('<article class="note ') == existing + 1


# --- Editing -----------------------------------------------------------------------------------------


def test_edit_form_for_htmx_replaces_the_note_and_carries_its_version(member_client, lab, my_note):
    response = member_client.get(note_url("note_edit", lab, my_note), headers=HTMX)
    html = response.content.decode()
    assert html.strip().startswith(f'<form class="note-form note-form--edit" id="note-{my_note.pk}"')
    assert "<html" not in html
    assert f'<input type="hidden" name="version" value="1" id="note-{my_note.pk}-version">' in html
    assert textarea(html) == "Registers soak up *attention*."
    assert re.search(r'value="lab"[^>]*checked', html)


def test_edit_form_without_javascript_is_a_page(member_client, lab, my_note):
    html = member_client.get(note_url("note_edit", lab, my_note)).content.decode()
    assert "<h1>Edit your note</h1>" in html
    assert "<title>Edit note · Vision Transformers Need Registers · iclrnotes</title>" in html
    assert textarea(html) == "Registers soak up *attention*."


def test_edit_saves_the_text_and_visibility(member_client, lab, paper, my_note):
    response = member_client.post(
        note_url("note_edit", lab, my_note),
        {"body": "Registers take the *high-norm* tokens.", "visibility": "private", "version": 1},
    )
    assert response["Location"] == f"{paper_url(lab, paper)}#note-{my_note.pk}"
    my_note.refresh_from_db()
    assert (my_note.body, my_note.lab, my_note.version) == ("Registers take the *high-norm* tokens.", None, 2)
    assert my_note.body_html == "<p>Registers take the <em>high-norm</em> tokens.</p>"


def test_htmx_edit_returns_the_note_as_shown(member_client, lab, my_note):
    response = member_client.post(
        note_url("note_edit", lab, my_note),
        {"body": "Edited **text**", "visibility": "lab", "version": 1},
        headers=HTMX,
    )
    html = response.content.decode()
    assert html.strip().startswith(f'<article class="note note--note" id="note-{my_note.pk}">')
    assert '<div class="note__body"><p>Edited <strong>text</strong></p></div>' in html
    assert '<span class="note__visibility">shared with Vision Lab</span>' in html


def test_a_stale_edit_is_refused_and_shows_the_current_text(member_client, member, lab, my_note):
    # Another tab saved a change after this editor was opened at version 1.
    services.edit_note(note=my_note, editor=member, body="Changed in the other tab", lab=lab, version=1)

    response = member_client.post(
        note_url("note_edit", lab, my_note), {"body": "My edit from the first tab", "visibility": "lab", "version": 1}
    )
    html = response.content.decode()

    assert response.status_code == 409
    assert errors(html) == [STALE]
    assert '<pre class="note-conflict__text">Changed in the other tab</pre>' in html
    # My draft is kept, now based on the current version: saving again is a deliberate choice.
    assert textarea(html) == "My edit from the first tab"
    assert f'<input type="hidden" name="version" value="2" id="note-{my_note.pk}-version">' in html
    my_note.refresh_from_db()
    assert (my_note.body, my_note.version) == ("Changed in the other tab", 2)


def test_a_stale_edit_over_htmx_is_refused_in_place(member_client, member, lab, my_note):
    services.edit_note(note=my_note, editor=member, body="Changed in the other tab", lab=lab, version=1)
    response = member_client.post(
        note_url("note_edit", lab, my_note), {"body": "Mine", "visibility": "lab", "version": 1}, headers=HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith(f'<form class="note-form note-form--edit" id="note-{my_note.pk}"')
    assert errors(html) == [STALE]
    assert '<pre class="note-conflict__text">Changed in the other tab</pre>' in html
    assert Note.objects.get().body == "Changed in the other tab"


def test_ticking_a_todo_meanwhile_also_makes_an_edit_stale(member_client, member, lab, my_todo):
    services.set_todo_done(note=my_todo, editor=member, done=True)
    response = member_client.post(
        note_url("note_edit", lab, my_todo), {"body": "Read appendix B", "visibility": "lab", "version": 1}
    )
    assert errors(response.content.decode()) == [STALE]
    assert Note.objects.get().body == "Read the appendix"


def test_a_double_submitted_edit_is_not_called_stale(member_client, lab, my_note):
    data = {"body": "Edited once", "visibility": "lab", "version": 1}
    first = member_client.post(note_url("note_edit", lab, my_note), data)
    second = member_client.post(note_url("note_edit", lab, my_note), data)
    assert first["Location"] == second["Location"]
    my_note.refresh_from_db()
    assert (my_note.body, my_note.version) == ("Edited once", 2)


def test_an_invalid_edit_shows_the_error(member_client, member, lab, paper):
    summary = services.add_note(author=member, paper=paper, lab=lab, kind="summary", body="One line")
    response = member_client.post(
        note_url("note_edit", lab, summary), {"body": "Two\nlines", "visibility": "lab", "version": 1}
    )
    assert response.status_code == 400
    assert errors(response.content.decode()) == ["A one-liner is a single line: choose “Note” for more than one line."]
    assert Note.objects.get().body == "One line"


def test_editing_a_note_shared_with_another_of_my_labs_keeps_it_there(member_client, member, lab, paper):
    robotics = LabFactory(name="Robotics Lab", slug="robotics")
    MembershipFactory(lab=robotics, user=member)
    note = services.add_note(author=member, paper=paper, lab=robotics, kind="note", body="For robotics")
    html = member_client.get(note_url("note_edit", lab, note)).content.decode()
    assert re.search(r'value="keep"[^>]*checked', html) and "Shared with Robotics Lab" in html
    member_client.post(
        note_url("note_edit", lab, note), {"body": "Still for robotics", "visibility": "keep", "version": 1}
    )
    assert notes_of(paper) == [("max", "note", "Still for robotics", "robotics")]


# --- Ticking and deleting ----------------------------------------------------------------------------


def test_tick_a_todo_done_and_undone(member_client, lab, paper, my_todo):
    response = member_client.post(note_url("note_done", lab, my_todo), {"done": "1"}, headers=HTMX)
    html = response.content.decode()
    assert html.strip().startswith(f'<article class="note note--todo note--done" id="note-{my_todo.pk}">')
    assert 'role="checkbox" aria-checked="true"' in html
    assert Note.objects.get().done is True

    # A double click leaves it done (a set, not a toggle).
    member_client.post(note_url("note_done", lab, my_todo), {"done": "1"}, headers=HTMX)
    assert Note.objects.get().done is True

    response = member_client.post(note_url("note_done", lab, my_todo), {"done": "0"})
    assert response["Location"] == f"{paper_url(lab, paper)}#note-{my_todo.pk}"
    assert Note.objects.get().done is False


def test_only_a_todo_can_be_ticked(member_client, lab, my_note):
    response = member_client.post(note_url("note_done", lab, my_note), {"done": "1"})
    assert (response.status_code, response.content.decode()) == (400, "Only a to-do can be ticked.")
    assert Note.objects.get().done is False


def test_done_must_be_1_or_0(member_client, lab, my_todo):
    response = member_client.post(note_url("note_done", lab, my_todo), {"done": "yes"})
    assert (response.status_code, response.content.decode()) == (400, "done must be 1 or 0.")
    assert Note.objects.get().done is False


def test_delete_my_note(member_client, lab, paper, my_note, their_note):
    response = member_client.post(note_url("note_delete", lab, my_note))
    assert response["Location"] == f"{paper_url(lab, paper)}?deleted={my_note.pk}#paper-notes"
    assert notes_of(paper) == [("olivia", "todo", "Olivia's shared to-do", "vision")]
    # Deleting it again (a double click) changes nothing and offers the same undo.
    again = member_client.post(note_url("note_delete", lab, my_note))
    assert again["Location"] == response["Location"]
    assert notes_of(paper) == [("olivia", "todo", "Olivia's shared to-do", "vision")]


def test_htmx_delete_returns_the_list_without_it(member_client, lab, paper, my_note, my_todo):
    response = member_client.post(note_url("note_delete", lab, my_note), headers=HTMX)
    html = response.content.decode()
    assert html.strip().startswith('<div class="note-list" id="paper-note-list">')
    assert re.findall(r'<article class="note [^"]*" id="note-(\d+)">', html) == [str(my_todo.pk)]
    assert re.search(r'<span class="signals" id="signals-\d+" hx-swap-oob="true">\s*<span>1 note</span>', html)
    assert notes_of(paper) == [("max", "todo", "Read the appendix", "vision")]


# --- Who may do what ---------------------------------------------------------------------------------

NOTE_VIEWS = [
    ("note_edit", "get", {}),
    ("note_edit", "post", {"body": "Hijacked", "visibility": "lab", "version": 1}),
    ("note_done", "post", {"done": "1"}),
    ("note_delete", "post", {}),
]


@pytest.mark.parametrize(("name", "method", "data"), NOTE_VIEWS)
@pytest.mark.parametrize("whose", ["their_note", "their_private_note"])
def test_a_member_gets_404_on_someone_elses_note(member_client, lab, paper, name, method, data, whose, request):
    note = request.getfixturevalue(whose)
    before = notes_of(paper), Note.objects.get().done, Note.objects.get().version
    response = getattr(member_client, method)(note_url(name, lab, note), data)
    assert response.status_code == 404
    assert (notes_of(paper), Note.objects.get().done, Note.objects.get().version) == before


@pytest.mark.parametrize(("name", "method", "data"), NOTE_VIEWS)
def test_an_outsider_gets_404_and_changes_nothing(client, outsider, lab, paper, my_todo, name, method, data):
    client.force_login(outsider)
    response = getattr(client, method)(note_url(name, lab, my_todo), data)
    assert response.status_code == 404
    assert notes_of(paper) == [("max", "todo", "Read the appendix", "vision")]
    assert Note.objects.get().done is False


def test_an_outsider_cannot_add_a_note(outsider_client, lab, paper):
    assert outsider_client.post(add_url(lab, paper), {"kind": "note", "body": "Hi"}).status_code == 404
    assert Note.objects.count() == 0


def test_a_member_of_another_lab_cannot_reach_this_labs_notes(client, lab, paper, my_todo):
    robotics_member = UserFactory(username="rita")
    MembershipFactory(lab=LabFactory(name="Robotics Lab", slug="robotics"), user=robotics_member)
    client.force_login(robotics_member)
    # Through this lab's URL: not a member. Through her own lab's URL: not a note she can see.
    assert client.post(note_url("note_done", lab, my_todo), {"done": "1"}).status_code == 404
    robotics = reverse("note_done", args=["robotics", paper.conference.slug, paper.forum_id, my_todo.pk])
    assert client.post(robotics, {"done": "1"}).status_code == 404
    assert Note.objects.get().done is False


def test_a_note_is_only_reached_through_its_own_paper(member_client, lab, conference, my_todo):
    from tests.factories import PaperFactory

    other = PaperFactory(conference=conference, forum_id="other")
    wrong = reverse("note_done", args=[lab.slug, conference.slug, other.forum_id, my_todo.pk])
    assert member_client.post(wrong, {"done": "1"}).status_code == 404
    assert Note.objects.get().done is False


@pytest.mark.parametrize(
    ("name", "method", "data"), [*NOTE_VIEWS, ("note_add", "post", {"kind": "note", "body": "Hi"})]
)
def test_anonymous_visitor_is_sent_to_login(client, lab, paper, my_todo, name, method, data):
    target = add_url(lab, paper) if name == "note_add" else note_url(name, lab, my_todo)
    response = getattr(client, method)(target, data)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={target}"
    assert notes_of(paper) == [("max", "todo", "Read the appendix", "vision")]


@pytest.mark.parametrize("name", ["note_done", "note_delete"])
def test_changes_need_a_post(member_client, lab, my_todo, name):
    assert member_client.get(note_url(name, lab, my_todo)).status_code == 405
    assert member_client.get(add_url(lab, my_todo.paper)).status_code == 405
    assert Note.objects.filter(pk=my_todo.pk, done=False).exists()


def test_an_edit_without_javascript_goes_back_to_next(member_client, member, lab, paper):
    note = services.add_note(author=member, paper=paper, lab=None, kind="summary", body="Old")
    inbox = reverse("triage", args=[lab.slug, paper.conference.slug])
    response = member_client.post(
        reverse("note_edit", args=[lab.slug, paper.conference.slug, paper.forum_id, note.pk]),
        {"body": "New", "version": note.version, "visibility": "private", "next": inbox},
    )
    assert response["Location"] == inbox
    assert notes_of(paper) == [("max", "summary", "New", None)]
