"""Reading the usage ledger (the append-only ``usage`` table)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, String, case, func, or_, select

from commune.store.repository import aware
from commune.store.schema import INGESTION, members, usage


def _totals(ingestion_apart: bool = True) -> list[Any]:
    """What every ledger report sums: requests, tokens, Wh and gCO2e, and of the Wh and
    gCO2e those of ingestion (documents added, enriched, imported).

    Ingestion's rows are no requests (one is written per document stored): with
    ``ingestion_apart`` they are left out of ``requests``. Without it, every row is counted,
    as statements issued before ingestion was metered were made (account/statement.py)."""
    requests = (
        func.coalesce(func.sum(case((INGESTION, 0), else_=1)), 0)
        if ingestion_apart
        else func.count(usage.c.id)
    )
    return [
        requests.label("requests"),
        func.coalesce(func.sum(usage.c.input_tokens + usage.c.output_tokens), 0).label("tokens"),
        func.coalesce(func.sum(usage.c.wh), 0.0).label("wh"),
        func.coalesce(func.sum(usage.c.gco2e), 0.0).label("gco2e"),
        func.coalesce(func.sum(case((INGESTION, usage.c.wh), else_=0.0)), 0.0).label("ingest_wh"),
        func.coalesce(func.sum(case((INGESTION, usage.c.gco2e), else_=0.0)), 0.0).label(
            "ingest_gco2e"
        ),
    ]


def ingestion_by_mode(
    conn: Connection, rows: ColumnElement[bool] | None = None
) -> dict[str, tuple[int, float, float]]:
    """Ingestion's rows, Wh and gCO2e by kind (documents added, enriched, imported), for
    every report that shows them beside the requests' (transparency, /metrics); ``rows``:
    of those rows of the ledger only."""
    which = INGESTION if rows is None else INGESTION & rows
    return {
        str(r.mode): (int(r.rows), float(r.wh or 0), float(r.gco2e or 0))
        for r in conn.execute(
            select(
                usage.c.mode,
                func.count().label("rows"),
                func.sum(usage.c.wh).label("wh"),
                func.sum(usage.c.gco2e).label("gco2e"),
            )
            .where(which)
            .group_by(usage.c.mode)
        )
    }


def totals_by_member(
    conn: Connection, start: datetime, end: datetime, ingestion_apart: bool = True
) -> dict[int | None, dict[str, float]]:
    """Each member's (None: the operator's) requests, tokens, Wh and gCO2e, ingestion's
    included in the Wh and gCO2e, and apart (``ingest_wh``, ``ingest_gco2e``)."""
    q = (
        select(usage.c.member_id, *_totals(ingestion_apart))
        .where(usage.c.created_at >= start)
        .where(usage.c.created_at < end)
        .group_by(usage.c.member_id)
    )
    return {
        r.member_id: {
            "requests": r.requests,
            "tokens": r.tokens,
            "wh": r.wh,
            "gco2e": r.gco2e,
            "ingest_wh": r.ingest_wh,
            "ingest_gco2e": r.ingest_gco2e,
        }
        for r in conn.execute(q)
    }


def daily_series(
    conn: Connection,
    member_id: int | None,
    start: datetime,
    end: datetime,
    user_id: int | None = None,
) -> list[dict[str, Any]]:
    """Requests, tokens, Wh and gCO2e per UTC day, for a member (or one of its users)."""
    day = func.substr(func.cast(usage.c.created_at, String), 1, 10)
    q = (
        select(day.label("day"), *_totals())
        .where(usage.c.created_at >= start)
        .where(usage.c.created_at < end)
        .group_by(day)
        .order_by(day)
    )
    if member_id is not None:
        q = q.where(usage.c.member_id == member_id)
    if user_id is not None:
        q = q.where(usage.c.user_id == user_id)
    return [dict(r._mapping) for r in conn.execute(q)]


def member_names(
    conn: Connection, before: datetime, after: datetime | None = None
) -> dict[int, str]:
    """The members who were in the cooperative at some time between ``after`` and
    ``before``: joined before ``before``, and not left by ``after`` (govern/members.leave).
    A month's statement shares its fixed cost among its members: one that joined or left
    during the month was a member of it, and pays it (never a month after it left)."""
    q = select(members.c.id, members.c.name).where(members.c.created_at < before)
    if after is not None:
        q = q.where(or_(members.c.left_at.is_(None), members.c.left_at > after))
    return {int(r.id): r.name for r in conn.execute(q.order_by(members.c.name))}


def leaving(conn: Connection, start: datetime, end: datetime) -> list[tuple[str, datetime]]:
    """The members whose departure takes effect after ``start`` and by ``end`` (name, when),
    by name: the month from ``start`` to ``end`` is the last they pay."""
    q = (
        select(members.c.name, members.c.left_at)
        .where(members.c.left_at > start, members.c.left_at <= end)
        .order_by(members.c.name)
    )
    # In UTC, as stored: PostgreSQL hands them back in its session's zone, where a departure
    # at midnight UTC falls on the day before (Europe/Paris: 1 January read 31 December).
    return [(r.name, aware(r.left_at).astimezone(UTC)) for r in conn.execute(q)]
