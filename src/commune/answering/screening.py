"""The charter's first step, refuse, as every request that brings a question takes it: an
answer (path.py), an agent's search (core.search_for_agent) and a peer's (peer_desk.py). Each
wrote it again: a change to how the step is fed (what the member has used, which use counts)
had three places to be made in, and a search that missed one let through what an answer
refuses. So does the row a refusal leaves in the ledger (:func:`record_refusal`)."""

from __future__ import annotations

from sqlalchemy import Connection

from commune.account.energy import Energy, Meter
from commune.account.metering import Metering
from commune.charter import steps
from commune.charter.rules import Charter
from commune.govern.policy import Actor


def screen(
    charter: Charter,
    metering: Metering,
    actor: Actor,
    question: str,
    language: str,
    declared_use: str | None,
) -> steps.Step:
    """The refuse step of ``question`` under ``charter`` (the one the request began under):
    its refusal rules against the question and ``declared_use``, then the member's monthly
    energy budget. The member's energy this month is summed only where the charter caps it:
    a sum over the month's ledger rows, on every request, for a figure nothing reads."""
    cap = charter.sobriety.member_month_wh_cap
    month_wh = metering.member_month_wh(actor) if cap is not None else None
    return steps.refuse(charter, question, language, declared_use, month_wh)


def record_refusal(
    metering: Metering,
    route: str,
    actor: Actor,
    collection: str | None = None,
    meter: Meter | None = None,
    conn: Connection | None = None,
) -> Energy:
    """The ledger row of a request :func:`screen` refused: refused before admission, it holds
    no place in the quota, and must not free another's. ``meter``: the request's, else one
    started now; ``conn``: the caller's transaction (Metering.record_usage)."""
    return metering.record_usage(
        route,
        "refused",
        None,
        0,
        0,
        collection,
        metering.meter() if meter is None else meter,
        actor,
        held=False,
        conn=conn,
    )
