"""
Hostile files for every importer, made by hypothesis from a small valid file: a field of the wrong type,
missing or 100,000 characters long, nesting 1,000+ deep, bytes that are not UTF-8, NUL characters,
duplicate ids, numbers no parser should take, an empty file, a top level that is no list, random bytes,
a truncated file.

The property, for every example, through the management command as an administrator runs it:
- either a clean import, and then the database holds what the file says (and every text fits its column);
- or CommandError (a non-zero exit) with a one-line message, naming the record when one record is to blame,
  and the database exactly as before: every row of every table compared before and after.

Each example runs in a savepoint that is rolled back afterwards, so every example starts from the same
database. The number of examples run per importer is printed at the end of the module.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papers.exporters.backup import FORMAT, VERSION
from papers.models import Conference, Membership, Note, Paper, Presentation, ReadingStatus, Session
from tests.factories import LabFactory, MembershipFactory, NoteFactory, PaperFactory, UserFactory

# Examples per importer: together well under a minute on SQLite on a shared 2-core machine. Set
# IMPORT_PROPERTY_EXAMPLES=2000 for a longer search (what found the bugs pinned at the end).
EXAMPLES = int(os.environ.get("IMPORT_PROPERTY_EXAMPLES", "200"))
PROPERTY_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # failing examples are not replayed from a saved database: every run draws afresh
    # CI draws the same examples every run (a new finding must not turn an unrelated change red);
    # a developer's run explores new ones.
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

RUNS: Counter[tuple[str, str]] = Counter()  # (importer, "imported" | "refused") -> examples


@pytest.fixture(scope="module", autouse=True)
def report_examples(request):
    yield
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    importers = sorted({importer for importer, _ in RUNS})
    if reporter is None or capture is None or not importers:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        for importer in importers:
            imported, refused = RUNS[(importer, "imported")], RUNS[(importer, "refused")]
            reporter.write_line(
                f"hypothesis examples run: {importer} {imported + refused} ({imported} imported, {refused} refused)"
            )


# --- Writing hostile files -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """JSON text (or bytes) put into the file as they are: what json.dumps cannot write."""

    data: bytes
    name: str

    def __repr__(self) -> str:
        return f"Raw({self.name})"


def deep(depth: int, opener: str = "[") -> Raw:
    if opener == "[":
        return Raw(b"[" * depth + b"]" * depth, f"list nested {depth} deep")
    return Raw(b'{"a":' * depth + b"1" + b"}" * depth, f"object nested {depth} deep")


RAW_VALUES = st.one_of(
    st.builds(deep, st.integers(min_value=30, max_value=5000), st.sampled_from(["[", "{"])),
    st.sampled_from(
        [
            Raw(b"9" * 5000, "an integer of 5,000 digits"),
            Raw(b"-" + b"1" * 4301, "an integer of 4,301 digits"),
            Raw(b"1e999", "1e999"),
            Raw(b"NaN", "NaN"),
            Raw(b"-Infinity", "-Infinity"),
            Raw(b'"caf\xe9 \xff\xfe"', "a string of Latin-1 bytes"),
            Raw(b'"\xc0\xaf"', "an overlong UTF-8 sequence"),
            Raw(b'"\xed\xa0\x80"', "an encoded surrogate"),
            Raw(b'"a\x00b"', "a raw NUL in a string"),
            Raw(b'"\\u0000"', "an escaped NUL"),
            Raw(b'"\\ud800"', "an escaped lone surrogate"),
        ]
    ),
)

HOSTILE_STRINGS = st.sampled_from(
    [
        "",
        "   ",
        "\x00",
        "title\x00with a NUL",
        "\ud800",
        "line one\nline two",
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "javascript:alert(1)",
        "$\\mathcal{B}$ \\",
        "../../etc/passwd",
        "Europe/Vienna",
        "Not/A_Zone",
        "2024-05-07T10:45:00+02:00",
        "2024-05-07T10:45:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-12:00",
        "2024-02-30",
        "0001-01-01",
        "9999-12-31",
        "https://openreview.net/forum?id=posterAA01",
        "/pdf?id=abc",
        "ICLR.cc/2024/Conference",
        "NeurIPS.cc/2023/Conference",
        "A" * 60 + ".cc/2024/Conference",
        "V" * 201,
        "ICLR 2024 oral",
        "owner",
        "shortlisted",
        "summary",
        "iclr-2024",
        "posterAA01",
    ]
)

HUGE_STRINGS = st.builds(
    lambda char, length: char * length,
    st.sampled_from(["a", "é", "😀", " ", "\x00", "\ud800", "<b>"]),
    st.sampled_from([100_000, 200_000]),
)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    HOSTILE_STRINGS,
)

HOSTILE_VALUES = st.one_of(
    HOSTILE_STRINGS,  # the right type with the wrong content finds more than the wrong type: drawn most
    HOSTILE_STRINGS,
    st.lists(HOSTILE_STRINGS, min_size=1, max_size=3),
    st.recursive(
        st.one_of(SCALARS, HUGE_STRINGS, RAW_VALUES),
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(st.text(max_size=6), children, max_size=3),
            st.builds(lambda value: {"value": value}, children),
        ),
        max_leaves=4,
    ),
)


def dumps(value: Any, *, indent: int | None, ascii_only: bool) -> bytes:
    """JSON bytes of value, with each Raw written as it is (as bytes, even if they are not UTF-8)."""
    raws: list[Raw] = []

    def mark(item: Any) -> Any:
        if isinstance(item, Raw):
            raws.append(item)
            return f"\x01raw{len(raws) - 1}\x01"
        if isinstance(item, dict):
            return {key: mark(child) for key, child in item.items()}
        if isinstance(item, list):
            return [mark(child) for child in item]
        return item

    text = json.dumps(mark(value), indent=indent, ensure_ascii=ascii_only)
    # ensure_ascii=False writes a lone surrogate as it is: encoded it becomes bytes that are not UTF-8.
    data = text.encode("utf-8", "surrogatepass")
    for number, raw in enumerate(raws):
        data = data.replace(f'"\\u0001raw{number}\\u0001"'.encode(), raw.data, 1)
    return data


@dataclass
class Case:
    """One hostile file. label: the record the mutation is in, as messages name it (None: the whole file)."""

    data: bytes
    description: str
    label: str | None = None
    records: list | None = None  # the records as written, when the file is still the importer's shape
    extra: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Case({self.description}, {len(self.data):,} bytes: {self.data[:300]!r})"


# Mutations of one record: a field set to a hostile value or removed, the record replaced, an id reused.


def set_path(record: dict, path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        child = record.get(key)
        if not isinstance(child, dict):
            child = record[key] = {}
        record = child
    record[path[-1]] = value


def delete_path(record: dict, path: tuple[str, ...]) -> None:
    for key in path[:-1]:
        record = record.get(key)
        if not isinstance(record, dict):
            return
    record.pop(path[-1], None)


@st.composite
def mutated_records(draw, base: list[dict], paths: list[tuple[str, ...]], id_keys: tuple[str, ...]):
    """(records, description, target, keys): base with one record changed in one way; keys: the fields changed."""
    records = json.loads(json.dumps(base))
    target = draw(st.integers(min_value=0, max_value=len(records) - 1))
    record = records[target]
    kind = draw(st.sampled_from(["set", "set", "set", "delete", "replace", "duplicate", "several", "every"]))
    any_path = st.one_of(st.sampled_from(paths), st.tuples(st.text(min_size=1, max_size=8)))
    if kind == "set":
        path = draw(any_path)
        value = draw(HOSTILE_VALUES)
        set_path(record, path, value)
        keys = {path[0]}
        description = f"record {target + 1}: {'.'.join(path)} = {value!r:.120}"
    elif kind == "delete":
        path = draw(st.sampled_from(paths))
        delete_path(record, path)
        keys = {path[0]}
        description = f"record {target + 1}: without {'.'.join(path)}"
    elif kind == "replace":
        value = draw(HOSTILE_VALUES)
        records[target] = value
        keys = {"(the whole record)"}
        description = f"record {target + 1} replaced by {value!r:.120}"
    elif kind == "duplicate":
        other = records[draw(st.integers(min_value=0, max_value=len(records) - 1))]
        for key in id_keys:
            if key in other:
                record[key] = other[key]
        keys = set(id_keys)
        description = f"record {target + 1} takes the id of another"
    elif kind == "every":  # what one record cannot do alone: a venue id, say, is the file's
        path = draw(st.sampled_from(paths))
        value = draw(HOSTILE_VALUES)
        for each in records:
            set_path(each, path, value)
        target, keys = None, {path[0]}  # the file's problem, if any: no one record to name
        description = f"every record: {'.'.join(path)} = {value!r:.120}"
    else:
        changes = draw(st.lists(st.tuples(st.sampled_from(paths), HOSTILE_VALUES), min_size=2, max_size=4))
        for path, value in changes:
            set_path(record, path, value)
        keys = {path[0] for path, _ in changes}
        description = f"record {target + 1}: several fields {[('.'.join(p), v) for p, v in changes]!r:.160}"
    return records, description, target, keys


@st.composite
def broken_bytes(draw, valid: bytes):
    """A valid file broken as bytes: cut short, a byte not UTF-8 or a NUL put in, a BOM, or noise."""
    kind = draw(st.sampled_from(["truncate", "inject", "bom", "noise", "empty", "trailing"]))
    if kind == "truncate":
        cut = draw(st.integers(min_value=0, max_value=len(valid) - 1))
        return valid[:cut], f"cut after {cut:,} bytes"
    if kind == "inject":
        at = draw(st.integers(min_value=0, max_value=len(valid)))
        junk = draw(st.sampled_from([b"\xff", b"\x00", b"\xc3", b"\xed\xa0\x80", b"\r", b'"', b"\\", b"]", b"}"]))
        return valid[:at] + junk + valid[at:], f"{junk!r} put in at byte {at:,}"
    if kind == "bom":
        return b"\xef\xbb\xbf" + valid, "a UTF-8 byte-order mark first"
    if kind == "noise":
        return draw(st.binary(min_size=1, max_size=300)), "random bytes"
    if kind == "empty":
        return draw(st.sampled_from([b"", b" ", b"\n\n", b"\xef\xbb\xbf"])), "an empty file"
    return valid + draw(st.sampled_from([b"x", b"[]", b"{}", b"\x00", b"\n{}"])), "data after the end"


def whole_file_shapes(list_key: str):
    """Files whose top level is wrong: a scalar, an object without the list, the list under the key as a scalar."""
    return st.one_of(
        st.builds(lambda value: (value, f"the file is {value!r:.80}"), SCALARS | HUGE_STRINGS),
        st.builds(lambda value: ({list_key: value}, f"{list_key} is {value!r:.80}"), HOSTILE_VALUES),
        st.builds(lambda value: (value, "nested"), st.builds(deep, st.integers(500, 5000), st.sampled_from("[{"))),
        st.just(([], "an empty list")),
        st.just(({}, "an empty object")),
    )


def json_cases(base: list[dict], paths, id_keys, *, list_key: str, wrap: Callable[[list], Any]):
    """Every kind of hostile JSON file made from base (the valid records) and wrap (records → document)."""

    @st.composite
    def record_case(draw):
        records, description, target, _ = draw(mutated_records(base, paths, id_keys))
        data = dumps(wrap(records), indent=draw(st.sampled_from([None, 1])), ascii_only=draw(st.booleans()))
        return Case(data, description, label=None if target is None else f"record {target + 1}", records=records)

    @st.composite
    def byte_case(draw):
        data, description = draw(broken_bytes(dumps(wrap(base), indent=1, ascii_only=False)))
        return Case(data, description)

    @st.composite
    def shape_case(draw):
        document, description = draw(whole_file_shapes(list_key))
        return Case(dumps(document, indent=None, ascii_only=True), description)

    return st.one_of(record_case(), record_case(), record_case(), byte_case(), shape_case())


# --- What must hold ------------------------------------------------------------------------------------


def database_state() -> dict[str, tuple[int, str]]:
    """Every table of the app: its row count and a hash of all its rows in primary-key order."""
    state = {}
    with connection.cursor() as cursor:
        for model in apps.get_app_config("papers").get_models():
            table, pk = (connection.ops.quote_name(name) for name in (model._meta.db_table, model._meta.pk.column))
            cursor.execute(f"SELECT * FROM {table} ORDER BY {pk}")  # raw: fast enough to run twice an example
            rows = cursor.fetchall()
            state[model.__name__] = (len(rows), hashlib.sha256(repr(rows).encode("utf-8", "surrogatepass")).hexdigest())
    return state


def assert_texts_fit_their_columns() -> None:
    """SQLite stores an overlong value silently; PostgreSQL would refuse it. The importers must check."""
    for model in apps.get_app_config("papers").get_models():
        limited = [f.name for f in model._meta.concrete_fields if isinstance(f, models.CharField) and f.max_length]
        for row in model.objects.values_list("pk", *limited):
            for name, value in zip(limited, row[1:], strict=True):
                limit = model._meta.get_field(name).max_length
                assert value is None or len(value) <= limit, f"{model.__name__} {row[0]}: {name} has {len(value)}"
                assert value is None or "\x00" not in value, f"{model.__name__} {row[0]}: {name} holds a NUL"


def check_example(
    importer: str, case: Case, path: Path, run: Callable[[Path], None], imported: Callable[[Case], None]
) -> None:
    path.write_bytes(case.data)
    with transaction.atomic():
        before = database_state()
        try:
            run(path)
        except CommandError as error:
            message = str(error)
            assert len(message.splitlines()) == 1, f"more than one line: {message!r:.500}"
            assert len(message) < 1000, f"a message of {len(message):,} characters"
            message.encode("utf-8")  # printable: no bytes that were not UTF-8 left in it
            assert message.endswith("Nothing was imported."), message
            if case.label is not None:
                assert re.search(rf"\b{case.label}\b", message), f"does not name {case.label}: {message}"
            assert database_state() == before, f"the database changed, yet: {message}"
            RUNS[(importer, "refused")] += 1
        else:
            assert_texts_fit_their_columns()
            imported(case)
            RUNS[(importer, "imported")] += 1
        transaction.set_rollback(True)


def unwrap(value: Any) -> Any:
    return value["value"] if isinstance(value, dict) and "value" in value else value


def as_text(data: bytes) -> str:
    """The file as the importers read it: bytes that are not UTF-8 kept as surrogates (in fields they ignore)."""
    return data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "surrogateescape")


def parsed(case: Case) -> Any:
    """The file as the importer saw it, for checking a successful import."""
    if case.records is not None:
        return case.records
    text = as_text(case.data).strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


# --- import_openreview ----------------------------------------------------------------------------------


def openreview_note(forum_id: str, number: int, title: str, venue: str) -> dict:
    """A note as the real file has it (API v2: every content field wrapped in {"value": …})."""
    return {
        "id": forum_id,
        "forum": forum_id,
        "number": number,
        "invitations": ["ICLR.cc/2024/Conference/-/Submission"],
        "domain": "ICLR.cc/2024/Conference",
        "content": {
            "title": {"value": title},
            "authors": {"value": ["Timothée Darcet", "Maxime Oquab"]},
            "authorids": {"value": ["~Timothée_Darcet1", "~Maxime_Oquab1"]},
            "abstract": {"value": "Transformers have recently emerged as a powerful tool for learning visual tasks"},
            "keywords": {"value": ["vision transformers", "attention"]},
            "venue": {"value": venue},
            "venueid": {"value": "ICLR.cc/2024/Conference"},
            "pdf": {"value": f"/pdf?id={forum_id}"},
        },
    }


NOTES = [
    openreview_note("2dnO3LLiJ1", 1, "Vision Transformers Need Registers", "ICLR 2024 oral"),
    openreview_note("HE9eUQlAvo", 2, "What Data Benefits My Classifier?", "ICLR 2024 spotlight"),
    openreview_note("9JQtrumvg8", 3, "A Real-World WebAgent with Planning", "ICLR 2024 poster"),
]
NOTE_PATHS = [
    ("id",),
    ("forum",),
    ("number",),
    ("content",),
    ("invitations",),
    *(
        ("content", key, *inner)
        for key in ("title", "authors", "abstract", "keywords", "venue", "venueid", "pdf", "primary_area", "TLDR")
        for inner in ((), ("value",))
    ),
]


def openreview_imported(case: Case) -> None:
    notes = parsed(case)
    if isinstance(notes, dict):
        notes = notes.get("notes", [notes])
    expected = {}
    for note in notes:
        forum_id = (note.get("forum") or note.get("id")).strip()
        expected[forum_id] = unwrap(note["content"]["title"]).strip()
    # The file's venue id names the conference: ICLR 2024's, or one the import created.
    conference = Paper.objects.filter(forum_id__in=expected).latest("updated_at").conference
    stored = dict(Paper.objects.filter(conference=conference).values_list("forum_id", "title"))
    assert {forum_id: stored.get(forum_id) for forum_id in expected} == expected
    assert set(stored) == {*expected, "keptPaper1"} if conference.slug == "iclr-2024" else set(expected)
    # The lab's work on the paper that was there before is untouched.
    assert list(Note.objects.values_list("paper__forum_id", "body")) == [("keptPaper1", "Keep me.")]
    assert list(ReadingStatus.objects.values_list("paper__forum_id", "starred")) == [("keptPaper1", True)]


@pytest.mark.django_db
def test_hostile_openreview_files_import_cleanly_or_change_nothing(tmp_path):
    conference = Conference.objects.create(slug="iclr-2024", name="ICLR 2024", venue_id="ICLR.cc/2024/Conference")
    kept = PaperFactory(conference=conference, forum_id="keptPaper1", title="Kept")
    reader = UserFactory(username="reader")
    ReadingStatus.objects.create(user=reader, paper=kept, state="reading", starred=True)
    NoteFactory(paper=kept, author=reader, lab=None, body="Keep me.")
    path = tmp_path / "notes.json"

    def run(file: Path) -> None:
        call_command("import_openreview", str(file), stdout=io.StringIO(), stderr=io.StringIO())

    @PROPERTY_SETTINGS
    @given(json_cases(NOTES, NOTE_PATHS, ("id", "forum"), list_key="notes", wrap=lambda records: records))
    def property_holds(case: Case) -> None:
        check_example("import_openreview", case, path, run, openreview_imported)

    property_holds()
    assert sum(count for (importer, _), count in RUNS.items() if importer == "import_openreview") >= EXAMPLES


# --- import_schedule ------------------------------------------------------------------------------------

SCHEDULE_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "schedule" / "basic.json"
ENTRIES = json.loads(SCHEDULE_FIXTURE.read_text())["results"][:4]
ENTRY_PATHS = [
    (key,)
    for key in (
        "id",
        "uid",
        "name",
        "eventtype",
        "session",
        "starttime",
        "endtime",
        "room_name",
        "poster_position",
        "paper_url",
        "sourceid",
        "authors",
    )
]


def schedule_imported(case: Case) -> None:
    entries = parsed(case)
    if isinstance(entries, dict):
        entries = entries["results"]
    for entry in entries:
        session, url = entry.get("session"), entry.get("paper_url")
        found = re.search(r"id=([A-Za-z0-9_-]+)$", url.strip()) if isinstance(url, str) else None
        forum_id = found.group(1) if found else ""
        if isinstance(session, str) and session.strip() and Paper.objects.filter(forum_id=forum_id).exists():
            assert Presentation.objects.filter(paper__forum_id=forum_id, session__title=session.strip()).exists()
        if isinstance(session, str) and session.strip():
            assert Session.objects.filter(title=session.strip(), lab=None).exists()
    assert Paper.objects.count() == 4


@pytest.mark.django_db
def test_hostile_schedule_files_import_cleanly_or_change_nothing(tmp_path):
    conference = Conference.objects.create(
        slug="iclr-2024", name="ICLR 2024", venue_id="ICLR.cc/2024/Conference", timezone="Europe/Vienna"
    )
    for forum_id in ("posterAA01", "posterBB02", "2dnO3LLiJ1", "oralCC03"):
        PaperFactory(conference=conference, forum_id=forum_id)
    path = tmp_path / "schedule.json"

    def run(file: Path) -> None:
        call_command("import_schedule", str(file), "--conference", "iclr-2024", stdout=io.StringIO())

    def wrap(records: list) -> dict:
        return {"count": len(records), "next": None, "previous": None, "results": records}

    @PROPERTY_SETTINGS
    @given(json_cases(ENTRIES, ENTRY_PATHS, ("id", "uid", "paper_url"), list_key="results", wrap=wrap))
    def property_holds(case: Case) -> None:
        check_example("import_schedule", case, path, run, schedule_imported)

    property_holds()
    assert sum(count for (importer, _), count in RUNS.items() if importer == "import_schedule") >= EXAMPLES


# --- import_csv -----------------------------------------------------------------------------------------

CSV_COLUMNS = ["forum_id", "title", "authors", "tier", "keywords", "primary_area", "abstract", "pdf_url", "sessions"]
CSV_ROWS = [
    {
        "forum_id": "2dnO3LLiJ1",
        "title": "Vision Transformers Need Registers",
        "authors": "Timothée Darcet; Maxime Oquab",
        "tier": "oral",
        "keywords": "vision; attention",
        "primary_area": "representation learning",
        "abstract": "Registers fix attention maps.",
        "pdf_url": "https://openreview.net/pdf?id=2dnO3LLiJ1",
        "sessions": "Oral 1A@2024-05-07 10:00-10:15; Poster Session 1@2024-05-07 10:45-12:45@#103",
    },
    {
        "forum_id": "posterAA01",
        "title": "A Poster About Things",
        "authors": "Ada Lovelace",
        "tier": "poster",
        "keywords": "",
        "primary_area": "",
        "abstract": "",
        "pdf_url": "",
        "sessions": "Poster Session 1@2024-05-07@#101",
    },
    {
        "forum_id": "newPaper01",
        "title": "$\\mathcal{B}$ and things",
        "authors": "",
        "tier": "",
        "keywords": "",
        "primary_area": "",
        "abstract": "",
        "pdf_url": "",
        "sessions": "",
    },
]
CSV_SESSIONS = st.one_of(
    st.sampled_from(
        [
            "Poster@ 10:00",
            "Poster@2024-05-07 25:00",
            "Poster@2024-02-30",
            "Poster@0001-01-01 00:00",
            "Poster@0001-01-01",
            "Poster@9999-12-31 23:59",
            "Poster@9999-12-31 23:59-23:58",
            "Poster@2024-05-07 10:00-09:00",
            "@2024-05-07",
            "Poster@",
            "Poster@@",
            "Poster@2024-05-07@",
            "Poster@2024-05-07@" + "#" * 60,
            "x" * 301 + "@2024-05-07",
            "Poster@2024-05-07\x00",
            "Oral 1A@2024-05-07 10:00-10:15",
        ]
    ),
    st.builds(
        "{}@{}{}{}".format,
        st.text(max_size=8),
        st.dates().map(date.isoformat) | st.just(""),
        st.sampled_from(["", " 00:00", " 23:59-00:00", " 10:00-11:00"]),
        st.sampled_from(["", "@", "@#1", "@" + "9" * 51]),
    ),
)
CSV_CELL_VALUES = st.one_of(
    HOSTILE_STRINGS,
    HUGE_STRINGS,
    st.text(max_size=20),
    st.sampled_from(
        [
            "Poster@ 10:00",
            "Poster@2024-05-07 25:00",
            "Poster@0001-01-01 00:00",
            "Poster@9999-12-31 23:59",
            "Poster@9999-12-31 23:59-23:58",
            "@2024-05-07",
            "Poster@2024-05-07@" + "#" * 60,
            "Poster@2024-05-07; Poster@2024-05-07",
            "x" * 301 + "@2024-05-07",
            "ORAL",
            "loved",
            "ftp://example.org/a.pdf",
            "a;b;;c",
            'quote " inside',
        ]
    ),
    st.builds(lambda raw: raw, st.sampled_from([Raw(b"caf\xe9", "Latin-1"), Raw(b"\xff\xfe\x00", "UTF-16 BOM")])),
)


def csv_bytes(header: list[str], rows: list[list[Any]], *, delimiter: str = ",") -> bytes:
    """The CSV as bytes; a Raw cell is written as its bytes, whatever they are."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    raws: list[Raw] = []

    def cell(value: Any) -> str:
        if isinstance(value, Raw):
            raws.append(value)
            return f"\x01raw{len(raws) - 1}\x01"
        return value

    writer.writerow([cell(name) for name in header])
    for row in rows:
        writer.writerow([cell(value) for value in row])
    data = out.getvalue().encode("utf-8", "surrogatepass")
    for number, raw in enumerate(raws):
        data = data.replace(f"\x01raw{number}\x01".encode(), raw.data, 1)
    return data


