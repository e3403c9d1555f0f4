"""Peering's defences, each without a server (docs/peering.md): a peer key never hands out
a member's user, a peer is credited only for passages it was given, a peer's malformed reply
is a notice, peer passages never reach an external model, and the small input rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from commune.cli import cli


def run(home: Path, *args: str, lang: str = "C.UTF-8") -> Any:
    return CliRunner(env={"LANG": lang}).invoke(cli, ["--home", str(home), *args])


def test_a_peer_key_is_never_the_key_of_a_members_user(home):
    assert run(home, "member", "add", "Ville A", "--kind", "town").exit_code == 0
    assert run(home, "user", "add", "lyon", "--member", "Ville A").exit_code == 0
    english = run(home, "peer", "issue", "lyon", lang="en_GB.UTF-8")
    assert english.exit_code == 2, english.output
    assert "cmn_" not in english.output
    assert english.stderr.strip().splitlines() == [
        "error: user 'lyon' belongs to member 'Ville A', not to the peer "
        "(give the peer another name)"
    ]
    french = run(home, "peer", "issue", "lyon", lang="fr_FR.UTF-8")
    assert french.exit_code == 2
    assert "appartient au membre 'Ville A', pas au pair" in french.stderr
    # Issued again for a real peer, its own user is reused.
    first = run(home, "peer", "issue", "coop-b")
    again = run(home, "peer", "issue", "coop-b")
    assert first.exit_code == again.exit_code == 0, again.output
    assert first.stdout.strip() != again.stdout.strip()
