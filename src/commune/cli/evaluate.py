"""Evaluating this deployment on a suite of questions (docs/evaluation.md)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from commune.cli.group import StageBars, cli, commune_of, said
from commune.cli.speech import percent
from commune.errors import CommuneError
from commune.text.messages import from_environment
from commune.text.numbers import number

if TYPE_CHECKING:
    from collections.abc import Callable

    from commune.evaluation.refusals import Point


def suite_questions(split_help: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A suite file and which of its questions: `commune eval` and `commune refusals` read
    them alike (``split_help``: what the split is for in each)."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        for option in reversed(
            (
                click.argument("suite", type=click.Path(dir_okay=False)),
                click.option("--collection", help="Only the questions about this collection."),
                click.option(
                    "--split",
                    type=click.Choice(["dev", "test", "all"]),
                    default="all",
                    show_default=True,
                    help=split_help,
                ),
            )
        ):
            command = option(command)
        return command

    return decorate


# The next step for a suite or a report that cannot be read, where the loader names only
# what is wrong (an invalid JSON line, a duplicate id, a file that is not a report).
SUITE_HINT = "correct the suite file as docs/evaluation.md describes, then run commune eval again"
COMPARE_HINT = (
    "give --compare the report.json an earlier commune eval --out wrote, or that directory"
)


T = TypeVar("T")


def _hinted(load: Callable[[], T], hint: str) -> T:
    """What ``load`` reads; its refusal without a next step given ``hint`` (a file that is
    not JSON was named, with the parser's word, and nothing said what to do)."""
    try:
        return load()
    except CommuneError as exc:
        if exc.hint:
            raise
        raise CommuneError(exc.message, hint) from None


@cli.command("eval")
@suite_questions("Which questions: tune on dev, report on test.")
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
    slice (language, and language of the question against that of its documents), with
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
    # Each was dropped without a word: the figures were extraction's, or retrieval's alone,
    # where the reader asked for a model's.
    if models and "generate" not in modes:
        raise click.UsageError(
            said(
                "--model choisit les modèles de --mode generate : ajoutez --mode generate",
                "--model chooses the models of --mode generate: add --mode generate",
            )
        )
    if retrieval_only and modes:
        raise click.UsageError(
            said(
                "--retrieval-only ne demande aucune réponse : retirez --mode, ou --retrieval-only",
                "--retrieval-only asks for no answer: leave out --mode, or --retrieval-only",
            )
        )
    other = _hinted(lambda: rep.load(compare), COMPARE_HINT) if compare else None
    loaded = _hinted(lambda: load_suite(suite), SUITE_HINT)
    if out:  # before the run, not after it: a run of a slow model takes hours
        try:
            Path(out).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommuneError(
                f"cannot write the report to {out}: {exc.strerror}",
                "give --out a directory you can write",
            ) from None
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
    report = rep.build(
        result, pins=pinned, split=split, collection=collection, limit=limit, sample=sample
    )
    lang = from_environment(os.environ)
    click.echo(rep.summary(report, other=other, language=lang))
    # The report is written before the scores are kept: a disk that fails it keeps none.
    where = rep.write(report, out=out, other=other, language=lang) if out else None
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
    if where is not None:
        json_file, html_file = where / "report.json", where / "report.html"
        click.echo(
            "\n"
            + said(
                f"rapport\u00a0: {json_file} et {html_file}",
                f"report: {json_file} and {html_file}",
            )
        )


@cli.command("refusals")
@suite_questions("Which questions: choose on some, check on the others.")
@click.option(
    "--max-answerable-refused",
    "cap",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.05,
    show_default=True,
    help="The share of the answerable questions the proposed threshold may refuse.",
)
@click.pass_context
def refusals_cmd(
    ctx: click.Context, suite: str, collection: str | None, split: str, cap: float
) -> None:
    """What "nothing relevant" thresholds would refuse of your own questions (JSONL, as for
    commune eval: some the documents answer, some marked "unanswerable": true): every tenth,
    the model's own, this home's and the one proposed for its documents. Nothing is changed:
    put the proposal in commune.toml yourself ([answer] refusal_threshold, or with
    --collection that collection's own in [answer.refusal_thresholds]).
    """
    from commune.evaluation import load_suite

    loaded = load_suite(suite)
    commune = commune_of(ctx)
    bars = StageBars()
    found = commune.refusal_thresholds(
        loaded, None if split == "all" else split, collection, cap, progress=bars
    )
    bars.finish()
    a, u = found.answerable, found.unanswerable
    lang = from_environment(os.environ)

    def n2(value: float) -> str:
        return number(value, 2, lang)

    def threshold(t: float) -> str:
        # The grid's thresholds have two decimals; one set in commune.toml may have more.
        return number(t, 2 if round(t, 2) == t else 3, lang)

    def row(p: Point, label: str) -> str:
        nu, na = p.unanswerable_refused, p.answerable_refused
        share_u, share_a = f"{nu} / {u} ({n2(nu / u)})", f"{na} / {a} ({n2(na / a)})"
        return f"{threshold(p.threshold):>9}  {share_u:>20}  {share_a:>20}  {label}".rstrip()

    click.echo(
        said(
            f"{a + u} questions\u00a0: {a} avec réponse, {u} sans (une question pèse "
            f"{percent(1 / u, lang)} des sans réponse, {percent(1 / a, lang)} des autres)",
            f"{a + u} questions: {a} answerable, {u} unanswerable (one question weighs "
            f"{percent(1 / u, lang)} of the unanswerable, {percent(1 / a, lang)} of the others)",
        )
    )
    click.echo(
        said(
            "    seuil  sans réponse refusées  avec réponse refusées",
            "threshold  unanswerable refused    answerable refused",
        )
    )
    marks = {found.shipped.threshold: said("celui du modèle", "the model's own")}
    if found.current.threshold != found.shipped.threshold:
        marks[found.current.threshold] = said("celui de ce service", "this home's")
    if found.proposed is not None:
        marks[found.proposed.threshold] = ", ".join(
            x for x in (marks.get(found.proposed.threshold), said("proposé", "proposed")) if x
        )
    # Every tenth of the scale, and the thresholds named: the whole grid is 90 lines.
    shown = {p.threshold: p for p in found.points if round(p.threshold * 100) % 10 == 0}
    for p in (found.shipped, found.current, found.proposed):
        if p is not None:
            shown[p.threshold] = p
    for t in sorted(shown):
        click.echo(row(shown[t], marks.get(t, "")))
    if found.unreachable:
        click.echo(
            "\n"
            + said(
                f"{found.unreachable} questions avec réponse n'ont trouvé aucun passage\u00a0: "
                "tout seuil les refuse (ajoutez les documents qui y répondent)",
                f"{found.unreachable} answerable questions found no passage: every threshold "
                "refuses them (add the documents that answer them)",
            )
        )
    if found.proposed is None:
        click.echo(
            "\n"
            + said(
                f"aucun seuil ne refuse au plus {percent(cap, lang, 0)} des questions avec "
                "réponse\u00a0: les passages trouvés pour elles ressemblent à ceux des "
                "autres\u00a0; ajoutez des documents, ou des questions",
                f"no threshold refuses at most {percent(cap, lang, 0)} of the answerable "
                "questions: the passages found for them look like the others'; add documents, "
                "or questions",
            )
        )
    elif found.proposed.threshold == found.current.threshold:
        click.echo(
            "\n" + said("ce service répond déjà à ce seuil", "this home answers at it already")
        )
    else:
        click.echo(
            "\n"
            + said(
                "pour répondre à ce seuil, mettez dans commune.toml (puis redémarrez commune "
                "serve)\u00a0:",
                "to answer at it, put in commune.toml (then restart commune serve):",
            )
        )
        if collection:  # that collection's own; a TOML key quoted, as a name may hold a dot
            # JSON's escapes are TOML's, but for DEL, which TOML refuses raw.
            key = json.dumps(collection, ensure_ascii=False).replace("\x7f", "\\u007f")
            click.echo(f"[answer.refusal_thresholds]\n{key} = {found.proposed.threshold:.2f}")
        else:
            click.echo(f"[answer]\nrefusal_threshold = {found.proposed.threshold:.2f}")
    if not collection and found.collections & set(commune.settings.answer.refusal_thresholds):
        click.echo(
            "\n"
            + said(
                "des collections de ces questions ont leur propre seuil, que ce calcul ne lit "
                "pas\u00a0: passez --collection NOM pour chacune",
                "some of these questions' collections have a threshold of their own, which this "
                "count does not read: give --collection NAME for each",
            )
        )
