"""The cooperative: its members, their people and roles, passwords and API keys.

Every change goes through ``Commune.admin`` (govern/admin.py), which checks the policy and
writes the audit row, as it does for the web application: the same action leaves the same
trace whichever face called it. The CLI acts as the operator unless given ``--as USER``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import click

from commune.cli import speech
from commune.cli.group import (
    ROLE_CHOICE,
    F,
    acting,
    cli,
    commune_of,
    dumps,
    quota_options,
    said,
)
from commune.govern.policy import Member, allowed
from commune.text.messages import joined
from commune.text.numbers import exact, plural
from commune.text.say import say

AS_ADMIN = "Act as this user (its role must allow it); default: the operator."
# A key or a password acts as its person: only the person's own member's admins give one
# (govern/admin.py), a cooperative admin no more than another member's.
AS_CREDENTIALS = (
    "Act as this user: an admin of the person's own member (a key or a password acts"
    " as its person), or the person; default: the operator."
)


@cli.group()
def member() -> None:
    """Members of the cooperative: the organisations that share the deployment."""


@member.command(
    "add",
    epilog='Example:\n\ncommune member add "Ville de Lyon" --kind town --requests-per-day 500',
)
@click.argument("name")
@click.option(
    "--kind",
    default="other",
    show_default=True,
    type=click.Choice(["town", "agglomeration", "association", "public-body", "other"]),
    help="What the member is: a town, an agglomeration (a grouping of towns), an "
    "association, a public body, or other; `commune share --kinds` names them.",
)
@click.option(
    "--declared-use",
    default="non-commercial",
    show_default=True,
    type=click.Choice(["non-commercial", "commercial"]),
    help="What the member uses answers for: sources whose licence forbids it are left out.",
)
@quota_options
@click.option("--as", "as_user", help=AS_ADMIN)
@click.pass_context
def member_add(
    ctx: click.Context,
    name: str,
    kind: str,
    declared_use: str,
    requests_per_day: int | None,
    tokens_per_month: int | None,
    wh_per_month: float | None,
    as_user: str | None,
) -> None:
    """Add a member, with its quotas (no option: no limit)."""
    commune_of(ctx).admin.add_member(
        name,
        actor=acting(ctx, as_user),
        kind=kind,
        declared_use=declared_use,
        requests_per_day=requests_per_day,
        tokens_per_month=tokens_per_month,
        wh_per_month=wh_per_month,
    )
    click.echo(said(f"membre {name} ajouté", f"member {name} added"))


def _clear_option(what: str) -> Callable[[F], F]:
    """``--clear QUOTA`` (repeatable) for `member set` and `user set`; ``what`` says what
    clearing one leaves."""
    return click.option(
        "--clear",
        "cleared",
        multiple=True,
        type=click.Choice(["requests-per-day", "tokens-per-month", "wh-per-month"]),
        help=what,
    )


@member.command("set")
@click.argument("name")
@quota_options
@_clear_option("Remove this quota: no limit (repeatable).")
@click.option("--as", "as_user", help=AS_ADMIN)
@click.pass_context
def member_set(
    ctx: click.Context,
    name: str,
    requests_per_day: int | None,
    tokens_per_month: int | None,
    wh_per_month: float | None,
    cleared: tuple[str, ...],
    as_user: str | None,
) -> None:
    """Change a member's quotas; those not given stay as they are (audited)."""
    quotas = _changed(requests_per_day, tokens_per_month, wh_per_month, cleared)
    row = commune_of(ctx).admin.set_member_quotas(name, quotas, actor=acting(ctx, as_user))
    click.echo(said(f"membre {name}\u00a0: ", f"member {name}: ") + _quotas(row))


def _changed(
    requests_per_day: int | None,
    tokens_per_month: int | None,
    wh_per_month: float | None,
    cleared: tuple[str, ...],
) -> dict[str, float | None]:
    """The quotas a `member set` or `user set` changes: the values given, None for --clear."""
    quotas: dict[str, float | None] = {
        key: value
        for key, value in (
            ("requests_per_day", requests_per_day),
            ("tokens_per_month", tokens_per_month),
            ("wh_per_month", wh_per_month),
        )
        if value is not None
    }
    for option in cleared:
        key = option.replace("-", "_")
        if key in quotas:
            raise click.UsageError(
                said(
                    f"--{option} et --clear {option} se contredisent\u00a0: donnez l'un ou l'autre",
                    f"--{option} and --clear {option} contradict each other: give one of them",
                )
            )
        quotas[key] = None
    if not quotas:
        raise click.UsageError(
            said(
                "rien à changer\u00a0: donnez --requests-per-day, --tokens-per-month, "
                "--wh-per-month ou --clear QUOTA",
                "nothing to change: give --requests-per-day, --tokens-per-month, "
                "--wh-per-month or --clear QUOTA",
            )
        )
    return quotas


