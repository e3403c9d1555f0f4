import re

import pytest

from commune.store.db import open_database, table_names


def head() -> str:
    """The newest migration, read from the migrations: a number written in a test failed it
    as soon as the next migration was merged."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from commune.store.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return str(ScriptDirectory.from_config(config).get_current_head())


def test_a_database_a_later_version_upgraded_is_refused_in_one_line(home, tmp_path):
    """Going back to an older version without restoring the backup taken before the upgrade
    (docs/operations.md, section 4) left a database whose schema that version does not know:
    every command stopped on alembic's traceback ("Can't locate revision identified by").
    Now one line says a later version upgraded it and what to do, and nothing is changed."""
    import sqlite3

    from click.testing import CliRunner

    from commune.cli import cli
    from tests.conftest import make_home

    make_home(home)
    with sqlite3.connect(home / "commune.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    before = (home / "commune.db").read_bytes()
    for language, said in (
        (
            "en_GB.UTF-8",
            f"error: the database sqlite:///{home / 'commune.db'} was upgraded by a later "
            f"version of Commune (its schema is 0099; this version's is {head()}) (install that "
            "version again, or restore the backup taken before the upgrade with commune "
            "restore DIR --force, as docs/operations.md says in section 4)\n",
        ),
        ("fr_FR.UTF-8", "a été mise à niveau par une version plus récente de Commune"),
    ):
        r = CliRunner(env={"LANG": language}).invoke(cli, ["--home", str(home), "check"])
        assert r.exit_code == 2, r.output
        assert said in r.output and r.output.count("\n") == 1, r.output
    assert (home / "commune.db").read_bytes() == before


def test_opening_a_database_logs_only_the_migrations_that_ran_in_the_reader_s_language(
    tmp_path, caplog, monkeypatch
):
    """Every `commune serve` start logged "INFO alembic.runtime.migration: Context impl
    SQLiteImpl." and "Will assume non-transactional DDL.", in English, whether a migration
    ran or not. Now opening a database at its newest schema logs nothing, and a migration
    that ran is said in one line in the reader's language."""
    import logging

    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from commune.store import db
    from tests.conftest import _MIGRATE

    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS))

    monkeypatch.setattr(db, "upgrade", _MIGRATE)  # the migrations themselves, not a copy
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    caplog.set_level(logging.INFO)
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"

    def opened() -> list[str]:
        caplog.clear()
        open_database(url).dispose()
        return [f"{r.name}: {r.getMessage()}" for r in caplog.records]

    # The newest migration and the one before, read from the migrations: a number written
    # here (0022) failed the test as soon as the next migration (0023) was merged.
    scripts = ScriptDirectory.from_config(config)
    head = scripts.get_current_head()
    before = scripts.get_revision(head).down_revision
    assert opened() == [f"commune.store: schéma de la base créé à la migration {head}"]
    assert opened() == []
    engine = db.make_engine(url)  # as a home the version before left it: its own downgrade
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "-1")
    engine.dispose()
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    assert opened() == [
        f"commune.store: database schema upgraded from migration {before} to migration {head}"
    ]
    assert opened() == []


def test_opening_a_database_leaves_a_program_s_own_alembic_log_as_it_was(tmp_path, caplog):
    """Opening a database set the alembic logger to WARNING for the process's life: a
    program embedding Commune that runs alembic migrations of its own, its alembic log set to
    INFO, lost their lines ("Running upgrade …") once it had opened a home, and its level
    was changed under it. Now only Commune's own migrations are held back, in the thread that
    runs them; the program's level and lines stay as it set them."""
    import logging
    import threading

    import sqlalchemy
    from alembic.runtime.migration import MigrationContext

    caplog.set_level(logging.INFO, logger="alembic")  # as the program configured it
    caplog.set_level(logging.INFO)
    open_database(f"sqlite:///{tmp_path / 'commune.db'}").dispose()
    assert logging.getLogger("alembic").level == logging.INFO
    assert not [r for r in caplog.records if r.name.startswith("alembic")], caplog.records
    caplog.clear()
    program = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'program.db'}")

    def programs_migration() -> None:
        with program.connect() as conn:
            MigrationContext.configure(conn)

    programs_migration()
    worker = threading.Thread(target=programs_migration)  # and from another thread
    worker.start()
    worker.join()
    program.dispose()
    said = [r.getMessage() for r in caplog.records if r.name == "alembic.runtime.migration"]
    assert said.count("Context impl SQLiteImpl.") == 2, said


def test_a_program_opening_a_database_at_info_logs_commune_s_one_line_and_its_own(tmp_path):
    """The same, as a program's process sees it from its start, alembic first imported by
    Commune: its logging at INFO got one line of Commune's ("database schema made at
    migration …") and none of alembic's for Commune's migrations (its plugins' "setup plugin"
    lines at import, "Context impl SQLiteImpl."); its own alembic work is logged as it was."""
    import os
    import subprocess
    import sys

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from commune.store.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    program = (
        "import logging, sqlalchemy\n"
        "logging.basicConfig(level=logging.INFO, format='%(name)s: %(message)s')\n"
        "from commune.store.db import open_database\n"
        f"open_database('sqlite:///{tmp_path / 'commune.db'}').dispose()\n"
        "import sys; print('--', file=sys.stderr, flush=True)\n"
        "from alembic.runtime.migration import MigrationContext\n"
        f"engine = sqlalchemy.create_engine('sqlite:///{tmp_path / 'program.db'}')\n"
        "with engine.connect() as conn:\n"
        "    MigrationContext.configure(conn)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LANG": "en_GB.UTF-8"},
    )
    assert done.returncode == 0, done.stderr
    commune, _, own = done.stderr.partition("--")
    assert commune.splitlines() == [f"commune.store: database schema made at migration {head}"]
    assert "alembic.runtime.migration: Context impl SQLiteImpl." in own.splitlines(), own


