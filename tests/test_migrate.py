"""`commune migrate --to postgresql://…`: a SQLite home moves to a real PostgreSQL, verified
table by table, resuming after an interruption, and answers the same afterwards."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from commune.cli import cli
from tests.conftest import make_home, make_key


@pytest.fixture
def lived_in(home, corpus):  # type: ignore[no-untyped-def]
    """A home with a history: documents and a revision, people, keys, answers in the ledger,
    decisions, credits, curation and the audit chain."""
    from commune.core import Commune

    c = Commune(home)
    c.add([corpus], collection="mairie", licence="etalab-2.0")
    make_key(c, "alice", "Ville A", "curator")
    make_key(c, "bob", "Ville B", "reader", requests_per_day=50)
    for q in ("Quand passe le camion des ordures ?", "When does the pool open?"):
        c.ask(q, actor=c.actor("bob"), use_cache=False)
    c.set_curation_rules("mairie", 1, "curator")
    (corpus / "pool.txt").write_text("The pool opens at seven on Sundays.", encoding="utf-8")
    c.add([corpus / "pool.txt"], collection="mairie", licence="etalab-2.0")
    yield c
    c.close()


def test_a_home_moves_to_postgresql_losslessly_and_an_interruption_resumes(
    lived_in,
    home,
    postgres_url,
    monkeypatch,
):
    from commune.store import migrate as m

    before_hits = [(h.document_id, h.chunk_id) for h in lived_in.search("ordures", k=5)]
    monkeypatch.setattr(m, "BATCH", 3)
    calls = {"n": 0}

    def crash(table: str, copied: int) -> None:
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt  # the operator's Ctrl-C, or a lost connection

    with pytest.raises(KeyboardInterrupt):
        m.migrate(lived_in.engine, postgres_url, crash)
    resumed = m.migrate(lived_in.engine, postgres_url)
    assert resumed.ok, [t for t in resumed.tables if not t.ok]
    rows = {t.name: t.source_rows for t in resumed.tables}
    assert rows["usage"] >= 2 and rows["chunks"] > 0 and rows["audit_log"] > 0
    assert sum(resumed.copied.values()) < sum(rows.values())  # it went on, not from scratch

    monkeypatch.setattr(m, "BATCH", 2000)
    out = CliRunner().invoke(cli, ["--home", str(home), "migrate", "--to", postgres_url])
    assert out.exit_code == 0, out.output
    assert "usage" in out.output and "DIFFERS" not in out.output and "now points" in out.output

    from commune.core import Commune

    with Commune(home) as moved:
        assert moved.engine.dialect.name == "postgresql"
        assert [(h.document_id, h.chunk_id) for h in moved.search("ordures", k=5)] == before_hits
        assert moved.verify_audit().ok and moved.check().ok
        # New rows get new ids after the copied ones (the sequences were moved on).
        moved.ask("Quand passe le camion des ordures ?", actor=moved.actor("bob"), use_cache=False)
        make_key(moved, "carol", "Ville C")
        assert moved.verify_audit().ok


def test_a_target_holding_other_data_is_refused_and_left_alone(lived_in, postgres_url, tmp_path):
    from commune.core import Commune
    from commune.errors import CommuneError
    from commune.store.migrate import migrate

    other = tmp_path / "other"
    other.mkdir()
    (other / "commune.toml").write_text(f'database_url = "{postgres_url}"\n')
    with Commune(other) as c:
        make_key(c, "zoe", "Ville Z")
    with pytest.raises(CommuneError, match="already holds data"):
        migrate(lived_in.engine, postgres_url)


def test_a_wrong_url_gets_one_line_that_says_what_to_do(home, lived_in):
    out = CliRunner().invoke(
        cli, ["--home", str(home), "migrate", "--to", "postgresql+psycopg://nobody@/x?host=/nope"]
    )
    assert out.exit_code == 2  # Commune's errors: one line on stderr, status 2
    assert "cannot open the target database" in out.output and "check the URL" in out.output
    assert (
        not (home / "commune.toml").exists()
        or "database_url" not in (home / "commune.toml").read_text()
    )


def test_a_trial_copy_then_changes_in_the_source_still_migrates(lived_in, home, postgres_url):
    """A --no-switch trial, then the home went on (a retirement, an answer): a copy resumed by
    key alone kept the changed rows as they were and never verified."""
    first = CliRunner().invoke(
        cli, ["--home", str(home), "migrate", "--to", postgres_url, "--no-switch"]
    )
    assert first.exit_code == 0, first.output
    doc = lived_in.documents("mairie")[0]["id"]
    lived_in.retire(doc, reason="obsolete")
    after = {d["id"]: d["status"] for d in lived_in.documents("mairie")}
    assert after[doc] == "retired"
    lived_in.ask("When does the pool open?", actor=lived_in.actor("bob"), use_cache=False)
    out = CliRunner().invoke(cli, ["--home", str(home), "migrate", "--to", postgres_url])
    assert out.exit_code == 0, out.output
    assert "DIFFERS" not in out.output and "now points" in out.output
    from commune.core import Commune

    with Commune(home) as moved:
        assert moved.engine.dialect.name == "postgresql"
        assert {d["id"]: d["status"] for d in moved.documents("mairie")} == after
        assert moved.verify_audit().ok and moved.check().ok


def test_a_home_still_served_is_copied_but_not_switched(lived_in, home, postgres_url):
    """Found by an exploratory test: with `commune serve` running, the switch went through,
    and the server's next answers went to the old database only."""
    from commune.store.db import serving

    before = (home / "commune.toml").read_text() if (home / "commune.toml").exists() else None
    with serving(home):  # a server
        out = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(
            cli, ["--home", str(home), "migrate", "--to", postgres_url]
        )
    assert out.exit_code == 1, out.output
    assert "la copie est vérifiée, mais" in out.output and "relancez commune migrate" in out.output
    now = (home / "commune.toml").read_text() if (home / "commune.toml").exists() else None
    assert now == before  # still on its database
    out = CliRunner().invoke(cli, ["--home", str(home), "migrate", "--to", postgres_url])
    assert out.exit_code == 0 and "now points" in out.output, out.output
    # Again, to the database the home now uses: said so, not "a copy of another home".
    again = CliRunner().invoke(cli, ["--home", str(home), "migrate", "--to", postgres_url])
    assert again.exit_code == 2 and "the target is the home's own database" in again.output, (
        again.output
    )


