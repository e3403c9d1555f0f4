"""The instrument cannot leak: splits by document group, facts on word boundaries, and
committed references that match the suite and the code they claim (issue 20, part 1)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from commune.evaluation import load_suite
from commune.evaluation.metrics import contains_fact, contains_facts, unit_of
from commune.evaluation.pins import code_hash, stale
from commune.evaluation.suite import Case, SuiteError, assign_splits, document_groups, id_stem
from commune.text.messages import from_environment, localise

ROOT = Path(__file__).resolve().parent.parent
SUITES = ROOT / "eval" / "suites"
REPORTS = ROOT / "eval" / "reports"
# Each committed reference and the suite it reports on; the message that asks to refresh them
# (evaluation/pins.stale) says how long `make eval` takes.
# The held-out suites (Debian's French manual pages; fiches no other suite questions) are
# asked whole: no model or threshold was chosen on them.
REFERENCES = {
    "reference-test": ("debian.jsonl", "test"),
    "reference-fiches-test": ("fiches.jsonl", "test"),
    "reference-manpages-all": ("manpages.jsonl", "all"),
    "reference-fiches-heldout-all": ("fiches-heldout.jsonl", "all"),
}
# Said in the reader's language, as the CLI says it (the locale variables: French unless
# they say English), through the library's catalogues.
LANGUAGE = from_environment(os.environ)


def case(**kw) -> Case:  # type: ignore[no-untyped-def]
    base = {"id": "q", "question": "?", "language": "en", "collection": "c"}
    return Case(**{**base, **kw})


# -- the split by document group ------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["debian.jsonl", "fiches.jsonl", "manpages.jsonl", "fiches-heldout.jsonl"]
)
def test_no_document_or_translation_is_shared_across_splits(name: str) -> None:
    suite = load_suite(SUITES / name)
    assert {c.split for c in suite.cases} == {"dev", "test"}
    links: dict[str, set[str]] = defaultdict(set)  # what must not cross -> splits seen
    for c in suite.cases:
        for doc in c.documents:
            links[f"document {doc}"].add(str(c.split))
        twin = re.match(r"^(.+)-(?:fr|en)$", c.id)
        if twin:
            links[f"translations {twin[1]}-fr/-en"].add(str(c.split))
        if c.unanswerable:
            links[f"translations {id_stem(c.id)}"].add(str(c.split))
        links[f"question {c.question.casefold()}"].add(str(c.split))
        if c.documents:  # translations in the Debian suite: same documents and same facts
            links[f"facts {sorted(c.documents)} {sorted(map(sorted, c.facts))}"].add(str(c.split))
    shared = sorted(what for what, splits in links.items() if len(splits) > 1)
    assert not shared, f"{name}: in both splits: {shared[:5]}"


@pytest.mark.parametrize("name", ["debian.jsonl", "fiches.jsonl"])
def test_the_split_is_stable_and_balanced(name: str) -> None:
    suite = load_suite(SUITES / name)
    again = load_suite(SUITES / name)
    assert [c.split for c in suite.cases] == [c.split for c in again.cases]
    # The order of the lines does not matter, only the groups.
    unsplit = [Case(**{**c.__dict__, "split": None}) for c in suite.cases]
    random.Random(7).shuffle(unsplit)
    shuffled = {c.id: c.split for c in assign_splits(unsplit)}
    assert shuffled == {c.id: c.split for c in suite.cases}
    test = suite.select("test")
    assert 0.35 <= len(test) / len(suite.cases) <= 0.65
    # The test split keeps every kind of question: both languages, and unanswerable ones.
    assert {c.language for c in test} == {"fr", "en"}
    assert sum(c.unanswerable for c in test) >= 10
    assert len(set(document_groups(suite.cases).values())) >= 100


def test_a_written_split_must_agree_with_its_group() -> None:
    a = case(id="a", documents=("page.html",), split="test")
    b = case(id="b", documents=("page.html",), split="dev")
    with pytest.raises(SuiteError, match="'a' \\(test\\) and 'b' \\(dev\\).*page.html"):
        assign_splits([a, b], "mine.jsonl")
    # One written split decides for its whole group; translations are one group.
    c = case(id="c", documents=("page.html",))
    twins = [case(id="x-007-fr", language="fr", documents=("o.html",)), case(id="x-007-en")]
    out = {x.id: x.split for x in assign_splits([a, c, *twins])}
    assert out["c"] == "test" and out["x-007-fr"] == out["x-007-en"]
    un = [
        case(id="unanswerable-fr-002", language="fr", unanswerable=True),
        case(id="unanswerable-en-002", unanswerable=True),
    ]
    groups = document_groups(un)
    assert groups["unanswerable-fr-002"] == groups["unanswerable-en-002"]


def test_a_suite_file_that_leaks_is_refused(tmp_path: Path) -> None:
    lines = [
        {"id": "a", "question": "q1", "language": "fr", "collection": "c", "split": "dev"},
        {"id": "b", "question": "q1", "language": "fr", "collection": "d", "split": "test"},
    ]
    path = tmp_path / "leak.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    with pytest.raises(SuiteError, match="leak.jsonl: 'a' \\(dev\\) and 'b' \\(test\\)"):
        load_suite(path)


# -- facts on word boundaries ---------------------------------------------------------------
def test_facts_match_on_word_boundaries() -> None:
    assert not contains_fact("Use ssh to log in.", "ss")
    assert contains_fact("Run `ss -tlnp` to list sockets.", "ss")
    assert not contains_fact("See the additional notes.", "dd")
    assert contains_fact("Copy the image with dd.", "dd")
    assert not contains_fact("Vous avez 15 jours.", "5 jours")
    assert contains_fact("Vous avez 5\u00a0jours.", "5 jours")
    # An edge that is not a word character needs no boundary there.
    assert contains_fact("Edit /etc/apt/sources.list, then update.", "/etc/apt/sources.list")
    assert contains_fact("Voir /etc/apt/sources.list.d/", "/etc/apt/sources.list")
    assert contains_fact("Une amende de 3\u202f750\u00a0€.", "3 750 €")
    assert contains_fact("Prix : 25€", "€")
    assert contains_fact("Le formulaire cerfa n°12345*03.", "cerfa n°12345")
    assert not contains_fact("Le formulaire cerfa n°123456.", "cerfa n°12345")
    assert contains_fact("C\u2019est l\u2019état civil.", "l'état civil")
    assert contains_fact("Tapez APT  UPDATE.", "apt update")
    # Alternatives are kept: one of each fact.
    assert contains_facts("Use ss or lsof.", [["netstat", "ss"], ["lsof"]])
    assert not contains_facts("Use ssh or lsof.", [["netstat", "ss"], ["lsof"]])


def test_a_fiche_address_names_its_document() -> None:
    c = case(documents=("F961.json",))
    assert unit_of(c, "https://www.service-public.fr/particuliers/vosdroits/F961", "") == "d0"
    assert unit_of(c, "https://www.service-public.fr/particuliers/vosdroits/F9610", "") is None
    assert unit_of(c, "file:///x/F961.json", "") == "d0"
    assert unit_of(case(documents=("sect.apt-get.html",)), "https://x/sect.apt-get", "") == "d0"


# -- committed references -------------------------------------------------------------------
def test_the_code_hash_follows_the_code_not_the_faces(tmp_path: Path) -> None:
    pkg = tmp_path / "commune"
    (pkg / "answering").mkdir(parents=True)
    (pkg / "web").mkdir()
    (pkg / "answering" / "answer.py").write_text("A = 1\n")
    (pkg / "answering" / "answer_model.json").write_text("{}")
    (pkg / "web" / "pages.py").write_text("P = 1\n")
    first = code_hash(pkg)
    (pkg / "web" / "pages.py").write_text("P = 2\n")
    (pkg / "answering" / "__pycache__").mkdir()
    (pkg / "answering" / "__pycache__" / "answer.cpython-312.pyc").write_bytes(b"x")
    assert code_hash(pkg) == first
    (pkg / "answering" / "answer_model.json").write_text('{"w": 1}')
    assert code_hash(pkg) != first


def test_only_regenerated_reports_are_committed() -> None:
    committed = sorted(p.name for p in REPORTS.iterdir())
    extra = [f"eval/reports/{name}" for name in committed if name not in REFERENCES]
    # Said as the stale references are: in the reader's language, with what to do. One
    # REFERENCES names but eval/reports/ lacks is test_committed_reference_matches's.
    assert not extra, localise(
        f"eval/reports/ holds {', '.join(extra)}, which scripts/eval.sh does not write "
        "(delete it, or make scripts/eval.sh write it and name it in REFERENCES "
        "(tests/test_instrument.py))",
        LANGUAGE,
    )


def test_a_stale_reference_is_said_in_the_readers_language() -> None:
    """`make test` said a stale reference, and how to refresh it, in English only."""
    where = "eval/reports/reference-test"
    hint = (
        "(validez vos modifications (git commit), puis refaites les références\u00a0: `make "
        "eval EVAL_UPDATE=1` (quelques minutes une fois eval-data/ construit, environ 25 de "
        "plus la première fois), et validez eval/reports/)"
    )
    said = {
        f"{where}/report.json is missing": f"il manque {where}/report.json",
        f"{where} was made from another version of eval/suites/debian.jsonl": (
            f"la référence {where} a été faite sur une autre version de eval/suites/debian.jsonl"
        ),
        f"{where} was made by other code (code_sha256 a79aa5ce7564, this tree's is "
        "7bdcd1a56530): its figures may no longer be this code's": (
            f"la référence {where} a été faite par un autre code (code_sha256 a79aa5ce7564, "
            "celui de cet arbre est 7bdcd1a56530)\u00a0: ses chiffres ne sont peut-être plus "
            "ceux de ce code"
        ),
        f"{where} was made from a tree with uncommitted changes": (
            f"la référence {where} a été faite dans un arbre aux modifications pas encore "
            "validées par git commit"
        ),
        f"{where} (extractive) asked other questions than the test split": (
            f"la référence {where} (extractive) a posé d'autres questions que celles de la "
            "partie test"
        ),
    }
    for why, french in said.items():
        assert stale(why, "fr") == f"{french} {hint}"
        assert stale(why, "en") == f"{why} (commit your changes, then refresh the references: " + (
            "`make eval EVAL_UPDATE=1` (a few minutes once eval-data/ is built, about 25 more "
            "the first time), and commit eval/reports/)"
        )


def test_a_reference_of_another_split_and_an_unwritten_report_are_said_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two more ways `make test` finds eval/reports/ wrong, which docs/evaluation.md says are
    told in the reader's language with what to do: a reference made on another split said
    only its path, and a report no command writes was said in English only."""
    module = sys.modules[__name__]
    reports = tmp_path / "reports"
    (reports / "reference-test").mkdir(parents=True)
    made = json.loads((REPORTS / "reference-test" / "report.json").read_text(encoding="utf-8"))
    made["split"] = "dev"
    (reports / "reference-test" / "report.json").write_text(json.dumps(made), encoding="utf-8")
    (reports / "latest").mkdir()
    monkeypatch.setattr(module, "REPORTS", reports)
    monkeypatch.setattr(module, "LANGUAGE", "fr")
    with pytest.raises(AssertionError) as split:
        test_committed_reference_matches_its_suite_and_code("reference-test")
    assert str(split.value).splitlines()[0] == (
        "la référence eval/reports/reference-test porte sur debian, partie dev, et non sur "
        "debian, partie test (validez vos modifications (git commit), puis refaites les "
        "références\u00a0: `make eval EVAL_UPDATE=1` (quelques minutes une fois eval-data/ "
        "construit, environ 25 de plus la première fois), et validez eval/reports/)"
    )
    with pytest.raises(AssertionError) as unwritten:
        test_only_regenerated_reports_are_committed()
    assert str(unwritten.value).splitlines()[0] == (
        "eval/reports/ contient eval/reports/latest, que scripts/eval.sh n'écrit pas "
        "(supprimez-le, ou faites-le écrire par scripts/eval.sh et nommez-le dans REFERENCES "
        "(tests/test_instrument.py))"
    )
    monkeypatch.setattr(module, "LANGUAGE", "en")
    with pytest.raises(AssertionError) as unwritten:
        test_only_regenerated_reports_are_committed()
    assert str(unwritten.value).splitlines()[0] == (
        "eval/reports/ holds eval/reports/latest, which scripts/eval.sh does not write (delete "
        "it, or make scripts/eval.sh write it and name it in REFERENCES "
        "(tests/test_instrument.py))"
    )


