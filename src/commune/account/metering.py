"""Metering: quotas checked before work, energy measured around it, one ledger row after."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from commune.config import Settings
from commune.govern.policy import OPERATOR, Actor
from commune.store import repository as repo

if TYPE_CHECKING:
    from commune.account.energy import Energy, Meter
    from commune.generate.base import Generator
    from commune.govern.quotas import QuotaUse


class Metering:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    def meter(self) -> Meter:
        from commune.account.energy import Meter

        return Meter(self.settings.energy.watts_per_core, self.settings.energy.rapl)

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
    ) -> Energy:
        """Append one row to the ledger, where the work happened; returns its Energy.

        ``generator`` is the model that wrote the answer: the meter measured this machine,
        so a model served elsewhere (energy_method "ecologits") adds its estimate."""
        from commune.account.energy import Energy, carbon, ecologits_wh
        from commune.generate.base import ECOLOGITS

        cpu, wh, method, estimated = meter.stop()
        remote = generator if generator and generator.energy_method == ECOLOGITS else None
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
            from commune.govern.quotas import release

            release(conn, actor)  # the ledger row now counts the request: its hold goes
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
                    .where(usage.c.created_at >= window.start, usage.c.created_at < window.end)
                ).scalar()
                or 0.0
            )
