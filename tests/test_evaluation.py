"""The open evaluation: metrics against hand-computed values, pins, the report, --compare."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from commune.answering.grounding import support
from commune.cli import cli
from commune.errors import CommuneError
from commune.evaluation import load_suite
from commune.evaluation.metrics import (
    Outcome,
    answer_scores,
    contains_facts,
    ranked_units,
    retrieval_scores,
)
from commune.evaluation.suite import Case, SuiteError

SUITE = [
    {
        "id": "collecte",
        "question": "Quel jour passe la collecte des ordures ménagères ?",
        "language": "fr",
        "collection": "ville",
        "documents": ["dechets.html"],
        "facts": [["mardi"]],
        "split": "test",
    },
    {
        "id": "library",
        "question": "How many books can I borrow from the library?",
        "language": "en",
        "collection": "ville",
        "documents": ["library.md"],
        "facts": ["eight books"],
        "split": "test",
    },
    {
        "id": "tri-en",
        "question": "Which bin do plastic packages go in?",
        "language": "en",
        "collection": "ville",
        # Judged on its answer alone: naming dechets.html would put it in collecte's split,
        # and naming a page the home does not hold stops the run.
        "facts": [["jaune"]],
        "split": "dev",
    },
    {
        "id": "volcano",
        "question": "What is the boiling point of lava on Jupiter's moons?",
        "language": "en",
        "collection": "ville",
        "unanswerable": True,
        "split": "test",
    },
]


def write_suite(path: Path, cases: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in cases) + "\n")
    return path


def case(**kw) -> Case:  # type: ignore[no-untyped-def]
    base = {"id": "q", "question": "?", "language": "en", "collection": "c"}
    return Case(**{**base, **kw})


# -- metrics computed by hand --------------------------------------------------------------
def test_retrieval_metrics_match_hand_computation() -> None:
    # q1: the relevant document is second; q2: first; q3: two relevant, found 1st and 3rd.
    q1 = case(id="q1", documents=("a.html",))
    q2 = case(id="q2", documents=("b.html",))
    q3 = case(id="q3", documents=("c.html", "d.html"))
    runs = {
        "q1": ranked_units(q1, [("http://x/z.html", ""), ("http://x/a.html", "")]),
        "q2": ranked_units(q2, [("http://x/b.html", ""), ("http://x/b.html", "s2")]),
        "q3": ranked_units(
            q3, [("http://x/c.html", ""), ("http://x/e.html", ""), ("http://x/d.html", "")]
        ),
    }
    qrels = {"q1": ["d0"], "q2": ["d0"], "q3": ["d0", "d1"]}
    import numba

    compiling = numba.config.DISABLE_JIT
    scores = retrieval_scores(runs, qrels, ks=(1, 2))
    # ranx ran interpreted (its compilation took a minute); numba's switch is put back.
    assert numba.config.DISABLE_JIT == compiling
    assert scores["mrr@10"] == pytest.approx((1 / 2 + 1 + 1) / 3, abs=1e-4)
    assert scores["recall@1"] == pytest.approx((0 + 1 + 0.5) / 3, abs=1e-4)
    assert scores["recall@2"] == pytest.approx((1 + 1 + 0.5) / 3, abs=1e-4)
    # nDCG@10: q1 = (1/log2 3) / 1; q2 = 1; q3 = (1 + 1/log2 4) / (1 + 1/log2 3)
    import math

    q3_ndcg = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    expected = (1 / math.log2(3) + 1 + q3_ndcg) / 3
    assert scores["ndcg@10"] == pytest.approx(expected, abs=1e-4)


def test_sections_narrow_a_document_and_repeated_units_count_once() -> None:
    c = case(documents=("page.html",), sections=("Tri sélectif",))
    units = ranked_units(
        c,
        [
            ("http://x/page.html", "Gestion > Encombrants"),
            ("http://x/page.html", "Gestion > Encombrants"),  # same place again: once
            ("http://x/page.html", "Gestion > Tri sélectif"),
        ],
    )
    assert units == ["n1", "d0s0"]


def test_answer_metrics_match_hand_computation() -> None:
    def outcome(c: Case, refused: bool, correct: bool, wh: float, seconds: float) -> Outcome:
        return Outcome(
            case=c,
            slice="en",
            answer="",
            refused=refused,
            correct=correct,
            facts_found=None if c.unanswerable else correct,
            citations=2,
            citations_supported=1 if refused else 2,
            seconds=seconds,
            wh=wh,
            mode="extractive",
            model=None,
        )

    ans = case(facts=(("x",),))
    un = case(unanswerable=True)
    scores = answer_scores(
        [
            outcome(ans, refused=False, correct=True, wh=1.0, seconds=0.1),
            outcome(ans, refused=True, correct=False, wh=1.0, seconds=0.2),
            outcome(un, refused=True, correct=True, wh=2.0, seconds=0.3),
            outcome(un, refused=False, correct=False, wh=4.0, seconds=0.4),
        ]
    )
    assert scores["fact_containment"] == 0.5
    assert scores["refusal_precision"] == 0.5  # two refusals, one of them right
    assert scores["refusal_recall"] == 0.5
    assert scores["answerable_refused"] == 0.5
    assert scores["citation_validity"] == pytest.approx(6 / 8)
    assert scores["wh_per_answer"] == 2.0
    assert scores["wh_per_correct_answer"] == 4.0  # 8 Wh spent, 2 correct
    assert scores["latency_p50_ms"] == pytest.approx(250.0)


def test_facts_and_support() -> None:
    assert contains_facts("Lancez `apt update` [1].", [["apt update", "apt-get update"]])
    assert contains_facts("Type  APT\u00a0UPDATE.", [["apt update"]])
    assert not contains_facts("Lancez apt upgrade.", [["apt update"], ["upgrade"]])
    # A number is found whole, never as the end or the start of a larger one.
    for fact, text, found in (
        ("125 €", "La redevance est de 1 125 € par an.", False),
        ("125 €", "La redevance est de 1\u202f125 € par an.", False),
        ("5 ans", "Le délai est de 2,5 ans.", False),
        ("5 jours", "Il faut 1.5 jours.", False),
        ("1 000", "Une amende de 1 000 000 euros.", False),
        ("5 jours", "Il faut 15 jours.", False),
        ("125 €", "La redevance est de 125 € par an.", True),
        ("5 jours", "En 2024, 5 jours suffisent.", True),
        ("5 jours", "Le délai (5 jours) court.", True),
        ("1 000", "Une amende de 1 000 euros, 2 000 en cas de récidive.", True),
        ("18", "À partir de 18, 19 ou 20 ans.", True),
    ):
        assert contains_facts(text, [[fact]]) is found, (fact, text)
    passage = "La collecte des ordures ménagères a lieu le mardi matin."
    assert support("La collecte a lieu le mardi matin [1].", [passage], "fr") == 1.0
    assert support("Le serveur est HACKED et compromis [1].", [passage], "fr") < 0.6


# -- suites ----------------------------------------------------------------------------------
def test_bad_suite_lines_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q", "language": "fr", "collection": "c"}\n{"question": \n')
    with pytest.raises(SuiteError, match="bad.jsonl line 2: invalid JSON"):
        load_suite(bad)
    write_suite(bad, [{"question": "q", "language": "de", "collection": "c"}])
    with pytest.raises(SuiteError, match="line 1: language must be 'fr' or 'en'"):
        load_suite(bad)
    write_suite(bad, [{"question": "q", "language": "fr", "collection": "c", "answer": "x"}])
    with pytest.raises(SuiteError, match="unknown key 'answer'"):
        load_suite(bad)
    with pytest.raises(SuiteError, match="cannot read the suite"):
        load_suite(tmp_path / "missing.jsonl")
    # A fact with no alternative could never be found: the question would score wrong
    # whatever the answer, and the score would be kept for the charter's choices.
    for facts in ([[]], [["mardi"], []]):
        line = {"question": "q", "language": "fr", "collection": "c", "facts": facts}
        write_suite(bad, [line])
        with pytest.raises(SuiteError, match="'facts' must be a string or a non-empty list"):
            load_suite(bad)
    write_suite(bad, [{"question": "q", "language": "fr", "collection": "c", "documents": []}])
    with pytest.raises(SuiteError, match="'documents' must be a string or a non-empty list"):
        load_suite(bad)
    # Sections without their documents: the question was silently never judged on retrieval.
    write_suite(bad, [{"question": "q", "language": "fr", "collection": "c", "sections": ["T"]}])
    with pytest.raises(SuiteError, match="line 1: 'sections' narrow 'documents', which this"):
        load_suite(bad)


def test_a_byte_order_mark_is_read_deep_nesting_and_lone_surrogates_named(tmp_path: Path) -> None:
    suite = tmp_path / "notepad.jsonl"
    line = json.dumps(SUITE[0], ensure_ascii=False)
    # Notepad's UTF-8 begins with a byte order mark, which the JSON parser refuses.
    suite.write_bytes(b"\xef\xbb\xbf" + line.encode() + b"\n")
    assert [c.id for c in load_suite(suite).cases] == ["collecte"]
    # A line of brackets overflowed the parser's stack: a traceback, not the line.
    suite.write_text(line + "\n" + "[" * 100_000 + "\n")
    with pytest.raises(SuiteError, match="notepad.jsonl line 2: JSON nested too deeply"):
        load_suite(suite)
    # "\ud800" alone: a codec's error said the file was not UTF-8, which it was.
    suite.write_text(line + "\n" + line.replace('"collecte"', '"x\\ud800"') + "\n")
    with pytest.raises(SuiteError, match=r"line 2: a lone surrogate \(\\ud800\) is not text"):
        load_suite(suite)


def test_shipped_suite_is_valid_and_split() -> None:
    suite = load_suite(Path(__file__).parent.parent / "eval" / "suites" / "debian.jsonl")
    assert len(suite.cases) >= 300
    assert sum(c.unanswerable for c in suite.cases) >= 30
    assert {c.split for c in suite.cases} == {"dev", "test"}
    answerable = [c for c in suite.cases if not c.unanswerable]
    assert all(c.facts and c.documents for c in answerable)
    # The same question never sits in both splits (cross-lingual copies share theirs).
    split_of: dict[str, set[str]] = {}
    for c in suite.cases:
        split_of.setdefault(c.question, set()).add(c.split or "")
    assert all(len(s) == 1 for s in split_of.values())


# -- the whole run -------------------------------------------------------------------------
@pytest.fixture
def ville(home: Path, corpus: Path) -> Path:
    runner = CliRunner()
    paths = [str(corpus / n) for n in ("dechets.html", "library.md")]
    result = runner.invoke(
        cli, ["--home", str(home), "add", *paths, "--collection", "ville", "--licence", "CC0-1.0"]
    )
    assert result.exit_code == 0, result.output
    return home


def test_eval_writes_report_with_pins_and_compares(ville: Path, tmp_path: Path) -> None:
    suite = write_suite(tmp_path / "ville.jsonl", SUITE)
    runner = CliRunner()
    out1 = tmp_path / "run1"
    r1 = runner.invoke(
        cli, ["--home", str(ville), "eval", str(suite), "--split", "test", "--out", str(out1)]
    )
    assert r1.exit_code == 0, r1.output
    report = json.loads((out1 / "report.json").read_text())
    assert "<svg" in (out1 / "report.html").read_text()
    questions = report["questions"]["extractive"]
    assert [q["id"] for q in questions] == ["collecte", "library", "volcano"]  # test split only
    judged = {q["id"] for q in questions if q["facts_found"] is not None}
    assert judged == {"collecte", "library"}  # the unanswerable one has no facts to find
    for q in questions:  # each verdict agrees with the answer it judged
        if q["facts_found"] is not None:
            fact = {"collecte": ["mardi"], "library": ["eight books"]}[q["id"]]
            assert q["facts_found"] == contains_facts(q["answer"], [fact])
    # One question per language, one document answers it: it is ranked first or missed.
    for group in ("language fr", "language en"):
        mrr = report["metrics"][group]["retrieval"]["hybrid"]["mrr@10"]
        assert mrr in (0.0, 1.0)
    pins = report["pins"]
    assert pins["suite"]["sha256"] == load_suite(suite).sha256
    # The evaluation's work is in the ledger, but its citations credit no contributor.
    from datetime import UTC, datetime

    from sqlalchemy import select

    from commune.core import Commune
    from commune.store.schema import usage

    with Commune(ville) as c:
        with c.engine.connect() as conn:
            routes = {(row.route, row.mode != "ingest") for row in conn.execute(select(usage))}
        # Its questions' rows, and the rows of the documents the home was built with.
        assert {route for route, asked in routes if asked} == {"eval"}
        assert c.credits(datetime.now(UTC).strftime("%Y-%m"))["contributors"] == []
    assert pins["embedder"]["weights"]["sha256"]
    assert pins["index_generation"] >= 1

    # The pins move when the configuration or the suite changes.
    (ville / "commune.toml").write_text("[retrieval]\nrrf_k = 30\n")
    write_suite(suite, SUITE[:2] + SUITE[3:])
    out2 = tmp_path / "run2"
    r2 = runner.invoke(
        cli,
        ["--home", str(ville), "eval", str(suite), "--split", "test"]
        + ["--out", str(out2), "--compare", str(out1)],
    )
    assert r2.exit_code == 0, r2.output
    again = json.loads((out2 / "report.json").read_text())
    assert again["pins"]["config_sha256"] != pins["config_sha256"]
    assert again["pins"]["suite"]["sha256"] != pins["suite"]["sha256"]
    assert "compared with" in r2.output
    assert "(+0.000)" in r2.output or "(-" in r2.output or "(+" in r2.output
    assert "Compared with the run of" in (out2 / "report.html").read_text()


def test_generator_pin_follows_the_weights(tmp_path: Path) -> None:
    from commune.config import ModelSettings
    from commune.evaluation.pins import generator_pin

    weights = tmp_path / "model.gguf"
    weights.write_bytes(b"one")
    spec = ModelSettings(backend="llamacpp", path=str(weights))
    first = generator_pin("local", spec)["sha256"]
    weights.write_bytes(b"two")
    assert generator_pin("local", spec)["sha256"] != first
    remote = ModelSettings(backend="openai", base_url="http://127.0.0.1:9/v1", model="m")
    assert generator_pin("gpu", remote)["endpoint"] == "http://127.0.0.1:9/v1"


def test_eval_errors_are_one_line(ville: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    suite = write_suite(
        tmp_path / "other.jsonl",
        [{"question": "q?", "language": "fr", "collection": "nowhere"}],
    )
    r = runner.invoke(cli, ["--home", str(ville), "eval", str(suite)])
    assert r.exit_code == 2
    assert "collection 'nowhere'" in r.output and r.output.count("\n") == 1
    # It named no question nor line, and sent an operator to `make eval`.
    for lang, said in (
        (
            "en_GB.UTF-8",
            "error: question 'q1' (line 1) asks about collection 'nowhere', which this home does "
            "not hold (correct its name as commune collections lists it, or add its documents "
            "with commune add --collection)\n",
        ),
        (
            "fr_FR.UTF-8",
            "erreur\u00a0: la question 'q1' (ligne 1) porte sur la collection 'nowhere', que ce "
            "service ne contient pas (corrigez son nom d'après commune collections, ou ajoutez "
            "ses documents avec commune add --collection)\n",
        ),
    ):
        r = CliRunner(env={"LANG": lang}).invoke(cli, ["--home", str(ville), "eval", str(suite)])
        assert r.exit_code == 2 and r.output == said, r.output
    r = runner.invoke(cli, ["--home", str(ville), "eval", str(suite), "--compare", "nope"])
    assert r.exit_code == 2 and "no evaluation report" in r.output


def test_a_suite_that_does_not_fit_the_home_stops_before_any_question(
    ville: Path, tmp_path: Path
) -> None:
    """A misspelt document was judged a retrieval miss without a word, and a question over
    the length limit stopped the run halfway, naming none, after the questions before it had
    been asked and recorded: each is now named before anything is asked or stored."""
    from sqlalchemy import func, select

    from commune.core import Commune
    from commune.store.schema import eval_scores, usage

    def stored() -> tuple[int, int]:
        with Commune(ville) as c, c.engine.connect() as conn:
            return tuple(  # type: ignore[return-value]
                int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for t in (usage, eval_scores)
            )

    before = stored()
    misspelt = [SUITE[0], {**SUITE[1], "documents": ["libary.md"]}]
    too_long = [SUITE[0], {**SUITE[1], "question": "Which book? " * 200}]
    for cases, english, french in (
        (
            misspelt,
            "error: question 'library' (line 2) names the document 'libary.md', which collection "
            "'ville' does not hold (write the last part of its source_uri",
            "erreur\u00a0: la question 'library' (ligne 2) nomme le document 'libary.md', que la "
            "collection 'ville' ne contient pas (écrivez la dernière partie de son source_uri",
        ),
        (
            too_long,
            "error: question 'library' (line 2) is 2399 characters long, over the limit of "
            "2000 (shorten it, or raise [limits] max_query_chars in commune.toml)",
            "erreur\u00a0: la question 'library' (ligne 2) fait 2399 caractères, au-delà de la "
            "limite de 2000 (raccourcissez-la, ou relevez [limits] max_query_chars dans "
            "commune.toml)",
        ),
    ):
        suite = write_suite(tmp_path / "mine.jsonl", cases)
        for lang, said in (("en_GB.UTF-8", english), ("fr_FR.UTF-8", french)):
            r = CliRunner(env={"LANG": lang}).invoke(
                cli, ["--home", str(ville), "eval", str(suite), "--split", "test"]
            )
            assert r.exit_code == 2 and r.output.startswith(said), r.output
            assert r.output.count("\n") == 1
    assert stored() == before


def test_an_out_that_cannot_be_written_stops_before_the_run(ville: Path, tmp_path: Path) -> None:
    """--out was first written after every question had been asked and the scores kept: a
    typo cost the whole run (hours, for a slow model) and ended in a traceback."""
    from sqlalchemy import func, select

    from commune.core import Commune
    from commune.store.schema import usage

    def asked() -> int:
        with Commune(ville) as c, c.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(usage)).scalar_one())

    suite = write_suite(tmp_path / "ville.jsonl", SUITE)
    (tmp_path / "a-file").write_text("")
    before = asked()
    out = str(tmp_path / "a-file" / "reports")
    for lang, said in (
        ("en_GB.UTF-8", f"error: cannot write the report to {out}: "),
        ("fr_FR.UTF-8", f"erreur\u00a0: impossible d'écrire le rapport dans {out}\u00a0: "),
    ):
        r = CliRunner(env={"LANG": lang}).invoke(
            cli, ["--home", str(ville), "eval", str(suite), "--out", out]
        )
        assert r.exit_code == 2 and r.output.startswith(said), r.output
        assert r.output.count("\n") == 1
    assert asked() == before


def test_a_report_says_what_narrowed_its_questions(ville: Path, tmp_path: Path) -> None:
    """A run of one question of one collection said "split all", in the table and in the
    report one publishes, as if the whole suite had been asked."""
    suite = write_suite(tmp_path / "ville.jsonl", SUITE)
    out = tmp_path / "quick"
    args = ["--home", str(ville), "eval", str(suite), "--collection", "ville", "--limit", "1"]
    en = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(cli, [*args, "--out", str(out)])
    assert en.exit_code == 0, en.output
    assert "Evaluation of ville (split all, collection ville, --limit 1), commit " in en.output
    report = json.loads((out / "report.json").read_text())
    assert (report["collection"], report["limit"], report["sample"]) == ("ville", 1, None)
    assert "split all, collection ville, --limit 1</h1>" in (out / "report.html").read_text()
    fr = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(
        cli, ["--home", str(ville), "eval", str(suite), "--split", "test", "--compare", str(out)]
    )
    assert fr.exit_code == 0, fr.output
    assert "Évaluation de ville (partie test), commit " in fr.output  # the whole test split
    assert "(toutes les parties, collection ville, --limit 1, commit " in fr.output
    # Compared with a run of another version of the suite: said, with that version's hash.
    sha = report["pins"]["suite"]["sha256"][:12]
    edited = write_suite(tmp_path / "ville.jsonl", SUITE[:3])
    en = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(
        cli, ["--home", str(ville), "eval", str(edited), "--split", "test", "--compare", str(out)]
    )
    assert en.exit_code == 0, en.output
    assert f"(suite ville {sha}, split all, collection ville, --limit 1, commit " in en.output


def test_two_runs_of_the_same_home_share_their_pins(ville: Path, tmp_path: Path) -> None:
    """The scores' pin hashed each kept run's energy per correct answer, which the charter
    never chooses by and every run measures afresh: no two reports ever shared their pins."""
    suite = write_suite(tmp_path / "ville.jsonl", SUITE)
    pinned = []
    for n in range(3):  # the second and third runs each find the previous run's scores
        out = tmp_path / f"run{n}"
        r = CliRunner().invoke(
            cli, ["--home", str(ville), "eval", str(suite), "--split", "test", "--out", str(out)]
        )
        assert r.exit_code == 0, r.output
        pinned.append(json.loads((out / "report.json").read_text())["pins"])
    assert pinned[1] == pinned[2]


def test_options_that_would_be_dropped_are_refused(ville: Path, tmp_path: Path) -> None:
    """--model without --mode generate, and --mode with --retrieval-only, were dropped without
    a word: the reader asked for a model's figures and read extraction's."""
    suite = write_suite(tmp_path / "ville.jsonl", SUITE)
    for args, english, french in (
        (["--model", "smollm2"], "add --mode generate", "ajoutez --mode generate"),
        (["--retrieval-only", "--mode", "auto"], "leave out --mode", "retirez --mode"),
    ):
        for lang, said in (("en_GB.UTF-8", english), ("fr_FR.UTF-8", french)):
            r = CliRunner(env={"LANG": lang}).invoke(
                cli, ["--home", str(ville), "eval", str(suite), "--limit", "1", *args]
            )
            assert r.exit_code == 2 and said in r.output, r.output


def test_report_load_rejects_other_json(tmp_path: Path) -> None:
    from commune.evaluation.report import load

    (tmp_path / "report.json").write_text('{"kind": "other"}')
    with pytest.raises(CommuneError, match="not a Commune evaluation report"):
        load(tmp_path)


def test_retrieval_only_and_sample(ville: Path, tmp_path: Path) -> None:
    suite = write_suite(tmp_path / "ville.jsonl", SUITE)
    out = tmp_path / "ret"
    r = CliRunner().invoke(
        cli,
        ["--home", str(ville), "eval", str(suite), "--retrieval-only", "--sample", "2"]
        + ["--out", str(out)],
    )
    assert r.exit_code == 0, r.output
    report = json.loads((out / "report.json").read_text())
    assert report["systems"] == [] and report["questions"] == {}
    # Two questions spread over four: the first and the third.
    assert report["metrics"]["all"]["questions"] == 2
    assert report["metrics"]["all"]["retrieval"]["hybrid"]["mrr@10"] is not None
    # Its rows name what they measure, as the HTML table does: they read "all  -".
    rows = [line.split()[:2] for line in r.output.splitlines() if line.startswith("all ")]
    assert rows == [["all", "retrieval"]], r.output
    fr = CliRunner().invoke(
        cli,
        ["--home", str(ville), "eval", str(suite), "--retrieval-only", "--sample", "2"],
        env={"LANG": "fr_FR.UTF-8"},
    )
    assert fr.exit_code == 0, fr.output
    rows = [line.split()[:2] for line in fr.output.splitlines() if line.startswith("tout ")]
    assert rows == [["tout", "recherche"]], fr.output
    r = CliRunner().invoke(cli, ["--home", str(ville), "eval", str(suite), "--sample", "0"])
    assert r.exit_code == 2 and "--sample" in r.output


def test_a_slice_follows_the_documents_a_question_names(
    home: Path, corpus: Path, tmp_path: Path
) -> None:
    """A French question on the French page of a collection mostly in English was put in the
    "fr→en" slice, a cross-language one, though its page was in its own language."""
    paths = [str(corpus / n) for n in ("dechets.html", "library.md", "pool.txt")]
    added = CliRunner().invoke(
        cli, ["--home", str(home), "add", *paths, "--collection", "ville", "--licence", "CC0-1.0"]
    )
    assert added.exit_code == 0, added.output
    suite = write_suite(tmp_path / "ville.jsonl", SUITE)
    out = tmp_path / "slices"
    r = CliRunner().invoke(
        cli,
        ["--home", str(home), "eval", str(suite), "--split", "test", "--retrieval-only"]
        + ["--out", str(out)],
    )
    assert r.exit_code == 0, r.output
    report = json.loads((out / "report.json").read_text())
    slices = {g: m["questions"] for g, m in report["metrics"].items() if g.startswith("slice ")}
    # collecte (French, on dechets.html, French) is in "fr"; library and volcano in "en"
    # (volcano names no document: its collection's main language, English).
    assert slices == {"slice fr": 1, "slice en": 2}, slices


def test_only_a_whole_test_split_keeps_scores_and_the_peers_are_never_asked(
    ville: Path, tmp_path: Path
) -> None:
    """A quick look must not switch the charter's choice for everyone; and the evaluation
    judges this home, so a federating home sends none of its questions to its peers."""
    import socket
    import threading

    from sqlalchemy import func, select

    from commune.core import Commune
    from commune.store.schema import eval_scores

    # A "peer" that only counts who connects to it.
    listener = socket.create_server(("127.0.0.1", 0))
    connections = []

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            connections.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    port = listener.getsockname()[1]
    (ville / "commune.toml").write_text("[peers]\nfederate = true\ntimeout_s = 1\n")
    add = CliRunner().invoke(
        cli,
        ["--home", str(ville), "peer", "add", "coop-b", f"http://127.0.0.1:{port}"]
        + ["--key", "cmn_abcdef12_" + "x" * 32],
    )
    assert add.exit_code == 0, add.output
    suite = write_suite(tmp_path / "ville.jsonl", SUITE)

    def scores() -> int:
        with Commune(ville) as c, c.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(eval_scores)).scalar_one())

    env = {"LANG": "en_GB.UTF-8"}
    for args in (["--limit", "1"], ["--sample", "2"], ["--split", "dev"]):
        r = CliRunner(env=env).invoke(cli, ["--home", str(ville), "eval", str(suite), *args])
        assert r.exit_code == 0, r.output
        assert "scores not kept" in r.output and scores() == 0
    r = CliRunner(env=env).invoke(cli, ["--home", str(ville), "eval", str(suite)])
    assert r.exit_code == 0, r.output
    assert "scores kept" in r.output and scores() > 0
    listener.close()
    assert connections == []


def test_the_pins_move_with_the_charter_and_the_second_embedders_reach(
    ville: Path, tmp_path: Path
) -> None:
    """A charter that refuses, or vectors `commune enrich` added, change the figures: two runs
    that differ by one of them must not share their pins."""
    from commune.core import Commune
    from commune.evaluation import load_suite

    suite = load_suite(write_suite(tmp_path / "ville.jsonl", SUITE))
    with Commune(ville) as c:
        before = c.pins(suite, [])
    (ville / "charter.toml").write_text(
        'version = "2"\n[[utility.refuse]]\nname = "t"\nwords = ["ordures"]\n'
        'message_fr = "non"\nmessage_en = "no"\n',
        encoding="utf-8",
    )
    with Commune(ville) as c:
        after = c.pins(suite, [])
        assert after["charter"]["version"] == "2"
    assert after["charter"] != before["charter"]
    assert after["scores_sha256"] == before["scores_sha256"]
    assert set(before["embeddings"]) == {"use-multilingual-v3"}


def test_an_invalid_suite_or_report_says_what_to_do(made_home: Path, tmp_path: Path) -> None:
    """``commune eval`` on a line that is not JSON, or --compare on a file that is not a
    report, named what was wrong (the parser's word) and said nothing of what to do."""
    suite = tmp_path / "questions.jsonl"
    suite.write_text('{"question": "Où jeter le verre ?"\n', encoding="utf-8")
    report = tmp_path / "report.json"
    report.write_text("{oops", encoding="utf-8")
    fr = CliRunner(env={"LANG": "fr_FR.UTF-8"})
    r = fr.invoke(cli, ["--home", str(made_home), "eval", str(suite)])
    assert r.exit_code == 2, r.output
    assert r.output == (
        "erreur\u00a0: questions.jsonl ligne 1\u00a0: JSON invalide (virgule attendue) "
        "(corrigez le fichier de la série comme le décrit docs/fr/evaluation.md, puis relancez "
        "commune eval)\n"
    )
    en = CliRunner(env={"LANG": "en_GB.UTF-8"})
    r = en.invoke(cli, ["--home", str(made_home), "eval", str(suite)])
    assert r.output.endswith(
        "(correct the suite file as docs/evaluation.md describes, then run commune eval again)\n"
    ), r.output
    r = fr.invoke(cli, ["--home", str(made_home), "eval", str(suite), "--compare", str(report)])
    assert r.exit_code == 2, r.output
    assert r.output.endswith(
        "(donnez à --compare le report.json qu'une évaluation précédente a écrit avec --out, "
        "ou ce dossier)\n"
    ), r.output
    report.write_text("[]", encoding="utf-8")
    r = en.invoke(cli, ["--home", str(made_home), "eval", str(suite), "--compare", str(report)])
    assert r.output.endswith(
        "is not a Commune evaluation report (give --compare the report.json an earlier "
        "commune eval --out wrote, or that directory)\n"
    ), r.output


def test_compare_with_a_report_of_another_format_stops_before_the_run(
    ville: Path, tmp_path: Path
) -> None:
    """--compare with a report an older commune eval wrote (no embedder in its pins, no
    pins at all) ran every question, then ended in a KeyError traceback."""
    suite = write_suite(tmp_path / "ville.jsonl", SUITE)
    out = tmp_path / "old"
    out.mkdir()
    for old, key in (
        ({"kind": "commune-eval", "created_at": "2025-01-01", "split": "test"}, "pins"),
        (
            {
                "kind": "commune-eval",
                "created_at": "2025-01-01",
                "split": "test",
                "pins": {"suite": {"name": "ville", "sha256": "ab"}, "commit": "c"},
                "metrics": {},
                "questions": {},
            },
            "pins.embedder",
        ),
    ):
        (out / "report.json").write_text(json.dumps(old))
        for lang, said in (
            ("en_GB.UTF-8", f"is a report of another version of commune eval: it has no {key} "),
            (
                "fr_FR.UTF-8",
                "est un rapport d'une autre version de commune eval\u00a0: il n'a pas de "
                f"{key} (relancez commune eval --out",
            ),
        ):
            r = CliRunner(env={"LANG": lang}).invoke(
                cli, ["--home", str(ville), "eval", str(suite), "--compare", str(out)]
            )
            assert r.exit_code == 2 and said in r.output, r.output
            assert r.output.count("\n") == 1 and "answers" not in r.output


def test_a_spreadsheets_slips_are_named_with_what_to_do(made_home: Path, tmp_path: Path) -> None:
    """A clerk's export said only the parser's word ("invalid JSON (Extra data)", "Expecting
    value"): a comma after each object, a comma before "}", lines in quotes, a JSON list, a
    CSV given by mistake. Each now says which slip it is, on which line, and what to do."""
    line = json.dumps(SUITE[0], ensure_ascii=False)
    cases = {
        "comma.jsonl": (
            line + ",\n",
            "comma.jsonl line 1: a comma after the object (remove it",
            "comma.jsonl ligne 1\u00a0: une virgule après l'objet (retirez-la",
        ),
        "trailing.jsonl": (
            line + "\n" + line.replace('"test"}', '"test",}') + "\n",
            "trailing.jsonl line 2: a comma after the last value of an object or a list",
            "trailing.jsonl ligne 2\u00a0: une virgule après la dernière valeur",
        ),
        "quoted.jsonl": (
            '"' + line.replace('"', '""') + '"\n',
            "quoted.jsonl line 1: the object is in quotes, as a spreadsheet exports a cell",
            "quoted.jsonl ligne 1\u00a0: l'objet est entre guillemets",
        ),
        "list.json": (
            "[\n" + line + "\n]\n",
            "list.json line 1: a JSON list, where each line should be one question",
            "list.json ligne 1\u00a0: une liste JSON",
        ),
        "questions.csv": (
            "id;question;language;collection\nq1;Quel jour ?;fr;ville\n",
            "questions.csv line 1: a spreadsheet's row (CSV), not a JSON object (write each "
            "question as one JSON object on a line of its own, as docs/evaluation.md shows)",
            "questions.csv ligne 1\u00a0: une ligne de tableur (CSV), pas un objet JSON "
            "(écrivez chaque question comme un objet JSON sur une ligne à part, comme le "
            "montre docs/fr/evaluation.md)",
        ),
    }
    for name, (text, english, french) in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        for lang, said in (("en_GB.UTF-8", english), ("fr_FR.UTF-8", french)):
            r = CliRunner(env={"LANG": lang}).invoke(
                cli, ["--home", str(made_home), "eval", str(tmp_path / name)]
            )
            assert r.exit_code == 2 and said in r.output, r.output
            assert r.output.count("\n") == 1


def test_facts_written_as_text_say_how_to_write_the_list(made_home: Path, tmp_path: Path) -> None:
    """ "facts": "mardi", a spreadsheet's cell, stopped on "'facts' must be a list" and the
    general hint: nothing said how to write it."""
    suite = write_suite(tmp_path / "mine.jsonl", [{**SUITE[0], "facts": "mardi"}])
    for lang, said in (
        (
            "en_GB.UTF-8",
            "error: mine.jsonl line 1: 'facts' is the text \"mardi\", where a list is needed "
            '(write "facts": ["mardi"], one string per fact)\n',
        ),
        (
            "fr_FR.UTF-8",
            "erreur\u00a0: mine.jsonl ligne 1\u00a0: 'facts' est le texte \"mardi\", là où il "
            'faut une liste (écrivez "facts": ["mardi"], un texte par fait)\n',
        ),
    ):
        r = CliRunner(env={"LANG": lang}).invoke(
            cli, ["--home", str(made_home), "eval", str(suite)]
        )
        assert r.exit_code == 2 and r.output == said, r.output


def test_the_report_says_what_each_ratio_was_taken_over(ville: Path, tmp_path: Path) -> None:
    """A question naming no document is left out of retrieval's figures, one listing no fact
    out of the facts': the table and report.html showed the ratios alone, so a reader could
    not tell 1.000 of two questions from 1.000 of all."""
    no_facts = {"id": "mairie", "question": "Où est la mairie ?", "language": "fr", "split": "test"}
    suite = write_suite(tmp_path / "ville.jsonl", [*SUITE, {**no_facts, "collection": "ville"}])
    out = tmp_path / "run"
    args = ["--home", str(ville), "eval", str(suite), "--split", "test", "--out", str(out)]
    en = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(cli, args)
    assert en.exit_code == 0, en.output
    report = json.loads((out / "report.json").read_text())
    split = {c.id: c.split for c in load_suite(suite).cases}
    test = [c for c in [*SUITE, no_facts] if split[c["id"]] == "test"]
    n = len(test)
    judged = sum(1 for c in test if c.get("documents"))
    with_facts = sum(1 for c in test if c.get("facts"))
    counts = report["counts"]["all"]
    assert (counts["questions"], counts["retrieval_judged"]) == (n, judged)
    assert counts["answers"]["extractive"]["fact_containment"][1] == with_facts
    assert f"\nall: {n} questions, retrieval over {judged}; extractive: facts " in en.output
    assert f"of {with_facts}, correct " in en.output
    assert "over the questions that name their documents" in en.output
    page = (out / "report.html").read_text()
    assert "<th>taken over</th>" in page
    assert f"<td>{judged} questions naming their documents</td>" in page
    correct = counts["answers"]["extractive"]["correct"]
    assert f"<td>{correct[0]} of {n} questions</td>" in page
    fr = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, args[:-2] + ["--retrieval-only"])
    assert fr.exit_code == 0, fr.output
    assert f"\ntout\u00a0: {n} questions, recherche sur {judged}\n" in fr.output
    assert "la recherche (MRR, nDCG@10, R@10) sur les questions qui nomment leurs" in fr.output