# A quota as a French reader says it: "requests_per_day=200" read as a column name in the
# middle of French output, with the decimal point of an English figure.
FRENCH_QUOTAS = {
    "requests_per_day": ("{n} requête par jour", "{n} requêtes par jour"),
    "tokens_per_month": ("{n} jeton par mois", "{n} jetons par mois"),
    "wh_per_month": ("{n} Wh par mois", "{n} Wh par mois"),
}


def _quotas(row: dict[str, Any], none: str | None = None) -> str:
    """A member's quotas as `member list` shows them: "requests_per_day=500", "no quota";
    in French "500 requêtes par jour", "sans quota"."""
    lang = speech.language()
    shown = []
    for k in ("requests_per_day", "tokens_per_month", "wh_per_month"):
        if row[k] is None:
            continue
        # Written whole: ":g" wrote 2000000 tokens as "2e+06".
        value = int(row[k]) if float(row[k]).is_integer() else float(row[k])
        if speech.french(lang):
            one, many = FRENCH_QUOTAS[k]
            figure = exact(value, lang)
            shown.append((one if abs(value) < 2 else many).format(n=figure))
        else:
            shown.append(f"{k}={value}")
    return ", ".join(shown) or none or said("sans quota", "no quota")


@member.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the members as JSON.")
@click.option("--as", "as_user", help="List as this user: a member admin sees its own member.")
@click.pass_context
def member_list(ctx: click.Context, as_json: bool, as_user: str | None) -> None:
    """List members and their quotas."""
    rows = commune_of(ctx).admin.members(actor=acting(ctx, as_user))
    if as_json:
        click.echo(dumps(rows))
        return
    for r in rows:
        click.echo(f"{r['name']}\t{r['kind']}\t{r['declared_use']}\t{_quotas(r)}{_leaving(r)}")


def _leaving(row: dict[str, Any]) -> str:
    """A fifth column for a member that has left or leaves, none for the others (a script
    reading four columns reads a member as it did)."""
    day = row.get("left_on")
    if day is None:
        return ""
    if row["has_left"]:
        return "\t" + said(f"parti le {day}", f"left on {day}")
    return "\t" + said(f"part le {day}", f"leaves on {day}")


def _last_month(at: datetime) -> str:
    """The last month a member leaving at ``at`` is charged for: the one holding the instant
    before (a departure at the end of March, 1 April 00:00, is charged March)."""
    return (at - timedelta(microseconds=1)).strftime("%Y-%m")


@member.command(
    "leave",
    epilog='Example:\n\ncommune member leave "Ville de Lyon" --end-of 2027-03 '
    '--reason "conseil municipal du 12 mars 2027"',
)
@click.argument("name")
@click.option(
    "--on",
    "on",
    metavar="DATE",
    # "It pays that month" was untrue on a month's 1st: from 2027-07-01 it pays June last.
    help="The first day the member is no longer in (YYYY-MM-DD, UTC); it pays up to the "
    "month of the day before.",
)
@click.option(
    "--end-of",
    "end_of",
    metavar="MONTH",
    help="Leave at the end of this month (YYYY-MM), its last one paid; default: this month.",
)
@click.option("--reason", default="", help="Why, kept in the audit log (one line).")
@click.option("--as", "as_user", help=AS_ADMIN)
@click.pass_context
def member_leave(
    ctx: click.Context,
    name: str,
    on: str | None,
    end_of: str | None,
    reason: str,
    as_user: str | None,
) -> None:
    """Record that a member leaves the cooperative (audited; undone with member stay).

    It is charged for the months it was in, never after; the others share the fixed cost
    from then on. Its people no longer sign in nor use keys from that day. Its documents in
    the commons stay, under their licences, credited to it; its private collections are
    kept, readable by nobody, until the operator decides (docs/cooperative.md). Payout
    shares redirected to it are paid to it for the months it was in; from the first month
    it is out of, each redirect lapses and the share is paid to its contributor
    (docs/payouts.md)."""
    from commune.govern.members import departure_when
    from commune.store.repository import now

    when = departure_when(on, end_of)
    done = commune_of(ctx).admin.leave(name, when, reason=reason, actor=acting(ctx, as_user))
    at = datetime.fromisoformat(done["left_at"])
    day, last = at.date().isoformat(), _last_month(at)
    if at <= now():
        click.echo(
            said(
                f"membre {name}\u00a0: a quitté la coopérative le {day}\u00a0; facturé "
                f"jusqu'au mois {last} inclus, ses personnes ne se connectent plus",
                f"member {name} left the cooperative on {day}: charged up to {last} included, "
                "its people no longer sign in",
            )
        )
        return
    click.echo(
        said(
            f"membre {name}\u00a0: quitte la coopérative le {day}\u00a0; facturé jusqu'au mois "
            f"{last} inclus, ses personnes ne se connectent plus à partir de ce jour "
            "(commune member stay l'annule d'ici là)",
            f"member {name} leaves the cooperative on {day}: charged up to {last} included, "
            "its people no longer sign in from that day (commune member stay undoes it until "
            "then)",
        )
    )


