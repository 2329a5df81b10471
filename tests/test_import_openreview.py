import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from papers.importers.base import ImportFailed
from papers.importers.openreview import conference_from_venue_id, import_openreview, tier_from_venue
from papers.models import Conference, Note, Paper, ReadingStatus
from tests.conftest import ICLR_2024, NEURIPS_2023
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent


def v2_note(forum_id: str, title="A Paper", venue="ICLR 2024 poster", **content) -> dict:
    fields = {
        "title": {"value": title},
        "authors": {"value": ["Ada Lovelace", "Alan Turing"]},
        "abstract": {"value": "We study things."},
        "venue": {"value": venue},
        "venueid": {"value": "ICLR.cc/2024/Conference"},
        "pdf": {"value": f"/pdf?id={forum_id}"},
    }
    fields.update({key: {"value": value} for key, value in content.items()})
    return {"id": forum_id, "forum": forum_id, "content": fields}


def as_bytes(notes) -> bytes:
    return json.dumps(notes).encode()


def table_counts() -> tuple[int, int]:
    return Conference.objects.count(), Paper.objects.count()


# --- The real files ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_iclr_2024_imports_2260_papers_with_their_tiers_and_twice_changes_nothing():
    summary = import_openreview(ICLR_2024.read_bytes())

    conference = Conference.objects.get()
    assert (conference.slug, conference.name, conference.venue_id) == (
        "iclr-2024",
        "ICLR 2024",
        "ICLR.cc/2024/Conference",
    )
    assert (summary.created, summary.updated, summary.unchanged) == (2260, 0, 0)
    tiers = {tier: Paper.objects.filter(tier=tier).count() for tier in ("oral", "spotlight", "poster", "")}
    assert tiers == {"oral": 86, "spotlight": 367, "poster": 1807, "": 0}
    registers = Paper.objects.get(forum_id="2dnO3LLiJ1")
    assert registers.title == "Vision Transformers Need Registers"
    assert registers.authors == ["Timothée Darcet", "Maxime Oquab", "Julien Mairal", "Piotr Bojanowski"]
    assert registers.tier == "oral"
    assert registers.pdf_url == "https://openreview.net/pdf?id=2dnO3LLiJ1"
    assert registers.forum_url == "https://openreview.net/forum?id=2dnO3LLiJ1"
    assert Paper.objects.filter(title__contains="$").count() >= 25

    before = list(Paper.objects.order_by("pk").values_list("pk", "updated_at"))
    again = import_openreview(ICLR_2024.read_bytes())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2260)
    assert list(Paper.objects.order_by("pk").values_list("pk", "updated_at")) == before


@pytest.mark.django_db
def test_neurips_2023_imports_3218_papers_with_keywords_and_twice_changes_nothing():
    summary = import_openreview(NEURIPS_2023.read_bytes())

    assert summary.conference.slug == "neurips-2023"
    assert summary.conference.name == "NeurIPS 2023"
    assert Paper.objects.count() == 3218
    assert {t: Paper.objects.filter(tier=t).count() for t in ("oral", "spotlight", "poster")} == {
        "oral": 67,
        "spotlight": 378,
        "poster": 2773,
    }
    assert Paper.objects.get(forum_id="sPLTQSf6GI").keywords == ["Causality", "probability theory", "causal models"]
    again = import_openreview(NEURIPS_2023.read_bytes())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3218)


@pytest.mark.django_db
def test_command_prints_a_one_line_summary(capsys):
    call_command("import_openreview", str(ICLR_2024), no_similar=True)

    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "ICLR 2024 (iclr-2024): 2,260 papers: 2,260 created, 0 updated, 0 unchanged; "
        "86 oral, 367 spotlight, 1,807 poster; conference created."
    )


# --- Formats and fields -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_v1_notes_without_value_wrappers_are_read():
    note = {
        "id": "v1note0001",
        "content": {
            "title": "An Old Paper",
            "authors": ["Kurt Gödel"],
            "venue": "ICLR 2019 Poster",
            "venueid": "ICLR.cc/2019/Conference",
        },
    }
    import_openreview(as_bytes([note]))

    paper = Paper.objects.get()
    assert (paper.title, paper.authors, paper.tier, paper.conference.slug) == (
        "An Old Paper",
        ["Kurt Gödel"],
        "poster",
        "iclr-2019",
    )


@pytest.mark.django_db
def test_json_lines_and_a_saved_api_response_are_read():
    lines = "\n".join(json.dumps(v2_note(f"jsonl{i}", title=f"Line {i}")) for i in range(3)) + "\n"
    import_openreview(lines.encode())
    import_openreview(as_bytes({"notes": [v2_note("saved00001", title="Saved")], "count": 1}))

    assert sorted(Paper.objects.values_list("title", flat=True)) == ["Line 0", "Line 1", "Line 2", "Saved"]


