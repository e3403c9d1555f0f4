"""Peering between cooperatives (docs/peering.md): what this home shares outward, under
which policy (``share``), and the peers it asks or answers (``peer``)."""

from __future__ import annotations

import os
import sys

import click

from commune.cli.cooperative import AS_ADMIN
from commune.cli.group import acting, cli, commune_of, dumps, quota_options, said
from commune.text.messages import from_environment


@cli.command()
@click.argument("collection")
@click.option(
    "--policy",
    default="",
    help="Usage clauses, comma-separated: non-commercial, share-alike, tdm-reserved "
    "(attribution is always required).",
)
@click.option(
    "--kinds",
    default="",
    help="Member kinds that may use it, comma-separated (town, agglomeration, association, "
    "public-body, other); none: every kind.",
)
@click.option("--off", is_flag=True, help="Stop sharing it with peers.")
@click.option("--as", "as_user", help=AS_ADMIN)
@click.pass_context
def share(
    ctx: click.Context, collection: str, policy: str, kinds: str, off: bool, as_user: str | None
) -> None:
    """Share a collection with peer cooperatives under a usage policy, or stop (--off).

    The shared collections are published at GET /peer/catalogue (DCAT-AP, with an ODRL
    policy each), and peers holding a key this home issued search them."""
    commune = commune_of(ctx)
    actor = acting(ctx, as_user)
    if off:
        if policy or kinds:
            raise click.UsageError(
                said("--off ne prend ni --policy ni --kinds", "--off takes no --policy or --kinds")
            )
        commune.unshare(collection, actor=actor)
        click.echo(
            said(
                f"{collection}\u00a0: n'est plus partagée avec les pairs",
                f"{collection}: no longer shared with peers",
            )
        )
        return
    terms = commune.share(collection, policy=policy, kinds=kinds, actor=actor)
    clauses = ["attribution"] + [
        c for c in ("non_commercial", "share_alike", "tdm_reserved") if terms[c]
    ]
    terms_said = ", ".join(c.replace("_", "-") for c in clauses)
    who = ", ".join(terms["kinds"])
    click.echo(
        said(
            f"{collection}\u00a0: partagée avec les pairs ({terms_said}\u00a0; membres "
            f"{'de type ' + who if who else 'de tout type'})",
            f"{collection}: shared with peers ({terms_said}; members of {who or 'every kind'})",
        )
    )


@cli.group()
def peer() -> None:
    """Other cooperatives: those this home asks (add, update, list, remove, forget) and those
    it answers (issue)."""


@peer.command("add")
@click.argument("name")
@click.argument("url")
@click.option(
    "--key",
    required=True,
    help="The key the peer issued to this cooperative; - reads it from standard input "
    "(kept out of ps and the shell's history).",
)
@click.option("--as", "as_user", help=AS_ADMIN)
@click.pass_context
def peer_add(ctx: click.Context, name: str, url: str, key: str, as_user: str | None) -> None:
    """Register the peer NAME, served at URL, with the key it issued to this cooperative."""
    if key == "-":
        key = sys.stdin.readline().strip()
    shown = commune_of(ctx).add_peer(name, url, key=key, actor=acting(ctx, as_user))
    peer, address, held = shown["name"], shown["url"], shown["key"]
    click.echo(
        said(
            f"pair {peer} ajouté ({address}, clé {held})",
            f"peer {peer} added ({address}, key {held})",
        )
    )


@peer.command("update")
@click.argument("name")
@click.option("--url", default=None, help="The peer's new address.")
@click.option(
    "--key",
    default=None,
    help="The new key the peer issued to this cooperative; - reads it from standard input.",
)
@click.option("--as", "as_user", help=AS_ADMIN)
@click.pass_context
def peer_update(
    ctx: click.Context, name: str, url: str | None, key: str | None, as_user: str | None
) -> None:
    """Give the peer NAME a new address or key, keeping the rest and its documents' titles
    cited here (which remove then add would forget)."""
    if key == "-":
        key = sys.stdin.readline().strip()
    shown = commune_of(ctx).update_peer(name, url=url, key=key, actor=acting(ctx, as_user))
    address, held = shown["url"], shown["key"]
    click.echo(
        said(
            f"pair {name} mis à jour ({address}, clé {held})",
            f"peer {name} updated ({address}, key {held})",
        )
    )