def test_a_trial_copy_then_the_purge_forgetting_who_asked_still_migrates(
    lived_in, home, postgres_url
):
    """A --no-switch trial, then the purge past the retention set the person of the ledger's
    older rows to 0 (migration 0023), as the running server's does every hour: the target's
    ledger, append-only, took only the rows added since, kept those rows named, and every
    later run ended "the copy differs from the source in usage", for good. The target's rows
    are now unnamed too, and the home moves."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert, select

    from commune.core import Commune
    from commune.store.schema import UNNAMED, usage

    bob = lived_in.actor("bob")
    with lived_in.engine.begin() as conn:  # a question of last year's, still bob's
        conn.execute(
            insert(usage).values(
                created_at=datetime.now(UTC) - timedelta(days=400),
                route="api/ask",
                mode="extractive",
                input_tokens=10,
                output_tokens=5,
                duration_ms=1.0,
                fallback=False,
                member_id=bob.member_id,
                user_id=bob.user_id,
            )
        )
    args = ["--home", str(home), "migrate", "--to", postgres_url]
    first = CliRunner().invoke(cli, [*args, "--no-switch"])
    assert first.exit_code == 0, first.output
    purged = CliRunner().invoke(cli, ["--home", str(home), "charter", "purge"])
    assert purged.exit_code == 0, purged.output
    with lived_in.engine.connect() as conn:
        people = conn.execute(select(usage.c.user_id).order_by(usage.c.id)).scalars().all()
    assert UNNAMED in people
    out = CliRunner().invoke(cli, args)
    assert out.exit_code == 0, out.output
    assert "DIFFERS" not in out.output and "now points" in out.output
    with Commune(home) as moved:
        assert moved.engine.dialect.name == "postgresql"
        with moved.engine.connect() as conn:
            moved_people = (
                conn.execute(select(usage.c.user_id).order_by(usage.c.id)).scalars().all()
            )
        assert moved_people == people
        assert moved.check().ok


def test_a_ledger_row_answered_during_the_copy_is_added_not_a_crash(lived_in, postgres_url):
    """The server still answering appended a ledger row while its table was copied: the
    whole table was copied again, its deletion refused by the target's append-only rule,
    and migrate ended on a raw database error."""
    from sqlalchemy import func, select

    from commune.store import migrate as mig
    from commune.store.schema import usage

    copy, appended = mig._copy, []

    def answering_meanwhile(source, target, table, progress):  # type: ignore[no-untyped-def]
        n = copy(source, target, table, progress)
        if table.name == "usage" and not appended:  # one question answered meanwhile
            lived_in.ask("When does the pool open?", use_cache=False)
            appended.append(1)
        return n

    with pytest.MonkeyPatch.context() as m:
        m.setattr(mig, "_copy", answering_meanwhile)
        done = mig.migrate(lived_in.engine, postgres_url)
    assert appended and done.ok, [t for t in done.tables if not t.ok]
    from commune.store.db import open_database

    target = open_database(postgres_url)
    with target.connect() as conn, lived_in.engine.connect() as here:
        count = select(func.count()).select_from(usage)
        assert conn.execute(count).scalar() == here.execute(count).scalar()
    target.dispose()


def test_a_home_holding_nul_characters_moves_without_them(lived_in, postgres_url):
    """A SQLite home stored a text file's stray NUL byte (past the first 8 KB, before they
    were dropped at reading); PostgreSQL stores none, and the migration stopped at the first
    row holding one: the home could not move."""
    from sqlalchemy import text

    from commune.store.db import open_database
    from commune.store.migrate import migrate

    with lived_in.engine.begin() as conn:
        conn.execute(text("UPDATE chunks SET text = text || char(0) || ' fin' WHERE id = 1"))
        conn.execute(text("UPDATE documents SET title = title || char(0) WHERE id = 1"))
    done = migrate(lived_in.engine, postgres_url)
    assert done.ok, [t for t in done.tables if not t.ok]
    target = open_database(postgres_url)
    try:
        with target.connect() as conn:
            moved = conn.execute(text("SELECT text FROM chunks WHERE id = 1")).scalar_one()
            title = conn.execute(text("SELECT title FROM documents WHERE id = 1")).scalar_one()
    finally:
        target.dispose()
    assert moved.endswith(" fin") and "\x00" not in moved and "\x00" not in title


def test_the_kept_commune_toml_is_as_private_as_the_one_it_copies(tmp_path):
    """The operator keeps commune.toml at 0640 for its [metrics] token or a database
    password; the .bak that migrate kept of it was made at the umask's 0644, readable by
    every local user."""
    import os
    import stat

    from commune.store.migrate import switch

    config = tmp_path / "commune.toml"
    config.write_text('[metrics]\nenabled = true\ntoken = "s3cret-token"\n', encoding="utf-8")
    os.chmod(config, 0o640)
    old = os.umask(0o022)
    try:
        switch(tmp_path, "postgresql+psycopg://commune:pw@db.example/commune")
    finally:
        os.umask(old)
    kept = tmp_path / "commune.toml.bak"
    assert "s3cret-token" in kept.read_text(encoding="utf-8")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    assert stat.S_IMODE(config.stat().st_mode) == 0o640


@pytest.mark.parametrize("umask", [0o077, 0o027, 0o002])
def test_the_switched_commune_toml_keeps_its_mode_whatever_the_umask(tmp_path, umask):
    """Under an operator's umask 077, the commune.toml migrate rewrote (and its .bak) came out
    0600: the service, reading it through its group (0640, root:commune), could no longer."""
    import os
    import stat

    from commune.store.migrate import switch

    config = tmp_path / "commune.toml"
    config.write_text('[metrics]\ntoken = "s3cret-token"\n', encoding="utf-8")
    os.chmod(config, 0o640)
    old = os.umask(umask)
    try:
        switch(tmp_path, "postgresql+psycopg://commune:pw@db.example/commune")
    finally:
        os.umask(old)
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "commune.toml.bak").stat().st_mode) == 0o640


def test_a_database_its_user_may_not_create_tables_in_says_to_make_it_the_owner(
    postgres_server, tmp_path
):
    """PostgreSQL 15 and later let only a database's owner create tables in it: a database
    made by postgres and granted to Commune's user stopped `commune migrate` with "check the
    URL and that it runs", and any other command with a traceback."""
    import os

    from sqlalchemy import create_engine

    from commune.errors import CommuneError
    from commune.store.db import open_database
    from commune.text.messages import localise

    role, name = f"clerk_{os.getpid()}", f"notmine_{os.getpid()}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
        conn.exec_driver_sql(f"GRANT CONNECT ON DATABASE {name} TO {role}")
    url = postgres_server.replace("postgres:@/postgres?", f"{role}@/{name}?", 1)
    try:
        with pytest.raises(CommuneError) as exc:
            open_database(url)
        said = str(exc.value)
        assert f"ALTER DATABASE {name} OWNER TO {role}" in said, said
        assert "\n" not in said and "Traceback" not in said
        assert "faites-en le propriétaire de la base" in localise(said, "fr")
        (tmp_path / "commune.toml").write_text(f'database_url = "{url}"\n', encoding="utf-8")
        out = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(
            cli, ["--home", str(tmp_path), "member", "add", "X", "--kind", "town"]
        )
        assert out.exit_code == 2 and "OWNER TO" in out.output, out.output
        with admin.connect() as conn:  # what it says to do, done: the home opens
            conn.exec_driver_sql(f"ALTER DATABASE {name} OWNER TO {role}")
        open_database(url).dispose()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        admin.dispose()


