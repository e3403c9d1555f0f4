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


class _StageBars:
    """Progress on stderr: ``bars(label, done, total)``, one bar per stage, each opened at its
    first step, so that an error found before any work (an unknown collection) stays one
    line; ``finish()`` closes the last one."""

    def __init__(self) -> None:
        self.label: str | None = None
        self.bar: Any = None

    def __call__(self, label: str, done: int, total: int) -> None:
        if label != self.label:
            self.finish()
            self.label = label
            self.bar = click.progressbar(length=total, label=label, file=sys.stderr)
        self.bar.update(done - self.bar.pos)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.render_finish()
            self.bar = None


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
@click.option("--member", help="Member that owns a new collection (then private by default).")
@click.option(
    "--visibility",
    type=click.Choice(["private", "shared", "public"]),
    help="Visibility of a new collection (default: private with --member, else shared).",
)
@click.option(
    "--tdm-reserved",
    is_flag=True,
    help="The rights holder reserved text and data mining: keep out of answers.",
)
@click.option("--as", "as_user", help="Contribute as this user (recorded as its contributor).")
@click.option(
    "--ray",
    "ray_address",
    metavar="ADDRESS",
    help="Parse and embed on this Ray cluster (host:port of `ray start --head`); needs "
    "commune[ray] on every node. The database is written from here.",
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
    member: str | None,
    visibility: str | None,
    tdm_reserved: bool,
    as_user: str | None,
    ray_address: str | None,
) -> None:
    """Add files or directories (txt, md, html, pdf, odt, docx) to the commons.

    A document is published on arrival when its licence is known and its
    collection needs no approval; otherwise it waits for a curator
    (`commune review list`), and the summary says why.

    Unchanged files are skipped; a changed file becomes a new revision of its
    document. Exits with status 1 if any file failed (the others are kept).
    """
    commune = _commune(ctx)
    bar: dict[str, Any] = {}

    def progress(outcome, done: int, total: int) -> None:  # type: ignore[no-untyped-def]
        if outcome.error:
            click.echo(f"error: {outcome.error}", err=True)
        if outcome.held:
            click.echo(f"held for curation: {outcome.path}: {outcome.held}", err=True)
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
        member=member,
        visibility=visibility,
        actor=commune.actor(as_user),
        tdm_reserved=tdm_reserved,
        ray_address=ray_address,
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
    type=click.Choice(["auto", "extractive", "generate"]),
    default="auto",
    show_default=True,
    help="auto: as the charter decides (cache, extraction, or the smallest model that clears "
    "the quality floor); extractive: quote the sources; generate: a model writes a cited "
    "answer (checked, with fallback).",
)
@click.option("--model", help="Model for --mode generate (see commune.toml [models]).")
@click.option("--as", "as_user", help="Ask as this user: its member's quotas and visibility.")
@click.option("--explain", is_flag=True, help="Print the charter's decisions and their reasons.")
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
    as_json: bool,
) -> None:
    """Answer a question with cited sentences from the commons.

    Every answer goes through the charter's five steps (refuse, reduce, regulate,
    responsibility, redirect; docs/charter.md): --explain shows each decision."""
    commune = _commune(ctx)
    answer = commune.ask(question, collection, mode=mode, model=model, actor=commune.actor(as_user))
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
    for note in answer.licence_notes:
        click.echo(f"\n{note}")
    if answer.energy and answer.energy["wh"] is not None:
        e = answer.energy
        kind = "measured" if e["measured"] else "estimated"
        click.echo(
            f"\nEnergy: {e['wh'] * 1000:.2f} mWh, {e['gco2e'] * 1000:.3f} mgCO2e, {kind} "
            f"({e['method'].replace(' (measured)', '').replace(' (estimated)', '')})"
        )
    if explain:
        click.echo("\nDecisions:")
        for d in answer.decisions:
            rule = f" [{d['rule']}]" if d.get("rule") else ""
            click.echo(f"  {d['step']:<15} {d['outcome']:<11} {d['reason']}{rule}")