@pytest.mark.django_db
def test_keywords_primary_area_tldr_and_latex_titles_are_kept():
    note = v2_note(
        "fields0001",
        title=r"$\mathcal{B}$-Coder: Value-Based Deep RL",
        keywords=["program synthesis", "reinforcement learning"],
        primary_area="reinforcement_learning",
        TLDR="Value-based RL writes programs.",
    )
    import_openreview(as_bytes([note]))

    paper = Paper.objects.get()
    assert paper.title == r"$\mathcal{B}$-Coder: Value-Based Deep RL"
    assert paper.keywords == ["program synthesis", "reinforcement learning"]
    assert paper.primary_area == "reinforcement learning"
    assert paper.tldr == "Value-based RL writes programs."


@pytest.mark.parametrize(
    ("venue", "tier"),
    [
        ("ICLR 2024 oral", "oral"),
        ("ICLR 2024 spotlight", "spotlight"),
        ("ICLR 2024 poster", "poster"),
        ("ICLR 2026 Poster", "poster"),
        ("NeurIPS 2023 Oral", "oral"),
        ("ICLR 2023 notable top 5%", "oral"),
        ("ICLR 2023 notable top 25%", "spotlight"),
        ("ICLR 2023 Notable-Top-25%", "spotlight"),
        ("ICLR 2023 SPOTLIGHT", "spotlight"),
        ("ICLR 2024 Conference", ""),
        ("", ""),
    ],
)
def test_tier_is_read_from_the_venue_case_insensitively(venue, tier):
    assert tier_from_venue(venue) == tier


@pytest.mark.parametrize(
    ("venue_id", "expected"),
    [
        ("ICLR.cc/2024/Conference", ("iclr-2024", "ICLR 2024")),
        ("NeurIPS.cc/2023/Conference", ("neurips-2023", "NeurIPS 2023")),
        ("thecvf.com/ICCV/2023", None),
    ],
)
def test_conference_slug_and_name_come_from_the_venue_id(venue_id, expected):
    assert conference_from_venue_id(venue_id) == expected


@pytest.mark.django_db
def test_a_venue_without_a_tier_word_imports_with_an_unknown_tier_counted_in_the_summary():
    notes = [v2_note("tiered0001"), v2_note("untiered01", venue="ICLR 2024 Conference")]
    summary = import_openreview(as_bytes(notes))

    assert Paper.objects.get(forum_id="untiered01").tier == ""
    assert summary.unknown_tier == 1
    assert str(summary).endswith("0 oral, 0 spotlight, 1 poster, 1 with an unknown tier; conference created.")


@pytest.mark.django_db
def test_conference_option_names_the_conference_when_notes_have_no_venue_id():
    note = v2_note("noVenue001")
    del note["content"]["venueid"]
    summary = import_openreview(as_bytes([note]), conference_slug="workshop-x", conference_name="Workshop X")

    assert (summary.conference.slug, summary.conference.name) == ("workshop-x", "Workshop X")
    assert Paper.objects.get().conference == summary.conference


# --- Idempotence ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reimport_updates_papers_in_place_and_keeps_stars_statuses_and_notes():
    import_openreview(as_bytes([v2_note("keepme0001", title="Old title"), v2_note("other00001")]))
    paper = Paper.objects.get(forum_id="keepme0001")
    reader = UserFactory(username="reader")
    ReadingStatus.objects.create(user=reader, paper=paper, state="shortlisted", starred=True)
    Note.objects.create(paper=paper, author=reader, kind="summary", body="Registers fix attention maps.")

    summary = import_openreview(
        as_bytes([v2_note("keepme0001", title="New title", venue="ICLR 2024 spotlight"), v2_note("other00001")])
    )

    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 1)
    paper.refresh_from_db()
    assert (paper.title, paper.tier) == ("New title", "spotlight")
    assert Paper.objects.count() == 2
    status = ReadingStatus.objects.get()
    assert (status.paper_id, status.state, status.starred) == (paper.pk, "shortlisted", True)
    assert Note.objects.get().paper_id == paper.pk
    assert Note.objects.get().body == "Registers fix attention maps."


# --- Broken input: non-zero exit, the record named, nothing written ---------------------------------

VALID = [v2_note("goodnote01"), v2_note("goodnote02")]