def test_a_url_naming_no_user_is_told_the_user_libpq_connected_as(postgres_server, monkeypatch):
    """postgresql+psycopg:///?host=… takes its user and database from PGUSER and PGDATABASE
    (or peer authentication's system user): the hint said "OWNER TO None"."""
    import os

    from sqlalchemy import create_engine

    from commune.errors import CommuneError
    from commune.store.db import open_database

    role, name = f"nouser_{os.getpid()}", f"notmine2_{os.getpid()}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
        conn.exec_driver_sql(f"GRANT CONNECT ON DATABASE {name} TO {role}")
    monkeypatch.setenv("PGUSER", role)
    monkeypatch.setenv("PGDATABASE", name)
    url = postgres_server.replace("postgres:@/postgres?", "/?", 1)
    try:
        with pytest.raises(CommuneError) as exc:
            open_database(url)
        assert f"ALTER DATABASE {name} OWNER TO {role})" in str(exc.value), str(exc.value)
        assert "None" not in str(exc.value)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        admin.dispose()


def test_a_postgresql_home_missing_its_originals_is_not_told_to_commune_restore(
    postgres_url, corpus, tmp_path
):
    """A second server's home on the same database, or a pg_restore without blobs/, was told
    "restore the last backup: commune restore DIR --force", which refuses PostgreSQL homes."""
    from commune.core import Commune

    first, second = tmp_path / "first", tmp_path / "second"
    for home in (first, second):
        home.mkdir()
        (home / "commune.toml").write_text(f'database_url = "{postgres_url}"\n', encoding="utf-8")
    with Commune(first) as c:
        c.add([corpus / "pool.txt"], licence="etalab-2.0")
        assert c.check().ok
    with Commune(second) as c:
        [originals] = [k for k in c.check().checks if k.name == "originals"]
    assert not originals.ok
    assert "commune restore" not in originals.detail
    assert "pg_dump" in originals.detail and "share the first server's blobs/" in originals.detail


