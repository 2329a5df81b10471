"""
A filtered list as CSV, one row per paper: the paper's record (the columns papers.importers.csv reads
back), its sessions, and the member's and the lab's triage. Lists inside a cell are joined with "; ".

A spreadsheet runs a cell that starts with = + - or @ (a title like =HYPERLINK("https://…?"&F2) would
send the row's notes away when the file is opened): such a cell is written after an apostrophe, which
spreadsheets show as text (OWASP's advice); papers.importers.csv takes it off again (text_of_cell), so a
round trip gives back the text exactly. The forum
id is written as it is: only letters, digits, - and _, it can name no function, and it is the key.
"""

from __future__ import annotations

import csv
import io

from papers.exporters import one_line, session_label
from papers.models import Paper

LIST_SEPARATOR = "; "
PAPER_COLUMNS = ("forum_id", "title", "authors", "tier", "keywords", "primary_area", "abstract", "pdf_url")
COLUMNS = (*PAPER_COLUMNS, "sessions", "my_state", "my_star", "my_one_liner", "lab_stars", "lab_reads")
# What starts a formula, also after spaces; a tab or a carriage return first can too. Full-width forms too:
# some spreadsheets read them as their ASCII twins.
FORMULA_START = tuple("=+-@＝＋－＠")


def _starts_formula(value: str) -> bool:
    return value.lstrip().startswith(FORMULA_START) or value.startswith(("\t", "\r"))


def _cell(value: str) -> str:
    return f"'{value}" if _starts_formula(value) else value


def text_of_cell(cell: str) -> str:
    """A cell's text as written by _cell: without the apostrophe that kept a formula from running."""
    return cell[1:] if cell.startswith("'") and _starts_formula(cell[1:]) else cell


def paper_rows(papers: list[Paper]) -> list[dict[str, str]]:
    rows = []
    for paper in papers:
        signals = paper.signals
        rows.append(
            {
                "forum_id": paper.forum_id,
                "title": paper.title,
                "authors": LIST_SEPARATOR.join(paper.authors),
                "tier": paper.tier,
                "keywords": LIST_SEPARATOR.join(paper.keywords),
                "primary_area": paper.primary_area,
                "abstract": paper.abstract,
                "pdf_url": paper.pdf_url,
                "sessions": LIST_SEPARATOR.join(
                    session_label(p, paper.conference) for p in paper.presentations.all() if p.session.lab_id is None
                ),
                "my_state": signals.my_state,
                "my_star": "yes" if signals.my_starred else "",
                "my_one_liner": one_line(signals.my_summary.body) if signals.my_summary else "",
                "lab_stars": str(len(signals.starred_by)),
                "lab_reads": str(len(signals.read_by)),
            }
        )
    return rows


def papers_csv(papers: list[Paper]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(
        {name: value if name == "forum_id" else _cell(value) for name, value in row.items()}
        for row in paper_rows(papers)
    )
    return out.getvalue()
