"""Cross-lingual word neighbours (index/lexicon.py) with the real multilingual embedder, and
the lexical list they make in retrieval (answering/retrieve.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from commune.answering.retrieve import prepare_query, search_catalog
from commune.config import RetrievalSettings
from commune.index import lexicon as lx
from commune.store import repository as repo
from commune.text.analysis import analyze

FRENCH = [
    "Déclarez la naissance de votre enfant à la mairie dans les cinq jours.",
    "La naissance est déclarée par le père ou la mère de l'enfant.",
    "Le loyer du logement est payé chaque mois au propriétaire.",
    "Le propriétaire peut augmenter le loyer du logement une fois par an.",
]
ENGLISH = [
    "Update the package list before installing a package.",
    "The package list comes from the sources listed in sources.list.",
]


@pytest.fixture
def small(monkeypatch):  # type: ignore[no-untyped-def]
    # These few passages make vocabularies of a dozen words; a real one needs a hundred, and
    # a language lends words from a hundred passages.
    monkeypatch.setattr(lx, "MIN_VOCABULARY", 1)
    monkeypatch.setattr(lx, "MIN_LENDER_PASSAGES", 1)


class Counting:
    """The real embedder, counting the words it is asked to embed."""

    def __init__(self, embedder):  # type: ignore[no-untyped-def]
        self.inner = embedder
        self.name = embedder.name
        self.embedded: list[str] = []

    def embed_passages(self, texts):  # type: ignore[no-untyped-def]
        self.embedded.extend(texts)
        return self.inner.embed_passages(texts)

    def embed_sentences(self, texts):  # type: ignore[no-untyped-def]
        self.embedded.extend(texts)
        return self.inner.embed_sentences(texts)


def text_of(commune, found):  # type: ignore[no-untyped-def]
    """The texts of the passages found with a score (the fusion fills its k with the other
    list's rows at 0 when a weight is 0)."""
    found = [f for f in found if f[1] > 0]
    with commune.engine.connect() as conn:
        details = repo.chunk_details(conn, [cid for cid, *_ in found])
    return [details[cid]["text"] for cid, *_ in found]


def texts() -> list[tuple[str, str]]:
    return [(t, "fr") for t in FRENCH] + [(t, "en") for t in ENGLISH]


def test_an_english_question_gets_the_french_words_of_the_commons(small, commune):
    embedder = commune.embedder
    lexicon = lx.build_lexicon(texts(), embedder)
    assert set(lexicon.languages) == {"fr", "en"}
    # Words of at least two passages only; function words never.
    assert "naissance" in lexicon.languages["fr"].words
    assert "déclarez" not in lexicon.languages["fr"].words  # in one passage only
    assert "les" not in lexicon.languages["fr"].words
    out = lexicon.translate("How long do I have to register the birth of my child?", "en", embedder)
    assert set(out) == {"fr"}, out
    assert "naissanc" in out["fr"] and "enfant" in out["fr"], out
    rent = lexicon.translate("Can the landlord raise the rent?", "en", embedder)
    assert analyze("loyer", "fr")[0] in rent["fr"], rent  # its stem
    # A question with no word near the other language's gets no list.
    assert lexicon.translate("Quand déclarer une naissance ?", "fr", embedder).get("en") is None
    # Vectors of another model are not comparable: nothing.
    assert replace(lexicon, model="other").translate("birth", "en", embedder) == {}


def test_known_words_are_not_embedded_again_and_survive_a_save(small, commune, tmp_path):
    counting = Counting(commune.embedder)
    first = lx.build_lexicon(texts()[:4], counting)
    assert "naissance" in counting.embedded
    counting.embedded.clear()
    second = lx.build_lexicon(texts(), counting, previous=first)
    assert counting.embedded and "naissance" not in counting.embedded
    assert set(counting.embedded) == set(second.languages["en"].words)
    second.save(tmp_path / "lexicon.npz")
    loaded = lx.Lexicon.load(tmp_path / "lexicon.npz")
    assert loaded.model == second.model
    for lang, vocab in second.languages.items():
        assert loaded.languages[lang].words == vocab.words
        assert np.allclose(loaded.languages[lang].vectors, vocab.vectors, atol=1e-3)


def test_a_words_neighbours_are_looked_up_once_and_stay_the_same(small, commune):
    lexicon = lx.build_lexicon(texts(), commune.embedder)
    fresh = lx.build_lexicon(texts(), commune.embedder)
    counting = Counting(commune.embedder)
    first = lexicon.equivalents("How long to register a birth?", "en", counting)
    assert "birth" in counting.embedded and first
    counting.embedded.clear()
    # Another question with the same words: only its new words are looked up, and the
    # neighbours are those a lexicon that never saw the first question gives.
    second = lexicon.equivalents("When to register the birth of a child?", "en", counting)
    assert "birth" not in counting.embedded and "child" in counting.embedded
    assert second == fresh.equivalents("When to register the birth of a child?", "en", counting)


def test_the_least_recently_asked_word_goes_first(small, commune, monkeypatch):
    monkeypatch.setattr(lx, "WORDS_KEPT", 2)
    lexicon = lx.build_lexicon(texts(), commune.embedder)
    counting = Counting(commune.embedder)
    # Each question another text (a question's lists are kept whole as well), the same word.
    for question in ("birth", "child", "birth?", "rent"):  # "birth" asked again: the newest
        lexicon.equivalents(question, "en", counting)
    counting.embedded.clear()
    lexicon.equivalents("birth!", "en", counting)
    assert counting.embedded == []  # kept; "child" went when "rent" came
    lexicon.equivalents("child?", "en", counting)
    assert counting.embedded == ["child"]


def test_a_word_a_language_only_borrows_is_not_of_its_vocabulary(small, commune):
    # A French manual's words, and an English manual that quotes two of them in a few of its
    # passages (a translated handbook keeps such mixed paragraphs): "liste" and "listes"
    # would otherwise fill the two English neighbours of French "liste" before "list".
    french = [
        "La liste des paquets Debian et les listes de diffusion.",
        "Chaque liste de paquets Debian vient des listes de sources.",
        "Les listes de diffusion et la liste des bogues de Debian.",
        "Une liste des mainteneurs, et les listes des paquets.",
    ]
    english = [
        "The list of packages comes from Debian mirrors.",
        "Update the package list first.",
        "Mailing lists are archived by Debian.",
        "The lists are public.",
        "Debian keeps a list of bugs.",
        "Debian maintainers read the lists.",
        "The French manual calls it « la liste des paquets » (see « Listes »).",
        "Its French index says « liste » and « listes ».",
        "A mirror serves the archive.",
        "The archive keeps every release.",
    ]
    lexicon = lx.build_lexicon(
        [(t, "fr") for t in french] + [(t, "en") for t in english], commune.embedder
    )
    fr, en = set(lexicon.languages["fr"].words), set(lexicon.languages["en"].words)
    assert {"liste", "listes"} <= fr
    assert not {"liste", "listes"} & en, en  # in 2 English passages of 10, 4 French of 4
    assert {"list", "lists"} <= en
    assert "debian" in fr and "debian" in en  # both languages' own


def test_a_few_misread_passages_take_no_word_from_a_language(small, commune, monkeypatch):
    # Two French passages misread as Italian both say "loyer": its share there (1.0) is far
    # above its share of the French passages (2 of 10), yet French does not borrow it.
    french = FRENCH + [f"Le dossier numéro {n} est complet." for n in range(6)]
    misread = ["Le loyer est payé.", "Le loyer augmente."]
    texts = [(t, "fr") for t in french] + [(t, "it") for t in misread]
    monkeypatch.setattr(lx, "MIN_LENDER_PASSAGES", 3)
    lexicon = lx.build_lexicon(texts, commune.embedder)
    assert "loyer" in lexicon.languages["fr"].words
    monkeypatch.setattr(lx, "MIN_LENDER_PASSAGES", 2)  # two passages: a lender now
    assert "loyer" not in lx.build_lexicon(texts, commune.embedder).languages["fr"].words


def test_a_vocabulary_left_with_too_few_words_is_dropped(small, commune, monkeypatch):
    # Every word of these English passages is borrowed from the French ones: nothing is left
    # to look up, and the base is still built.
    french = ["Liste paquets.", "Liste, paquets.", "Liste paquets ici."]
    english = ["Liste paquets.", "Liste, paquets!"] + [
        f"{word}." for word in ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf")
    ]
    texts = [(t, "fr") for t in french] + [(t, "en") for t in english]
    monkeypatch.setattr(lx, "MIN_VOCABULARY", 2)
    lexicon = lx.build_lexicon(texts, commune.embedder)
    assert "en" not in lexicon.languages and "fr" in lexicon.languages


def test_a_language_of_a_few_misread_passages_gets_no_vocabulary(commune):
    lexicon = lx.build_lexicon(texts(), commune.embedder)
    assert lexicon.languages == {}  # under MIN_VOCABULARY words each
    assert lexicon.translate("birth", "en", commune.embedder) == {}


def test_the_translated_words_find_a_passage_no_question_word_is_in(commune, corpus):
    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    catalog = commune.catalog()
    lexical_only = RetrievalSettings(dense_weight=0.0)
    # "birth certificate" shares no word with the French "acte de naissance" passage.
    query = prepare_query("birth certificate", commune.embedder)
    found = search_catalog(catalog, query, lexical_only, 5)
    assert not any("acte de naissance" in t for t in text_of(commune, found))
    query.translations = {"fr": ["act", "naissanc"]}
    found = search_catalog(catalog, query, lexical_only, 5)
    assert any("acte de naissance" in t for t in text_of(commune, found))
    # Off: the same search as without translations.
    off = search_catalog(catalog, query, replace(lexical_only, translated_weight=0.0), 5)
    assert not any("acte de naissance" in t for t in text_of(commune, off))


def test_a_home_builds_keeps_and_uses_its_lexicon(small, home, corpus, tmp_path):
    from commune.core import Commune
    from commune.index import catalog as cat

    with Commune(home) as commune:
        commune.add([corpus], collection="mairie", licence="etalab-2.0")
        commune.reindex()
        built = commune.catalog().lexicon
        assert built is not None and {"fr", "en"} <= set(built.languages)
        # The search path looks the question's words up in it.
        # (Its French words here: "passage", "rendez", "semaine".)
        found = commune.searcher.equivalents("Is the pool open every week of the year?")
        assert found.get("week", {}).get("fr") == [analyze("semaine", "fr")[0]], found
        # A document added later: the delta keeps the base's lexicon.
        (tmp_path / "more.md").write_text("# Piscine\n\nLa piscine ouvre à 9 heures.\n")
        commune.add([tmp_path / "more.md"], collection="mairie", licence="etalab-2.0")
        delta = commune.catalog()
        assert delta.base is not None and delta.lexicon is built
        assert delta.in_language("fr").shape == (len(delta),)
    cat._bases.clear()  # as another process: read from disk
    with Commune(home) as commune:
        read = commune.catalog().lexicon
        assert read is not None
        assert read.languages["fr"].words == built.languages["fr"].words
