"""French throughout (issue 24), continued: the report commands (transparency, bom,
sovereignty, documents, search, history, eval, model calibrate) and the operator's
configuration errors speak French by default and English under an English locale; their
--json and report files stay as they were."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from commune.cli import cli
from tests.conftest import make_home

FRENCH = {"LANG": None}  # no locale: French (text/messages.py)
NB = "\u00a0"  # the no-break space before a French colon
NNBSP = "\u202f"  # the narrow no-break space between thousands (text/numbers.py)


def run(home: Path, *args: str, env: dict[str, str | None] | None = None):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli, ["--home", str(home), *args], env=env)
    return result


def test_transparency_bom_and_sovereignty_speak_french_by_default(home, corpus, tmp_path):
    from commune.core import Commune

    home.mkdir(parents=True)
    (home / "commune.toml").write_text(
        '[models.mystery]\nbackend = "openai"\nbase_url = "https://llm.example/v1"\n'
        'model = "m"\njurisdiction = "US"\n'
    )
    with Commune(home) as commune:
        commune.add([corpus / "dechets.html"], collection="mairie", licence="etalab-2.0")
        commune.ask("Quand passe le camion des ordures ménagères ?")

    fr = run(home, "transparency", env=FRENCH)
    assert fr.exit_code == 0, fr.output
    lines = fr.output.splitlines()
    assert lines[0].startswith("charte par défaut (") and lines[0].endswith(", 1 version")
    assert (
        f"modèle smollm2{NB}: poids ouverts, Apache-2.0, local (sur ce serveur), FR, 0,135 "
        f"milliard de paramètres{NB}; non "
        f"étalonné{NB}: lancez `commune model calibrate smollm2`{NB}; autorisé" in (lines)
    )
    # "répondue" counted the questions the charter refused too (docs/charter.md).
    assert any(
        line.startswith("1 requête au registre (1 question avec une réponse ou le refus de la ")
        for line in lines
    )
    assert (
        f"1 question enregistrée{NB}: 1 avec une réponse ou le refus de la charte, 0 refusée "
        "pour dépassement" in fr.output
    )
    assert any(line.split()[:2] == ["citation", "1"] and "100,0\u00a0%" in line for line in lines)
    assert f"passages vectorisés par {commune.embedder.name}{NB}: " in fr.output
    assert f"mystery{NB}: ouverture «{NB}unknown{NB}» non admise par la charte (" in fr.output
    # A model that names no licence said "None" (found by an exploratory test).
    assert f"modèle mystery{NB}: inconnu, aucune licence donnée, " in fr.output, fr.output
    for english in ("requests in the ledger", "allowed", "passages embedded", "eval "):
        assert english not in fr.output, english
    en = run(home, "transparency")  # the tests' English locale
    assert (
        "1 request in the ledger (1 question with an answer or the charter's refusal, " in en.output
    ), en.output
    assert "1 question recorded: 1 with an answer or the charter's refusal, " in en.output
    assert en.output.splitlines()[0].endswith(", 1 version"), en.output  # not "1 version(s)"
    assert (
        "model smollm2: open-weights, Apache-2.0, local, FR, 0.135B parameters; not calibrated: "
        in en.output
    )
    assert "model mystery: unknown, no licence given, https://llm.example/v1, US; " in en.output
    assert "extractive" in en.output and "100.0%" in en.output
    as_json = json.loads(run(home, "transparency", "--json", env=FRENCH).output)
    assert as_json["models"][0]["openness"] == "open-weights"  # machines read it unchanged
    # The page says the charter's reason in French too (its catalogue, then text/messages.py).
    from fastapi.testclient import TestClient

    from commune.api.app import create_app

    with Commune(home) as commune:
        page = TestClient(create_app(commune)).get("/transparency").text
    assert "mystery\u00a0: ouverture «\u00a0unknown\u00a0» non admise par la charte (" in page
    assert "is not allowed by the charter" not in page

    out = tmp_path / "bom.json"
    bom = run(home, "bom", "--out", str(out), env=FRENCH)
    assert bom.exit_code == 0, bom.output
    assert bom.output.startswith(f"{out} écrit{NB}: CycloneDX 1.6, valide{NB}; ")
    assert "bibliothèques" in bom.output and "modèles" in bom.output
    assert json.loads(out.read_text())["specVersion"] == "1.6"
    sov = run(home, "sovereignty", env=FRENCH)
    assert sov.exit_code == 0, sov.output
    text = sov.output
    assert f"composants. Ceux dont la pile dépend le plus{NB}:" in text
    assert f"  mystery (modèle){NB}: aucune licence déclarée, ouverture inconnue" in text
    assert f"  mystery{NB}: US (" in text and f"autorisées{NB}: " in text
    assert f"copyleft réseau (1{NB}: commune){NB}: les utilisateurs" in text
    assert "Changements depuis " in text and "0 ajouté, 0 retiré, 0 modifié" in text
    for english in ("Most depended on", "no licence declared", "Licence obligations"):
        assert english not in text, english
    # The English map is test_bom.py's (each map computes the bill again: a second each).


def test_documents_search_and_history_speak_french_by_default(home, corpus):
    added = run(home, "add", str(corpus / "library.md"), "--licence", "CC0-1.0")
    assert added.exit_code == 0, added.output

    listed = run(home, "documents", env=FRENCH).output
    assert " passages  CC0-1.0" in listed and "chunks" not in listed
    assert " chunks  CC0-1.0" in run(home, "documents").output
    # One passage or several, the licence and title columns line up (found following
    # docs/fr/guide.md: "1 passage" shifted them one letter left).
    (corpus / "one.txt").write_text("Le secrétariat ouvre le lundi.\n")
    assert run(home, "add", str(corpus / "one.txt"), "--licence", "CC0-1.0").exit_code == 0
    rows = run(home, "documents", env=FRENCH).output.splitlines()
    assert len(rows) == 2 and len({row.index("CC0-1.0") for row in rows}) == 1, rows

    found = run(home, "search", "borrow books", "-k", "1", env=FRENCH).output
    first = found.splitlines()[0]
    assert first.startswith("1. ") and "[0," in first and "[0." not in first, found
    assert "[0." in run(home, "search", "borrow books", "-k", "1").output
    assert run(home, "search", "zzzzqqq xxyyzz", "-k", "1", env=FRENCH).exit_code == 0
    refused = run(home, "search", env=FRENCH)
    assert refused.exit_code == 2 and "donnez une requête (QUERY) ou --batch FICHIER" in (
        refused.output
    )

    history = run(home, "history", "1", env=FRENCH).output
    assert history.startswith(f"révision 1 (id 1){NB}: publiée, licence CC0-1.0, "), history
    assert ", par " in history.splitlines()[0]
    assert run(home, "history", "1").output.startswith("revision 1 (id 1): published, ")
    shown = run(home, "visibility", "default", "public", env=FRENCH).output
    assert shown == f"default{NB}: publique\n"


def test_a_question_of_a_few_words_is_answered_in_the_readers_language(home, tmp_path):
    # "piscine municipale" says nothing of its language: n-grams read it as Italian, and the
    # French reader was answered in English ("Sources:", "Energy:").
    page = tmp_path / "piscine.md"
    page.write_text("# Piscine\n\nLa piscine municipale ouvre le mardi à neuf heures.\n")
    assert run(home, "add", str(page), "--licence", "etalab-2.0").exit_code == 0
    french = run(home, "ask", "piscine municipale", env=FRENCH).output
    assert f"Sources{NB}:" in french and f"Énergie{NB}:" in french, french
    english = run(home, "ask", "piscine municipale", env={"LANG": "en_US.UTF-8"}).output
    assert "Sources:" in english and "Energy:" in english, english
    answered = run(home, "ask", "piscine municipale", "--json", env=FRENCH).output
    assert json.loads(answered)["language"] == "fr"


def test_eval_says_its_table_and_errors_in_french(home, tmp_path):
    """The table `commune eval` prints (evaluation/report.summary, read here from the shipped
    reference report: an evaluation run would add a home's embedding to the suite's time)
    and its errors, through the real CLI."""
    from commune.evaluation.report import load, summary

    report = load(Path(__file__).resolve().parents[1] / "eval/reports/reference-test")
    fr = summary(report, language="fr").splitlines()
    assert fr[0].startswith(f"Évaluation de {report['pins']['suite']['name']} (partie test), ")
    assert ", plongement " in fr[0] and "embedder" not in fr[0]
    assert fr[1].split()[:3] == ["groupe", "système", "MRR"] and "justes" in fr[1]
    rows = {" ".join(line.split()[:2]): line.split()[2:] for line in fr[2:]}
    assert {"tout extractive", "langue fr", "tranche fr→en"} <= set(rows), rows
    assert all("." not in cell for cell in rows["tout extractive"]), rows  # decimal commas
    assert any("," in cell for cell in rows["tout extractive"])
    en = summary(report).splitlines()  # English, as before
    assert en[0].startswith("Evaluation of ") and en[1].split()[:2] == ["group", "system"]
    # The table's rows line up in both languages (the lines after it, each ratio's counts
    # since h11's dee3dc01, are sentences of their own).
    table_en, table_fr = en[2 : en.index("")], fr[2 : fr.index("")]
    assert len(table_en) == len(table_fr) >= 3
    assert [len(line) for line in table_en] == [len(line) for line in table_fr]  # same columns
    assert any("." in cell for cell in en[2].split()[2:])
    compared = summary(report, other=report, language="fr").splitlines()[1]
    assert compared.startswith("comparée à ") and f"{NB}: l'écart entre parenthèses" in compared

    make_home(home)
    suite = tmp_path / "suite.jsonl"
    suite.write_text('{"question": "q ?", "language": "fr", "collection": "ville"}\n')
    missing = run(home, "eval", str(suite), "--compare", str(tmp_path / "nope"), env=FRENCH)
    assert missing.exit_code == 2
    assert missing.stderr == (
        f"erreur{NB}: aucun rapport d'évaluation à {tmp_path / 'nope'} "
        "(donnez un report.json ou le dossier --out d'une évaluation)\n"
    )
    nowhere = run(home, "eval", str(suite), env=FRENCH)
    assert nowhere.exit_code == 2 and nowhere.stderr.startswith(
        f"erreur{NB}: la question 'q1' (ligne 1) porte sur la collection 'ville', que ce "
        "service ne contient pas (corrigez son nom d'après commune collections"
    ), nowhere.stderr
    assert "collection 'ville', which this home" in run(home, "eval", str(suite)).stderr


def test_the_operators_configuration_errors_read_french(home):
    home.mkdir(parents=True)
    (home / "charter.toml").write_text('version = "1"\n[sobriety]\nquality_floors = 3\n')
    bad = run(home, "charter", "check", env=FRENCH)
    assert bad.exit_code == 78
    assert bad.stderr == (
        f"erreur{NB}: {home / 'charter.toml'}, ligne 3{NB}: sobriety.quality_floors{NB}: doit être "
        f"une table{NB}: collection = plancher "
        "(corrigez la charte (docs/fr/charte.md) et relancez)\n"
    )
    assert run(home, "charter", "check").stderr == (
        f"error: {home / 'charter.toml'}, line 3: sobriety.quality_floors: must be a table: "
        "collection = floor (fix the charter (docs/charter.md) and start again)\n"
    )
    (home / "charter.toml").write_text('name = "x"\n')
    missing = run(home, "charter", "check", env=FRENCH).stderr
    assert missing == (
        f"erreur{NB}: {home / 'charter.toml'}, ligne 1{NB}: version manque (une charte a une "
        f'version{NB}: ajoutez version = "2026-12-01" (ou votre propre schéma))\n'
    )
    (home / "charter.toml").unlink()
    (home / "commune.toml").write_text("[retrieval]\nbogus = 1\n")
    unknown = run(home, "documents", env=FRENCH).stderr
    assert unknown.startswith(
        f"erreur{NB}: clé inconnue retrieval.bogus dans commune.toml (clés connues{NB}: "
    ), unknown
    (home / "commune.toml").write_text("[limits]\nmax_upload_mb = 1\nmax_file_mb = 5\n")
    assert run(home, "documents", env=FRENCH).stderr == (
        f"erreur{NB}: limits.max_upload_mb (1) dans commune.toml est inférieur à "
        f"limits.max_file_mb (5){NB}: aucun fichier de cette taille ne pourrait être envoyé "
        "(augmentez max_upload_mb, ou baissez max_file_mb)\n"
    )
    (home / "commune.toml").write_text("x = = 1\n")
    invalid = run(home, "documents", env=FRENCH).stderr
    assert "n'est pas du TOML valide" in invalid
    assert invalid.endswith("(corrigez le fichier ou supprimez-le)\n"), invalid


def test_a_calibrations_method_and_the_maps_reasons_have_their_french():
    from commune.text.messages import localise

    method = "estimated: CPU time x 15 W per core, a configured figure, over 3 runs"
    assert localise(method, "fr") == (
        f"estimée{NB}: temps CPU x 15 W par cœur, un chiffre configuré, sur 3 essais"
    )
    # One run is one "essai", in both languages' grammar.
    once = "estimated: CPU time x 15 W per core, a configured figure, over 1 run"
    assert localise(once, "fr").endswith("configuré, sur 1 essai")
    assert localise(method, "en") == method
    declared = "its metadata declares 'MIT License\n\nCopyright', not an SPDX expression"
    assert localise(declared, "fr") == (
        "ses métadonnées déclarent 'MIT License\n\nCopyright', qui n'est pas une expression SPDX"
    )
    # A message whose head holds parentheses of its own keeps its hint apart.
    suite = (
        "question 'x' (line 3) asks about collection 'y', which this home does not hold "
        "(correct its name as commune collections lists it, or add its documents with "
        "commune add --collection)"
    )
    assert localise(suite, "fr") == (
        "la question 'x' (ligne 3) porte sur la collection 'y', que ce service ne contient pas "
        "(corrigez son nom d'après commune collections, ou ajoutez ses documents avec "
        "commune add --collection)"
    )


def test_the_accounts_and_curation_speak_french_by_default(home, tmp_path):
    from datetime import UTC, datetime

    month = datetime.now(UTC).strftime("%Y-%m")
    doc = tmp_path / "verre.md"
    doc.write_text("Le verre se dépose au conteneur de la place.", encoding="utf-8")
    assert (
        run(home, "add", str(doc), "--collection", "mairie", "--licence", "etalab-2.0").exit_code
        == 0
    )
    curation = run(
        home, "curation", "mairie", "--approvals", "1", "--role", "member-admin", env=FRENCH
    )
    assert curation.output == (
        f"mairie{NB}: 1 approbation par un administrateur de membre ou au-dessus\n"
    )
    doc.write_text("Le verre se dépose désormais à la déchèterie.", encoding="utf-8")
    assert (
        run(home, "add", str(doc), "--collection", "mairie", "--licence", "etalab-2.0").exit_code
        == 0
    )
    shown = run(home, "review", "show", "2", env=FRENCH).output.splitlines()
    assert shown[0] == f"révision 2 (numéro 2) du document 1{NB}: proposée"
    assert f"  titre{NB}: verre" in shown and f"  licence{NB}: etalab-2.0" in shown
    assert any(
        line.startswith(f"  motif d'attente{NB}: la collection demande 1 ") for line in shown
    )
    assert run(home, "review", "show", "2").output.startswith(
        "revision 2 (number 2) of document 1: proposed\n  title: verre\n"
    )
    # Its time to the minute, as `commune history` prints it: not with its microseconds.
    created = [line for line in shown if line.startswith(f"  créée le{NB}: ")]
    assert re.fullmatch(rf"  créée le{NB}: \d{{4}}-\d\d-\d\d \d\d:\d\d", created[0]), created
    # The new status was printed as the library's English word ("published").
    approved = run(home, "review", "approve", "2", "--reason", "vu", env=FRENCH)
    assert approved.output == f"révision 2{NB}: publiée\n", approved.output

    statement = run(home, "statement", "--month", month, env=FRENCH).output.splitlines()
    assert statement[0].startswith(f"{month}{NB}: ") and f"kWh){NB}; règle " in statement[0]
    assert ",00 EUR = serveur " in statement[0] and "+ serveur au repos " in statement[0]
    assert statement[1] == (
        f"  serveur au repos{NB}: non compté{NB}: mettez dans [energy] idle_watts de "
        "commune.toml ce que le serveur consomme au repos"
    )
    english = run(home, "statement", "--month", month).output
    assert english.startswith(f"{month}: ") and "= server " in english
    paid = run(home, "payouts", "--month", month, "--amount", "12.5", env=FRENCH).output
    assert paid.startswith(
        f"{month}{NB}: fonds 12,50 EUR = versé 0,00 + redirigé 0,00 + gardé par le fonds "
        f"12,50{NB}; poids{NB}: citations 0,7, documents 0,2, relectures 0,1"
    ), paid
    assert (
        "fund 12.50 EUR = paid 0.00"
        in run(home, "payouts", "--month", month, "--amount", "12.5").output
    )
    nobody = run(home, "payouts", "waive", "bob", env=FRENCH)
    assert nobody.exit_code == 2 and nobody.stderr.startswith(
        f"erreur{NB}: aucun contributeur nommé 'bob' (utilisez le nom tel que "
    )


@pytest.mark.usefixtures("made_home")
def test_the_cli_own_usage_errors_speak_french_by_default(home):
    """Usage errors raised by Commune's commands (not click's): French by default."""
    fr = run(home, "payouts", env=FRENCH)
    assert fr.exit_code == 2 and "donnez --month AAAA-MM" in fr.output, fr.output
    en = run(home, "payouts")
    assert en.exit_code == 2 and "give --month YYYY-MM" in en.output, en.output
    fr = run(home, "share", "mairie", "--off", "--policy", "open", env=FRENCH)
    assert fr.exit_code == 2 and "--off ne prend ni --policy ni --kinds" in fr.output, fr.output


def test_an_empty_list_of_known_names_reads_french(made_home):
    """ "none yet" (no member, collection or peer at all) was left English in the French line."""
    home = made_home
    result = run(home, "ask", "Comment ?", "--collection", "nulle-part", env=FRENCH)
    assert result.exit_code != 0
    # "aucune" agrees with "collections", "aucun" with "pairs"
    assert "(collections connues\u00a0: aucune pour l'instant)" in result.stderr, result.stderr
    assert "none yet" not in result.stderr
    peer = run(home, "peer", "remove", "nulle-part", env=FRENCH)
    assert "(pairs connus\u00a0: aucun pour l'instant)" in peer.stderr, peer.stderr
    english = run(home, "ask", "How?", "--collection", "nowhere")
    assert "none yet" in english.stderr, english.stderr


def test_the_systems_words_and_clicks_paths_read_french(home, tmp_path):
    """An OSError's own words (strerror) and click's path errors reached the French line in
    English: "No such file or directory", "Directory '/etc' est un fichier"."""
    home.mkdir(parents=True)
    missing = run(home, "eval", str(tmp_path / "absente.jsonl"), env=FRENCH)
    assert missing.exit_code != 0
    assert missing.stderr.strip().endswith(
        f"absente.jsonl{NB}: fichier ou dossier introuvable (donnez le chemin d'un fichier JSONL)"
    ), missing.stderr
    a_file = tmp_path / "export.txt"
    a_file.write_text("x")
    wrong = run(home, "import", str(a_file), env=FRENCH)
    assert wrong.exit_code == 2
    assert wrong.stderr.splitlines()[-1] == (
        f"Erreur{NB}: Valeur invalide pour 'RÉPERTOIRE'{NB}: '{a_file}' est un fichier, "
        "pas un dossier."
    ), wrong.stderr
    english = run(home, "eval", str(tmp_path / "absente.jsonl"))
    assert "No such file or directory" in english.stderr, english.stderr
    from commune.text.messages import localise

    # Whole lines: a looser "NAME: Permission denied" pattern once caught these first and
    # left their start in English.
    for said, french in (
        (
            "cannot listen on 0.0.0.0:80: Permission denied (give another --host or --port, or "
            "stop what listens there)",
            f"impossible d'écouter sur 0.0.0.0:80{NB}: permission refusée (donnez un autre --host "
            "ou --port, ou arrêtez ce qui écoute là)",
        ),
        (
            "restoring into /srv/h failed: Permission denied (/srv/h/commune.db)",
            "la restauration dans /srv/h a échoué\u00a0: permission refusée (/srv/h/commune.db)",
        ),
        ("notes.txt: Is a directory", "notes.txt\u00a0: c'est un dossier"),
    ):
        assert localise(said, "fr") == french


def test_a_database_that_cannot_be_opened_is_one_line_without_its_password(home):
    """A PostgreSQL server that is down, or a driver not installed, printed the driver's
    52-frame traceback on every command."""
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home.mkdir(parents=True)
    (home / "commune.toml").write_text(
        f'database_url = "postgresql+psycopg://u:secret@127.0.0.1:{port}/x"\n'
    )
    down = run(home, "documents", env=FRENCH)
    assert down.exit_code == 2 and down.stderr.count("\n") == 1, down.stderr
    assert down.stderr.startswith(f"erreur{NB}: impossible d'ouvrir la base postgresql")
    assert "secret" not in down.stderr and "que la base tourne" in down.stderr
    (home / "commune.toml").write_text('database_url = "mysql://x/y"\n')
    driver = run(home, "check")
    # A URL no driver reads is a configuration error (exit 78), not restarted.
    assert driver.exit_code == 78 and driver.stderr.count("\n") == 1, driver.stderr
    # Not PostgreSQL's driver to install (7b228e8): the URL Commune reads.
    assert "Commune's database is SQLite (the default) or PostgreSQL" in driver.stderr, (
        driver.stderr
    )
    assert "pip install" not in driver.stderr


def test_an_expired_key_is_listed_as_expired_not_as_expiring(home):
    """`commune key list` showed a key whose date had passed as "expire le 2026-01-01"
    ("expires 2026-01-01"), as if it still opened something until then. Now it says the key
    has expired, in both languages; a key whose date is to come still says when it expires."""
    import sqlite3

    assert run(home, "member", "add", "Coop B").exit_code == 0
    assert run(home, "user", "add", "alice", "--member", "Coop B").exit_code == 0
    for _ in range(2):
        assert run(home, "key", "create", "alice", "--expires-days", "30").exit_code == 0
    with sqlite3.connect(home / "commune.db") as conn:
        conn.execute("UPDATE api_keys SET expires_at = '2026-01-01 00:00:00' WHERE id = 1")
    french = run(home, "key", "list", env=FRENCH).output.splitlines()
    assert french[0].split("\t")[3] == "a expiré le 2026-01-01", french
    assert french[1].split("\t")[3].startswith("expire le "), french
    english = run(home, "key", "list", env={"LANG": "en_US.UTF-8"}).output.splitlines()
    assert english[0].split("\t")[3] == "expired on 2026-01-01", english
    assert english[1].split("\t")[3].startswith("expires "), english


def test_the_member_key_and_credits_listings_read_french(home):
    # Found by an exploratory test: "no quota", "revoked" and the credits' column heads stayed
    # English in the French listings.
    assert run(home, "member", "add", "Coop B", env=FRENCH).exit_code == 0
    assert (
        "Coop B\tother\tnon-commercial\tsans quota"
        in run(home, "member", "list", env=FRENCH).output
    )
    assert "no quota" in run(home, "member", "list", env={"LANG": "en_US.UTF-8"}).output
    assert run(home, "user", "add", "alice", "--member", "Coop B", env=FRENCH).exit_code == 0
    assert run(home, "key", "create", "alice", env=FRENCH).exit_code == 0
    assert "alice\tactive" in run(home, "key", "list", env=FRENCH).output
    assert run(home, "key", "revoke", "1", env=FRENCH).exit_code == 0
    assert "alice\trévoquée" in run(home, "key", "list", env=FRENCH).output
    assert "alice\trevoked" in run(home, "key", "list", env={"LANG": "en_US.UTF-8"}).output
    credits = run(home, "credits", "--month", "2026-12", env=FRENCH).output
    assert credits.startswith("contributeur\tdocuments\tréponses\tcitations\n"), credits
    assert "\ndocument\tcontributeur\tlicence\tréponses\tcitations" in credits
    english = run(home, "credits", "--month", "2026-12", env={"LANG": "en_US.UTF-8"}).output
    assert english.startswith("contributor\tdocuments\tanswers\tcitations\n")


def test_the_evaluations_progress_names_its_stages_in_french(monkeypatch):
    from commune.cli.group import StageBars

    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    bars = StageBars()
    assert bars._said("retrieval hybrid") == "recherche hybrid"
    assert bars._said("answers extractive") == "réponses extractive"
    assert bars._said("lecture") == "lecture"  # not a stage the library names
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert bars._said("retrieval hybrid") == "retrieval hybrid"


def test_slips_in_a_listing_or_an_addition_are_named_not_passed_over(home, tmp_path):
    # Found by an exploratory test: an unknown member listed nobody, a negative --limit
    # listed everything, and an empty --collection added to the default collection.
    assert run(home, "member", "add", "Ville A", env=FRENCH).exit_code == 0
    unknown = run(home, "user", "list", "--member", "Nope", env=FRENCH)
    assert unknown.exit_code == 2 and "aucun membre nommé 'Nope'" in unknown.stderr
    assert run(home, "user", "list", "--member", "Ville A", env=FRENCH).exit_code == 0
    for command in (("documents",), ("audit", "log")):
        assert run(home, *command, "--limit", "-1", env=FRENCH).exit_code == 2
    from commune.core import Commune
    from commune.errors import InvalidRequest

    with Commune(home) as c, pytest.raises(InvalidRequest, match="limit must be 1 or more"):
        c.documents(limit=-1)  # every face, not the CLI's option alone
    page = tmp_path / "piscine.md"
    page.write_text("# Piscine\n\nLa piscine ouvre le mardi.\n", encoding="utf-8")
    empty = run(home, "add", str(page), "--collection", " ", env=FRENCH)
    assert empty.exit_code == 2 and "le nom de la collection est vide" in empty.stderr
    assert run(home, "documents", "--json").output.strip() == "[]"  # nothing added


def test_an_unsupported_file_is_refused_in_french_to_the_last_word(home, tmp_path):
    odd = tmp_path / "f.xyz"
    odd.write_text("bonjour")
    refused = run(home, "add", str(odd), env=FRENCH).stderr
    assert "f.xyz\u00a0: type non pris en charge .xyz" in refused, refused
    assert "pages de manuel (.1 à .9), et chacun d'eux compressé (.gz)" in refused, refused
    assert "man pages" not in refused
    english = run(home, "add", str(odd), env={"LANG": "en_US.UTF-8"}).stderr
    assert "man pages (.1 to .9), and any of them compressed (.gz)" in english


def test_check_says_when_a_restored_home_left_its_charter_behind(home, tmp_path):
    # Found by an exploratory test: backups leave charter.toml out, and a home restored
    # elsewhere answered under the default charter while `check` said all was well.
    from commune.core import Commune

    home.mkdir(parents=True)
    (home / "charter.toml").write_text('version = "2026-1"\n', encoding="utf-8")
    with Commune(home) as c:
        assert c.charters.charter.version == "2026-1"  # in force: recorded in the database
    checked = run(home, "check", env=FRENCH).output
    assert "était en vigueur" not in checked  # the charter is here
    assert run(home, "backup", str(tmp_path / "saved"), env=FRENCH).exit_code == 0
    other = tmp_path / "other"
    assert run(other, "restore", str(tmp_path / "saved"), env=FRENCH).exit_code == 0
    checked = run(other, "check", env=FRENCH)
    assert checked.exit_code == 0, checked.output  # a line, not a failure
    assert (
        "pas de charter.toml, mais la charte 2026-1 était en vigueur ici (enregistrée le "
        in checked.output
    ), checked.output
    english = run(other, "check", env={"LANG": "en_US.UTF-8"}).output
    assert "no charter.toml, yet charter 2026-1 was in force here" in english


def test_review_show_prints_a_dash_for_a_value_not_given(home, tmp_path):
    page = tmp_path / "salle.md"
    page.write_text("# Salle\n\nLa salle des fêtes se loue le samedi.\n", encoding="utf-8")
    assert run(home, "add", str(page), env=FRENCH).exit_code == 0  # no licence: held
    shown = run(home, "review", "show", "1", env=FRENCH).output
    assert f"contributeur{NB}: -\n" in shown and "None" not in shown, shown
    english = run(home, "review", "show", "1", env={"LANG": "en_US.UTF-8"}).output
    assert "  contributor: -\n" in english and "None" not in english


def test_an_unreadable_upload_is_explained_in_french_to_the_last_word():
    from commune.text.messages import localise

    assert localise("scan.pdf: no text found (a scanned PDF needs OCR first)", "fr") == (
        "scan.pdf\u00a0: aucun texte trouvé (un PDF numérisé doit d'abord passer par une "
        "reconnaissance de caractères (OCR))"
    )
    said = localise("LISEZMOI: unsupported type (no extension) (supported: .md)", "fr")
    assert said.startswith(f"LISEZMOI{NB}: type non pris en charge (pas d'extension)"), said


def test_a_file_python_cannot_parse_is_said_in_french_where_it_stopped(home, tmp_path):
    # Found by an exploratory test: the French line carried tomllib's and json's English
    # ("Expected ']' at the end of a table declaration (at line 1, column 8)").
    home.mkdir(parents=True)
    (home / "commune.toml").write_text("[limits\nmax_body_kb = 3\n")
    assert run(home, "documents", env=FRENCH).stderr == (
        f"erreur{NB}: {home / 'commune.toml'} n'est pas du TOML valide{NB}: «{NB}]{NB}» attendu à "
        "la fin de la déclaration de table (ligne 1, colonne 8) (corrigez le fichier ou "
        "supprimez-le)\n"
    )
    (home / "commune.toml").unlink()
    make_home(home)
    (home / "charter.toml").write_text('version = "1"\nversion = "2"\n')
    checked = run(home, "check", env=FRENCH)
    assert (
        f"{home / 'charter.toml'}{NB}: TOML invalide{NB}: une valeur est donnée deux fois "
        "(ligne 2, colonne 14) (corrigez la charte)" in checked.output
    ), checked.output
    (home / "charter.toml").unlink()
    suite = tmp_path / "suite.jsonl"
    suite.write_text(
        '{"id": "a", "question": "x?", "language": "fr", "collection": "c"}\n{"id": "b", \n'
    )
    assert run(home, "eval", str(suite), env=FRENCH).stderr == (
        f"erreur{NB}: suite.jsonl ligne 2{NB}: JSON invalide (nom de propriété entre "
        "guillemets doubles attendu) (corrigez le fichier de la série comme le décrit "
        "docs/fr/evaluation.md, puis relancez commune eval)\n"
    )
    report = tmp_path / "report.json"
    report.write_text('{"kind": "commune-eval",}')
    said = run(home, "eval", "--compare", str(report), str(suite), env=FRENCH).stderr
    assert said == (
        f"erreur{NB}: {report} n'est pas un rapport valide{NB}: nom de propriété entre "
        "guillemets doubles attendu (ligne 1, colonne 25) (donnez à --compare le report.json "
        "qu'une évaluation précédente a écrit avec --out, ou ce dossier)\n"
    )
    # Under an English locale, the parsers' own words, unchanged.
    assert "Expecting property name" in run(home, "eval", str(suite)).stderr
    from commune.text.messages import localise

    # A fiche's JSON (ingest/dila.py); a reason a later Python may word otherwise is still
    # French, where it stopped kept.
    assert localise("f.json: not valid JSON (Extra data at line 3 column 2)", "fr") == (
        "f.json\u00a0: JSON non valide\u00a0: données en trop après la valeur (ligne 3, colonne 2)"
    )
    assert localise("c.toml is not valid TOML: Bad thing (at line 2, column 1)", "fr") == (
        f"c.toml n'est pas du TOML valide{NB}: syntaxe non valide (ligne 2, colonne 1)"
    )


@pytest.mark.usefixtures("made_home")
def test_serve_on_a_name_that_resolves_to_nothing_says_so_in_french(home):
    said = run(home, "serve", "--host", "nulle-part.invalid", env=FRENCH).stderr
    assert said == (
        f"erreur{NB}: impossible d'écouter sur nulle-part.invalid:8000{NB}: aucune adresse "
        "trouvée pour nulle-part.invalid (donnez une adresse comme 127.0.0.1 ou 0.0.0.0, ou "
        "un nom que cette machine résout)\n"
    )


def test_a_licence_text_that_is_not_utf8_is_said_in_french(home, tmp_path):
    note = tmp_path / "note.txt"
    note.write_text("Le conseil municipal se réunit le premier jeudi du mois.")
    licence = tmp_path / "licence.txt"
    licence.write_bytes("Licence de la coopérative, version é".encode("latin-1"))
    r = run(
        home,
        "add",
        str(note),
        "--licence",
        "LicenseRef-coop",
        "--licence-text",
        str(licence),
        env=FRENCH,
    )
    assert r.exit_code == 2
    assert r.stderr.splitlines()[-1] == (
        f"Erreur{NB}: --licence-text {licence}{NB}: pas du texte UTF-8 (octet 0xe9 à la "
        f"position 18){NB}: enregistrez-le en UTF-8"
    )


def test_curation_asking_more_approvals_than_people_sign_off_is_refused(home, tmp_path):
    # Found by an exploratory test: --approvals 1000 was taken, and would have held every
    # contribution to the collection for good.
    from commune.core import Commune

    doc = tmp_path / "verre.md"
    doc.write_text("Le verre se dépose au conteneur de la place.", encoding="utf-8")
    added = run(home, "add", str(doc), "--collection", "mairie", "--licence", "etalab-2.0")
    assert added.exit_code == 0
    refused = run(home, "curation", "mairie", "--approvals", "1000", env=FRENCH)
    assert refused.exit_code != 0 and refused.stderr == (
        f"erreur{NB}: le nombre d'approbations doit être au plus 10, reçu 1000 (chacune est "
        f"celle d'un relecteur différent, et une révision les attend toutes{NB}: "
        "demandez-en moins)\n"
    )
    with Commune(home) as commune, commune.engine.connect() as conn:  # nothing changed
        from sqlalchemy import select

        from commune.store.schema import collections

        assert conn.execute(select(collections.c.approvals_required)).scalars().all() == [0]
        assert not [e for e in commune.audit_entries() if e["action"] == "curation-rules"]
    assert run(home, "curation", "mairie", "--approvals", "10").exit_code == 0


def test_roles_diffs_an_empty_listing_and_json_flags_speak_french(home, tmp_path):
    # Found exploring: "désormais contributor", "--- revision (none)", `commune documents`
    # printing nothing at all on an empty home, and --json flags without help.
    make_home(home)
    assert run(home, "documents", env=FRENCH).output == (
        f"aucun document{NB}: ajoutez-en avec commune add CHEMIN --licence LICENCE\n"
    )
    assert run(home, "documents").exit_code == 0
    assert run(home, "member", "add", "Ville A", "--kind", "town").exit_code == 0
    added = run(
        home, "user", "add", "cora", "--member", "Ville A", "--role", "contributor", env=FRENCH
    )
    assert added.exit_code == 0, added.output
    assert added.output.endswith("comme contributeur\n"), added.output
    now = run(home, "user", "set-role", "cora", "curator", env=FRENCH).output
    assert now == f"utilisateur cora{NB}: désormais curateur\n", now
    assert run(home, "user", "list", env=FRENCH).output == "cora\tVille A\tcurateur\n"
    doc = tmp_path / "verre.md"
    doc.write_text("Le verre se dépose au conteneur de la place.", encoding="utf-8")
    run(home, "add", str(doc), "--collection", "mairie")  # no licence: held, nothing before
    shown = run(home, "review", "show", "1", env=FRENCH).output.splitlines()
    assert "--- aucune révision" in shown and "+++ révision 1" in shown, shown
    assert "--- revision (none)" in run(home, "review", "show", "1").output
    for command in (["credits"], ["review", "list"], ["documents"], ["user", "list"]):
        said = run(home, *command, "--help", env=FRENCH).output
        assert "en JSON" in said.split("--json", 1)[1].splitlines()[0], said


def test_a_name_with_an_apostrophe_is_refused_in_french(tmp_path: Path) -> None:
    # Python's repr puts "Ville d'Avray" between double quotes, which no pattern of
    # text/messages.py matched: the refusal stayed English for names French often has.
    from commune.text.messages import localise

    home = make_home(tmp_path)
    said = run(home, "user", "add", "zoe", "--member", "Ville d'Avray", env=FRENCH)
    assert said.exit_code != 0
    assert 'aucun membre nommé "Ville d\'Avray"' in said.output, said.output
    said = run(home, "documents", "--collection", "l'eau", env=FRENCH)
    assert 'aucune collection nommée "l\'eau"' in said.output, said.output
    quota = 'member "Ville d\'Avray" has used its quota of 2 requests per day (2 used)'
    assert localise(quota, "fr").startswith('le membre "Ville d\'Avray" a épuisé son quota')
    assert localise("no collection named 'eau'", "fr") == "aucune collection nommée 'eau'"


def test_a_file_without_extension_is_refused_in_french_on_the_pages_too():
    # The pages' own pattern took "(no extension)" for the suffix, and kept it in English.
    from commune.web import i18n

    i18n.use("fr")
    said = i18n.translate(
        "passwd: unsupported type (no extension) "
        "(upload txt, md, html, pdf, odt, ods or docx files)"
    )
    assert "type non pris en charge (pas d'extension)" in said and "no extension" not in said
    assert "type non pris en charge .exe" in i18n.translate("a.exe: unsupported type .exe")


def test_quotas_read_french(home):
    # Found following docs/fr/exploitation.md: `commune member set … --requests-per-day 200`
    # answered "membre X : requests_per_day=200", a column name and an English decimal point
    # in the middle of French output.
    assert run(home, "member", "add", "Coop Q", env=FRENCH).exit_code == 0
    done = run(
        home,
        "member",
        "set",
        "Coop Q",
        "--requests-per-day",
        "2000",
        "--wh-per-month",
        "2.5",
        env=FRENCH,
    )
    quotas = f"2{NNBSP}000 requêtes par jour, 2,5 Wh par mois"
    assert done.exit_code == 0 and done.output == f"membre Coop Q{NB}: {quotas}\n", done.output
    assert (
        f"Coop Q\tother\tnon-commercial\t{quotas}\n"
        in run(home, "member", "list", env=FRENCH).output
    )
    assert run(home, "user", "add", "quentin", "--member", "Coop Q", env=FRENCH).exit_code == 0
    one = run(home, "user", "set", "quentin", "--requests-per-day", "1", env=FRENCH)
    assert one.output == f"utilisateur quentin{NB}: 1 requête par jour\n", one.output
    english = run(home, "member", "list", env={"LANG": "en_US.UTF-8"}).output
    assert "requests_per_day=2000, wh_per_month=2.5" in english


def test_a_decimal_quota_reads_with_the_decimals_it_was_set_with(home):
    # A Wh quota of 0.00001 read « 0 Wh par mois » in French (its decimals counted from
    # repr, "1e-05", found none): a cap shown as nothing at all.
    assert run(home, "member", "add", "Coop R", env=FRENCH).exit_code == 0
    done = run(home, "member", "set", "Coop R", "--wh-per-month", "0.00001", env=FRENCH)
    assert done.output == f"membre Coop R{NB}: 0,00001 Wh par mois\n", done.output
    english = run(home, "member", "list", env={"LANG": "en_US.UTF-8"}).output
    assert "wh_per_month=1e-05" in english, english


def test_review_show_says_what_changed_when_the_text_did_not(home, tmp_path):
    # Found walking the product as a curator: a file sent again under another licence printed
    # "(aucun changement dans le texte)" and nothing of what had changed instead.
    page = tmp_path / "salle.md"
    page.write_text("# Salle\n\nLa salle des fêtes se loue le samedi.\n", encoding="utf-8")
    assert run(home, "add", str(page), "--licence", "etalab-2.0", env=FRENCH).exit_code == 0
    again = run(home, "add", str(page), "--licence", "CC-BY-4.0", env=FRENCH)
    assert again.exit_code == 0, again.output
    shown = run(home, "review", "show", "2", env=FRENCH).output
    assert shown.endswith(f"Le texte n'a pas changé. Ce qui a changé{NB}: sa licence.\n"), shown
    english = run(home, "review", "show", "2", env={"LANG": "en_US.UTF-8"}).output
    assert english.endswith("The text did not change. What changed: its licence.\n"), english


def test_history_of_a_retired_document_says_its_text_is_retired(home, tmp_path):
    # Found walking the product as a curator: `commune history` of the document just retired
    # read « publiée », where `commune documents` read « (retiré) » and its contributor's page
    # « retirée ».
    page = tmp_path / "salle.md"
    page.write_text("# Salle\n\nLa salle des fêtes se loue le samedi.\n", encoding="utf-8")
    assert run(home, "add", str(page), "--licence", "etalab-2.0", env=FRENCH).exit_code == 0
    assert run(home, "retire", "1", "--reason", "périmé", env=FRENCH).exit_code == 0
    said = run(home, "history", "1", env=FRENCH).output
    assert said.startswith(f"révision 1 (id 1){NB}: retirée, licence etalab-2.0"), said
    english = run(home, "history", "1", env={"LANG": "en_US.UTF-8"}).output
    assert english.startswith("revision 1 (id 1): retired, licence etalab-2.0"), english


def test_add_says_the_file_of_a_retired_document_sent_again_brings_nothing_back(home, tmp_path):
    # Found walking the product as a curator: the file of a document retired by mistake,
    # added again, was counted « 1 inchangé » and nothing more, the commons citing it no
    # longer and nothing waiting for a curator.
    page = tmp_path / "salle.md"
    page.write_text("# Salle\n\nLa salle des fêtes se loue le samedi.\n", encoding="utf-8")
    assert run(home, "add", str(page), "--licence", "etalab-2.0", env=FRENCH).exit_code == 0
    assert run(home, "retire", "1", "--reason", "erreur", env=FRENCH).exit_code == 0
    again = run(home, "add", str(page), "--licence", "etalab-2.0", env=FRENCH)
    assert again.exit_code == 0, again.output
    assert (
        f"à noter{NB}: {page}{NB}: un curateur a retiré ce document{NB}: les communs ne le "
        "citent plus, et le même fichier envoyé de nouveau ne le remet pas en service (envoyez "
        f"un fichier corrigé{NB}: un relecteur de la collection le relira)\n"
    ) in again.stderr, again.stderr
    english = run(home, "add", str(page), "--licence", "etalab-2.0", env={"LANG": "en_US.UTF-8"})
    assert f"note: {page}: a curator retired this document: " in english.stderr, english.stderr


def test_review_show_names_a_new_contributor_or_reservation_as_what_changed(home, tmp_path):
    # Found reviewing dfc0312b: the same file added again by another contributor, or with text
    # and data mining reserved since, is a new revision of its own; `commune review show`
    # said of it « Rien n'a changé : ni le texte ni ce qui est enregistré avec lui ».
    page = tmp_path / "salle.md"
    page.write_text("# Salle\n\nLa salle des fêtes se loue le samedi.\n", encoding="utf-8")
    assert run(home, "add", str(page), "--licence", "etalab-2.0", env=FRENCH).exit_code == 0
    again = run(home, "add", str(page), "--contributor", "Mairie de B", env=FRENCH)
    assert again.exit_code == 0, again.output
    shown = run(home, "review", "show", "2", env=FRENCH).output
    assert shown.endswith(f"Le texte n'a pas changé. Ce qui a changé{NB}: son contributeur.\n"), (
        shown
    )
    english = run(home, "review", "show", "2", env={"LANG": "en_US.UTF-8"}).output
    assert english.endswith("The text did not change. What changed: its contributor.\n"), english
    reserved = run(home, "add", str(page), "--tdm-reserved", env=FRENCH)
    assert reserved.exit_code == 0, reserved.output
    shown = run(home, "review", "show", "3", env=FRENCH).output
    assert shown.endswith(
        f"Ce qui a changé{NB}: sa réserve de fouille de textes et de données.\n"
    ), shown


def test_add_says_the_file_a_curator_rejected_or_sent_back_added_again_brings_nothing(
    home, tmp_path
):
    # The path 32d5fb5f left untested: a file a curator rejected, or sent back for changes,
    # added again as it was, is counted « 1 inchangé »; `commune add` names the curator and
    # their reason, as the upload does, and stores nothing.
    page = tmp_path / "salle.md"
    page.write_text("# Salle\n\nLa salle des fêtes se loue le samedi.\n", encoding="utf-8")
    assert run(home, "add", str(page), env=FRENCH).exit_code == 0  # no licence: it waits
    assert run(home, "review", "reject", "1", "--reason", "le tarif manque").exit_code == 0
    again = run(home, "add", str(page), env=FRENCH)
    assert again.exit_code == 0, again.output
    assert (
        f"à noter{NB}: {page}{NB}: un relecteur a rejeté ce fichier (operator{NB}: le tarif "
        f"manque){NB}: modifiez-le avant de l'envoyer de nouveau\n"
    ) in again.stderr, again.stderr
    assert "0 ajouté, 0 mis à jour, 1 inchangé" in again.stdout, again.stdout
    english = run(home, "add", str(page), env={"LANG": "en_US.UTF-8"})
    assert (
        f"note: {page}: a reviewer rejected this file (operator: le tarif manque): change it "
        "before sending it again\n"
    ) in english.stderr, english.stderr
    assert run(home, "review", "list", env=FRENCH).output == "rien n'attend de curation\n"
    other = tmp_path / "piscine.md"
    other.write_text("# Piscine\n\nLa piscine ouvre le mercredi.\n", encoding="utf-8")
    assert run(home, "add", str(other), env=FRENCH).exit_code == 0
    sent_back = run(home, "review", "request-changes", "2", "--reason", "ajoutez les horaires")
    assert sent_back.exit_code == 0, sent_back.output
    again = run(home, "add", str(other), env=FRENCH)
    assert (
        f"à noter{NB}: {other}{NB}: un relecteur a demandé des modifications de ce fichier "
        f"(operator{NB}: ajoutez les horaires){NB}: modifiez-le avant de l'envoyer de nouveau\n"
    ) in again.stderr, again.stderr


def test_add_says_a_file_sent_again_unchanged_still_waits_for_a_curator(home, tmp_path):
    # The upload's result says « reçu ; il attend la curation — why » of a file sent again as
    # it was while it waits; `commune add` said only « 1 inchangé », as if it were published.
    page = tmp_path / "salle.md"
    page.write_text("# Salle\n\nLa salle des fêtes se loue le samedi.\n", encoding="utf-8")
    assert run(home, "add", str(page), env=FRENCH).exit_code == 0  # no licence: it waits
    again = run(home, "add", str(page), env=FRENCH)
    assert again.exit_code == 0, again.output
    assert (
        f"en attente de curation{NB}: {page}{NB}: aucune licence donnée{NB}: un relecteur doit "
        "en fixer une avant publication\n"
    ) in again.stderr, again.stderr
    assert "0 ajouté, 0 mis à jour, 1 inchangé" in again.stdout, again.stdout
    english = run(home, "add", str(page), env={"LANG": "en_US.UTF-8"})
    # Its reason's own words aside (another change rewords "a curator must set one").
    assert f"held for curation: {page}: no licence given: " in english.stderr, english.stderr
    queue = json.loads(run(home, "review", "list", "--json").output)
    assert len(queue) == 1, queue  # still the one revision: nothing queued again


def test_history_says_what_changed_of_a_revision_whose_text_did_not(home, tmp_path):
    # Found reviewing 87072ccc: the document's page names what changed beside the text, but
    # `commune history` printed nothing under such a revision (its diff is empty), as if it
    # were the same revision twice.
    page = tmp_path / "salle.md"
    page.write_text("# Salle\n\nLa salle des fêtes se loue le samedi.\n", encoding="utf-8")
    assert run(home, "add", str(page), "--licence", "etalab-2.0", env=FRENCH).exit_code == 0
    again = run(home, "add", str(page), "--licence", "CC-BY-4.0", env=FRENCH)
    assert again.exit_code == 0, again.output
    said = run(home, "history", "1", env=FRENCH).output
    assert said.endswith(
        f"par -\n    Le texte n'a pas changé. Ce qui a changé{NB}: sa licence.\n"
    ), said
    assert said.startswith(f"révision 1 (id 1){NB}: publiée"), said  # the first: its text
    assert "+La salle des fêtes se loue le samedi." in said, said
    english = run(home, "history", "1", env={"LANG": "en_US.UTF-8"}).output
    assert english.endswith("by -\n    The text did not change. What changed: its licence.\n"), (
        english
    )
