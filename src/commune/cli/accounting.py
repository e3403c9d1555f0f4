"""The cooperative's accounts: a month's costs split among its members."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from commune.cli.group import cli, commune_of, dumps, said
from commune.govern.policy import OPERATOR
from commune.text.messages import from_environment, localise
from commune.text.numbers import number, plural, small


@cli.command(epilog="Example:\n\ncommune statement --month 2026-11 --out statements/")
@click.option("--month", required=True, help="The month, as YYYY-MM.")
@click.option("--out", type=click.Path(file_okay=False), help="Write CSV, JSON and HTML here.")
@click.option(
    "--csv-dialect",
    type=click.Choice(["fr", "rfc4180"]),
    default="fr",
    show_default=True,
    help="fr: semicolons, decimal comma and a UTF-8 BOM, as French spreadsheets expect; "
    "rfc4180: commas and decimal points, for scripts.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the statement as JSON.")
@click.option(
    "--issue",
    is_flag=True,
    help="Issue the month (once it is over; audited): from then on its statement is made "
    "with the settings of today, whatever commune.toml says later. A month issued already "
    "keeps its first issue.",
)
@click.pass_context
def statement(
    ctx: click.Context,
    month: str,
    out: str | None,
    csv_dialect: str,
    as_json: bool,
    issue: bool,
) -> None:
    """Split a month's costs (server + energy) among members, per commune.toml [cooperative]
    and [energy] idle_watts; an issued month, per the settings it was issued with."""
    from commune.account.statement import export

    commune = commune_of(ctx)
    stmt = commune.issue_statement(month) if issue else commune.statement(month)
    if as_json:
        click.echo(dumps(stmt.to_json()))
    else:
        lang = from_environment(os.environ)
        if lang == "fr":
            click.echo(french_statement(stmt))
        else:
            operator = (
                f" (with {small(stmt.unattributed_kwh, 4, 'en')} kWh of the operator's work)"
                if stmt.unattributed_kwh
                else ""
            )
            # The members' kWh beside the members' energy cost: the operator's work is priced
            # into the server's share, and was counted in both.
            click.echo(
                f"{stmt.month}: {stmt.total} {stmt.currency} = server {stmt.fixed_total}"
                f"{operator} + energy {stmt.energy_total} ({small(stmt.members_kwh, 4, 'en')} "
                f"kWh) + server at rest {stmt.idle_total} ({small(stmt.idle_kwh, 4, 'en')} kWh); "
                f"rule {stmt.rule}"
            )
            click.echo(f"  server at rest: {stmt.idle_method}")
            click.echo(f"  {stmt.made_with}")
            for notice in stmt.notices:
                click.echo(f"  note: {notice}")
            for line in stmt.lines:
                # A member's few mWh read "< 0.01 Wh", not "0.00 Wh": used, not nothing.
                requests = plural("en", line.requests, "{n} request", "{n} requests")
                # Beside its answers', the energy of the documents added to its collections.
                added = (
                    f" of which {small(line.ingest_wh, 2, 'en')} adding documents"
                    if stmt.ingestion_apart and line.ingest_wh
                    else ""
                )
                click.echo(
                    f"  {line.member:<30} {line.total_eur:>10} {stmt.currency}  "
                    f"(fixed {line.fixed_eur}, energy {line.energy_eur}, at rest "
                    f"{line.idle_eur}, {small(line.wh, 2, 'en')} Wh{added}, {requests})"
                )
    if out:
        files = export(stmt, directory=Path(out), csv_dialect=csv_dialect)
        _wrote(files, out)


@cli.group(
    invoke_without_command=True,
    epilog="Example:\n\ncommune payouts --month 2026-11 --amount 100 --out payouts/",
)
@click.option("--month", help="The month, as YYYY-MM.")
@click.option(
    "--amount",
    help="The fund to split, in euros (default: the fund the month was issued with once "
    "over, else [payouts] monthly_eur in commune.toml).",
)
@click.option("--out", type=click.Path(file_okay=False), help="Write CSV, JSON and HTML here.")
@click.option("--json", "as_json", is_flag=True, help="Print the statement as JSON.")
@click.pass_context
def payouts(
    ctx: click.Context, month: str | None, amount: str | None, out: str | None, as_json: bool
) -> None:
    """Split the month's contributor fund by credits and the charter's weights (audited).

    Citations in answers, documents published and curation reviews each weigh as the
    charter's [payouts] table says; amounts are to the cent by the largest remainder, so
    they add up to the fund exactly (docs/payouts.md). Nothing in the ledger or the credits
    changes."""
    from commune.commons.payout_files import export
    from commune.commons.payouts import month_after, under_way

    if ctx.invoked_subcommand is not None:
        return
    if month is None:
        raise click.UsageError(
            said(
                "donnez --month AAAA-MM (ou une sous-commande\u00a0: waive, redirect, …)",
                "give --month YYYY-MM (or a subcommand: waive, redirect, …)",
            )
        )
    stmt, digest = commune_of(ctx).issue_payouts(month, amount=amount)
    if as_json:
        click.echo(dumps({**stmt.to_json(), "sha256": digest}))
    elif from_environment(os.environ) == "fr":
        click.echo(french_payouts(stmt))
    else:
        w = stmt.weights
        click.echo(
            f"{stmt.month}: fund {stmt.fund} {stmt.currency} = paid {stmt.paid} "
            f"+ redirected {stmt.redirected} + kept by the fund {stmt.kept}; weights "
            f"citations {w.citations:g}, documents {w.documents:g}, reviews {w.reviews:g}"
        )
        from commune.commons.payout_files import lapsed_en

        for ln in stmt.lines:
            to = "" if ln.choice == "receive" else f"  -> {ln.paid_to} ({ln.choice})"
            # A redirect that lapsed is said: "paid to them" alone read as the choice ignored.
            to += f"  ({lapsed_en(ln)})" if ln.lapsed else ""
            click.echo(
                f"  {ln.contributor:<30} {ln.amount:>10} {stmt.currency}  "
                f"({_counted(ln.citations, ln.documents, ln.reviews)}){to}"
            )
        u = stmt.unattributed
        if any(u.values()):
            click.echo(
                "  unattributed (no named contributor, earn nothing): "
                + _counted(u["citations"], u["documents"], u["reviews"])
            )
    if under_way(month):
        # Issued all the same (the operator asked), but not silently: its amounts will not be
        # the month's, and issuing it moved every choice to the month after (payouts.py).
        after = month_after(month)
        click.echo(
            said(
                f"note\u00a0: {month} n'est pas fini\u00a0: émis avec ses crédits à ce jour\u00a0; "
                f"un choix de versement fait désormais s'applique à partir de {after}",
                f"note: {month} is not over: issued with its credits so far; a payout choice "
                f"made from now on applies from {after}",
            ),
            err=True,
        )
    if out:
        files = export(stmt, directory=Path(out))
        _wrote(files, out)


FROM_OPTION = click.option(
    "--from",
    "from_month",
    help="From this month on (YYYY-MM; default: now, or the month after the last paid out).",
)


@payouts.command()
@click.argument("contributor")
@FROM_OPTION
@click.pass_context
def waive(ctx: click.Context, contributor: str, from_month: str | None) -> None:
    """A contributor waives their share: it stays in the fund."""
    row = commune_of(ctx).set_payout_choice(contributor, "waive", from_month=from_month)
    click.echo(
        said(
            f"{contributor}\u00a0: part laissée au fonds à partir de {row['from_month']}",
            f"{contributor}: share waived to the fund from {row['from_month']}",
        )
    )


@payouts.command()
@click.argument("contributor")
@click.option("--to", "member", required=True, help="The member that receives the share.")
@FROM_OPTION
@click.pass_context
def redirect(ctx: click.Context, contributor: str, member: str, from_month: str | None) -> None:
    """A contributor's share goes to a member of the cooperative instead."""
    row = commune_of(ctx).set_payout_choice(
        contributor, "redirect", to=member, from_month=from_month
    )
    click.echo(
        said(
            f"{contributor}\u00a0: part redirigée vers {member} à partir de {row['from_month']}",
            f"{contributor}: share redirected to {member} from {row['from_month']}",
        )
    )


