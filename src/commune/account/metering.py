"""Metering: quotas checked before work, energy measured around it, one ledger row after.

Ingestion (documents added, passages enriched, a dataset imported) is metered too, with the
same meter and method labels as the answers, in ledger rows of its own kind
(:class:`Ingestion`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine

from commune.config import Settings
from commune.errors import CommuneError
from commune.govern.policy import OPERATOR, Actor
from commune.store import repository as repo
from commune.store.schema import INGESTION, INGESTION_MODES

if TYPE_CHECKING:
    from commune.account.energy import Energy, Meter
    from commune.generate.base import Generator
    from commune.govern.quotas import QuotaUse


class Metering:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    def meter(self, resumed: bool = False) -> Meter:
        """A meter started now (``resumed``: of the same work as the one that just stopped,
        account/energy.Meter)."""
        from commune.account.energy import Meter

        return Meter(self.settings.energy.watts_per_core, self.settings.energy.rapl, resumed)

    def admit(self, actor: Actor) -> QuotaUse | None:
        """Refuse the request (HTTP 429) when a quota of the actor or its member is used up;
        else return the quota closest to its limit (None when none applies)."""
        from commune.govern.quotas import check_quotas, hold
        from commune.store.db import lock, write_transaction

        if actor.member_id is None:
            return None  # the operator: no quota, nothing to hold
        with self.engine.connect() as conn:
            if check_quotas(conn, actor, repo.now()) is None:
                return None  # no quota applies: no lock, no hold
        with write_transaction(self.engine) as conn:
            lock(conn, "quota", actor.member_id)  # one member's requests admitted one by one
            at = repo.now()
            tightest = check_quotas(conn, actor, at)
            if tightest is not None:  # a quota applies: hold this request's place in it
                hold(conn, actor, at)
            return tightest

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
        try:
            yield
        except BaseException:
            self.release(actor)  # no work to record: its place in the quota is free again
            raise
        self.record_usage(route, mode, model, input_tokens, 0, None, meter, actor)

    def release(self, actor: Actor) -> None:
        from commune.govern.quotas import release

        with self.engine.begin() as conn:
            release(conn, actor)

    def record_usage(
        self,
        route: str,
        mode: str,
        model: str | None,
        input_tokens: int,
        output_tokens: int,
        collection: str | None,
        meter: Meter,
        actor: Actor = OPERATOR,
        fallback: bool = False,
        generator: Generator | None = None,
        held: bool = True,
        conn: Connection | None = None,
        unmeasured: str | None = None,
    ) -> Energy:
        """Append one row to the ledger, where the work happened; returns its Energy.

        ``generator`` is the model that wrote the answer: the meter measured this machine,
        so a model served elsewhere (energy_method "ecologits") adds its estimate. ``conn``:
        the caller's transaction, when the row must land with its other records or not at
        all (answering/path.py). ``unmeasured``: work of this request done elsewhere, which
        this machine's meter did not see (a Ray cluster's): the method says so, and the
        figure is then an estimate of this machine's share alone."""
        from commune.account.energy import (
            Energy,
            Modelled,
            carbon,
            configured_for,
            modelled_for,
        )
        from commune.generate.base import ECOLOGITS
        from commune.store.db import within

        cpu, wh, method, estimated = meter.stop()
        if unmeasured:
            method, estimated = f"{method} + {unmeasured}", True
        gco2e = carbon(wh, self.settings.energy.grid_gco2e_per_kwh)
        energy = Energy(wh, gco2e, estimated, method)
        remote = generator if generator and generator.energy_method == ECOLOGITS else None
        if remote is not None and output_tokens:  # the model wrote something
            spec = self.settings.models.get(remote.name)
            why = (
                f"set models.{remote.name}.active_params_b and total_params_b"
                if spec is not None
                else "it is not configured"
            )
            modelled: Modelled | None
            try:
                if spec is not None and spec.wh_per_1k_tokens is not None:
                    # The operator's own figure, measured on the GPU server, comes first
                    # (docs/operations.md), as it does in the catalogue and the charter's cap.
                    modelled = configured_for(
                        remote.name,
                        spec.wh_per_1k_tokens,
                        output_tokens,
                        self.settings.energy.grid_gco2e_per_kwh,
                    )
                else:
                    modelled = modelled_for(remote.name, spec, output_tokens) if spec else None
            except CommuneError as exc:
                # The answer was given: its work is recorded all the same, saying what is
                # missing to model it (ecologits not installed, an unknown zone).
                modelled, why = None, str(exc)
            if modelled is not None:
                # This machine's share (measured or estimated) plus the endpoint's, modelled
                # with the hosting's electricity mix: the range is EcoLogits'.
                method = f"{method} + {modelled.method}"
                energy = Energy(
                    wh + modelled.wh,
                    (gco2e or 0.0) + modelled.gco2e,
                    True,
                    method,
                    wh_min=wh + modelled.wh_min,
                    wh_max=wh + modelled.wh_max,
                    embodied_gco2e=modelled.embodied_gco2e,
                )
            else:
                method += f" + remote generation by {remote.name} not estimated: {why}"
                energy = Energy(wh, gco2e, True, method)
        estimated = energy.estimated
        with within(self.engine, conn) as tx:
            repo.record_usage(
                tx,
                route=route,
                mode=mode,
                model=model,
                collection=collection,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                duration_ms=((meter.ended or time.perf_counter()) - meter.started) * 1000,
                fallback=fallback,
                member_id=actor.member_id,
                user_id=actor.user_id,
                cpu_seconds=cpu,
                wh=energy.wh,
                gco2e=energy.gco2e,
                energy_method=energy.method,
                estimated=estimated,
            )
            if held:  # admitted (admit() held its place): the ledger row now counts it
                from commune.govern.quotas import release

                release(tx, actor)
        return energy

    def member_month_wh(self, actor: Actor) -> float | None:
        """What the actor's member used this month, in Wh (None for the operator)."""
        if actor.member_id is None:
            return None
        from sqlalchemy import func, select

        from commune.govern.quotas import month
        from commune.store.schema import usage

        window = month(repo.now())
        with self.engine.connect() as conn:
            return float(
                conn.execute(
                    select(func.sum(usage.c.wh))
                    .where(usage.c.member_id == actor.member_id)
                    # The charter's cap is on its questions' energy: the documents added to
                    # its collections are the commons' upkeep, and spent no question's budget.
                    .where(~INGESTION)
                    .where(usage.c.created_at >= window.start, usage.c.created_at < window.end)
                ).scalar()
                or 0.0
            )


