"""Running a home: serve it (HTTP and MCP), check it, back it up and restore it, move its
database, rebuild its indexes."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from commune.cli import speech
from commune.cli.group import StageBars, cli, close_home, commune_of, dumps
from commune.text.messages import MEMBER_KINDS as KINDS_FR
from commune.text.messages import RETIRE_CATEGORIES as CATEGORIES_FR
from commune.text.messages import VISIBILITIES as VISIBILITIES_FR
from commune.text.messages import from_environment, localise
from commune.text.numbers import colon, number, plural
from commune.text.say import say

# `commune check`'s names for its checks (store/check.py, charter/rules.py), in French.
CHECKS_FR = {
    "database": "base",
    "ledger": "registre",
    "documents": "documents",
    "vectors": "vecteurs",
    "duplicates": "doublons",
    "originals": "originaux",
    "audit": "audit",
    "charter": "charte",
    "refusals": "refus",
    "index": "index",
    "settings": "réglages",
}


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to listen on (127.0.0.1: this machine only).",
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="The port to listen on.",
)
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
    import logging

    import uvicorn

    from commune.api.app import create_app

    if no_auth and host not in ("127.0.0.1", "localhost", "::1"):
        raise click.UsageError(
            say(
                from_environment(os.environ),
                "--no-auth n'est permis que sur la boucle locale (--host 127.0.0.1)",
                "--no-auth is only allowed on loopback (--host 127.0.0.1)",
            )
        )
    # Commune's own log (errors with their tracebacks, incidents) beside uvicorn's.
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Alembic names each plugin it sets up as it is imported: seven lines in the journal at
    # every start, before the one that says the server is ready. (Opening the database holds
    # back the rest of alembic's log, and says what migration ran: store/db.upgrade.)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    commune = commune_of(ctx)  # a home with no database is refused first (cli/group.py)
    _can_listen(host, port)
    app = create_app(commune, require_auth=not no_auth)
    # Forwarded headers are believed from [web] trusted_proxies only (api/middleware.py), not
    # from any client on loopback as uvicorn would; each request is logged once, by
    # commune.requests, with its path and without its query string (a question in ?q=).
    from commune.store.db import serving

    # Held while serving: a restore would replace the database under this process.
    with serving(commune.settings.home):
        uvicorn.run(app, host=host, port=port, proxy_headers=False, access_log=False)


def _can_listen(host: str, port: int) -> None:
    """An address the server cannot take (a name that resolves to nothing, a port in use) is
    one line before the server starts, not its log and an exit status."""
    import socket

    from commune.errors import CommuneError

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except OSError:
        # The resolver's own words ("Name or service not known", "Temporary failure in name
        # resolution") are English in every locale, and nothing listens there to stop.
        raise CommuneError(
            f"cannot listen on {host}:{port}: no address found for {host}",
            "give an address such as 127.0.0.1 or 0.0.0.0, or a name this machine resolves",
        ) from None
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind((host, port))
    except OSError as exc:
        raise CommuneError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            "give another --host or --port, or stop what listens there",
        ) from None


@cli.command()
@click.option(
    "--no-auth", is_flag=True, help="Serve as the operator, with no key (a single-user machine)."
)
@click.option(
    "--print-config",
    is_flag=True,
    help="Print the desktop MCP client's JSON configuration for this home (absolute paths) "
    "instead of serving.",
)
@click.pass_context
def mcp(ctx: click.Context, no_auth: bool, print_config: bool) -> None:
    """Serve the commons to agents over MCP (stdio): tools search, ask, get_document,
    list_collections; documents as commune://documents/{id} resources.

    The key comes from COMMUNE_API_KEY: its member's visibility, quotas and the charter
    apply, and usage lands in the ledger. `commune serve` also serves MCP at /mcp.

    The models load in the background from the start, so that the client's handshake is
    answered at once and its first question does not wait for them."""
    from commune.api.mcp import KEY_ENV, build_server, desktop_config, stdio_actor
    from commune.config import resolve_home
    from commune.errors import NotFound

    home = resolve_home(ctx.obj["home"])
    # A desktop client starts the server in a directory of its own choosing: the default
    # home, relative to it, would be a fresh empty database there, and the agent would then
    # be told its good key is wrong (issue 24). So only an existing home is served.
    if not home.is_dir():
        raise NotFound(
            f"no Commune home at {home}",
            "pass --home DIR or set COMMUNE_HOME to the home that `commune serve` uses: a "
            "desktop client starts the server in a directory of its own",
        )
    if print_config:
        click.echo(dumps(desktop_config(home, no_auth=no_auth)))
        if not no_auth:
            click.echo(
                say(
                    from_environment(os.environ),
                    f"remplacez la valeur de {KEY_ENV} par une clé\u00a0: "
                    "`commune key create UTILISATEUR`",
                    f"replace {KEY_ENV}'s value with a key: `commune key create USER`",
                ),
                err=True,
            )
        return
    from commune.govern.members import SEND_THE_KEY, AuthError
    from commune.store.db import serving

    commune = commune_of(ctx)
    commune.charter_at_start()  # validated and recorded before serving
    commune.check_settings()
    try:
        actor_of = stdio_actor(commune, no_auth=no_auth)
    except AuthError as exc:
        if exc.hint != SEND_THE_KEY:
            raise
        # The key comes from the environment here: an HTTP header is no help.
        raise AuthError(
            exc.message,
            f"set {KEY_ENV} to the whole key that `commune key create USER` printed",
        ) from None
    with serving(home):  # as commune serve: no restore under a running server
        commune.warm_up_in_background()
        build_server(commune, actor_of=actor_of).run("stdio")


@cli.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Verify the home is whole (after a crash or a restore) and its settings usable:
    database integrity, no partial document, every published chunk embedded, no document
    stored twice, every original file kept, the ledger append-only, the audit chain intact,
    the search index built from this database (not from the one a pg_restore replaced);
    charter.toml valid; in commune.toml, the embedders and the default model it names known
    here, default_collection a collection here or a name a new one may take, and every
    collection [answer.refusal_thresholds] names here. Exit 1 when a check fails, 78 when
    commune.toml or COMMUNE_DATABASE_URL is not valid or the database's URL can never open
    (PostgreSQL refuses its login, or no driver here reads it: postgres://), 2 when the
    database cannot be opened otherwise (one line says why); nothing is changed."""
    report = commune_of(ctx).check()
    language = from_environment(os.environ)
    for c in report.checks:
        status = "ok" if c.ok else say(language, "ÉCHEC", "FAILED")
        name = say(language, CHECKS_FR.get(c.name, c.name), c.name)
        click.echo(f"{status:<7} {name:<10} {_detail(c.detail, language)}")
    if not report.ok:
        sys.exit(1)


