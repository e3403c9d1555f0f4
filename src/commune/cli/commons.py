"""Keeping the commons: curation (reviews and a collection's rules), the contributors'
credits, and the tamper-evident audit log."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click

from commune.cli import speech
from commune.cli.group import ROLE_CHOICE, acting, cli, commune_of, dumps, said
from commune.text.messages import from_environment, localise
from commune.text.numbers import plural
from commune.text.say import say


@cli.group()
def review() -> None:
    """Curation: list, show, approve, reject or request changes, always with a reason."""


# `review show`'s and each decision's: a curator shows and decides under their own account.
AS_REVIEWER = "Review as this user (its role must allow it)."


@review.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the waiting revisions as JSON.")
@click.option(
    "--as", "as_user", help="List only what this user may review (where their role allows it)."
)
@click.pass_context
def review_list(ctx: click.Context, as_json: bool, as_user: str | None) -> None:
    """Revisions waiting for curation, and why."""
    rows = commune_of(ctx).pending(acting(ctx, as_user))
    if as_json:
        click.echo(dumps(rows))
        return
    if not rows:
        click.echo(said("rien n'attend de curation", "nothing waits for curation"))
    lang = from_environment(os.environ)
    for r in rows:  # the status and the reason in the reader's words (--json keeps the ids)
        status = speech.as_pages_say(r["status"], lang)
        why = speech.as_pages_say(r["hold_reason"], lang)
        click.echo(
            f"{r['id']}\t{r['collection']}\t{status}\t{r['licence'] or '-'}\t{r['title']}\t{why}"
        )


@review.command("show")
@click.argument("revision_id", type=int)
@click.option("--as", "as_user", help=AS_REVIEWER)
@click.pass_context
def review_show(ctx: click.Context, revision_id: int, as_user: str | None) -> None:
    """A revision's provenance, its reviews, and its diff with the published revision."""
    # Under --as, only a revision that user may review, refused as `review approve --as`
    # refuses it (the same check of the library's, in the same words): a curator looked at
    # what they were about to approve as the operator, who sees every collection's.
    info = commune_of(ctx).show_revision(
        revision_id, None if as_user is None else acting(ctx, as_user)
    )
    rev = dict(info["revision"])
    # To the minute, as `commune history` prints a revision's time: the stored timestamp
    # printed itself, with its microseconds (2026-12-06 23:48:22.367489).
    rev["created_at"] = f"{rev['created_at']:%Y-%m-%d %H:%M}"
    lang = speech.language()
    if not speech.french(lang):
        click.echo(
            f"revision {rev['id']} (number {rev['number']}) of document {info['document_id']}:"
            f" {rev['status']}"
        )
        for field in FIELDS:
            click.echo(f"  {field}: {'-' if rev[field] is None else rev[field]}")
        for r in info["reviews"]:
            click.echo(f"  review by {r['reviewer']}: {r['decision']} — {r['reason']}")
        click.echo("\n".join(info["diff"]) or unchanged_text(info["changed"], "en"))
        return
    tr = speech.as_pages_say
    click.echo(
        f"révision {rev['id']} (numéro {rev['number']}) du document {info['document_id']}"
        f"\u00a0: {tr(rev['status'], lang)}"
    )
    for field, label in FIELDS.items():
        value = tr(rev[field], lang) if field == "hold_reason" and rev[field] else rev[field]
        click.echo(f"  {label}\u00a0: {'-' if value is None else value}")  # not "None"
    for r in info["reviews"]:
        click.echo(
            f"  relecture par {r['reviewer']}\u00a0: {tr(r['decision'], lang)} — {r['reason']}"
        )
    # difflib's two header lines name the revisions compared, in the library's words.
    diff = [
        line.replace("revision (none)", "aucune révision").replace(" revision ", " révision ")
        if n < 2
        else line
        for n, line in enumerate(info["diff"])
    ]
    click.echo("\n".join(diff) or unchanged_text(info["changed"], "fr"))


# What changed beside the text (commons/curation.py, RECORDED), in the reader's words: a file
# sent again with the same text printed "(no textual change)" and nothing of what had changed.
CHANGED_EN = {
    "licence": "its licence",
    "publisher": "its publisher",
    "contributor": "its contributor",
    "title": "its title",
    "source_uri": "its source address",
    "tdm_reserved": "its text and data mining reservation",
    "content_hash": "its file (its layout or its metadata, not the text read from it)",
}
CHANGED_FR = {
    "licence": "sa licence",
    "publisher": "son éditeur",
    "contributor": "son contributeur",
    "title": "son titre",
    "source_uri": "l'adresse de sa source",
    "tdm_reserved": "sa réserve de fouille de textes et de données",
    "content_hash": "son fichier (sa mise en forme ou ses métadonnées, pas le texte qui en est lu)",
}


