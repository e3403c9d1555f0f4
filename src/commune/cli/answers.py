"""Questions to the commons: search it, or ask it for a cited answer."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from typing import IO, TYPE_CHECKING

import click

from commune.cli.group import acting, cli, commune_of, dumps, said
from commune.cli.speech import outcome, step
from commune.text.energy import summary
from commune.text.messages import from_environment
from commune.text.numbers import colon, number
from commune.text.say import say

if TYPE_CHECKING:
    from commune.answering.answer import Answer
    from commune.answering.path import Event
    from commune.answering.retrieve import Hit


def streamed(events: Iterable[Event], write: Callable[[str], None]) -> Answer:
    """Hand each checked piece of the answer's text to ``write`` as the library yields it,
    the first sentence without waiting for the others (issue 24), and return the whole
    Answer that ends the stream."""
    from commune.answering.answer import Answer

    for event in events:
        if isinstance(event, Answer):
            return event
        write(event)
    raise AssertionError("the answer's stream ended without its Answer")  # the path's contract


def print_hits(hits: list[Hit]) -> None:
    """One hit per paragraph: rank, title, section and score (a decimal comma in French),
    then its source and the start of its text."""
    lang = from_environment(os.environ)
    if not hits:
        click.echo(say(lang, "aucun résultat", "no results"))
    for i, h in enumerate(hits, 1):
        section = f" — {h.section}" if h.section else ""
        via = f" — via {h.origin['peer']}" if h.origin else ""
        click.echo(f"{i}. {h.title}{section}{via}  [{number(h.score, 4, lang)}]")
        click.echo(f"   {h.source}")
        snippet = " ".join(h.text.split())
        click.echo(f"   {snippet[:240]}{'…' if len(snippet) > 240 else ''}")


@cli.command(epilog='Example:\n\ncommune search "bulky waste" -k 5 --collection mairie')
@click.argument("query", required=False)
@click.option("--collection", help="Search only this collection.")
@click.option("-k", "k", default=10, show_default=True, type=int, help="Number of hits.")
@click.option("--json", "as_json", is_flag=True, help="Print hits as JSON.")
@click.option(
    "--batch",
    type=click.File("r", encoding="utf-8"),
    help="Read one query per line; print one JSON line per query.",
)
@click.option("--peers", is_flag=True, help="Search the peer cooperatives' shared collections too.")
@click.option(
    "--as", "as_user", help="Search as this user: its member's visibility, policy and quotas."
)
@click.pass_context
def search(
    ctx: click.Context,
    query: str | None,
    collection: str | None,
    k: int,
    as_json: bool,
    batch: IO[str] | None,
    peers: bool,
    as_user: str | None,
) -> None:
    """Search the commons (hybrid lexical + semantic)."""
    if (query is None) == (batch is None):
        raise click.UsageError(
            said(
                "donnez une requête (QUERY) ou --batch FICHIER",
                "give either a QUERY or --batch FILE",
            )
        )
    commune = commune_of(ctx)
    if peers:
        if batch is not None:
            raise click.UsageError(
                said(
                    "--peers cherche une seule requête (QUERY), pas un --batch",
                    "--peers searches one QUERY, not a --batch",
                )
            )
        assert query is not None
        found, withheld, notices = commune.federated_search(
            query,
            collection=collection,
            k=k,
            actor=acting(ctx, as_user),
            record="search",  # metered as the search without --peers (each peer meters its own)
            asker_language=from_environment(os.environ),
        )
        for notice in notices:
            click.echo(said(f"note\u00a0: {notice}", f"note: {notice}"), err=True)
        for w in withheld:
            title, reason = w["title"], w["reason"]
            click.echo(
                said(
                    f"retenu\u00a0: «\u00a0{title}\u00a0»\u00a0: {reason}",
                    f"withheld: « {title} »: {reason}",
                ),
                err=True,
            )
        if as_json:
            click.echo(dumps([h.to_json() for h in found]))
        else:
            print_hits(found)
        return
    if batch is not None:
        from commune.answering.search import blank

        for line in batch:
            q = line.strip()
            # A line of no letter or digit (a byte-order mark, "\x00", a lone accent) is
            # skipped as a blank one is: the search refuses it as empty, and stopped the batch.
            if blank(q):
                continue
            hits = commune.search(
                q, collection=collection, k=k, actor=acting(ctx, as_user), record="search"
            )
            click.echo(dumps({"query": q, "hits": [h.to_json() for h in hits]}))
        return
    assert query is not None  # one of the two, checked above
    # Metered as the API's searches are: in the ledger with its energy, and within the
    # quota of the user it runs as (`--as`); it ran free of both.
    hits = commune.search(
        query, collection=collection, k=k, actor=acting(ctx, as_user), record="search"
    )
    if as_json:
        click.echo(dumps([h.to_json() for h in hits]))
    else:
        print_hits(hits)


@cli.command(epilog='Example:\n\ncommune ask "When is bulky waste collected?" --collection mairie')
@click.argument("question")
@click.option("--collection", help="Answer from this collection only.")
@click.option(
    "--mode",
    type=click.Choice(["auto", "extractive", "generate"]),
    default="auto",
    show_default=True,
    help="auto: as the charter decides (cache, extraction, or the smallest model that clears "
    "the quality floor); extractive: quote the sources; generate: a model writes a cited "
    "answer (checked, with fallback).",
)
@click.option(
    "--model",
    help="Model for --mode generate (see commune.toml [models]); with --mode auto the charter "
    "chooses, and a note says so.",
)
@click.option("--as", "as_user", help="Ask as this user: its member's quotas and visibility.")
@click.option("--explain", is_flag=True, help="Print the charter's decisions and their reasons.")
@click.option(
    "--peers/--no-peers",
    default=None,
    help="Ask the peer cooperatives' shared collections too, or not; default: as "
    "commune.toml's [peers] federate says.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@click.pass_context
def ask(
    ctx: click.Context,
    question: str,
    collection: str | None,
    mode: str,
    model: str | None,
    as_user: str | None,
    explain: bool,
    peers: bool | None,
    as_json: bool,
) -> None:
    """Answer a question with cited sentences from the commons.

    Every answer goes through the charter's five steps (refuse, reduce, regulate,
    responsibility, redirect; docs/charter.md): --explain shows each decision."""
    events = commune_of(ctx).ask_stream(
        question,
        collection=collection,
        mode=mode,
        model=model,
        actor=acting(ctx, as_user),
        peers=peers,
        asker_language=from_environment(os.environ),
    )
    # On a terminal the sentences appear as they pass their checks; a script or a pipe (and
    # --json) gets the whole answer at once, as before, so what it reads never changes.
    live = not as_json and sys.stdout.isatty()
    shown: list[str] = []

    def write(piece: str) -> None:
        shown.append(piece)
        if live:
            click.echo(piece, nl=False)

    answer = streamed(events, write)
    if as_json:
        click.echo(dumps(answer.to_json()))
        return
    from commune.answering.substitution import substitution

    requested = mode
    if mode == "generate":
        requested = model or commune_of(ctx).settings.generation.default_model
    replaced = substitution(requested, answer)  # it words any fallback's notice too
    # The labels and numbers around the answer are in the question's language.
    lang = answer.language
    if live:
        # The pieces make up the answer's text (answering/path.py); should they ever not,
        # the whole text follows, so the reader ends with the answer the ledger recorded.
        click.echo("" if "".join(shown) == answer.text else f"\n\n{answer.text}")
    if replaced is not None or answer.notice:
        notice = replaced.notice if replaced else answer.notice
        click.echo(f"note{colon(lang)} {notice}", err=True)  # "note": the same word in French
    if mode == "auto" and model:
        # The library checks the name (a misspelt one is an error) but under auto the charter
        # chooses what answers: said, so the asker does not believe their model answered.
        ignored = say(
            lang,
            f"--model {model} ne sert qu'avec --mode generate\u00a0: en mode auto, la charte "
            "choisit qui répond",
            f"--model {model} is used only with --mode generate: in auto mode the charter "
            "chooses what answers",
        )
        click.echo(f"note{colon(lang)} {ignored}", err=True)
    if not live:
        click.echo(answer.text)
    if answer.language_note:  # quoted in the sources' language: said before them
        click.echo(f"\n{answer.language_note}")
    if answer.sources:
        click.echo("\n" + say(lang, "Sources", "Sources") + colon(lang))
        unknown = say(lang, "licence inconnue", "licence unknown")
        for s in answer.sources:
            section = f" — {s.section}" if s.section else ""
            where = s.source + (f"#{s.anchor}" if s.anchor and s.source.startswith("http") else "")
            page = f", page {s.page}" if s.page else ""
            via = f" — via {s.origin['peer']}" if s.origin else ""
            cited = f"{s.title}{section}{page}"
            # A title that is a sentence ends with its own stop: "le mardi.. /srv/a.txt".
            stop = "" if cited.endswith((".", "?", "!", "…")) else "."
            click.echo(f"[{s.n}] {cited}{stop} {where} ({s.licence or unknown}){via}")
    for note in answer.licence_notes:
        click.echo(f"\n{note}")
    used = summary(answer.energy, lang)
    if used is not None:
        click.echo(f"\n{say(lang, 'Énergie', 'Energy')}{colon(lang)} {used}")
    if explain:
        click.echo("\n" + say(lang, "Décisions", "Decisions") + colon(lang))
        for d in answer.decisions:
            rule = f" [{d['rule']}]" if d.get("rule") else ""
            said = f"{step(d['step'], lang):<15} {outcome(d['outcome'], lang):<11}"
            click.echo(f"  {said} {d['reason']}{rule}")