def test_migrate_counts_rows_with_their_own_plural_in_english_and_french(home, monkeypatch):
    """Every count read "rows" (and "lignes"): "1 rows", "0 lignes"."""
    from commune.core import Commune
    from commune.store.migrate import Migration, TableResult

    def copied(self, target_url, progress=None):  # type: ignore[no-untyped-def]
        if progress:
            progress("members", 1)
        return Migration(
            copied={"members": 1},
            tables=[
                TableResult("members", 1, 1, "a", "a"),
                TableResult("usage", 0, 0, "b", "b"),
                TableResult("chunks", 2, 2, "c", "c"),
            ],
        )

    make_home(home)
    monkeypatch.setattr(Commune, "migrate_to", copied)
    args = ["--home", str(home), "migrate", "--to", "postgresql+psycopg://x@h/d", "--no-switch"]
    out = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(cli, args)
    assert out.exit_code == 0, out.output
    lines = {ln.split()[0]: ln.split() for ln in out.output.splitlines() if " -> " in ln}
    assert lines["members"][1:6] == ["1", "row", "->", "1", "row"], out.output
    assert lines["usage"][1:6] == ["0", "rows", "->", "0", "rows"], out.output
    assert lines["chunks"][1:6] == ["2", "rows", "->", "2", "rows"], out.output
    assert "1 row copied" in out.output and "rows copied" not in out.output

    out = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, args)
    assert out.exit_code == 0, out.output
    lines = {ln.split()[0]: ln.split() for ln in out.output.splitlines() if " -> " in ln}
    assert lines["members"][1:6] == ["1", "ligne", "->", "1", "ligne"], out.output
    assert lines["usage"][1:6] == ["0", "ligne", "->", "0", "ligne"], out.output
    assert lines["chunks"][1:6] == ["2", "lignes", "->", "2", "lignes"], out.output
    assert "1 ligne copiée" in out.output


