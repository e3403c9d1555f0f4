"""French typography in what French readers read: a no-break space before « : ; ? ! » and
inside « » (text/typography.py says which space and why), on every page and in every
library message, and never in code, numbers, addresses, English, or quoted documents."""

from __future__ import annotations

import re

import pytest

from commune.text.typography import NBSP, ORDINARY_SPACE, french
from tests.conftest import make_person


def _bad(text: str) -> list[str]:
    """Each place where ``text`` has an ordinary space French wants no-break, in context."""
    return [text[max(0, m.start() - 40) : m.end() + 10] for m in ORDINARY_SPACE.finditer(text)]


def test_the_rule_spaces_french_marks_and_leaves_code_numbers_and_addresses() -> None:
    assert french("Sources : a ; b ? c ! « mot »") == (
        f"Sources{NBSP}: a{NBSP}; b{NBSP}? c{NBSP}! «{NBSP}mot{NBSP}»"
    )
    assert french("(numérisées ?) : 1") == f"(numérisées{NBSP}?){NBSP}: 1"
    assert french("Quoi ?!") == f"Quoi{NBSP}?!"
    assert french("%(file)s : vide") == f"%(file)s{NBSP}: vide"
    for kept in (
        "à 10:30, le 2026-12-01T10:30",
        "ouvrez http://127.0.0.1:8000/ask?q=verre",
        "/ask ?q=verre, a != b, sqlite :memory:",
        "Authorization: Bearer",
        "Sources: English keeps its colon",
        f"déjà{NBSP}: fait",
    ):
        assert french(kept) == kept


def test_every_french_message_of_the_pages_catalogue_is_spaced() -> None:
    from commune.web import i18n

    catalogue = i18n.catalogue("fr")
    # Each msgstr, plural forms too (keyed (msgid, n)); the header (msgid "") is no text.
    said = [str(s) for k, s in catalogue._catalog.items() if (k[0] if isinstance(k, tuple) else k)]
    assert len(said) > 400
    bad = [b for s in said for b in _bad(s)]
    assert not bad, "ordinary spaces before French marks:\n" + "\n".join(bad)
    assert ORDINARY_SPACE.search(i18n.catalogue("en").gettext("Sources: %(n)s")) is None


def test_every_exact_library_message_is_spaced_in_french_only() -> None:
    from commune.text.messages import EXACT, localise

    bad = [b for english in EXACT for b in _bad(localise(english, "fr"))]
    assert not bad, "ordinary spaces before French marks:\n" + "\n".join(bad)
    assert localise("the question is empty: ask something", "fr") == (
        f"la question est vide{NBSP}: posez une question"
    )
    assert localise("the question is empty: ask something", "en") == (
        "the question is empty: ask something"
    )


def test_values_put_in_a_french_message_stay_as_written() -> None:
    """A file's name is the file's, not French prose: only the template is spaced."""
    from commune.text.messages import localise

    said = localise("note : v2 ?.txt: empty file, nothing to index", "fr")
    assert said == f"note : v2 ?.txt{NBSP}: fichier vide, rien à indexer", said


@pytest.fixture
def app(commune, corpus):  # type: ignore[no-untyped-def]
    from commune.api.app import create_app

    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    make_person(commune, "alice", "Ville A", "cooperative-admin")
    return create_app(commune)


# What a page quotes rather than says: the answer and the documents' own words (as their
# authors wrote them), code, the page's scripts, and the question a follow-up is read after
# (the person's words, in a hidden field and the answer card's data-follows).
QUOTED = re.compile(
    r'<div id="answer".*?</div>|<(pre|code|script|style|blockquote|textarea)\b.*?</\1>'
    r'|<input type="hidden" name="follows"[^>]*>|data-follows="[^"]*"'
    r'|<p class="excerpt".*?</p>|<section id="p\d+" class="passage".*?</section>',
    re.S,
)