def test_migrations_create_the_schema_and_are_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = open_database(url)
    expected = {
        "collections",
        "documents",
        "revisions",
        "chunks",
        "embeddings",
        "meta",
        "ingest_runs",
        "alembic_version",
    }
    assert expected <= set(table_names(engine))
    engine.dispose()
    engine = open_database(url)  # second open: nothing to do, nothing broken
    with engine.connect() as conn:
        assert conn.exec_driver_sql("select version_num from alembic_version").scalar() == head()
        # Every /peer/search prunes the returns past the credit window: by an index.
        plan = conn.exec_driver_sql(
            "explain query plan delete from peer_returns where created_at < '2026-01-01'"
        ).all()
        assert any("ix_peer_returns_created_at" in str(row) for row in plan), plan
        assert conn.exec_driver_sql("pragma journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("pragma foreign_keys").scalar() == 1
        # A commit survives a power cut, not only a killed process (2 is FULL): under
        # NORMAL an issued statement could be rolled back and issued again (db.py says why).
        assert conn.exec_driver_sql("pragma synchronous").scalar() == 2


def test_the_database_file_is_private_to_its_owner(commune, corpus, home):
    import stat

    commune.add([corpus / "pool.txt"], licence="CC0-1.0")
    assert (home / "commune.db").exists()
    for name in ("commune.db", "commune.db-wal"):  # the write-ahead log only while open
        path = home / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, name


def test_backup_and_restore_round_trip(commune, corpus, home, tmp_path):
    import sqlite3

    from click.testing import CliRunner

    from commune.cli import cli

    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    commune.set_visibility("mairie", "public")  # an audit entry
    before = [h.chunk_id for h in commune.search("bac jaune")]
    run = CliRunner()
    r = run.invoke(cli, ["--home", str(home), "backup", str(tmp_path / "bk")])
    assert r.exit_code == 0 and "backup verified" in r.output, r.output
    restored = tmp_path / "restored"
    r = run.invoke(cli, ["--home", str(restored), "restore", str(tmp_path / "bk")])
    assert r.exit_code == 0 and "restored and verified" in r.output, r.output
    from commune.core import Commune

    with Commune(restored) as again:
        assert [h.chunk_id for h in again.search("bac jaune")] == before
        assert again.verify_audit().ok
        assert len(again.documents()) == len(commune.documents())
    # A damaged backup is refused before anything is written.
    with sqlite3.connect(tmp_path / "bk" / "commune.db") as db:
        db.execute("UPDATE audit_log SET action = 'edited' WHERE id = 1")
    r = run.invoke(cli, ["--home", str(tmp_path / "third"), "restore", str(tmp_path / "bk")])
    assert r.exit_code == 2 and "audit chain is broken" in r.output
    assert not (tmp_path / "third" / "commune.db").exists()
    r = run.invoke(cli, ["--home", str(restored), "restore", str(tmp_path / "bk")])
    assert r.exit_code == 2  # damaged, and the home already holds a database


def test_restore_writes_the_database_the_home_uses_and_never_the_backed_up_ones(corpus, tmp_path):
    # restore wrote home/commune.db while the home's commune.toml named another file: it said
    # "restored" and changed nothing; and the copied commune.toml sent a new home to the
    # backed-up home's database (review finding).
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.core import Commune

    source = tmp_path / "source"
    source.mkdir()
    live = tmp_path / "live.db"
    (source / "commune.toml").write_text(f'database_url = "sqlite:///{live}"\n')
    with Commune(source) as c:
        c.add([corpus / "pool.txt"], licence="etalab-2.0")
    run = CliRunner(env={"LANG": "en_GB.UTF-8"})
    assert run.invoke(cli, ["--home", str(source), "backup", str(tmp_path / "bk")]).exit_code == 0
    with Commune(source) as c:
        c.add([corpus / "library.md"], licence="etalab-2.0")
        assert len(c.documents()) == 2
    r = run.invoke(cli, ["--home", str(source), "restore", "--force", str(tmp_path / "bk")])
    assert r.exit_code == 0, r.output
    with Commune(source) as c:
        assert len(c.documents()) == 1  # the live database is the one restored
    fresh = tmp_path / "fresh"
    r = run.invoke(cli, ["--home", str(fresh), "restore", str(tmp_path / "bk")])
    assert r.exit_code == 0, r.output
    assert "# left out by commune restore" in (fresh / "commune.toml").read_text()
    with Commune(fresh) as c:
        assert c.settings.database_url == f"sqlite:///{fresh / 'commune.db'}"
        assert len(c.documents()) == 1


@pytest.mark.parametrize("refused", ["folder", "files"])
def test_a_backup_onto_a_disk_that_keeps_no_permissions_says_so(
    corpus, tmp_path, monkeypatch, refused
):
    """A backup's folder is made 0700 and its files 0600; a disk that keeps no permissions
    (FAT, exFAT, an SMB share) refuses both with EPERM. The backup said "free some space on
    the disk", of a disk with room to spare, and the refused folder left its empty hidden
    ".bk.partial" beside the backups. Now it says to back up onto a disk that keeps them,
    in both languages, and leaves nothing."""
    import errno
    import os

    from click.testing import CliRunner

    from commune.cli import cli
    from commune.core import Commune

    with Commune(tmp_path / "home") as c:
        c.add([corpus / "pool.txt"], licence="etalab-2.0")
    disk = tmp_path / "usb"
    disk.mkdir()
    chmod, fchmod = os.chmod, os.fchmod

    def on_the_disk(path: object) -> bool:
        return str(path).startswith(str(disk))

    def refuse_chmod(path, mode, *args, **kwargs):  # type: ignore[no-untyped-def]
        if refused == "files" and on_the_disk(path):
            raise PermissionError(errno.EPERM, os.strerror(errno.EPERM), str(path))
        return chmod(path, mode, *args, **kwargs)

    def refuse_fchmod(fd, mode):  # type: ignore[no-untyped-def]
        if on_the_disk(os.readlink(f"/proc/self/fd/{fd}")):
            raise PermissionError(errno.EPERM, os.strerror(errno.EPERM))
        return fchmod(fd, mode)

    monkeypatch.setattr(os, "chmod", refuse_chmod)
    if refused == "folder":
        monkeypatch.setattr(os, "fchmod", refuse_fchmod)
    args = ["--home", str(tmp_path / "home"), "backup", str(disk / "bk")]
    english = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(cli, args)
    assert english.exit_code == 2, english.output
    assert english.output.endswith(
        "(back up onto a disk that keeps files' permissions (ext4, XFS, NFS), not the one "
        f"holding {disk}: a backup holds every document and the members' personal data, "
        "readable by its owner only)\n"
    ), english.output
    assert "free some space" not in english.output
    assert list(disk.iterdir()) == []
    french = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, args)
    said = (
        "(sauvegardez sur un disque qui garde les droits des fichiers (ext4, XFS, NFS), pas "
        f"sur celui qui contient {disk}\u00a0: une sauvegarde contient chaque document"
    )
    assert french.exit_code == 2 and said in french.output, french.output
    assert list(disk.iterdir()) == []


def test_a_backup_run_by_hand_under_a_022_umask_is_readable_by_its_owner_only(corpus, tmp_path):
    """The systemd units set UMask=0077; a `commune backup` run by hand under the usual 022
    wrote the backup's folder 0755 and its original files, commune.toml and backup.json
    0644, every document and the members' personal data readable by every account on the
    machine. Now every file is 0600 and every folder 0700, whatever the umask; a restore
    still gives the home's commune.toml the mode it had (0640 in the guide)."""
    import os
    import stat

    from click.testing import CliRunner

    from commune.cli import cli
    from commune.core import Commune

    source = tmp_path / "source"
    source.mkdir()
    (source / "commune.toml").write_text('[metrics]\nenabled = true\ntoken = "s3cret"\n')
    os.chmod(source / "commune.toml", 0o640)
    with Commune(source) as c:
        c.add([corpus / "pool.txt"], licence="etalab-2.0")
    run = CliRunner(env={"LANG": "en_GB.UTF-8"})
    old = os.umask(0o022)
    try:
        r = run.invoke(cli, ["--home", str(source), "backup", str(tmp_path / "bk")])
    finally:
        os.umask(old)
    assert r.exit_code == 0, r.output
    modes = {
        str(p.relative_to(tmp_path)): stat.S_IMODE(p.stat().st_mode)
        for p in [tmp_path / "bk", *(tmp_path / "bk").rglob("*")]
    }
    assert {"bk/commune.db", "bk/commune.toml", "bk/backup.json"} <= set(modes), modes
    assert any(name.startswith("bk/blobs/") for name in modes), modes
    wrong = {
        name: oct(mode)
        for name, mode in modes.items()
        if mode != (0o700 if (tmp_path / name).is_dir() else 0o600)
    }
    assert not wrong, wrong
    r = run.invoke(cli, ["--home", str(tmp_path / "new"), "restore", str(tmp_path / "bk")])
    assert r.exit_code == 0, r.output
    assert stat.S_IMODE((tmp_path / "new" / "commune.toml").stat().st_mode) == 0o640