@st.composite
def csv_cases(draw):
    header = list(CSV_COLUMNS)
    rows = [[row[column] for column in header] for row in CSV_ROWS]
    kinds = ["cell", "cell", "cell", "session", "cells", "duplicate", "short", "long", "header", "bytes"]
    kind = draw(st.sampled_from(kinds))
    target = draw(st.integers(min_value=0, max_value=len(rows) - 1))
    if kind == "session":
        value = draw(st.one_of(CSV_SESSIONS, st.lists(CSV_SESSIONS, min_size=2, max_size=3).map("; ".join)))
        rows[target][header.index("sessions")] = value
        description = f"row {target + 2}, sessions = {value!r:.120}"
    elif kind == "cell":
        column = draw(st.integers(min_value=0, max_value=len(header) - 1))
        value = draw(CSV_CELL_VALUES)
        rows[target][column] = value
        description = f"row {target + 2}, {header[column]} = {value!r:.120}"
    elif kind == "cells":
        changes = draw(st.lists(st.tuples(st.integers(0, len(header) - 1), CSV_CELL_VALUES), min_size=2, max_size=4))
        for column, value in changes:
            rows[target][column] = value
        description = f"row {target + 2}: {changes!r:.160}"
    elif kind == "duplicate":
        rows[target][0] = rows[(target + 1) % len(rows)][0]
        description = f"row {target + 2} repeats a forum id"
    elif kind == "short":
        rows[target] = rows[target][: draw(st.integers(0, len(header) - 1))]
        description = f"row {target + 2} has fewer cells"
    elif kind == "long":
        rows[target] = rows[target] + draw(st.lists(CSV_CELL_VALUES, min_size=1, max_size=3))
        description = f"row {target + 2} has more cells"
    elif kind == "header":
        removed = draw(st.sets(st.sampled_from(header), min_size=1, max_size=3))
        keep = [index for index, name in enumerate(header) if name not in removed]
        header = [header[index] for index in keep]
        rows = [[row[index] for index in keep] for row in rows]
        delimiter = draw(st.sampled_from([",", ";"]))
        data = csv_bytes(header, rows, delimiter=delimiter)
        return Case(data, f"without the columns {sorted(removed)}, delimiter {delimiter!r}")
    else:
        data, description = draw(broken_bytes(csv_bytes(header, rows)))
        return Case(data, description)
    data = csv_bytes(header, rows)
    records = [dict(zip(header, row, strict=False)) for row in rows]
    return Case(data, description, label=f"row {target + 2}", records=records)


