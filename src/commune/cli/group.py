"""The ``commune`` group itself, and what its commands share: the home, the facade opened
once per invocation, JSON printing, progress bars, and one line per error.

Every other module of this package registers its commands on :data:`cli`.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from commune import __version__
from commune.cli import clicktext, helptext
from commune.errors import CommuneError, ConfigError, InvalidRequest, NotFound
from commune.govern.policy import OPERATOR, ROLES, Actor
from commune.stack.threads import limit_blas_threads
from commune.text import faults
from commune.text.messages import from_environment, localise
from commune.text.say import say

if TYPE_CHECKING:  # importing the facade opens nothing, but `commune --help` need not load it
    from commune.core import Commune

F = TypeVar("F", bound=Callable[..., Any])

# The roles, as a choice for the options that grant one.
ROLE_CHOICE = click.Choice(list(ROLES))


# The commands that may make a home where there is none: a deployment's first steps (README,
# docs/operations.md, scripts/demo.sh; a home that only asks other cooperatives starts with
# `commune peer add`). `commune restore` makes one too, by itself. Every other command reads
# or changes what these made: on a mistyped --home, or with COMMUNE_HOME unset, they made an
# empty home there and reported on it ("0 documents", every check ok, a backup failing on
# "unable to open database file"), so they refuse a home with no database instead, creating
# nothing.
MAKES_HOME = frozenset({"add", "import", "member add", "peer add"})
MAKE_A_HOME = (
    "check --home and COMMUNE_HOME; a new home is made by commune add, commune import, "
    "commune member add, commune peer add or commune restore"
)


def _command(ctx: click.Context) -> str:
    """The command's name under ``commune``: "check", "member add"."""
    names: list[str] = []
    while ctx.parent is not None:
        names.insert(0, ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(names)


def name_sessions(ctx: click.Context) -> None:
    """Name the command's sessions on a database server ("commune serve", "commune check"):
    a Commune waiting at its start for a lock another one holds names the holder by its
    command, not by a pid alone (store/db.py)."""
    from commune.store.db import name_sessions

    name_sessions(f"commune {_command(ctx)}".strip())


def _no_home(home: Path, url: str) -> None:
    """Refuse a home that has no database, for a command that does not make one."""
    from commune.store.db import shown_url, sqlite_path

    if not home.exists():
        raise NotFound(f"no Commune home at {home}", MAKE_A_HOME)
    if home.is_dir() and sqlite_path(url) is None:
        # The home is there, its commune.toml names a database server's database, and that
        # one holds no Commune tables: the name to check is in database_url.
        raise NotFound(
            f"the database {shown_url(url)} holds no Commune tables",
            "check database_url in commune.toml (the database name); a new home is made by "
            "commune add, commune import, commune member add or commune peer add, and "
            "commune migrate --to moves a home's database there",
        )
    if home.is_dir():
        raise NotFound(f"{home} holds no Commune database", MAKE_A_HOME)
    # A file: the facade says so in its own words ("give --home a directory").


def commune_of(ctx: click.Context) -> Commune:
    """The home's facade, opened at the first command that needs it and closed at exit."""
    from commune.core import Commune

    if "commune" not in ctx.obj:
        from contextlib import ExitStack

        from commune.config import load_settings
        from commune.store.db import holds_database, serving

        settings = load_settings(ctx.obj["home"])
        home = settings.home
        name_sessions(ctx)
        if _command(ctx) not in MAKES_HOME and not holds_database(settings.database_url, home):
            _no_home(home, settings.database_url)
        # Held until the command ends, taken before the database opens, let go after it
        # closes (close_home): commune restore refuses while the home is in use, and a command
        # started during a restore waits for it (store/db.py). A home not made yet is made
        # by the facade, then held.
        held = ctx.obj["held"] = ExitStack()
        made = home.is_dir()
        if not made and _command(ctx) not in MAKES_HOME:
            # Taken back since the look above (a refused command that had made it: store/db.py
            # take_back): made again here, it was a new empty home reported on.
            _no_home(home, settings.database_url)

        def waiting() -> None:
            language = from_environment(os.environ)
            said = say(
                language,
                f"{home} est en cours de restauration\u00a0: la commande attend qu'elle finisse",
                f"{home} is being restored: the command waits for it to end",
            )
            click.echo(said, err=True)

        if made:
            held.enter_context(serving(home, waiting))
        ctx.obj["commune"] = Commune(home, settings=settings)
        if not made:
            # Made now, and held before its database opens: a command refused on the same new
            # home takes it back only when no one holds it (store/db.py take_back). Held after
            # the open, a command that had the database open but not yet the lock saw it
            # removed under it, and wrote its member into a file no longer there.
            ctx.obj["commune"].make_home()
            held.enter_context(serving(home, waiting))
            ctx.obj["made_home"] = (settings.database_url, home)
            ctx.obj["commune"].open_home()
    commune: Commune = ctx.obj["commune"]
    return commune


def acting(ctx: click.Context, as_user: str | None) -> Actor:
    """Who a command acts as: the operator, or ``--as USER`` (whose role then applies)."""
    if as_user is None:
        return OPERATOR
    return commune_of(ctx).admin.actor(as_user)


def dumps(data: Any) -> str:
    """JSON as scripts read it: UTF-8 kept, dates and paths as strings."""
    return json.dumps(data, ensure_ascii=False, default=str)


def quota_options(fn: F) -> F:
    fn = click.option("--requests-per-day", type=int, help="Quota: requests per day.")(fn)
    fn = click.option("--tokens-per-month", type=int, help="Quota: tokens per month.")(fn)
    return click.option("--wh-per-month", type=float, help="Quota: energy (Wh) per month.")(fn)


class StageBars:
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
            self.bar = click.progressbar(length=total, label=self._said(label), file=sys.stderr)
        self.bar.update(done - self.bar.pos)

    # The stages the library names (evaluation/runner.py, refusals.py), in French; what
    # follows the stage's word is a name (a system: "hybrid", "extractive").
    STAGES = {"retrieval": "recherche", "answers": "réponses", "questions": "questions"}

    def _said(self, label: str) -> str:
        stage, _, rest = label.partition(" ")
        if stage not in self.STAGES or from_environment(os.environ) != "fr":
            return label
        return " ".join(p for p in (self.STAGES[stage], rest) if p)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.render_finish()
            self.bar = None


def operational_error(exc: BaseException, home: str, language: str | None = None) -> str | None:
    """The one line for a fault of the machine (a read-only or full disk, a permission, a
    locked database, a link loop), saying what to do, in the reader's language (the locale's
    by default); None for anything else, whose traceback is worth keeping. Issue 22: these
    printed 50 to 80 lines of traceback ending in the one that mattered."""
    return faults.for_operator(exc, home, language or from_environment(os.environ))


# The library names a value by its field, as the API's JSON does ("requests_per_day must be
# greater than 0"); the CLI's reader typed an option, and is told its name.
OPTIONS = {
    "requests_per_day": "--requests-per-day",
    "tokens_per_month": "--tokens-per-month",
    "wh_per_month": "--wh-per-month",
    "expires_days": "--expires-days",
}


def as_typed(message: str) -> str:
    """``message`` with a field that starts it named as the option the reader typed."""
    field, _, rest = message.partition(" ")
    return f"{OPTIONS[field]} {rest}" if field in OPTIONS and rest.startswith("must ") else message


def _label(language: str) -> str:
    return "erreur\u00a0:" if language == "fr" else "error:"


def said(fr: str, en: str) -> str:
    """A line of the CLI in the reader's language: French unless the locale says English
    (text/messages.py, issue 24)."""
    return say(from_environment(os.environ), fr, en)


def error_line(message: str) -> str:
    """``error: message`` in the reader's language (text/messages.py), for an error that
    does not stop the command (one file of a batch)."""
    language = from_environment(os.environ)
    return f"{_label(language)} {localise(one_line(message), language)}"


def one_line(text: str) -> str:
    """``text`` with its control characters escaped: a file may be named "a\\nb.txt",
    and its error, printed as it is, ran over two lines that no translation matched."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _closed_streams() -> None:
    """A command started with its standard input or output closed (``<&-``, ``>&-``, a
    daemon's or a service's launcher), where Python gives ``None`` for the stream.

    Input closed is read as empty, as ``</dev/null``: ``--stdin``, ``--key -`` and
    ``--batch -`` printed 40 lines of traceback ending in "'NoneType' object has no attribute
    'readline'". Output closed is refused before anything is done: click writes nothing to a
    closed output and says nothing of it, so ``commune key create`` made a key that is shown
    once, to no one, and exited 0."""
    if sys.stdin is None:
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 -- for the process's life
    if sys.stdout is None:
        click.echo(
            said(
                "erreur\u00a0: la sortie standard est fermée, ce que la commande afficherait "
                "serait perdu\u00a0: redirigez-la vers un fichier (> sortie.txt), ou vers "
                "/dev/null pour n'en rien garder",
                "error: standard output is closed, and what the command prints would be lost: "
                "redirect it to a file (> output.txt), or to /dev/null to keep none of it",
            ),
            err=True,
        )
        sys.exit(2)


# The exit status of a command stopped by its configuration (commune.toml, charter.toml):
# sysexits.h's EX_CONFIG. The service's unit (deploy/systemd/commune.service) does not restart
# on it: a file that is wrong now is wrong in 5 s, and restarting every 5 s filled the journal
# forever. Everything else that stops a command is 2: a PostgreSQL not up yet at boot among
# them, which a restart does cure.
EX_CONFIG = 78


class Group(helptext.Group):
    """Turn Commune's errors, and the machine's faults, into one line on stderr and exit
    status 2 (:data:`EX_CONFIG` for a configuration error). ``--debug`` (or
    COMMUNE_DEBUG=1) keeps the machine's faults as tracebacks.
    click's own messages (usage errors, help headings) follow the same locale (clicktext),
    and so do the commands' help pages (helptext)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        with clicktext.speaking(from_environment(os.environ)):
            _closed_streams()
            return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return self._invoke(ctx)
        except BaseException as exc:
            # A command that failed, however it did (its error, click's usage error, an exit
            # status other than 0, Ctrl-C): a home it made and stored nothing in is taken
            # back when the home is let go (close_home).
            if not (isinstance(exc, SystemExit) and exc.code in (0, None)):
                (ctx.obj if isinstance(ctx.obj, dict) else {})["failed"] = True
            raise

    def _invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UnicodeError:
            # Bytes in another encoding than UTF-8 (a terminal, a file, a file name from an
            # old disk): Python's codec message names no argument and says nothing to do.
            click.echo(
                said(
                    "erreur\u00a0: un texte donné n'est pas en UTF-8 (argument, fichier ou nom "
                    "de fichier)\u00a0: réglez le terminal en UTF-8 (locale fr_FR.UTF-8), ou "
                    "convertissez le fichier (iconv -f latin1 -t utf8)",
                    "error: some text given is not UTF-8 (an argument, a file or a file name): "
                    "set the terminal to UTF-8 (locale en_GB.UTF-8), or convert the file "
                    "(iconv -f latin1 -t utf8)",
                ),
                err=True,
            )
            sys.exit(2)
        except OverflowError:
            # A number past what the database or a computation holds (an id of 23 digits, an
            # infinite setting): nothing was written.
            click.echo(
                said(
                    "erreur\u00a0: un nombre donné est hors limites\u00a0: vérifiez les nombres "
                    "de la commande, de commune.toml et de charter.toml",
                    "error: a number given is out of range: check the numbers of the command, "
                    "of commune.toml and of charter.toml",
                ),
                err=True,
            )
            sys.exit(2)
        except (CommuneError, ValueError) as exc:
            # In French unless the locale says English (LANG=en_GB.UTF-8): text/messages.py.
            language = from_environment(os.environ)
            message = as_typed(str(exc)) if isinstance(exc, InvalidRequest) else str(exc)
            click.echo(f"{_label(language)} {localise(message, language)}", err=True)
            sys.exit(EX_CONFIG if isinstance(exc, ConfigError) else 2)
        except Exception as exc:
            obj = ctx.obj or {}
            if obj.get("debug") or debugging(os.environ):
                raise
            language = from_environment(os.environ)
            line = operational_error(exc, str(obj.get("home", "")), language)
            if line is None:
                raise
            click.echo(f"{_label(language)} {line}", err=True)
            sys.exit(2)


def debugging(environ: Mapping[str, str]) -> bool:
    """Whether COMMUNE_DEBUG asks for tracebacks, read as ``--debug``'s variable is (click's
    booleans): COMMUNE_DEBUG=false, no or off in a unit's Environment= gave the tracebacks
    it meant to turn off."""
    return environ.get("COMMUNE_DEBUG", "").strip().lower() in ("1", "true", "t", "yes", "y", "on")


def close_home(ctx: click.Context) -> None:
    """Close the home's facade and let the home go (at exit; or before a command replaces
    the home's database, which no process may hold meanwhile). Safe to call twice."""
    commune = ctx.obj.pop("commune", None)
    if commune is not None:
        commune.close()
    held = ctx.obj.pop("held", None)
    if held is not None:  # the home, let go once its database is closed
        held.close()
    made = ctx.obj.pop("made_home", None)
    if made is not None and ctx.obj.get("failed"):
        # A home this command made, then refused: left there, it was taken for a home by
        # every later command on that (mistyped) --home. Taken back if nothing was stored.
        from commune.store.db import take_back

        with suppress(OSError):  # the refusal is what the reader is told, not this
            take_back(*made)


@click.group(cls=Group)
@click.option(
    "--home",
    envvar="COMMUNE_HOME",
    default="commune-data",
    show_default=True,
    help="The commune home: database, indexes and commune.toml (env: COMMUNE_HOME).",
)
@click.option(
    "--debug",
    is_flag=True,
    envvar="COMMUNE_DEBUG",
    help="Show the traceback of a fault of the machine (read-only or full disk, permission, "
    "link loop) instead of one line (env: COMMUNE_DEBUG=1).",
)
@click.version_option(__version__, prog_name="commune")
@click.pass_context
def cli(ctx: click.Context, home: str, debug: bool) -> None:
    """Commune: ask questions of a cooperative's documents commons, with cited answers."""
    ctx.ensure_object(dict)
    ctx.obj["home"] = home
    ctx.obj["debug"] = debug
    ctx.call_on_close(lambda: close_home(ctx))


def main() -> None:
    # Before any command imports numpy: OpenBLAS reads its thread count once (stack/threads.py).
    limit_blas_threads()
    cli(prog_name="commune")
