"""Hybrid retrieval: BM25 and dense search, fused by weighted reciprocal rank fusion.

One more list carries the question's words in the commons' other languages
(index/lexicon.py): BM25 of their stems over the passages in those languages.

RRF needs no score calibration between the two engines (BM25 scores and
cosines live on different scales) and is robust when one side finds nothing,
e.g. a cross-lingual question with no shared words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from commune.config import RetrievalSettings
from commune.embed import Embedder
from commune.index.base import top_k
from commune.index.catalog import Catalog
from commune.index.lexicon import Lexicon
from commune.text.analysis import analyze, query_term_sets
from commune.text.lang import detect


@dataclass
class Hit:
    document_id: int
    chunk_id: int
    title: str
    source: str
    section: str
    score: float
    licence: str | None
    text: str
    collection: str
    language: str
    anchor: str | None
    page: int | None
    contributor: str | None
    publisher: str | None
    lexical_rank: int | None
    dense_rank: int | None
    cosine: float
    coverage: float  # share of the query's term weight this chunk contains
    revision_id: int | None = None
    tdm_reserved: bool = False
    unknown_terms: int = 0  # names in the query the whole commons never mentions
    # A peer cooperative's passage (answering/federation.py): the peer, its own ids, the
    # collection's policy and the attribution line it sent. None: this home's own.
    origin: dict[str, Any] | None = None

    # Computed from statistics over the whole commons, private collections included: they
    # would tell a member whether a word occurs in another member's private documents.
    # Used inside (relevance decisions), never shown.
    PRIVATE_FIELDS = ("coverage", "unknown_terms")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in self.PRIVATE_FIELDS:
            data.pop(name)
        return data


@dataclass
class Query:
    text: str
    language: str
    terms: list[str]  # union over the analysers, for BM25
    term_sets: dict[str, list[str]]  # per analyser, to measure coverage
    vector: np.ndarray
    # The question's words in the commons' other languages, as their index terms: searched
    # over those languages' passages only ({language: terms}; index/lexicon.py).
    translations: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Enriched:
    """The second embedder's view for one query: catalog ``rows`` that have its vectors
    (``matrix``, one per row), the query embedded by it, and the list's fusion weight."""

    rows: np.ndarray
    matrix: np.ndarray
    query: np.ndarray
    weight: float


def prepare_query(text: str, embedder: Embedder, lexicon: Lexicon | None = None) -> Query:
    """The query's language, terms and vector; with ``lexicon``, its words in the commons'
    other languages too."""
    lang = detect(text, default="en")
    langs = [lang] + [other for other in ("fr", "en") if other != lang]
    sets = query_term_sets(text, langs)
    terms = list(dict.fromkeys(t for ts in sets.values() for t in ts))
    translations = lexicon.translate(text, lang, embedder) if lexicon is not None else {}
    return Query(text, lang, terms, sets, embedder.embed_query(text), translations)


def fuse(
    lexical: np.ndarray,
    dense: np.ndarray,
    settings: RetrievalSettings,
    lexical_scale: np.ndarray | None = None,
    others: Sequence[tuple[np.ndarray, float]] = (),
) -> list[tuple[int, float, int | None, int | None]]:
    """(row, fused score, lexical rank, dense rank), best first; ranks are 1-based.

    ``lexical_scale`` multiplies each lexical result's weight (language-aware fusion).
    ``others``: more (rows, weight) lists: the second embedder's over the passages it has
    embedded (index/enrich.py; a passage it has not embedded is ranked by the others), the
    question's words in the other languages. With none, the fusion is the two-list one; a
    passage only they find has neither a lexical nor a dense rank."""
    table: dict[int, list[Any]] = {}
    scales = [1.0] * len(lexical) if lexical_scale is None else lexical_scale.tolist()
    for rank, (row, scale) in enumerate(zip(lexical.tolist(), scales, strict=True), 1):
        table.setdefault(row, [0.0, None, None])
        table[row][0] += settings.lexical_weight * scale / (settings.rrf_k + rank)
        table[row][1] = rank
    for rank, row in enumerate(dense.tolist(), 1):
        table.setdefault(row, [0.0, None, None])
        table[row][0] += settings.dense_weight / (settings.rrf_k + rank)
        table[row][2] = rank
    for rows, weight in others:
        for rank, row in enumerate(rows.tolist(), 1):
            table.setdefault(row, [0.0, None, None])
            table[row][0] += weight / (settings.rrf_k + rank)
    ordered = sorted(table.items(), key=lambda kv: (-kv[1][0], kv[0]))
    return [(row, score, lr, dr) for row, (score, lr, dr) in ordered]