def _detail(detail: str, language: str) -> str:
    """A check's detail in ``language``. A failed check joins its problems with "; ", each
    one message of its own; but a message may hold "; " itself (a charter's "unknown key;
    known: …"), and cut there, its halves matched no French: the charter's line was left in
    English, "line 3: …: unknown key". Each message is the shortest run of pieces that
    reads as one."""
    if language != "fr":
        return detail
    parts = detail.split("; ")
    said: list[str] = []
    start = 0
    while start < len(parts):
        end = next(
            (
                end
                for end in range(start + 1, len(parts) + 1)
                if localise("; ".join(parts[start:end]), language) != "; ".join(parts[start:end])
            ),
            start + 1,  # a piece no run makes French: as it is
        )
        said.append(localise("; ".join(parts[start:end]), language))
        start = end
    return "\u00a0; ".join(said)  # French spaces its semicolon


@cli.command("backup", epilog="Example:\n\ncommune backup /srv/backups/commune-2026-12-07")
@click.argument("dest", type=click.Path(file_okay=False))
@click.pass_context
def backup_cmd(ctx: click.Context, dest: str) -> None:
    """Back up the home into DEST while it serves: the database through SQLite's online
    backup API, the original files, commune.toml; then verify the copy (integrity check,
    audit chain, every original file's SHA-256). Indexes are rebuilt, not copied."""
    m = commune_of(ctx).backup(dest=Path(dest))
    language = from_environment(os.environ)
    click.echo(
        say(language, f"sauvegarde vérifiée dans {dest}", f"backup verified in {dest}")
        + f"{colon(language)} {_counts(m, language)}"
    )