def csv_imported(case: Case) -> None:
    if case.records is not None:
        rows = case.records
    else:
        rows = list(csv.DictReader(io.StringIO(as_text(case.data), newline="")))
    rows = [row for row in rows if row]  # csv skips a row without cells
    titles = dict(Paper.objects.values_list("forum_id", "title"))
    for row in rows:
        assert titles[row["forum_id"].strip()] == row["title"].strip()
    assert set(titles) == {row["forum_id"].strip() for row in rows} | {"2dnO3LLiJ1", "posterAA01"}


@pytest.mark.django_db
def test_hostile_csv_files_import_cleanly_or_change_nothing(tmp_path):
    conference = Conference.objects.create(slug="iclr-2024", name="ICLR 2024", timezone="Europe/Vienna")
    for forum_id in ("2dnO3LLiJ1", "posterAA01"):
        PaperFactory(conference=conference, forum_id=forum_id)
    path = tmp_path / "papers.csv"

    def run(file: Path) -> None:
        call_command("import_csv", str(file), "--conference", "iclr-2024", stdout=io.StringIO())

    @PROPERTY_SETTINGS
    @given(csv_cases())
    def property_holds(case: Case) -> None:
        check_example("import_csv", case, path, run, csv_imported)

    property_holds()
    assert sum(count for (importer, _), count in RUNS.items() if importer == "import_csv") >= EXAMPLES