def test_no_french_page_has_an_ordinary_space_before_a_mark(app) -> None:  # type: ignore[no-untyped-def]
    import html

    from tests.test_web import Browser, browser

    pages = {"/signin": Browser(app).get("/signin"), "/nowhere": Browser(app).get("/nowhere")}
    alice = browser(app, "alice")
    for path in (
        "/",
        "/commons",
        "/commons?q=ordures",
        "/contribute",
        "/curation",
        "/dashboard",
        "/account",
        "/transparency",
        "/admin",
        "/statement",
        "/payouts",
        "/documents/1",
    ):
        pages[path] = alice.get(path)
    alice.get("/")
    pages["/ask"] = alice.post("/ask", {"question": "Quand passe le camion des ordures ?"})
    pages["/ask (nowhere)"] = alice.post("/ask", {"question": "Où ?", "collection": "nulle"})
    bad = []
    for path, r in pages.items():
        assert r.status_code < 500 and r.text, path
        said = html.unescape(QUOTED.sub(" ", r.text))
        bad += [f"{path}: {b!r}" for b in _bad(said)]
    assert not bad, "ordinary spaces before French marks:\n" + "\n".join(bad)
    # A document's words are quoted as its authors wrote them, ordinary space included.
    assert "ramassés sur rendez-vous : téléphonez" in html.unescape(
        pages["/commons?q=ordures"].text
    )


def test_an_english_page_gains_no_no_break_space(app) -> None:  # type: ignore[no-untyped-def]
    from tests.test_web import browser

    alice = browser(app, "alice")
    alice.client.cookies.set("commune_lang", "en")
    page = alice.get("/transparency").text
    assert '<html lang="en"' in page and "Transparency" in page
    assert re.search(f"{NBSP}[:;?!]|«{NBSP}", page) is None


def test_the_french_csv_export_gains_no_no_break_space(app) -> None:  # type: ignore[no-untyped-def]
    """Spreadsheets and scripts parse the exports: their cells are identifiers and figures
    (French column names, a decimal comma, no thousands grouping), never French prose, so
    the typography of the pages does not reach them."""
    from datetime import UTC, datetime

    from tests.test_web import browser

    alice = browser(app, "alice")
    alice.client.post("/ask", data={"question": "Quand passe le camion ?", "csrf": alice.csrf})
    month = datetime.now(UTC).strftime("%Y-%m")
    for dialect in ("fr", "rfc4180"):
        r = alice.get(f"/statement.csv?month={month}&dialect={dialect}")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert "Ville A" in r.text and not re.search("[\u00a0\u202f]", r.text), r.text


def test_the_french_help_pages_are_spaced() -> None:
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.cli.helptext import french as help_in_french

    bad = [b for text in help_in_french().values() for b in _bad(text)]
    assert not bad, "ordinary spaces before French marks:\n" + "\n".join(bad)
    page = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, ["collections", "--help"]).output
    assert f"Lister les collections{NBSP}: le nombre de documents" in page, page
    english = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(cli, ["collections", "--help"])
    assert NBSP not in english.output


def test_every_french_help_page_is_spaced_its_list_of_commands_too() -> None:
    """click makes a command's one-line summary (the list in ``commune --help``) by splitting
    its help on whitespace, no-break spaces included, and joining it with ordinary ones."""
    import click
    from click.testing import CliRunner

    from commune.cli import cli

    def pages(command: click.Command, path: list[str]) -> list[list[str]]:
        under = command.commands.values() if isinstance(command, click.Group) else []
        return [path] + [p for c in under for p in pages(c, [*path, str(c.name)])]

    runner = CliRunner(env={"LANG": "fr_FR.UTF-8"})
    bad = [
        f"{' '.join(path)}: {b}"
        for path in pages(cli, [])
        for b in _bad(runner.invoke(cli, [*path, "--help"]).output)
    ]
    assert not bad, "ordinary spaces before French marks:\n" + "\n".join(bad)


