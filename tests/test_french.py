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


def test_the_transparency_page_speaks_the_readers_language(commune, corpus):
    from commune.api.app import create_app
    from tests.test_web import Browser

    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    commune.ask("Quand passe le camion des ordures ménagères ?")
    b = Browser(create_app(commune))
    fr = b.get("/transparency").page  # no preference: French
    assert "La charte par défaut de Commune, version par défaut" in fr
    assert "poids ouverts" in fr and "non étalonné : lancez" in fr
    assert "<td>citation</td>" in fr and "0,135" in fr
    for english in ("Commune's default charter", "open-weights", "not calibrated", ">extractive<"):
        assert english not in fr, english
    en = b.get("/transparency", headers={"Accept-Language": "en"}).page
    assert "Commune's default charter, version default" in en and "open-weights" in en
    assert "<td>quoted</td>" in en and "0.135" in en


def test_roles_kinds_and_answers_read_as_words_in_the_pages_language(commune, corpus):
    from commune.api.app import create_app
    from tests.conftest import make_person
    from tests.test_web import browser

    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    make_person(commune, "alice", "Ville A", "cooperative-admin")
    make_person(commune, "bob", "Ville A", "member-admin")
    app = create_app(commune)
    fr = browser(app, "alice").get("/admin").page
    assert "<td>commune</td>" in fr and "administrateur·rice de membre" in fr
    assert '<option value="member-admin">administrateur·rice de membre</option>' in fr
    assert "<td>town</td>" not in fr and ">member-admin<" not in fr
    en = browser(app, "alice").get("/admin", headers={"Accept-Language": "en"}).page
    assert "<td>town</td>" in en and ">member admin<" in en
    b = browser(app, "bob")
    assert "<dd>administrateur·rice de membre</dd>" in b.get("/account").page
    answer = b.post("/ask", {"question": "Quand passe le camion des ordures ?"}).page
    assert "Mode\u00a0: citation des sources" in answer and "Énergie\u00a0:" in answer
    assert "0,00 mgCO2e" not in answer
    dashboard = b.get("/dashboard").page
    assert "jours. L'énergie" in dashboard or "jours. L’énergie" in dashboard


def test_a_figure_below_what_is_shown_is_not_zero():
    from commune.web import i18n
    from commune.web.render import small

    i18n.use("fr")
    assert small(0.0004, 2) == "< 0,01" and small(0.25, 2) == "0,25" and small(0, 2) == "0,00"
    assert small(None, 2) == "—"
    i18n.use("en")
    assert small(0.0004, 2) == "< 0.01"
