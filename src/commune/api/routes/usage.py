"""``GET /api/usage``: usage per day, for dashboards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter

from commune.api.auth import Caller
from commune.errors import InvalidRequest
from commune.http.deps import CommuneDep

router = APIRouter()


@router.get("/api/usage")
def usage(
    actor: Caller,
    commune: CommuneDep,
    start: str | None = None,
    end: str | None = None,
    member: str | None = None,
) -> dict[str, Any]:
    """Usage per day for dashboards: the caller's own, its member's for member admins,
    any member's for cooperative admins. ``start``/``end``: YYYY-MM-DD (default: 30 days)."""
    until = _date(end, "end") + timedelta(days=1) if end else _today() + timedelta(days=1)
    since = _date(start, "start") if start else until - timedelta(days=31)
    if since >= until:
        raise InvalidRequest(f"start must be before end, got {start} and {end}")
    series = commune.usage_series(actor, start=since, end=until, member=member)
    return {
        "member": member or actor.member,
        "start": since.date().isoformat(),
        "end": (until - timedelta(days=1)).date().isoformat(),
        "days": series,
    }


def _today() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _date(text: str, name: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidRequest(f"{name} must be a date like 2026-11-23, got {text!r}") from None
