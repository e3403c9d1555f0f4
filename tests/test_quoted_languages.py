"""An answer quoting sentences in another language than the question's says so, in the
question's language (answering/quoted_languages.py), on every face."""

import json
import re

import pytest
from click.testing import CliRunner

from commune.answering.quoted_languages import note


def said(*languages):  # type: ignore[no-untyped-def]
    return [{"text": "…", "language": x} for x in languages]


def test_no_note_when_every_sentence_is_in_the_question_language():
    assert note("fr", said("fr", "fr")) is None
    assert note("en", said("en")) is None
    assert note("fr", []) is None


def test_every_sentence_in_another_language():
    assert note("en", said("fr", "fr")) == (
        "The sentences quoted are in French, as their sources write them."
    )
    assert note("fr", said("en", "en")) == (
        "Les phrases citées sont en anglais, telles que leurs sources les écrivent."
    )


def test_some_sentences_in_another_language_are_counted():
    assert note("fr", said("fr", "fr", "en", "fr")) == (
        "Une des 4 phrases citées est en anglais, telle que sa source l'écrit."
    )
    assert note("en", said("fr", "en", "fr")) == (
        "2 of the 3 sentences quoted are in French, as their sources write them."
    )
    assert note("fr", said("en", "de", "en", "fr")) == (
        "3 des 4 phrases citées sont en anglais et en allemand, telles que leurs sources les "
        "écrivent."
    )
    assert note("fr", said("en", "de", "es")) == (
        "Les phrases citées sont en anglais, en allemand et en espagnol, telles que leurs "
        "sources les écrivent."
    )
    assert note("en", said("fr", "de", "en")) == (
        "2 of the 3 sentences quoted are in French and German, as their sources write them."
    )


def test_a_line_of_code_or_an_unnamed_language_is_not_counted():
    lines = [{"text": "apt update", "code": True}, *said("fr"), {"text": "x", "language": "zz"}]
    assert note("fr", lines) is None
    assert note("en", lines) == "The sentence quoted is in French, as its source writes it."


def test_a_german_question_reads_commune_s_english():
    # Commune's own words are French or English (text/say.py).
    assert (
        note("de", said("fr", "fr"))
        == "The sentences quoted are in French, as their sources write them."
    )


@pytest.fixture
def loaded(commune, corpus):  # type: ignore[no-untyped-def]
    commune.add([corpus], collection="mairie", licence="etalab-2.0", publisher="Ville")
    return commune


def test_an_english_question_over_french_pages_is_told_so(loaded):
    a = loaded.ask("Which day is the rubbish collection?", collection="mairie")
    assert a.found and a.language == "en"
    assert any(s.get("language") == "fr" for s in a.sentences)
    assert a.language_note is not None and "in French" in a.language_note
    # Kept with the answer: the cache and the API give it back.
    assert json.loads(json.dumps(a.to_json()))["language_note"] == a.language_note


def test_a_question_answered_in_its_own_language_has_no_note(commune, corpus):
    commune.add([corpus / "dechets.html"], collection="dechets", licence="etalab-2.0")
    a = commune.ask("Quel jour a lieu la collecte des ordures ménagères ?", collection="dechets")
    assert a.found and a.language == "fr"
    assert {s.get("language") for s in a.sentences if not s.get("code")} == {"fr"}
    assert a.language_note is None


def test_the_command_line_prints_the_note_before_the_sources(home, corpus):
    from commune.cli import cli

    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, ["--home", str(home), *args], catch_exceptions=False)

    r = run(
        "add", str(corpus / "dechets.html"), "--collection", "mairie", "--licence", "etalab-2.0"
    )
    assert r.exit_code == 0, r.output
    r = run("ask", "Which day is the rubbish collection?", "--collection", "mairie")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "The sentences quoted are in French, as their sources write them." in out
    assert out.index("sentences quoted") < out.index("Sources:")


QUESTION = "Which day is the rubbish collection?"
NOTE = "The sentences quoted are in French, as their sources write them."


def test_the_api_the_openai_api_and_mcp_give_the_note(commune, corpus, key):
    from fastapi.testclient import TestClient

    from commune.api.app import create_app
    from commune.api.mcp_results import answer_text

    commune.add([corpus / "dechets.html"], collection="mairie", licence="etalab-2.0")
    with TestClient(create_app(commune), headers={"Authorization": f"Bearer {key}"}) as c:
        body = c.post("/api/ask", json={"question": QUESTION, "collection": "mairie"}).json()
        assert body["language_note"] == NOTE
        assert {s["language"] for s in body["sentences"] if not s.get("code")} == {"fr"}
        chat = {
            "model": "extractive",
            "messages": [{"role": "user", "content": QUESTION}],
            "collection": "mairie",
        }
        reply = c.post("/v1/chat/completions", json=chat).json()
        content = reply["choices"][0]["message"]["content"]
        assert content.index("Sources:") < content.index(NOTE)  # after the sources, as notes
        assert reply["commune"]["language_note"] == NOTE
    assert NOTE in answer_text(body, "en").split("\n")


def test_the_web_page_says_it_under_the_answer(commune, corpus):
    from fastapi.testclient import TestClient

    from commune.api.app import create_app
    from tests.conftest import PASSWORD, make_person

    commune.add([corpus / "dechets.html"], collection="mairie", licence="etalab-2.0")
    make_person(commune, "carol", "Ville C", "reader")
    with TestClient(create_app(commune), base_url="https://testserver") as c:
        page = c.get("/signin").text
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        c.post("/signin", data={"user": "carol", "password": PASSWORD, "next": "/", "csrf": csrf})
        page = c.get("/").text
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        r = c.post("/ask", data={"question": QUESTION, "collection": "mairie", "csrf": csrf})
    assert r.status_code == 200
    assert re.search(r'<p class="notice" role="note" id="quoted-language"[^>]*>' + NOTE, r.text)


def test_one_sentence_quoted_is_said_in_the_singular():
    # An answer quoting one sentence, with a command line or not, was told of "the sentences
    # quoted" and "their sources".
    assert note("fr", said("en")) == (
        "La phrase citée est en anglais, telle que sa source l'écrit."
    )
    line = {"text": "# dpkg -r debian-cd", "code": True}
    assert note("en", [*said("fr"), line]) == (
        "The sentence quoted is in French, as its source writes it."
    )
