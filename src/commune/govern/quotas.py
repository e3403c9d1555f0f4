"""Quotas per member, with caps per user inside the member's pool.

Windows are calendar periods in UTC: requests per day, tokens and Wh per
month. A request is refused before any work when a window is already full;
one request can overshoot by its own size (the cheapest honest check: the
size of an answer is not known before it is written).

The ledger's ingestion rows (store/schema.INGESTION: documents added, enriched,
imported) count in no quota: they answer no question.

Requests per day are exact under concurrency, in one process or several: admitting a
request and counting the ones before it happen under one lock (SQLite's write lock,
a PostgreSQL advisory lock per member), and an admitted request holds its place
(``quota_holds``) until its ledger row replaces the hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, func, insert, select

from commune.errors import CommuneError
from commune.govern.policy import ROLES, Actor
from commune.store.schema import INGESTION, members, quota_holds, usage, users

# A hold not replaced by its ledger row within this time was left by a request that failed:
# it no longer counts. Longer than any answer (a generation is cut at about two minutes).
HOLD_SECONDS = 300


def waiting(seconds: int) -> str:
    """How long until a window opens again: "45 min", "3 h 05 min", "12 days 4 h". Rounded
    up (retrying a minute early is refused), to the minute below two days, to the hour past
    them: whole days rounded up read "3 days" for 48 h 01 min."""
    minutes = max(1, -(-seconds // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    hours = -(-minutes // 60)
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h" if hours else f"{days} days"


# A quota's words beside its amount, one and several: "used their quota of 1 requests per
# day" read as a slip. The label itself (the many) names the quota in /metrics.
UNITS = {
    "requests per day": ("request per day", "requests per day"),
    "tokens per month": ("token per month", "tokens per month"),
    "Wh per month": ("Wh per month", "Wh per month"),
}


def figure(n: float) -> str:
    """A quota's figure without an exponent: "2000000", "0.000000001". Written with ":g",
    a member's 2,000,000 tokens per month read "2e+06" in its refusal (« limite 2e+06, déjà
    2.00012e+06 »), a figure nobody reads; text/messages puts its decimal comma in French."""
    if float(n).is_integer():
        return str(int(n))  # a count of tokens or requests, every digit
    # Six significant digits, as ":g" kept: a sum of Wh reads "0.00136088", not the
    # float's "0.0013608812345678"; repr of that is the shortest text, its decimals only.
    rounded = float(f"{n:.6g}")
    return str(int(rounded)) if rounded.is_integer() else format(Decimal(repr(rounded)), "f")


def amount(label: str, n: float) -> str:
    """``n`` of quota ``label`` as English says it: "1 request per day", "2 requests per day"
    (one only for exactly one: "0 requests", "1.5 tokens")."""
    one, many = UNITS.get(label, (label, label))
    return f"{figure(n)} {one if n == 1 else many}"


class QuotaExceeded(CommuneError):
    """HTTP 429, with Retry-After."""

    def __init__(
        self,
        message: str,
        quota: str,
        retry_after: int,
        resets_at: datetime,
        *,
        said_in_full: bool = False,
    ) -> None:
        # How long to wait first: the windows are UTC's, and a clerk in Paris (or in
        # Guadeloupe) read "after 2026-12-04 00:00 UTC" for a quota that opened at 01:00 (or
        # at 20:00 the day before) their time; a wait reads the same in every zone.
        # ``said_in_full``: the message says the wait itself, in one sentence (the wrong
        # sign-ins' minute or two, http/signins.py), and takes no hint after it.
        super().__init__(
            message,
            None
            if said_in_full
            else f"retry in {waiting(retry_after)}, after {resets_at:%Y-%m-%d %H:%M} UTC",
        )
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


def _used(
    conn: Connection,
    column: ColumnElement[Any],
    owner_col: ColumnElement[Any],
    owner_id: int,
    window: Window,
) -> float:
    q = select(column).where(owner_col == owner_id).where(usage.c.created_at >= window.start)
    # Ingestion's rows (documents added to the member's collections, uploads included) are
    # the commons' upkeep, not questions: counted here, a town's `commune add` of its archive
    # would use up the quotas its people ask their questions with.
    q = q.where(~INGESTION)
    return float(conn.execute(q.where(usage.c.created_at < window.end)).scalar() or 0)


def _held(conn: Connection, owner: str, owner_id: int, at: datetime) -> int:
    """Requests admitted and still at work: counted as requests already made."""
    col = quota_holds.c[owner]
    since = at - timedelta(seconds=HOLD_SECONDS)
    q = select(func.count()).where(col == owner_id, quota_holds.c.created_at > since)
    return int(conn.execute(q).scalar() or 0)


def hold(conn: Connection, actor: Actor, at: datetime) -> None:
    """Hold the admitted request's place (in the admitting transaction), and forget holds
    left by requests that failed."""
    conn.execute(
        delete(quota_holds).where(quota_holds.c.created_at <= at - timedelta(seconds=HOLD_SECONDS))
    )
    conn.execute(
        insert(quota_holds).values(member_id=actor.member_id, user_id=actor.user_id, created_at=at)
    )


def release(conn: Connection, actor: Actor) -> None:
    """The request's ledger row is written (in this transaction): its hold goes."""
    from commune.store.db import lock

    if actor.user_id is None or actor.member_id is None:
        return
    # Under the member's lock: two requests finishing at once must remove two holds, not
    # both the same oldest one (PostgreSQL's READ COMMITTED would let them).
    lock(conn, "quota", actor.member_id)
    oldest = (
        select(func.min(quota_holds.c.id))
        .where(quota_holds.c.user_id == actor.user_id)
        .scalar_subquery()
    )
    conn.execute(delete(quota_holds).where(quota_holds.c.id == oldest))


# Said after a member's spent quota: who raises it, besides waiting (a member admin would
# raise its own: admin.set_member_quotas). A town that had spent it read only "retry in 12
# days".
RAISED_BY = ": a cooperative admin, or the operator, can raise it"


def raised_by(role: str, member: str) -> str:
    """Said after a person's spent cap, of ``role`` in ``member``: who raises it. A clerk
    who had spent theirs read only "retry in 5 h", and had nobody to ask. Their member's
    admins set the caps of the roles below theirs (admin.set_user_quotas, policy.can_cap);
    a member admin's own, and an equal's, are set from above, as a member's quota is."""
    if ROLES.index(role) >= ROLES.index("member-admin"):
        return RAISED_BY
    return f": an admin of {member}, a cooperative admin, or the operator, can raise it"


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
        # A person's quota is "their", a member's "its": a citizen read "User 'citoyen' has
        # used its quota" about themselves.
        for who, whose, row, owner, owner_id in (
            (f"member {m.name!r}", "its", m, "member_id", actor.member_id),
            (f"user {u.name!r}", "their", u, "user_id", actor.user_id),
        ):
            limit = getattr(row, field)
            if limit is None:
                continue
            used = _used(conn, column, usage.c[owner], owner_id, window)
            if field == "requests_per_day":
                used += _held(conn, owner, owner_id, at)
            if used >= limit:
                wait = max(1, int((window.end - at).total_seconds()))
                by = RAISED_BY if whose == "its" else raised_by(u.role, m.name)
                raise QuotaExceeded(
                    f"{who} has used {whose} quota of {amount(label, limit)} ({figure(used)} "
                    f"used){by}",
                    label,
                    wait,
                    window.end,
                )
            use = QuotaUse(who, label, used, float(limit))
            if tightest is None or use.share > tightest.share:
                tightest = use
    return tightest
