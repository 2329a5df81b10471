"""
Members acting at the same moment, on PostgreSQL: real threads, each with its own database connection,
released together by a barrier. No exception, no 500, no duplicate row, no lost update (the stale editor
is told), every star and note still there afterwards.

Skipped on SQLite: it takes one writer at a time (so threads cannot race there), and the code under test
relies on PostgreSQL's row locks where SQLite needs none.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from papers import search, services
from papers.models import Membership, Note, Paper, ReadingStatus
from tests.factories import MembershipFactory, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not search.is_postgresql(),
        reason="concurrency is tested on PostgreSQL: SQLite serialises writers, so threads cannot race there",
    ),
]

HTMX = {"HX-Request": "true"}
THREADS = 20
STALE = "This note was changed elsewhere since you opened it; your edit was not saved."


def run_together(tasks: list[Callable]) -> list:
    """
    Run each task in its own thread, all released at once by a barrier; return what each returned or raised.
    Each thread closes its own database connection when it is done.
    """
    barrier = threading.Barrier(len(tasks))
    results: list = [None] * len(tasks)

    def run(index: int, task: Callable) -> None:
        try:
            barrier.wait(timeout=60)
            results[index] = task()
        except BaseException as error:  # reported by the test, never swallowed
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, task)) for index, task in enumerate(tasks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (a deadlock?)"
    return results


def errors(results: list) -> list[BaseException]:
    return [result for result in results if isinstance(result, BaseException)]


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def star_url(lab, paper) -> str:
    return reverse("paper_star", args=[lab.slug, paper.conference.slug, paper.forum_id])


def statuses(paper) -> list[tuple]:
    return list(ReadingStatus.objects.filter(paper=paper).values_list("user__username", "starred", "state"))


# --- 1. Stars ----------------------------------------------------------------------------------------------


def test_twenty_stars_of_one_member_at_once_are_one_starred_row(member, paper):
    def star():
        return services.set_star(user=member, paper=paper, starred=True).starred

    results = run_together([star] * THREADS)
    assert errors(results) == []
    assert results == [True] * THREADS
    assert statuses(paper) == [("max", True, "shortlisted")]


def test_twenty_stars_and_unstars_of_one_member_at_once_leave_one_consistent_row(member, paper):
    def star(starred: bool) -> Callable:
        return lambda: services.set_star(user=member, paper=paper, starred=starred)

    results = run_together([star(index % 2 == 0) for index in range(THREADS)])
    assert errors(results) == []
    # Whichever came last decides the star; any star shortlisted the untriaged paper, and no unstar undoes that.
    [(username, starred, state)] = statuses(paper)
    assert (username, state) == ("max", "shortlisted")
    assert starred in {True, False}

    # Then everyone unstars: the last word, whatever the order.
    assert errors(run_together([star(False)] * THREADS)) == []
    assert statuses(paper) == [("max", False, "shortlisted")]


def test_twenty_star_posts_of_one_member_at_once_answer_without_a_500(member, lab, paper):
    clients = [logged_in(member) for _ in range(THREADS)]
    tasks = [
        (
            lambda client=client, index=index: client.post(
                star_url(lab, paper), {"starred": "1"}, headers=HTMX if index % 2 else {}
            )
        )
        for index, client in enumerate(clients)
    ]
    results = run_together(tasks)
    assert errors(results) == []
    assert Counter(response.status_code for response in results) == {200: THREADS // 2, 302: THREADS // 2}
    for response in results:
        if response.status_code == 200:  # htmx: my controls again, showing the star set
            assert 'aria-pressed="true"' in response.content.decode()
    assert statuses(paper) == [("max", True, "shortlisted")]


def test_twenty_inbox_stars_of_one_member_at_once_are_one_decision_to_undo(member, paper):
    def decide():
        return services.triage_decide(user=member, paper=paper, action="star")

    results = run_together([decide] * THREADS)
    assert errors(results) == []
    # One of them starred the paper; the others found it starred already: nothing more to undo.
    decisions = [result for result in results if result is not None]
    assert decisions == [{"forum_id": paper.forum_id, "state": "", "starred": False, "existed": False}]
    assert statuses(paper) == [("max", True, "shortlisted")]

    services.triage_undo(user=member, paper=paper, record=decisions[0])
    assert statuses(paper) == []


def test_twenty_members_starring_one_paper_at_once_are_twenty_rows(lab, paper):
    members = [UserFactory(username=f"member{index:02}") for index in range(THREADS)]
    for user in members:
        MembershipFactory(lab=lab, user=user, role=Membership.Role.MEMBER)
    clients = [logged_in(user) for user in members[: THREADS // 2]]
    tasks = [
        (lambda client=client: client.post(star_url(lab, paper), {"starred": "1"}).status_code) for client in clients
    ]
    tasks += [
        (lambda user=user: services.set_star(user=user, paper=paper, starred=True) and 302)
        for user in members[THREADS // 2 :]
    ]
    results = run_together(tasks)
    assert errors(results) == []
    assert results == [302] * THREADS
    assert sorted(statuses(paper)) == [(user.username, True, "shortlisted") for user in members]
    assert Paper.objects.with_lab_star_count(lab).get(pk=paper.pk).lab_star_count == THREADS


# --- 2. Notes ----------------------------------------------------------------------------------------------


def note_edit_url(lab, note) -> str:
    return reverse("note_edit", args=[lab.slug, note.paper.conference.slug, note.paper.forum_id, note.pk])


def test_two_editors_of_one_note_at_once_one_wins_and_the_other_is_told_with_their_text_kept(member, lab, paper):
    note = services.add_note(author=member, paper=paper, lab=lab, kind="note", body="First draft")
    rounds = 5  # several rounds, each from the version the last one left, for the two posts to really overlap
    for round_number in range(rounds):
        version = Note.objects.get(pk=note.pk).version
        # Two devices of the author, both with the editor open on the same version.
        laptop, phone = logged_in(member), logged_in(member)
        for device in (laptop, phone):
            assert f'name="version" value="{version}"' in device.get(note_edit_url(lab, note)).content.decode()
        texts = [f"Laptop's rewrite {round_number}", f"Phone's rewrite {round_number}"]

        def save(device: Client, body: str, version: int = version) -> Callable:
            return lambda: device.post(
                note_edit_url(lab, note), {"body": body, "version": version, "visibility": "lab"}
            )

        results = run_together([save(laptop, texts[0]), save(phone, texts[1])])
        assert errors(results) == []
        assert sorted(response.status_code for response in results) == [302, 409]
        won = next(index for index, response in enumerate(results) if response.status_code == 302)
        lost = 1 - won

        saved = Note.objects.get(pk=note.pk)
        assert (saved.body, saved.version) == (texts[won], version + 1)
        html = results[lost].content.decode()
        assert STALE in html
        # The loser sees the note as it now reads, and their own text in the editor, to copy or save over it.
        shown = re.search(r'<pre class="note-conflict__text">(.*?)</pre>', html, re.S).group(1)
        draft = re.search(r'<textarea name="body"[^>]*>\s*(.*?)</textarea>', html, re.S).group(1)
        assert (unescape(shown), unescape(draft)) == (texts[won], texts[lost])
        assert f'name="version" value="{version + 1}"' in html
    assert Note.objects.filter(paper=paper).count() == 1


def test_twenty_edits_from_one_version_at_once_save_exactly_one(member, lab, paper):
    note = services.add_note(author=member, paper=paper, lab=lab, kind="note", body="First draft")

    def edit(index: int) -> Callable:
        return lambda: services.edit_note(note=note, editor=member, body=f"Edit {index}", lab=lab, version=1).body

    results = run_together([edit(index) for index in range(THREADS)])
    stale = errors(results)
    assert [str(error) for error in stale] == [STALE] * (THREADS - 1)
    [saved] = [result for result in results if not isinstance(result, BaseException)]
    assert list(Note.objects.values_list("body", "version")) == [(saved, 2)]


def test_twenty_submits_of_one_note_at_once_make_one_note(member, lab, paper):
    def add():
        return services.add_note(author=member, paper=paper, lab=lab, kind="question", body="Why registers?").pk

    results = run_together([add] * THREADS)
    assert errors(results) == []
    assert len(set(results)) == 1
    assert list(Note.objects.values_list("kind", "body")) == [("question", "Why registers?")]


def test_twenty_one_liners_of_one_member_at_once_leave_one(member, lab, paper):
    def add(index: int) -> Callable:
        return lambda: services.add_note(author=member, paper=paper, lab=lab, kind="summary", body=f"Take {index}")

    results = run_together([add(index) for index in range(THREADS)])
    assert errors(results) == []
    [(body,)] = Note.objects.filter(kind="summary").values_list("body")
    assert body in {f"Take {index}" for index in range(THREADS)}
