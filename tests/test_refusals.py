"""`commune refusals` and ``[answer] refusal_threshold``: what each "nothing relevant"
threshold refuses of an operator's own questions, the one proposed, and the answers given
under the one configured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from commune.cli import cli
from commune.errors import InvalidRequest
from commune.evaluation.refusals import GRID, choose
from commune.evaluation.suite import Case


def scored(unanswerable: list[float], answerable: list[float]) -> list[tuple[Case, float]]:
    def case(i: int, u: bool) -> Case:
        return Case(f"q{i}{u}", "?", "fr", "c", unanswerable=u)

    return [(case(i, True), p) for i, p in enumerate(unanswerable)] + [
        (case(i, False), p) for i, p in enumerate(answerable)
    ]


def test_the_proposal_refuses_the_most_unanswerable_within_the_cap() -> None:
    # 20 answerable: 5% allows one refused. The answerable questions' highest probability is
    # 0.6, then 0.4: from 0.41 on one is refused, from 0.61 none.
    found = choose(scored([0.9, 0.7, 0.5, 0.2], [0.6, 0.4] + [0.1] * 18), 0.33, 0.33)
    assert (found.answerable, found.unanswerable) == (20, 4)
    p = found.proposed
    assert p is not None
    # From 0.41 to 0.50 the same three unanswerable and one answerable are refused: the
    # middle of those ten thresholds.
    assert (p.unanswerable_refused, p.answerable_refused) == (3, 1)
    assert 0.41 <= p.threshold <= 0.50 and p.threshold in (0.45, 0.46)
    assert found.shipped.threshold == 0.33
    assert (found.shipped.unanswerable_refused, found.shipped.answerable_refused) == (3, 2)
    # Every threshold's counts, the probability compared at or above (as refusal.refuses).
    assert [pt.threshold for pt in found.points] == list(GRID)
    at_half = next(pt for pt in found.points if pt.threshold == 0.5)
    assert (at_half.unanswerable_refused, at_half.answerable_refused) == (3, 1)
    # With no answerable question to spare, the proposal refuses none of them.
    strict = choose(scored([0.9, 0.7, 0.5, 0.2], [0.6, 0.4] + [0.1] * 18), 0.33, 0.33, cap=0.0)
    assert strict.proposed is not None and strict.proposed.answerable_refused == 0
    assert strict.proposed.unanswerable_refused == 2 and strict.proposed.threshold > 0.6


def test_no_proposal_when_every_threshold_refuses_too_many_and_both_kinds_are_needed() -> None:
    # An answerable question nothing was found for (probability 1) is refused at any threshold.
    found = choose(scored([0.99], [1.0, 0.2]), 0.33, 0.33, cap=0.0)
    assert found.proposed is None
    with pytest.raises(InvalidRequest, match="0 answerable and 2 unanswerable"):
        choose(scored([0.9, 0.1], []), 0.33, 0.33)
    with pytest.raises(InvalidRequest, match="between 0 and 1"):
        choose(scored([0.9], [0.1]), 0.33, 0.33, cap=1.5)


SUITE = [
    {
        "id": "collecte",
        "question": "Quel jour passe la collecte des ordures ménagères ?",
        "language": "fr",
        "collection": "ville",
        "facts": [["mardi"]],
    },
    {
        "id": "library",
        "question": "How many books can I borrow from the library?",
        "language": "en",
        "collection": "ville",
        "facts": ["eight books"],
    },
    {
        "id": "volcano",
        "question": "What is the boiling point of lava on Jupiter's moons?",
        "language": "en",
        "collection": "ville",
        "unanswerable": True,
    },
]


@pytest.fixture
def ville(home: Path, corpus: Path) -> Path:
    paths = [str(corpus / n) for n in ("dechets.html", "library.md")]
    result = CliRunner().invoke(
        cli, ["--home", str(home), "add", *paths, "--collection", "ville", "--licence", "CC0-1.0"]
    )
    assert result.exit_code == 0, result.output
    return home


def test_refusals_proposes_and_the_configured_threshold_decides(
    ville: Path, tmp_path: Path
) -> None:
    from commune.core import Commune

    suite = tmp_path / "mine.jsonl"
    suite.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in SUITE) + "\n")
    runner = CliRunner()
    r = runner.invoke(
        cli, ["--home", str(ville), "refusals", str(suite)], env={"LANG": "en_GB.UTF-8"}
    )
    assert r.exit_code == 0, r.output
    assert "3 questions: 2 answerable, 1 unanswerable" in r.output
    assert "the model's own" in r.output
    # The shipped model tells these apart: the proposal refuses the one and neither other.
    proposal = [line for line in r.output.splitlines() if line.endswith("proposed")]
    assert len(proposal) == 1 and "1 / 1 (1.00)" in proposal[0] and "0 / 2 (0.00)" in proposal[0]
    line = r.output.splitlines()[-1]
    assert line.startswith("refusal_threshold = ")
    assert "[answer]" in r.output
    # In French, numbers as French readers write them.
    fr = runner.invoke(
        cli, ["--home", str(ville), "refusals", str(suite)], env={"LANG": "fr_FR.UTF-8"}
    )
    assert fr.exit_code == 0 and "2 avec réponse, 1 sans" in fr.output and "1,00" in fr.output
    # Nothing was changed: the home answers at the model's own threshold.
    assert not (ville / "commune.toml").exists()

    def refused(threshold: float | None) -> dict[str, bool]:
        if threshold is not None:
            (ville / "commune.toml").write_text(f"[answer]\nrefusal_threshold = {threshold}\n")
        with Commune(ville) as c:
            return {q["id"]: not c.ask(q["question"], collection="ville").found for q in SUITE}

    assert refused(None) == {"collecte": False, "library": False, "volcano": True}
    assert refused(float(line.split("= ")[1])) == {
        "collecte": False,
        "library": False,
        "volcano": True,
    }
    # The highest threshold refuses nothing the passages found; the lowest, everything. Each
    # home's settings are in its answer cache's scope: a refusal cached under one threshold
    # is not served under another.
    assert refused(1.0) == {"collecte": False, "library": False, "volcano": False}
    assert refused(0.001) == {"collecte": True, "library": True, "volcano": True}


def test_refusals_errors_are_one_line(ville: Path, tmp_path: Path) -> None:
    suite = tmp_path / "answerable.jsonl"
    suite.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in SUITE[:2]) + "\n")
    r = CliRunner().invoke(
        cli, ["--home", str(ville), "refusals", str(suite)], env={"LANG": "en_GB.UTF-8"}
    )
    assert r.exit_code != 0 and r.output.count("\n") == 1  # found before any question is asked
    assert "2 answerable and 0 unanswerable" in r.output and '"unanswerable": true' in r.output
    fr = CliRunner().invoke(
        cli, ["--home", str(ville), "refusals", str(suite)], env={"LANG": "fr_FR.UTF-8"}
    )
    assert "2 avec réponse et 0 sans" in fr.output
    cap = CliRunner().invoke(
        cli, ["--home", str(ville), "refusals", str(suite), "--max-answerable-refused", "1"]
    )
    assert cap.exit_code == 2


def test_transparency_shows_the_threshold_answers_are_given_at(ville: Path) -> None:
    from fastapi.testclient import TestClient

    from commune.answering import refusal
    from commune.api.app import create_app
    from commune.core import Commune

    own = refusal.threshold()
    with Commune(ville) as c:
        assert c.transparency()["refusal"] == {
            "threshold": own,
            "model_threshold": own,
            "configured": False,
        }
    out = CliRunner().invoke(
        cli, ["--home", str(ville), "transparency"], env={"LANG": "en_GB.UTF-8"}
    )
    assert f'"nothing relevant" threshold: {own:.2f} (the model\'s own)' in out.output

    (ville / "commune.toml").write_text("[answer]\nrefusal_threshold = 0.9\n")
    with Commune(ville) as c:
        assert c.transparency()["refusal"]["threshold"] == 0.9
        client = TestClient(create_app(c), client=("127.0.0.1", 40000))
        fr = client.get("/transparency", headers={"Accept-Language": "fr"}).text
        en = client.get("/transparency", headers={"Accept-Language": "en"}).text
        client.close()
    assert "Quand rien de pertinent n'est trouvé" in fr and "atteint 0,90" in fr
    assert f"(celui du modèle\u00a0: {own:.2f})".replace(".", ",") in fr
    assert "reaches 0.90, a threshold this deployment set" in en
    out = CliRunner().invoke(
        cli, ["--home", str(ville), "transparency"], env={"LANG": "fr_FR.UTF-8"}
    )
    assert "0,90 (celui de ce service, fixé dans commune.toml" in out.output
