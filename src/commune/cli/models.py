"""The models: calibrating a local one's energy before the charter weighs it."""

from __future__ import annotations

import os

import click

from commune.cli.group import cli, commune_of, dumps
from commune.text.messages import from_environment, localise
from commune.text.numbers import plural


@cli.group()
def model() -> None:
    """The configured models ([models.NAME] in commune.toml)."""


@model.command("calibrate")
@click.argument("name")
@click.option("--runs", default=3, show_default=True, help="Short generations to meter.")
@click.option("--json", "as_json", is_flag=True, help="Print the measurement as JSON.")
@click.pass_context
def model_calibrate(ctx: click.Context, name: str, runs: int, as_json: bool) -> None:
    """Measure a local model's energy per 1,000 output tokens with a short batch (RAPL's
    share where readable, else CPU time x the configured watts, labelled estimated). The
    runs are recorded in the ledger; the charter's energy cap uses the figure from then on."""
    done = commune_of(ctx).calibrate_model(name, runs=runs)
    if as_json:
        click.echo(dumps(done.to_json()))
        return
    lang = from_environment(os.environ)
    if lang != "fr":
        over = plural(lang, done.runs, "{n} run", "{n} runs")
        click.echo(
            f"{done.model}: {done.wh_per_1k_tokens:.4g} Wh per 1,000 output tokens "
            f"({plural(lang, done.output_tokens, '{n} token', '{n} tokens')} over {over}, "
            f"{done.wh:.4g} Wh; {done.method})"
        )
        return
    # Four significant figures, as in English, with a decimal comma.
    per_1k, wh = (f"{v:.4g}".replace(".", ",") for v in (done.wh_per_1k_tokens, done.wh))
    method = " + ".join(localise(part, lang) for part in done.method.split(" + "))
    tokens = plural(lang, done.output_tokens, "{n} jeton", "{n} jetons")
    tries = plural(lang, done.runs, "{n} essai", "{n} essais")
    click.echo(
        f"{done.model}\u00a0: {per_1k} Wh pour 1\u202f000 jetons produits ({tokens} sur {tries}, "
        f"{wh} Wh\u00a0; {method})"
    )
