"""Search and embedding for a caller: what it may read, metered like every request."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from commune.account.metering import Metering
from commune.answering.retrieve import (
    Enriched,
    Hit,
    Query,
    coverage,
    prepare_query,
    search_catalog,
    unknown_terms,
)
from commune.commons.library import Library
from commune.config import RetrievalSettings, Settings
from commune.embed import Embedder
from commune.errors import CommuneError, InvalidRequest
from commune.govern.policy import OPERATOR, Actor
from commune.govern.sources import public_source
from commune.store import repository as repo
from commune.text.lang import detect

if TYPE_CHECKING:
    from commune.account.energy import Meter
    from commune.index.catalog import Catalog
    from commune.index.enrich import EnrichedVectors
    from commune.index.lexicon import Equivalents


def blank(text: str) -> bool:
    """Nothing to search for: no letter and no digit, in any script. ``str.strip`` takes
    whitespace only: a query of "\\u0000" passed it, searched nothing a reader had typed and
    returned hits; so did, after control and format characters (a zero-width space, a
    byte-order mark) were refused, a lone combining accent ("\\u0301"), a private-use
    character, or punctuation and symbols only, each searched and billed. Every face refuses
    a blank question through here (its search, its answer path, /v1's messages)."""
    return not any(c.isalnum() for c in text)


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
        within: Collection[int] | None = None,
    ) -> list[Hit]:
        """Hybrid search over what ``actor`` may read; ``record`` names the route to meter.

        ``retrieval`` overrides the configured fusion (the evaluation measures each half);
        ``within`` narrows the search to these collections (those shared with peers)."""
        if k <= 0:
            raise InvalidRequest(f"k must be greater than 0, got {k}")
        if blank(query):
            raise InvalidRequest("the query is empty: give some words to search for")
        check_length(self.settings, query, "query")
        meter = None
        if record:
            self.metering.admit(actor)
            meter = self.metering.meter()
        try:
            return self._search(query, collection, k, actor, record, retrieval, within, meter)
        except BaseException:
            # A search that fails after admission (an unknown collection) held a place of
            # the day's quota for five minutes, counted as a request it never made.
            if record:
                self.metering.release(actor)
            if meter is not None:
                meter.discard()  # stopped already when its row was written
            raise

    def _search(
        self,
        query: str,
        collection: str | None,
        k: int,
        actor: Actor,
        record: str | None,
        retrieval: RetrievalSettings | None,
        within: Collection[int] | None,
        meter: Meter | None,
    ) -> list[Hit]:
        ids = self.library.scope(collection, actor)
        if within is not None:
            narrowed = set(within)
            ids = [i for i in (within if ids is None else ids) if i in narrowed]
        catalog = self.catalog()
        settings = retrieval or self.settings.retrieval
        translating = settings.translated_weight > 0 and settings.lexical_weight > 0
        q = prepare_query(query, self.embedder(), catalog.lexicon if translating else None)
        # The second embedder's list is meaning too: with the dense half off (the lexical half
        # an evaluation measures, or an operator's choice), it is off.
        enriched = self.enriched(catalog, query) if settings.dense_weight > 0 else None
        found = search_catalog(catalog, q, settings, k, ids, enriched)
        with self.library.engine.connect() as conn:
            details = repo.chunk_details(conn, [cid for cid, *_ in found])
        weights = catalog.lexical.term_weights(q.terms)
        unknown = unknown_terms(q, catalog.lexical.knows)
        hits = [
            _hit(details[cid], score, lr, dr, cos, q, weights, unknown)
            for cid, score, lr, dr, cos in found
        ]
        if not actor.is_operator:
            # A file added without --source has the operator's path for its address: others
            # (a member, a peer cooperative) are given its name, as the pages and the export
            # give it (govern/sources.py). The answers' sources come from here.
            for hit in hits:
                hit.source = public_source(hit.source)
        if record and meter is not None:
            self.metering.record_usage(record, "search", None, 0, 0, collection, meter, actor)
        return hits

    def equivalents(self, query: str) -> Equivalents:
        """``query``'s index terms in the commons' other languages: {term: {language:
        terms}} (index/lexicon.py); empty when that list is off or the base has none."""
        lexicon = self.catalog().lexicon
        if lexicon is None or self.settings.retrieval.translated_weight <= 0:
            return {}
        return lexicon.equivalents(query, detect(query, default="en"), self.embedder())

    @cached_property
    def enriched_vectors(self) -> EnrichedVectors:
        from commune.index.enrich import EnrichedVectors

        return EnrichedVectors(self.library.engine, self.settings.enrich.model)

    def _enriching(self) -> bool:
        """Whether ranking reads the second embedder's vectors at all: a model named, a
        weight in the fusion, and not the first embedder again. A model that names no
        embedder here is the file's mistake, said as `commune serve` says it (ConfigError,
        exit 78): ranking read it as "enrichment off", and `commune ask` and `search` answered
        without the second list, in silence, while the server refused to start on it."""
        from commune.embed.registry import misnamed

        cfg = self.settings.enrich
        error = misnamed("enrich.model", cfg.model)
        if error is not None:
            raise error
        return bool(cfg.model) and cfg.weight > 0 and cfg.model != self.embedder().name

    def enrichment_version(self) -> str | None:
        """What the ranking's second list is built from (index/enrich.py's counter of the
        vectors loaded, not the database's), or None when ranking ignores it (enrichment
        off): an answer cached before passages were enriched was ranked without them."""
        return self.enriched_vectors.current() if self._enriching() else None

    def enriched(self, catalog: Catalog, query: str) -> Enriched | None:
        """The second embedder's list for ``query``, over the passages it has embedded; None
        when enrichment is off or has embedded none of ``catalog``'s passages (the ranking
        is then exactly the two-list one, and the second model is never loaded)."""
        if not self._enriching():
            return None
        cfg = self.settings.enrich
        view = self.enriched_vectors.view(catalog)
        if view is None:
            return None
        from commune.embed import get_embedder

        try:
            vector = get_embedder(cfg.model).embed_query(query)
        except CommuneError as e:
            # Vectors stored, model gone (the extra uninstalled): rank as if not enriched.
            logging.getLogger("commune.index").warning("enriched ranking skipped: %s", e)
            return None
        return Enriched(rows=view[0], matrix=view[1], query=vector, weight=cfg.weight)

    def companions(self, query: str, hit: Hit, exclude: Collection[int], limit: int) -> list[Hit]:
        """The other passages of ``hit``'s document closest in meaning to ``query``, best
        first. The best document often holds the answer in a passage the search ranked low:
        a fiche's amount two sections below the passage that matched the question's
        wording. They come from the document's published revision, so the reader of ``hit``
        may read them. A companion has no rank in either list (``lexical_rank`` and
        ``dense_rank`` are None): it was not found by the search, only beside it."""
        if limit <= 0:
            return []
        embedder = self.embedder()
        q = prepare_query(query, embedder)  # the query's vector is the embedder's cached one
        with self.library.engine.connect() as conn:
            rows = [
                r
                for r in repo.searchable_chunks(conn, [hit.document_id])
                if int(r.id) not in exclude
            ]
            vectors = repo.vectors_for(conn, [int(r.id) for r in rows], embedder.name)
            cosines = {
                cid: float(np.frombuffer(v, dtype="<f4") @ q.vector) for cid, v in vectors.items()
            }
            best = sorted(cosines, key=lambda cid: (-cosines[cid], cid))[:limit]
            details = repo.chunk_details(conn, best)
        catalog = self.catalog()
        weights = catalog.lexical.term_weights(q.terms)
        unknown = unknown_terms(q, catalog.lexical.knows)
        found = [
            _hit(details[cid], 0.0, None, None, cosines[cid], q, weights, unknown) for cid in best
        ]
        for companion in found:
            # ``hit``'s document's address as ``hit`` gives it: its file's name to all but the
            # operator (search() above). A companion gave the operator's disk path to anyone.
            companion.source = hit.source
        return found

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


def _hit(
    d: dict[str, Any],
    score: float,
    lexical_rank: int | None,
    dense_rank: int | None,
    cosine: float,
    q: Query,
    weights: dict[str, float],
    unknown: int,
) -> Hit:
    return Hit(
        document_id=d["document_id"],
        chunk_id=d["chunk_id"],
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
        lexical_rank=lexical_rank,
        dense_rank=dense_rank,
        cosine=round(cosine, 4),
        coverage=round(coverage(q, set(d["terms"].split()), weights), 4),
        revision_id=d["revision_id"],
        tdm_reserved=bool(d["tdm_reserved"]),
        unknown_terms=unknown,
    )