# What a backup holds, as ``commune backup`` and ``restore`` count it: (French, English).
COUNTED = {
    "revisions": (("{n} révision", "{n} révisions"), ("{n} revision", "{n} revisions")),
    "files": (
        ("{n} fichier d'origine", "{n} fichiers d'origine"),
        ("{n} original file", "{n} original files"),
    ),
    "audit_entries": (
        ("{n} entrée d'audit", "{n} entrées d'audit"),
        ("{n} audit entry", "{n} audit entries"),
    ),
}


def _counts(manifest: dict[str, int], language: str) -> str:
    return ", ".join(
        plural(language, manifest[key], *(fr if language == "fr" else en))
        for key, (fr, en) in COUNTED.items()
        if key in manifest
    )


@cli.command("restore", epilog="Example:\n\ncommune restore /srv/backups/commune-2026-12-07")
@click.argument("source", type=click.Path(file_okay=False, exists=True))
@click.option("--force", is_flag=True, help="Replace the database the home already holds.")
@click.pass_context
def restore_cmd(ctx: click.Context, source: str, force: bool) -> None:
    """Restore a `commune backup` into the home, after verifying it."""
    from commune.config import load_settings, resolve_home
    from commune.store.backup import restore

    home = resolve_home(ctx.obj["home"])
    # The home's own database, wherever its commune.toml or COMMUNE_DATABASE_URL puts it.
    url = load_settings(home).database_url
    m = restore(Path(source), home=home, force=force, database_url=url)
    language = from_environment(os.environ)
    said = say(language, "restaurée et vérifiée", "restored and verified")
    click.echo(f"{said}{colon(language)} {_counts(m, language)}")
    if "settings_kept" in m:
        settings = home / "commune.toml"
        click.echo(
            say(
                language,
                f"le commune.toml de la sauvegarde n'a pas été copié\u00a0: le répertoire du "
                f"service garde le sien ({settings})\u00a0; celui de la sauvegarde est dans "
                f"{m['settings_kept']}",
                f"the backup's commune.toml was not copied: the home keeps its own ({settings}); "
                f"the backup's is in {m['settings_kept']}",
            )
        )
    if "replaced" in m:
        held = m["replaced_held"]
        fr = language == "fr"
        counts = ", ".join(
            plural(language, held.get(key, 0), *(one_fr if fr else one_en))
            for key, one_fr, one_en in (
                ("documents", ("{n} document", "{n} documents"), ("{n} document", "{n} documents")),
                (
                    "usage",
                    ("{n} ligne au registre", "{n} lignes au registre"),
                    ("{n} ledger row", "{n} ledger rows"),
                ),
                (
                    "audit_log",
                    ("{n} entrée d'audit", "{n} entrées d'audit"),
                    ("{n} audit entry", "{n} audit entries"),
                ),
            )
        )
        click.echo(
            say(
                language,
                f"la base remplacée est gardée telle quelle dans {m['replaced']} ({counts})"
                "\u00a0: supprimez-la quand vous n'en aurez plus besoin",
                f"the replaced database is kept as it was in {m['replaced']} ({counts}): "
                "delete it when you no longer need it",
            )
        )
    if m.get("sessions_ended"):
        n = m["sessions_ended"]
        click.echo(
            plural(
                language,
                n,
                *(
                    (
                        "{n} session web ouverte à la sauvegarde est fermée : chacun se reconnecte",
                        "{n} sessions web ouvertes à la sauvegarde sont fermées : "
                        "chacun se reconnecte",
                    )
                    if language == "fr"
                    else (
                        "{n} web session open at the backup is ended: people sign in again",
                        "{n} web sessions open at the backup are ended: people sign in again",
                    )
                ),
            )
        )
    # A removal or a password change made after the backup is undone by the restore too.
    for u in m.get("revived_users", []):
        who = u["user"]
        line = say(
            language,
            f"{who}, retiré depuis la sauvegarde, peut de nouveau se connecter\u00a0: "
            f'retirez-le encore (commune user remove {who} --reason "…")',
            f"{who}, removed since the backup, can sign in again: remove them again "
            f'(commune user remove {who} --reason "…")',
        )
        click.echo(line, err=True)
    undone = m.get("undone", [])
    if undone:
        # Who reads a collection, roles, caps, passwords: as before the changes the audit
        # log records since the backup. Listed, to be made again where they still hold.
        click.echo(
            say(
                language,
                "la restauration défait ces changements faits depuis la sauvegarde (journal "
                "d'audit de la base remplacée)\u00a0; refaites ceux qui valent toujours\u00a0:",
                "the restore undoes these changes made since the backup (the replaced "
                "database's audit log); make again those that still hold:",
            ),
            err=True,
        )
        handed: set[str] = set()  # collections a transfer gave another owner, in this list
        peers: set[str] = set()  # peers issued in this list: `peer issue` adds their user
        for u in undone:
            click.echo(f"  {u['at']}  {u['actor']}  {u['action']}  {u['subject']}", err=True)
            what = _undone_value(u, language)
            if what:
                click.echo(f"    {what}", err=True)
            if u["action"] == "transfer":
                handed.add(u["subject"])
            if u["action"] == "member-add" and (u.get("details") or {}).get("kind") == "peer":
                peers.add(u["subject"].partition(" ")[2])
            if u["action"] == "role-grant" and (u.get("details") or {}).get("member") in peers:
                continue  # the peer's own user, which its `peer issue` above adds again
            again = _make_again(u, handed=u["action"] == "visibility" and u["subject"] in handed)
            if u["action"] == "visibility":
                handed.discard(u["subject"])
            if again:
                click.echo(f"    {again}", err=True)
    # A revocation made after the backup is undone by the restore: said, with the command.
    for k in m.get("revived_keys", []):
        click.echo(
            say(
                language,
                f"la clé {k['id']} (cmn_{k['prefix']}_…, {k['user']}, "
                f"«\u00a0{k['label']}\u00a0»), révoquée depuis la sauvegarde, est de nouveau "
                f"active\u00a0: révoquez-la (commune key revoke {k['id']})",
                f'key {k["id"]} (cmn_{k["prefix"]}_…, {k["user"]}, "{k["label"]}"), '
                "revoked since the backup, is active again: revoke it "
                f"(commune key revoke {k['id']})",
            ),
            err=True,
        )