# --- import_lab -----------------------------------------------------------------------------------------


def backup_document() -> dict:
    """A small lab backup of the shape export_lab writes: two members, a former one, every section filled."""
    when = "2024-05-07T10:45:00.123456+00:00"
    paper = {"conference": "iclr-2024", "forum_id": "2dnO3LLiJ1"}
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": when,
        "lab": {"name": "Vision Lab", "slug": "vision"},
        "members": [
            {"username": "olivia", "email": "olivia@example.org", "role": "owner"},
            {"username": "max", "email": "max@example.org", "role": "member"},
            {"username": "fiona", "email": "", "role": None},
        ],
        "conferences": [
            {
                "slug": "iclr-2024",
                "name": "ICLR 2024",
                "venue_id": "ICLR.cc/2024/Conference",
                "start_date": "2024-05-07",
                "end_date": "2024-05-11",
                "city": "Vienna",
                "timezone": "Europe/Vienna",
            }
        ],
        "papers": [
            {
                **paper,
                "number": 17,
                "title": "Vision Transformers Need Registers",
                "authors": ["Timothée Darcet", "Maxime Oquab"],
                "abstract": "Transformers have recently emerged.",
                "keywords": ["vision"],
                "primary_area": "representation learning",
                "tldr": "Registers.",
                "tier": "oral",
                "venue": "ICLR 2024 oral",
                "pdf_url": "https://openreview.net/pdf?id=2dnO3LLiJ1",
            },
            {
                "conference": "iclr-2024",
                "forum_id": "posterAA01",
                "number": None,
                "title": "A Poster",
                "authors": [],
                "abstract": "",
                "keywords": [],
                "primary_area": "",
                "tldr": "",
                "tier": "poster",
                "venue": "",
                "pdf_url": "",
            },
        ],
        "sessions": [
            {
                "conference": "iclr-2024",
                "kind": "social",
                "title": "Lab dinner",
                "day": "2024-05-08",
                "starts_at": "2024-05-08T17:00:00+00:00",
                "ends_at": "2024-05-08T20:00:00+00:00",
                "room": "Heuriger",
                "created_by": "max",
            }
        ],
        "statuses": [
            {
                **paper,
                "username": "olivia",
                "state": "shortlisted",
                "starred": True,
                "seen_on": "2024-05-08",
                "created_at": when,
                "updated_at": when,
            },
            {
                "conference": "iclr-2024",
                "forum_id": "posterAA01",
                "username": "max",
                "state": "read",
                "starred": False,
                "seen_on": None,
                "created_at": when,
                "updated_at": when,
            },
        ],
        "notes": [
            {
                **paper,
                "username": "max",
                "kind": "summary",
                "body": "**Registers** fix attention maps.",
                "done": False,
                "shared": True,
                "created_at": when,
                "updated_at": when,
            },
            {
                **paper,
                "username": "fiona",
                "kind": "todo",
                "body": "Ask about the *ViT-g* run.",
                "done": True,
                "shared": True,
                "created_at": when,
                "updated_at": when,
            },
            {
                **paper,
                "username": "olivia",
                "kind": "note",
                "body": "Olivia's own thoughts.",
                "done": False,
                "shared": False,
                "created_at": when,
                "updated_at": when,
            },
        ],
        "assignments": [{**paper, "username": "max", "created_at": when}],
        "meetings": [],
    }


