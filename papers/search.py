"""
Finding papers by words. PostgreSQL: a weighted full-text vector (title A, authors and keywords B,
TL;DR and area C, abstract D) with English stemming, ranked, behind a GIN index. SQLite: every word
of the query must appear in the paper's lowercased text.
"""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, F, QuerySet, TextField, Value, When
from django.db.models.functions import Cast, Coalesce

CONFIG = "english"
WORD = re.compile(r"\w[\w'-]*", re.UNICODE)


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def fill_search_fields(paper) -> None:
    """Set the paper's search_text and keyword_index from its fields (in memory; the caller saves)."""
    parts = [paper.title, " ".join(paper.authors), " ".join(paper.keywords), paper.primary_area, paper.tldr]
    parts.append(paper.abstract)
    paper.search_text = "\n".join(part for part in parts if part).lower()
    keywords = sorted({keyword.strip().lower() for keyword in paper.keywords if keyword.strip()})
    paper.keyword_index = f"|{'|'.join(keywords)}|" if keywords else ""


def update_search_vectors(papers: QuerySet) -> None:
    """Recompute the full-text vectors of these papers (PostgreSQL only; a no-op elsewhere)."""
    if not is_postgresql():
        return

    def text(field: str):
        return Coalesce(Cast(field, output_field=TextField()), Value("", output_field=TextField()))

    papers.update(
        search_vector=SearchVector("title", weight="A", config=CONFIG)
        + SearchVector(text("authors"), text("keywords"), weight="B", config=CONFIG)
        + SearchVector("tldr", "primary_area", weight="C", config=CONFIG)
        + SearchVector("abstract", weight="D", config=CONFIG)
    )


def words(query: str) -> list[str]:
    return [word.lower() for word in WORD.findall(query)]


def search(papers: QuerySet, query: str) -> QuerySet:
    """The papers matching query, annotated with `rank` (higher is better) for the relevance sort."""
    terms = words(query)
    if not terms:
        return papers
    if is_postgresql():
        search_query = SearchQuery(" ".join(terms), search_type="plain", config=CONFIG)
        return papers.filter(search_vector=search_query).annotate(rank=SearchRank(F("search_vector"), search_query))
    for term in terms:
        papers = papers.filter(search_text__contains=term)
    # SQLite has no ranking of its own: a word in the title counts before a word elsewhere.
    title_hits = [Case(When(title__icontains=term, then=Value(1.0)), default=Value(0.0)) for term in terms]
    return papers.annotate(rank=sum(title_hits[1:], title_hits[0]))


def keyword_filter(papers: QuerySet, keyword: str) -> QuerySet:
    return papers.filter(keyword_index__contains=f"|{keyword.strip().lower()}|")
