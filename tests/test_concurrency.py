"""
Members acting at the same moment, on PostgreSQL: real threads, each with its own database connection,
released together by a barrier. No exception, no 500, no duplicate row, no lost update (the stale editor
is told), every star and note still there afterwards.

Skipped on SQLite: it takes one writer at a time (so threads cannot race there), and the code under test
relies on PostgreSQL's row locks where SQLite needs none.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from html import unescape
from pathlib import Path

import pytest
from django.core.management import call_command
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
        services.set_star(user=member, paper=paper, starred=True)
        return "starred"

    results = run_together([star] * THREADS)
    assert errors(results) == []
    assert results == ["starred"] * THREADS
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

    def star_as(user):
        services.set_star(user=user, paper=paper, starred=True)
        return 302  # as the page answers

    tasks += [(lambda user=user: star_as(user)) for user in members[THREADS // 2 :]]
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


def test_twenty_deletes_then_twenty_undos_of_one_note_at_once(member, lab, paper):
    note = services.add_note(author=member, paper=paper, lab=lab, kind="todo", body="Read the appendix")
    before = Note.objects.values_list("body", "lab", "kind", "version", "created_at", "updated_at").get()

    results = run_together([lambda: services.delete_note(note=note, editor=member).deleted_at] * THREADS)
    assert errors(results) == []
    assert len(set(results)) == 1  # one deletion: its undo window runs from the first click
    assert (Note.objects.count(), Note.all_objects.count()) == (0, 1)

    results = run_together([lambda: services.restore_note(note_id=note.pk, editor=member).deleted_at] * THREADS)
    assert errors(results) == []
    assert results == [None] * THREADS
    assert Note.objects.values_list("body", "lab", "kind", "version", "created_at", "updated_at").get() == before


# --- 3. An import while members star and annotate -------------------------------------------------------------

WORKERS = 10
PAPERS = 200
NEW_PAPERS = 100
RETITLED = 40
PER_MEMBER = 20  # papers each member stars and notes, in each round


def openreview_notes(count: int, *, retitled: int = 0) -> list[dict]:
    words = ["attention", "diffusion", "graph", "kernel", "sparse", "robust", "causal", "spiking", "token", "reward"]
    notes = []
    for index in range(count):
        title = f"Paper {index}: {words[index % 10]} {words[(index * 7) % 10]} learning"
        if index < retitled:
            title += " (camera-ready)"
        content = {
            "title": {"value": title},
            "authors": {"value": [f"Author {index}", "Ada Lovelace"]},
            "abstract": {"value": f"We study {words[index % 10]} and {words[(index * 3) % 10]} at scale {index}."},
            "venue": {"value": "ICLR 2024 poster"},
            "venueid": {"value": "ICLR.cc/2024/Conference"},
        }
        notes.append({"id": f"fake{index:04}", "forum": f"fake{index:04}", "content": content})
    return notes


def import_file(path: Path) -> str:
    out = io.StringIO()
    call_command("import_openreview", str(path), stdout=out)
    return out.getvalue()


def summary_line(output: str) -> str:
    return re.sub(r" \(\d+\.\d s\)", "", output.splitlines()[0])


def test_an_import_while_ten_members_star_and_annotate(lab, tmp_path):
    first, second = tmp_path / "v1.json", tmp_path / "v2.json"
    first.write_text(json.dumps(openreview_notes(PAPERS)))
    second.write_text(json.dumps(openreview_notes(PAPERS + NEW_PAPERS, retitled=RETITLED)))
    assert summary_line(import_file(first)).startswith("ICLR 2024 (iclr-2024): 200 papers: 200 created, 0 updated")

    members = [UserFactory(username=f"worker{index}") for index in range(WORKERS)]
    for user in members:
        MembershipFactory(lab=lab, user=user, role=Membership.Role.MEMBER)
    clients = {user.pk: logged_in(user) for user in members}

    def annotate(user, forum_ids: list[str], round_name: str) -> Callable:
        """Star, shortlist and note papers: half through the pages (the test client), half through the services."""

        def work() -> list[int]:
            codes = []
            client = clients[user.pk]
            for position, forum_id in enumerate(forum_ids):
                moments.append(time.monotonic())
                paper = Paper.objects.get(conference__slug="iclr-2024", forum_id=forum_id)
                body = f"{user.username} on {forum_id}, {round_name}"
                if position % 2:
                    codes.append(client.post(star_url(lab, paper), {"starred": "1"}).status_code)
                    url = reverse("note_add", args=[lab.slug, "iclr-2024", forum_id])
                    codes.append(client.post(url, {"kind": "note", "body": body, "visibility": "lab"}).status_code)
                else:
                    services.set_star(user=user, paper=paper, starred=True)
                    services.add_note(author=user, paper=paper, lab=lab, kind="note", body=body)
                if position % 5 == 0:  # a one-liner on some, replacing the member's earlier one there
                    services.add_note(author=user, paper=paper, lab=None, kind="summary", body=f"In short: {body}")
            return codes

        return work

    moments: list[float] = []  # when each paper's work began: reported (not asserted) against the import's span
    spans: list[tuple[float, float]] = []

    def timed_import() -> str:
        started = time.monotonic()
        output = import_file(second)
        spans.append((started, time.monotonic()))
        return output

    def slice_of(index: int, offset: int, pool: int) -> list[str]:
        return [f"fake{(offset + index * 7 + step * 3) % pool:04}" for step in range(PER_MEMBER)]

    # Round 1: the re-import with changes (100 new papers, 40 retitled) while members work on the first 200.
    round_one = {user.pk: slice_of(index, 0, PAPERS) for index, user in enumerate(members)}
    tasks = [timed_import]
    tasks += [annotate(user, round_one[user.pk], "round 1") for user in members]
    results = run_together(tasks)
    assert errors(results) == []
    assert summary_line(results[0]).startswith(
        "ICLR 2024 (iclr-2024): 300 papers: 100 created, 40 updated, 160 unchanged"
    )
    assert all(code == 302 for codes in results[1:] for code in codes)

    # Round 2: the same file again (nothing changes) while members work on all 300, new papers included.
    round_two = {user.pk: slice_of(index, 150, PAPERS + NEW_PAPERS) for index, user in enumerate(members)}
    tasks = [timed_import]
    tasks += [annotate(user, round_two[user.pk], "round 2") for user in members]
    results = run_together(tasks)
    assert errors(results) == []
    assert summary_line(results[0]).startswith("ICLR 2024 (iclr-2024): 300 papers: 0 created, 0 updated, 300 unchanged")
    assert all(code == 302 for codes in results[1:] for code in codes)

    # Every paper once, the new titles in; every star and every note still there.
    papers = Paper.objects.filter(conference__slug="iclr-2024")
    assert papers.count() == PAPERS + NEW_PAPERS
    assert papers.values("forum_id").distinct().count() == PAPERS + NEW_PAPERS
    assert papers.filter(title__endswith="(camera-ready)").count() == RETITLED
    starred = {user.pk: set(round_one[user.pk]) | set(round_two[user.pk]) for user in members}
    expected_stars = sorted((user.username, forum_id) for user in members for forum_id in starred[user.pk])
    rows = ReadingStatus.objects.filter(starred=True, state="shortlisted")
    assert sorted(rows.values_list("user__username", "paper__forum_id")) == expected_stars
    assert ReadingStatus.objects.count() == len(expected_stars)
    notes = Note.objects.filter(kind="note").values_list("author__username", "paper__forum_id", "body")
    assert sorted(notes) == sorted(
        (user.username, forum_id, f"{user.username} on {forum_id}, {name}")
        for user in members
        for name, chosen in (("round 1", round_one), ("round 2", round_two))
        for forum_id in chosen[user.pk]
    )
    one_liners = Note.objects.filter(kind="summary")
    chosen_for_summary = {
        (user.pk, forum_id)
        for user in members
        for chosen in (round_one, round_two)
        for position, forum_id in enumerate(chosen[user.pk])
        if position % 5 == 0
    }
    assert one_liners.count() == len(chosen_for_summary)
    assert one_liners.values("author", "paper").distinct().count() == len(chosen_for_summary)
    during = sum(1 for moment in moments if any(start <= moment <= end for start, end in spans))
    print(
        f"\n2 imports + {WORKERS} members x {2 * PER_MEMBER} papers ({during} of {len(moments)} begun during an "
        f"import): {len(expected_stars)} stars, {notes.count()} notes, {one_liners.count()} one-liners, 0 errors"
    )
