"""``GET /api/usage``: usage per day, for dashboards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from commune.api.auth import Caller
from commune.api.schemas import Usage, described
from commune.errors import InvalidRequest
from commune.http.deps import CommuneDep

router = APIRouter()

FIRST = datetime(1970, 1, 1, tzinfo=UTC)
LAST = datetime(2999, 12, 31, tzinfo=UTC)
# The days a request without start reads, as /dashboard's default (?days=30).
DEFAULT_DAYS = 30
# Stated in the schema, checked in _date (400 with the message, as before).
DAY = {"format": "date", "description": "YYYY-MM-DD, from 1970-01-01 to 2999-12-31."}


@router.get("/api/usage", **described(Usage, "Usage per day."))
def usage(
    actor: Caller,
    commune: CommuneDep,
    start: Annotated[str | None, Query(json_schema_extra=DAY)] = None,
    end: Annotated[str | None, Query(json_schema_extra=DAY)] = None,
    member: str | None = None,
) -> dict[str, Any]:
    """Usage per day for dashboards: the caller's own, its member's for member admins,
    any member's for cooperative admins. ``start``/``end``: YYYY-MM-DD (default: 30 days),
    from 1970-01-01 to 2999-12-31."""
    until = _date(end, "end") + timedelta(days=1) if end else _today() + timedelta(days=1)
    # The last 30 days, today included, as /dashboard shows them: 31 (today and the 30
    # before) gave a town two totals for "the last 30 days", the page's and the API's.
    since = _date(start, "start") if start else until - timedelta(days=DEFAULT_DAYS)
    if since >= until:
        raise InvalidRequest(f"start must be before end, got {start} and {end}")
    # Empty is one's own, as on /dashboard: a client that fills every documented field sent
    # `member=` and was told "no member named ''".
    member = member or None
    series = commune.usage_series(actor, start=since, end=until, member=member)
    return {
        "member": member or actor.member,
        # Whose requests the days count: a reader's own, named, beside their member's name
        # (a dashboard read a contributor's own figures as their whole member's); null for
        # the member's whole, which its admins see.
        "user": commune.usage_of_whom(actor),
        "start": since.date().isoformat(),
        "end": (until - timedelta(days=1)).date().isoformat(),
        "days": series,
    }


def _today() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _date(text: str, name: str) -> datetime:
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidRequest(f"{name} must be a date like 2026-11-23, got {text!r}") from None
    if not FIRST <= day <= LAST:
        # 9999-12-31 plus the one day an end includes overflowed datetime: a 500 (issue 22).
        raise InvalidRequest(
            f"{name} must be between {FIRST:%Y-%m-%d} and {LAST:%Y-%m-%d}, got {text!r}"
        )
    return day
