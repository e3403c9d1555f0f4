"""The library facade: everything the CLI, the API and the web page do goes through here."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Engine

from commune.config import Settings, load_settings
from commune.errors import NotFound
from commune.ingest.pipeline import FileOutcome, IngestSummary, Provenance, ingest_paths
from commune.retrieve import Hit, coverage, prepare_query, search_catalog
from commune.store import repository as repo


class Commune:
    """One commune home: its database, its indexes and its models (all opened lazily)."""

    def __init__(
        self, home: str | os.PathLike[str] | None = None, settings: Settings | None = None
    ):
        self.settings = settings or load_settings(home)
        self._engine: Engine | None = None
        self._catalog = None
        self._lock = threading.Lock()

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from commune.store.db import open_database

            self.settings.home.mkdir(parents=True, exist_ok=True)
            self._engine = open_database(self.settings.database_url)
        return self._engine

    @property
    def embedder(self):  # type: ignore[no-untyped-def]
        from commune.embed import get_embedder

        return get_embedder(self.settings.retrieval.embedder)

    def catalog(self):  # type: ignore[no-untyped-def]
        """The search snapshot, reloaded when another process or thread changed the data."""
        from commune.index.catalog import load_catalog

        with self.engine.connect() as conn:
            gen = repo.generation(conn)
        with self._lock:
            if self._catalog is None or self._catalog.generation != gen:
                self._catalog = load_catalog(self.engine, self.settings.index_dir, self.embedder)
            return self._catalog

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> Commune:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- collections and documents -------------------------------------------------------------
    def collections(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return repo.list_collections(conn)

    def _collection_ids(self, name: str | None) -> list[int] | None:
        if name is None:
            return None
        with self.engine.connect() as conn:
            cid = repo.collection_id(conn, name)
            if cid is None:
                known = ", ".join(c["name"] for c in repo.list_collections(conn)) or "none yet"
                raise NotFound(f"no collection named {name!r}", f"known collections: {known}")
        return [cid]

    def documents(
        self, collection: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        if collection is not None:
            self._collection_ids(collection)
        with self.engine.connect() as conn:
            return repo.list_documents(conn, collection, limit, offset)

    # -- ingest --------------------------------------------------------------------------------
    def add(
        self,
        paths: list[str | os.PathLike[str]],
        collection: str | None = None,
        licence: str | None = None,
        contributor: str | None = None,
        publisher: str | None = None,
        source: str | None = None,
        progress: Callable[[FileOutcome, int, int], None] | None = None,
    ) -> IngestSummary:
        if licence is not None:
            from commune.licences import normalise

            licence = normalise(licence)
        return ingest_paths(
            self.engine,
            self.settings,
            list(paths),
            collection or self.settings.default_collection,
            Provenance(licence, contributor, publisher, source),
            progress,
        )

    # -- retrieve and answer ---------------------------------------------------------------------
    def search(self, query: str, collection: str | None = None, k: int = 10) -> list[Hit]:
        if k <= 0:
            raise ValueError(f"k must be greater than 0, got {k}")
        if not query.strip():
            raise ValueError("the query is empty: give some words to search for")
        ids = self._collection_ids(collection)
        catalog = self.catalog()
        q = prepare_query(query, self.embedder)
        found = search_catalog(catalog, q, self.settings.retrieval, k, ids)
        with self.engine.connect() as conn:
            details = repo.chunk_details(conn, [cid for cid, *_ in found])
        weights = catalog.lexical.term_weights(q.terms)
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
                )
            )
        return hits

    def ask(  # type: ignore[no-untyped-def]
        self,
        question: str,
        collection: str | None = None,
        mode: str = "extractive",
        model: str | None = None,
        route: str = "ask",
    ):
        """Answer with cited sentences, quoted (extractive) or written by a model (generate)."""
        *_, answer = self.ask_stream(question, collection, mode, model, route)
        return answer

    def ask_stream(  # type: ignore[no-untyped-def]
        self,
        question: str,
        collection: str | None = None,
        mode: str = "extractive",
        model: str | None = None,
        route: str = "ask",
    ) -> Iterator[Any]:
        """Yield the answer's text as verified pieces, then the whole ``Answer``."""
        from commune.answer import extractive_stream, stream_generated

        if mode not in ("extractive", "generate"):
            raise ValueError(f"mode must be 'extractive' or 'generate', got {mode!r}")
        if not question.strip():
            raise ValueError("the question is empty: ask something")
        started = time.perf_counter()
        hits = self.search(question, collection, k=8)
        if mode == "generate":
            generator = self.generator(model)  # an unknown model is an error, not a fallback
            events = stream_generated(
                question, hits, self.embedder, generator, self.settings.generation.passages
            )
        else:
            events = extractive_stream(question, hits, self.embedder)
        for event in events:
            if not isinstance(event, str):
                self.record_usage(
                    route,
                    event,
                    collection,
                    time.perf_counter() - started,
                    fallback=mode == "generate" and event.mode != "generate",
                )
            yield event

    def generator(self, name: str | None = None):  # type: ignore[no-untyped-def]
        from commune.generate.registry import get_generator

        return get_generator(self.settings, name)

    def record_usage(
        self,
        route: str,
        answer,
        collection: str | None,
        seconds: float,  # type: ignore[no-untyped-def]
        fallback: bool = False,
    ) -> None:
        with self.engine.begin() as conn:
            repo.record_usage(
                conn,
                route=route,
                mode=answer.mode,
                model=answer.model,
                collection=collection,
                input_tokens=answer.input_tokens,
                output_tokens=answer.output_tokens,
                duration_ms=seconds * 1000,
                fallback=fallback,
            )
