"""Contributor payouts on the web: the month's statement for the cooperative's admins (a
page and its CSV for a French spreadsheet), and each contributor's own line on their account
page, where they may waive their share or have it paid to them again (the account page's
form: routes/account.py).

The pages only read (commons/payouts.py builds the statement; nothing is issued or audited
by showing it); a choice made on the account page is recorded and audited like `commune
payouts waive`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, Response

from commune.commons.payout_files import csv_text
from commune.commons.payouts import FUND, Line, PayoutStatement, credited_as
from commune.core import Commune
from commune.errors import InvalidRequest
from commune.govern.policy import COOPERATIVE, Actor
from commune.web.forms import refused
from commune.web.i18n import gettext as _
from commune.web.page import PageOf, SignedIn, TheCommune, guard, today
from commune.web.render import render

router = APIRouter(include_in_schema=False)


async def payouts_reader(actor: SignedIn) -> Actor:
    # Where one's own share is, as the guide says: a member admin sent here by the guide read
    # only whom to ask, and her own line is on her account page.
    refusal = _(
        "The payouts statement is for the cooperative's admins; your role is %(role)s. Your "
        "own payout, this month so far, is on your Account page."
    )
    return guard(actor, "statement", COOPERATIVE, refusal)


PayoutsReader = Annotated[Actor, Depends(payouts_reader)]


def month_statement(commune: Commune, month: str) -> tuple[PayoutStatement | None, str]:
    """The month's payouts, or None and why not (no fund set in commune.toml, and the month
    not issued: a month paid out keeps the fund it was issued with, as `commune payouts`
    shows it, and the page said no fund was set)."""
    if not commune.settings.payouts.monthly_eur and not commune.payouts_issued(month):
        return None, _(
            "No payouts fund is set: the operator sets [payouts] monthly_eur in commune.toml."
        )
    return commune.payouts(month), ""


@router.get("/payouts", response_class=HTMLResponse)
def payouts(p: PageOf, actor: PayoutsReader, commune: TheCommune, month: str = "") -> Response:
    this = today().strftime("%Y-%m")
    month = month or this
    try:
        stmt, why = month_statement(commune, month)
    except InvalidRequest as exc:
        # As on /statement: a month typed by hand is refused in its form, not on a page apart.
        failed = refused(p, "month", exc, {"month": month})
        return render(p, "payouts.html", failed.status, stmt=None, why="", month="", failed=failed)
    # The month under way read like a closed one ("Nobody was credited this month: the fund
    # keeps it all." on its first day), and a month to come alike: said, as on /statement.
    when = "closed" if month < this else "under-way" if month == this else "to-come"
    return render(
        p, "payouts.html", stmt=stmt, why=why, month=month, fund=FUND, when=when, failed=None
    )


@router.get("/payouts.csv")
def payouts_csv(actor: PayoutsReader, commune: TheCommune, month: str = "") -> Response:
    month = month or today().strftime("%Y-%m")
    stmt = commune.payouts(month)
    return Response(
        # The byte order mark: without it Excel reads the accents as Windows-1252.
        "\ufeff" + csv_text(stmt),
        media_type="text/csv; charset=utf-8",
        # Private figures, as on the page: not kept in a shared computer's browser cache.
        headers={
            "Content-Disposition": f'attachment; filename="payouts-{month}.csv"',
            "Cache-Control": "no-store",
        },
    )


def next_choice(commune: Commune, credited: str) -> dict[str, object] | None:
    """The person's latest payout choice when it applies from a later month only (this
    month was paid out already, or they chose ahead): this month's line still shows the
    choice in force, and the page says from when the new one applies."""
    mine = [r for r in commune.payout_choices() if r["contributor"] == credited]
    later = mine[-1] if mine else None
    return later if later and later["from_month"] > today().strftime("%Y-%m") else None


def own_line(commune: Commune, actor: Actor) -> tuple[str, Line | None, str]:
    """The account page's payout: the name the person is credited under, their line of this
    month's statement (None if they earned nothing so far), and why there is none."""
    month = today().strftime("%Y-%m")
    stmt, why = month_statement(commune, month)
    if stmt is None:
        # Without a fund the credits are still counted (`commune credits`): a contributor
        # read only that no fund was set, and nowhere what answers had cited of theirs. The
        # fund of nothing gives the month's counts, each share of it nothing.
        stmt = commune.payouts(month, amount=0)
    name = credited_as(actor)
    return name, stmt.line_of(name), why