def test_a_restored_commune_toml_stays_as_private_as_the_backed_up_one(corpus, tmp_path):
    """The guide keeps commune.toml at 0640 (a [metrics] token, a database password); the
    backup kept that mode, and the restore wrote the home's copy at the umask's 0644."""
    import os
    import stat

    from click.testing import CliRunner

    from commune.cli import cli
    from commune.core import Commune

    source = tmp_path / "source"
    source.mkdir()
    (source / "commune.toml").write_text('[metrics]\nenabled = true\ntoken = "s3cret"\n')
    os.chmod(source / "commune.toml", 0o640)
    with Commune(source) as c:
        c.add([corpus / "pool.txt"], licence="etalab-2.0")
    run = CliRunner(env={"LANG": "en_GB.UTF-8"})
    assert run.invoke(cli, ["--home", str(source), "backup", str(tmp_path / "bk")]).exit_code == 0
    old = os.umask(0o022)
    try:
        r = run.invoke(cli, ["--home", str(tmp_path / "new"), "restore", str(tmp_path / "bk")])
    finally:
        os.umask(old)
    assert r.exit_code == 0, r.output
    restored = tmp_path / "new" / "commune.toml"
    assert "s3cret" in restored.read_text()
    assert stat.S_IMODE(restored.stat().st_mode) == 0o640
    # From read-only media (a disk mounted so, its files 0440): its owner can still edit it.
    os.chmod(tmp_path / "bk" / "commune.toml", 0o440)
    r = run.invoke(cli, ["--home", str(tmp_path / "third"), "restore", str(tmp_path / "bk")])
    assert r.exit_code == 0, r.output
    assert stat.S_IMODE((tmp_path / "third" / "commune.toml").stat().st_mode) == 0o640


def test_a_restore_says_when_it_keeps_the_home_s_commune_toml(commune, corpus, home, tmp_path):
    """The backup's commune.toml was left aside in silence when the home had its own, with or
    without --force (an exploratory test)."""
    from click.testing import CliRunner

    from commune.cli import cli

    home.mkdir()
    (home / "commune.toml").write_text('default_collection = "mairie"\n')
    commune.add([corpus / "pool.txt"], licence="etalab-2.0")
    run = CliRunner(env={"LANG": "en_GB.UTF-8"})
    bk = tmp_path / "bk"
    assert run.invoke(cli, ["--home", str(home), "backup", str(bk)]).exit_code == 0
    # The same file in the home: nothing to say.
    r = run.invoke(cli, ["--home", str(home), "restore", "--force", str(bk)])
    assert r.exit_code == 0 and "commune.toml" not in r.output, r.output
    other = tmp_path / "other"
    other.mkdir()
    (other / "commune.toml").write_text('default_collection = "archives"\n')
    for target, force in ((other, []), (home, ["--force"])):
        if target == home:
            (home / "commune.toml").write_text('default_collection = "archives"\n')
        r = run.invoke(cli, ["--home", str(target), "restore", *force, str(bk)])
        assert r.exit_code == 0, r.output
        assert (
            f"the backup's commune.toml was not copied: the home keeps its own "
            f"({target / 'commune.toml'}); the backup's is in {bk / 'commune.toml'}"
        ) in r.output.splitlines()
        assert (target / "commune.toml").read_text() == 'default_collection = "archives"\n'
    french = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(
        cli, ["--home", str(home), "restore", "--force", str(bk)]
    )
    assert (
        f"le commune.toml de la sauvegarde n'a pas été copié\u00a0: le répertoire du service "
        f"garde le sien ({home / 'commune.toml'})\u00a0; celui de la sauvegarde est dans "
        f"{bk / 'commune.toml'}"
    ) in french.output.splitlines(), french.output
    # A home without one takes the backup's, and says nothing of it.
    fresh = tmp_path / "fresh"
    r = run.invoke(cli, ["--home", str(fresh), "restore", str(bk)])
    assert r.exit_code == 0 and "commune.toml" not in r.output, r.output
    assert (fresh / "commune.toml").read_text() == 'default_collection = "mairie"\n'


def test_a_restore_that_fails_midway_keeps_the_old_database(commune, corpus, home, tmp_path):
    # The database was swapped in before the original files were copied: a failure left a
    # database whose files were missing, with a traceback (review finding).
    from click.testing import CliRunner

    from commune.cli import cli

    commune.add([corpus / "pool.txt"], licence="etalab-2.0")
    run = CliRunner(env={"LANG": "en_GB.UTF-8"})
    assert run.invoke(cli, ["--home", str(home), "backup", str(tmp_path / "bk")]).exit_code == 0
    target = tmp_path / "target"
    target.mkdir()
    (target / "blobs").write_text("a file where the originals' directory goes")
    r = run.invoke(cli, ["--home", str(target), "restore", str(tmp_path / "bk")])
    assert r.exit_code != 0 and "Traceback" not in r.output
    assert "restoring into" in r.output and "run commune restore again" in r.output
    assert not (target / "commune.db").exists()


def test_check_finds_a_revision_whose_original_file_is_missing(commune, corpus, home):
    # An interrupted restore left a database without its original files, and every check
    # said ok (review finding).
    from sqlalchemy import select

    from commune.store.schema import revisions

    commune.add([corpus / "pool.txt"], licence="etalab-2.0")
    assert all(c.ok for c in commune.check().checks if c.name == "originals")
    with commune.engine.connect() as conn:
        digest = conn.execute(select(revisions.c.content_hash)).scalar_one()
    (home / "blobs" / digest[:2] / digest).unlink()
    [originals] = [c for c in commune.check().checks if c.name == "originals"]
    assert not originals.ok and originals.detail.startswith("1 revision has no original file")
    # And in French, one revision said as one (it read "1 révisions n'ont pas…").
    from commune.text.messages import localise

    assert localise(originals.detail, "fr") == (
        "1 révision n'a pas son fichier d'origine dans blobs/ (restaurez la dernière "
        "sauvegarde\u00a0: commune restore DIR --force)"
    )
    assert localise(originals.detail.replace("1 revision has", "2 revisions have"), "fr") == (
        "2 révisions n'ont pas leur fichier d'origine dans blobs/ (restaurez la dernière "
        "sauvegarde\u00a0: commune restore DIR --force)"
    )


def test_an_original_a_power_cut_left_empty_is_found_and_made_whole_by_adding_again(
    commune, corpus, home
):
    # A power cut after an original's rename, before its bytes reached the disk, leaves its
    # name with an empty file (ext4's delayed allocation). It was taken for the original:
    # `commune check` said ok, adding the folder again said "unchanged" and left it empty,
    # and an export published the empty file as the document.
    from sqlalchemy import select

    from commune.store.schema import revisions

    commune.add([corpus / "pool.txt"], licence="etalab-2.0")
    with commune.engine.connect() as conn:
        digest = conn.execute(select(revisions.c.content_hash)).scalar_one()
    original = home / "blobs" / digest[:2] / digest
    original.write_bytes(b"")
    [originals] = [c for c in commune.check().checks if c.name == "originals"]
    assert not originals.ok and originals.detail.startswith("1 revision has no original file")
    assert commune.add([corpus / "pool.txt"], licence="etalab-2.0").unchanged == 1
    assert original.read_bytes() == (corpus / "pool.txt").read_bytes()
    assert all(c.ok for c in commune.check().checks)