# What each change the restore takes back had set, said to the operator (the audit's action
# names stay as `commune audit log` prints them, to be found there).
_UNDONE_WORDS = {
    "retire": ("catégorie", "category"),
    "curation-rules": ("règles", "rules"),
    "visibility": ("lecteurs", "readers"),
    "transfer": ("propriétaire", "owner"),
    "role-grant": ("rôle", "role"),
    "member-add": ("type", "kind"),
    "user-quotas": ("plafonds", "caps"),
    "member-quotas": ("quotas", "quotas"),
}


def _undone_value(u: dict[str, Any], language: str) -> str:
    """The value a change the restore takes back had set ("readers: private", "role:
    curator"): the line named the change and not what it was, so that making it again meant
    reading the old database's audit log by hand."""
    details = u.get("details") or {}
    action = u["action"]
    if action not in _UNDONE_WORDS:
        return ""
    french = language == "fr"
    if action == "retire":
        category = str(u.get("category", "other"))
        value = CATEGORIES_FR.get(category, category) if french else category
    elif action == "curation-rules":
        approver = speech.role(str(details.get("approver_role")), language)
        value = f"{details.get('approvals_required')} / {approver}"
    elif action == "visibility":
        visibility = str(details.get("visibility", ""))
        value = VISIBILITIES_FR.get(visibility, visibility) if french else visibility
    elif action == "transfer":
        value = f"{details.get('from_owner') or '—'} → {details.get('to_owner') or '—'}"
    elif action == "role-grant":
        value = speech.role(str(details.get("role", "")), language)
    elif action == "member-add":
        kind = str(details.get("kind", ""))
        value = KINDS_FR.get(kind, kind) if french else kind
    else:
        after = details.get("after") or {}
        none = "aucun" if language == "fr" else "none"
        value = ", ".join(
            f"{k.replace('_', '-')} {none if v is None else _figure(v, language)}"
            for k, v in after.items()
        )
    if not value.strip(" /—→"):
        return ""
    words = _UNDONE_WORDS[action]
    return (words[0] if language == "fr" else words[1]) + colon(language) + " " + value


