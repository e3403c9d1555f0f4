"""Evaluating this deployment on a suite of questions (docs/evaluation.md)."""

from __future__ import annotations

import os

import click

from commune.cli.group import StageBars, cli, commune_of, said
from commune.text.messages import from_environment


@cli.command("eval")
@click.argument("suite", type=click.Path(dir_okay=False))
@click.option("--collection", help="Only the questions about this collection.")
@click.option(
    "--split",
    type=click.Choice(["dev", "test", "all"]),
    default="all",
    show_default=True,
    help="Which questions: tune on dev, report on test.",
)
@click.option(
    "--mode",
    "modes",
    type=click.Choice(["extractive", "generate", "auto"]),
    multiple=True,
    help="Answer mode(s) to evaluate (repeatable; default: extractive). auto: the charter's "
    "five steps choose, for the sobriety figure (docs/charter.md).",
)
@click.option(
    "--model",
    "models",
    multiple=True,
    help="Model(s) for --mode generate (repeatable; default: the configured default).",
)
@click.option("--limit", type=int, help="Only the first N questions (a quick look).")
@click.option(
    "--sample",
    type=int,
    help="N questions spread evenly over the suite (every slice kept): for slow models.",
)
@click.option(
    "--retrieval-only", is_flag=True, help="Judge retrieval only: ask for no answers (fast)."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Write report.json and report.html into this directory.",
)
@click.option(
    "--compare",
    type=click.Path(),
    help="An earlier report (its report.json or --out directory) to show side by side.",
)
@click.pass_context
def eval_cmd(
    ctx: click.Context,
    suite: str,
    collection: str | None,
    split: str,
    modes: tuple[str, ...],
    models: tuple[str, ...],
    limit: int | None,
    sample: int | None,
    retrieval_only: bool,
    out: str | None,
    compare: str | None,
) -> None:
    """Evaluate this deployment on a suite of questions (JSONL; see docs/evaluation.md).

    Reports retrieval (MRR@10, nDCG@10, Recall@k for the hybrid and each half), answer-fact
    containment, citation validity, refusals, latency and energy per correct answer, per
    slice (language, and language of the question against that of the collection), with
    everything needed to reproduce the run pinned.
    """
    from commune.evaluation import load_suite
    from commune.evaluation import report as rep
    from commune.evaluation.runner import System

    for name, value in (("--limit", limit), ("--sample", sample)):
        if value is not None and value <= 0:
            raise click.BadParameter(
                said(
                    f"doit être supérieur à 0, reçu {value}", f"must be greater than 0, got {value}"
                ),
                param_hint=name,
            )
    other = rep.load(compare) if compare else None
    loaded = load_suite(suite)
    commune = commune_of(ctx)
    systems = [System("extractive")] if not modes or "extractive" in modes else []
    if retrieval_only:
        systems, modes = [], ()
    if "generate" in modes:
        names = models or (commune.settings.generation.default_model,)
        for name in names:
            commune.generator(name)  # an unknown model stops here, before any question
            systems.append(System("generate", name))
    if "auto" in modes:
        systems.append(System("auto"))
    bars = StageBars()
    result = commune.evaluate(
        suite=loaded,
        systems=systems,
        split=None if split == "all" else split,
        collection=collection,
        limit=limit,
        sample=sample,
        progress=bars,
    )
    bars.finish()
    pinned = commune.pins(suite=loaded, models=[s.model for s in systems if s.model])
    report = rep.build(result, pins=pinned, split=split)
    lang = from_environment(os.environ)
    click.echo(rep.summary(report, other=other, language=lang))
    if commune.record_scores(result=result, suite=loaded, split=split):
        click.echo(
            "\n"
            + said(
                "scores gardés pour les choix de la charte (commune transparency les montre)",
                "scores kept for the charter's choices (commune transparency shows them)",
            )
        )
    elif result.outcomes:
        click.echo(
            "\n"
            + said(
                "scores non gardés pour les choix de la charte\u00a0: seul un passage complet "
                "en décide (sans --limit ni --sample, --split test ou all)",
                "scores not kept for the charter's choices: only a whole run decides them "
                "(no --limit or --sample, --split test or all)",
            )
        )
    if out:
        where = rep.write(report, out=out, other=other)
        json_file, html_file = where / "report.json", where / "report.html"
        click.echo(
            "\n"
            + said(
                f"rapport\u00a0: {json_file} et {html_file}",
                f"report: {json_file} and {html_file}",
            )
        )
