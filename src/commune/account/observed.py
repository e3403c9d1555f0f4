"""What the service has done so far, for ``/metrics``: answers by the charter's outcome,
energy, the size of the commons and its generation.

Read from the tables where the work was recorded, never counted again in memory: every
process of a deployment then reports the same totals, and a restart loses none. Decision
records are purged after the charter's retention: the answers' counts add those each purge
counted (``purged``), so that they never fall back.

The ledger (``usage``) only grows, and each scrape summed all of it: a scrape's cost grew with
every request ever metered. :class:`Totals` sums a row once: what was summed stays in the
process, and a scrape reads only the rows added since (those of the last minutes, which
may still be joined by a transaction that began earlier, are read again each time). The
purges' audit entries are read once too. The decision records are counted whole: the
charter's retention bounds them."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import BigInteger, ColumnElement, Connection, cast, func, select

from commune.store import repository as repo
from commune.store.audit import PURGE_DECISIONS
from commune.store.repository import now
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


# A ledger row is summed for good once it is this old: its transaction has ended. A row's time
# is taken as it is written, and a transaction that writes one (an answer's, with its
# decision record and cache) commits within seconds; the rows younger than this are summed
# again at each scrape, so that one committed late, after a younger row's id was seen, is
# not missed.
SETTLED = timedelta(minutes=10)


# The Wh and gCO2e are summed in billionths, as integers: floats added in parts (the rows
# of each scrape, then their sums) and the same floats added whole (a restarted server's
# first scrape) differ in their last bit, and a restarted server reported 2.072793 Wh where
# it had said 2.0727930000000003 Wh, which Prometheus reads as a counter reset: increase()
# and rate() counted every Wh ever metered again. Integers add up the same in any grouping.
NANO = 10**9


def _nano(column: ColumnElement[float]) -> ColumnElement[int]:
    """The sum of ``column`` in billionths, each row rounded to one: exact in any grouping."""
    return func.coalesce(func.sum(cast(func.round(column * NANO), BigInteger)), 0)


@dataclass
class _Sums:
    """Requests (ingestion's apart), their Wh and gCO2e; ingestion's Wh and gCO2e by kind;
    the Wh and gCO2e in billionths (NANO)."""

    requests: int = 0
    wh: int = 0
    gco2e: int = 0
    ingestion: dict[str, tuple[int, int]] = field(default_factory=dict)

    def plus(self, other: _Sums) -> _Sums:
        kinds = self.ingestion.keys() | other.ingestion.keys()
        return _Sums(
            self.requests + other.requests,
            self.wh + other.wh,
            self.gco2e + other.gco2e,
            {
                k: (
                    self.ingestion.get(k, (0, 0))[0] + other.ingestion.get(k, (0, 0))[0],
                    self.ingestion.get(k, (0, 0))[1] + other.ingestion.get(k, (0, 0))[1],
                )
                for k in kinds
            },
        )


def _summed(conn: Connection, rows: ColumnElement[bool]) -> _Sums:
    """The ledger's ``rows``, summed in the database."""
    ledger = conn.execute(
        select(func.count(usage.c.id), _nano(usage.c.wh), _nano(usage.c.gco2e)).where(
            ~INGESTION & rows
        )
    ).one()
    ingested = {
        str(r.mode): (int(r.wh), int(r.gco2e))
        for r in conn.execute(
            select(usage.c.mode, _nano(usage.c.wh).label("wh"), _nano(usage.c.gco2e).label("gco2e"))
            .where(INGESTION & rows)
            .group_by(usage.c.mode)
        )
    }
    return _Sums(int(ledger[0]), int(ledger[1]), int(ledger[2]), ingested)


class Totals:
    """The ledger's and the purges' totals, each row read once (the module says why), kept by
    one process (core.Commune) for its scrapes. What it reports never falls: two readings of
    the same rows summed in another order may differ in the last bit of a float, and
    Prometheus reads any fall as a reset (rate() then counts everything again)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.settled_id = 0  # the ledger's rows up to this id are in ``settled``
        self.settled = _Sums()
        self.audit_id = 0  # the audit entries up to this id are in ``purged``
        self.purged: dict[str, int] = {}
        self.shown: dict[str, float] = {}  # the highest each figure has been reported

    def read(self, conn: Connection) -> tuple[_Sums, dict[str, int]]:
        """The ledger's sums and the purged records by outcome, as of now."""
        with self.lock:
            # The purges first, the records after (observe): a purge committed between the
            # two reads is then missing from both, never counted twice.
            last = conn.execute(select(func.max(audit_log.c.id))).scalar_one() or 0
            if last > self.audit_id:
                # Entries commit in their ids' order: each is chained to the one before
                # under a lock (store/audit.append).
                for outcome, n in purged(conn, self.audit_id, last).items():
                    self.purged[outcome] = self.purged.get(outcome, 0) + n
                self.audit_id = last
            cutoff = now() - SETTLED
            recent = conn.execute(
                select(func.min(usage.c.id)).where(
                    (usage.c.id > self.settled_id) & (usage.c.created_at >= cutoff)
                )
            ).scalar_one()
            upto = (
                recent - 1
                if recent is not None
                else conn.execute(select(func.max(usage.c.id))).scalar_one() or 0
            )
            if upto > self.settled_id:
                older = (usage.c.id > self.settled_id) & (usage.c.id <= upto)
                self.settled = self.settled.plus(_summed(conn, older))
                self.settled_id = upto
            young = _summed(conn, usage.c.id > self.settled_id)
            return self.settled.plus(young), dict(self.purged)

    def never_less(self, name: str, value: float) -> float:
        """``value``, or the figure ``name`` last showed when that was higher."""
        with self.lock:
            shown = max(value, self.shown.get(name, value))
            self.shown[name] = shown
            return shown


def observe(conn: Connection, totals: Totals | None = None) -> Observed:
    """What /metrics shows; ``totals``: the process's running sums (a new one reads all)."""
    totals = totals or Totals()
    sums, gone = totals.read(conn)
    answers = {
        str(r.outcome): int(r.n)
        for r in conn.execute(
            select(decisions.c.outcome, func.count().label("n")).group_by(decisions.c.outcome)
        )
    }
    for outcome, n in gone.items():
        answers[outcome] = answers.get(outcome, 0) + n
    answers = {o: int(totals.never_less(f"answers {o}", n)) for o, n in answers.items()}
    ingested = {
        m: (
            totals.never_less(f"ingestion wh {m}", wh / NANO),
            totals.never_less(f"ingestion gco2e {m}", gco2e / NANO),
        )
        for m, (wh, gco2e) in sums.ingestion.items()
    }
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
        requests=sums.requests,
        wh=totals.never_less("wh", sums.wh / NANO),
        gco2e=totals.never_less("gco2e", sums.gco2e / NANO),
        documents=int(n_documents),
        passages=int(n_passages),
        generation=repo.generation(conn),
        ingestion_wh={m: ingested.get(m, (0.0, 0.0))[0] for m in INGESTION_MODES},
        ingestion_gco2e={m: ingested.get(m, (0.0, 0.0))[1] for m in INGESTION_MODES},
    )


def purged(conn: Connection, after: int = 0, upto: int | None = None) -> dict[str, int]:
    """Decision records purged past the charter's retention, by outcome, as each purge's
    audit entry counted them (charter/records.purge). Left out of the answers' counts, the
    hourly purge took them down, which Prometheus reads as a reset: increase() and rate()
    then counted every answer ever given again. Purges from before the count by outcome
    (their entry has the total only) are not known by outcome: they stay out, as they were."""
    found: dict[str, int] = {}
    entries = select(audit_log.c.details).where(
        (audit_log.c.action == PURGE_DECISIONS) & (audit_log.c.id > after)
    )
    if upto is not None:
        entries = entries.where(audit_log.c.id <= upto)
    for (details,) in conn.execute(entries):
        counted = json.loads(details).get("by_outcome")
        if isinstance(counted, dict):
            for outcome, n in counted.items():
                found[str(outcome)] = found.get(str(outcome), 0) + int(n)
    return found