def broken_files() -> list[tuple[str, bytes, str]]:
    no_id = v2_note("x")
    del no_id["id"], no_id["forum"]
    no_title = v2_note("notitle001")
    del no_title["content"]["title"]
    wrong_type = v2_note("wrongtype1", title=["not", "a", "string"])
    full = json.dumps([*VALID, v2_note("truncated1")])
    valid_prefix = json.dumps(VALID)[:-1].encode()
    return [
        ("truncated JSON", full[: len(full) - 40].encode(), "record 3 (after id goodnote02): invalid JSON at line 1"),
        ("not notes at all", b'{"papers": "none here"}', "record 1: has no id (neither 'id' nor 'forum')."),
        ("a list of numbers", b"[1, 2, 3]", "record 1: is a number, not an OpenReview note."),
        ("plain text", b"title,authors\nA,B\n", "Not a JSON file (line 1, column 1)"),
        ("a note without an id", as_bytes([*VALID, no_id]), "record 3: has no id (neither 'id' nor 'forum')."),
        ("a note without a title", as_bytes([*VALID, no_title]), "record 3 (id notitle001): has no title."),
        (
            "a title of the wrong type",
            as_bytes([*VALID, wrong_type]),
            "record 3 (id wrongtype1): title must be a string, not a list.",
        ),
        (
            "bytes that are not UTF-8",
            valid_prefix + b', {"id": "badbytes01", "content": {"title": {"value": "Caf\xe9 \xff"}}}]',
            "record 3 (id badbytes01): holds text that is not valid UTF-8.",
        ),
        (
            "a duplicate id",
            as_bytes([*VALID, v2_note("goodnote01")]),
            "record 3 (id goodnote01): the same paper as record 1.",
        ),
        ("an empty file", b"", "The file is empty."),
        ("an empty array", b"[]", "The file holds no notes."),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "data", "message"), broken_files(), ids=[c[0] for c in broken_files()])
def test_broken_file_names_the_record_and_leaves_the_database_unchanged(case, data, message, tmp_path):
    import_openreview(as_bytes([v2_note("existing01", title="Already here")]))
    before = table_counts()
    path = tmp_path / "notes.json"
    path.write_bytes(data)

    with pytest.raises(CommandError) as raised:
        call_command("import_openreview", str(path))

    assert message in str(raised.value)
    assert str(raised.value).endswith("Nothing was imported.")
    assert table_counts() == before
    assert list(Paper.objects.values_list("forum_id", "title")) == [("existing01", "Already here")]


@pytest.mark.django_db
def test_truncated_file_message_in_full():
    full = json.dumps([*VALID, v2_note("truncated1")])
    with pytest.raises(ImportFailed) as raised:
        import_openreview(full[:-40].encode())
    message = str(raised.value)
    assert message.startswith("record 3 (after id goodnote02): invalid JSON at line 1, column ")
    assert message.endswith(": the file ends in the middle of it (truncated?).")


@pytest.mark.django_db
def test_a_conference_is_not_created_when_the_file_is_bad():
    with pytest.raises(ImportFailed):
        import_openreview(as_bytes([v2_note("fine000001"), {"id": "bad", "content": "no"}]))
    assert table_counts() == (0, 0)


def test_command_exits_non_zero_with_the_message_on_stderr(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_bytes(as_bytes([v2_note("goodnote01"), {"id": "broken0001", "content": {"title": {"value": 42}}}]))
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}

    result = subprocess.run(
        [sys.executable, "manage.py", "import_openreview", str(bad)], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert result.returncode == 1
    assert "record 2 (id broken0001): title must be a string, not a number." in result.stderr
    assert result.stdout == ""


# --- Which conference the notes go to ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_workshop_venue_id_needs_the_conference_named():
    note = v2_note("workshop01")
    note["content"]["venueid"] = {"value": "ICLR.cc/2024/Workshop/ME-FoMo"}
    with pytest.raises(ImportFailed) as raised:
        import_openreview(as_bytes([note]))
    assert str(raised.value) == (
        "Cannot tell the conference from venue id 'ICLR.cc/2024/Workshop/ME-FoMo' "
        "(not <Venue>.cc/<year>/Conference); pass --conference SLUG."
    )
    summary = import_openreview(as_bytes([note]), conference_slug="me-fomo-2024", conference_name="ME-FoMo 2024")
    assert (summary.conference.slug, summary.conference.venue_id) == ("me-fomo-2024", "ICLR.cc/2024/Workshop/ME-FoMo")


@pytest.mark.django_db
def test_notes_of_another_venue_never_go_into_an_existing_conference():
    import_openreview(as_bytes([v2_note("iclrpaper1")]))
    neurips = v2_note("neurips001")
    neurips["content"]["venueid"] = {"value": "NeurIPS.cc/2023/Conference"}

    with pytest.raises(ImportFailed) as raised:
        import_openreview(as_bytes([neurips]), conference_slug="iclr-2024")

    assert str(raised.value) == (
        "These notes are from 'NeurIPS.cc/2023/Conference', "
        "but the conference 'iclr-2024' is 'ICLR.cc/2024/Conference'."
    )
    assert list(Paper.objects.values_list("forum_id", flat=True)) == ["iclrpaper1"]


@pytest.mark.django_db
def test_a_renamed_conference_is_found_by_its_venue_id():
    import_openreview(as_bytes([v2_note("iclrpaper1")]))
    Conference.objects.update(slug="iclr24")

    summary = import_openreview(as_bytes([v2_note("iclrpaper1"), v2_note("iclrpaper2")]))

    assert summary.conference.slug == "iclr24"
    assert (summary.created, summary.unchanged) == (1, 1)
    assert Conference.objects.count() == 1


@pytest.mark.django_db
def test_a_venue_id_owned_by_another_conference_is_refused():
    import_openreview(as_bytes([v2_note("iclrpaper1")]))
    with pytest.raises(ImportFailed) as raised:
        import_openreview(as_bytes([v2_note("iclrpaper2")]), conference_slug="other")
    assert str(raised.value) == "Venue id 'ICLR.cc/2024/Conference' belongs to the conference 'iclr-2024', not 'other'."
    assert Conference.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("slug", "name", "message"),
    [
        ("not a slug!", None, "'not a slug!' is not a slug: use letters, digits, - and _ (e.g. iclr-2024)."),
        ("x" * 51, None, "The conference slug is longer than 50 characters."),
        ("fine", "N" * 201, "The conference name must be 1 to 200 characters, not 201."),
    ],
)
def test_bad_conference_options_are_refused_with_a_message(slug, name, message):
    with pytest.raises(ImportFailed) as raised:
        import_openreview(as_bytes([v2_note("fine000001")]), conference_slug=slug, conference_name=name)
    assert str(raised.value) == message
    assert table_counts() == (0, 0)