@pytest.mark.parametrize("reference", sorted(REFERENCES))
def test_committed_reference_matches_its_suite_and_code(reference: str) -> None:
    path = REPORTS / reference / "report.json"
    assert path.is_file(), stale(f"{path.relative_to(ROOT)} is missing", LANGUAGE)
    report = json.loads(path.read_text(encoding="utf-8"))
    pins = report["pins"]
    name, split = REFERENCES[reference]
    suite_path = SUITES / name
    suite = load_suite(suite_path)
    where = f"eval/reports/{reference}"
    assert pins["suite"]["name"] == suite.name and report["split"] == split, stale(
        f"{where} reports on {pins['suite']['name']}, split {report['split']}, not on "
        f"{suite.name}, split {split}",
        LANGUAGE,
    )
    assert pins["suite"]["sha256"] == hashlib.sha256(suite_path.read_bytes()).hexdigest(), stale(
        f"{where} was made from another version of eval/suites/{suite_path.name}", LANGUAGE
    )
    made_by, now = pins.get("code_sha256"), code_hash(ROOT / "src" / "commune")
    assert made_by == now, stale(
        f"{where} was made by other code (code_sha256 {str(made_by)[:12]}, this tree's is "
        f"{now[:12]}): its figures may no longer be this code's",
        LANGUAGE,
    )
    assert not str(pins.get("commit")).endswith("-dirty"), stale(
        f"{where} was made from a tree with uncommitted changes", LANGUAGE
    )
    # It reports on its split as this code assigns it: every question, no other.
    asked = suite.select(None if split == "all" else split)
    for system, questions in report["questions"].items():
        assert sorted(q["id"] for q in questions) == sorted(c.id for c in asked), stale(
            f"{where} ({system}) asked other questions than the {split} split", LANGUAGE
        )


