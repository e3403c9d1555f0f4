"""The claim check: a cited sentence keeps its passage's numbers, dates, negations and names."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from commune.answering.claims import claims, contradictions, dates, entities, negated, numbers
from commune.answering.grounding import verify

ROOT = Path(__file__).resolve().parent.parent
PAIRS = Path(__file__).resolve().parent / "claims_pairs.json"


def reasons(sentence: str, passage: str, lang: str) -> list[str]:
    return [str(c) for c in contradictions(sentence, [passage], lang, [2])]


# -- reading ------------------------------------------------------------------------------------


def test_numbers_in_their_french_and_english_forms() -> None:
    read = {
        n.written: (n.values, n.unit) for n in numbers("1 500 €, 5 %, 1,5 fois, 15 jours, deux ans")
    }
    assert read["1 500"] == (frozenset({"1500"}), "euro")
    assert read["5"] == (frozenset({"5"}), "percent")
    assert read["1,5"] == (frozenset({"1.5"}), None)
    assert read["15"] == (frozenset({"15"}), "day")
    assert read["deux"] == (frozenset({"2"}), "year")
    assert {n.written for n in numbers("three days, twenty-five hours")} == {"three", "twenty-five"}
    assert [n.values for n in numbers("version 2.6.32 on 192.168.0.1")] == [
        {"2.6.32"},
        {"192.168.0.1"},
    ]
    assert not numbers("sha256 and x86_64")  # digits inside a name are the name's


def test_dates_in_both_languages() -> None:
    (d,), _ = dates("avant le 12 mars 2024", "fr")
    assert (d.year, d.month, d.day) == (2024, 3, 12)
    (d,), _ = dates("before March 12, 2024", "en")
    assert (d.year, d.month, d.day) == (2024, 3, 12)
    (d,), _ = dates("le 2024-03-12", "fr")
    assert (d.year, d.month, d.day) == (2024, 3, 12)
    (d,), _ = dates("le mardi", "fr")
    assert d.weekday == 2
    assert not dates("you may install it", "en")[0]  # "may" alone is a verb


def test_negations_in_both_languages() -> None:
    assert negated("Elle n'est pas gratuite.", "fr")
    assert negated("Vous ne pouvez plus le faire.", "fr")
    assert negated("sans justificatif", "fr")
    assert not negated("Il n'est délivré qu'aux majeurs.", "fr")  # "ne ... que" means only
    assert not negated("Elle est gratuite.", "fr")
    assert negated("It does not handle it.", "en") and negated("You can't.", "en")
    assert negated("It never stops.", "en")
    assert not negated("It stops.", "en")


def test_names_acronyms_and_code() -> None:
    found = entities(
        "Vous devez écrire à la MSA ou au Conseil d'État depuis /etc/apt/sources.list."
    )
    assert {"MSA", "Conseil d'État", "/etc/apt/sources.list"} <= set(found)
    assert "Vous" not in found  # the capital of the sentence, not a name
    assert "--force" in entities("Use the --force option of dpkg.")
    assert "Debian Project" in entities("It is run by the Debian Project.")


def test_claims_of_a_sentence() -> None:
    c = claims("La CAF verse 150 € le 5 mars [1].", "fr")
    assert [n.written for n in c.numbers] == ["150"]  # the 5 is the date's
    assert [d.written for d in c.dates] == ["5 mars"]
    assert c.entities == ("CAF",) and not c.negated


# -- the rules ----------------------------------------------------------------------------------

FR = "Vous devez déposer la demande dans les 15 jours auprès de la CAF, avant le 12 mars 2024."
EN = "You must not run apt-get upgrade on the Debian server before March 12, 2024; allow 2 hours."


def test_a_changed_number_is_rejected_with_its_reason() -> None:
    assert reasons("Déposez la demande dans les 30 jours auprès de la CAF.", FR, "fr") == [
        "number 30 not in [2]"
    ]
    assert reasons("Allow 3 hours.", EN, "en") == ["number 3 not in [2]"]
    assert reasons("Déposez la demande dans les quinze jours auprès de la CAF.", FR, "fr") == []
    assert reasons("Allow two hours.", EN, "en") == []
    # The same number in another unit is another claim.
    assert reasons("Vous avez 15 mois.", FR, "fr") == ["number 15 month not in [2] (day)"]


def test_a_shifted_date_is_rejected() -> None:
    assert reasons("Déposez-la avant le 13 mars 2024 auprès de la CAF.", FR, "fr") == [
        "date 13 mars 2024 not in [2]"
    ]
    assert reasons("Do not run apt-get upgrade before April 12.", EN, "en") == [
        "date April 12 not in [2]"
    ]
    assert reasons("Déposez-la auprès de la CAF avant le 12/03/2024.", FR, "fr") == []
    assert reasons("Do not run apt-get upgrade before 12 March 2024.", EN, "en") == []


def test_a_flipped_negation_is_rejected_either_way() -> None:
    assert reasons("Vous ne devez pas déposer la demande auprès de la CAF.", FR, "fr") == [
        "adds a negation of [2]"
    ]
    assert reasons("You must run apt-get upgrade on the Debian server.", EN, "en") == [
        "drops the negation of [2]"
    ]
    assert reasons("You should not run apt-get upgrade on the Debian server.", EN, "en") == []


def test_a_replaced_name_is_rejected() -> None:
    assert reasons("Déposez la demande auprès de la MSA.", FR, "fr") == ["name MSA not in [2]"]
    assert reasons("You must not run apt-get upgrade on the Ubuntu server.", EN, "en") == [
        "name Ubuntu not in [2]"
    ]


def test_the_gate_removes_a_changed_sentence_without_echoing_it() -> None:
    v = verify(
        "Vous devez déposer la demande dans les 15 jours [1]. "
        "Vous devez déposer la demande dans les 15 jours auprès de la MSA [1].",
        1,
        [FR],
        "fr",
    )
    assert [s["text"] for s in v.sentences] == [
        "Vous devez déposer la demande dans les 15 jours [1]."
    ]
    assert v.problems == ["a sentence that does not match passage(s) [1] (name) was removed"]
    assert "MSA" not in " ".join(v.problems)


# -- a value the passage holds, said of something else --------------------------------------------

PASSPORT = (
    "Le passeport d'un adulte coûte 86 € et il est valable 10 ans. "
    "Le passeport d'un mineur de 15 ans ou plus coûte 42 €. "
    "Pour un mineur de moins de 15 ans, il coûte 17 € et il est valable 5 ans. "
    "Le dossier est déposé à la mairie, la Caf n'intervient pas."
)


def test_a_number_of_the_passage_said_of_something_else_is_refused() -> None:
    # Each value occurs in the passage: before, only its absence was caught. The reason says
    # so, never "not in [2]", which the reader of [2] finds false.
    assert reasons("Le passeport d'un mineur de 15 ans ou plus coûte 86 €.", PASSPORT, "fr") == [
        "number 86 said of something else in [2]"
    ]
    assert reasons("Le passeport d'un adulte est valable 5 ans.", PASSPORT, "fr") == [
        "number 5 said of something else in [2]"
    ]


def test_a_name_of_the_passage_said_of_something_else_is_refused() -> None:
    passage = (
        "Each email has at least one recipient, announced with the RCPT TO command. "
        "The sender is announced with the MAIL FROM command."
    )
    found = reasons(
        "Each email has at least one recipient, announced with the MAIL FROM command.",
        passage,
        "en",
    )
    assert found == ["name MAIL FROM said of something else in [2]"]


def test_values_beside_their_own_words_are_kept() -> None:
    # Two of the passage's sentences joined by a bare "et": each value stands beside its own.
    joined = (
        "Le passeport d'un adulte coûte 86 € et pour un mineur de moins de 15 ans, il coûte 17 €."
    )
    assert reasons(joined, PASSPORT, "fr") == []
    assert reasons("Un passeport de mineur de 15 ans ou plus coûte 42 €.", PASSPORT, "fr") == []
    # Words that restate no sentence of the passage are left to the other rules.
    assert not any("something else" in r for r in reasons("Comptez 86 €.", PASSPORT, "fr"))


def test_a_name_written_for_the_pronoun_that_stands_for_it_is_kept() -> None:
    # The passage says "Il" / "It" for the name of the sentence before; a model that quotes the
    # second sentence alone writes the name. Only in the pronoun's place: a name of the
    # sentence before written among the second one's words is still said of something else.
    bios = (
        "Le BIOS (ou l'UEFI) est également responsable de l'initialisation et de la détection "
        "d'un certain nombre de périphériques. Il détecte bien entendu les périphériques "
        "IDE/SATA (disques durs et lecteurs de CD-Roms/DVD-Roms), mais souvent aussi les "
        "périphériques PCI."
    )
    written = (
        "Le BIOS détecte bien entendu les périphériques IDE/SATA (disques durs et lecteurs de "
        "CD-Roms/DVD-Roms), mais souvent aussi les périphériques PCI."
    )
    assert reasons(written, bios, "fr") == []
    spf = (
        "The Sender Policy Framework (SPF) is used to validate if a certain mail server is "
        "allowed to send emails for a given domain. It is mostly configured through DNS."
    )
    assert reasons("SPF is mostly configured through DNS.", spf, "en") == []
    assert reasons("It is mostly configured through SPF.", spf, "en") == [
        "name SPF said of something else in [2]"
    ]


def test_a_number_labelling_what_follows_it_is_beside_its_words() -> None:
    # The handbook's "Example 6.1." is cut from its caption by the full stop: the number stood
    # alone, and a sentence naming the example was removed.
    passage = (
        "For a complete description of the file format and the accepted entry compositions see "
        "sources.list(5).\n\nExample 6.1. Example entry format in /etc/apt/sources.list\n\n"
        "deb url distribution component1 component2 component3 [..] componentX"
    )
    sentence = "Example 6.1 gives the entry format in /etc/apt/sources.list."
    assert reasons(sentence, passage, "en") == []
    french = passage.replace("Example 6.1. Example entry format", "Exemple 6.1. Format d'entrée")
    sentence = "L'exemple 6.1 montre le format d'entrée de /etc/apt/sources.list."
    assert reasons(sentence, french, "fr") == []


def test_a_sentence_citing_each_part_keeps_each_value_beside_its_part() -> None:
    # "X [1], Y [2].": the model says which passage each part rests on; the words of the part
    # about the passport said nothing of the identity card's 15 years.
    card = "La carte d'identité est gratuite. Elle est valable 15 ans pour un majeur."
    sentence = (
        "Le passeport d'un adulte coûte 86 € [1], la carte d'identité est valable 15 ans pour "
        "un majeur [2]."
    )
    shown = verify(sentence, 2, [PASSPORT, card], "fr")
    assert shown.text == sentence and not shown.problems
    # Each part is still read beside its own words.
    wrong = sentence.replace("86 €", "42 €")
    assert [str(c) for c in contradictions(wrong, [PASSPORT, card], "fr", [1, 2])] == [
        "number 42 said of something else in [1][2]"
    ]


# -- the committed fixture and the bench's report ------------------------------------------------


def fixture() -> list[dict[str, object]]:
    return list(json.loads(PAIRS.read_text(encoding="utf-8")))


@pytest.mark.parametrize("pair", fixture(), ids=lambda p: f"{p['lang']}-{p['kind']}")
def test_fixture_pairs(pair: dict[str, object]) -> None:
    found = contradictions(str(pair["sentence"]), [str(pair["passage"])], str(pair["lang"]))
    assert bool(found) != pair["faithful"], [str(c) for c in found]


def test_the_bench_writes_the_report_it_prints(tmp_path: Path) -> None:
    out = tmp_path / "check.json"
    run = subprocess.run(
        [sys.executable, "bench/perturb.py", "--pairs", str(PAIRS), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(out.read_text(encoding="utf-8"))
    assert set(report) >= {"seed", "measure", "test", "dev", "test_misses"}
    seen = 0
    for split in ("dev", "test"):
        t = report[split]
        for side in ("perturbed", "faithful"):
            for langs in t[side].values():
                for row in langs.values():
                    assert set(row) == {"total", "claims", "gate"}
                    assert 0 <= row["claims"] <= row["total"] and 0 <= row["gate"] <= row["total"]
                    seen += row["total"]
            assert t[side + "_all"]["total"] == sum(
                r["total"] for langs in t[side].values() for r in langs.values()
            )
    assert seen == len(fixture())
    # Every fixture pair is judged as the test above judges it.
    for split in ("dev", "test"):
        for side in ("perturbed", "faithful"):
            a = report[split][side + "_all"]
            assert a["claims"] == a["total"]
    assert "perturbed rejected" in run.stdout


def test_the_committed_report_holds_the_measured_figures() -> None:
    report = json.loads((ROOT / "bench/results/citation_check.json").read_text(encoding="utf-8"))
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import perturb
    finally:
        sys.path.remove(str(ROOT / "bench"))
    assert report["code_sha256"] == perturb.code_hash(), (
        f"bench/results/citation_check.json was measured on other code than {report['pinned']}:"
        " refresh it with `python bench/perturb.py` (the corpora: see bench/README.md)"
    )
    test = report["test"]
    assert test["perturbed_all"]["total"] >= 250 and test["faithful_all"]["total"] >= 100
    for side in ("perturbed", "faithful"):
        a = test[side + "_all"]
        assert a["gate_rate"] == round(a["gate"] / a["total"], 3)
        assert a["claims_rate"] == round(a["claims"] / a["total"], 3)


def test_the_report_pins_every_module_that_reads_or_judges_its_text() -> None:
    """A reader's change changes the pairs: the report pins the readers, the chunker and the
    analyser as well as the check, and a new module is pinned or said to shape nothing."""
    script = (
        "import ast, importlib, sys\n"
        "sys.path.insert(0, 'bench')\n"
        "import perturb\n"
        "tree = ast.parse(open('bench/perturb.py', encoding='utf-8').read())\n"
        "for node in ast.walk(tree):\n"
        "    if isinstance(node, ast.ImportFrom) and (node.module or '').startswith('commune'):\n"
        "        importlib.import_module(node.module)\n"
        "print('\\n'.join(sorted(m.__file__ for n, m in sys.modules.items()\n"
        "    if n.startswith('commune') and getattr(m, '__file__', None))))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import perturb
    finally:
        sys.path.remove(str(ROOT / "bench"))
    shaping = ("src/commune/answering/", "src/commune/ingest/", "src/commune/text/")
    loaded = {str(Path(f).resolve().relative_to(ROOT)) for f in run.stdout.split()}
    unpinned = {
        f
        for f in loaded
        if f.startswith(shaping) and f not in perturb.PINNED and f not in perturb.PINNED_NOT
    }
    assert not unpinned, f"add to bench/perturb.py's PINNED (or PINNED_NOT, with why): {unpinned}"
    assert set(perturb.PINNED_NOT) <= loaded | {"src/commune/__init__.py"}


def test_a_sentence_of_many_numbers_over_a_long_passage_is_judged_at_once() -> None:
    # A table run into one 5,000-word passage, and a sentence quoting sixty of its figures, or
    # all of them: the gate judges each sentence while the model streams, not in seconds.
    table = " ".join(f"ligne {i} tarif {i * 3} € durée {i % 12} mois" for i in range(700))
    for sentence in (" ".join(table.split()[:180]) + ".", table + "."):
        started = time.process_time()  # its own work: the machine may be busy
        assert contradictions(sentence, [table], "fr", [1]) == []
        assert time.process_time() - started < 1.0
