"""Search and embedding for a caller: what it may read, metered like every request."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from commune.account.metering import Metering
from commune.answering.retrieve import Hit, coverage, prepare_query, search_catalog, unknown_terms
from commune.commons.library import Library
from commune.config import RetrievalSettings, Settings
from commune.embed import Embedder
from commune.errors import InvalidRequest
from commune.govern.policy import OPERATOR, Actor
from commune.store import repository as repo

if TYPE_CHECKING:
    from commune.index.catalog import Catalog


def check_length(settings: Settings, text: str, what: str) -> None:
    limit = settings.limits.max_query_chars
    if len(text) > limit:
        raise InvalidRequest(
            f"the {what} is {len(text)} characters long, over the limit of {limit}: "
            "ask about one thing at a time"
        )


class Searcher:
    def __init__(
        self,
        settings: Settings,
        library: Library,
        metering: Metering,
        catalog: Callable[[], Catalog],
        embedder: Callable[[], Embedder],
    ) -> None:
        self.settings = settings
        self.library = library
        self.metering = metering
        self.catalog = catalog
        self.embedder = embedder

    def search(
        self,
        query: str,
        collection: str | None = None,
        k: int = 10,
        actor: Actor = OPERATOR,
        record: str | None = None,
        retrieval: RetrievalSettings | None = None,
    ) -> list[Hit]:
        """Hybrid search over what ``actor`` may read; ``record`` names the route to meter.

        ``retrieval`` overrides the configured fusion (the evaluation measures each half)."""
        if k <= 0:
            raise InvalidRequest(f"k must be greater than 0, got {k}")
        if not query.strip():
            raise InvalidRequest("the query is empty: give some words to search for")
        check_length(self.settings, query, "query")
        if record:
            self.metering.admit(actor)
            meter = self.metering.meter()
        ids = self.library.scope(collection, actor)
        catalog = self.catalog()
        q = prepare_query(query, self.embedder())
        found = search_catalog(catalog, q, retrieval or self.settings.retrieval, k, ids)
        engine = self.library.engine
        with engine.connect() as conn:
            details = repo.chunk_details(conn, [cid for cid, *_ in found])
        weights = catalog.lexical.term_weights(q.terms)
        unknown = unknown_terms(q, catalog.lexical.knows)
        hits = []
        for cid, score, lr, dr, cos in found:
            d = details[cid]
            hits.append(
                Hit(
                    document_id=d["document_id"],
                    chunk_id=cid,
                    title=d["title"],
                    source=d["source_uri"],
                    section=d["heading_path"],
                    score=round(score, 6),
                    licence=d["licence"],
                    text=d["text"],
                    collection=d["collection"],
                    language=d["language"],
                    anchor=d["anchor"],
                    page=d["page"],
                    contributor=d["contributor"],
                    publisher=d["publisher"],
                    lexical_rank=lr,
                    dense_rank=dr,
                    cosine=round(cos, 4),
                    coverage=round(coverage(q, set(d["terms"].split()), weights), 4),
                    revision_id=d["revision_id"],
                    tdm_reserved=bool(d["tdm_reserved"]),
                    unknown_terms=unknown,
                )
            )
        if record:
            self.metering.record_usage(record, "search", None, 0, 0, collection, meter, actor)
        return hits

    def embed(
        self, texts: list[str], model: str, actor: Actor = OPERATOR, record: str = "embed"
    ) -> tuple[Embedder, np.ndarray, int]:
        """Embed ``texts`` for a caller: quota checked first, the work metered and recorded in
        the ledger like any other request. Returns (embedder, vectors, input tokens)."""
        from commune.embed import get_embedder

        if not texts or any(not t.strip() for t in texts):
            raise InvalidRequest("input must be a non-empty string or list of non-empty strings")
        for text in texts:
            check_length(self.settings, text, "input")
        embedder = get_embedder(model)  # an unknown model is refused before the quota counts
        tokens = sum(len(t.split()) for t in texts)
        with self.metering.metered(record, actor, "embed", embedder.name, tokens):
            vectors = embedder.embed_passages(texts)
        return embedder, vectors, tokens
