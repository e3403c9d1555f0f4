"""The cooperative's accounts: a month's costs split among its members."""

from __future__ import annotations

from pathlib import Path

import click

from commune.cli.group import cli, commune_of, dumps


@cli.command()
@click.option("--month", required=True, help="The month, as YYYY-MM.")
@click.option("--out", type=click.Path(file_okay=False), help="Write CSV, JSON and HTML here.")
@click.option("--json", "as_json", is_flag=True, help="Print the statement as JSON.")
@click.pass_context
def statement(ctx: click.Context, month: str, out: str | None, as_json: bool) -> None:
    """Split a month's costs (server + energy) among members, per commune.toml [cooperative]."""
    from commune.account.statement import export

    stmt = commune_of(ctx).statement(month)
    if as_json:
        click.echo(dumps(stmt.to_json()))
    else:
        click.echo(
            f"{stmt.month}: {stmt.total} {stmt.currency} = server {stmt.fixed_total} "
            f"+ energy {stmt.energy_total} ({stmt.energy_kwh:.4f} kWh) "
            f"+ server at rest {stmt.idle_total} ({stmt.idle_kwh:.4f} kWh); rule {stmt.rule}"
        )
        click.echo(f"  server at rest: {stmt.idle_method}")
        for line in stmt.lines:
            click.echo(
                f"  {line.member:<30} {line.total_eur:>10} {stmt.currency}  "
                f"(fixed {line.fixed_eur}, energy {line.energy_eur}, at rest {line.idle_eur}, "
                f"{line.wh:.2f} Wh, "
                f"{line.requests} requests)"
            )
    if out:
        files = export(stmt, directory=Path(out))
        click.echo(f"wrote {len(files)} files to {out}", err=True)
