"""
Finding papers by words.

Every paper keeps `search_text`: its words, folded (LaTeX shown as text, accents and letterlike
symbols reduced to plain letters, lower case), one line per weight: title; authors and keywords;
TL;DR and area; abstract. Each line starts and ends with a space, so " word" finds words that begin
with "word" and never the inside of another word ("gan" is not in "organic").

PostgreSQL builds a weighted full-text vector (title A … abstract D) from those lines, with English
stemming ("spiking" finds "spike"), ranks by it, and treats the last word as a prefix while typing.
SQLite requires every word of the query at the start of a word, and ranks title hits first.
"""

from __future__ import annotations

import re
import unicodedata

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, F, Func, QuerySet, TextField, Value, When
from django.db.models.functions import StrIndex

from papers.latex import latex_to_text

CONFIG = "english"
WORD = re.compile(r"\w+")
WEIGHTS = ("A", "B", "C", "D")


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def fold(text: str) -> str:
    """'Timothée' → 'timothee', 'ℬ' → 'b': what a person types when they search."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).lower()


def words(text: str) -> list[str]:
    return WORD.findall(fold(text))


def _line(*texts: str) -> str:
    return " " + " ".join(word for text in texts for word in words(text)) + " "


def fill_search_fields(paper) -> None:
    """Set the paper's search_text and keyword_index from its fields (in memory; the caller saves)."""
    paper.search_text = "\n".join(
        [
            _line(latex_to_text(paper.title)),
            _line(*paper.authors, *paper.keywords),
            _line(paper.tldr, paper.primary_area),
            _line(paper.abstract),
        ]
    )
    keywords = sorted({keyword.strip().lower() for keyword in paper.keywords if keyword.strip()})
    paper.keyword_index = f"|{'|'.join(keywords)}|" if keywords else ""


def update_search_vectors(papers: QuerySet) -> None:
    """Recompute the full-text vectors of these papers from their search_text (PostgreSQL only)."""
    if not is_postgresql():
        return
    # Stemmed words (english) for whole-word queries, and the words as they are (simple) so that a
    # half-typed last word can match by prefix: "organi" finds "organic", whose stem is "organ".
    vectors = [
        SearchVector(
            Func(F("search_text"), Value("\n"), Value(number), function="split_part", output_field=TextField()),
            weight=weight,
            config=config,
        )
        for config in (CONFIG, "simple")
        for number, weight in enumerate(WEIGHTS, start=1)
    ]
    papers.update(search_vector=sum(vectors[1:], vectors[0]))


def search(papers: QuerySet, query: str) -> QuerySet:
    """The papers matching every word of query, annotated with `rank` (higher is better)."""
    terms = words(query)
    if not terms:
        return papers
    if is_postgresql():
        # Words are \w+ only, so nothing in them is tsquery syntax. The last one may be half typed.
        *whole, last = terms
        search_query = SearchQuery(last, search_type="raw", config=CONFIG) | SearchQuery(
            f"{last}:*", search_type="raw", config="simple"
        )
        if whole:
            search_query = SearchQuery(" & ".join(whole), search_type="raw", config=CONFIG) & search_query
        return papers.filter(search_vector=search_query).annotate(rank=SearchRank(F("search_vector"), search_query))
    for term in terms:
        papers = papers.filter(search_text__contains=f" {term}")
    # A word in the title (the first line) counts before a word elsewhere.
    papers = papers.annotate(_title_end=StrIndex("search_text", Value("\n")))
    hits = []
    for number, term in enumerate(terms):
        papers = papers.annotate(**{f"_at{number}": StrIndex("search_text", Value(f" {term}"))})
        hits.append(Case(When(**{f"_at{number}__lt": F("_title_end")}, then=Value(1.0)), default=Value(0.0)))
    return papers.annotate(rank=sum(hits[1:], hits[0]))


def keyword_filter(papers: QuerySet, keyword: str) -> QuerySet:
    return papers.filter(keyword_index__contains=f"|{keyword.strip().lower()}|")
