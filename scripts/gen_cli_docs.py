"""Write docs/cli.md from the CLI's own --help, and its French docs/fr/cli.md from the same
pages in French (cli/helptext.py); tests fail if either drifts."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click.testing import CliRunner

from commune.cli import cli


def _commands(group: click.Group, prefix: list[str]) -> list[list[str]]:
    out = []
    for name in sorted(group.commands):
        cmd = group.commands[name]
        out.append([*prefix, name])
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, [*prefix, name]))
    return out


HEADS = {
    "en": ["# CLI reference\n", "Generated from `commune --help` by `scripts/gen_cli_docs.py`.\n"],
    "fr": [
        "# Référence de la ligne de commande\n",
        "Produite à partir de `commune --help` par `scripts/gen_cli_docs.py`. En anglais\u00a0: "
        "[../cli.md](../cli.md).\n",
        "Des mots techniques (SHA-256, RAPL, SPDX, MCP, JSON)\u00a0? Le [glossaire](glossaire.md) "
        "dit en une ou deux phrases ce que chacun veut dire, et ce qu'il change pour vous.\n",
    ],
}


def render(language: str = "en") -> str:
    # The language is forced, whatever the writer's locale: click's own headings and the help
    # texts follow the locale (cli/clicktext.py, cli/helptext.py), and LANGUAGE comes first
    # (text/messages.py).
    runner = CliRunner(env={"LANGUAGE": language})
    parts = list(HEADS[language])
    for args in [[], *_commands(cli, [])]:
        out = runner.invoke(cli, [*args, "--help"], prog_name="commune", terminal_width=100).output
        title = f"## commune {' '.join(args)}".rstrip()
        parts.append(f"{title}\n\n```\n{out.rstrip()}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    docs = Path(__file__).resolve().parent.parent / "docs"
    for language, target in (("en", docs / "cli.md"), ("fr", docs / "fr" / "cli.md")):
        target.write_text(render(language), encoding="utf-8")
        sys.stdout.write(f"wrote {target}\n")
