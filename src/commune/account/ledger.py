"""Reading the usage ledger (the append-only ``usage`` table)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, func, select

from commune.store.schema import members, usage


def _totals() -> list[Any]:
    """What every ledger report sums: requests, tokens, Wh and gCO2e."""
    return [
        func.count(usage.c.id).label("requests"),
        func.coalesce(func.sum(usage.c.input_tokens + usage.c.output_tokens), 0).label("tokens"),
        func.coalesce(func.sum(usage.c.wh), 0.0).label("wh"),
        func.coalesce(func.sum(usage.c.gco2e), 0.0).label("gco2e"),
    ]


def totals_by_member(
    conn: Connection, start: datetime, end: datetime
) -> dict[int | None, dict[str, float]]:
    q = (
        select(usage.c.member_id, *_totals())
        .where(usage.c.created_at >= start)
        .where(usage.c.created_at < end)
        .group_by(usage.c.member_id)
    )
    return {
        r.member_id: {"requests": r.requests, "tokens": r.tokens, "wh": r.wh, "gco2e": r.gco2e}
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


def member_names(conn: Connection, before: datetime) -> dict[int, str]:
    q = select(members.c.id, members.c.name).where(members.c.created_at < before)
    return {int(r.id): r.name for r in conn.execute(q.order_by(members.c.name))}