@payouts.command()
@click.argument("contributor")
@FROM_OPTION
@click.pass_context
def receive(ctx: click.Context, contributor: str, from_month: str | None) -> None:
    """A contributor's share is paid to them again (undoes waive or redirect)."""
    row = commune_of(ctx).set_payout_choice(contributor, "receive", from_month=from_month)
    click.echo(
        said(
            f"{contributor}\u00a0: part de nouveau versée à partir de {row['from_month']}",
            f"{contributor}: share paid to them from {row['from_month']}",
        )
    )


@payouts.command()
@click.option("--json", "as_json", is_flag=True, help="Print the payout choices as JSON.")
@click.pass_context
def choices(ctx: click.Context, as_json: bool) -> None:
    """Every payout choice recorded, oldest first (the latest per contributor applies)."""
    rows = commune_of(ctx).payout_choices()
    if as_json:
        click.echo(dumps(rows))
        return
    fr = from_environment(os.environ) == "fr"
    click.echo(
        "depuis\tcontributeur\tchoix\tvers\tpar" if fr else "from\tcontributor\tchoice\tto\tset by"
    )
    for r in rows:
        choice = CHOICE_WORDS.get(r["choice"], r["choice"]) if fr else r["choice"]
        # The command line records its choices as "operator" (govern/policy.OPERATOR), a word
        # of the English lines: under "par", the French says who that is.
        actor = "opérateur" if fr and r["actor"] == OPERATOR.user else r["actor"]
        click.echo(f"{r['from_month']}\t{r['contributor']}\t{choice}\t{r['target'] or ''}\t{actor}")


def euros(value: Any) -> str:
    """An amount to the cent, as a French reader writes it (1 234,50)."""
    return number(float(value), 2, "fr")


