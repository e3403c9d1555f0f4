"""Peering's defences, each without a server (docs/peering.md): a peer key never hands out
a member's user, a peer is credited only for passages it was given, a peer's malformed reply
is a notice, peer passages never reach an external model, and the small input rules."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
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


RECYCLING = (
    "# Recycling centre\n\nThe recycling centre of Ville B is open from Tuesday to Saturday, "
    "from 9 am to 5 pm. Garden waste and old furniture are taken free of charge.\n"
)


def test_a_peer_is_credited_only_for_passages_it_was_given_once_each(home, tmp_path):
    from commune.core import Commune
    from commune.errors import InvalidRequest

    doc, other = tmp_path / "recycling.md", tmp_path / "market.md"
    doc.write_text(RECYCLING, encoding="utf-8")
    other.write_text("# Market\n\nA market stall costs 12 euros per day.\n", encoding="utf-8")
    for args in (
        ("add", str(doc), "--collection", "open-b", "--licence", "CC-BY-4.0"),
        ("add", str(other), "--collection", "open-b", "--licence", "CC-BY-4.0"),
        ("share", "open-b"),
        ("peer", "issue", "coop-a"),
    ):
        assert run(home, *args).exit_code == 0
    with Commune(home) as c:
        peer = c.actor("coop-a")
        hits = c.peer_search("recycling centre opening", actor=peer, k=1)["hits"]
        chunk = hits[0]["chunk_id"]
        with sqlite3.connect(home / "commune.db") as db:
            (never_given,) = db.execute("select id from chunks where id != ?", (chunk,)).fetchone()
        # In a shared collection, but never returned to this peer: nothing is credited.
        with pytest.raises(InvalidRequest, match="not returned to this peer"):
            c.peer_desk.cited({never_given: 1, chunk: 1}, peer)
        assert c.peer_desk.cited({chunk: 100}, peer) == 1  # one citation for one return
        with pytest.raises(InvalidRequest, match="already counted"):
            c.peer_desk.cited({chunk: 1}, peer)
        c.peer_search("recycling centre opening", actor=peer, k=1)
        assert c.peer_desk.cited({chunk: 1}, peer) == 1
    with sqlite3.connect(home / "commune.db") as db:
        credited = db.execute(
            "select sum(citations) from credits where route = 'peer/cited'"
        ).fetchone()
        metered = db.execute("select count(*) from usage where route = 'peer/cited'").fetchone()
    assert credited == (2,) and metered == (2,)
