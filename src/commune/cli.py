"""The ``commune`` command: parses arguments, calls :class:`commune.core.Commune`, prints.

Its options and JSON shapes are a contract that scripts and checks rely on.
Importing this module loads no model: ``commune --help`` stays instant.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from commune import __version__
from commune.errors import CommuneError


def _commune(ctx: click.Context):  # type: ignore[no-untyped-def]
    from commune.core import Commune

    if "commune" not in ctx.obj:
        ctx.obj["commune"] = Commune(ctx.obj["home"])
    return ctx.obj["commune"]


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)


class _Group(click.Group):
    """Turn Commune's errors into one line on stderr and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (CommuneError, ValueError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group)
@click.option(
    "--home",
    envvar="COMMUNE_HOME",
    default="commune-data",
    show_default=True,
    help="The commune home: database, indexes and commune.toml (env: COMMUNE_HOME).",
)
@click.version_option(__version__, prog_name="commune")
@click.pass_context
def cli(ctx: click.Context, home: str) -> None:
    """Commune: ask questions of a cooperative's documents commons, with cited answers."""
    ctx.ensure_object(dict)
    ctx.obj["home"] = home
    ctx.call_on_close(lambda: ctx.obj.get("commune") and ctx.obj["commune"].close())


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--collection", help="Collection to add to (default: 'default').")
@click.option("--licence", help="SPDX licence expression, e.g. CC-BY-SA-4.0 or etalab-2.0.")
@click.option("--contributor", help="Who contributes these documents.")
@click.option("--publisher", help="Who published them (author or organisation).")
@click.option(
    "--source",
    help="Source URI. For a directory, the base URI: each file's source is BASE/relative/path.",
)
@click.pass_context
def add(
    ctx: click.Context,
    paths: tuple[str, ...],
    collection: str | None,
    licence: str | None,
    contributor: str | None,
    publisher: str | None,
    source: str | None,
) -> None:
    """Add files or directories (txt, md, html, pdf, odt, docx) to the commons.

    Unchanged files are skipped; a changed file becomes a new revision of its
    document. Exits with status 1 if any file failed (the others are kept).
    """
    commune = _commune(ctx)
    bar: dict[str, Any] = {}

    def progress(outcome, done: int, total: int) -> None:  # type: ignore[no-untyped-def]
        if outcome.error:
            click.echo(f"error: {outcome.error}", err=True)
        if "bar" not in bar:
            bar["bar"] = click.progressbar(length=total, label="ingesting", file=sys.stderr)
            bar["bar"].__enter__()
        bar["bar"].update(1)

    summary = commune.add(
        list(paths),
        collection=collection,
        licence=licence,
        contributor=contributor,
        publisher=publisher,
        source=source,
        progress=progress,
    )
    if "bar" in bar:
        bar["bar"].__exit__(None, None, None)
    if summary.added or summary.updated:
        click.echo("indexing…", err=True)
        commune.catalog()
    skipped = f" ({summary.skipped} files of other types skipped)" if summary.skipped else ""
    click.echo(
        f"documents: {summary.added} added, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {summary.failed} failed{skipped}; "
        f"{summary.chunks} chunks in {summary.seconds:.1f}s"
    )
    if summary.failed:
        sys.exit(1)


def _print_hits(hits: list[Any]) -> None:
    if not hits:
        click.echo("no results")
    for i, h in enumerate(hits, 1):
        section = f" — {h.section}" if h.section else ""
        click.echo(f"{i}. {h.title}{section}  [{h.score:.4f}]")
        click.echo(f"   {h.source}")
        snippet = " ".join(h.text.split())
        click.echo(f"   {snippet[:240]}{'…' if len(snippet) > 240 else ''}")


@cli.command()
@click.argument("query", required=False)
@click.option("--collection", help="Search only this collection.")
@click.option("-k", "k", default=10, show_default=True, type=int, help="Number of hits.")
@click.option("--json", "as_json", is_flag=True, help="Print hits as JSON.")
@click.option(
    "--batch",
    type=click.File("r", encoding="utf-8"),
    help="Read one query per line; print one JSON line per query.",
)
@click.pass_context
def search(
    ctx: click.Context, query: str | None, collection: str | None, k: int, as_json: bool, batch: Any
) -> None:
    """Search the commons (hybrid lexical + semantic)."""
    if (query is None) == (batch is None):
        raise click.UsageError("give either a QUERY or --batch FILE")
    commune = _commune(ctx)
    if batch is not None:
        for line in batch:
            q = line.strip()
            if not q:
                continue
            hits = commune.search(q, collection, k)
            click.echo(_json({"query": q, "hits": [_hit_json(h) for h in hits]}))
        return
    hits = commune.search(query, collection, k)
    if as_json:
        click.echo(_json([_hit_json(h) for h in hits]))
    else:
        _print_hits(hits)


def _hit_json(hit: Any) -> dict[str, Any]:
    return hit.to_json()


@cli.command()
@click.argument("question")
@click.option("--collection", help="Answer from this collection only.")
@click.option(
    "--mode",
    type=click.Choice(["extractive", "generate"]),
    default="extractive",
    show_default=True,
    help="Quote the sources, or have a model write a cited answer (checked, with fallback).",
)
@click.option("--model", help="Model for --mode generate (see commune.toml [models]).")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@click.pass_context
def ask(
    ctx: click.Context,
    question: str,
    collection: str | None,
    mode: str,
    model: str | None,
    as_json: bool,
) -> None:
    """Answer a question with cited sentences from the commons."""
    answer = _commune(ctx).ask(question, collection, mode=mode, model=model)
    if as_json:
        click.echo(_json(answer.to_json()))
        return
    if answer.notice:
        click.echo(f"note: {answer.notice}", err=True)
    click.echo(answer.text)
    if answer.sources:
        click.echo("\nSources:")
        for s in answer.sources:
            section = f" — {s.section}" if s.section else ""
            where = s.source + (f"#{s.anchor}" if s.anchor and s.source.startswith("http") else "")
            page = f", page {s.page}" if s.page else ""
            click.echo(
                f"[{s.n}] {s.title}{section}{page}. {where} ({s.licence or 'licence unknown'})"
            )


@cli.command()
@click.option("--collection", help="Only this collection.")
@click.option("--limit", default=100, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def documents(ctx: click.Context, collection: str | None, limit: int, as_json: bool) -> None:
    """List documents in the commons."""
    docs = _commune(ctx).documents(collection, limit)
    if as_json:
        click.echo(_json(docs))
        return
    for d in docs:
        click.echo(
            f"{d['id']:>5}  {d['collection']:<12} {d['language']}  {d['chunks']:>4} chunks  "
            f"{d['licence'] or '-':<30} {d['title']}"
        )


@cli.command()
@click.pass_context
def collections(ctx: click.Context) -> None:
    """List collections and their document counts."""
    for c in _commune(ctx).collections():
        click.echo(f"{c['name']}\t{c['documents']}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the HTTP API and the web page."""
    import uvicorn

    from commune.api.app import create_app

    uvicorn.run(create_app(_commune(ctx)), host=host, port=port)


def main() -> None:
    cli(prog_name="commune")


if __name__ == "__main__":
    main()