def search_catalog(
    catalog: Catalog,
    query: Query,
    settings: RetrievalSettings,
    k: int,
    collection_ids: list[int] | None = None,
    enriched: Enriched | None = None,
) -> list[tuple[int, float, int | None, int | None, float]]:
    """(chunk id, score, lexical rank, dense rank, cosine) of the best ``k`` chunks.

    The cosine and the dense rank stay the default embedder's: the refusal and sentence
    models were trained on them; ``enriched`` changes the order only."""
    if len(catalog) == 0:
        return []
    mask = catalog.in_collections(collection_ids) if collection_ids is not None else None
    if catalog.live is not None:  # passages replaced or retired since the base: gone at once
        mask = catalog.live if mask is None else mask & catalog.live
    n = max(settings.candidates, k)
    lex_rows, _ = catalog.lexical.search(query.terms, n, mask)
    dense_rows, cosines = catalog.dense.search(query.vector, n, mask)
    cos_by_row = dict(zip(dense_rows.tolist(), cosines.tolist(), strict=True))
    # Words shared across languages are mostly names and commands; a lexical match in
    # another language than the question's is weaker evidence than one in its own.
    scale = np.where(
        catalog.languages_of(lex_rows) == query.language,
        1.0,
        settings.cross_lingual_lexical_weight,
    )
    out = []
    others = []
    if enriched is not None and len(enriched.rows):
        visible = None if mask is None else mask[enriched.rows]
        best, _ = top_k(enriched.matrix @ enriched.query, n, visible)
        others.append((enriched.rows[best], enriched.weight))
    # The question's words in the other languages are lexical evidence too: they weigh with
    # the lexical list (nothing when it is off), at their own share of it, as one list over
    # the passages in those languages, however many there are.
    weight = settings.lexical_weight * settings.translated_weight
    if query.translations and weight > 0:
        terms = list(dict.fromkeys(t for ts in query.translations.values() for t in ts))
        in_langs = np.logical_or.reduce([catalog.in_language(lang) for lang in query.translations])
        rows, scores = catalog.lexical.search(
            terms, n, in_langs if mask is None else mask & in_langs
        )
        others.append((rows[scores > 0], weight))
    fused = fuse(lex_rows, dense_rows, settings, scale, others)
    for row, score, lr, dr in fused[:k]:
        cosine = cos_by_row.get(row)
        if cosine is None:
            cosine = float(np.dot(catalog.dense.vector(row), query.vector))
        out.append((catalog.chunk_id(row), score, lr, dr, float(cosine)))
    return out


# A name: a capitalised word past the first ("Kubernetes", "WireGuard"), or a word with a
# digit or underscore ("shared_buffers", "365"). Ordinary words a small commons lacks are
# no sign of anything; a name it never mentions is a sign the question is about elsewhere.
_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b(?:[A-Z]\w*|\w*[\d_]\w*)\b")


def unknown_terms(query: Query, known: Callable[[str], bool]) -> int:
    """Names in the query that no indexed chunk contains."""
    names = " ".join(_NAME.findall(query.text.strip()))
    return sum(1 for t in analyze(names, query.language) if not known(t)) if names else 0


def coverage(query: Query, chunk_terms: set[str], weights: dict[str, float]) -> float:
    """Best share, over the query's analysers, of its term weight found in the chunk."""
    best = 0.0
    for terms in query.term_sets.values():
        total = sum(weights.get(t, 0.0) for t in terms)
        if total > 0:
            found = sum(weights.get(t, 0.0) for t in terms if t in chunk_terms)
            best = max(best, found / total)
    return best