BACKUP_FIELDS = {
    "members": ["username", "email", "role"],
    "conferences": ["slug", "name", "venue_id", "start_date", "end_date", "city", "timezone"],
    "papers": [
        *("conference", "forum_id", "number", "title", "authors", "abstract", "keywords"),
        *("primary_area", "tldr", "tier", "venue", "pdf_url"),
    ],
    "sessions": ["conference", "kind", "title", "day", "starts_at", "ends_at", "room", "created_by"],
    "statuses": ["username", "conference", "forum_id", "state", "starred", "seen_on", "created_at", "updated_at"],
    "notes": ["username", "conference", "forum_id", "kind", "body", "done", "shared", "created_at", "updated_at"],
    "assignments": ["username", "conference", "forum_id", "created_at"],
}
REFERENCES = {"username", "slug", "conference", "forum_id", "created_by", "role"}
ID_FIELDS = {
    "members": ("username",),
    "conferences": ("slug",),
    "papers": ("conference", "forum_id"),
    "sessions": ("title",),
    "statuses": ("username", "forum_id"),
    "notes": ("username", "forum_id", "kind"),
    "assignments": ("forum_id",),
}


@st.composite
def backup_cases(draw):
    document = backup_document()
    kind = draw(st.sampled_from(["record", "record", "record", "record", "section", "top", "bytes"]))
    if kind == "record":
        section = draw(st.sampled_from(sorted(BACKUP_FIELDS)))
        paths = [(name,) for name in BACKUP_FIELDS[section]]
        records, description, target, keys = draw(mutated_records(document[section], paths, ID_FIELDS[section]))
        document[section] = records
        data = dumps(document, indent=draw(st.sampled_from([None, 1])), ascii_only=draw(st.booleans()))
        # A changed key that other records refer to may be named by the record that refers to it.
        if target is None:
            label = None
        elif keys & REFERENCES:
            label = r"[a-z]+ #\d+"
        else:
            label = rf"{section} #{target + 1}"
        case = Case(data, f"{section} {description}", label=label, records=records)
        case.extra["section"] = section
        return case
    if kind == "section":
        section = draw(st.sampled_from([*sorted(BACKUP_FIELDS), "meetings", "lab"]))
        value = draw(HOSTILE_VALUES)
        document[section] = value
        return Case(dumps(document, indent=None, ascii_only=True), f"{section} = {value!r:.120}")
    if kind == "top":
        key = draw(st.sampled_from(["format", "version", "exported_at"]))
        value = draw(HOSTILE_VALUES)
        if draw(st.booleans()):
            document[key] = value
            description = f"{key} = {value!r:.120}"
        else:
            del document[key]
            description = f"without {key}"
        return Case(dumps(document, indent=None, ascii_only=True), description)
    data, description = draw(broken_bytes(dumps(document, indent=1, ascii_only=False)))
    return Case(data, description)