def test_report_html_is_in_the_readers_language(ville: Path, tmp_path: Path) -> None:
    """The terminal's table was French for a French reader, and report.html, the page one
    publishes to the cooperative, stayed English with decimal points."""
    suite = write_suite(tmp_path / "ville.jsonl", SUITE)
    out = tmp_path / "fr"
    args = ["--home", str(ville), "eval", str(suite), "--split", "test", "--out", str(out)]
    r = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, args)
    assert r.exit_code == 0, r.output
    page = (out / "report.html").read_text()
    assert (
        '<html lang="fr">' in page and "<h1>Évaluation de <code>ville</code>, partie test" in page
    )
    assert "<th>groupe</th><th>système</th><th>chiffre</th><th>valeur</th><th>sur</th>" in page
    report = json.loads((out / "report.json").read_text())
    correct = report["counts"]["all"]["answers"]["extractive"]["correct"]
    assert "<td>tout</td><td>extractive</td><td>justes</td><td>" in page
    assert f"<td>{correct[0]} sur {correct[1]} questions</td>" in page
    assert "Questions sans réponse juste" in page and "Evaluation of" not in page
    r = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(cli, args)
    assert r.exit_code == 0, r.output
    page = (out / "report.html").read_text()
    assert '<html lang="en">' in page and "<td>all</td><td>extractive</td><td>correct</td>" in page
    assert f"<td>{correct[0]} of {correct[1]} questions</td>" in page