def unchanged_text(changed: list[str], lang: str) -> str:
    """What a revision whose text did not change changed (``changed``: commons/curation's
    changed_between), in one line: `commune review show`'s and `commune history`'s."""
    french = speech.french(lang)
    what = ", ".join((CHANGED_FR if french else CHANGED_EN)[field] for field in changed)
    if french:
        if not what:
            return "Rien n'a changé\u00a0: ni le texte ni ce qui est enregistré avec lui."
        return f"Le texte n'a pas changé. Ce qui a changé\u00a0: {what}."
    if not what:
        return "Nothing changed: neither the text nor what is recorded with it."
    return f"The text did not change. What changed: {what}."


# A revision's provenance, as `commune review show` lists it: field, and its French label.
FIELDS = {
    "title": "titre",
    "licence": "licence",
    "contributor": "contributeur",
    "publisher": "éditeur",
    "source_uri": "source",
    "content_hash": "empreinte",
    "created_at": "créée le",
    "hold_reason": "motif d'attente",
}


def decide(decision: str) -> Callable[..., Any]:
    """The command for one review decision; they differ only in the decision they record."""

    @click.argument("revision_id", type=int)
    @click.option("--reason", required=True, help="Why: for the contributor and the audit log.")
    @click.option("--as", "as_user", help=AS_REVIEWER)
    @click.pass_context
    def command(
        ctx: click.Context,
        /,
        revision_id: int,
        reason: str,
        as_user: str | None,
        **extra: str | None,
    ) -> None:
        commune = commune_of(ctx)
        status = commune.review(
            revision_id,
            decision=decision,
            reason=reason,
            actor=acting(ctx, as_user),
            licence=extra.get("licence"),
        )
        lang = from_environment(os.environ)
        shown = speech.as_pages_say(status, lang)  # "publiée", as `commune history` says it
        # Approved and still waiting: what for ("1 of 2 approvals"), as the queue says it. A
        # bare "proposed" read as if the approval had not counted, or had been enough.
        held = commune.show_revision(revision_id)["revision"]["hold_reason"]
        why = f" ({speech.as_pages_say(held, lang)})" if status == "proposed" and held else ""
        click.echo(
            said(
                f"révision {revision_id}\u00a0: {shown}{why}",
                f"revision {revision_id}: {status}{why}",
            )
        )

    return command


review.command("approve", help="Approve a revision (it is published once enough approve).")(
    click.option("--licence", help="Set a known SPDX licence while approving.")(decide("approve"))
)
review.command("reject", help="Reject a revision.")(decide("reject"))
review.command("request-changes", help="Send a revision back to its contributor.")(
    decide("request-changes")
)


AS_RULES = (
    "Act as this user: a member admin sets the rules of their member's collections, a "
    "cooperative admin those of the cooperative's."
)


@cli.command()
@click.argument("collection")
@click.option(
    "--approvals",
    type=int,
    required=True,
    help="Approvals needed to publish (0: none; 10 at most).",
)
@click.option(
    "--role",
    type=ROLE_CHOICE,
    help="Least role that may approve; by default the one named before (curator at first).",
)
@click.option("--as", "as_user", help=AS_RULES)
@click.pass_context
def curation(
    ctx: click.Context, collection: str, approvals: int, role: str | None, as_user: str | None
) -> None:
    """Set a collection's curation rules."""
    done = commune_of(ctx).set_curation_rules(
        collection, approvals=approvals, role=role, actor=acting(ctx, as_user)
    )
    released, role = done.released, done.role
    lang = speech.language()
    if approvals == 0:
        # "0 approbation par un curateur ou au-dessus" named approvers nobody waits for: what
        # the operator needs to read is that documents now publish on arrival.
        click.echo(
            say(
                lang,
                f"{collection}\u00a0: aucune approbation, un document est publié dès son "
                "arrivée quand sa licence est connue",
                f"{collection}: no approval, a document is published on arrival when its "
                "licence is known",
            )
        )
    else:
        click.echo(
            say(
                lang,
                f"{collection}\u00a0: "
                + plural(lang, approvals, "{n} approbation", "{n} approbations")
                + f" par un {speech.role(role, lang)} ou au-dessus",
                f"{collection}: "
                + plural(lang, approvals, "{n} approval", "{n} approvals")
                + f" by a {role} or above",
            )
        )
    if released:
        click.echo(
            say(
                lang,
                plural(
                    lang,
                    released,
                    "{n} révision publiée\u00a0: elle n'attendait plus que des approbations "
                    "que ces règles ne demandent plus",
                    "{n} révisions publiées\u00a0: elles n'attendaient plus que des "
                    "approbations que ces règles ne demandent plus",
                ),
                f"{released} revision(s) published: they waited only for approvals these "
                "rules no longer ask",
            )
        )