def test_tables_restored_as_postgres_are_told_how_to_give_them_back(postgres_server):
    """pg_restore run as postgres (--no-owner) leaves the tables to postgres, and the next
    migration fails with "must be owner of table": the hint said ALTER DATABASE … OWNER TO,
    which changes nothing (the database was already Commune's user's). Reading alembic_version
    is refused first ("permission denied for table"), then, once granted, altering a table."""
    import os

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from commune.errors import CommuneError
    from commune.store.db import MIGRATIONS, open_database
    from commune.text.messages import localise

    role, name = f"pgowner_{os.getpid()}", f"pgowned_{os.getpid()}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        conn.exec_driver_sql(f"CREATE DATABASE {name} OWNER {role}")
    as_postgres = create_engine(postgres_server.replace("/postgres?", f"/{name}?", 1))
    url = postgres_server.replace("postgres:@/postgres?", f"{role}@/{name}?", 1)
    try:
        # What a restore as postgres leaves: the schema of an older release, postgres's.
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with as_postgres.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0020")
        with pytest.raises(CommuneError) as exc:
            open_database(url)
        said = str(exc.value)
        assert "permission denied for table" in said and "ALTER DATABASE" not in said, said
        assert f"--no-owner --role={role}" in said and f"OWNER TO {role}" in said, said
        assert "\n" not in said and "Traceback" not in said
        assert "donnez chaque table du schéma public" in localise(said, "fr")
        with as_postgres.begin() as conn:  # its version readable: the migration's own refusal
            conn.exec_driver_sql(f"GRANT SELECT, UPDATE ON alembic_version TO {role}")
        with pytest.raises(CommuneError) as exc:
            open_database(url)
        said = str(exc.value)
        assert "must be owner of table" in said and f"--role={role}" in said, said
        # What it says to do, done as docs/operations.md gives it: the home opens.
        guide = (Path(__file__).parent.parent / "docs" / "operations.md").read_text("utf-8")
        [give_back] = [ln.strip() for ln in guide.splitlines() if ln.strip().startswith("DO $$")]
        with as_postgres.begin() as conn:  # as psql sends it: no placeholders
            conn.connection.driver_connection.execute(give_back.replace("TO commune", f"TO {role}"))
        open_database(url).dispose()
    finally:
        as_postgres.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        admin.dispose()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_command_on_a_database_that_refuses_the_login_says_which_setting(
    postgres_server, tmp_path, language
):
    """A database name (or user) that does not exist was told "check the URL … and that it
    runs": PostgreSQL ran, and the operator went to look at the wrong machine."""
    url = postgres_server.replace("/postgres?", "/nosuchbase?", 1)
    (tmp_path / "commune.toml").write_text(f'database_url = "{url}"\n', encoding="utf-8")
    out = CliRunner(
        env={"LANG": f"{language}_FR.UTF-8" if language == "fr" else "en_GB.UTF-8"}
    ).invoke(cli, ["--home", str(tmp_path), "member", "add", "X", "--kind", "town"])
    said = {
        "en": "PostgreSQL runs but refuses this login: check database_url in commune.toml "
        "(the user, the password, the database name)",
        "fr": "PostgreSQL tourne mais refuse cette connexion\u00a0: vérifiez database_url dans "
        "commune.toml (l'utilisateur, le mot de passe, le nom de la base)",
    }[language]
    # A configuration error (exit 78): commune.service does not restart it (test_deploy.py).
    assert out.exit_code == 78 and said in out.output, out.output
    assert 'database "nosuchbase" does not exist' in out.output
    assert "Traceback" not in out.output and "that it runs" not in out.output


def _migrate_to(home: Path, url: str, language: str) -> str:
    env = {"LANG": "fr_FR.UTF-8" if language == "fr" else "en_GB.UTF-8", "LANGUAGE": ""}
    runner = CliRunner(env=env)
    if not home.joinpath("commune.db").exists():
        made = runner.invoke(cli, ["--home", str(home), "member", "add", "X", "--kind", "town"])
        assert made.exit_code == 0, made.output
    out = runner.invoke(cli, ["--home", str(home), "migrate", "--to", url])
    assert out.exit_code == 2 and "Traceback" not in out.output, out.output
    return re.sub(r"[ \n]+", " ", out.output)  # the lines a terminal wraps, joined


@pytest.mark.parametrize("language", ["en", "fr"])
def test_migrate_to_a_postgres_url_says_how_to_write_it(tmp_path, language):
    """A hosting provider's postgres://… URL was told "install its driver: pip install
    'commune-coop[postgres]'", which the operator had done: SQLAlchemy knows PostgreSQL as
    postgresql. And mysql://… was told to install PostgreSQL's driver."""
    said = _migrate_to(tmp_path, "postgres://commune:secret@db.example/commune", language)
    assert {
        "en": "(begin the URL with postgresql+psycopg:// (SQLAlchemy's name), not postgres://)",
        "fr": "(commencez l'URL par postgresql+psycopg:// (le nom que lui donne SQLAlchemy), "
        "non par postgres://)",
    }[language] in said, said
    assert "secret" not in said and "pip install" not in said
    said = _migrate_to(tmp_path, "mysql://commune@db.example/commune", language)
    assert {
        "en": "(Commune's database is SQLite (the default) or PostgreSQL: "
        "postgresql+psycopg://user:password@host/db)",
        "fr": "(la base de Commune est SQLite (par défaut) ou PostgreSQL\u00a0: "
        "postgresql+psycopg://utilisateur:motdepasse@hôte/base)",
    }[language] in said, said