def test_report_html_says_when_it_cuts_the_wrong_answers(
    ville: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """report.html listed the first 400 questions not answered correctly and said nothing of
    the others: a reader counting its rows took them for all."""
    from commune.evaluation import report as rep

    monkeypatch.setattr(rep, "WRONG_SHOWN", 1)
    wrong = [{**SUITE[1], "id": f"w{i}", "facts": [["zzz-never"]]} for i in range(3)]
    suite = write_suite(tmp_path / "ville.jsonl", wrong)
    for lang, said in (
        ("en_GB.UTF-8", "<p>The first 1 of 3; report.json holds every question.</p>"),
        ("fr_FR.UTF-8", "<p>Les 1 premières sur 3\u00a0; report.json garde toutes les questions."),
    ):
        out = tmp_path / lang
        r = CliRunner(env={"LANG": lang}).invoke(
            cli, ["--home", str(ville), "eval", str(suite), "--out", str(out)]
        )
        assert r.exit_code == 0, r.output
        page = (out / "report.html").read_text()
        assert said in page and page.count("<td>w") == 1


def test_a_duplicate_id_names_both_lines(made_home: Path, tmp_path: Path) -> None:
    """A duplicate id named the second line only: in a suite of 40 questions the clerk had
    to search for the first."""
    suite = write_suite(tmp_path / "mine.jsonl", [SUITE[0], SUITE[1], SUITE[0]])
    for lang, said in (
        (
            "en_GB.UTF-8",
            "error: mine.jsonl line 3: duplicate id 'collecte', first on line 1 (give each "
            "question an id of its own, or leave the id out)\n",
        ),
        (
            "fr_FR.UTF-8",
            "erreur\u00a0: mine.jsonl ligne 3\u00a0: identifiant 'collecte' en double, déjà à la "
            "ligne 1 (donnez à chaque question son propre identifiant, ou retirez "
            "l'identifiant)\n",
        ),
    ):
        r = CliRunner(env={"LANG": lang}).invoke(
            cli, ["--home", str(made_home), "eval", str(suite)]
        )
        assert r.exit_code == 2 and r.output == said, r.output


def test_a_collection_no_question_asks_about_names_those_they_do(
    made_home: Path, tmp_path: Path
) -> None:
    """--collection with a misspelt name said "check --split and --collection": nothing
    said which collections the suite's questions ask about."""
    suite = write_suite(tmp_path / "mine.jsonl", SUITE)
    for lang, said in (
        (
            "en_GB.UTF-8",
            "error: no question of mine matches --split all and --collection vile (its "
            "questions ask about ville)\n",
        ),
        (
            "fr_FR.UTF-8",
            "erreur\u00a0: aucune question de mine ne correspond à --split all et --collection "
            "vile (ses questions portent sur ville)\n",
        ),
    ):
        r = CliRunner(env={"LANG": lang}).invoke(
            cli, ["--home", str(made_home), "eval", str(suite), "--collection", "vile"]
        )
        assert r.exit_code == 2 and r.output == said, r.output


def test_a_suite_is_a_serie_in_every_french_line(made_home: Path, tmp_path: Path) -> None:
    """The French messages called the suite "la suite" here, "la série" there (the argument
    SÉRIE, "corrigez le fichier de la série"): a reader could think them two files."""
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(json.dumps(SUITE[0], ensure_ascii=False).encode("latin-1"))
    fr = CliRunner(env={"LANG": "fr_FR.UTF-8"})
    for path, said in (
        (tmp_path / "absent.jsonl", "erreur\u00a0: impossible de lire la série "),
        (latin, f"erreur\u00a0: {latin} n'est pas du texte UTF-8 (enregistrez la série en"),
    ):
        r = fr.invoke(cli, ["--home", str(made_home), "eval", str(path)])
        assert r.exit_code == 2 and r.output.startswith(said), r.output
        assert "la suite" not in r.output


def test_an_unknown_key_says_to_remove_it_or_use_note(made_home: Path, tmp_path: Path) -> None:
    """A spreadsheet's own column ("Auteur") stopped on "unknown key 'Auteur' (known keys:
    ...)": a list, and nothing said what to do with the column."""
    suite = write_suite(tmp_path / "mine.jsonl", [{**SUITE[0], "Auteur": "Marie"}])
    for lang, said in (
        ("en_GB.UTF-8", "unknown key 'Auteur' (remove it, or write its text in \"note\"; the "),
        ("fr_FR.UTF-8", "clé inconnue 'Auteur' (retirez-la, ou écrivez son texte dans \"note\""),
    ):
        r = CliRunner(env={"LANG": lang}).invoke(
            cli, ["--home", str(made_home), "eval", str(suite)]
        )
        assert r.exit_code == 2 and said in r.output, r.output
    write_suite(suite, [{**SUITE[0], "note": "Marie"}])
    assert [c.id for c in load_suite(suite).cases] == ["collecte"]


def test_compare_lists_as_changed_only_the_same_question(tmp_path: Path) -> None:
    """Compared with a report of another suite, or of a question reworded since, "q1" was
    said to have become correct though it was not the question answered before."""
    from commune.evaluation.report import changed_answers

    def run(question: str, correct: bool) -> dict:
        return {
            "questions": {"extractive": [{"id": "q1", "question": question, "correct": correct}]}
        }

    now = run("Quel jour passe la collecte ?", True)
    assert changed_answers(now, run("Quel jour passe la collecte ?", False)) == [
        "extractive: 1 now correct (q1); 0 no longer correct ()"
    ]
    assert changed_answers(now, run("Où est la piscine ?", False)) == []