def _figure(value: object, language: str) -> str:
    """A cap as the command that sets it takes it, its decimal comma in French."""
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    return text.replace(".", ",") if language == "fr" else text


def _shell_word(name: str) -> str:
    """``name`` as a shell reads it back: bare if it is one plain word (accents included,
    as a person types "zoé"), else quoted."""
    import re
    import shlex

    return name if re.fullmatch(r"[\w@%+=:,./-]+", name) else shlex.quote(name)


def _make_again(u: dict[str, Any], handed: bool = False) -> str:
    """The command that makes a taken-back change again, where one command does: a takedown
    above all must hold. A rejection, a reinstatement or a dropped collection are made
    again by reading them (their subject says which); an owner change, by the visibility
    line after it. Each name is
    quoted for the shell as it needs (a collection "Ressources humaines", a user "Jean
    Dupont"): printed bare, the command took its second word for another argument. A
    visibility set with a transfer (``handed``: its owner changed just before, in the same
    command) is made again with --transfer: without it, the owner the backup holds keeps
    the collection and the command is refused."""
    details = u.get("details") or {}
    action, subject = u["action"], u["subject"]
    kind, _, name = subject.partition(" ")
    word = _shell_word(name)
    if action == "member-add" and kind == "member":
        # A member added since the backup: the restored database has none, and the lines
        # for its people (user add --member) were refused.
        if details.get("kind") == "peer":
            return f"commune peer issue {word}"
        return (
            f"commune member add {word} --kind {details.get('kind', 'other')} "
            f"--declared-use {details.get('declared_use', 'non-commercial')}"
        )
    if action == "retire" and kind == "document":
        n, category = name.split()[0], u.get("category", "other")
        return f'commune retire {n} --category {category} --reason "…"'
    if action == "visibility" and kind == "collection" and details.get("visibility"):
        owner = details.get("owner")
        member = ""
        if owner and (handed or details["visibility"] == "private"):
            member = f" --member {_shell_word(owner)}" + (" --transfer" if handed else "")
        return f"commune visibility {word} {details['visibility']}{member}"
    if action == "curation-rules" and kind == "collection":
        return (
            f"commune curation {word} --approvals {details.get('approvals_required')} "
            f"--role {details.get('approver_role')}"
        )
    if action == "role-grant" and kind == "user" and details.get("role"):
        if details.get("member"):
            # The grant of a person added since the backup (govern/members.add_user): the
            # restored database has no such person, and set-role answered "no user named".
            return (
                f"commune user add {word} --member {_shell_word(str(details['member']))} "
                f"--role {details['role']}"
            )
        return f"commune user set-role {word} {details['role']}"
    if action == "password-set" and kind == "user":
        return f"commune user password {word}"
    if action in ("user-quotas", "member-quotas") and kind in ("user", "member"):
        after = details.get("after") or {}
        options = " ".join(
            f"--clear {k.replace('_', '-')}" if v is None else f"--{k.replace('_', '-')} {v}"
            for k, v in after.items()
        )
        return f"commune {kind} set {word} {options}".rstrip() if options else ""
    if action == "peer-unshare" and kind == "collection":
        return f"commune share {word} --off"
    if action == "peer-remove" and kind == "peer":
        return f"commune peer remove {word}"
    if action == "peer-update" and kind == "peer":
        # The key is not in the log (masked): whoever made the change has it.
        given = (f" --url {_shell_word(str(details['url']))}" if details.get("url") else "") + (
            " --key -" if details.get("key") else ""
        )
        return f"commune peer update {word}{given}" if given else ""
    return ""


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
    `commune serve` first: writes made during the copy fail the verification.

    Not for an upgrade: a new version changes its database's schema itself, the first time
    a command opens it (`commune check`, docs/operations.md section 4)."""
    from commune.store.migrate import Migration, switch

    commune = commune_of(ctx)

    language = from_environment(os.environ)

    # Each count with its own noun ("1 row", "0 ligne"): one plural for every count printed
    # "1 rows" (and "1 lignes"), a slip an operator reads in the first table of a new home.
    def rows(n: int) -> str:
        return say(
            language,
            plural(language, n, "{n} ligne", "{n} lignes"),
            plural(language, n, "{n} row", "{n} rows"),
        )

    def progress(table: str, copied: int) -> None:
        copies = say(
            language,
            plural(language, copied, "{n} ligne copiée", "{n} lignes copiées"),
            plural(language, copied, "{n} row copied", "{n} rows copied"),
        )
        click.echo(f"\r  {table}{colon(language)} {copies} ", nl=False, err=True)

    result: Migration = commune.migrate_to(target, progress=progress)
    click.echo("", err=True)
    width = max(len(t.name) for t in result.tables)
    counts = [(rows(t.source_rows), rows(t.target_rows)) for t in result.tables]
    wide = max(len(c) for pair in counts for c in pair)
    for t, (before, after) in zip(result.tables, counts, strict=True):
        mark = "ok" if t.ok else say(language, "DIFFÈRE", "DIFFERS")
        click.echo(f"{t.name:<{width}}  {before:>{wide}} -> {after:>{wide}}  {mark}")
    if not result.ok:
        bad = ", ".join(t.name for t in result.tables if not t.ok)
        raise click.ClickException(
            say(
                language,
                f"la copie diffère de la source dans {bad}\u00a0: le répertoire du service reste "
                "sur sa base "
                "(arrêtez les écritures, puis relancez commune migrate\u00a0: elle reprend)",
                f"the copy differs from the source in {bad}: the home stays on its database "
                "(stop writers, then run commune migrate again: it resumes)",
            )
        )
    if no_switch:
        click.echo(
            say(
                language,
                "vérifiée\u00a0; le répertoire du service reste sur sa base (--no-switch)",
                "verified; the home stays on its database (--no-switch)",
            )
        )
        return
    from commune.store.db import unserved

    home = commune.settings.home
    # The home let go by this command first (cli/group.py holds it shared), then held
    # against every other: a server left running kept writing to the old database after
    # the switch, and its rows were missing from the new one (found by an exploratory test).
    close_home(ctx)
    with unserved(home) as free:
        if not free:
            raise click.ClickException(
                say(
                    language,
                    f"la copie est vérifiée, mais {home} est en cours d'utilisation (commune "
                    "serve, commune mcp ou une autre commande) : ce qu'elle écrirait dans "
                    "l'ancienne base manquerait à la nouvelle (arrêtez-la, puis relancez "
                    "commune migrate : elle reprend et bascule)",
                    f"the copy is verified, but {home} is in use (commune serve, commune mcp or "
                    "another command): what it wrote to the old database would be missing from "
                    "the new one (stop it, then run commune migrate again: it resumes and "
                    "switches)",
                )
            )
        path = switch(home, url=target)
    click.echo(
        say(
            language,
            f"vérifiée\u00a0; {path} désigne maintenant la nouvelle base (l'ancienne est intacte)",
            f"verified; {path} now points at the new database (the old one is untouched)",
        )
    )


@cli.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild the search indexes from the database, with a progress bar.

    After changing `[retrieval] embedder` in commune.toml, this embeds every chunk with the
    new model (stored batch by batch: an interrupted run resumes where it stopped).
    """
    commune = commune_of(ctx)
    language = from_environment(os.environ)
    bars = StageBars()
    name = commune.embedder.name
    label = say(language, f"plongement avec {name}", f"embedding with {name}")
    try:
        info = commune.reindex(lambda done, total: bars(label, done, total))
    except KeyboardInterrupt:
        # Click said only "Abandon." ("Aborted!"): an operator stopping a long re-embedding
        # did not know that the vectors are stored batch by batch and the next run resumes.
        bars.finish()
        click.echo(
            say(
                language,
                "interrompu\u00a0: les passages déjà plongés sont gardés\u00a0; relancez "
                "commune reindex pour finir, il reprend où il s'est arrêté",
                "interrupted: the chunks already embedded are kept; run commune reindex again "
                "to finish, it resumes where it stopped",
            ),
            err=True,
        )
        sys.exit(130)
    bars.finish()
    click.echo(
        say(
            language,
            plural(language, info["chunks"], "{n} passage indexé", "{n} passages indexés")
            + f" avec {info['embedder']} (génération {info['generation']})",
            plural(language, info["chunks"], "{n} chunk", "{n} chunks")
            + f" indexed with {info['embedder']} "
            f"(generation {info['generation']})",
        )
    )


