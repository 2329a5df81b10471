"""
A filtered list as BibTeX: one @inproceedings per paper.

Keys are the first author's last name, the year and the first word of the title that is not a small word
(`darcet2024vision`), all ASCII; papers sharing a key get a, b, c… in forum-id order. Titles keep
their LaTeX math as it is, escape the characters BibTeX/LaTeX treat specially outside math, and are
wrapped in braces so that styles keep their capitals.

A .bib file is LaTeX that a reader compiles into their own paper, and titles and author names come from
OpenReview: they keep only the commands titles use (papers.latex's math fonts, Greek and symbols, text
styles, accents). Any other command loses its backslash (`\\href{javascript:…}{x}` is printed as
`href…x`), so that no title can make the reader's LaTeX read a file (\\input), run a program
(\\write18) or make a link; TeX's `^^5c`, another spelling of a backslash, is split up too.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict

from papers.latex import FONTS, GREEK, SYMBOLS
from papers.models import Conference, Paper

SMALL_WORDS = {"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "at", "by", "is", "are", "do"}
SPECIAL = re.compile(r"(?<!\\)([&%#_])")
MATH = re.compile(r"(?<!\\)\$[^$]*(?<!\\)\$")
YEAR = re.compile(r"(?:19|20)\d\d")
LATEX_COMMAND = re.compile(r"\\([A-Za-z]+|.)", re.DOTALL)
KEPT_COMMANDS = {
    *GREEK, *SYMBOLS, *FONTS,
    "textbf", "textit", "emph", "texttt", "text", "textrm", "textsf", "textsc", "mathrm", "mathbf", "mathit",
    "mathsf", "mathtt", "boldsymbol", "operatorname", "frac", "log", "exp", "min", "max", "sum", "prod",
    "ldots", "cdots", "dots", "left", "right", "tilde", "hat", "bar", "vec", "dot", "overline", "widehat",
    "widetilde", "LaTeX", "TeX", "c", "v", "u", "H", "k", "r", "d", "b", "i", "j", "o", "O", "l", "L", "ss",
    "ae", "AE", "oe", "OE", "aa", "AA",
}  # fmt: skip


def ascii_word(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower())


def conference_year(conference: Conference) -> str:
    if conference.start_date:
        return str(conference.start_date.year)
    match = YEAR.search(f"{conference.venue_id} {conference.slug} {conference.name}")
    return match.group() if match else ""


def base_key(paper: Paper, year: str) -> str:
    author = ascii_word(paper.authors[0].split()[-1]) if paper.authors and paper.authors[0].split() else ""
    title_text = MATH.sub(" ", paper.title)
    words = [ascii_word(word) for word in re.split(r"[\s\-:]+", title_text)]
    words = [word for word in words if word]
    word = next((w for w in words if w not in SMALL_WORDS), words[0] if words else "")
    return f"{author or 'anon'}{year}{word}"


def citation_keys(papers: list[Paper], year: str) -> dict[int, str]:
    """paper pk → key: unique within the export, the same for the same papers whatever their order."""
    groups: dict[str, list[Paper]] = defaultdict(list)
    for paper in papers:
        groups[base_key(paper, year)].append(paper)
    keys = {}
    for key, group in groups.items():
        if len(group) == 1:
            keys[group[0].pk] = key
            continue
        for index, paper in enumerate(sorted(group, key=lambda p: p.forum_id)):
            keys[paper.pk] = f"{key}{_suffix(index)}"
    return keys


def _suffix(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def _disarm(text: str) -> str:
    """Only the commands a title's LaTeX needs: any other keeps its name but loses its backslash."""
    text = re.sub(r"\^(?=\^)", "^{}", text)
    return LATEX_COMMAND.sub(
        lambda m: m.group() if m.group(1) in KEPT_COMMANDS or not m.group(1).isalpha() else m.group(1), text
    )


def latex_text(text: str) -> str:
    """Text that is valid inside a BibTeX field: math and known commands kept, &%#_ escaped outside math."""
    text = _disarm(text)
    parts, position = [], 0
    for match in MATH.finditer(text):
        parts.append(SPECIAL.sub(r"\\\1", text[position : match.start()]))
        parts.append(match.group())
        position = match.end()
    parts.append(SPECIAL.sub(r"\\\1", text[position:]))
    result = "".join(parts)
    if not _balanced(result):
        result = result.replace("{", "").replace("}", "")
    return result


def _balanced(text: str) -> bool:
    depth = 0
    for index, char in enumerate(text):
        if char in "{}" and index and text[index - 1] == "\\":
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _author(name: str) -> str:
    name = latex_text(name)
    # " and " separates authors in BibTeX: a name holding it is kept whole in braces.
    return f"{{{name}}}" if re.search(r"\sand\s", name) else name


def bibliography(papers: list[Paper], *, conference: Conference) -> str:
    year = conference_year(conference)
    keys = citation_keys(papers, year)
    entries = []
    for paper in papers:
        fields = [
            ("title", f"{{{latex_text(paper.title)}}}"),
            ("author", " and ".join(_author(name) for name in paper.authors)),
            ("booktitle", latex_text(conference.name)),
            ("year", year),
            ("url", paper.forum_url),
        ]
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
        entries.append(f"@inproceedings{{{keys[paper.pk]},\n{body}\n}}\n")
    return "\n".join(entries)