def test_an_original_left_empty_is_made_whole_by_adding_again_with_ray_too(commune, corpus, home):
    # The operator who loads with `add --ray` adds again with --ray: every file unchanged,
    # read here and never sent to the cluster (none is reached), and the empty original
    # stayed empty, `commune check` failing after the very command it asked for.
    from sqlalchemy import select

    from commune.store.schema import revisions

    commune.add([corpus / "pool.txt"], licence="etalab-2.0")
    with commune.engine.connect() as conn:
        digest = conn.execute(select(revisions.c.content_hash)).scalar_one()
    original = home / "blobs" / digest[:2] / digest
    original.write_bytes(b"")
    again = commune.add([corpus / "pool.txt"], licence="etalab-2.0", ray_address="127.0.0.1:1")
    assert again.unchanged == 1 and not again.failed
    assert original.read_bytes() == (corpus / "pool.txt").read_bytes()
    assert all(c.ok for c in commune.check().checks)


def test_restore_keeps_the_replaced_database_whole_and_says_what_it_held(
    commune, corpus, home, tmp_path
):
    """--force over newer data: the database replaced, with its -wal (its latest writes), is
    renamed aside and named; a restore that fails before the swap changes nothing."""
    import sqlite3

    from click.testing import CliRunner

    from commune.cli import cli
    from commune.core import Commune

    commune.add([corpus / "pool.txt"], licence="etalab-2.0")
    run = CliRunner(env={"LANG": "en_GB.UTF-8"})
    assert run.invoke(cli, ["--home", str(home), "backup", str(tmp_path / "bk")]).exit_code == 0
    commune.add([corpus / "library.md"], licence="etalab-2.0")  # newer than the backup
    # A restore stopped by a full disk while it copies the database moves nothing.
    import shutil

    copyfile = shutil.copyfile

    def full(src, dst, *a, **kw):  # type: ignore[no-untyped-def]
        if str(dst).endswith(".restoring"):
            raise OSError(28, "No space left on device", str(dst))
        return copyfile(src, dst, *a, **kw)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shutil, "copyfile", full)
        r = run.invoke(cli, ["--home", str(home), "restore", "--force", str(tmp_path / "bk")])
    assert r.exit_code != 0 and "No space left on device" in r.output, r.output
    assert len(commune.documents()) == 2 and not list(home.glob("commune.db.re*"))
    commune.close()
    r = run.invoke(cli, ["--home", str(home), "restore", "--force", str(tmp_path / "bk")])
    assert r.exit_code == 0, r.output
    [kept] = home.glob("commune.db.replaced-*[0-9]Z")
    assert f"the replaced database is kept as it was in {kept} (2 documents, " in r.output
    with sqlite3.connect(kept) as db:
        assert db.execute("SELECT count(*) FROM documents").fetchone() == (2,)
    with Commune(home) as again:
        assert len(again.documents()) == 1


@pytest.mark.parametrize("step", range(4))
def test_a_restore_killed_at_any_step_leaves_a_home_with_a_whole_database(
    commune, corpus, home, tmp_path, step
):
    """Killed (kill -9, a power cut) while --force swaps the databases, a restore left a home
    without commune.db (the old one moved aside, the new one not yet in its place), or with
    the old one's -wal beside nothing: the next command made a new empty commons there, or
    read another database's log. Each step of the swap is now one rename or less, the old
    database whole in its place until the new one replaces it."""
    import os
    import subprocess
    import sys

    commune.add([corpus / "pool.txt"], licence="etalab-2.0")
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.core import Commune

    run = CliRunner(env={"LANG": "en_GB.UTF-8"})
    assert run.invoke(cli, ["--home", str(home), "backup", str(tmp_path / "bk")]).exit_code == 0
    commune.close()
    # Newer than the backup, by a process killed since: its writes are in the -wal.
    newer = (
        "import os, sys\nfrom commune.core import Commune\n"
        "c = Commune(sys.argv[1])\nc.add([sys.argv[2]], licence='etalab-2.0')\nos._exit(9)"
    )
    subprocess.run(
        [sys.executable, "-c", newer, str(home), str(corpus / "library.md")], timeout=300
    )
    assert (home / "commune.db-wal").stat().st_size > 0
    # The process dies at the step-th file system change of the swap: no handler runs.
    kill = f"""
import os, sys
from pathlib import Path
steps = [0]
def dying(real):
    def f(*a, **k):
        if steps[0] == {step}:
            os._exit(9)
        steps[0] += 1
        return real(*a, **k)
    return f
os.link = dying(os.link)
os.unlink = dying(os.unlink)
Path.replace = dying(Path.replace)
Path.unlink = dying(Path.unlink)
from commune.cli import cli
cli(["--home", sys.argv[1], "restore", "--force", sys.argv[2]])
"""
    r = subprocess.run(
        [sys.executable, "-c", kill, str(home), str(tmp_path / "bk")],
        capture_output=True,
        text=True,
        env={**os.environ, "LANG": "en_GB.UTF-8"},
        timeout=300,
    )
    assert r.returncode in (0, 9), r.stderr
    with Commune(home) as after:
        assert len(after.documents()) in (1, 2)  # the old database or the backup's, whole
    r = run.invoke(cli, ["--home", str(home), "check"])
    assert r.exit_code == 0, r.output


def test_no_restore_under_a_running_server(commune, corpus, home, tmp_path, monkeypatch):
    """A server goes on writing to the database it has open: replaced under it, everything
    it wrote afterwards would vanish. commune serve and commune mcp hold the home."""
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.store.db import serving, unserved

    commune.add([corpus / "pool.txt"], licence="etalab-2.0")
    run = CliRunner(env={"LANG": "en_GB.UTF-8"})
    assert run.invoke(cli, ["--home", str(home), "backup", str(tmp_path / "bk")]).exit_code == 0
    with serving(home):
        r = run.invoke(cli, ["--home", str(home), "restore", "--force", str(tmp_path / "bk")])
        assert r.exit_code == 2 and "is in use" in r.output, r.output
        assert "systemctl stop commune" in r.output
    assert not list(home.glob("commune.db.replaced-*"))
    held = []

    def fake_run(*args, **kwargs):  # type: ignore[no-untyped-def]
        with unserved(home) as free:
            held.append(not free)

    monkeypatch.setattr("uvicorn.run", fake_run)
    # A free port: 8000 may be taken (make demo leaves its web application on it).
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    out = run.invoke(cli, ["--home", str(home), "serve", "--port", port])
    assert out.exit_code == 0, out.output
    assert held == [True]


def test_a_command_started_during_a_restore_says_it_waits_then_goes_on(home):
    import threading

    from commune.store.db import serving, unserved

    home.mkdir(parents=True)
    told, inside = threading.Event(), threading.Event()

    def command() -> None:
        with serving(home, told.set):
            inside.set()

    with unserved(home) as free:  # a restore holds the home
        assert free
        worker = threading.Thread(target=command)
        worker.start()
        assert told.wait(60), "the command did not say it waits"
        assert not inside.is_set()  # and it waits
    worker.join(60)
    assert inside.is_set()


def test_a_home_that_cannot_hold_its_lock_is_served_all_the_same(tmp_path):
    """A read-only home (its lock file cannot be made) is held read-only or not at all, and
    an error of the command itself does not carry the lock's (it was read as a missing
    file, and its own traceback lost)."""
    from commune.store.db import serving

    # Its lock file cannot be opened, written or read, as in a read-only home without one
    # (the tests run as root, whom a read-only mode does not stop): a folder in its place.
    # A home that is not there at all is another case (taken back: test_cli.py).
    home = tmp_path / "home"
    (home / "commune.serving").mkdir(parents=True)
    with pytest.raises(KeyError) as raised, serving(home):
        raise KeyError("the command's own")
    assert raised.value.__context__ is None