@cli.command(epilog="Example:\n\ncommune credits --month 2026-11")
@click.option("--month", required=True, help="The month, as YYYY-MM.")
@click.option("--json", "as_json", is_flag=True, help="Print the month's credits as JSON.")
@click.pass_context
def credits(ctx: click.Context, month: str, as_json: bool) -> None:
    """Which contributors and documents answers cited in a month."""
    report = commune_of(ctx).credits(month)
    if as_json:
        click.echo(dumps(report))
        return

    # The column heads and "(unknown)" in the reader's words; --json keeps the library's.
    def who(name: str) -> str:
        return said("(inconnu)", "(unknown)") if name == "(unknown)" else name

    click.echo(
        said(
            "contributeur\tdocuments\tréponses\tcitations",
            "contributor\tdocuments\tanswers\tcitations",
        )
    )
    for r in report["contributors"]:
        click.echo(f"{who(r['contributor'])}\t{r['documents']}\t{r['answers']}\t{r['citations']}")
    click.echo(
        said(
            "\ndocument\tcontributeur\tlicence\tréponses\tcitations",
            "\ndocument\tcontributor\tlicence\tanswers\tcitations",
        )
    )
    for r in report["documents"]:
        click.echo(
            f"{r['title']}\t{who(r['contributor'])}\t{r['licence']}\t{r['answers']}\t"
            f"{r['citations']}"
        )
    if report["cited_by_peers"]:
        # Its title on a line of its own, above its column heads, as the peers' section
        # below: on one line, the first heading read "cited by peers: peer".
        click.echo(said("\ncités par les pairs\u00a0:", "\ncited by peers:"))
        click.echo(
            said(
                "pair\tcontributeur\tdocuments\tcitations",
                "peer\tcontributor\tdocuments\tcitations",
            )
        )
        for r in report["cited_by_peers"]:
            click.echo(f"{r['peer']}\t{who(r['contributor'])}\t{r['documents']}\t{r['citations']}")
    if report["from_peers"]:
        click.echo(
            said(
                "\nles documents des pairs cités ici (à eux de les créditer)\u00a0:",
                "\nthe peers' documents cited here (theirs to credit):",
            )
        )
        click.echo(
            said(
                "pair\tdocument\tcontributeur\tlicence\tréponses\tcitations",
                "peer\tdocument\tcontributor\tlicence\tanswers\tcitations",
            )
        )
        for r in report["from_peers"]:
            # A title the peer retired its document since is forgotten, and so is every
            # title of a peer removed since (peering.md).
            title = r["title"] or (
                said("(pair retiré)", "(peer removed)")
                if r["forgotten"] == "peer removed"
                else said("(retiré par le pair)", "(retired by the peer)")
            )
            click.echo(
                f"{r['peer']}\t{title}\t{who(r['contributor'])}\t{r['licence']}\t"
                f"{r['answers']}\t{r['citations']}"
            )


@cli.group()
def audit() -> None:
    """The tamper-evident log of governance actions."""


@audit.command("verify")
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Check the hash chain; exit 1 if any entry was edited, reordered or deleted."""
    result = commune_of(ctx).verify_audit()
    if result.ok:
        click.echo(
            said(
                f"journal d'audit intact\u00a0: "
                f"{plural('fr', result.entries, '{n} entrée', '{n} entrées')}, tête {result.head}",
                "audit log intact: "
                + plural("en", result.entries, "{n} entry", "{n} entries")
                + f", head {result.head}",
            )
        )
        return
    for problem in result.problems:
        said_problem = localise(problem, from_environment(os.environ))
        click.echo(said(f"altéré\u00a0: {said_problem}", f"tampered: {problem}"))
    sys.exit(1)


@audit.command("log")
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many of the latest actions to print.",
)
@click.pass_context
def audit_log_cmd(ctx: click.Context, limit: int) -> None:
    """The latest governance actions."""
    for e in commune_of(ctx).audit_entries(limit=limit):
        click.echo(
            f"{e['id']}\t{e['created_at'][:19]}\t{e['actor']}\t{e['action']}\t"
            f"{e['subject']}\t{e['details']}"
        )
