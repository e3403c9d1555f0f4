"""The library facade: everything the CLI, the API and the web page do goes through here."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, insert, select

from commune.answer_licensing import finish_licensing
from commune.config import RetrievalSettings, Settings, load_settings
from commune.errors import CommuneError, NotFound
from commune.govern.policy import OPERATOR, Actor, can_read
from commune.ingest.pipeline import (
    FileOutcome,
    IngestSummary,
    Provenance,
    check_source,
    ingest_paths,
)
from commune.retrieve import Hit, coverage, prepare_query, search_catalog, unknown_terms
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

    def reindex(self, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Rebuild the search indexes from the database, embedding with the configured model
        every chunk that has no vector from it yet (after a change of embedder)."""
        from commune.index.catalog import load_catalog

        with self._lock:
            self._catalog = load_catalog(
                self.engine, self.settings.index_dir, self.embedder, progress, rebuild=True
            )
            return {
                "chunks": len(self._catalog),
                "embedder": self.embedder.name,
                "generation": self._catalog.generation,
            }

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> Commune:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- collections and documents -------------------------------------------------------------
    def collections(self, actor: Actor = OPERATOR) -> list[dict[str, Any]]:
        """Collections the actor may read, with document counts and visibility."""
        with self.engine.connect() as conn:
            rows = repo.list_collections(conn)
        return [
            {k: v for k, v in r.items() if k not in ("id", "member_id")}
            for r in rows
            if can_read(actor, r["visibility"], r["member_id"], r["owner"])
        ]

    def _readable(self, actor: Actor) -> dict[str, dict[str, Any]]:
        """Collections ``actor`` may read, by name (a light query: it runs on every search)."""
        with self.engine.connect() as conn:
            rows = repo.collection_access(conn)
        return {
            r["name"]: r
            for r in rows
            if can_read(actor, r["visibility"], r["member_id"], r["owner"])
        }

    def readable_collection_ids(self, actor: Actor) -> list[int] | None:
        """Ids of the collections ``actor`` may read; None means all (the operator)."""
        if actor.is_operator:
            return None
        return [r["id"] for r in self._readable(actor).values()]

    def _collection_ids(self, name: str | None, actor: Actor = OPERATOR) -> list[int] | None:
        if name is None:
            return self.readable_collection_ids(actor)
        readable = self._readable(actor)
        # A collection the actor may not read is reported as absent: its very name is private.
        if name not in readable:
            known = ", ".join(sorted(readable)) or "none yet"
            raise NotFound(f"no collection named {name!r}", f"known collections: {known}")
        return [readable[name]["id"]]

    def documents(
        self,
        collection: str | None = None,
        limit: int = 100,
        offset: int = 0,
        actor: Actor = OPERATOR,
    ) -> list[dict[str, Any]]:
        ids = self._collection_ids(collection, actor)
        # What waits for curation (or was rejected or retired) is the curators' business:
        # a reader sees what the commons publishes.
        published_only = not actor.at_least("curator")
        with self.engine.connect() as conn:
            return repo.list_documents(conn, ids, limit, offset, published_only)

    def set_visibility(self, collection: str, visibility: str, member: str | None = None) -> None:
        """Make a collection private to a member, shared with the cooperative, or public."""
        from commune.govern.members import member_id
        from commune.govern.policy import VISIBILITIES

        if visibility not in VISIBILITIES:
            raise ValueError(
                f"visibility must be one of {', '.join(VISIBILITIES)}, got {visibility!r}"
            )
        with self.engine.begin() as conn:
            cid = repo.collection_id(conn, collection)
            if cid is None:
                raise NotFound(f"no collection named {collection!r}")
            owner = member_id(conn, member) if member else repo.collection_owner(conn, cid)
            if visibility == "private" and owner is None:
                raise ValueError(
                    f"a private collection needs an owner: pass --member for {collection!r}"
                )
            repo.set_collection_access(conn, cid, owner, visibility)
            repo.bump_generation(conn)
            from commune.commons import audit

            audit.append(
                conn,
                "operator",
                "visibility",
                f"collection {collection}",
                visibility=visibility,
                owner=member,
            )

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
        member: str | None = None,
        visibility: str | None = None,
        actor: Actor = OPERATOR,
        tdm_reserved: bool = False,
    ) -> IngestSummary:
        """Ingest files into ``collection``; a new collection belongs to ``member`` if given
        (then private by default), else is shared with the cooperative by default."""
        # Bad input is refused before anything is written, a new collection included.
        if licence is not None:
            from commune.licences import normalise

            licence = normalise(licence)
        if source is not None:
            check_source(source)
        if contributor is None and not actor.is_operator:
            # A user contributing is the contributor the commons credits, unless told otherwise.
            contributor = f"{actor.user} ({actor.member})" if actor.member else actor.user
        name = collection or self.settings.default_collection
        if member is not None or visibility is not None:
            with self.engine.connect() as conn:
                exists = repo.collection_id(conn, name) is not None
            if not exists:
                from commune.store.db import write_transaction

                with write_transaction(self.engine) as conn:
                    repo.collection_id(conn, name, create=True)
                self.set_visibility(name, visibility or ("private" if member else "shared"), member)
            else:
                current = next(c for c in self.collections() if c["name"] == name)
                if (visibility and visibility != current["visibility"]) or (
                    member and member != current["owner"]
                ):
                    raise CommuneError(
                        f"collection {name!r} is already {current['visibility']} "
                        f"(owner {current['owner'] or 'none'})",
                        f"change it with: commune visibility {name} VISIBILITY --member MEMBER",
                    )
        return ingest_paths(
            self.engine,
            self.settings,
            list(paths),
            name,
            Provenance(licence, contributor, publisher, source, tdm_reserved, actor),
            progress,
        )

    # -- retrieve and answer ---------------------------------------------------------------------
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
            raise ValueError(f"k must be greater than 0, got {k}")
        if not query.strip():
            raise ValueError("the query is empty: give some words to search for")
        self._check_length(query, "query")
        if record:
            self.admit(actor)
            meter = self.meter()
        ids = self._collection_ids(collection, actor)
        catalog = self.catalog()
        q = prepare_query(query, self.embedder)
        found = search_catalog(catalog, q, retrieval or self.settings.retrieval, k, ids)
        with self.engine.connect() as conn:
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
            self.record_usage(record, "search", None, 0, 0, collection, meter, actor)
        return hits

    def embed(
        self, texts: list[str], model: str, actor: Actor = OPERATOR, record: str = "embed"
    ) -> tuple[Any, Any, int]:
        """Embed ``texts`` for a caller: quota checked first, the work metered and recorded in
        the ledger like any other request. Returns (embedder, vectors, input tokens)."""
        from commune.embed import get_embedder

        if not texts or any(not t.strip() for t in texts):
            raise ValueError("input must be a non-empty string or list of non-empty strings")
        for text in texts:
            self._check_length(text, "input")
        embedder = get_embedder(model)  # an unknown model is refused before the quota counts
        tokens = sum(len(t.split()) for t in texts)
        with self.metered(record, actor, "embed", embedder.name, tokens):
            vectors = embedder.embed_passages(texts)
        return embedder, vectors, tokens

    def ask(  # type: ignore[no-untyped-def]
        self,
        question: str,
        collection: str | None = None,
        mode: str = "extractive",
        model: str | None = None,
        route: str = "ask",
        actor: Actor = OPERATOR,
        credit: bool = True,
    ):
        """Answer with cited sentences, quoted (extractive) or written by a model (generate).

        ``credit=False`` for questions nobody asked (the evaluation): their energy is still
        recorded, but they do not count as citations in the contributors' credits."""
        *_, answer = self.ask_stream(question, collection, mode, model, route, actor, credit)
        return answer

    def ask_stream(  # type: ignore[no-untyped-def]
        self,
        question: str,
        collection: str | None = None,
        mode: str = "extractive",
        model: str | None = None,
        route: str = "ask",
        actor: Actor = OPERATOR,
        credit: bool = True,
    ) -> Iterator[Any]:
        """Yield the answer's text as verified pieces, then the whole ``Answer``.

        Quotas are checked before any work; the work is metered, and the
        answer carries its energy and carbon, recorded in the ledger.
        """
        from commune.answer import extractive_stream, stream_generated

        if mode not in ("extractive", "generate"):
            raise ValueError(f"mode must be 'extractive' or 'generate', got {mode!r}")
        if not question.strip():
            raise ValueError("the question is empty: ask something")
        self._check_length(question, "question")
        self.admit(actor)
        meter = self.meter()
        hits = self.search(question, collection, k=8, actor=actor)
        hits, excluded = self.usable_for_answers(hits, actor)
        generator = None
        if mode == "generate":
            generator = self.generator(model)  # an unknown model is an error, not a fallback
            events = stream_generated(
                question, hits, self.embedder, generator, self.settings.generation.passages
            )
        else:
            events = extractive_stream(question, hits, self.embedder)
        try:
            for event in events:
                if not isinstance(event, str):
                    remote = generator if getattr(generator, "backend", "") == "openai" else None
                    energy = self.record_usage(
                        route,
                        event.mode,
                        event.model,
                        event.input_tokens,
                        event.output_tokens,
                        collection,
                        meter,
                        actor,
                        fallback=mode == "generate" and event.mode != "generate",
                        remote=remote,
                    )
                    event.energy = energy.to_json()
                    finish_licensing(event, excluded)
                    if credit:
                        self.record_credits(route, event, hits, actor)
                yield event
        except GeneratorExit:
            # The client went away mid-answer: the work done so far is still recorded.
            events.close()
            self.record_usage(route, "abandoned", None, 0, 0, collection, meter, actor)
            raise

    def _check_length(self, text: str, what: str) -> None:
        limit = self.settings.limits.max_query_chars
        if len(text) > limit:
            raise ValueError(
                f"the {what} is {len(text)} characters long, over the limit of {limit}: "
                "ask about one thing at a time"
            )

    def usable_for_answers(self, hits: list[Hit], actor: Actor) -> tuple[list[Hit], list[dict]]:
        """Leave out of answers what the charter or the licence forbids, saying why."""
        from commune.licences import terms_of

        declared = self.declared_use(actor)
        kept, excluded = [], []
        for h in hits:
            terms = terms_of(h.licence)
            if h.tdm_reserved and self.settings.charter.tdm_reserved == "exclude":
                why = "its rights holder reserved text and data mining (TDM opt-out)"
            elif declared == "commercial" and terms is not None and terms.non_commercial:
                why = f"its licence {h.licence} forbids commercial use, which your member declared"
            else:
                kept.append(h)
                continue
            if all(e["document_id"] != h.document_id for e in excluded):
                excluded.append(
                    {
                        "document_id": h.document_id,
                        "title": h.title,
                        "licence": h.licence,
                        "reason": why,
                    }
                )
        return kept, excluded

    def declared_use(self, actor: Actor) -> str | None:
        if actor.member_id is None:
            return None
        from commune.store.schema import members

        with self.engine.connect() as conn:
            return conn.execute(
                select(members.c.declared_use).where(members.c.id == actor.member_id)
            ).scalar()

    def record_credits(self, route: str, answer, hits: list[Hit], actor: Actor) -> None:  # type: ignore[no-untyped-def]
        """Credit every document (and its contributor) an answer cited."""
        if not answer.sources:
            return
        from commune.store.schema import credits

        counts: dict[int, int] = {}
        for s in answer.sentences:
            for n in s.get("sources", [s.get("source")]):
                counts[n] = counts.get(n, 0) + 1
        revision_of = {h.chunk_id: h.revision_id for h in hits}
        rows = [
            {
                "created_at": repo.now(),
                "route": route,
                "member_id": actor.member_id,
                "user_id": actor.user_id,
                "document_id": src.document_id,
                "revision_id": revision_of.get(src.chunk_id),
                "contributor": src.contributor,
                "citations": counts.get(src.n, 1),
            }
            for src in answer.sources
        ]
        with self.engine.begin() as conn:
            conn.execute(insert(credits), rows)

    def credits(self, month: str) -> dict[str, list[dict[str, Any]]]:
        from commune.commons.credits import report

        with self.engine.connect() as conn:
            return report(conn, month)

    def generator(self, name: str | None = None):  # type: ignore[no-untyped-def]
        from commune.generate.registry import get_generator

        return get_generator(self.settings, name)

    @contextmanager
    def metered(
        self,
        route: str,
        actor: Actor,
        mode: str = "list",
        model: str | None = None,
        input_tokens: int = 0,
    ) -> Iterator[None]:
        """A request that does work but no search or answer (listings, model lists,
        embeddings): its quota is checked before, its work lands in the ledger."""
        self.admit(actor)
        meter = self.meter()
        yield
        self.record_usage(route, mode, model, input_tokens, 0, None, meter, actor)

    def meter(self):  # type: ignore[no-untyped-def]
        from commune.account.energy import Meter

        return Meter(self.settings.energy.watts_per_core, self.settings.energy.rapl)

    def admit(self, actor: Actor) -> None:
        """Refuse the request (HTTP 429) when a quota of the actor or its member is used up."""
        from commune.govern.quotas import check_quotas

        with self.engine.connect() as conn:
            check_quotas(conn, actor, repo.now())

    def record_usage(  # type: ignore[no-untyped-def]
        self,
        route: str,
        mode: str,
        model: str | None,
        input_tokens: int,
        output_tokens: int,
        collection: str | None,
        meter,
        actor: Actor = OPERATOR,
        fallback: bool = False,
        remote=None,
    ):
        """Append one row to the ledger, where the work happened; returns its Energy."""
        from commune.account.energy import Energy, carbon, ecologits_wh

        cpu, wh, method = meter.stop()
        estimated = False
        if remote is not None and (input_tokens or output_tokens):  # the model did work
            spec = self.settings.models.get(remote.name)
            estimated = True
            if spec and spec.active_params_b and spec.total_params_b:
                wh += ecologits_wh(spec.active_params_b, spec.total_params_b, output_tokens)
                method += f" + EcoLogits estimate for {remote.name} (estimated)"
            else:
                method += (
                    f" + remote generation by {remote.name} not estimated: set "
                    f"models.{remote.name}.active_params_b and total_params_b"
                )
        energy = Energy(wh, carbon(wh, self.settings.energy.grid_gco2e_per_kwh), estimated, method)
        with self.engine.begin() as conn:
            repo.record_usage(
                conn,
                route=route,
                mode=mode,
                model=model,
                collection=collection,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                duration_ms=(time.perf_counter() - meter.started) * 1000,
                fallback=fallback,
                member_id=actor.member_id,
                user_id=actor.user_id,
                cpu_seconds=cpu,
                wh=energy.wh,
                gco2e=energy.gco2e,
                energy_method=method,
                estimated=estimated,
            )
        return energy

    # -- the commons: curation and audit -----------------------------------------------------
    def actor(self, user: str | None) -> Actor:
        """The operator acting as ``user`` (role checks then apply), or the operator."""
        if user is None:
            return OPERATOR
        from commune.govern.members import actor_for

        with self.engine.connect() as conn:
            return actor_for(conn, user)

    def pending(self, actor: Actor = OPERATOR) -> list[dict[str, Any]]:
        from commune.commons.curation import pending

        with self.engine.connect() as conn:
            return pending(conn, self.readable_collection_ids(actor))

    def review(
        self,
        revision_id: int,
        decision: str,
        reason: str,
        actor: Actor = OPERATOR,
        licence: str | None = None,
    ) -> str:
        from commune.commons.curation import review

        with self.engine.begin() as conn:
            return review(conn, revision_id, decision, reason, actor, licence)

    def show_revision(self, revision_id: int) -> dict[str, Any]:
        from commune.commons.curation import show

        with self.engine.connect() as conn:
            return show(conn, revision_id)

    def history(self, document_id: int) -> list[dict[str, Any]]:
        from commune.commons.curation import history

        with self.engine.connect() as conn:
            return history(conn, document_id)

    def retire(self, document_id: int, reason: str, actor: Actor = OPERATOR) -> None:
        from commune.commons.curation import retire

        with self.engine.begin() as conn:
            retire(conn, document_id, reason, actor)

    def set_curation_rules(
        self, collection: str, approvals: int, role: str, actor: Actor = OPERATOR
    ) -> None:
        from commune.commons.curation import set_rules

        with self.engine.begin() as conn:
            set_rules(conn, collection, approvals, role, actor)

    def verify_audit(self):  # type: ignore[no-untyped-def]
        from commune.commons.audit import verify

        with self.engine.connect() as conn:
            return verify(conn)

    # -- the cooperative -----------------------------------------------------------------------
    def usage_series(self, actor: Actor, start, end, member: str | None = None):  # type: ignore[no-untyped-def]
        """Daily usage the actor may see: its own, its member's (admins), any member's
        (cooperative admins and the operator)."""
        from commune.account.ledger import daily_series
        from commune.govern.members import member_id

        with self.engine.connect() as conn:
            if member is not None:
                if not (actor.at_least("cooperative-admin") or member == actor.member):
                    raise NotFound(f"no member named {member!r} visible to {actor.user}")
                return daily_series(conn, member_id(conn, member), start, end)
            if actor.is_operator or actor.at_least("member-admin"):
                return daily_series(conn, actor.member_id, start, end)
            return daily_series(conn, actor.member_id, start, end, user_id=actor.user_id)

    def statement(self, month: str):  # type: ignore[no-untyped-def]
        from commune.account.statement import build_statement

        with self.engine.connect() as conn:
            return build_statement(conn, self.settings.cooperative, month)