@cli.command()
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Stop after this many passages."
)
@click.pass_context
def enrich(ctx: click.Context, limit: int | None) -> None:
    """Add vectors from the second embedder ([enrich] model, e5-small) to the passages that
    lack one, newest first, with a progress bar.

    Each batch is stored as it is done: Ctrl-C stops after the batch in hand, and the next run
    continues from there. Runs at low CPU priority, so a server on the same machine answers
    first. Ranking uses the vectors as they come (docs/retrieval.md)."""
    import signal

    commune = commune_of(ctx)
    model = commune.enrichment_model()  # off, or not installed: one line saying what to do
    language = from_environment(os.environ)
    stopping: list[bool] = []

    def stop_after_batch(signum: int, frame: object) -> None:
        if stopping:  # a second Ctrl-C: stop now, losing only the batch in hand
            raise KeyboardInterrupt
        stopping.append(True)
        click.echo(
            say(
                language,
                "\narrêt après le lot en cours (Ctrl-C encore pour arrêter tout de suite)",
                "\nstopping after the current batch (Ctrl-C again to stop now)",
            ),
            err=True,
        )

    previous = signal.signal(signal.SIGINT, stop_after_batch)
    bars = StageBars()
    try:
        done = commune.enrich(
            limit=limit,
            progress=lambda n, total: bars(
                say(language, f"enrichissement avec {model}", f"enriching with {model}"), n, total
            ),
            stop=lambda: bool(stopping),
            lower_priority=True,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
        bars.finish()
    if language == "fr":
        share = number(100 * done.share, 0, language)
        click.echo(
            f"{done.enriched} passages sur {done.total} enrichis avec {model} ({share}\u00a0%)"
            + ("\u00a0: arrêté, relancez pour continuer" if stopping else "")
        )
        return
    click.echo(
        f"{done.enriched} of {done.total} passages enriched with {model} "
        f"({done.share:.0%})" + (": stopped, run again to continue" if stopping else "")
    )