@pytest.mark.parametrize("language", ["en", "fr"])
def test_migrate_to_a_database_that_refuses_the_login_says_to_check_the_url_given(
    postgres_server, tmp_path, language
):
    """`commune migrate --to` a database not yet created was told "check database_url in
    commune.toml": the home, still on SQLite, has none; the URL to check is the one given."""
    said = _migrate_to(tmp_path, postgres_server.replace("/postgres?", "/nosuchbase?", 1), language)
    assert 'database "nosuchbase" does not exist' in said
    assert {
        "en": "(PostgreSQL runs but refuses this login: check the URL given to --to (the user, "
        "the password, the database name; a database is made by createdb --owner USER NAME, "
        "docs/scaling.md))",
        "fr": "(PostgreSQL tourne mais refuse cette connexion\u00a0: vérifiez l'URL donnée à "
        "--to (l'utilisateur, le mot de passe, le nom de la base\u00a0; une base se crée avec "
        "createdb --owner UTILISATEUR NOM, docs/scaling.md))",
    }[language] in said, said
    assert "commune.toml" not in said


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_command_on_an_empty_postgresql_database_refuses_it_and_makes_nothing(
    postgres_url, tmp_path, language
):
    """A home whose database_url named an empty database (a mistyped name, postgres's own)
    had Commune's tables made there by `commune check`, which then passed every check on
    "0 documents": the mistyped --home the guides say is refused, on PostgreSQL."""
    from sqlalchemy import create_engine, inspect

    (tmp_path / "commune.toml").write_text(f'database_url = "{postgres_url}"\n', "utf-8")
    env = {"LANG": "fr_FR.UTF-8" if language == "fr" else "en_GB.UTF-8", "LANGUAGE": ""}
    out = CliRunner(env=env).invoke(cli, ["--home", str(tmp_path), "check"])
    said = re.sub(r"[ \n]+", " ", out.output)
    assert out.exit_code == 2 and "Traceback" not in said, said
    assert {
        "en": "holds no Commune tables (check database_url in commune.toml (the database name)",
        "fr": "ne contient aucune table de Commune (vérifiez database_url dans commune.toml (le "
        "nom de la base)",
    }[language] in said, said
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        assert inspect(conn).get_table_names() == []  # nothing made there
    engine.dispose()
    made = CliRunner(env=env).invoke(
        cli, ["--home", str(tmp_path), "member", "add", "X", "--kind", "town"]
    )
    assert made.exit_code == 0, made.output  # the guides' first step makes it, as before
    again = CliRunner(env=env).invoke(cli, ["--home", str(tmp_path), "check"])
    assert again.exit_code == 0, again.output


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_database_gone_back_with_pg_restore_clean_says_to_restore_into_an_empty_one(
    postgres_url, tmp_path, language
):
    """pg_restore --clean of a dump taken before an upgrade drops and restores the dump's
    tables only: those the newer version added stay beside the older version's record, and
    the next upgrade stopped on "relation already exists" with a traceback of some hundred
    lines. Here that state: the record set back to 0019 (before dataset_texts, 0020)."""
    from sqlalchemy import create_engine, make_url

    from commune.store.db import open_database

    open_database(postgres_url).dispose()
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0019'")
    engine.dispose()
    (tmp_path / "commune.toml").write_text(f'database_url = "{postgres_url}"\n', "utf-8")
    env = {"LANG": "fr_FR.UTF-8" if language == "fr" else "en_GB.UTF-8", "LANGUAGE": ""}
    out = CliRunner(env=env).invoke(cli, ["--home", str(tmp_path), "check"])
    said = re.sub(r"[ \n]+", " ", out.output)
    assert out.exit_code == 2 and "Traceback" not in said, said
    assert 'relation "dataset_texts" already exists' in said
    name = make_url(postgres_url).database
    assert {
        "en": f"restore the dump into an empty database (as postgres: dropdb {name}, then "
        f"createdb --owner postgres {name}, then pg_restore)",
        "fr": f"restaurez la sauvegarde dans une base vide (en tant que postgres\u00a0: dropdb "
        f"{name}, puis createdb --owner postgres {name}, puis pg_restore)",
    }[language] in said, said


def test_migrate_to_a_database_it_cannot_open_spaces_the_colon_after_its_url_in_french(tmp_path):
    """The French line read "la base de destination : mysql://a@b/c: ModuleNotFoundError":
    the colon after the URL, the driver's words following, kept its English spacing (the
    home's own database reads "la base URL : ..." since long)."""
    home = make_home(tmp_path / "home")
    env = {"LANG": "fr_FR.UTF-8", "LANGUAGE": ""}
    out = CliRunner(env=env).invoke(cli, ["--home", str(home), "migrate", "--to", "mysql://a@b/c"])
    said = re.sub(r"[ \n]+", " ", out.output)
    assert out.exit_code == 2 and "Traceback" not in said, said
    assert (
        "impossible d'ouvrir la base de destination mysql://a@b/c\u00a0: ModuleNotFoundError"
    ) in said, said