def backup_imported(case: Case) -> None:
    document = json.loads(as_text(case.data))
    lab_notes = set(Note.objects.filter(lab__slug="restored").values_list("author__username", "body"))
    for note in document["notes"]:
        if note.get("shared", False):  # no username: a deleted account's note
            assert (note.get("username"), note["body"]) in lab_notes
    roles = dict(Membership.objects.filter(lab__slug="restored").values_list("user__username", "role"))
    for member in document["members"]:
        if member.get("role") is not None:
            assert roles[member["username"].strip()] in (member["role"], "owner")
    titles = dict(Paper.objects.values_list("forum_id", "title"))
    for paper in document["papers"]:
        assert titles[paper["forum_id"].strip()] == paper["title"].strip()


@pytest.mark.django_db
def test_hostile_lab_backups_import_cleanly_or_change_nothing(tmp_path):
    restored = LabFactory(name="Restored", slug="restored")
    MembershipFactory(lab=restored, user=UserFactory(username="olivia"), role=Membership.Role.OWNER)
    path = tmp_path / "backup.json"

    def run(file: Path) -> None:
        call_command("import_lab", str(file), "--lab", "restored", stdout=io.StringIO())

    @PROPERTY_SETTINGS
    @given(backup_cases())
    def property_holds(case: Case) -> None:
        check_example("import_lab", case, path, run, backup_imported)

    property_holds()
    assert sum(count for (importer, _), count in RUNS.items() if importer == "import_lab") >= EXAMPLES


# --- The writer of hostile files itself ------------------------------------------------------------------


def test_the_json_writer_puts_raw_bytes_where_the_marker_was():
    data = dumps({"a": [Raw(b"\xff", "x"), deep(3)], "b": "\ud800"}, indent=None, ascii_only=False)
    assert data == b'{"a": [\xff, [[[]]]], "b": "\xed\xa0\x80"}'


def test_the_csv_writer_puts_raw_bytes_in_the_cell():
    assert csv_bytes(["a", "b"], [["x", Raw(b"\xe9", "Latin-1")]]) == b"a,b\r\nx,\xe9\r\n"


# --- What the properties found, pinned -------------------------------------------------------------------


def refusal(tmp_path: Path, command: str, data: bytes, *options: str) -> str:
    """The message of the command's CommandError for data; the database is checked unchanged."""
    path = tmp_path / "file"
    path.write_bytes(data)
    before = database_state()
    with pytest.raises(CommandError) as failure:
        call_command(command, str(path), *options, stdout=io.StringIO(), stderr=io.StringIO())
    assert database_state() == before
    return str(failure.value)


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [40, 700])
def test_a_note_nested_hundreds_deep_is_refused_by_name(tmp_path, depth):
    # A depth the JSON parser still reads used to overflow the stack of the check for invalid text.
    notes = json.loads(json.dumps(NOTES))
    notes[1]["content"]["authors"] = deep(depth)
    message = refusal(tmp_path, "import_openreview", dumps(notes, indent=None, ascii_only=True))
    assert message == (
        "record 2 (id HE9eUQlAvo): nested more than 32 levels deep; a note is not. Nothing was imported."
    )


@pytest.mark.django_db
def test_nesting_too_deep_for_the_parser_is_refused_by_record(tmp_path):
    message = refusal(tmp_path, "import_openreview", deep(5000, "{").data)
    assert message == "record 1: nested too deeply to be a record. Nothing was imported."
    notes = [NOTES[0], deep(5000)]
    message = refusal(tmp_path, "import_openreview", dumps(notes, indent=None, ascii_only=True))
    assert message == "record 2 (after id 2dnO3LLiJ1): nested too deeply to be a record. Nothing was imported."


@pytest.mark.django_db
def test_a_schedule_entry_nested_hundreds_deep_is_refused_by_name(tmp_path, conference):
    entries = json.loads(json.dumps(ENTRIES))
    entries[2]["authors"] = deep(700, "{")
    message = refusal(
        tmp_path, "import_schedule", dumps(entries, indent=1, ascii_only=False), "--conference", "iclr-2024"
    )
    assert message == "record 3 (id 19003): nested more than 32 levels deep; an entry is not. Nothing was imported."


@pytest.mark.django_db
def test_a_backup_record_nested_hundreds_deep_is_refused_by_name(tmp_path):
    LabFactory(slug="restored")
    document = backup_document()
    document["notes"][0]["body"] = {"value": deep(700)}
    message = refusal(tmp_path, "import_lab", dumps(document, indent=None, ascii_only=True), "--lab", "restored")
    assert message == ("notes #1: nested more than 32 levels deep; a record is not. Nothing was imported.")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (Raw(b"9" * 5000, "5,000 digits"), "holds a number of 5,000 digits"),
        (Raw(b"-" + b"1" * 4301, "4,301 digits"), "holds a number of 4,301 digits"),
        (Raw(b"NaN", "NaN"), "holds NaN, which is not JSON"),
        (Raw(b"-Infinity", "-Infinity"), "holds -Infinity, which is not JSON"),
    ],
)
def test_a_number_json_cannot_hold_is_refused_by_record(tmp_path, raw, problem):
    # Python's json reads 4,301+ digits into a ValueError that is no JSONDecodeError: it was a traceback.
    notes = json.loads(json.dumps(NOTES))
    notes[2]["number"] = raw
    message = refusal(tmp_path, "import_openreview", dumps(notes, indent=1, ascii_only=True))
    assert message == f"record 3 (after id HE9eUQlAvo): {problem}. Nothing was imported."

    lines = b"\n".join(dumps(note, indent=None, ascii_only=True) for note in notes)
    message = refusal(tmp_path, "import_openreview", lines)
    assert message == f"record 3 (line 3): {problem}. Nothing was imported."


@pytest.mark.django_db
def test_a_schedule_entry_with_a_5000_digit_id_is_refused_by_record(tmp_path, conference):
    entries = json.loads(json.dumps(ENTRIES))
    entries[1]["id"] = Raw(b"9" * 5000, "5,000 digits")
    data = dumps(entries, indent=None, ascii_only=True)
    message = refusal(tmp_path, "import_schedule", data, "--conference", "iclr-2024")
    assert message == "record 2 (after id 19001): holds a number of 5,000 digits. Nothing was imported."


