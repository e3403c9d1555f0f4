"""The ``commune`` group itself, and what its commands share: the home, the facade opened
once per invocation, JSON printing, progress bars, and one line per error.

Every other module of this package registers its commands on :data:`cli`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from commune import __version__
from commune.errors import CommuneError
from commune.govern.policy import OPERATOR, ROLES, Actor

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


class Group(click.Group):
    """Turn Commune's errors into one line on stderr and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (CommuneError, ValueError) as exc:
            click.echo(f"error: {exc}", err=True)
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
@click.version_option(__version__, prog_name="commune")
@click.pass_context
def cli(ctx: click.Context, home: str) -> None:
    """Commune: ask questions of a cooperative's documents commons, with cited answers."""
    ctx.ensure_object(dict)
    ctx.obj["home"] = home
    ctx.call_on_close(lambda: _close(ctx))


def main() -> None:
    cli(prog_name="commune")
