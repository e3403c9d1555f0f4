"""What the deployment shows of itself: the charter in force, the transparency report, the
bill of materials and the sovereignty map."""

from __future__ import annotations

import json
from pathlib import Path

import click

from commune.cli.group import cli, commune_of, dumps


@cli.group()
def charter() -> None:
    """The cooperative's charter (charter.toml in the home; docs/charter.md)."""


@charter.command("check")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.pass_context
def charter_check(ctx: click.Context, path: str | None) -> None:
    """Validate a charter file (default: the home's charter.toml) without putting it in force."""
    from commune.charter.rules import load_charter
    from commune.config import resolve_home

    c = load_charter(resolve_home(ctx.obj["home"]), path=Path(path) if path else None)
    click.echo(f"valid: {c.name}, version {c.version}, sha256 {c.sha256}")


@charter.command("show")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def charter_show(ctx: click.Context, as_json: bool) -> None:
    """The charter in force, its hash and the versions before it."""
    commune = commune_of(ctx)
    c = commune.charter
    past = commune.charter_history()
    if as_json:
        click.echo(dumps({**c.to_json(), "history": past}))
        return
    click.echo(f"{c.name}, version {c.version}, sha256 {c.sha256}")
    click.echo(f"file: {c.path or '(none: the default charter is in force)'}")
    for h in past:
        click.echo(f"  {h['in_force_from']}  {h['version']:<20} {h['sha256']}")


@charter.command("purge")
@click.pass_context
def charter_purge(ctx: click.Context) -> None:
    """Delete decision records past the charter's retention now (audited)."""
    commune = commune_of(ctx)
    gone = commune.purge_decisions()
    click.echo(
        f"purged {gone} decision records older than {commune.charter.utility.retention_days} days"
    )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="The same data as /transparency.json.")
@click.pass_context
def transparency(ctx: click.Context, as_json: bool) -> None:
    """What /transparency shows: the charter, the models, energy, requests at each step."""
    data = commune_of(ctx).transparency()
    if as_json:
        click.echo(dumps(data))
        return
    c, t = data["charter"], data["totals"]
    click.echo(f"charter {c['version']} ({c['sha256'][:12]}), {len(c['history'])} version(s)")
    for m in data["models"]:
        verdict = "allowed" if m["allowed"] else f"not allowed: {m['why']}"
        click.echo(f"model {m['name']}: {m['openness']}, {m['licence']}, {m['hosting']}; {verdict}")
    kind, st = t["by_kind"], data["steps"]
    click.echo(
        f"{t['requests']} requests in the ledger ({kind['answered_questions']} questions "
        f"answered, {kind['abandoned_questions']} abandoned, {kind['other_requests']} "
        f"searches, listings and uploads), {t['wh']:.4f} Wh, {t['gco2e']:.4f} gCO2e"
    )
    click.echo(
        f"{st['questions']} questions recorded: {st['answered_requests']} answered, "
        f"{st['over_quota']} refused over quota (no work done, no ledger row)"
    )
    for outcome, v in data["steps"]["by_outcome"].items():
        click.echo(f"  {outcome:<24} {v['requests']:>6}  {(v['share'] or 0):.1%}")
    embedded = data["embeddings"]
    for model, v in embedded["models"].items():
        click.echo(
            f"passages embedded by {model}: {v['passages']} of {embedded['passages']} "
            f"({v['share']:.1%})"
        )
    for e in data["evaluations"]:
        click.echo(
            f"eval {e['collection']} {e['mode']}{':' + e['model'] if e['model'] else ''}: "
            f"{e['correct']:.1%} correct over {e['questions']} questions"
        )


@cli.command()
@click.option(
    "--out", type=click.Path(dir_okay=False), help="Write the BOM here (default: standard output)."
)
@click.pass_context
def bom(ctx: click.Context, out: str | None) -> None:
    """A CycloneDX 1.6 bill of materials of this deployment: software, models, datasets.

    Validated against the CycloneDX 1.6 JSON schema; a copy is kept in the home (bom/), so
    that `commune sovereignty` can say what changed."""
    from commune.stack.bom import store

    commune = commune_of(ctx)
    data = commune.bom()
    kept = store(commune.settings.home, data=data)
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
    from commune.stack.bom import stored
    from commune.stack.sovereignty import sovereignty_map

    commune = commune_of(ctx)
    kept = stored(commune.settings.home)
    previous = json.loads(kept[-1].read_text(encoding="utf-8")) if kept else None
    data = sovereignty_map(
        commune.bom(),
        jurisdictions=commune.charter.sovereignty.jurisdictions,
        previous=previous,
    )
    if as_json:
        click.echo(dumps(data))
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