@pytest.mark.django_db
def test_a_backup_with_a_5000_digit_number_is_refused_by_record(tmp_path):
    LabFactory(slug="restored")
    document = backup_document()
    document["papers"][0]["number"] = Raw(b"9" * 5000, "5,000 digits")
    message = refusal(tmp_path, "import_lab", dumps(document, indent=1, ascii_only=True), "--lab", "restored")
    assert message == "papers #1: holds a number of 5,000 digits. Nothing was imported."


@pytest.mark.django_db
def test_a_huge_value_is_quoted_in_80_characters(tmp_path, conference):
    # The whole value used to go into the message: 100,000 characters on one "line".
    notes = json.loads(json.dumps(NOTES))
    notes[0]["number"] = "a" * 100_000
    message = refusal(tmp_path, "import_openreview", dumps(notes, indent=None, ascii_only=True))
    assert message == (
        f"record 1 (id 2dnO3LLiJ1): number must be a whole number from 0 to 2,147,483,647, not {'a' * 80!r}…. "
        "Nothing was imported."
    )

    entries = json.loads(json.dumps(ENTRIES))
    entries[0]["starttime"] = "2024" * 25_000
    data = dumps(entries, indent=None, ascii_only=True)
    message = refusal(tmp_path, "import_schedule", data, "--conference", "iclr-2024")
    assert message == (
        f"record 1 (id 19001): starttime is not an ISO-8601 date-time: {'2024' * 20!r}…. Nothing was imported."
    )

    rows = [[row[column] for column in CSV_COLUMNS] for row in CSV_ROWS]
    rows[1][-1] = "Poster" * 20_000
    message = refusal(tmp_path, "import_csv", csv_bytes(CSV_COLUMNS, rows), "--conference", "iclr-2024")
    assert message == (
        f"row 3 (posterAA01), column sessions: {('Poster' * 14)[:80]!r}… "
        "is not title@YYYY-MM-DD[ HH:MM[-HH:MM]][@board]. Nothing was imported."
    )


@pytest.mark.django_db
def test_an_id_that_is_not_utf8_is_printed_with_a_replacement_character(tmp_path, conference):
    # The surrogate standing for the bad byte went into the message, which then could not be printed.
    data = dumps(NOTES, indent=None, ascii_only=True).replace(b'"id": "2dnO3LLiJ1"', b'"id": "\xff2dnO3LLiJ1"')
    message = refusal(tmp_path, "import_openreview", data)
    assert message == "record 1 (id \ufffd2dnO3LLiJ1): holds text that is not valid UTF-8. Nothing was imported."

    data = b'[{"id": "\\ud800 lone"}, {"id": ' + b"]"
    message = refusal(tmp_path, "import_openreview", data)
    assert (
        message
        == "record 2 (after id \ufffd lone): invalid JSON at line 1, column 32: Expecting value. Nothing was imported."
    )

    entries = json.loads(json.dumps(ENTRIES))
    entries[1]["id"] = "\ud800"  # written as the JSON escape \ud800: valid JSON, not valid text
    data = dumps(entries, indent=None, ascii_only=True)
    message = refusal(tmp_path, "import_schedule", data, "--conference", "iclr-2024")
    assert message == "record 2 (id \ufffd): contains text that is not valid UTF-8. Nothing was imported."


@pytest.mark.django_db
def test_a_venue_id_too_long_for_its_column_is_refused(tmp_path):
    # SQLite stored it whole and PostgreSQL refused it with a DataError traceback.
    notes = json.loads(json.dumps(NOTES))
    for note in notes:
        note["content"]["venueid"]["value"] = "V" * 201
    message = refusal(tmp_path, "import_openreview", dumps(notes, indent=None, ascii_only=True))
    assert message == "record 1 (id 2dnO3LLiJ1): venue id is longer than 200 characters. Nothing was imported."


@pytest.mark.django_db
def test_a_venue_id_that_makes_a_slug_too_long_needs_the_conference_named(tmp_path):
    venue_id = "A" * 60 + ".cc/2024/Conference"
    notes = json.loads(json.dumps(NOTES))
    for note in notes:
        note["content"]["venueid"]["value"] = venue_id
    message = refusal(tmp_path, "import_openreview", dumps(notes, indent=None, ascii_only=True))
    assert message == (
        f"Cannot tell the conference from venue id {venue_id!r} (not <Venue>.cc/<year>/Conference); "
        "pass --conference SLUG. Nothing was imported."
    )
    path = tmp_path / "file"
    call_command("import_openreview", str(path), "--conference", "long-2024", "--no-similar", stdout=io.StringIO())
    assert Conference.objects.get(slug="long-2024").venue_id == venue_id


@pytest.mark.django_db
def test_a_record_that_breaks_the_file_is_named_inside_the_object_that_holds_the_records(tmp_path, conference):
    # {"results": [...]} was read whole, so any break in it was "record 1" or no record at all.
    entries = json.loads(json.dumps(ENTRIES))
    entries[1]["authors"] = deep(5000)
    schedule = {"count": 4, "results": entries}
    message = refusal(
        tmp_path, "import_schedule", dumps(schedule, indent=None, ascii_only=True), "--conference", "iclr-2024"
    )
    assert message == "record 2 (after id 19001): nested too deeply to be a record. Nothing was imported."

    data = dumps({"count": 4, "results": ENTRIES}, indent=None, ascii_only=True)
    cut = data.index(b'"id": 19003') + 20
    message = refusal(tmp_path, "import_schedule", data[:cut], "--conference", "iclr-2024")
    assert message == (
        f"record 3 (after id 19002): invalid JSON at line 1, column {cut + 1}: the file ends in the middle of it "
        "(truncated?). Nothing was imported."
    )

    data = dumps({"count": Raw(b"NaN", "NaN"), "results": ENTRIES}, indent=None, ascii_only=True)
    message = refusal(tmp_path, "import_schedule", data, "--conference", "iclr-2024")
    assert message == "Outside the records: holds NaN, which is not JSON. Nothing was imported."

    notes = json.loads(json.dumps(NOTES))
    notes[2]["content"]["abstract"] = Raw(b"-Infinity", "-Infinity")
    message = refusal(tmp_path, "import_openreview", dumps({"notes": notes}, indent=None, ascii_only=True))
    assert message == "record 3 (after id HE9eUQlAvo): holds -Infinity, which is not JSON. Nothing was imported."


@pytest.mark.django_db
def test_a_backup_that_breaks_in_a_record_names_it(tmp_path):
    LabFactory(slug="restored")
    data = dumps(backup_document(), indent=1, ascii_only=True)
    cut = data.index(b"Ask about")
    message = refusal(tmp_path, "import_lab", data[:cut], "--lab", "restored")
    line = data[:cut].count(b"\n") + 1
    assert message == (
        f"Not valid JSON at line {line}, column 12 (in notes #2): the file ends in the middle of it (truncated?). "
        "Nothing was imported."
    )


