"""The server's draw at rest: energy no request is metered for, yet most of a small server's.

A request's meter sees only the work it caused; the machine draws its base power all
month, answering or not. That base draw (``[energy] idle_watts``, the operator's figure:
a wattmeter at the plug, or the hardware's sheet) times the hours the service ran in the
month is its own line of the statement, split among members by their usage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from commune.store import repository as repo
from commune.store.schema import usage


@dataclass(frozen=True)
class IdleDraw:
    watts: float
    hours: float
    method: str

    @property
    def wh(self) -> float:
        return self.watts * self.hours

    def to_json(self) -> dict[str, object]:
        return {"watts": self.watts, "hours": self.hours, "wh": self.wh, "method": self.method}


def said(hours: float) -> str:
    """``hours`` to a tenth, or to two significant digits below one: a few minutes of
    service read "x 0.0 h", a draw at rest of nothing though its watt-hours were counted."""
    rounded = float(f"{hours:.2g}")
    if rounded >= 0.1 or rounded == 0:
        return f"{hours:.1f}"
    return f"{rounded:.{1 - math.floor(math.log10(rounded))}f}"


def idle_draw(conn: Connection, watts: float, start: datetime, end: datetime) -> IdleDraw:
    """The base draw over the part of [start, end) the service ran: from its first ledger
    row (before it, there was no service to count) to the end, or now for this month."""
    if watts <= 0:
        return IdleDraw(
            0.0,
            0.0,
            "not counted: set [energy] idle_watts in commune.toml to the server's draw at rest",
        )
    first = conn.execute(select(func.min(usage.c.created_at))).scalar()
    since = max(start, repo.aware(first)) if first is not None else end
    until = min(end, repo.now())
    hours = max(0.0, (until - since).total_seconds() / 3600)
    return IdleDraw(
        watts,
        hours,
        # The month named: a past month's statement, read later, said "this month".
        f"{watts:g} W base draw, a configured figure ([energy] idle_watts), x {said(hours)} h "
        f"the service ran in {start:%Y-%m} (estimated)",
    )
