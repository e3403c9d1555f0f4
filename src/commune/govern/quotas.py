"""Quotas per member, with caps per user inside the member's pool.

Windows are calendar periods in UTC: requests per day, tokens and Wh per
month. A request is refused before any work when a window is already full;
one request can overshoot by its own size (the cheapest honest check: the
size of an answer is not known before it is written).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from commune.errors import CommuneError
from commune.govern.policy import Actor
from commune.store.schema import members, usage, users


class QuotaExceeded(CommuneError):
    """HTTP 429, with Retry-After."""

    def __init__(self, message: str, quota: str, retry_after: int, resets_at: datetime) -> None:
        super().__init__(message, f"retry after {resets_at:%Y-%m-%d %H:%M} UTC")
        self.quota = quota
        self.retry_after = retry_after


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


def day(at: datetime) -> Window:
    start = at.replace(hour=0, minute=0, second=0, microsecond=0)
    return Window(start, start + timedelta(days=1))


def month(at: datetime) -> Window:
    start = at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
    return Window(start, end)


def _used(conn: Connection, column, owner_col, owner_id: int, window: Window) -> float:  # type: ignore[no-untyped-def]
    q = select(column).where(owner_col == owner_id).where(usage.c.created_at >= window.start)
    return float(conn.execute(q.where(usage.c.created_at < window.end)).scalar() or 0)


@dataclass(frozen=True)
class QuotaUse:
    """How much of one quota is used: what the charter's regulate step reports."""

    who: str
    label: str
    used: float
    limit: float

    @property
    def share(self) -> float:
        return self.used / self.limit if self.limit else 1.0


def check_quotas(conn: Connection, actor: Actor, at: datetime) -> QuotaUse | None:
    """Raise QuotaExceeded when a window is full; else the quota closest to its limit
    (None when no quota applies)."""
    if actor.member_id is None or actor.user_id is None:
        return None  # the operator is not metered against a member's pool
    m = conn.execute(select(members).where(members.c.id == actor.member_id)).one()
    u = conn.execute(select(users).where(users.c.id == actor.user_id)).one()
    measures = [
        ("requests per day", "requests_per_day", func.count(usage.c.id), day(at)),
        (
            "tokens per month",
            "tokens_per_month",
            func.sum(usage.c.input_tokens + usage.c.output_tokens),
            month(at),
        ),
        ("Wh per month", "wh_per_month", func.sum(usage.c.wh), month(at)),
    ]
    tightest: QuotaUse | None = None
    for label, field, column, window in measures:
        for who, row, owner_col, owner_id in (
            (f"member {m.name!r}", m, usage.c.member_id, actor.member_id),
            (f"user {u.name!r}", u, usage.c.user_id, actor.user_id),
        ):
            limit = getattr(row, field)
            if limit is None:
                continue
            used = _used(conn, column, owner_col, owner_id, window)
            if used >= limit:
                wait = max(1, int((window.end - at).total_seconds()))
                raise QuotaExceeded(
                    f"{who} has used its quota of {limit:g} {label} ({used:g} used)",
                    label,
                    wait,
                    window.end,
                )
            use = QuotaUse(who, label, used, float(limit))
            if tightest is None or use.share > tightest.share:
                tightest = use
    return tightest