@cli.group()
def charter() -> None:
    """The cooperative's charter (charter.toml in the home; docs/charter.md)."""


@charter.command("check")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.pass_context
def charter_check(ctx: click.Context, path: str | None) -> None:
    """Validate a charter file (default: the home's charter.toml) without putting it in force."""
    from pathlib import Path

    from commune.charter.rules import load_charter
    from commune.config import resolve_home

    c = load_charter(resolve_home(ctx.obj["home"]), Path(path) if path else None)
    click.echo(f"valid: {c.name}, version {c.version}, sha256 {c.sha256}")


@charter.command("show")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def charter_show(ctx: click.Context, as_json: bool) -> None:
    """The charter in force, its hash and the versions before it."""
    commune = _commune(ctx)
    c = commune.charter
    from commune.charter.records import history

    with commune.engine.connect() as conn:
        past = history(conn)
    if as_json:
        click.echo(_json({**c.to_json(), "history": past}))
        return
    click.echo(f"{c.name}, version {c.version}, sha256 {c.sha256}")
    click.echo(f"file: {c.path or '(none: the default charter is in force)'}")
    for h in past:
        click.echo(f"  {h['in_force_from']}  {h['version']:<20} {h['sha256']}")


@charter.command("purge")
@click.pass_context
def charter_purge(ctx: click.Context) -> None:
    """Delete decision records past the charter's retention now (audited)."""
    commune = _commune(ctx)
    gone = commune.purge_decisions()
    click.echo(
        f"purged {gone} decision records older than {commune.charter.utility.retention_days} days"
    )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="The same data as /transparency.json.")
