"""Dashboards and the statement: usage per day as charts drawn on the server (with their
figures in a table), and the month's statement, as a page and as CSV.

Who sees what is the policy's: one's own usage as a reader, the member's as its admin, every
member's as a cooperative admin; the statement from member admin up, every line for the
cooperative's admins."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response

from commune.account.statement import MemberLine, Statement, csv_text
from commune.core import Commune
from commune.errors import InvalidRequest
from commune.govern.policy import COOPERATIVE, Actor, allowed
from commune.web.charts import bars, figure
from commune.web.forms import refused
from commune.web.i18n import gettext as _
from commune.web.i18n import ngettext
from commune.web.page import PageOf, SignedIn, TheCommune, guard, own_member, today
from commune.web.render import render

router = APIRouter(include_in_schema=False)

ZERO = {"requests": 0, "tokens": 0, "wh": 0.0, "gco2e": 0.0}


# How many days a dashboard shows: a year at most (and a leap year's day). A value outside
# is refused, saying the bound (as "days=abc" is): it was clamped, and "-5" read "the last 1
# days".
Days = Annotated[int, Query(ge=1, le=366)]


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    p: PageOf, actor: SignedIn, commune: TheCommune, member: str = "", days: Days = 30
) -> Response:
    until = today() + timedelta(days=1)
    since = until - timedelta(days=days)
    series = commune.usage_series(actor, start=since, end=until, member=member or None)
    by_day = {row["day"]: row for row in series}
    dates = [(since + timedelta(days=i)).date().isoformat() for i in range(days)]
    rows = [by_day.get(d, {"day": d, **ZERO}) for d in dates]
    charts = [
        bars(
            [(r["day"], r["requests"]) for r in rows],
            _("Requests per day"),
            _("requests"),
            lambda n: ngettext("%(num)s request", "%(num)s requests", n, num=figure(n)),
        ),
        bars([(r["day"], r["wh"]) for r in rows], _("Energy per day"), "Wh"),
        bars([(r["day"], r["gco2e"]) for r in rows], _("Carbon per day"), "gCO2e"),
    ]
    members_chart = None
    member_rows: list[dict[str, Any]] = []
    if allowed(actor, "usage", COOPERATIVE):  # every member's usage: a chart per member
        member_rows = commune.usage_by_member(since, end=until)
        members_chart = bars(
            [(r["member"], r["wh"]) for r in member_rows], _("Energy per member"), "Wh"
        )
    totals = {k: sum(r[k] for r in rows) for k in ZERO}
    # One's own usage stops where the ledger forgot who made each request (the charter's
    # retention, charter/records.purge): a period reaching past it says so, or a reader took
    # the empty days before it for days they asked nothing.
    retention = commune.charter.utility.retention_days
    own = commune.usage_of_whom(actor) is not None
    return render(
        p,
        "dashboard.html",
        charts=charts,
        rows=[r for r in rows if r["requests"]],
        totals=totals,
        days=days,
        member=member or actor.member,
        # Whose usage the series is: the member's for its admins, else one's own.
        whole=bool(allowed(actor, "administer", own_member(actor))),
        members_chart=members_chart,
        member_rows=member_rows,
        members=[r["member"] for r in member_rows],
        forgotten_after=retention if own and days > retention else None,
    )


async def statement_reader(actor: SignedIn) -> Actor:
    refusal = _("The statement is for member admins; your role is %(role)s.")
    return guard(actor, "statement", own_member(actor), refusal)


StatementReader = Annotated[Actor, Depends(statement_reader)]


def _statement(commune: Commune, actor: Actor, month: str) -> tuple[Statement, list[MemberLine]]:
    """The month's statement and the lines ``actor`` may read: their member's, or every
    member's for the cooperative's admins."""
    stmt = commune.statement(month)
    everyone = allowed(actor, "statement", COOPERATIVE)
    return stmt, [ln for ln in stmt.lines if everyone or ln.member == actor.member]


@router.get("/statement", response_class=HTMLResponse)
def statement(p: PageOf, actor: StatementReader, commune: TheCommune, month: str = "") -> Response:
    month = month or today().strftime("%Y-%m")
    try:
        stmt, lines = _statement(commune, actor, month)
    except InvalidRequest as exc:
        # A month typed by hand (a browser without a month picker shows a text field): the
        # form says what to write, where it was typed; an error page took the form away.
        failed = refused(p, "month", exc, {"month": month})
        return render(p, "statement.html", failed.status, stmt=None, month="", failed=failed)
    return render(p, "statement.html", stmt=stmt, lines=lines, month=month, failed=None)


@router.get("/statement.csv")
def statement_csv(
    actor: StatementReader,
    commune: TheCommune,
    month: str = "",
    dialect: Literal["fr", "rfc4180"] = "fr",  # fr: what French spreadsheets open as columns
) -> Response:
    month = month or today().strftime("%Y-%m")
    stmt, lines = _statement(commune, actor, month)
    return Response(
        csv_text(stmt, lines, dialect=dialect),
        media_type="text/csv; charset=utf-8",
        # Private figures, as on the page: not kept in a shared computer's browser cache.
        headers={
            "Content-Disposition": f'attachment; filename="statement-{month}.csv"',
            "Cache-Control": "no-store",
        },
    )
