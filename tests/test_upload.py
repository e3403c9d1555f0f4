"""POST /api/documents: contributing over HTTP, with the same rules as `commune add`, and
bad uploads refused one by one with a one-line reason, the store unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from commune.errors import CommuneError
from tests.conftest import EN, make_key
from tests.fixtures import make_ods, make_pdf


@pytest.fixture
def api(commune):  # type: ignore[no-untyped-def]
    from commune.api.app import create_app

    key = make_key(commune, "cora", "Ville A", "contributor")
    client = TestClient(create_app(commune), headers=EN)
    client.headers["Authorization"] = f"Bearer {key}"
    return commune, client


def test_contributing_files_with_a_licence(api):
    commune, client = api
    pdf = make_pdf(["Le conseil municipal se réunit le premier jeudi du mois à la mairie."])
    r = client.post(
        "/api/documents",
        files=[
            ("files", ("conseil.pdf", pdf, "application/pdf")),
            ("files", ("marche.md", "# Marché\n\nLe marché a lieu le samedi.".encode(), "text/md")),
        ],
        data={"collection": "vie-locale", "licence": "etalab-2.0"},
    )
    assert r.status_code == 200, r.text
    files = {f["file"]: f for f in r.json()["files"]}
    assert files["conseil.pdf"]["status"] == "added" and files["marche.md"]["chunks"] >= 1
    hits = commune.search("Quand se réunit le conseil municipal ?", "vie-locale")
    assert hits[0].title and hits[0].licence == "etalab-2.0"
    assert hits[0].contributor == "cora (Ville A)"
    assert hits[0].source.startswith("urn:commune:upload:vie-locale/")
    # The same file again: unchanged, not a second document; nothing left in uploads/.
    again = client.post(
        "/api/documents",
        files=[("files", ("conseil.pdf", pdf, "application/pdf"))],
        data={"collection": "vie-locale", "licence": "etalab-2.0"},
    )
    assert again.json()["files"][0]["status"] == "unchanged"
    assert not any((commune.settings.home / "uploads").iterdir())


def test_an_upload_without_a_licence_waits_for_a_curator(api):
    commune, client = api
    r = client.post(
        "/api/documents",
        files=[
            ("files", ("avis.txt", b"Avis de coupure d'eau lundi matin rue des Lilas.", "text"))
        ],
        data={"collection": "avis"},
    )
    assert r.status_code == 200 and "licence" in (r.json()["files"][0]["held"] or "")
    assert commune.search("coupure d'eau", "avis") == []


def test_an_unrecorded_own_licence_says_what_to_do_where_no_text_can_be_given(api):
    # Found by an exploratory test: the upload, the contribute page and `commune review
    # approve --licence` answered "give it with --licence-text FILE", an option none of them
    # has (only `commune add` does).
    commune, client = api
    r = client.post(
        "/api/documents",
        files=[("files", ("avis.txt", b"Avis de coupure d'eau lundi rue des Lilas.", "text"))],
        data={"collection": "avis", "licence": "LicenseRef-coop-1.0"},
        headers={"Accept-Language": "fr"},
    )
    assert r.status_code == 400 and "--licence-text FICHIER (" not in r.text, r.text
    assert r.json()["detail"] == (
        "aucun texte n'est enregistré pour LicenseRef-coop-1.0 (choisissez une licence de la "
        "liste, ou faites d'abord enregistrer son texte par l'opérateur\u00a0: commune add "
        "FICHIER --licence LicenseRef-coop-1.0 --licence-text TEXTE)"
    )
    assert commune.documents() == []
    client.post(
        "/api/documents",
        files=[("files", ("avis.txt", b"Avis de coupure d'eau lundi rue des Lilas.", "text"))],
        data={"collection": "avis"},
    )
    [waiting] = commune.pending()
    with pytest.raises(CommuneError, match="have the operator record its text first") as exc:
        commune.review(waiting["id"], "approve", "lu", licence="LicenseRef-coop-1.0")
    assert "--licence-text FILE (" not in str(exc.value)


def test_why_an_upload_waits_is_said_in_the_callers_language(api):
    # Found by an exploratory test: the reason was English inside a French response.
    commune, client = api
    r = client.post(
        "/api/documents",
        files=[("files", ("avis.txt", b"Avis de coupure d'eau lundi rue des Lilas.", "text"))],
        data={"collection": "avis"},
        headers={"Accept-Language": "fr"},
    )
    # The pages' words (web/i18n.py), as the contribute page and `commune add` say it.
    assert r.json()["files"][0]["held"] == (
        "aucune licence donnée\u00a0: un relecteur doit en fixer une avant publication"
    )
    commune.set_curation_rules("avis", approvals=2, role="curator")
    r = client.post(
        "/api/documents",
        files=[("files", ("travaux.txt", b"Travaux de voirie mardi rue des Lilas.", "text"))],
        data={"collection": "avis", "licence": "etalab-2.0"},
        headers={"Accept-Language": "fr"},
    )
    held = r.json()["files"][0]["held"]
    assert held == "la collection demande 2 approbations par un curateur ou plus"
    # In English too, the count takes its plural (« 2 approval(s) » read as a form).
    r = client.post(
        "/api/documents",
        files=[("files", ("voirie.txt", b"Voirie: the Lilas street works on Tuesday.", "text"))],
        data={"collection": "avis", "licence": "etalab-2.0"},
        headers={"Accept-Language": "en"},
    )
    held = r.json()["files"][0]["held"]
    assert held == "the collection needs 2 approvals by a curator or above"


def test_a_text_file_in_utf16_is_taken_as_text(api):
    # Found by an exploratory test: its zero bytes read as binary before its mark was seen.
    commune, client = api
    notice = "Avis de coupure d'eau lundi matin rue des Lilas, de 8 h à 12 h."
    r = client.post(
        "/api/documents",
        files=[("files", ("avis.txt", notice.encode("utf-16"), "text/plain"))],
        data={"collection": "avis", "licence": "etalab-2.0"},
    )
    assert r.status_code == 200 and r.json()["files"][0]["status"] == "added", r.text
    assert "coupure d'eau lundi" in commune.search("coupure d'eau", "avis")[0].text


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.txt", b"\x7fELF\x02\x01\x01 binary", "the content is a program (ELF), not text"),
        ("rapport.pdf", b"MZ\x90\x00 windows", "the content is not a PDF file"),
        ("lettre.docx", b"%PDF-1.4 a pdf in disguise", "the content is not a DOCX file"),
        ("photo.txt", b"\x89PNG\r\n\x1a\n...", "a PNG image, not text"),
        ("../../etc/passwd", b"root:x:0:0", "unsupported type (no extension)"),
        ("..", b"text", "it has no file name"),
        ("script.sh", b"echo hi", "unsupported type .sh"),
        # A town hall's documents, zipped: what to do with it, not the list of supported types.
        ("pieces.zip", b"PK\x03\x04 zip", "an archive, whose files are not read from it "),
        ("pieces.tar.gz", b"\x1f\x8b gz", "(unpack it, then upload the files it holds)"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(api, name, data, message):
    commune, client = api
    r = client.post(
        "/api/documents",
        files=[("files", (name, data, "application/octet-stream"))],
        data={"collection": "vie-locale", "licence": "etalab-2.0"},
    )
    assert r.status_code == 400
    (only,) = r.json()["files"]
    assert only["status"] == "failed" and message in only["error"]
    assert "\n" not in only["error"]
    assert commune.documents() == [] and commune.collections() == []


def test_a_name_spelt_with_decomposed_accents_is_the_same_document(api):
    # A Mac sends "réunion.md" as "re\u0301union.md", Windows composed: the same file sent
    # from both was two documents, each passage found twice.
    import unicodedata

    commune, client = api
    text = "# Réunion\n\nLe conseil se réunit le premier jeudi du mois.".encode()
    for name in ("réunion.md", unicodedata.normalize("NFD", "réunion.md")):
        r = client.post(
            "/api/documents",
            files=[("files", (name, text, "text/markdown"))],
            data={"collection": "vie-locale", "licence": "etalab-2.0"},
        )
        assert r.status_code == 200, r.text
    assert r.json()["files"][0] == {**r.json()["files"][0], "status": "unchanged"}
    assert r.json()["files"][0]["file"] == "réunion.md"
    [doc] = commune.documents()
    assert doc["source_uri"] == "urn:commune:upload:vie-locale/réunion.md"


def test_a_pdf_with_scanned_pages_comes_back_with_a_note(api):
    commune, client = api
    pdf = make_pdf(["Le conseil approuve la convention du gymnase.", None])
    for language, said in (
        ("en", "annexes.pdf: pages without text (scanned?): 1 of 2, which no search finds"),
        ("fr", "annexes.pdf\u00a0: pages sans texte (numérisées\u00a0?)\u00a0: 1 sur 2, qu'aucune"),
    ):
        r = client.post(
            "/api/documents",
            files=[("files", ("annexes.pdf", pdf, "application/pdf"))],
            data={"collection": f"vie-{language}", "licence": "etalab-2.0"},
            headers={"Accept-Language": language},
        )
        (only,) = r.json()["files"]
        assert only["status"] == "added" and only["note"].startswith(said), only


def test_a_spreadsheet_is_contributed_and_found(api, tmp_path):
    commune, client = api
    sheet = make_ods(tmp_path / "tarifs.ods", {"Cantine": [["Moins de 500", "1 € le repas"]]})
    r = client.post(
        "/api/documents",
        files=[("files", ("tarifs.ods", sheet.read_bytes(), "application/octet-stream"))],
        data={"collection": "vie-locale", "licence": "etalab-2.0"},
    )
    assert r.status_code == 200 and r.json()["files"][0]["status"] == "added", r.text
    assert "1 € le repas" in commune.search("prix du repas", "vie-locale")[0].text


def test_a_hidden_file_is_refused_not_dropped_without_a_word(api):
    # Uploads are added as a folder, whose reading passes over hidden files: ".notes.md"
    # was accepted, then missing from the reply, and never stored.
    commune, client = api
    r = client.post(
        "/api/documents",
        files=[
            ("files", (".notes.md", b"# Notes\n\nLe cache de la mairie est vide.", "text")),
            ("files", ("marche.md", b"# Marche\n\nLe marche a lieu le samedi.", "text")),
        ],
        data={"collection": "vie-locale", "licence": "etalab-2.0"},
    )
    files = {f["file"]: f for f in r.json()["files"]}
    assert files["marche.md"]["status"] == "added"
    assert files[".notes.md"]["status"] == "failed"
    assert "rename it without the dot" in files[".notes.md"]["error"]
    french = client.post(
        "/api/documents",
        files=[("files", (".notes.md", b"Le cache est vide.", "text"))],
        data={"collection": "vie-locale", "licence": "etalab-2.0"},
        headers={"Accept-Language": "fr"},
    )
    assert french.json()["files"][0]["error"] == (
        ".notes.md\u00a0: un nom de fichier caché (il commence par un point) (renommez-le sans le "
        "point)"
    )


def test_a_file_of_the_same_name_from_another_member_waits_for_a_curator(api):
    # Found by an exploratory test: uploads are addressed by collection and file name, so
    # Ville B's "compte-rendu.md" replaced Ville A's at once, and A's text left the answers.
    commune, client = api  # cora, of Ville A
    from commune.api.app import create_app

    def send(who: TestClient, text: str) -> dict:  # type: ignore[type-arg]
        r = who.post(
            "/api/documents",
            files=[("files", ("compte-rendu.md", text.encode(), "text/markdown"))],
            data={"collection": "deliberations", "licence": "etalab-2.0"},
        )
        return r.json()["files"][0]  # type: ignore[no-any-return]

    send(client, "# Conseil\n\nLe conseil de Ville A rénove l'école Jules Ferry.")
    commune.set_visibility("deliberations", "shared")  # Ville A's, shared with the others
    other = TestClient(create_app(commune), headers=EN)
    other.headers["Authorization"] = f"Bearer {make_key(commune, 'bob', 'Ville B', 'contributor')}"
    held = send(other, "# Conseil\n\nLe conseil de Ville B construit un parking.")
    assert held["status"] == "updated" and "another member" in held["held"]
    assert "Jules Ferry" in commune.search("école Jules Ferry", "deliberations")[0].text
    # A colleague of the same member updates it as before.
    colleague = TestClient(create_app(commune), headers=EN)
    colleague.headers["Authorization"] = (
        f"Bearer {make_key(commune, 'cleo', 'Ville A', 'contributor')}"
    )
    done = send(colleague, "# Conseil\n\nLe conseil de Ville A rénove aussi le gymnase.")
    assert done["status"] == "updated" and done["held"] is None


def test_a_traversal_name_keeps_only_its_last_part(api, tmp_path):
    commune, client = api
    r = client.post(
        "/api/documents",
        files=[("files", ("../../../../tmp/evil.txt", b"Le bac vert prend le verre.", "text"))],
        data={"collection": "tri", "licence": "etalab-2.0"},
    )
    assert r.status_code == 200 and r.json()["files"][0]["file"] == "evil.txt"
    assert commune.documents("tri")[0]["source_uri"] == "urn:commune:upload:tri/evil.txt"


def test_a_file_over_the_limit_is_refused_before_it_is_stored(home):
    from commune.api.app import create_app
    from commune.core import Commune

    home.mkdir(parents=True)
    (home / "commune.toml").write_text("[limits]\nmax_file_mb = 0.001\n")
    with Commune(home) as c:
        key = make_key(c, "cora", "Ville A", "contributor")
        client = TestClient(create_app(c), headers=EN)
        r = client.post(
            "/api/documents",
            files=[("files", ("long.txt", b"mot " * 2000, "text/plain"))],
            data={"licence": "etalab-2.0"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert r.status_code == 400
        assert "over the limit of 0.001 MB" in r.json()["files"][0]["error"]
        assert c.documents() == []
        # Between 1,000 and 1,024 bytes: the same megabyte as commune add's, refused here.
        r = client.post(
            "/api/documents",
            files=[("files", ("juste.txt", b"x" * 1020, "text/plain"))],
            data={"licence": "etalab-2.0"},
            headers={"Authorization": f"Bearer {key}"},
        )
        said = r.json()["files"][0]["error"]
        assert "over the limit of 0.001 MB" in said and "commune.toml" not in said, said


def test_the_upload_route_is_in_the_openapi_description(api):
    _, client = api
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/api/documents"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in body


def test_a_disk_error_while_staging_leaves_no_folder_behind(home, monkeypatch):
    # The staging folder was made before the code that removes it: a full disk left it.
    import asyncio
    import errno

    from commune.config import load_settings
    from commune.ingest.upload import read_uploads

    class Upload:
        filename = "note.txt"

        async def read(self, n: int) -> bytes:
            return b"Le bac jaune.\n"

    real = Path.write_bytes

    def full(self: Path, data: bytes) -> int:
        if "upload-" in str(self.parent):
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, data)

    home.mkdir(parents=True)
    settings = load_settings(home)
    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(OSError):
        asyncio.run(read_uploads(settings, [Upload()]))
    assert list((home / "uploads").iterdir()) == []


def test_a_collection_name_too_long_is_said_in_the_apis_terms(api):
    # Found by an exploratory test: the upload answered "give a shorter --collection", an
    # option of `commune add` that an API caller does not have; its field is "collection".
    commune, client = api
    sent = {"files": [("files", ("avis.txt", b"Avis de coupure d'eau lundi matin.", "text"))]}
    r = client.post("/api/documents", **sent, data={"collection": "x" * 300})
    assert r.status_code == 400 and r.json()["detail"] == (
        "the collection's name is 300 characters long, over 200 (give a shorter collection)"
    )
    r = client.post(
        "/api/documents", **sent, data={"collection": "x" * 300}, headers={"Accept-Language": "fr"}
    )
    assert r.json()["detail"] == (
        "le nom de la collection compte 300 caractères, plus de 200 (donnez une collection au "
        "nom plus court)"
    )
    assert commune.collections() == []
    with pytest.raises(CommuneError, match="give a shorter --collection"):  # the CLI's words
        commune.add([], collection="x" * 300)


def test_a_model_with_extractive_answers_is_said_in_the_apis_terms(api):
    commune, client = api
    asked = {"question": "Quand ouvre la piscine ?", "mode": "extractive", "model": "gpu"}
    r = client.post("/api/ask", json=asked)
    assert r.status_code == 400 and "--" not in r.text
    assert r.json()["detail"] == (
        "a model is for generated answers (drop model, or give mode generate)"
    )


def test_a_server_starting_removes_the_uploads_a_dead_one_left_and_no_other(commune):
    # Found by an exploratory test: a server killed mid-upload left home/uploads/upload-*
    # for good, the files contributed in it with it.
    import os

    from commune.api.app import create_app
    from commune.ingest.upload import Staged

    home = commune.settings.home
    old = 1_000_000_000  # 2001: as a folder left long ago
    dead = home / "uploads" / "upload-dead"
    dead.mkdir(parents=True)
    (dead / "note.txt").write_text("Le bac jaune.")
    os.utime(dead, (old, old))
    busy = Staged(str(home))  # another server's upload, in progress
    (busy.directory / "avis.txt").write_text("Coupure d'eau lundi.")
    os.utime(busy.directory, (old, old))
    young = home / "uploads" / "upload-young"  # just made: its lock not taken yet
    young.mkdir()
    with TestClient(create_app(commune)) as client:
        assert client.get("/healthz").status_code == 200
    assert not dead.exists()
    assert (busy.directory / "avis.txt").exists() and young.exists()
    busy.remove()
    assert not busy.directory.exists()


def test_a_collection_name_with_a_line_break_or_an_escape_is_refused(api):
    # A contributor names a new collection; `commune collections` and `commune documents`
    # printed it on the operator's terminal, where "\n" forged a line and "\x1b]0;…\x07"
    # set the terminal's title (exploratory security test). Nothing is stored.
    commune, client = api
    sent = {"files": [("files", ("avis.txt", b"Avis de coupure d'eau lundi matin.", "text"))]}
    for name in ("avis\nsecreta\t1", "avis\x1b]0;pwned\x07", "avis\u202eroh"):
        r = client.post("/api/documents", **sent, data={"collection": name})
        assert r.status_code == 400 and "may not hold tabs, line breaks" in r.json()["detail"]
    r = client.post(
        "/api/documents", **sent, data={"collection": "a\nb"}, headers={"Accept-Language": "fr"}
    )
    assert r.json()["detail"].startswith("le nom d'une collection ne peut contenir ni"), r.json()
    assert commune.collections() == []
    r = client.post("/api/documents", **sent, data={"collection": "Eau d'Avray (2026)"})
    assert r.status_code == 200, r.text


def test_a_collection_started_by_an_upload_is_the_uploaders_members_and_private(api):
    """An upload under a new name made a collection shared with every member and owned by
    none: another town's people read a town's drafts, and the page did not say so."""
    commune, client = api  # cora, of Ville A
    from commune.api.app import create_app

    r = client.post(
        "/api/documents",
        files=[("files", ("brouillon.md", b"# Budget\n\nProjet de budget 2027.", "text"))],
        data={"collection": "budget-ville-a", "licence": "etalab-2.0"},
    )
    assert r.status_code == 200, r.text
    [started] = [c for c in commune.collections() if c["name"] == "budget-ville-a"]
    assert (started["visibility"], started["owner"]) == ("private", "Ville A")
    other = TestClient(create_app(commune), headers=EN)
    other.headers["Authorization"] = f"Bearer {make_key(commune, 'bob', 'Ville B', 'reader')}"
    assert "budget-ville-a" not in [c["name"] for c in other.get("/api/collections").json()]
    colleague = TestClient(create_app(commune), headers=EN)
    colleague.headers["Authorization"] = f"Bearer {make_key(commune, 'cleo', 'Ville A')}"
    assert "budget-ville-a" in [c["name"] for c in colleague.get("/api/collections").json()]
    # The audit log names who started it, not the operator.
    from commune.store.audit import entries

    with commune.engine.connect() as conn:
        [row] = [e for e in entries(conn, limit=100) if e["action"] == "visibility"]
    assert row["actor"] == "cora" and row["subject"] == "collection budget-ville-a"
    # Shared by the operator when the member wants it, its owner kept.
    commune.set_visibility("budget-ville-a", "shared")
    assert "budget-ville-a" in [c["name"] for c in other.get("/api/collections").json()]


def test_utf16_without_its_mark_is_taken_as_text_and_a_protected_word_file_as_protected(api):
    # Found by an exploratory test: UTF-16 saved without its mark (some exports write it so)
    # was "the content looks binary" for its zero bytes; a Word file saved with a password,
    # no zip, "the content is not a DOCX file (rename it to what it is)", which it is.
    commune, client = api
    notice = "Avis de coupure d'eau lundi matin rue des Lilas, de 8 h à 12 h."
    r = client.post(
        "/api/documents",
        files=[("files", ("avis.txt", notice.encode("utf-16-le"), "text/plain"))],
        data={"collection": "avis", "licence": "etalab-2.0"},
    )
    assert r.status_code == 200 and r.json()["files"][0]["status"] == "added", r.text
    assert "coupure d'eau lundi" in commune.search("coupure d'eau", "avis")[0].text
    protected = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504)
    protected += "EncryptionInfo\0EncryptedPackage".encode("utf-16-le")
    r = client.post(
        "/api/documents",
        files=[("files", ("budget.docx", protected, "application/octet-stream"))],
        data={"collection": "budget", "licence": "etalab-2.0"},
        headers={"Accept-Language": "fr"},
    )
    assert r.status_code == 400
    (only,) = r.json()["files"]
    assert only["error"] == (
        "budget.docx\u00a0: le document est protégé par un mot de passe (retirez le mot de passe "
        "(ou exportez une copie non protégée) et ajoutez-le de nouveau)"
    )
    assert [c["name"] for c in commune.collections()] == ["avis"]


def test_a_contributor_reads_what_became_of_their_uploads_and_only_theirs(api):
    # Found by an exploratory test: a program that uploaded through the API read each
    # upload's answer once, and nothing of what a curator decided afterwards (the
    # contribute page alone listed it).
    commune, client = api
    other = make_key(commune, "bob", "Ville B", "contributor")
    make_key(commune, "cyril", "Ville A", "curator")
    for name, text in (
        ("avis.txt", "Coupure d'eau lundi rue des Lilas."),
        ("fete.txt", "Fête le 14."),
    ):
        r = client.post(
            "/api/documents",
            files=[("files", (name, text.encode(), "text/plain"))],
            data={"collection": "avis"},  # no licence: each waits for a curator
        )
        assert r.status_code == 200, r.text
    r = client.post(
        "/api/documents",
        files=[("files", ("bob.txt", b"Le texte de Bob.", "text/plain"))],
        data={"collection": "avis-b", "licence": "etalab-2.0"},
        headers={"Authorization": f"Bearer {other}"},
    )
    assert r.status_code == 200, r.text
    fete = next(p["id"] for p in commune.pending() if p["title"].startswith("Fête"))
    commune.review(fete, "reject", "doublon de l'agenda", commune.actor("cyril"))
    listed = client.get("/api/contributions").json()["contributions"]
    assert [(c["title"], c["status"]) for c in listed] == [
        ("Fête le 14.", "rejected"),
        ("Coupure d'eau lundi rue des Lilas.", "proposed"),
    ]
    assert listed[0]["review"] == {
        "decision": "reject",
        "reason": "doublon de l'agenda",
        "reviewer": "cyril",
    }
    assert listed[1]["held"].startswith("no licence given") and listed[1]["review"] is None
    assert listed[1]["collection"] == "avis" and listed[1]["revision"] == 1
    french = client.get("/api/contributions", headers={"Accept-Language": "fr"}).json()
    assert french["contributions"][1]["held"].startswith("aucune licence donnée")
    theirs = client.get("/api/contributions", headers={"Authorization": f"Bearer {other}"})
    assert [c["title"] for c in theirs.json()["contributions"]] == ["Le texte de Bob."]


def test_a_file_sent_again_unchanged_says_it_still_waits_or_why_a_curator_refused_it(api):
    # Found by an exploratory test: sent again as it was, a file still waiting for a curator,
    # and one a curator had rejected, each read « inchangé : les communs ont déjà cette
    # version », the commons publishing neither.
    commune, client = api
    make_key(commune, "cyril", "Ville A", "curator")

    def send(name: str, text: str, **headers: str) -> dict:  # type: ignore[type-arg]
        r = client.post(
            "/api/documents",
            files=[("files", (name, text.encode(), "text/plain"))],
            data={"collection": "avis"},  # no licence: it waits for a curator
            headers=headers,
        )
        assert r.status_code == 200, r.text
        return r.json()["files"][0]

    first = send("avis.txt", "Coupure d'eau lundi rue des Lilas.")
    again = send("avis.txt", "Coupure d'eau lundi rue des Lilas.")
    assert again["status"] == "unchanged" and again["held"] == first["held"]
    assert again["held"].startswith("no licence given") and again["error"] is None
    send("fete.txt", "Fête le 14.")
    fete = next(p["id"] for p in commune.pending() if p["title"].startswith("Fête"))
    commune.review(fete, "reject", "doublon de l'agenda", commune.actor("cyril"))
    refused = send("fete.txt", "Fête le 14.")
    assert refused["status"] == "unchanged" and refused["held"] is None
    assert refused["error"] == (
        "a reviewer rejected this file (cyril: doublon de l'agenda): change it before sending "
        "it again"
    )
    said = send("fete.txt", "Fête le 14.", **{"Accept-Language": "fr"})["error"]
    assert said == (
        "un relecteur a rejeté ce fichier (cyril\u00a0: doublon de l'agenda)\u00a0: "
        "modifiez-le avant de "
        "l'envoyer de nouveau"
    )
    [waiting] = commune.pending()
    commune.review(waiting["id"], "approve", "ok", commune.actor("cyril"), licence="etalab-2.0")
    published = send("avis.txt", "Coupure d'eau lundi rue des Lilas.")
    assert published["status"] == "unchanged" and published["held"] is None
    assert published["error"] is None


def test_a_file_sent_again_unchanged_says_its_document_was_retired(api):
    # Found walking the product as a contributor: the file of a document a curator had
    # retired, sent again as it was, read « inchangé : les communs ont déjà cette version »,
    # though the commons cited it no more and nothing waited for a curator.
    commune, client = api
    make_key(commune, "cyril", "Ville A", "curator")

    def send(**headers: str) -> dict:  # type: ignore[type-arg]
        r = client.post(
            "/api/documents",
            files=[("files", ("kermesse.txt", b"Kermesse le 21 juin.", "text/plain"))],
            data={"collection": "avis", "licence": "etalab-2.0"},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        return r.json()["files"][0]

    first = send()
    assert first["status"] == "added" and first["held"] is None
    commune.retire(first["document_id"], "périmée", commune.actor("cyril"), category="outdated")
    again = send()
    assert again["status"] == "unchanged" and again["held"] is None
    assert again["error"] == (
        "a curator retired this document: the commons no longer cites it, and the same file "
        "sent again does not bring it back (send a corrected file: a reviewer of the collection "
        "will review it)"
    )
    said = send(**{"Accept-Language": "fr"})["error"]
    assert said == (
        "un curateur a retiré ce document\u00a0: les communs ne le citent plus, et le même "
        "fichier envoyé de nouveau ne le remet pas en service (envoyez un fichier "
        "corrigé\u00a0: un relecteur de la collection le relira)"
    )
    assert not commune.pending()  # nothing was stored
