"""Write docs/cli.md from the CLI's own --help (tests fail if it drifts)."""

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


def render() -> str:
    # The reference is English, whatever the writer's locale: click's own headings follow the
    # locale (cli/clicktext.py), and LANGUAGE comes first (text/messages.py).
    runner = CliRunner(env={"LANGUAGE": "en"})
    parts = ["# CLI reference\n", "Generated from `commune --help` by `scripts/gen_cli_docs.py`.\n"]
    for args in [[], *_commands(cli, [])]:
        out = runner.invoke(cli, [*args, "--help"], prog_name="commune", terminal_width=100).output
        title = f"## commune {' '.join(args)}".rstrip()
        parts.append(f"{title}\n\n```\n{out.rstrip()}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
    target.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {target}\n")