def test_no_restore_under_a_running_command(commune, corpus, home, tmp_path):
    """An add running during a restore --force put its documents in the replaced database
    and left an index generation that a later one took for its own: every command holds
    the home from the moment it opens it until it ends, and a restore refuses meanwhile."""
    import click
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.cli.group import close_home, commune_of

    commune.add([corpus / "pool.txt"], licence="etalab-2.0")
    commune.close()
    run = CliRunner(env={"LANG": "fr_FR.UTF-8"})
    assert run.invoke(cli, ["--home", str(home), "backup", str(tmp_path / "bk")]).exit_code == 0
    running = click.Context(cli, obj={"home": str(home)})  # a command midway, its home open
    commune_of(running).documents()
    r = run.invoke(cli, ["--home", str(home), "restore", "--force", str(tmp_path / "bk")])
    assert r.exit_code == 2, r.output
    assert "est en cours d'utilisation (commune serve, commune mcp ou une autre commande" in (
        r.output
    )
    assert not list(home.glob("commune.db.replaced-*"))
    close_home(running)  # the command ends: the home is free again
    r = run.invoke(cli, ["--home", str(home), "restore", "--force", str(tmp_path / "bk")])
    assert r.exit_code == 0, r.output


def test_a_failed_backup_leaves_nothing_that_looks_like_one(commune, corpus, home, tmp_path):
    """The timer keeps the newest 14 directories: a half-written one must not be among them.
    A backup is written under a hidden name, and takes its own once verified."""
    from click.testing import CliRunner

    from commune.cli import cli

    commune.add([corpus / "pool.txt"], licence="etalab-2.0")
    backups = tmp_path / "backups"
    dest = backups / "2026-12-04T023000Z"
    (backups / ".2026-12-04T023000Z.partial").mkdir(parents=True)  # an attempt cut short
    run = CliRunner(env={"LANG": "en_GB.UTF-8"})
    r = run.invoke(cli, ["--home", str(home), "backup", str(dest)])
    assert r.exit_code == 0 and (dest / "backup.json").exists(), r.output
    assert sorted(p.name for p in backups.iterdir()) == [dest.name]
    # The disk fills while the originals are copied.
    import shutil

    def full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shutil, "copy2", full)
        r = run.invoke(cli, ["--home", str(home), "backup", str(backups / "again")])
    assert r.exit_code != 0 and "Traceback" not in r.output
    assert f"writing the backup into {backups / 'again'} failed" in r.output, r.output
    assert sorted(p.name for p in backups.iterdir()) == [dest.name]


def test_a_damaged_backup_is_named_as_the_broken_part_and_force_is_not_offered(
    commune, corpus, home, tmp_path
):
    """A truncated backup was said to be the live home's unreadable database, with advice to
    restore over it with --force (an exploratory test)."""
    from click.testing import CliRunner

    from commune.cli import cli

    commune.add([corpus / "pool.txt"], licence="etalab-2.0")
    run = CliRunner(env={"LANG": "en_GB.UTF-8"})
    bk = tmp_path / "bk"
    assert run.invoke(cli, ["--home", str(home), "backup", str(bk)]).exit_code == 0
    db = bk / "commune.db"
    for damage in (db.read_bytes()[:5000], b""):  # truncated; empty (no tables at all)
        db.write_bytes(damage)
        before = (home / "commune.db").read_bytes()
        for target, force in ((home, ["--force"]), (home, []), (tmp_path / "new", [])):
            r = run.invoke(cli, ["--home", str(target), "restore", *force, str(bk)])
            assert r.exit_code == 2, r.output
            (line,) = r.stderr.splitlines()
            assert line.startswith(
                f"error: the backup's database {db} is not a readable Commune database (SQLite: "
            ), line
            assert line.endswith(
                "(this backup cannot be restored, and the home is untouched: restore another "
                "backup)"
            )
            assert "--force" not in line and str(home) not in line
        assert (home / "commune.db").read_bytes() == before
        assert not (tmp_path / "new").exists()
    french = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(
        cli, ["--home", str(home), "restore", str(bk)]
    )
    assert french.stderr.startswith(f"erreur\u00a0: la base de la sauvegarde, {db}, n'est pas "), (
        french.stderr
    )


def test_a_backup_of_a_home_without_a_database_says_so_and_makes_nothing(tmp_path):
    """An empty folder given as the home got a traceback ("no such table: audit_log") and a
    0-byte commune.db; a missing one, advice to free disk space (an exploratory test)."""
    from commune.errors import CommuneError
    from commune.store.backup import backup

    for home in (tmp_path / "empty", tmp_path / "missing"):
        if home.name == "empty":
            home.mkdir()
        dest = tmp_path / f"bk-{home.name}"
        with pytest.raises(CommuneError) as raised:
            backup(f"sqlite:///{home / 'commune.db'}", home, dest)
        assert str(raised.value) == (
            f"{home} holds no Commune database ({home / 'commune.db'} is missing or empty) "
            "(check --home and COMMUNE_HOME: a backup copies a home that has one)"
        )
        assert not dest.exists() and not (home / "commune.db").exists()
    from commune.text.messages import localise

    assert localise(str(raised.value), "fr") == (
        f"{home} ne contient aucune base de données de Commune ({home / 'commune.db'} est "
        "absente ou vide) (vérifiez --home et COMMUNE_HOME\u00a0: une sauvegarde copie un "
        "répertoire du service qui en a une)"
    )