INGEST, ENRICH, IMPORT = INGESTION_MODES
# The ledger mode of an upload's request (ingest/upload.py): a request of the person, counted
# by their quotas, its own work only (receiving and checking the files); the documents it
# stores are ingestion's rows.
UPLOAD = "upload"


@dataclass(frozen=True)
class Work:
    """What an ingestion's ledger rows say of it: the face that asked (``route``: "add",
    "api/documents:upload", "web/contribute", "import", "enrich", "serve/enrich") and its kind
    (``mode``, one of INGESTION_MODES)."""

    route: str
    mode: str = INGEST


ADD = Work("add")  # `commune add`, and the library's callers that name no other face


class Ingestion:
    """Ingestion's energy on the ledger, measured where the work happens, with the meter
    the answers use (its method labels too).

    One meter runs from the start. Each document stored takes one row for the work since
    the row before (:meth:`charge`), in the document's own transaction: a crash rolls the
    document and its row back together, and the documents stored before keep theirs. Files
    read and not stored (unchanged, failed) carry their work to the next row; what is left
    when the run ends is written by :meth:`close`.

    Whose it is: the member owning the collection the documents went to, read in the same
    transaction, else the operator (a shared collection is the whole cooperative's: its
    upkeep is shared like the server's cost, account/statement.py). No person's: the rows
    carry no user, and no quota counts them (govern/quotas.py), since adding documents
    answers no question. They credit no contributor either: credits come from the passages
    an answer cites (commons/credits.py), and ingestion cites none."""

    def __init__(self, metering: Metering, work: Work, unmeasured: str | None = None) -> None:
        if work.mode not in INGESTION_MODES:
            raise ValueError(f"an ingestion's mode is one of {INGESTION_MODES}, got {work.mode!r}")
        self.metering = metering
        self.work = work
        self.unmeasured = unmeasured
        self.meter = metering.meter()
        self.pending = True  # work done since the last row: close() writes it

    def passed(self) -> None:
        """A file was read and not stored: its work waits for the next row."""
        self.pending = True

    def charge(self, conn: Connection | None, coll_id: int | None) -> None:
        """One row for the work since the last (in ``conn``, the transaction that keeps what
        it did), the member owning ``coll_id``'s (None: the operator's)."""
        from commune.store.db import within

        measured = self.meter
        with within(self.metering.engine, conn) as tx:
            owner, name = (None, None)
            if coll_id is not None:
                owner, name = repo.collection_owner_and_name(tx, coll_id)
            payer = OPERATOR if owner is None else Actor(None, "ingestion", owner, None, "member")
            self.metering.record_usage(
                self.work.route,
                self.work.mode,
                None,
                0,
                0,
                name,
                measured,
                payer,
                held=False,  # admitted by no quota: nothing held to release
                conn=tx,
                unmeasured=self.unmeasured,
            )
        # The work goes on: the next meter takes this one's place among the requests running
        # (one run, not one more request per document), from the moment this one stopped.
        self.meter = self.metering.meter(resumed=True)
        self.pending = False

    def close(self, coll_id: int | None, conn: Connection | None = None) -> None:
        """The run is over: its work since the last row, if any, in a row of its own."""
        if self.pending:
            self.charge(conn, coll_id)