def weight(value: float) -> str:
    """A charter weight as the English line writes it (``:g``), with a decimal comma."""
    return f"{value:g}".replace(".", ",")


def french_statement(stmt: Any) -> str:
    """The month's statement in French: the same figures as the English lines (the CSV,
    JSON and HTML files are written as they were)."""
    fr, cur = "fr", stmt.currency
    operator = (
        f" (dont {small(stmt.unattributed_kwh, 4, fr)} kWh du travail de l'opérateur)"
        if stmt.unattributed_kwh
        else ""
    )
    lines = [
        f"{stmt.month}\u00a0: {euros(stmt.total)} {cur} = serveur {euros(stmt.fixed_total)}"
        f"{operator} + énergie {euros(stmt.energy_total)} "
        f"({small(stmt.members_kwh, 4, fr)} kWh) "
        f"+ serveur au repos {euros(stmt.idle_total)} ({small(stmt.idle_kwh, 4, fr)} kWh)"
        f"\u00a0; règle {stmt.rule}",
        f"  serveur au repos\u00a0: {localise(stmt.idle_method, fr)}",
        f"  {localise(stmt.made_with, fr)}",
        *(f"  note\u00a0: {localise(notice, fr)}" for notice in stmt.notices),
    ]
    for line in stmt.lines:
        requests = plural(fr, line.requests, "{n} requête", "{n} requêtes")
        added = (
            f" dont {small(line.ingest_wh, 2, fr)} pour l'ajout de documents"
            if stmt.ingestion_apart and line.ingest_wh
            else ""
        )
        lines.append(
            f"  {line.member:<30} {euros(line.total_eur):>10} {cur}  (fixe "
            f"{euros(line.fixed_eur)}, énergie {euros(line.energy_eur)}, au repos "
            f"{euros(line.idle_eur)}, {small(line.wh, 2, fr)} Wh{added}, {requests})"
        )
    return "\n".join(lines)


# A contributor's payout choice (commons/payouts.py), in French: as a share's fate, and as
# the choice a contributor made (`commune payouts choices`).
CHOICES = {"waive": "laissée au fonds", "redirect": "redirigée", "receive": "versée"}
CHOICE_WORDS = {"waive": "renoncer", "redirect": "rediriger", "receive": "recevoir"}


def french_payouts(stmt: Any) -> str:
    """The month's payouts in French: the same figures as the English lines."""
    # Imported here: at the module's top it loaded numpy with `commune --help`, before
    # OpenBLAS's threads were limited (stack/threads.py), and every answer's CPU doubled.
    from commune.commons.payout_files import lapsed_fr
    from commune.commons.payouts import FUND

    fr, cur, w = "fr", stmt.currency, stmt.weights

    def counts(c: int, d: int, r: int) -> str:
        return ", ".join(
            (
                plural(fr, c, "{n} citation", "{n} citations"),
                plural(fr, d, "{n} document", "{n} documents"),
                plural(fr, r, "{n} relecture", "{n} relectures"),
            )
        )

    lines = [
        f"{stmt.month}\u00a0: fonds {euros(stmt.fund)} {cur} = versé {euros(stmt.paid)} "
        f"+ redirigé {euros(stmt.redirected)} + gardé par le fonds {euros(stmt.kept)}\u00a0; "
        f"poids\u00a0: citations {weight(w.citations)}, documents {weight(w.documents)}, "
        f"relectures {weight(w.reviews)}"
    ]
    for ln in stmt.lines:
        # A waived share stays in the fund: said so, not "-> (fund)".
        to = (
            ""
            if ln.choice == "receive"
            else "  -> le fonds (laissée au fonds)"
            if ln.paid_to == FUND
            else f"  -> {ln.paid_to} ({CHOICES.get(ln.choice, ln.choice)})"
        )
        to += f"  ({lapsed_fr(ln)})" if ln.lapsed else ""
        lines.append(
            f"  {ln.contributor:<30} {euros(ln.amount):>10} {cur}  "
            f"({counts(ln.citations, ln.documents, ln.reviews)}){to}"
        )
    u = stmt.unattributed
    if any(u.values()):
        lines.append(
            "  sans contributeur nommé (ne rapportent rien)\u00a0: "
            + counts(u["citations"], u["documents"], u["reviews"])
        )
    return "\n".join(lines)


def _counted(citations: int, documents: int, reviews: int) -> str:
    """What a line of the payouts earned by, in English: "1 citation", never "1 citations"."""
    return ", ".join(
        plural("en", n, one, many)
        for n, one, many in (
            (citations, "{n} citation", "{n} citations"),
            (documents, "{n} document", "{n} documents"),
            (reviews, "{n} review", "{n} reviews"),
        )
    )


def _wrote(files: list[Path], out: str) -> None:
    click.echo(
        said(
            plural("fr", len(files), "{n} fichier écrit", "{n} fichiers écrits") + f" dans {out}",
            "wrote " + plural("en", len(files), "{n} file", "{n} files") + f" to {out}",
        ),
        err=True,
    )