# --- Values the database would refuse: refused first, the same on SQLite and PostgreSQL ----------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("note", "message"),
    [
        (v2_note("nul0000001", title="Nul\x00title"), "record 2 (id nul0000001): title contains a NUL character."),
        (
            v2_note("nul0000002", authors=["Ada", "Al\x00an"]),
            "record 2 (id nul0000002): authors item 2 contains a NUL character.",
        ),
        (
            {**v2_note("big0000001"), "number": 2**31},
            "record 2 (id big0000001): number must be a whole number from 0 to",
        ),
        (v2_note("long000001", title="T" * 501), "record 2 (id long000001): title is longer than 500 characters."),
        (v2_note("slash/0001"), "record 2 (id slash/0001): 'slash/0001' is not an OpenReview forum id."),
    ],
)
def test_values_the_database_would_refuse_are_named(note, message):
    with pytest.raises(ImportFailed) as raised:
        import_openreview(as_bytes([v2_note("goodnote01"), note]))
    assert str(raised.value).startswith(message)
    assert table_counts() == (0, 0)


@pytest.mark.django_db
def test_a_failure_while_writing_rolls_everything_back(monkeypatch):
    import_openreview(as_bytes([v2_note("existing01", title="Old")]))

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    neurips = v2_note("newpaper01")
    neurips["content"]["venueid"] = {"value": "NeurIPS.cc/2023/Conference"}
    monkeypatch.setattr(Paper.objects, "bulk_create", fail)
    with pytest.raises(RuntimeError):
        import_openreview(as_bytes([neurips]))  # creates neurips-2023, then fails writing its papers
    assert list(Conference.objects.values_list("slug", flat=True)) == ["iclr-2024"]
    assert list(Paper.objects.values_list("forum_id", "title")) == [("existing01", "Old")]


@pytest.mark.django_db
def test_progress_is_reported_and_the_summary_counts_one_paper():
    calls = []
    summary = import_openreview(
        as_bytes([v2_note("onlyone001")]), progress=lambda done, total: calls.append((done, total))
    )
    assert calls == [(1, 1)]
    assert str(summary).startswith("ICLR 2024 (iclr-2024): 1 paper: 1 created, 0 updated, 0 unchanged;")


def test_broken_json_lines_name_the_line():
    lines = json.dumps(v2_note("line000001")) + "\n" + '{"id": "broken"\n'
    with pytest.raises(ImportFailed) as raised:
        import_openreview(lines.encode())
    assert str(raised.value).startswith("record 2 (line 2): invalid JSON:")


def test_notes_that_are_not_a_list_are_refused():
    with pytest.raises(ImportFailed) as raised:
        import_openreview(b'{"notes": 5}')
    assert str(raised.value) == '"notes" must be a list of records, not a number.'


@pytest.mark.django_db
def test_a_clash_with_a_concurrent_import_is_reported_not_raised(monkeypatch):
    from django.db import IntegrityError

    def clash(*args, **kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(Paper.objects, "bulk_create", clash)
    with pytest.raises(ImportFailed) as raised:
        import_openreview(as_bytes([v2_note("racing0001")]))
    assert str(raised.value) == "Another import of this conference ran at the same time; run this one again."
    assert table_counts() == (0, 0)