@pytest.mark.django_db
def test_a_csv_cell_over_the_field_limit_names_its_row(tmp_path, conference):
    # csv's "field larger than field limit (131072)" came out with no row to look at.
    rows = [[row[column] for column in CSV_COLUMNS] for row in CSV_ROWS]
    rows[1][CSV_COLUMNS.index("abstract")] = "a" * 200_000
    message = refusal(tmp_path, "import_csv", csv_bytes(CSV_COLUMNS, rows), "--conference", "iclr-2024")
    assert message == "row 3: a cell is longer than 131,072 characters. Nothing was imported."

    message = refusal(tmp_path, "import_csv", b"forum_id,title," + b"x" * 200_000, "--conference", "iclr-2024")
    assert message == "row 1 (the header): a cell is longer than 131,072 characters. Nothing was imported."


@pytest.mark.django_db
def test_a_csv_saved_in_latin_1_is_refused_naming_the_row_and_column(tmp_path, conference):
    # The bytes were kept as surrogates and reached the database: UnicodeEncodeError on SQLite and PostgreSQL.
    rows = [[row[column] for column in CSV_COLUMNS] for row in CSV_ROWS]
    rows[2][CSV_COLUMNS.index("title")] = Raw("Café".encode("latin-1"), "Latin-1")
    message = refusal(tmp_path, "import_csv", csv_bytes(CSV_COLUMNS, rows), "--conference", "iclr-2024")
    assert message == (
        "row 4 (newPaper01), column title: is not UTF-8 text (save the file as UTF-8). Nothing was imported."
    )

    header = [*CSV_COLUMNS[:-1], Raw("sessions é".encode("latin-1"), "Latin-1")]
    message = refusal(tmp_path, "import_csv", csv_bytes(header, rows[:1]), "--conference", "iclr-2024")
    assert message == "row 1 (the header): is not UTF-8 text (save the file as UTF-8). Nothing was imported."


@pytest.mark.django_db
@pytest.mark.parametrize("cell", ["Poster@ 10:00", "Poster@ 10:00-11:00@#12"])
def test_a_csv_session_with_a_time_but_no_day_is_refused(tmp_path, conference, cell):
    # It reached datetime.combine(None, …): a TypeError traceback.
    rows = [[row[column] for column in CSV_COLUMNS] for row in CSV_ROWS]
    rows[0][CSV_COLUMNS.index("sessions")] = cell
    message = refusal(tmp_path, "import_csv", csv_bytes(CSV_COLUMNS, rows), "--conference", "iclr-2024")
    assert message == (
        f"row 2 (2dnO3LLiJ1), column sessions: {cell!r} is not title@YYYY-MM-DD[ HH:MM[-HH:MM]][@board]. "
        "Nothing was imported."
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:30:00+00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"]
)
def test_a_time_at_the_edge_of_the_calendar_is_refused(tmp_path, conference, moment):
    # Moving it to UTC or to the conference's time zone raised OverflowError.
    entries = json.loads(json.dumps(ENTRIES))
    entries[3]["starttime"] = moment
    data = dumps(entries, indent=None, ascii_only=True)
    message = refusal(tmp_path, "import_schedule", data, "--conference", "iclr-2024")
    assert message == (
        f"record 4 (id 19101): starttime is too far in the past or future: {moment!r}. Nothing was imported."
    )

    LabFactory(slug="restored")
    document = backup_document()
    document["sessions"][0]["starts_at"] = moment
    document["sessions"][0]["ends_at"] = None
    message = refusal(tmp_path, "import_lab", dumps(document, indent=None, ascii_only=True), "--lab", "restored")
    assert message == (
        f"sessions #1 (Lab dinner): starts_at {moment!r} is too far in the past or future. Nothing was imported."
    )


@pytest.mark.django_db
@pytest.mark.parametrize("cell", ["Poster@0001-01-01 00:00", "Poster@9999-12-31 23:59-23:59"])
def test_a_csv_session_at_the_edge_of_the_calendar_is_refused(tmp_path, conference, cell):
    rows = [[row[column] for column in CSV_COLUMNS] for row in CSV_ROWS]
    rows[1][CSV_COLUMNS.index("sessions")] = cell
    message = refusal(tmp_path, "import_csv", csv_bytes(CSV_COLUMNS, rows), "--conference", "iclr-2024")
    assert message == (
        f"row 3 (posterAA01), column sessions: {cell!r} has an impossible date or time. Nothing was imported."
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("members", "members #2 (olivia): the user 'olivia' is listed twice (also members #1)."),
        (
            "conferences",
            "conferences #2 (iclr-2024): the conference 'iclr-2024' is listed twice (also conferences #1).",
        ),
        ("papers", "papers #2 (2dnO3LLiJ1): the same paper is listed twice (also papers #1)."),
    ],
)
def test_a_record_listed_twice_in_a_backup_names_both(tmp_path, section, message):
    LabFactory(slug="restored")
    document = backup_document()
    document[section].append(document[section][0])
    document[section][1], document[section][-1] = document[section][-1], document[section][1]
    data = dumps(document, indent=None, ascii_only=True)
    assert refusal(tmp_path, "import_lab", data, "--lab", "restored") == f"{message} Nothing was imported."


@pytest.mark.django_db
def test_an_id_with_a_line_break_keeps_the_message_on_one_line(tmp_path, conference):
    # The id went into the record's label as it was: a two-line message in the terminal and the log.
    notes = json.loads(json.dumps(NOTES))
    notes[1]["id"] = notes[1]["forum"] = "line one\nline two"
    message = refusal(tmp_path, "import_openreview", dumps(notes, indent=None, ascii_only=True))
    assert message == (
        "record 2 (id line one\\nline two): 'line one\\nline two' is not an OpenReview forum id. Nothing was imported."
    )

    entries = json.loads(json.dumps(ENTRIES))
    entries[0].update(id="19001\u2028", starttime="tomorrow")
    data = dumps(entries, indent=None, ascii_only=True)
    message = refusal(tmp_path, "import_schedule", data, "--conference", "iclr-2024")
    assert message == (
        "record 1 (id 19001\\u2028): starttime is not an ISO-8601 date-time: 'tomorrow'. Nothing was imported."
    )

    LabFactory(slug="restored")
    document = backup_document()
    document["assignments"][0]["forum_id"] = "line one\r\nline two"
    message = refusal(tmp_path, "import_lab", dumps(document, indent=None, ascii_only=True), "--lab", "restored")
    assert message == (
        "assignments #1 (line one\\r\\nline two): refers to the paper 'line one\\r\\nline two' of 'iclr-2024', "
        "which the backup's papers lack. Nothing was imported."
    )


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["authors", "keywords"])
def test_a_nul_character_in_a_backup_papers_list_is_refused(tmp_path, field):
    # SQLite stored it; PostgreSQL's jsonb refused it with a DataError traceback.
    LabFactory(slug="restored")
    document = backup_document()
    document["papers"][1][field] = ["fine", "a\x00b"]
    message = refusal(tmp_path, "import_lab", dumps(document, indent=None, ascii_only=True), "--lab", "restored")
    assert message == f"papers #2 (posterAA01): {field} contains a NUL character. Nothing was imported."
