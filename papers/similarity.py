"""
Offline "more like this": for each paper of a conference, its k most similar papers of the same
conference, stored as PaperNeighbor rows. The only module that imports scikit-learn and numpy; run by
`manage.py build_similar` and after an import, never by a web worker (pages read the rows, see
papers/recommend.py).
"""

from __future__ import annotations

import time

import numpy as np
from django.db import connection, transaction
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from papers import versions
from papers.latex import latex_to_text
from papers.models import Conference, Paper, PaperNeighbor

# How many neighbours a paper keeps. Measured with `manage.py eval_recommendations` on ICLR 2024: recall@100
# rises from k=30 (0.55) to k=100 (0.60) and no further at 200; rows cost papers × k (226,000 for ICLR 2024).
DEFAULT_K = 100


def paper_text(paper: Paper) -> str:
    """What a paper is about: its title, abstract, keywords and primary area."""
    title = latex_to_text(paper.title)
    keywords = " ; ".join(str(keyword) for keyword in paper.keywords or [])
    return "\n".join([title, paper.abstract, keywords, paper.primary_area])


def similarity_matrix(texts: list[str]) -> np.ndarray:
    """Cosine similarities between the texts (n × n), a blend of TF-IDF and its LSA projection."""
    n = len(texts)
    if n < 2:
        return np.zeros((n, n))
    try:
        tfidf = TfidfVectorizer(
            sublinear_tf=True, stop_words="english", ngram_range=(1, 2), min_df=2 if n > 2 else 1
        ).fit_transform(texts)
    except ValueError:
        # Every word is a stop word or appears once: nothing to compare.
        return np.zeros((n, n))
    lexical = (tfidf @ tfidf.T).toarray()
    components = min(LSA_COMPONENTS, tfidf.shape[1] - 1, n - 1)
    if components < 2:
        return lexical
    with np.errstate(invalid="ignore", divide="ignore"):
        # A tiny conference has (near) no variance left to explain; only the projection matters here.
        topics = TruncatedSVD(n_components=components, random_state=0).fit_transform(tfidf)
    topics = normalize(topics)
    semantic = topics @ topics.T
    return LEXICAL_SHARE * lexical + (1 - LEXICAL_SHARE) * semantic


LSA_COMPONENTS = 200
LEXICAL_SHARE = 0.5


def nearest(similarities: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the indices of its k most similar other rows, most similar first, and their scores."""
    n = similarities.shape[0]
    k = min(k, n - 1)
    scores = similarities.copy()
    np.fill_diagonal(scores, -np.inf)
    if k <= 0:
        return np.empty((n, 0), dtype=int), np.empty((n, 0))
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    top_scores = np.take_along_axis(scores, top, axis=1)
    # Highest score first; ties by index, so a rebuild stores the same ranks.
    order = np.lexsort((top, -top_scores), axis=1)
    top = np.take_along_axis(top, order, axis=1)
    return top, np.take_along_axis(top_scores, order, axis=1)


def _insert(rows: list[tuple[int, int, float, int]]) -> None:
    """
    Writes (paper, neighbor, score, rank) rows: COPY on PostgreSQL, one prepared INSERT otherwise. A
    conference of 2,260 papers has 226,000 of them; as model instances through bulk_create they took 10 s
    more than the similarities themselves.
    """
    table = PaperNeighbor._meta.db_table
    columns = "paper_id, neighbor_id, score, rank"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s)", rows)


def build_neighbors(conference: Conference, *, k: int = DEFAULT_K) -> tuple[int, float]:
    """
    Replaces the conference's PaperNeighbor rows with each paper's k most similar papers (of the same
    conference), in one transaction. Returns (rows written, seconds taken).
    """
    started = time.perf_counter()
    papers = list(
        Paper.objects.for_conference(conference)
        .order_by("pk")
        .only("pk", "title", "abstract", "keywords", "primary_area")
    )
    ids = [paper.pk for paper in papers]
    top, scores = nearest(similarity_matrix([paper_text(paper) for paper in papers]), k)
    rows = [
        # The LSA part can go (slightly) negative for unrelated papers: that is "no likeness", not a penalty.
        (ids[i], ids[j], max(round(float(score), 6), 0.0), rank)
        for i in range(len(ids))
        for rank, (j, score) in enumerate(zip(top[i], scores[i], strict=True), start=1)
    ]
    with transaction.atomic():
        PaperNeighbor.objects.filter(paper__conference=conference).delete()
        _insert(rows)
        versions.programme_changed(conferences=[conference.pk])
    return len(rows), time.perf_counter() - started
