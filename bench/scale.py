"""
A conference ten times its size, for the benchmark's growth figures (bench/load.sh), made from its real papers.

    DATABASE_URL=… .venv/bin/python bench/scale.py [--factor 10] [CONFERENCE_SLUG …]   # default: every conference

Each paper gets factor − 1 copies in its own conference: the same title, authors, abstract, tier and search data
(search_text, keyword_index and, on PostgreSQL, search_vector, copied as they are: no recomputation), a new forum
id `<forum id>-x<n>` (copy n = 1 … factor − 1) and number `number + n × the conference's largest number`. So a
search finds factor times the matches, as it would in a real bigger programme. The copies are made by bulk SQL
(INSERT … SELECT over the copy numbers), the same statements on PostgreSQL and SQLite, in one transaction.

What the copies get besides:
- similar papers: copy n of a paper has as neighbours copy n of the original's neighbours, with the same rank and
  score (so copy n forms a closed programme like the original; no n × n similarity is computed);
- the programme: copy n is presented in the original's sessions (same session, poster board and slot);
- the labs' splits: copy n goes to the member the original went to, so a split still covers the programme.
The labs' own activity stays human-sized: the same members, statuses, stars and notes, spread over the bigger
programme instead of multiplied. A member's status and notes on a paper move together to one of its versions
(the original or a copy), chosen by (member id × 7 + paper id) mod factor: evenly, and the same on every run.
Reading-group rows (nominations, votes, meetings) stay on the originals.

A conference that already has copies is refused. On PostgreSQL the touched tables are analysed afterwards, as
autovacuum would soon do after such a load.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iclrnotes.settings")
    import django

    django.setup()

from django.db import connection, transaction  # noqa: E402

from papers.models import (  # noqa: E402
    Assignment,
    Conference,
    Note,
    Paper,
    PaperNeighbor,
    Presentation,
    ReadingStatus,
)

COPY_SUFFIX = "-x"  # forum ids allow letters, digits, - and _
ORIGINALS = "bench_scale_original"
COPIES = "bench_scale_copy"


class AlreadyScaled(Exception):
    pass


@dataclass
class Scaled:
    factor: int
    papers: dict[str, tuple[int, int]]  # conference slug: (before, after)
    neighbors: int
    presentations: int
    assignments: int
    statuses_moved: int
    notes_moved: int
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        papers = ", ".join(f"{slug} {before:,} → {after:,}" for slug, (before, after) in self.papers.items())
        steps = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in self.steps.items())
        return (
            f"×{self.factor}: papers {papers}; +{self.neighbors:,} similar-paper rows, "
            f"+{self.presentations:,} presentations, +{self.assignments:,} split rows; {self.statuses_moved:,} "
            f"statuses and {self.notes_moved:,} notes spread over the copies; {self.seconds:.1f} s ({steps})"
        )


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model, field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)


@contextmanager
def _indexes_built_afterwards(cursor, model, *, constraints: bool):
    """
    The usual speed-up of a bulk load (PostgreSQL's manual, "Populating a Database"): drop the table's secondary
    indexes (and with `constraints`, on PostgreSQL, its unique and foreign-key constraints too), load, then build
    each again in one pass instead of inserting into it row by row, and check each foreign key by one query
    instead of a trigger a row. The primary key stays; so do SQLite's unique constraints (part of its table).
    """
    table = model._meta.db_table
    dropped_constraints, indexes = [], []
    if connection.vendor == "postgresql":
        if constraints:
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC, conname",
                [table],
            )
            dropped_constraints = cursor.fetchall()
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = %s::regclass AND NOT indisprimary "
            "AND indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE conrelid = %s::regclass)",
            [table, table],
        )
        indexes = cursor.fetchall()
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    else:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL", [table]
        )
        indexes = cursor.fetchall()
    for name, _ in dropped_constraints:
        cursor.execute(f"ALTER TABLE {_table(model)} DROP CONSTRAINT {connection.ops.quote_name(name)}")
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name if connection.vendor == 'postgresql' else connection.ops.quote_name(name)}")
    yield
    if connection.vendor == "postgresql":
        # Run the pending foreign-key checks now: PostgreSQL builds no index on a table that still has some.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for _, definition in indexes:
        cursor.execute(definition)
    # Unique ones first: the foreign keys are added last, each checked by one query over the table.
    for name, definition in dropped_constraints:
        cursor.execute(f"ALTER TABLE {_table(model)} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}")


def _copy_numbers(factor: int) -> str:
    """A CTE of the copy numbers 1 … factor − 1, in SQL that PostgreSQL and SQLite both read."""
    values = ", ".join(f"({n})" for n in range(1, factor))
    return f"copy_numbers(n) AS (VALUES {values})"


def _version(owner_column: str, paper_column: str) -> str:
    """Which version of its paper a member's row goes to: 0 (the original) or a copy number (the factor is %s)."""
    # %% is a literal % once the driver has put the parameters in.
    return f"((COALESCE({owner_column}, 0) * 7 + {paper_column}) %% %s)"


def scale(conferences: list[Conference], *, factor: int = 10) -> Scaled:
    """Give each paper of these conferences factor − 1 copies (see the module's docstring), in one transaction."""
    if factor < 2:
        raise ValueError("factor must be 2 or more")
    started = time.perf_counter()
    steps = {}

    def step(name: str) -> None:
        steps[name] = time.perf_counter() - started - sum(steps.values())

    papers = Paper.objects.filter(conference__in=conferences)
    scaled = papers.filter(forum_id__regex=rf"{COPY_SUFFIX}[0-9]+$").values_list("conference__slug", flat=True)
    if scaled:
        raise AlreadyScaled(f"{scaled[0]} already has copies of its papers (forum ids ending {COPY_SUFFIX}<n>).")
    before = {conference.slug: conference.papers.count() for conference in conferences}

    q = connection.ops.quote_name
    paper, conference_column, forum_id = _table(Paper), _column(Paper, "conference"), _column(Paper, "forum_id")
    fields = [field for field in Paper._meta.concrete_fields if not field.primary_key]
    expressions = {
        "forum_id": f"p.{forum_id} || '{COPY_SUFFIX}' || CAST(c.n AS TEXT)",
        # Numbers after the conference's largest, as a real bigger programme would number them.
        "number": f"p.{_column(Paper, 'number')} + c.n * o.largest_number",
    }
    columns = ", ".join(q(field.column) for field in fields)
    selected = ", ".join(expressions.get(field.name, f"p.{q(field.column)}") for field in fields)
    copy_numbers = _copy_numbers(factor)
    conference_ids = [conference.pk for conference in conferences]
    in_conferences = f"IN ({', '.join(['%s'] * len(conference_ids))})"

    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # A page cache that holds the indexes being written (the default is 2 MB).
            cursor.execute("PRAGMA cache_size = -512000")
        for table in (COPIES, ORIGINALS):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        number = _column(Paper, "number")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {ORIGINALS} AS "
            f"SELECT p.id AS id, p.{conference_column} AS conference_id, p.{forum_id} AS forum_id, "
            f"l.largest_number AS largest_number FROM {paper} p JOIN ("
            f"SELECT {conference_column} AS conference_id, COALESCE(MAX({number}), 0) AS largest_number "
            f"FROM {paper} WHERE {conference_column} {in_conferences} GROUP BY {conference_column}"
            f") l ON l.conference_id = p.{conference_column}",
            conference_ids,
        )
        # The copies' search data as they are, so a search finds each copy as it finds its original.
        with _indexes_built_afterwards(cursor, Paper, constraints=False):
            cursor.execute(
                f"WITH {copy_numbers} INSERT INTO {paper} ({columns}) "
                f"SELECT {selected} FROM {ORIGINALS} o JOIN {paper} p ON p.id = o.id CROSS JOIN copy_numbers c "
                f"ORDER BY c.n, p.id"
            )
        # Which row is copy n of which original, for the rows that follow their paper.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {COPIES} AS WITH {copy_numbers} "
            f"SELECT o.id AS original_id, c.n AS n, p.id AS copy_id "
            f"FROM {ORIGINALS} o CROSS JOIN copy_numbers c JOIN {paper} p "
            f"ON p.{conference_column} = o.conference_id "
            f"AND p.{forum_id} = o.forum_id || '{COPY_SUFFIX}' || CAST(c.n AS TEXT)"
        )
        cursor.execute(f"CREATE INDEX {COPIES}_original ON {COPIES} (original_id, n)")
        cursor.execute(f"ANALYZE {COPIES}")
        step("papers")

        neighbor = _table(PaperNeighbor)
        with _indexes_built_afterwards(cursor, PaperNeighbor, constraints=True):
            cursor.execute(
                f"INSERT INTO {neighbor} ({_column(PaperNeighbor, 'paper')}, {_column(PaperNeighbor, 'neighbor')}, "
                f"{_column(PaperNeighbor, 'score')}, {_column(PaperNeighbor, 'rank')}) "
                f"SELECT a.copy_id, b.copy_id, x.{_column(PaperNeighbor, 'score')}, x.{_column(PaperNeighbor, 'rank')} "
                f"FROM {neighbor} x JOIN {COPIES} a ON a.original_id = x.{_column(PaperNeighbor, 'paper')} "
                f"JOIN {COPIES} b ON b.original_id = x.{_column(PaperNeighbor, 'neighbor')} AND b.n = a.n "
                f"ORDER BY a.copy_id, x.{_column(PaperNeighbor, 'rank')}"
            )
            neighbors = cursor.rowcount
            step("similar papers")
        step("their indexes")

        presentation_columns = [
            q(field.column) for field in Presentation._meta.concrete_fields if field.name not in {"id", "paper"}
        ]
        cursor.execute(
            f"INSERT INTO {_table(Presentation)} ({_column(Presentation, 'paper')}, {', '.join(presentation_columns)}) "
            f"SELECT m.copy_id, {', '.join('x.' + column for column in presentation_columns)} "
            f"FROM {_table(Presentation)} x JOIN {COPIES} m ON m.original_id = x.{_column(Presentation, 'paper')}"
        )
        presentations = cursor.rowcount

        cursor.execute(
            f"INSERT INTO {_table(Assignment)} ({_column(Assignment, 'lab')}, {_column(Assignment, 'paper')}, "
            f"{_column(Assignment, 'user')}, {_column(Assignment, 'created_at')}) "
            f"SELECT x.{_column(Assignment, 'lab')}, m.copy_id, x.{_column(Assignment, 'user')}, "
            f"x.{_column(Assignment, 'created_at')} "
            f"FROM {_table(Assignment)} x JOIN {COPIES} m ON m.original_id = x.{_column(Assignment, 'paper')}"
        )
        assignments = cursor.rowcount

        moved = {}
        for model, owner in ((ReadingStatus, "user"), (Note, "author")):
            table, paper_column = _table(model), _column(model, "paper")
            version = _version(f"{table}.{_column(model, owner)}", f"{table}.{paper_column}")
            cursor.execute(
                f"UPDATE {table} SET {paper_column} = (SELECT m.copy_id FROM {COPIES} m "
                f"WHERE m.original_id = {table}.{paper_column} AND m.n = {version}) "
                f"WHERE {paper_column} IN (SELECT id FROM {ORIGINALS}) AND {version} <> 0",
                [factor, factor],
            )
            moved[model] = cursor.rowcount
        step("programme, splits, activity")

        for table in (COPIES, ORIGINALS):
            cursor.execute(f"DROP TABLE {table}")
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA cache_size = -2000")

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Paper, PaperNeighbor, Presentation, Assignment, ReadingStatus, Note):
                cursor.execute(f"ANALYZE {_table(model)}")
    step("commit and analyse")
    return Scaled(
        factor=factor,
        papers={conference.slug: (before[conference.slug], conference.papers.count()) for conference in conferences},
        neighbors=neighbors,
        presentations=presentations,
        assignments=assignments,
        statuses_moved=moved[ReadingStatus],
        notes_moved=moved[Note],
        seconds=time.perf_counter() - started,
        steps=steps,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("slugs", nargs="*", metavar="CONFERENCE_SLUG", help="Default: every conference.")
    parser.add_argument("--factor", type=int, default=10, help="Papers afterwards ÷ papers before (default 10).")
    options = parser.parse_args()
    conferences = Conference.objects.order_by("slug")
    if options.slugs:
        conferences = conferences.filter(slug__in=options.slugs)
        missing = set(options.slugs) - set(conferences.values_list("slug", flat=True))
        if missing:
            sys.exit(f"No conference {', '.join(sorted(missing))}.")
    try:
        print(scale(list(conferences), factor=options.factor))
    except AlreadyScaled as error:
        sys.exit(str(error))


if __name__ == "__main__":
    main()