@member.command("stay")
@click.argument("name")
@click.option("--reason", default="", help="Why, kept in the audit log (one line).")
@click.option("--as", "as_user", help=AS_ADMIN)
@click.pass_context
def member_stay(ctx: click.Context, name: str, reason: str, as_user: str | None) -> None:
    """Undo a member's departure before it takes effect (audited)."""
    done = commune_of(ctx).admin.stay(name, reason=reason, actor=acting(ctx, as_user))
    day = datetime.fromisoformat(done["undone"]).date().isoformat()
    click.echo(
        said(
            f"membre {name}\u00a0: reste dans la coopérative (son départ du {day} est annulé)",
            f"member {name} stays in the cooperative (its departure on {day} is undone)",
        )
    )


@cli.group()
def user() -> None:
    """Users: people of a member, each with a role."""


@user.command(
    "add",
    epilog='Example:\n\ncommune user add marie.durand --member "Ville de Lyon" --role curator',
)
@click.argument("name")
@click.option("--member", "member_name", required=True, help="The member the user belongs to.")
@click.option(
    "--role",
    default="reader",
    show_default=True,
    type=ROLE_CHOICE,
    help="What the user may do: a reader asks, a contributor adds documents too, a curator "
    "reviews them, a member admin runs its member, a cooperative admin the cooperative.",
)
@quota_options
@click.option("--as", "as_user", help=AS_ADMIN)
@click.pass_context
def user_add(
    ctx: click.Context,
    name: str,
    member_name: str,
    role: str,
    requests_per_day: int | None,
    tokens_per_month: int | None,
    wh_per_month: float | None,
    as_user: str | None,
) -> None:
    """Add a user to a member, with optional caps inside the member's quotas."""
    commune_of(ctx).admin.add_user(
        name,
        member=member_name,
        actor=acting(ctx, as_user),
        role=role,
        requests_per_day=requests_per_day,
        tokens_per_month=tokens_per_month,
        wh_per_month=wh_per_month,
    )
    lang = speech.language()
    click.echo(
        say(
            lang,
            f"utilisateur {name} ajouté {joined('à', member_name)} comme {speech.role(role, lang)}",
            f"user {name} added to {member_name} as {role}",
        )
    )


@user.command("set")
@click.argument("name")
@quota_options
@_clear_option("Remove this cap: only the member's quotas apply (repeatable).")
@click.option("--as", "as_user", help=AS_ADMIN)
@click.pass_context
def user_set(
    ctx: click.Context,
    name: str,
    requests_per_day: int | None,
    tokens_per_month: int | None,
    wh_per_month: float | None,
    cleared: tuple[str, ...],
    as_user: str | None,
) -> None:
    """Change a user's caps inside their member's quotas; those not given stay (audited)."""
    quotas = _changed(requests_per_day, tokens_per_month, wh_per_month, cleared)
    row = commune_of(ctx).admin.set_user_quotas(name, quotas, actor=acting(ctx, as_user))
    click.echo(
        said(f"utilisateur {name}\u00a0: ", f"user {name}: ")
        + _quotas(row, said("sans plafond", "no cap"))
    )