@click.pass_context
def transparency(ctx: click.Context, as_json: bool) -> None:
    """What /transparency shows: the charter, the models, energy, requests at each step."""
    data = _commune(ctx).transparency()
    if as_json:
        click.echo(_json(data))
        return
    c, t = data["charter"], data["totals"]
    click.echo(f"charter {c['version']} ({c['sha256'][:12]}), {len(c['history'])} version(s)")
    for m in data["models"]:
        verdict = "allowed" if m["allowed"] else f"not allowed: {m['why']}"
        click.echo(f"model {m['name']}: {m['openness']}, {m['licence']}, {m['hosting']}; {verdict}")
    click.echo(f"{t['requests']} requests, {t['wh']:.4f} Wh, {t['gco2e']:.4f} gCO2e")
    for outcome, v in data["steps"]["by_outcome"].items():
        click.echo(f"  {outcome:<24} {v['requests']:>6}  {(v['share'] or 0):.1%}")
    for e in data["evaluations"]:
        click.echo(
            f"eval {e['collection']} {e['mode']}{':' + e['model'] if e['model'] else ''}: "
            f"{e['correct']:.1%} correct over {e['questions']} questions"
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
@click.option(
    "--no-auth",
    is_flag=True,
    help="Serve without API keys, as the operator (loopback only: a single-user machine).",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, no_auth: bool) -> None:
    """Serve the HTTP API and the web application (docs/web.md).

    Every API route needs a key (see `commune key`); the web pages need a signed-in person
    (`commune user password`)."""
    import uvicorn

    from commune.api.app import create_app

    if no_auth and host not in ("127.0.0.1", "localhost", "::1"):
        raise click.UsageError("--no-auth is only allowed on loopback (--host 127.0.0.1)")
    import logging

    # Commune's own log (errors with their tracebacks, incidents) beside uvicorn's.
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(create_app(_commune(ctx), require_auth=not no_auth), host=host, port=port)


@cli.command()
@click.argument("collection")
@click.argument("visibility", type=click.Choice(["private", "shared", "public"]))
@click.option("--member", help="Owner of the collection (required to make it private).")
@click.pass_context
def visibility(ctx: click.Context, collection: str, visibility: str, member: str | None) -> None:
    """Make a collection private to its member, shared with the cooperative, or public."""
    _commune(ctx).set_visibility(collection, visibility, member)
    click.echo(f"{collection}: {visibility}" + (f" (owner {member})" if member else ""))


def _quota_options(fn):  # type: ignore[no-untyped-def]
    fn = click.option("--requests-per-day", type=int, help="Quota: requests per day.")(fn)
    fn = click.option("--tokens-per-month", type=int, help="Quota: tokens per month.")(fn)
    return click.option("--wh-per-month", type=float, help="Quota: energy (Wh) per month.")(fn)


@cli.group()
def member() -> None:
    """Members of the cooperative: the organisations that share the deployment."""


@member.command("add")
@click.argument("name")
@click.option(
    "--kind",
    default="other",
    show_default=True,
    type=click.Choice(["town", "agglomeration", "association", "public-body", "other"]),
)
@click.option(
    "--declared-use",
    default="non-commercial",
    show_default=True,
    type=click.Choice(["non-commercial", "commercial"]),
    help="What the member uses answers for: sources whose licence forbids it are left out.",
)
@_quota_options
@click.pass_context
def member_add(
    ctx: click.Context,
    name: str,
    kind: str,
    declared_use: str,
    requests_per_day: int | None,
    tokens_per_month: int | None,
    wh_per_month: float | None,
) -> None:
    """Add a member, with its quotas (no option: no limit)."""
    from commune.govern.members import add_member

    with _commune(ctx).engine.begin() as conn:
        add_member(conn, name, kind, requests_per_day, tokens_per_month, wh_per_month, declared_use)
    click.echo(f"member {name} added")


@member.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def member_list(ctx: click.Context, as_json: bool) -> None:
    """List members and their quotas."""
    from commune.govern.members import list_members

    with _commune(ctx).engine.connect() as conn:
        rows = list_members(conn)
    if as_json:
        click.echo(_json(rows))
        return
    for r in rows:
        quotas = ", ".join(
            f"{k}={r[k]:g}"
            for k in ("requests_per_day", "tokens_per_month", "wh_per_month")
            if r[k] is not None
        )
        click.echo(f"{r['name']}\t{r['kind']}\t{r['declared_use']}\t{quotas or 'no quota'}")


@cli.group()
def user() -> None:
    """Users: people of a member, each with a role."""


@user.command("add")
@click.argument("name")
@click.option("--member", "member_name", required=True, help="The member the user belongs to.")
@click.option(
    "--role",
    default="reader",
    show_default=True,
    type=click.Choice(["reader", "contributor", "curator", "member-admin", "cooperative-admin"]),
)
@_quota_options
@click.pass_context
def user_add(
    ctx: click.Context,
    name: str,
    member_name: str,
    role: str,
    requests_per_day: int | None,
    tokens_per_month: int | None,
    wh_per_month: float | None,
) -> None:
    """Add a user to a member, with optional caps inside the member's quotas."""
    from commune.govern.members import add_user

    with _commune(ctx).engine.begin() as conn:
        add_user(conn, name, member_name, role, requests_per_day, tokens_per_month, wh_per_month)
    click.echo(f"user {name} added to {member_name} as {role}")


@user.command("password")
@click.argument("name")
@click.option(
    "--stdin", "from_stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
@click.pass_context
def user_password(ctx: click.Context, name: str, from_stdin: bool) -> None:
    """Set a user's password, for signing in to the web application (argon2id hash).

    Without --stdin, asks for it twice without showing it."""
    from commune.govern.accounts import set_password

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _commune(ctx).engine.begin() as conn:
        set_password(conn, name, password)
    click.echo(f"password of {name} set: sign in at /signin")


@user.command("list")
@click.option("--member", "member_name", help="Only this member's users.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def user_list(ctx: click.Context, member_name: str | None, as_json: bool) -> None:
    """List users with their member and role."""
    from commune.govern.members import list_users

    with _commune(ctx).engine.connect() as conn:
        rows = list_users(conn, member_name)
    if as_json:
        click.echo(_json(rows))
        return
    for r in rows:
        click.echo(f"{r['name']}\t{r['member']}\t{r['role']}")


@cli.group()
def key() -> None:
    """API keys: shown once, stored hashed, revocable, optionally expiring."""


@key.command("create")
@click.argument("user_name", metavar="USER")
@click.option("--label", default="", help="What the key is for.")
@click.option("--expires-days", type=int, help="Expire after this many days.")
@click.pass_context
def key_create(ctx: click.Context, user_name: str, label: str, expires_days: int | None) -> None:
    """Create a key for USER and print it (it cannot be shown again)."""
    from commune.govern.members import create_key

    with _commune(ctx).engine.begin() as conn:
        kid, secret = create_key(conn, user_name, label, expires_days)
    click.echo(secret)
    click.echo(f"key {kid} for {user_name}: store it now, it is not shown again", err=True)


@key.command("revoke")
@click.argument("key_id", type=int)
@click.pass_context
def key_revoke(ctx: click.Context, key_id: int) -> None:
    """Revoke key KEY_ID (see `commune key list`)."""
    from commune.govern.members import revoke_key

    with _commune(ctx).engine.begin() as conn:
        revoke_key(conn, key_id)
    click.echo(f"key {key_id} revoked")


@key.command("list")
@click.pass_context
def key_list(ctx: click.Context) -> None:
    """List keys (id, prefix, user, state); never the keys themselves."""
    from commune.govern.members import list_keys

    with _commune(ctx).engine.connect() as conn:
        rows = list_keys(conn)
    for r in rows:
        state = (
            "revoked"
            if r["revoked_at"]
            else (f"expires {r['expires_at']:%Y-%m-%d}" if r["expires_at"] else "active")
        )
        click.echo(f"{r['id']}\tcmn_{r['prefix']}_…\t{r['user']}\t{state}\t{r['label']}")


@cli.command()
@click.option("--month", required=True, help="The month, as YYYY-MM.")
@click.option("--out", type=click.Path(file_okay=False), help="Write CSV, JSON and HTML here.")
@click.option("--json", "as_json", is_flag=True, help="Print the statement as JSON.")
@click.pass_context
def statement(ctx: click.Context, month: str, out: str | None, as_json: bool) -> None:
    """Split a month's costs (server + energy) among members, per commune.toml [cooperative]."""
    from pathlib import Path

    from commune.account.statement import export

    stmt = _commune(ctx).statement(month)
    if as_json:
        click.echo(_json(stmt.to_json()))
    else:
        click.echo(
            f"{stmt.month}: {stmt.total} {stmt.currency} = server {stmt.fixed_total} "
            f"+ energy {stmt.energy_total} ({stmt.energy_kwh:.4f} kWh); rule {stmt.rule}"
        )
        for line in stmt.lines:
            click.echo(
                f"  {line.member:<30} {line.total_eur:>10} {stmt.currency}  "
                f"(fixed {line.fixed_eur}, energy {line.energy_eur}, {line.wh:.2f} Wh, "
                f"{line.requests} requests)"
            )
    if out:
        files = export(stmt, Path(out))
        click.echo(f"wrote {len(files)} files to {out}", err=True)


@cli.group()
def review() -> None:
    """Curation: list, show, approve, reject or request changes, always with a reason."""


@review.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def review_list(ctx: click.Context, as_json: bool) -> None:
    """Revisions waiting for curation, and why."""
    rows = _commune(ctx).pending()
    if as_json:
        click.echo(_json(rows))
        return
    if not rows:
        click.echo("nothing waits for curation")
    for r in rows:
        click.echo(
            f"{r['id']}\t{r['collection']}\t{r['status']}\t{r['licence'] or '-'}\t"
            f"{r['title']}\t{r['hold_reason'] or ''}"
        )


@review.command("show")
@click.argument("revision_id", type=int)
@click.pass_context
def review_show(ctx: click.Context, revision_id: int) -> None:
    """A revision's provenance, its reviews, and its diff with the published revision."""
    info = _commune(ctx).show_revision(revision_id)
    rev = info["revision"]
    click.echo(
        f"revision {rev['id']} (number {rev['number']}) of document {info['document_id']}:"
        f" {rev['status']}"
    )
    for key in (
        "title",
        "licence",
        "contributor",
        "publisher",
        "source_uri",
        "content_hash",
        "created_at",
        "hold_reason",
    ):
        click.echo(f"  {key}: {rev[key]}")
    for r in info["reviews"]:
        click.echo(f"  review by {r['reviewer']}: {r['decision']} — {r['reason']}")
    click.echo("\n".join(info["diff"]) or "(no textual change)")


def _decide(decision: str):  # type: ignore[no-untyped-def]
    @click.argument("revision_id", type=int)
    @click.option("--reason", required=True, help="Why: for the contributor and the audit log.")
    @click.option("--as", "as_user", help="Review as this user (its role must allow it).")
    @click.pass_context
    def command(
        ctx: click.Context, revision_id: int, reason: str, as_user: str | None, **extra: str | None
    ) -> None:
        commune = _commune(ctx)
        status = commune.review(
            revision_id, decision, reason, commune.actor(as_user), extra.get("licence")
        )
        click.echo(f"revision {revision_id}: {status}")

    return command


review.command("approve", help="Approve a revision (it is published once enough approve).")(
    click.option("--licence", help="Set a known SPDX licence while approving.")(_decide("approve"))
)
review.command("reject", help="Reject a revision.")(_decide("reject"))
review.command("request-changes", help="Send a revision back to its contributor.")(
    _decide("request-changes")
)


@cli.command()
@click.argument("collection")
@click.option("--approvals", type=int, required=True, help="Approvals needed to publish (0: none).")
@click.option(
    "--role",
    default="curator",
    show_default=True,
    type=click.Choice(["reader", "contributor", "curator", "member-admin", "cooperative-admin"]),
    help="Least role that may approve.",
)
@click.pass_context
def curation(ctx: click.Context, collection: str, approvals: int, role: str) -> None:
    """Set a collection's curation rules."""
    _commune(ctx).set_curation_rules(collection, approvals, role)
    click.echo(f"{collection}: {approvals} approval(s) by a {role} or above")


@cli.command()
@click.argument("document_id", type=int)
@click.option("--reason", required=True)
@click.option("--as", "as_user", help="Retire as this user (curator or above).")
@click.pass_context
def retire(ctx: click.Context, document_id: int, reason: str, as_user: str | None) -> None:
    """Retire a document: it is no longer retrieved; its history stays."""
    commune = _commune(ctx)
    commune.retire(document_id, reason, commune.actor(as_user))
    click.echo(f"document {document_id} retired")


@cli.command()
@click.argument("document_id", type=int)
@click.pass_context
def history(ctx: click.Context, document_id: int) -> None:
    """A document's revisions, their status and licence, with diffs."""
    for r in _commune(ctx).history(document_id):
        click.echo(
            f"revision {r['number']} (id {r['id']}): {r['status']}, licence "
            f"{r['licence'] or '-'}, {r['created_at']:%Y-%m-%d %H:%M}, by "
            f"{r['contributor'] or '-'}"
        )
        for line in r["diff"][2:]:
            click.echo(f"    {line}")


@cli.group()
def audit() -> None:
    """The tamper-evident log of governance actions."""


@audit.command("verify")
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Check the hash chain; exit 1 if any entry was edited, reordered or deleted."""
    result = _commune(ctx).verify_audit()
    if result.ok:
        click.echo(f"audit log intact: {result.entries} entries, head {result.head}")
        return
    for problem in result.problems:
        click.echo(f"tampered: {problem}")
    sys.exit(1)


@audit.command("log")
@click.option("--limit", default=50, show_default=True, type=int)
@click.pass_context
def audit_log_cmd(ctx: click.Context, limit: int) -> None:
    """The latest governance actions."""
    from commune.store.audit import entries

    with _commune(ctx).engine.connect() as conn:
        for e in entries(conn, limit):
            click.echo(
                f"{e['id']}\t{e['created_at'][:19]}\t{e['actor']}\t{e['action']}\t"
                f"{e['subject']}\t{e['details']}"
            )


@cli.command()
@click.option("--month", required=True, help="The month, as YYYY-MM.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def credits(ctx: click.Context, month: str, as_json: bool) -> None:
    """Which contributors and documents answers cited in a month."""
    report = _commune(ctx).credits(month)
    if as_json:
        click.echo(_json(report))
        return
    click.echo("contributor\tdocuments\tanswers\tcitations")
    for r in report["contributors"]:
        click.echo(f"{r['contributor']}\t{r['documents']}\t{r['answers']}\t{r['citations']}")
    click.echo("\ndocument\tcontributor\tlicence\tanswers\tcitations")
    for r in report["documents"]:
        click.echo(
            f"{r['title']}\t{r['contributor']}\t{r['licence']}\t{r['answers']}\t{r['citations']}"
        )


@cli.command("export")
@click.argument("collection")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory to write the dataset to.",
)
@click.option("--description", help="A description for the dataset's metadata.")
@click.pass_context
def export_cmd(ctx: click.Context, collection: str, out: str, description: str | None) -> None:
    """Export a collection as an open dataset: files + Croissant and DCAT-AP metadata."""
    from pathlib import Path

    from commune.commons.opendata import export_collection

    result = export_collection(_commune(ctx), collection, Path(out), description)
    note = (
        f"; {result.reconstructed} rebuilt from text (originals not kept)"
        if result.reconstructed
        else ""
    )
    click.echo(
        f"exported {result.documents} documents to {out} (croissant.json, dcat.jsonld, "
        f"documents.jsonl, files/){note}"
    )
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


@cli.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--collection", required=True, help="Collection to import into.")
@click.pass_context
def import_cmd(ctx: click.Context, directory: str, collection: str) -> None:
    """Import a dataset exported by `commune export` (checked before anything is added)."""
    from pathlib import Path

    from commune.commons.opendata import import_dataset

    counts = import_dataset(_commune(ctx), Path(directory), collection)
    click.echo(", ".join(f"{v} {k}" for k, v in counts.items()))
    if counts["failed"]:
        sys.exit(1)


@cli.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild the search indexes from the database, with a progress bar.

    After changing `[retrieval] embedder` in commune.toml, this embeds every chunk with the
    new model (stored batch by batch: an interrupted run resumes where it stopped).
    """
    commune = _commune(ctx)
    bars = _StageBars()
    info = commune.reindex(
        lambda done, total: bars(f"embedding with {commune.embedder.name}", done, total)
    )
    bars.finish()
    click.echo(
        f"{info['chunks']} chunks indexed with {info['embedder']} (generation {info['generation']})"
    )


@cli.command()
@click.option(
    "--to",
    "target",
    required=True,
    help="The database to move to, e.g. postgresql+psycopg://commune:PASSWORD@db.example/commune.",
)
@click.option(
    "--no-switch", is_flag=True, help="Copy and verify, but leave the home on its database."
)
@click.pass_context
def migrate(ctx: click.Context, target: str, no_switch: bool) -> None:
    """Move the home's database to another one (SQLite to PostgreSQL), losing nothing.

    Every table is copied in batches, then verified row by row (counts and checksums). An
    interrupted run resumes where it stopped. Only a verified copy becomes the home's
    database (commune.toml's database_url; the old file kept as commune.toml.bak). Stop
    `commune serve` first: writes made during the copy fail the verification."""
    from commune.store.migrate import migrate as run
    from commune.store.migrate import switch

    c = _commune(ctx)

    def progress(table: str, copied: int) -> None:
        click.echo(f"\r  {table}: {copied} rows copied ", nl=False, err=True)

    result = run(c.engine, target, progress)
    click.echo("", err=True)
    width = max(len(t.name) for t in result.tables)
    for t in result.tables:
        mark = "ok" if t.ok else "DIFFERS"
        click.echo(f"{t.name:<{width}}  {t.source_rows:>9} rows -> {t.target_rows:>9}  {mark}")
    if not result.ok:
        bad = ", ".join(t.name for t in result.tables if not t.ok)
        raise click.ClickException(
            f"the copy differs from the source in {bad}: the home stays on its database "
            "(stop writers, then run commune migrate again: it resumes)"
        )
    if no_switch:
        click.echo("verified; the home stays on its database (--no-switch)")
        return
    path = switch(c.settings.home, target)
    click.echo(f"verified; {path} now points at the new database (the old one is untouched)")


@cli.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Verify the home is whole (after a crash or a restore): database integrity, no partial
    document, every published chunk embedded, the ledger append-only, the audit chain intact.
    Exit 1 when a check fails; nothing is changed."""
    from commune.store.check import check as run_checks

    report = run_checks(_commune(ctx))
    for c in report.checks:
        click.echo(f"{'ok' if c.ok else 'FAILED':<7} {c.name:<10} {c.detail}")
    if not report.ok:
        sys.exit(1)


@cli.command("backup")
@click.argument("dest", type=click.Path(file_okay=False))
@click.pass_context
def backup_cmd(ctx: click.Context, dest: str) -> None:
    """Back up the home into DEST while it serves: the database through SQLite's online
    backup API, the original files, commune.toml; then verify the copy (integrity check,
    audit chain, every original file's SHA-256). Indexes are rebuilt, not copied."""
    from pathlib import Path

    from commune.store.backup import backup

    m = backup(_commune(ctx), Path(dest))
    click.echo(
        f"backup verified in {dest}: {m['revisions']} revisions, {m['files']} original files, "
        f"{m['audit_entries']} audit entries"
    )


@cli.command("restore")
@click.argument("source", type=click.Path(file_okay=False, exists=True))
@click.option("--force", is_flag=True, help="Replace the database the home already holds.")
@click.pass_context
def restore_cmd(ctx: click.Context, source: str, force: bool) -> None:
    """Restore a `commune backup` into the home, after verifying it."""
    from pathlib import Path

    from commune.config import resolve_home
    from commune.store.backup import restore

    m = restore(Path(source), resolve_home(ctx.obj["home"]), force)
    click.echo(
        f"restored and verified: {m['revisions']} revisions, {m['audit_entries']} audit entries"
    )


@cli.command()
@click.option(
    "--no-auth", is_flag=True, help="Serve as the operator, with no key (a single-user machine)."
)
@click.pass_context
def mcp(ctx: click.Context, no_auth: bool) -> None:
    """Serve the commons to agents over MCP (stdio): tools search, ask, get_document,
    list_collections; documents as commune://documents/{id} resources.

    The key comes from COMMUNE_API_KEY: its member's visibility, quotas and the charter
    apply, and usage lands in the ledger. `commune serve` also serves MCP at /mcp."""
    from commune.api.mcp import build_server, stdio_actor

    commune = _commune(ctx)
    commune.charter  # noqa: B018 -- validated before serving
    build_server(commune, stdio_actor(commune, no_auth)).run("stdio")


@cli.command()
@click.option(
    "--out", type=click.Path(dir_okay=False), help="Write the BOM here (default: standard output)."
)
@click.pass_context
def bom(ctx: click.Context, out: str | None) -> None:
    """A CycloneDX 1.6 bill of materials of this deployment: software, models, datasets.

    Validated against the CycloneDX 1.6 JSON schema; a copy is kept in the home (bom/), so
    that `commune sovereignty` can say what changed."""
    from pathlib import Path

    from commune.stack.bom import build, store

    commune = _commune(ctx)
    data = build(commune)
    kept = store(commune.settings.home, data)
    text = json.dumps(data, indent=1, ensure_ascii=False)
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
        kinds: dict[str, int] = {}
        for c in data["components"]:
            kinds[c["type"]] = kinds.get(c["type"], 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        click.echo(f"wrote {out}: CycloneDX 1.6, valid; {summary} (a copy in {kept.parent})")
    else:
        click.echo(text)


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def sovereignty(ctx: click.Context, as_json: bool) -> None:
    """The sovereignty map: what most of the stack depends on, closed or unknown-licence
    components, models hosted outside the charter's jurisdictions, licence obligations,
    and what changed since the last `commune bom`."""
    from commune.stack.bom import build, stored
    from commune.stack.sovereignty import sovereignty_map

    commune = _commune(ctx)
    kept = stored(commune.settings.home)
    previous = json.loads(kept[-1].read_text(encoding="utf-8")) if kept else None
    data = sovereignty_map(build(commune), commune.charter.sovereignty.jurisdictions, previous)
    if as_json:
        click.echo(_json(data))
        return
    click.echo(f"{data['components']} components. Most depended on:")
    for d in data["most_depended_on"]:
        click.echo(
            f"  {d['component']} {d['version']} ({d['licence'] or 'licence unknown'}): "
            f"{d['dependents']} dependents, {d['share']:.0%} of the stack"
        )
    click.echo("Closed or unknown licence:" if data["closed_or_unknown"] else "Closed: none")
    for d in data["closed_or_unknown"]:
        click.echo(f"  {d['component']} ({d['type']}): {d['why']}")
    click.echo(
        "Hosted outside the charter's jurisdictions:"
        if data["outside_jurisdictions"]
        else "Hosted outside the charter's jurisdictions: none"
    )
    for d in data["outside_jurisdictions"]:
        click.echo(
            f"  {d['component']}: {d['jurisdiction']} ({d['hosting']}); allowed: "
            f"{', '.join(d['allowed'])}"
        )
    click.echo("Licence obligations:")
    for fam, o in data["obligations"].items():
        names = ", ".join(o["components"][:6]) + ("…" if len(o["components"]) > 6 else "")
        click.echo(f"  {fam} ({len(o['components'])}: {names}): {o['what']}")
    changes = data["changes"]
    if changes is None:
        click.echo("Changes: no earlier BOM in this home (run `commune bom` to keep one)")
    else:
        click.echo(
            f"Changes since {changes['since']}: {len(changes['added'])} added, "
            f"{len(changes['removed'])} removed, {len(changes['changed'])} changed"
        )
        for c in changes["changed"]:
            click.echo(
                f"  {c['component']}: "
                + "; ".join(f"{k} {v[0]} -> {v[1]}" for k, v in c.items() if k != "component")
            )
        for name in changes["added"]:
            click.echo(f"  + {name}")
        for name in changes["removed"]:
            click.echo(f"  - {name}")


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
    from commune.evaluation.pins import pins
    from commune.evaluation.runner import System, run_suite

    for name, value in (("--limit", limit), ("--sample", sample)):
        if value is not None and value <= 0:
            raise click.BadParameter(f"must be greater than 0, got {value}", param_hint=name)
    other = rep.load(compare) if compare else None
    loaded = load_suite(suite)
    commune = _commune(ctx)
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
    bars = _StageBars()
    result = run_suite(
        commune,
        loaded,
        systems,
        split=None if split == "all" else split,
        collection=collection,
        limit=limit,
        sample=sample,
        progress=bars,
    )
    bars.finish()
    report = rep.build(result, pins(commune, loaded, [s.model for s in systems if s.model]), split)
    click.echo(rep.summary(report, other))
    from commune.evaluation.runner import record_scores

    if record_scores(commune, result, loaded, split):
        click.echo("\nscores kept for the charter's choices (commune transparency shows them)")
    if out:
        where = rep.write(report, out, other)
        click.echo(f"\nreport: {where / 'report.json'} and {where / 'report.html'}")


def main() -> None:
    cli(prog_name="commune")


if __name__ == "__main__":
    main()