def test_a_postgresql_database_out_of_reach_is_tried_once_per_command(tmp_path, monkeypatch):
    """A database server that drops the packets makes a command wait for the connection's
    timeout: 7f7638e's look for Commune's tables tried first, then the opening tried again,
    and every command waited for two timeouts before its one line."""
    import psycopg

    tries: list[object] = []

    def timed_out(*args: object, **kwargs: object) -> None:
        tries.append(args)
        raise psycopg.errors.ConnectionTimeout("connection timeout expired")

    monkeypatch.setattr(psycopg, "connect", timed_out)
    (tmp_path / "commune.toml").write_text(
        'database_url = "postgresql+psycopg://u:secret@db.example/x"\n', "utf-8"
    )
    out = CliRunner().invoke(cli, ["--home", str(tmp_path), "documents"])
    assert out.exit_code == 2 and "Traceback" not in out.output, out.output
    assert "postgresql+psycopg://u:***@db.example/x" in out.output
    assert "secret" not in out.output and len(tries) == 1, (len(tries), out.output)


def test_a_postgresql_server_that_never_answers_is_given_up_on_in_one_line(tmp_path, monkeypatch):
    """A database_url naming a host that drops the packets (down, behind a firewall) held
    every command silent for psycopg's own connect timeout, 130 s, then said "connection
    timeout expired", naming no host. The connection now gives up after
    db.CONNECT_TIMEOUT_S (10 s; 2 here, psycopg's least) and says which server did not
    answer and what to check, in the operator's language. The server here is a loopback
    port that takes the connection and never answers, as such a host does; the join only
    keeps a regression from hanging: the test asserts the line, not the speed."""
    import socket
    import threading

    from commune.store import db

    monkeypatch.setattr(db, "CONNECT_TIMEOUT_S", 2)
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        server = f"127.0.0.1:{silent.getsockname()[1]}"
        (tmp_path / "commune.toml").write_text(
            f'database_url = "postgresql+psycopg://u:secret@{server}/x"\n', "utf-8"
        )
        for language, said in (
            (
                "en_GB.UTF-8",
                f"error: the database server {server} did not answer within 2 s "
                f"(postgresql+psycopg://u:***@{server}/x) (check that PostgreSQL runs there",
            ),
            (
                "fr_FR.UTF-8",
                f"le serveur de base de données {server} n'a pas répondu en 2 s "
                f"(postgresql+psycopg://u:***@{server}/x) (vérifiez que PostgreSQL y tourne",
            ),
        ):
            outcome: dict[str, object] = {}

            def run(language: str = language, outcome: dict[str, object] = outcome) -> None:
                outcome["out"] = CliRunner(env={"LANG": language, "LANGUAGE": ""}).invoke(
                    cli, ["--home", str(tmp_path), "documents"]
                )

            running = threading.Thread(target=run, daemon=True)
            running.start()
            running.join(100)  # psycopg's own 130 s would still be waiting
            assert not running.is_alive(), "waited past connect_timeout for a silent server"
            out = outcome["out"]
            assert out.exit_code == 2 and out.output.count("\n") == 1, out.output
            assert said in out.output and "secret" not in out.output, out.output
            # "?connect_timeout=30" alone, put after a URL with a query (?sslmode=require),
            # made sslmode "require?connect_timeout=30": the "&" form is said beside it.
            assert (
                "database_url" in out.output
                and "?connect_timeout=30, &connect_timeout=30 " in out.output
            )


def test_a_local_socket_that_never_answers_is_named_by_its_file(monkeypatch):
    """A database_url reaching PostgreSQL through a local socket (?host=/var/run/postgresql,
    or no host at all, libpq's default) was said "the database server
    /var/run/postgresql:5432" or "localhost:5432" when it did not answer: a TCP address the
    URL never named. The line names the socket's file, as libpq's own refusals do."""
    import psycopg

    from commune.errors import CommuneError
    from commune.store import db

    def timed_out(*args: object, **kwargs: object) -> None:
        raise psycopg.errors.ConnectionTimeout("connection timeout expired")

    monkeypatch.setattr(psycopg, "connect", timed_out)
    for name in ("PGHOST", "PGPORT", "PGCONNECT_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for url, server in (
        (
            "postgresql+psycopg://commune@/commune?host=/srv/pg/",
            "/srv/pg/.s.PGSQL.5432",
        ),
        ("postgresql+psycopg://commune@/commune?port=5433", "/var/run/postgresql/.s.PGSQL.5433"),
        ("postgresql+psycopg://commune@db.example/commune", "db.example:5432"),
    ):
        with pytest.raises(CommuneError) as err:
            db.open_database(url)
        assert f"the database server {server} did not answer within 10 s" in str(err.value)


