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
    assert p.threshold == 0.46  # the sixth of 0.41 ... 0.50
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


def test_the_homes_threshold_stays_when_it_refuses_the_same_questions() -> None:
    questions = scored([0.9, 0.7], [0.2, 0.1])  # every threshold from 0.21 to 0.70: 2 and 0
    assert choose(questions, 0.33, 0.33).proposed.threshold == 0.33  # type: ignore[union-attr]
    moved = choose(questions, 0.33, 0.8)  # this home's refuses one unanswerable less
    assert moved.current.unanswerable_refused == 1 and moved.proposed is not None
    assert moved.proposed.unanswerable_refused == 2 and 0.21 <= moved.proposed.threshold <= 0.7


def test_no_proposal_when_every_threshold_refuses_too_many_and_both_kinds_are_needed() -> None:
    # An answerable question nothing was found for (probability 1) is refused at any threshold.
    found = choose(scored([0.99], [1.0, 0.2]), 0.33, 0.33, cap=0.0)
    assert found.proposed is None and found.unreachable == 1
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
    # The shipped model tells these apart at its own threshold: the best there is, so no
    # change is proposed.
    own = [line for line in r.output.splitlines() if line.endswith("the model's own, proposed")]
    assert len(own) == 1 and "1 / 1 (1.00)" in own[0] and "0 / 2 (0.00)" in own[0]
    assert r.output.rstrip().endswith("this home answers at it already")
    # In French, numbers as French readers write them.
    fr = runner.invoke(
        cli, ["--home", str(ville), "refusals", str(suite)], env={"LANG": "fr_FR.UTF-8"}
    )
    assert fr.exit_code == 0 and "2 avec réponse, 1 sans" in fr.output and "1,00" in fr.output
    assert "ce service répond déjà à ce seuil" in fr.output
    # Nothing was changed: the home answers at the model's own threshold.
    assert not (ville / "commune.toml").exists()

    # A home whose threshold refuses everything is proposed one that refuses only the
    # unanswerable question, and the line to set it.
    (ville / "commune.toml").write_text("[answer]\nrefusal_threshold = 0.0001\n")
    low = runner.invoke(
        cli, ["--home", str(ville), "refusals", str(suite)], env={"LANG": "en_GB.UTF-8"}
    )
    assert low.exit_code == 0, low.output
    assert "this home's" in low.output and "2 / 2 (1.00)" in low.output
    proposal = [line for line in low.output.splitlines() if line.endswith("proposed")]
    assert len(proposal) == 1 and "1 / 1 (1.00)" in proposal[0] and "0 / 2 (0.00)" in proposal[0]
    line = low.output.splitlines()[-1]
    assert line.startswith("refusal_threshold = ") and "[answer]" in low.output
    # Once set, the home answers at it: `commune refusals` says so, and proposes no change.
    (ville / "commune.toml").write_text(f"[answer]\n{line}\n")
    again = runner.invoke(
        cli, ["--home", str(ville), "refusals", str(suite)], env={"LANG": "en_GB.UTF-8"}
    )
    assert again.exit_code == 0 and "this home's, proposed" in again.output
    assert again.output.rstrip().endswith("this home answers at it already")
    (ville / "commune.toml").unlink()

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
    none = CliRunner().invoke(
        cli,
        ["--home", str(ville), "refusals", str(suite), "--collection", "nowhere"],
        env={"LANG": "fr_FR.UTF-8"},
    )
    assert none.exit_code != 0 and none.output.count("\n") == 1
    assert "aucune question de answerable ne correspond à --split all et --collection nowhere" in (
        none.output
    )
    cap = CliRunner().invoke(
        cli, ["--home", str(ville), "refusals", str(suite), "--max-answerable-refused", "1"]
    )
    assert cap.exit_code == 2
    # A question over the length limit is named before any is asked, not met halfway as
    # "the query is 2399 characters long", which named none.
    long = [*SUITE, {**SUITE[1], "id": "long", "question": "Which book? " * 200}]
    suite.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in long) + "\n")
    r = CliRunner().invoke(
        cli, ["--home", str(ville), "refusals", str(suite)], env={"LANG": "fr_FR.UTF-8"}
    )
    assert r.exit_code == 2 and r.output.count("\n") == 1
    assert r.output.startswith(
        f"erreur\u00a0: la question 'long' (ligne {len(long)}) fait 2399 caractères"
    ), r.output


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
            "collections": {},
            "private_collections": 0,
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


