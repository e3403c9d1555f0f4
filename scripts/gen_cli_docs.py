"""Write docs/cli.md from the CLI's own --help (tests fail if it drifts)."""

from __future__ import annotations

import sys
from pathlib import Path

from click.testing import CliRunner

from commune.cli import cli

COMMANDS = ["add", "search", "ask", "documents", "collections", "serve"]


def render() -> str:
    runner = CliRunner()
    parts = ["# CLI reference\n", "Generated from `commune --help` by `scripts/gen_cli_docs.py`.\n"]
    for args in [[]] + [[c] for c in COMMANDS]:
        out = runner.invoke(cli, [*args, "--help"], prog_name="commune", terminal_width=100).output
        parts.append(
            f"## commune {' '.join(args)}".rstrip() + "\n\n```\n" + out.rstrip() + "\n```\n"
        )
    return "\n".join(parts)


if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
    target.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {target}\n")