def test_migrate_to_a_server_that_never_answers_sends_the_operator_to_the_url_given(
    tmp_path, monkeypatch
):
    """A --to server that does not answer is not database_url's: the line sends the
    operator to the URL given to --to, in their language."""
    import psycopg

    def timed_out(*args: object, **kwargs: object) -> None:
        raise psycopg.errors.ConnectionTimeout("connection timeout expired")

    home = make_home(tmp_path / "home")
    monkeypatch.setattr(psycopg, "connect", timed_out)
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    to = "postgresql+psycopg://u:secret@db.example:6432/x"
    for language, said in (
        ("en_GB.UTF-8", "that the URL given to --to names the right host and port"),
        ("fr_FR.UTF-8", "que l'URL donnée à --to nomme le bon hôte et le bon port"),
    ):
        out = CliRunner(env={"LANG": language, "LANGUAGE": ""}).invoke(
            cli, ["--home", str(home), "migrate", "--to", to]
        )
        line = re.sub(r"[ \n]+", " ", out.output)
        assert out.exit_code == 2 and "db.example:6432" in line and said in line, line
        assert "database_url" not in line and "secret" not in line, line


def test_the_operator_s_connect_timeout_and_application_name_win_over_commune_s(
    tmp_path, monkeypatch
):
    """Commune gives its PostgreSQL connections a connect timeout and a name: each command
    names itself ("commune documents"), so that a Commune waiting for a lock names the
    command holding it. What the operator set wins: the URL's own query (which SQLAlchemy's
    connect_args would have overridden) and libpq's variables (PGCONNECT_TIMEOUT,
    PGAPPNAME), which a parameter given to the driver overrides."""
    import psycopg

    given: list[dict[str, object]] = []

    def record(*args: object, **kwargs: object) -> None:
        given.append(kwargs)
        raise psycopg.OperationalError("connection refused: is the server running?")

    monkeypatch.setattr(psycopg, "connect", record)
    for name in ("PGCONNECT_TIMEOUT", "PGAPPNAME"):
        monkeypatch.delenv(name, raising=False)
    base = "postgresql+psycopg://u:pw@db.example/x"
    cases = [
        (base, {}, {"connect_timeout": 10, "application_name": "commune documents"}),
        (
            f"{base}?connect_timeout=30&application_name=ville-a",
            {},
            {"connect_timeout": "30", "application_name": "ville-a"},
        ),
        (
            base,
            {"PGCONNECT_TIMEOUT": "45", "PGAPPNAME": "ville-b"},
            {"connect_timeout": None, "application_name": None},
        ),
    ]
    for url, environ, expected in cases:
        (tmp_path / "commune.toml").write_text(f'database_url = "{url}"\n', "utf-8")
        given.clear()
        out = CliRunner(env=environ).invoke(cli, ["--home", str(tmp_path), "documents"])
        assert out.exit_code == 2 and "Traceback" not in out.output, out.output
        [kwargs] = given
        assert {k: kwargs.get(k) for k in expected} == expected, (url, environ, kwargs)


def test_migrate_to_a_relative_sqlite_path_puts_the_copy_in_the_home(home, tmp_path, monkeypatch):
    """commune.toml reads a relative SQLite path in the home; `commune migrate --to
    sqlite:///moved.db` made the copy in the working directory, then switched the home to it
    by that relative path, and every command after said the home "holds no Commune
    database". The copy is now made in the home, where commune.toml finds it."""
    make_home(home)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    runner = CliRunner(env={"LANG": "en_GB.UTF-8"})
    assert runner.invoke(cli, ["--home", str(home), "member", "add", "Ville A"]).exit_code == 0
    out = runner.invoke(cli, ["--home", str(home), "migrate", "--to", "sqlite:///moved.db"])
    assert out.exit_code == 0, out.output
    assert (home / "moved.db").is_file() and not (elsewhere / "moved.db").exists()
    after = runner.invoke(cli, ["--home", str(home), "member", "list"])
    assert after.exit_code == 0 and "Ville A" in after.output, after.output


def test_migrate_s_help_says_an_upgrade_does_not_need_it():
    """An operator upgrading looked for the command that migrates the schema and found
    `commune migrate`, which asks for --to and moves the database to another server; its
    help now says an upgrade's schema changes come by themselves, with `commune check`."""
    for language, said in (
        ("fr_FR.UTF-8", "Pas pour une mise à jour"),
        ("en_GB.UTF-8", "Not for an upgrade"),
    ):
        r = CliRunner(env={"LANG": language}).invoke(cli, ["migrate", "--help"])
        assert r.exit_code == 0 and said in r.output and "commune check" in r.output, r.output
