"""The ``commune`` group itself, and what its commands share: the home, the facade opened
once per invocation, JSON printing, progress bars, and one line per error.

Every other module of this package registers its commands on :data:`cli`.
"""

from __future__ import annotations

import errno
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from commune import __version__
from commune.errors import CommuneError
from commune.govern.policy import OPERATOR, ROLES, Actor
from commune.text.messages import from_environment, localise

if TYPE_CHECKING:  # importing the facade opens nothing, but `commune --help` need not load it
    from commune.core import Commune

F = TypeVar("F", bound=Callable[..., Any])

# The roles, as a choice for the options that grant one.
ROLE_CHOICE = click.Choice(list(ROLES))


def commune_of(ctx: click.Context) -> Commune:
    """The home's facade, opened at the first command that needs it and closed at exit."""
    from commune.core import Commune

    if "commune" not in ctx.obj:
        ctx.obj["commune"] = Commune(ctx.obj["home"])
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
            self.bar = click.progressbar(length=total, label=label, file=sys.stderr)
        self.bar.update(done - self.bar.pos)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.render_finish()
            self.bar = None


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps: SQLAlchemy keeps SQLite's own error as ``orig``."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [getattr(e, "orig", None), e.__cause__, e.__context__]
    return seen


def operational_error(exc: BaseException, home: str) -> str | None:
    """The one line for a fault of the machine (a read-only or full disk, a permission, a
    link loop), saying what to do; None for anything else, whose traceback is worth keeping.
    Issue 22: these printed 50 to 80 lines of traceback ending in the one that mattered."""
    import sqlite3

    for e in _causes(exc):
        if isinstance(e, OSError) and e.errno is not None:
            where = e.filename or home
            if e.errno == errno.EROFS:
                return (
                    f"the home {home} is read-only (cannot write {where}): check its "
                    "permissions or mount, or use --home DIR on a writable disk"
                )
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                return (
                    f"the disk holding {home} is full (cannot write {where}): what was stored "
                    "before is whole; free some space, or use --home DIR on another disk, "
                    "then run the command again"
                )
            if e.errno in (errno.EACCES, errno.EPERM):
                return (
                    f"permission denied on {where}: check its owner and permissions "
                    "(ls -l), or use --home DIR"
                )
            if e.errno == errno.ELOOP:
                return f"a symbolic link loop at {where}: remove or fix the link"
        if isinstance(e, sqlite3.OperationalError):
            message = str(e).lower()
            if "readonly database" in message:
                return (
                    f"the home {home} is read-only (SQLite: {e}): check its permissions or "
                    "mount, or use --home DIR on a writable disk"
                )
            if "disk is full" in message:
                return (
                    f"the disk holding {home} is full (SQLite: {e}): what was stored before is "
                    "whole; free some space, or use --home DIR on another disk, then run the "
                    "command again"
                )
            if "unable to open database file" in message:
                return (
                    f"cannot open the database in {home}: check that the directory exists "
                    "and that its permissions let you write, or use --home DIR"
                )
        if isinstance(e, RuntimeError) and str(e).startswith("Symlink loop"):
            return f"a symbolic link loop ({e}): remove or fix the link"
    return None


class Group(click.Group):
    """Turn Commune's errors, and the machine's faults, into one line on stderr and exit
    status 2. ``--debug`` (or COMMUNE_DEBUG=1) keeps the machine's faults as tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (CommuneError, ValueError) as exc:
            # In French for a French locale (LANG=fr_FR.UTF-8): text/messages.py.
            language = from_environment(os.environ)
            label = "erreur\u00a0:" if language == "fr" else "error:"
            click.echo(f"{label} {localise(str(exc), language)}", err=True)
            sys.exit(2)
        except Exception as exc:
            obj = ctx.obj or {}
            if obj.get("debug") or os.environ.get("COMMUNE_DEBUG", "") not in ("", "0"):
                raise
            line = operational_error(exc, str(obj.get("home", "")))
            if line is None:
                raise
            click.echo(f"error: {line}", err=True)
            sys.exit(2)


def _close(ctx: click.Context) -> None:
    commune = ctx.obj.get("commune")
    if commune is not None:
        commune.close()


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
    ctx.call_on_close(lambda: _close(ctx))


def main() -> None:
    cli(prog_name="commune")
