import pytest


@pytest.fixture
def loaded(commune, corpus):  # type: ignore[no-untyped-def]
    commune.add([corpus], collection="mairie", licence="etalab-2.0", publisher="Ville")
    return commune


def test_french_question_gets_cited_french_sentences(loaded):
    a = loaded.ask("Quel jour a lieu la collecte des ordures ménagères ?")
    assert a.found and a.language == "fr" and a.mode == "extractive"
    assert "mardi matin" in a.text
    assert "[1]" in a.text
    cited = {s["source"] for s in a.sentences}
    assert cited == {s.n for s in a.sources}
    src = a.sources[0]
    assert src.title == "Gestion des déchets" and src.licence == "etalab-2.0"
    assert src.source.endswith("dechets.html")


def test_english_question_gets_cited_english_sentences(loaded):
    a = loaded.ask("How long can I keep borrowed books?")
    assert a.found and a.language == "en"
    assert "three weeks" in a.text
    assert all(f"[{s['source']}]" in a.text for s in a.sentences)


def test_every_sentence_is_quoted_verbatim_from_its_source(loaded):
    a = loaded.ask("Comment s'inscrire à la cantine ?")
    for s in a.sentences:
        hit_texts = [h.text for h in loaded.search(s["text"], k=3)]
        assert any(s["text"] in t for t in hit_texts)


def test_nothing_relevant_says_so_plainly(loaded):
    a = loaded.ask("Quelle est la recette de la tarte aux pommes ?")
    assert not a.found and a.sources == []
    assert "aucun passage pertinent" in a.text
    a = loaded.ask("What is the boiling point of mercury in kelvin?")
    assert not a.found and "no relevant passage" in a.text


def test_empty_question_is_refused(loaded):
    with pytest.raises(ValueError, match="question is empty"):
        loaded.ask(" ")


def test_a_sentence_found_in_two_documents_is_quoted_once(commune, tmp_path):
    text = (
        "# Recherche\n\nUse dpkg -S to find which package contains a given file on the system. "
        "The command apt-file searches packages that are not installed yet.\n"
    )
    for name in ("fr.md", "en.md"):
        (tmp_path / name).write_text(text, encoding="utf-8")
    commune.add([tmp_path / "fr.md", tmp_path / "en.md"], licence="etalab-2.0")
    a = commune.ask("Which package contains a given file?")
    quoted = [s["text"] for s in a.sentences]
    assert len(quoted) == len(set(quoted)) and quoted