def test_an_interrupted_migration_leaves_the_schema_as_it_was(tmp_path, monkeypatch):
    """SQLite ran a migration's statements outside any transaction: interrupted, its new
    tables stayed while the version did not move, and every later start failed ("table
    already exists"). Under the migration's lock it is one transaction."""
    import alembic.operations
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect, text

    from commune.store.db import MIGRATIONS, make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'commune.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0007")

    def killed(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt("killed during migration 0008")

    with monkeypatch.context() as m:
        m.setattr(alembic.operations.Operations, "create_index", killed)
        with pytest.raises(KeyboardInterrupt):
            upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar() == "0007"
        assert "index_log" not in inspect(conn).get_table_names()
    upgrade(engine)  # the next start finishes it
    with engine.connect() as conn:
        assert "index_log" in inspect(conn).get_table_names()


def test_a_backup_on_read_only_media_is_restored(commune, corpus, home, tmp_path):
    """A backup's database is in WAL mode, and SQLite opened it to verify it by writing a
    -shm beside it: a backup on read-only media (borg or restic mounted, a disk mounted
    read-only, a folder the restoring user cannot write) was "not a readable Commune
    database", every one of them, with advice to restore another. Read-only here is a
    read-only bind mount (as root: root writes through permissions), else a folder without
    write permission."""
    import os
    import shutil
    import subprocess
    import sys

    commune.add([corpus / "pool.txt"], licence="etalab-2.0")
    backup = tmp_path / "bk"
    restored = tmp_path / "restored"
    env = {**os.environ, "LANG": "en_GB.UTF-8"}
    cli = [sys.executable, "-m", "commune.cli", "--home"]
    subprocess.run([*cli, str(home), "backup", str(backup)], check=True, timeout=300, env=env)
    # Nothing of SQLite's left beside it (a -shm let SQLite read it on read-only media)...
    assert sorted(p.name for p in backup.iterdir()) == ["backup.json", "blobs", "commune.db"]
    # ...nor after the guide's restore test, which once removed them.
    tried = [*cli, str(tmp_path / "tried"), "restore", str(backup)]
    subprocess.run(tried, check=True, timeout=300, env=env, capture_output=True)
    restore = [*cli, str(restored), "restore"]
    if os.geteuid() == 0:
        unshare = shutil.which("unshare")
        mount = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
        argv = [str(unshare), "-m", "sh", "-c", mount, "sh", str(backup), *restore, str(backup)]
        probe = subprocess.run([str(unshare), "-m", "true"], capture_output=True)
        if unshare is None or probe.returncode != 0:
            pytest.skip("as root, a read-only mount needs unshare -m (CAP_SYS_ADMIN)")
    else:
        for path in [backup, *backup.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)
        argv = [*restore, str(backup)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env)
    finally:
        for path in [backup, *backup.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "restored and verified: 1 revision" in done.stdout
    from commune.core import Commune

    with Commune(restored) as again:
        assert len(again.documents()) == 1 and again.verify_audit().ok


def test_a_rollback_restores_with_the_version_it_leaves(commune, corpus, home, tmp_path):
    """The guides' rollback installed the older version first and restored with it; a version
    from before 4 December 2026 deleted the migrated database it replaced, so the upgraded
    home's ledger and audit entries were lost in silence. The guides now restore first, with
    the version being left: it keeps the replaced database, and puts an older version's
    backup in place as taken, migrating nothing, so the older code still reads it."""
    import re
    import sqlite3
    from contextlib import closing
    from pathlib import Path

    from click.testing import CliRunner

    from commune.cli import cli

    commune.add([corpus / "pool.txt"], licence="etalab-2.0")
    run = CliRunner(env={"LANG": "en_GB.UTF-8"})
    assert run.invoke(cli, ["--home", str(home), "backup", str(tmp_path / "bk")]).exit_code == 0
    with closing(sqlite3.connect(tmp_path / "bk" / "commune.db")) as db, db:  # an older one's
        db.execute("UPDATE alembic_version SET version_num = '0013'")
    commune.close()
    r = run.invoke(cli, ["--home", str(home), "restore", "--force", str(tmp_path / "bk")])
    assert r.exit_code == 0, r.output
    with closing(sqlite3.connect(home / "commune.db")) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchone() == ("0013",)
    assert list(home.glob("commune.db.replaced-*"))
    root = Path(__file__).resolve().parents[1]
    for guide in ("docs/operations.md", "docs/fr/exploitation.md"):
        text = (root / guide).read_text(encoding="utf-8")
        [block] = [b for b in re.findall(r"```sh\n(.*?)```", text, re.S) if "--force" in b]
        assert block.index("commune restore") < block.index("pip install"), guide


def test_a_restore_names_the_keys_it_makes_active_again(commune, corpus, home, tmp_path):
    """A key revoked after the backup (leaked, or its holder gone) is active again in the
    restored database, and the restore said nothing: the leaked key worked again. It now
    names each one, with the command that revokes it."""
    from click.testing import CliRunner

    from commune.cli import cli
    from tests.conftest import make_key

    make_key(commune, "alice", "Ville A")
    make_key(commune, "bruno", "Ville A")
    run = CliRunner(env={"LANG": "en_GB.UTF-8"})
    assert run.invoke(cli, ["--home", str(home), "backup", str(tmp_path / "bk")]).exit_code == 0
    [leaked] = [k for k in commune.admin.keys() if k["user"] == "bruno"]
    commune.admin.revoke_key(leaked["id"])
    commune.close()
    r = run.invoke(cli, ["--home", str(home), "restore", "--force", str(tmp_path / "bk")])
    assert r.exit_code == 0, r.output
    said = (
        f'key {leaked["id"]} (cmn_{leaked["prefix"]}_…, bruno, "{leaked["label"]}"), revoked '
        f"since the backup, is active again: revoke it (commune key revoke {leaked['id']})"
    )
    assert said in r.output and "alice" not in r.output, r.output
    r = run.invoke(cli, ["--home", str(home), "restore", "--force", str(tmp_path / "bk")])
    assert "revoked since the backup" not in r.output  # the replaced one had revoked none


def test_the_commands_a_restore_prints_to_make_changes_again_run(commune, corpus, home, tmp_path):
    """Each command the restore prints to make a taken-back change again runs as printed,
    names with spaces in them too: they were printed bare ("commune visibility Ressources
    humaines private"), and a person added since the backup was given "commune user
    set-role", which answered that no such user exists."""
    import shlex

    from click.testing import CliRunner

    from commune.cli import cli
    from commune.core import Commune

    commune.admin.add_member("Ville A", kind="town")
    commune.admin.add_member("Ville B", kind="town")
    commune.admin.add_user("Jean Dupont", member="Ville A", role="reader")
    commune.add([corpus / "pool.txt"], collection="Ressources humaines", licence="etalab-2.0")
    commune.add([corpus / "library.md"], collection="archives", licence="etalab-2.0")
    commune.set_visibility("archives", "private", member="Ville A")
    run = CliRunner(env={"LANG": "en_GB.UTF-8"})
    assert run.invoke(cli, ["--home", str(home), "backup", str(tmp_path / "bk")]).exit_code == 0
    commune.admin.add_user("Anne Martin", member="Ville A", role="curator")
    commune.admin.set_role("Jean Dupont", "contributor")
    commune.admin.set_user_quotas("Jean Dupont", {"requests_per_day": 5})
    commune.admin.set_member_quotas("Ville A", {"tokens_per_month": 1000, "wh_per_month": None})
    commune.set_visibility("Ressources humaines", "private", member="Ville A")
    commune.set_curation_rules("Ressources humaines", 2, "curator")
    commune.admin.set_password("Jean Dupont", "un mot de passe nouveau")
    # Handed to Ville B: the owner the backup holds kept it, and the command was refused.
    commune.set_visibility("archives", "shared", member="Ville B", transfer=True)
    # A member added since, with its person, and a peer: gone, and nothing said so.
    commune.admin.add_member("Les Amis du Lac", kind="association", declared_use="commercial")
    commune.admin.add_user("zoé", member="Les Amis du Lac")
    commune.admin.issue_peer("coop-z")
    # Added and removed since: not to be added again.
    commune.admin.add_user("paul", member="Ville A", role="curator")
    commune.admin.remove_user("paul", "parti")
    commune.close()
    r = run.invoke(cli, ["--home", str(home), "restore", "--force", str(tmp_path / "bk")])
    assert r.exit_code == 0, r.output
    commands = [line.strip() for line in r.output.splitlines() if line.startswith("    commune ")]
    # One for each change (the transfer's in the visibility after it; the peer's person's
    # in its issue).
    assert len(commands) == 11 and "paul" not in r.output, r.output
    assert "commune user add 'Anne Martin' --member 'Ville A' --role curator" in commands
    assert commands[-3:] == [
        "commune member add 'Les Amis du Lac' --kind association --declared-use commercial",
        "commune user add zoé --member 'Les Amis du Lac' --role reader",
        "commune peer issue coop-z",
    ], r.output
    for command in commands:
        args = shlex.split(command)[1:]
        if "password" in args:  # asked at a terminal, which the runner has not
            args.append("--stdin")
        given = "un mot de passe neuf\n" if "password" in args else None
        done = run.invoke(cli, ["--home", str(home), *args], input=given)
        assert done.exit_code == 0, (command, done.output)
    with Commune(home) as again:
        [archives] = [c for c in again.collections() if c["name"] == "archives"]
    assert (archives["visibility"], archives["owner"]) == ("shared", "Ville B")


def test_a_restore_ends_the_sessions_and_names_what_it_takes_back(commune, corpus, home, tmp_path):
    """The backup holds the sessions open when it was made and the people and collections
    as they were: a session signed out since, a person removed since, a password changed
    since (it leaked), a collection made private since, a role lowered since all came back
    after a restore, and nothing said so. The sessions end; the rest is named, from the
    replaced database's audit log, to be done again."""
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.core import Commune
    from commune.govern import sessions
    from commune.govern.members import authenticate
    from tests.conftest import make_key

    keys = {name: make_key(commune, name, "Ville A") for name in ("alice", "bruno", "chloe")}
    commune.admin.set_password("chloe", "un mot de passe ancien")
    commune.add([corpus / "pool.txt"], collection="rh", licence="etalab-2.0")
    with commune.engine.begin() as conn:
        token = sessions.open_session(conn, authenticate(conn, keys["alice"]), 12)
    run = CliRunner(env={"LANG": "en_GB.UTF-8"})
    assert run.invoke(cli, ["--home", str(home), "backup", str(tmp_path / "bk")]).exit_code == 0
    commune.admin.remove_user("bruno", "left the town hall")
    commune.admin.set_password("chloe", "un mot de passe nouveau")
    commune.set_visibility("rh", "private", member="Ville A")
    copy = tmp_path / "piscine-copie.txt"
    copy.write_bytes((corpus / "pool.txt").read_bytes())
    commune.add([copy], collection="rh", licence="etalab-2.0")
    pool = min(d["id"] for d in commune.documents() if d["collection"] == "rh")
    assert len(commune.retire(pool, "données", category="personal-data")) == 1  # and its copy
    commune.set_curation_rules("rh", 2, "curator")
    commune.admin.set_role("chloe", "curator")
    commune.admin.set_user_quotas("chloe", {"requests_per_day": 5, "wh_per_month": None})
    commune.close()
    r = run.invoke(cli, ["--home", str(home), "restore", "--force", str(tmp_path / "bk")])
    assert r.exit_code == 0, r.output
    assert "1 web session open at the backup is ended: people sign in again" in r.output
    assert (
        "bruno, removed since the backup, can sign in again: remove them again (commune user "
        'remove bruno --reason "…")'
    ) in r.output
    assert "the restore undoes these changes made since the backup" in r.output
    undone = r.output.split("make again those that still hold:\n")[1].splitlines()
    listed = [line.strip() for line in undone if not line.startswith("  20")]
    assert [line.split()[2:] for line in undone if line.startswith("  20")][:6] == [
        ["password-set", "user", "chloe"],
        ["visibility", "collection", "rh"],
        ["retire", "document", str(pool)],
        ["curation-rules", "collection", "rh"],
        ["role-grant", "user", "chloe"],
        ["user-quotas", "user", "chloe"],
    ], r.output
    # Each with what it set and, where one command does, the command that sets it again:
    # the lines named the change alone, and making it again meant reading the replaced
    # database's audit log by hand.
    assert listed[:11] == [
        "commune user password chloe",
        "readers: private",
        "commune visibility rh private --member 'Ville A'",
        "category: personal-data",
        f'commune retire {pool} --category personal-data --reason "…"',
        "rules: 2 / curator",
        "commune curation rh --approvals 2 --role curator",
        "role: curator",
        "commune user set-role chloe curator",
        "caps: requests-per-day 5, wh-per-month none",
        "commune user set chloe --requests-per-day 5 --clear wh-per-month",
    ], r.output
    # The copy goes again with the document: no line of its own.
    assert sum("  retire  document" in line for line in undone) == 1
    assert "alice" not in r.output
    with Commune(home) as restored, restored.engine.connect() as conn:
        assert sessions.find(conn, token) is None
    # Restored again over the restored home: nothing was done since, nothing is listed.
    r = run.invoke(cli, ["--home", str(home), "restore", "--force", str(tmp_path / "bk")])
    assert r.exit_code == 0 and "undoes" not in r.output and "removed since" not in r.output


def test_what_a_restore_takes_back_is_said_in_french(commune, corpus, home, tmp_path):
    """In French the values a restore takes back read as French ("lecteurs : private",
    "rôle : curator", "catégorie : personal-data" were the audit's English words); the
    commands keep the CLI's."""
    from click.testing import CliRunner

    from commune.cli import cli
    from tests.conftest import make_key

    make_key(commune, "chloe", "Ville A")
    commune.add([corpus / "pool.txt"], collection="rh", licence="etalab-2.0")
    run = CliRunner(env={"LANG": "fr_FR.UTF-8"})
    assert run.invoke(cli, ["--home", str(home), "backup", str(tmp_path / "bk")]).exit_code == 0
    commune.set_visibility("rh", "private", member="Ville A")
    commune.admin.set_role("chloe", "curator")
    [doc] = [d["id"] for d in commune.documents() if d["collection"] == "rh"]
    commune.retire(doc, "données", category="personal-data")
    commune.close()
    r = run.invoke(cli, ["--home", str(home), "restore", "--force", str(tmp_path / "bk")])
    assert r.exit_code == 0, r.output
    said = [line.strip() for line in r.output.splitlines()]
    assert "lecteurs\u00a0: privée" in said, r.output
    assert "rôle\u00a0: curateur" in said
    assert "catégorie\u00a0: données personnelles" in said
    assert "commune user set-role chloe curator" in said


def test_a_member_a_restore_takes_back_has_its_kind_in_french(commune, home, tmp_path):
    """In French the kind of a member added since the backup read "type : town", the audit's
    English word, where the other values the restore takes back read as French; the command
    keeps the CLI's word."""
    from click.testing import CliRunner

    from commune.cli import cli

    commune.admin.add_member("Ville B", kind="association")  # a home to back up
    run = CliRunner(env={"LANG": "fr_FR.UTF-8"})
    made = run.invoke(cli, ["--home", str(home), "backup", str(tmp_path / "bk")])
    assert made.exit_code == 0, made.output
    commune.admin.add_member("Ville Z", kind="town")
    commune.admin.add_member("Asso Y", kind="public-body")
    commune.close()
    r = run.invoke(cli, ["--home", str(home), "restore", "--force", str(tmp_path / "bk")])
    assert r.exit_code == 0, r.output
    said = [line.strip() for line in r.output.splitlines()]
    assert "type\u00a0: commune" in said, r.output
    assert "type\u00a0: organisme public" in said, r.output
    assert "commune member add 'Ville Z' --kind town --declared-use non-commercial" in said


def test_sessions_opened_before_they_recorded_their_key_end_at_the_upgrade(tmp_path):
    """Migration 0013 records the key a web session was opened with, so that revoking the key
    ends the session. A session opened before it recorded nothing: one opened with a key
    went on after the key's revocation, for up to [web] session_hours. Upgraded, every such
    session has ended: everyone signs in again once."""
    from datetime import UTC, datetime, timedelta

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from commune.govern import sessions
    from commune.store.db import MIGRATIONS, make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'commune.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0012")
        when = datetime.now(UTC)
        conn.execute(
            text(
                "INSERT INTO members (id, name, kind, declared_use, created_at) "
                "VALUES (1, 'Ville A', 'town', 'non-commercial', :t)"
            ),
            {"t": when},
        )
        conn.execute(
            text(
                "INSERT INTO users (id, member_id, name, role, created_at) "
                "VALUES (1, 1, 'alice', 'reader', :t)"
            ),
            {"t": when},
        )
        conn.execute(
            text(
                "INSERT INTO web_sessions (digest, user_id, csrf, created_at, expires_at) "
                "VALUES (:d, 1, 'c', :t, :e)"
            ),
            {"d": sessions._digest("token"), "t": when, "e": when + timedelta(hours=12)},
        )
    upgrade(engine)
    with engine.connect() as conn:
        assert sessions.find(conn, "token") is None
        assert conn.execute(text("SELECT ended_at FROM web_sessions")).scalar() is not None


def test_a_backup_and_a_restored_database_are_on_the_disk_before_their_names(
    commune, corpus, home, tmp_path, monkeypatch
):
    """A power cut shortly after a rename can leave the new name with an empty or short file
    (ext4 writes the bytes later than the name). A backup's files were never flushed before
    its folder took the backup's name: such a backup was counted among the good ones until a
    restore refused it. A restore's database neither, before it took commune.db's name: the
    home was left with a database cut short. Each is now flushed before its rename; which
    files were flushed when is what a test can see of it (the inode of each fsync)."""
    import os
    from pathlib import Path

    from click.testing import CliRunner

    from commune.cli import cli

    commune.add([corpus], licence="etalab-2.0")
    synced: set[int] = set()
    unsynced: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):  # type: ignore[no-untyped-def]
        synced.add(os.fstat(fd).st_ino)
        return real_fsync(fd)

    def replace(src, dst):  # type: ignore[no-untyped-def]
        # What takes a name that the next command reads: a backup, a restored database.
        if str(src).endswith(".partial") or str(dst).endswith("commune.db"):
            found = [Path(src)] if Path(src).is_file() else list(Path(src).rglob("*"))
            unsynced.extend(str(p) for p in found if os.stat(p).st_ino not in synced)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    run = CliRunner(env={"LANG": "en_GB.UTF-8"})
    r = run.invoke(cli, ["--home", str(home), "backup", str(tmp_path / "bk")])
    assert r.exit_code == 0, r.output
    r = run.invoke(cli, ["--home", str(tmp_path / "restored"), "restore", str(tmp_path / "bk")])
    assert r.exit_code == 0, r.output
    assert unsynced == []


def test_a_restored_homes_settings_are_on_the_disk_before_the_restore_ends(
    commune, corpus, home, tmp_path, monkeypatch
):
    """A restore into a home without a commune.toml copies the backup's. It was written in
    place and never flushed: a power cut soon after the restore left it empty (a new file's
    bytes reach the disk after its name), and the home opened with the defaults, not the
    backup's models and charter, without a word; killed while writing, it was cut short and
    the home would not open. It is now written whole (files.write_whole) and flushed, with
    the home's folder that names it."""
    import os
    from pathlib import Path

    from click.testing import CliRunner

    from commune.cli import cli

    commune.add([corpus], licence="etalab-2.0")
    (home / "commune.toml").write_text('default_collection = "mairie"\n', encoding="utf-8")
    run = CliRunner(env={"LANG": "en_GB.UTF-8"})
    r = run.invoke(cli, ["--home", str(home), "backup", str(tmp_path / "bk")])
    assert r.exit_code == 0, r.output
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd):  # type: ignore[no-untyped-def]
        synced.append(os.fstat(fd).st_ino)
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    restored = tmp_path / "restored"
    r = run.invoke(cli, ["--home", str(restored), "restore", str(tmp_path / "bk")])
    assert r.exit_code == 0, r.output
    settings = Path(restored / "commune.toml")
    assert 'default_collection = "mairie"' in settings.read_text(encoding="utf-8")
    toml, folder = settings.stat().st_ino, restored.stat().st_ino
    assert toml in synced, "commune.toml never flushed"
    assert folder in synced[synced.index(toml) :], "its name never flushed after it"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_restore_of_the_guides_postgresql_backup_says_to_use_pg_restore(tmp_path, language):
    """The guides' nightly backup of a PostgreSQL home is a folder of commune.dump, blobs/
    and commune.toml. Given to `commune restore` in a trial home, as "Trying a restore" does
    with a SQLite backup, it was "not a Commune backup (give a `commune backup` dir)": the
    operator had the one the guides make, and nothing said what restores it."""
    from click.testing import CliRunner

    from commune.cli import cli

    night = tmp_path / "2026-12-03T023000Z"
    (night / "blobs").mkdir(parents=True)
    (night / "commune.dump").write_bytes(b"PGDMP")
    (night / "commune.toml").write_text("", encoding="utf-8")
    env = {"LANG": "fr_FR.UTF-8" if language == "fr" else "en_GB.UTF-8", "LANGUAGE": ""}
    out = CliRunner(env=env).invoke(cli, ["--home", str(tmp_path / "trial"), "restore", str(night)])
    said = re.sub(r"[ \n]+", " ", out.output)
    assert out.exit_code == 2 and "Traceback" not in said, said
    assert {
        "en": "holds a PostgreSQL backup (commune.dump, made by pg_dump), not a `commune backup` "
        "(restore it with pg_restore, as the operator's guide says (Backups; Trying a restore, "
        "into a new database))",
        "fr": "023000Z contient une sauvegarde PostgreSQL (commune.dump, faite par pg_dump), "
        "pas une "
        "sauvegarde faite par «\u00a0commune backup\u00a0» (restaurez-la avec pg_restore, "
        "comme le dit le guide d'exploitation (Sauvegardes\u00a0; Essayer une restauration, "
        "dans une nouvelle base))",
    }[language] in said, said
    assert not (tmp_path / "trial").exists()


