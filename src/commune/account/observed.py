"""What the service has done so far, for ``/metrics``: answers by the charter's outcome,
energy, the size of the commons and its generation.

Read at each scrape from the tables where the work was recorded, never counted again in
memory: every process of a deployment then reports the same totals, and a restart loses
none. Decision records are purged after the charter's retention: the answers' counts add
those each purge counted (``purged``), so that they never fall back."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select

from commune.account.ledger import ingestion_by_mode
from commune.store import repository as repo
from commune.store.audit import PURGE_DECISIONS
from commune.store.schema import (
    INGESTION,
    INGESTION_MODES,
    audit_log,
    chunks,
    decisions,
    documents,
    usage,
)


@dataclass(frozen=True)
class Observed:
    answers: dict[str, int]  # by outcome: refused, over-quota, cached, extractive, generated
    requests: int  # rows of the usage ledger but ingestion's: the requests metered
    wh: float  # energy of that work, measured or estimated (the ledger says which)
    gco2e: float
    documents: int  # published documents
    passages: int  # their searchable passages
    generation: int  # the database's index generation
    # Ingestion's energy and carbon, apart from the requests', by kind (INGESTION_MODES):
    # documents added, enriched, imported.
    ingestion_wh: dict[str, float] = field(default_factory=dict)
    ingestion_gco2e: dict[str, float] = field(default_factory=dict)


def observe(conn: Connection) -> Observed:
    answers = {
        str(r.outcome): int(r.n)
        for r in conn.execute(
            select(decisions.c.outcome, func.count().label("n")).group_by(decisions.c.outcome)
        )
    }
    for outcome, n in purged(conn).items():
        answers[outcome] = answers.get(outcome, 0) + n
    ledger = conn.execute(
        select(
            func.count(usage.c.id),
            func.coalesce(func.sum(usage.c.wh), 0.0),
            func.coalesce(func.sum(usage.c.gco2e), 0.0),
        ).where(~INGESTION)
    ).one()
    ingested = {mode: (wh, gco2e) for mode, (_, wh, gco2e) in ingestion_by_mode(conn).items()}
    # As search sees them (store/repository.py): published, and not retired since.
    published = (documents.c.status == "published") & documents.c.published_revision_id.is_not(None)
    n_documents = conn.execute(
        select(func.count()).select_from(documents).where(published)
    ).scalar_one()
    n_passages = conn.execute(
        select(func.count(chunks.c.id))
        .select_from(
            chunks.join(documents, chunks.c.revision_id == documents.c.published_revision_id)
        )
        .where(published)
    ).scalar_one()
    return Observed(
        answers=answers,
        requests=int(ledger[0]),
        wh=float(ledger[1]),
        gco2e=float(ledger[2]),
        documents=int(n_documents),
        passages=int(n_passages),
        generation=repo.generation(conn),
        ingestion_wh={m: ingested.get(m, (0.0, 0.0))[0] for m in INGESTION_MODES},
        ingestion_gco2e={m: ingested.get(m, (0.0, 0.0))[1] for m in INGESTION_MODES},
    )


def purged(conn: Connection) -> dict[str, int]:
    """Decision records purged past the charter's retention, by outcome, as each purge's
    audit entry counted them (charter/records.purge). Left out of the answers' counts, the
    hourly purge took them down, which Prometheus reads as a reset: increase() and rate()
    then counted every answer ever given again. Purges from before the count by outcome
    (their entry has the total only) are not known by outcome: they stay out, as they were."""
    found: dict[str, int] = {}
    entries = select(audit_log.c.details).where(audit_log.c.action == PURGE_DECISIONS)
    for (details,) in conn.execute(entries):
        counted = json.loads(details).get("by_outcome")
        if isinstance(counted, dict):
            for outcome, n in counted.items():
                found[str(outcome)] = found.get(str(outcome), 0) + int(n)
    return found