@user.command("set-role")
@click.argument("name")
@click.argument("role", type=ROLE_CHOICE, metavar="ROLE")
@click.option("--as", "as_user", help=AS_ADMIN)
@click.pass_context
def user_set_role(ctx: click.Context, name: str, role: str, as_user: str | None) -> None:
    """Give a user another role (someone else, one below the acting user's own).

    ROLE: reader, contributor, curator, member-admin or cooperative-admin."""
    commune_of(ctx).admin.set_role(name, role=role, actor=acting(ctx, as_user))
    lang = speech.language()
    click.echo(
        say(
            lang,
            f"utilisateur {name}\u00a0: désormais {speech.role(role, lang)}",
            f"user {name} is now {role}",
        )
    )


@user.command("password")
@click.argument("name")
@click.option(
    "--stdin", "from_stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
@click.option(
    "--keep-keys",
    is_flag=True,
    help="Keep the user's API keys (a forgotten password, not a compromised account).",
)
@click.option("--as", "as_user", help=AS_CREDENTIALS)
@click.pass_context
def user_password(
    ctx: click.Context, name: str, from_stdin: bool, keep_keys: bool, as_user: str | None
) -> None:
    """Set a user's password, for signing in to the web application (argon2id hash).

    Their web sessions end, and their API keys are revoked unless --keep-keys: someone who
    held the account (a stolen session) may have made a key, which would outlive the reset.
    Without --stdin, asks for it twice without showing it."""
    actor = acting(ctx, as_user)  # an unknown --as stops here, before the prompt
    # and one who may not set it, too: asked twice for a password, then refused.
    commune_of(ctx).admin.may_set_password(name, actor=actor)
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif not sys.stdin.isatty():
        # No terminal to type it in unseen (a script, a pipe, cron): getpass would warn that
        # the password may be echoed, then give up.
        raise click.UsageError(
            said(
                "aucun terminal pour taper le mot de passe sans l'afficher\u00a0: passez-le "
                "par l'entrée standard avec --stdin",
                "no terminal to type the password unseen: pipe it in with --stdin",
            )
        )
    else:
        password = click.prompt(
            said("Mot de passe", "Password"), hide_input=True, confirmation_prompt=True
        )
    revoked = commune_of(ctx).admin.set_password(
        name, password=password, actor=actor, keep_keys=keep_keys
    )
    lang = speech.language()
    if keep_keys:
        keys = say(lang, "clés d'API gardées", "API keys kept")
    else:
        keys = say(
            lang,
            plural(lang, revoked, "{n} clé d'API révoquée", "{n} clés d'API révoquées"),
            plural(lang, revoked, "{n} API key revoked", "{n} API keys revoked"),
        )
    click.echo(
        say(
            lang,
            f"mot de passe {joined('de', name, person=True)} défini, sessions fermées, "
            f"{keys}\u00a0: connexion sur /signin",
            f"password of {name} set, sessions ended, {keys}: sign in at /signin",
        )
    )


@user.command("remove")
@click.argument("name")
@click.option(
    "--reason", required=True, help="Why, in one line: the audit log keeps it with your name."
)
@click.option("--as", "as_user", help=AS_ADMIN)
@click.pass_context
def user_remove(ctx: click.Context, name: str, reason: str, as_user: str | None) -> None:
    """Remove a user: their keys are revoked and their sessions end at once.

    What the accounts and the commons rest on stays: their ledger rows, credits and payouts,
    the provenance of what they contributed, and the audit log. Their revisions waiting for
    a reviewer stay in the queue; the text of their recorded questions is erased."""
    done = commune_of(ctx).admin.remove_user(name, reason, actor=acting(ctx, as_user))
    keys, sessions, waiting = (
        done["keys_revoked"],
        done["sessions_ended"],
        done["revisions_waiting"],
    )
    # Each count with its plural, as the curation's « 1 approbation »: « 1 clé(s)
    # révoquée(s) » read as a form to fill in, and « 1 de ses révisions attendent » as a slip.
    lang = speech.language()
    click.echo(
        say(
            lang,
            f"utilisateur {name} retiré\u00a0: "
            + plural(lang, keys, "{n} clé révoquée", "{n} clés révoquées")
            + ", "
            + plural(lang, sessions, "{n} session fermée", "{n} sessions fermées"),
            f"user {name} removed: "
            + plural(lang, keys, "{n} key revoked", "{n} keys revoked")
            + ", "
            + plural(lang, sessions, "{n} session ended", "{n} sessions ended"),
        )
    )
    if waiting:
        click.echo(
            say(
                lang,
                plural(
                    lang, waiting, "{n} de ses révisions attend", "{n} de ses révisions attendent"
                )
                + " encore un relecteur (commune review list)",
                plural(
                    lang,
                    waiting,
                    "{n} of their revisions still waits",
                    "{n} of their revisions still wait",
                )
                + " for a reviewer (commune review list)",
            )
        )


@user.command("list")
@click.option("--member", "member_name", help="Only this member's users.")
@click.option("--json", "as_json", is_flag=True, help="Print the users as JSON.")
@click.option("--as", "as_user", help="List as this user: the people it administers.")
@click.pass_context
def user_list(
    ctx: click.Context, member_name: str | None, as_json: bool, as_user: str | None
) -> None:
    """List users with their member and role."""
    actor = acting(ctx, as_user)
    # Someone who administers nobody (a reader, a contributor, a curator) was told "no users:
    # add some with commune user add", untrue of a member with people and a command they may
    # not run: refused as administering people is (the library's decision, whom to ask).
    decision = allowed(actor, "administer", Member(actor.member, actor.member_id))
    if not decision:
        raise decision.refusal()
    rows = commune_of(ctx).admin.people(actor=actor, member=member_name)
    if as_json:
        click.echo(dumps(rows))
        return
    if not rows:  # nothing at all printed read as a command that did not run (documents)
        click.echo(
            said(
                "aucun utilisateur\u00a0: ajoutez-en avec commune user add NOM --member MEMBRE",
                "no users: add some with commune user add NAME --member MEMBER",
            )
        )
    lang = speech.language()
    for r in rows:
        click.echo(f"{r['name']}\t{r['member']}\t{speech.role(r['role'], lang)}")


@cli.group()
def key() -> None:
    """API keys: shown once, stored hashed, revocable, optionally expiring."""


@key.command(
    "create",
    epilog='Example:\n\ncommune key create marie.durand --label "town portal" --expires-days 365',
)
@click.argument("user_name", metavar="USER")
@click.option("--label", default="", help="What the key is for (200 characters at most).")
@click.option("--expires-days", type=int, help="Expire after this many days.")
@click.option("--as", "as_user", help=AS_CREDENTIALS)
@click.pass_context
def key_create(
    ctx: click.Context, user_name: str, label: str, expires_days: int | None, as_user: str | None
) -> None:
    """Create a key for USER and print it (it cannot be shown again)."""
    kid, secret = commune_of(ctx).admin.create_key(
        user_name, actor=acting(ctx, as_user), label=label, expires_days=expires_days
    )
    click.echo(secret)
    click.echo(
        said(
            f"clé {kid} pour {user_name}\u00a0: gardez-la maintenant, elle ne sera plus affichée",
            f"key {kid} for {user_name}: store it now, it is not shown again",
        ),
        err=True,
    )


@key.command("revoke")
@click.argument("key_id", type=int)
@click.option("--as", "as_user", help=AS_ADMIN)
@click.pass_context
def key_revoke(ctx: click.Context, key_id: int, as_user: str | None) -> None:
    """Revoke key KEY_ID (see `commune key list`)."""
    commune_of(ctx).admin.revoke_key(key_id, actor=acting(ctx, as_user))
    click.echo(said(f"clé {key_id} révoquée", f"key {key_id} revoked"))


@key.command("list")
@click.option("--as", "as_user", help="List as this user: its keys and its people's.")
@click.pass_context
def key_list(ctx: click.Context, as_user: str | None) -> None:
    """List keys (id, prefix, user, state); never the keys themselves."""
    found = commune_of(ctx).admin.keys(actor=acting(ctx, as_user))
    if not found:  # nothing at all printed read as a command that did not run (documents)
        click.echo(
            said(
                "aucune clé\u00a0: créez-en une avec commune key create UTILISATEUR",
                "no keys: create one with commune key create USER",
            )
        )
    for r in found:
        if r["revoked_at"]:
            state = said("révoquée", "revoked")
        elif r["expired"]:
            state = said(
                f"a expiré le {r['expires_at']:%Y-%m-%d}",
                f"expired on {r['expires_at']:%Y-%m-%d}",
            )
        elif r["expires_at"]:
            state = said(
                f"expire le {r['expires_at']:%Y-%m-%d}", f"expires {r['expires_at']:%Y-%m-%d}"
            )
        else:
            state = "active"  # the same word in French
        click.echo(f"{r['id']}\tcmn_{r['prefix']}_…\t{r['user']}\t{state}\t{r['label']}")