# The split table of docs/evaluation.md, suite by suite: the reference that reports its test split.
SPLIT_TABLE = {"debian.jsonl": "reference-test", "fiches.jsonl": "reference-fiches-test"}


@pytest.mark.parametrize("suite", sorted(SPLIT_TABLE))
def test_the_split_table_counts_each_slice_as_the_reference_does(suite: str) -> None:
    """docs/evaluation.md gave the Debian test split as fr 156, fr→en 24, en→fr 44 questions
    when a slice followed the collection; now that it follows the page a question names
    (runner.case_slices), 41 French questions on pages the French editions left in English are
    fr→en. The table says what the committed reference counts, slice by slice."""
    docs = (ROOT / "docs" / "evaluation.md").read_text(encoding="utf-8")
    row = re.search(rf"^\| `{re.escape(suite)}` \| (.+) \|$", docs, re.M)
    assert row, f"docs/evaluation.md has no row for {suite} in its split table"
    _, _, test, slices, unanswerable = (cell.strip() for cell in row.group(1).split("|"))
    said = [0 if n == "–" else int(n) for n in slices.split(" / ")]
    report = json.loads((REPORTS / SPLIT_TABLE[suite] / "report.json").read_text("utf-8"))
    questions = next(iter(report["questions"].values()))
    counted = [sum(q["slice"] == s for q in questions) for s in ("fr", "en", "fr→en", "en→fr")]
    assert (int(test), said, int(unanswerable)) == (
        len(questions),
        counted,
        sum(bool(q["unanswerable"]) for q in questions),
    ), f"docs/evaluation.md's split table, {suite}: the reference counts {counted}"