def test_the_threshold_reaches_generated_answers_and_their_fallback(ville: Path) -> None:
    from collections.abc import Iterator

    from commune.answering.answer import generated_answer
    from commune.config import ModelSettings
    from commune.core import Commune
    from commune.generate.base import Completion, Generator, GeneratorUnavailable, Message

    class Down(Generator):
        """A model that cannot be reached: the answer falls back to quoting."""

        backend = "down"
        local = True

        @classmethod
        def from_spec(
            cls, name: str, spec: ModelSettings, max_tokens: int, seconds: float | None
        ) -> Down:
            return cls(name, max_tokens)

        def stream(
            self,
            messages: list[Message],
            max_tokens: int | None = None,
            *,
            language: str | None = None,
        ) -> Iterator[str | Completion]:
            raise GeneratorUnavailable("down for the test")

    question = SUITE[0]["question"]
    with Commune(ville) as c:
        hits = c.search(question, "ville", k=8)
        # Refused before any model is asked, at a threshold refusing everything found...
        low = generated_answer(question, hits, c.embedder, Down("down"), refusal_threshold=0.001)
        assert not low.found
        # ... and answered by the fallback at the model's own, which refuses nothing here.
        own = generated_answer(question, hits, c.embedder, Down("down"))
        assert own.found and own.mode == "extractive" and "mardi" in own.text.lower()


def test_a_collection_answers_at_its_own_threshold(
    ville: Path, corpus: Path, tmp_path: Path
) -> None:
    from commune.core import Commune

    runner = CliRunner()
    member = runner.invoke(cli, ["--home", str(ville), "member", "add", "Ville", "--kind", "town"])
    assert member.exit_code == 0, member.output
    result = runner.invoke(
        cli,
        ["--home", str(ville), "add", str(corpus / "pool.txt"), "--collection", "piscine"]
        + ["--licence", "CC0-1.0", "--visibility", "private", "--member", "Ville"],
    )
    assert result.exit_code == 0, result.output
    # "ville" refuses everything it finds; the home's own threshold is the model's.
    (ville / "commune.toml").write_text(
        '[answer.refusal_thresholds]\n"ville" = 0.0001\n"piscine" = 0.9\n'
    )
    collecte, pool = SUITE[0]["question"], "When are swimming lessons for children?"
    with Commune(ville) as c:
        # Named on the public page as a public collection (a shared one is counted).
        c.set_visibility("ville", "public")
        assert c.settings.answer.threshold_for("ville") == 0.0001
        assert c.settings.answer.threshold_for("piscine") == 0.9
        assert c.settings.answer.threshold_for("other") == 0.0
        assert not c.ask(collecte, collection="ville").found
        # Asked of every collection, the best passage's collection decides: the same.
        assert not c.ask(collecte).found
        assert c.ask(pool, collection="piscine").found
        shown = c.transparency()["refusal"]
        # The page is public: a private collection's threshold is counted, not named.
        assert shown["collections"] == {"ville": 0.0001} and shown["private_collections"] == 1
        from fastapi.testclient import TestClient

        from commune.api.app import create_app

        client = TestClient(create_app(c), client=("127.0.0.1", 40000))
        page = client.get("/transparency", headers={"Accept-Language": "fr"}).text
        client.close()
        assert "Dans ville\u00a0: 0,00, fixé pour cette collection." in page
        assert "Et un seuil fixé pour 1 collection non publique." in page and "piscine" not in page
    # `commune refusals --collection` proposes that collection's own, keyed by its name.
    suite = tmp_path / "mine.jsonl"
    suite.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in SUITE) + "\n")
    r = CliRunner().invoke(
        cli,
        ["--home", str(ville), "refusals", str(suite), "--collection", "ville"],
        env={"LANG": "en_GB.UTF-8"},
    )
    assert r.exit_code == 0, r.output
    assert "this home's" in r.output and "2 / 2 (1.00)" in r.output  # ville's own, 0.0001
    assert r.output.splitlines()[-2:-1] == ["[answer.refusal_thresholds]"]
    assert r.output.splitlines()[-1].startswith('"ville" = ')
    # Without --collection, the home-wide threshold is counted, and the command says so.
    whole = CliRunner().invoke(
        cli, ["--home", str(ville), "refusals", str(suite)], env={"LANG": "en_GB.UTF-8"}
    )
    assert "give --collection NAME for each" in whole.output
    out = CliRunner().invoke(
        cli, ["--home", str(ville), "transparency"], env={"LANG": "en_GB.UTF-8"}
    )
    assert "in ville: 0.00 (set for that collection)" in out.output
    assert "and one set for 1 collection not public" in out.output and "piscine" not in out.output
    # A name configured for no collection (misspelt, or a member's yet to come) is not shown.
    (ville / "commune.toml").write_text('[answer.refusal_thresholds]\n"futur-prive" = 0.3\n')
    with Commune(ville) as c:
        assert c.transparency()["refusal"]["collections"] == {}
    # `commune check` says so: the name changes nothing until a collection has it.
    check = CliRunner().invoke(cli, ["--home", str(ville), "check"], env={"LANG": "en_GB.UTF-8"})
    assert check.exit_code != 0
    assert "names no collection here: futur-prive (fix the name in commune.toml" in check.output
    fr = CliRunner().invoke(cli, ["--home", str(ville), "check"], env={"LANG": "fr_FR.UTF-8"})
    assert "nomme des collections absentes d'ici\u00a0: futur-prive" in fr.output