def test_check_counts_one_document_and_one_audit_entry_in_the_singular(tmp_path, corpus):
    """`commune check` on a trial home holding one document said "1 documents, none
    partial" and "audit chain intact (1 entries)"."""
    from commune.core import Commune

    with Commune(tmp_path / "home") as c:
        c.add([corpus / "pool.txt"], licence="etalab-2.0")
        said = {check.name: check.detail for check in c.check().checks}
    assert said["documents"] == "1 document, none partial"
    assert said["audit"] == "audit chain intact (1 entry)"


def test_a_restored_database_records_only_the_bases_of_its_new_index(
    commune, corpus, home, tmp_path
):
    """The backup's database recorded the bases of the index of its day (a meta row
    `index_base:…` each); the restore removes index/, so those rows named bases that no
    longer exist, and no later build forgot them: a few more rows at every restore, for good.
    Once the restored home has searched, it records only the bases in its index/."""
    import json

    from click.testing import CliRunner

    from commune.cli import cli
    from commune.core import Commune
    from commune.store import repository as repo

    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    commune.search("bac jaune")  # a base, recorded in the database
    run = CliRunner()
    assert run.invoke(cli, ["--home", str(home), "backup", str(tmp_path / "bk")]).exit_code == 0
    commune.close()
    r = run.invoke(cli, ["--home", str(home), "restore", "--force", str(tmp_path / "bk")])
    assert r.exit_code == 0, r.output
    with Commune(home) as again:
        assert again.search("bac jaune")
        on_disk = {
            json.loads((d / "info.json").read_text("utf-8"))["history"]
            for d in (home / "index").glob("g*")
        }
        with again.engine.connect() as conn:
            assert repo.index_bases(conn) == on_disk
