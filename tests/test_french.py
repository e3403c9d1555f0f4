"""French throughout (issue 24): what a French reader sees is French, an English one English."""

from __future__ import annotations

from types import SimpleNamespace

from commune.answering.licensing import finish_licensing, left_out_of_generation


def _answer(language: str) -> SimpleNamespace:
    source = SimpleNamespace(
        title="Compost",
        publisher="Ville Verte",
        contributor=None,
        licence="CC-BY-SA-4.0",
        source="compost.md",
        attribution=None,
    )
    return SimpleNamespace(language=language, sources=[source], licence_notes=[], excluded=[])


def test_licence_notes_follow_the_question_language():
    hit = SimpleNamespace(document_id=1, title="Guide", licence="CC-BY-ND-4.0")
    fr, en = _answer("fr"), _answer("en")
    finish_licensing(fr, left_out_of_generation([hit], "fr"))
    finish_licensing(en, left_out_of_generation([hit], "en"))
    assert fr.licence_notes[0].startswith("Cette réponse s'appuie sur des sources en partage")
    assert "Écarté : « Guide »" in fr.licence_notes[1] and "modification" in fr.licence_notes[1]
    assert not any("share-alike" in n or "derivatives" in n for n in fr.licence_notes)
    assert en.licence_notes[0].startswith("This answer builds on share-alike sources")
    assert "Left out « Guide »" in en.licence_notes[1] and "no derivatives" in en.licence_notes[1]