@peer.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the peers as JSON.")
@click.pass_context
def peer_list(ctx: click.Context, as_json: bool) -> None:
    """The registered peers (their keys masked)."""
    rows = commune_of(ctx).peers()
    if as_json:
        click.echo(dumps(rows))
        return
    if not rows:
        click.echo(
            said(
                "aucun pair pour l'instant\u00a0: commune peer add NOM URL --key CLÉ",
                "no peers yet: commune peer add NAME URL --key KEY",
            )
        )
    for r in rows:
        click.echo(f"{r['name']}\t{r['url']}\t{r['key']}")


@peer.command("remove")
@click.argument("name")
@click.option("--as", "as_user", help=AS_ADMIN)
@click.pass_context
def peer_remove(ctx: click.Context, name: str, as_user: str | None) -> None:
    """Stop asking the peer NAME (its key is forgotten, and the titles of its documents cited
    here; their counts are kept)."""
    n = commune_of(ctx).remove_peer(name, actor=acting(ctx, as_user))
    if not n:
        click.echo(said(f"pair {name} retiré", f"peer {name} removed"))
        return
    click.echo(
        said(
            f"pair {name} retiré ; le titre de son document cité ici est oublié, son décompte gardé"
            if n == 1
            else f"pair {name} retiré ; les titres de ses {n} documents cités ici sont "
            "oubliés, leurs décomptes gardés",
            f"peer {name} removed; the title of its document cited here is forgotten, its "
            "count kept"
            if n == 1
            else f"peer {name} removed; the titles of its {n} documents cited here are "
            "forgotten, their counts kept",
        )
    )


@peer.command("forget")
@click.option("--as", "as_user", help=AS_ADMIN)
@click.pass_context
def peer_forget(ctx: click.Context, as_user: str | None) -> None:
    """Ask each peer which of its documents cited here it has retired since, and forget their
    titles now, and which it has brought back since, whose titles come back (each question
    that reaches a peer does it too; run this from cron when questions to the peers are
    rare)."""
    done = commune_of(ctx).forget_retired_titles(
        actor=acting(ctx, as_user), language=from_environment(os.environ)
    )
    if not done:
        click.echo(
            said(
                "aucun pair pour l'instant\u00a0: commune peer add NOM URL --key CLÉ",
                "no peers yet: commune peer add NAME URL --key KEY",
            )
        )
    failed = False
    for name, n in done.items():
        if isinstance(n, tuple):
            gone, back = n
            fr, en = (
                f"{name}\u00a0: {gone} titre{'s' if gone > 1 else ''} oublié"
                f"{'s' if gone > 1 else ''}",
                f"{name}: {gone} title{'' if gone == 1 else 's'} forgotten",
            )
            if back:  # a peer's reinstatement: said only when there was one
                fr += f", {back} titre{'s' if back > 1 else ''} rétabli{'s' if back > 1 else ''}"
                en += f", {back} title{'' if back == 1 else 's'} given back"
            click.echo(said(fr, en))
        else:
            failed = True
            click.echo(n, err=True)  # the peer's name, why, and whether to run it again later
    if failed:
        sys.exit(1)


@peer.command("issue")
@click.argument("name")
@click.option(
    "--declared-use",
    default="non-commercial",
    show_default=True,
    type=click.Choice(["non-commercial", "commercial"]),
    help="What the peer cooperative declared it uses answers for.",
)
@quota_options
@click.option("--as", "as_user", help=AS_ADMIN)
@click.pass_context
def peer_issue(
    ctx: click.Context,
    name: str,
    declared_use: str,
    requests_per_day: int | None,
    tokens_per_month: int | None,
    wh_per_month: float | None,
    as_user: str | None,
) -> None:
    """Issue a key to the cooperative NAME: a member of kind peer, with its own quotas and
    ledger rows, that may search the collections shared with peers. Printed once."""
    # The option's default names a new peer's use; for a known peer, only a use written out
    # is compared with its own (admin.issue_peer refuses another one).
    given = ctx.get_parameter_source("declared_use") != click.core.ParameterSource.DEFAULT
    kid, secret = commune_of(ctx).admin.issue_peer(
        name,
        actor=acting(ctx, as_user),
        declared_use=declared_use if given else None,
        requests_per_day=requests_per_day,
        tokens_per_month=tokens_per_month,
        wh_per_month=wh_per_month,
    )
    click.echo(secret)
    click.echo(
        said(
            f"clé {kid} pour le pair {name}\u00a0: donnez-la-lui (commune peer add de son "
            "côté)\u00a0; elle n'est plus affichée",
            f"key {kid} for peer {name}: give it to them (commune peer add on their side); "
            "it is not shown again",
        ),
        err=True,
    )