@pytest.mark.parametrize(
    "fault",
    [
        OSError(30, "Read-only file system", "/srv/h/commune.db"),
        OSError(28, "No space left on device", "/srv/h/blobs"),
        OSError(13, "Permission denied", "/srv/h/commune.db"),
        OSError(40, "Too many levels of symbolic links", "/srv/h/in"),
        OSError(2, "No such file or directory", "/srv/h/blobs/ab"),
    ],
    ids=["read-only", "full", "permission", "loop", "missing"],
)
def test_the_machines_faults_are_spaced_in_french(fault: OSError) -> None:
    """text/faults.py's lines, to the operator (with the paths) and to an API caller."""
    from commune.text.faults import for_caller, for_operator

    operator = for_operator(fault, "/srv/h", "fr")
    caller = for_caller(fault, "fr")
    assert operator is not None and caller is not None
    for line in (operator, caller[1]):
        assert NBSP in line and not _bad(line), line
    english = for_operator(fault, "/srv/h", "en")
    assert english is not None and NBSP not in english


def test_a_documents_title_in_the_licence_notes_stays_as_written() -> None:
    """The notes are Commune's French around a document's title: "Qui paie ? Le guide :
    2026" is the title a reader searches for, and read « Qui paie\u00a0? Le guide\u00a0: 2026 »
    with spaces its document does not have (text/say.prose spaced the whole sentence)."""
    from types import SimpleNamespace

    from commune.answering.licensing import finish_licensing

    title = "Qui paie ? Le guide : 2026"
    source = SimpleNamespace(
        title=title, publisher="Ville A", contributor=None, licence="CC-BY-ND-4.0", source="g"
    )
    answer = SimpleNamespace(language="fr", sources=[source])
    finish_licensing(answer, [{"title": title, "reason": "sa licence l'interdit"}])
    quoted, left_out = answer.licence_notes
    assert quoted.startswith(f"«{NBSP}{title}{NBSP}» (CC-BY-ND-4.0) ne peut pas"), quoted
    assert f"modification){NBSP}: il" in quoted, quoted
    assert left_out == f"Écarté{NBSP}: «{NBSP}{title}{NBSP}»{NBSP}: sa licence l'interdit.", (
        left_out
    )


def test_a_peers_refusal_and_a_charters_phrase_stay_as_written() -> None:
    """A peer's own words and a refusal rule's phrase, put in Commune's French sentence."""
    from commune.charter.rules import Charter, RefusalRule, Utility
    from commune.charter.steps import refuse
    from commune.text.say import prose

    assert prose("fr", "le pair {p} a refusé : {r}", "", p="b", r="non ? non") == (
        f"le pair b a refusé{NBSP}: non ? non"
    )
    assert prose("en", "", "peer {p}: {r}", p="b", r="{x} ?") == "peer b: {x} ?"
    from commune.answering.federation import Federation

    silent = object.__new__(Federation)._silent("coop-b", OSError("hôte [::1] : refusé ?"), "fr")
    assert (
        silent == f"le pair coop-b n'a pas répondu (hôte [::1] : refusé ?){NBSP}: réponse sans lui"
    )
    phrase = "noter un agent : qui ?"  # a phrase as the charter writes it
    rule = RefusalRule("évaluation-personnes", "Refusé.", "Refused.", words=(phrase,))
    charter = Charter(utility=Utility(refuse=(rule,)))
    step = refuse(charter, "Comment noter un agent : qui ?", "fr", None, None)
    assert step is not None and f"«{NBSP}{phrase}{NBSP}»" in step.reason, step
    assert f"de la charte{NBSP}: «" in step.reason, step


def test_the_database_out_of_reach_is_spaced_in_french() -> None:
    """text/faults.py's line for a PostgreSQL out of reach, to the operator and a caller."""
    import psycopg
    from sqlalchemy.exc import DBAPIError

    from commune.text.faults import for_caller, for_operator

    fault = DBAPIError("SELECT 1", {}, psycopg.errors.ConnectionTimeout("x"))
    operator = for_operator(fault, "/srv/h", "fr")
    caller = for_caller(fault, "fr")
    assert operator is not None and caller is not None
    for line in (operator, caller[1]):
        assert NBSP in line and not _bad(line), line


def test_the_answer_that_found_nothing_is_spaced_in_french() -> None:
    # Written by the answering code, not a catalogue: it said « cette question : reformulez ».
    from commune.answering.answer import NOTHING_FOUND

    assert _bad(NOTHING_FOUND["fr"]) == []
    assert NBSP not in NOTHING_FOUND["en"]
