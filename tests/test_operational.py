"""Faults of the machine, not of Commune: a read-only home, a full disk, a link loop, a
permission refused. Each is one line that says what to do, never a traceback (issue 22).

Where the machine allows it (root, tmpfs), the real condition is made: a home on a tmpfs
remounted read-only, a tmpfs too small for the documents. A test that raises the same error
at the lowest level always runs beside it, so the line is checked on any machine."""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from commune.cli import cli

BIN = Path(sys.executable).parent
TEXT = "La piscine ouvre à sept heures le matin pour les adultes, du lundi au vendredi."


def _commune(home: Path, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """The real command in its own process: what a user's terminal shows."""
    return subprocess.run(
        [str(BIN / "commune"), "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def _one_line(out: str) -> str:
    lines = out.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out, out
    return lines[0]


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs of our own (1 MB), unmounted after; skipped where mounting is refused."""
    where = tmp_path / f"fs-{uuid.uuid4().hex[:6]}"
    where.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1M", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _remount(where: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(where)], check=True)


# -- a read-only home ------------------------------------------------------------------------------


def test_a_read_only_home_is_one_line_for_every_command(tmpfs, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "piscine.txt").write_text(TEXT, encoding="utf-8")
    home = tmpfs / "home"
    assert _commune(home, "add", str(corpus), "--licence", "etalab-2.0").returncode == 0
    _remount(tmpfs, "ro")
    # A backup (its folder writable) too: it blamed the folder's disk, "free some space".
    backup = ["backup", str(tmp_path / "sauvegarde")]
    for args in (["check"], ["documents"], ["ask", "piscine"], ["add", str(corpus)], backup):
        out = _commune(home, *args)
        assert out.returncode == 2, (args, out.stderr)
        line = _one_line(out.stderr)
        assert line.startswith("error: ") and str(home) in line and "read-only" in line, line
        assert "--home" in line, line


@pytest.mark.usefixtures("made_home")
def test_read_only_errors_from_the_system_and_from_sqlite_are_one_line(home, monkeypatch):
    from commune.store import db

    def refused(url: str) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(home / "commune.db"))

    monkeypatch.setattr(db, "_private_sqlite_file", refused)
    out = CliRunner().invoke(cli, ["--home", str(home), "check"])
    assert out.exit_code == 2, out.output
    line = _one_line(out.output)
    assert "read-only" in line and str(home) in line and "--home" in line


def test_the_line_for_each_fault_says_what_to_do():
    from sqlalchemy.exc import OperationalError

    from commune.cli.group import operational_error

    def wrapped(message: str) -> Exception:  # as SQLAlchemy raises SQLite's own error
        return OperationalError("COMMIT", {}, sqlite3.OperationalError(message))

    cases = {
        "read-only": wrapped("attempt to write a readonly database"),
        "full": wrapped("database or disk is full"),
        "free some space": OSError(errno.ENOSPC, "No space left on device", "/h/blobs/x"),
        "permissions": PermissionError(errno.EACCES, "Permission denied", "/h/commune.db"),
        "link loop": RuntimeError("Symlink loop from '/d/a.txt'"),
    }
    for expected, exc in cases.items():
        line = operational_error(exc, "/h")
        assert line is not None and expected in line and "\n" not in line, (expected, line)
    # A fault of the program is not dressed up as one of the machine: its traceback stays.
    assert operational_error(KeyError("x"), "/h") is None
    assert operational_error(wrapped("no such table: documents"), "/h") is None


@pytest.mark.usefixtures("made_home")
def test_debug_keeps_the_traceback(home, monkeypatch):
    from commune.store import db

    def refused(url: str) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(home / "commune.db"))

    monkeypatch.setattr(db, "_private_sqlite_file", refused)
    out = CliRunner().invoke(cli, ["--home", str(home), "--debug", "check"])
    assert isinstance(out.exception, OSError) and out.exception.errno == errno.EROFS
    monkeypatch.setenv("COMMUNE_DEBUG", "1")
    out = CliRunner().invoke(cli, ["--home", str(home), "check"])
    assert isinstance(out.exception, OSError)
    # Turned off as --debug's variable reads it: "false" in a unit's Environment= gave the
    # tracebacks it meant to turn off.
    for off in ("false", "no", "off", "0"):
        monkeypatch.setenv("COMMUNE_DEBUG", off)
        out = CliRunner().invoke(cli, ["--home", str(home), "check"])
        assert out.exit_code == 2 and out.output.count("\n") == 1, (off, out.output)


# -- a full disk ---------------------------------------------------------------------------------


def _big_corpus(where: Path) -> Path:
    where.mkdir()
    words = (
        "piscine mairie bac jaune emballages collecte jeudi adultes horaires carte identité "
        "rendez-vous école cantine inscription trimestre quotient familial menus"
    ).split()
    for i in range(6):
        paragraphs = [
            " ".join(words[(i + j + k) % len(words)] for k in range(60)) + "." for j in range(300)
        ]
        (where / f"doc{i}.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")
    return where


def test_a_full_disk_during_add_is_one_line_and_the_store_stays_whole(tmpfs, tmp_path):
    corpus = _big_corpus(tmp_path / "corpus")
    home = tmpfs / "home"
    # A home that was there: a new one the add stored nothing in is taken back (cli/group.py).
    assert _commune(home, "member", "add", "Ville").returncode == 0
    out = _commune(home, "add", str(corpus), "--licence", "etalab-2.0")
    assert out.returncode == 2, out.stderr
    line = out.stderr.strip().splitlines()[-1]  # after the progress bars
    assert "Traceback" not in out.stderr and "full" in line and "free some space" in line, line
    _remount(tmpfs, "size=200M")
    check = _commune(home, "check")
    assert check.returncode == 0, check.stdout + check.stderr


def test_no_space_left_stops_the_batch_with_one_line(home, corpus, monkeypatch):
    """A file that cannot be stored for want of space is not that file's fault: the batch
    stops, rather than failing every following file the same way."""
    from commune.store import blobs

    def full(home_: Path, digest: str, data: bytes) -> Path:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(home_ / "blobs" / digest))

    monkeypatch.setattr(blobs, "put", full)
    out = CliRunner().invoke(
        cli, ["--home", str(home), "add", str(corpus), "--licence", "etalab-2.0"]
    )
    assert out.exit_code == 2, out.output
    line = out.output.strip().splitlines()[-1]
    assert "full" in line and "free some space" in line and "Traceback" not in out.output


def test_sqlite_reporting_a_full_disk_is_one_line(home, corpus, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from commune.store import repository

    def full(*args: object, **kwargs: object) -> object:
        raise OperationalError("COMMIT", {}, sqlite3.OperationalError("database or disk is full"))

    monkeypatch.setattr(repository, "write_revision", full)
    out = CliRunner().invoke(
        cli, ["--home", str(home), "add", str(corpus), "--licence", "etalab-2.0"]
    )
    assert out.exit_code == 2, out.output
    assert "full" in out.output.strip().splitlines()[-1] and "Traceback" not in out.output


def _fill(where: Path, leave: int) -> None:
    """Fill the tmpfs ``where``, then give back ``leave`` bytes of it."""
    filler = where / "filler"
    with open(filler, "wb", buffering=0) as out:
        with contextlib.suppress(OSError):  # ENOSPC: full
            while True:
                out.write(b"\0" * 65536)
    os.truncate(filler, max(0, filler.stat().st_size - leave))


@pytest.mark.parametrize("room_kb", [0, 64], ids=["no room", "room for the originals only"])
def test_a_restore_onto_a_full_disk_names_that_disk_in_one_line(
    tmpfs, home, corpus, tmp_path, room_kb
):
    """A restore onto a disk without room for the backup named the backup's own database as
    the file without space (shutil's copy names the file read first), sending the operator
    to clean a disk with room to spare; with no room for the original files, it printed the
    list of every file it had then tried, both paths and Python's words each."""
    run = CliRunner(env={"LANG": "en_GB.UTF-8"})
    added = run.invoke(cli, ["--home", str(home), "add", str(corpus), "--licence", "etalab-2.0"])
    assert added.exit_code == 0, added.output
    backup = tmp_path / "backups" / "2026-12-07T023000Z"
    assert run.invoke(cli, ["--home", str(home), "backup", str(backup)]).exit_code == 0
    _fill(tmpfs, leave=room_kb * 1024)
    target = tmpfs / "restored"
    out = _commune(target, "restore", str(backup), env={"LANG": "en_GB.UTF-8"})
    assert out.returncode == 2, out.stdout + out.stderr
    line = _one_line(out.stderr)
    assert f"error: restoring into {target} failed: No space left on device ({target}/" in line
    assert str(backup) not in line  # the backup's disk has room: not the one to clean
    assert line.endswith(
        f"(free room for the backup's database and original files on the disk holding "
        f"{target}, then run commune restore again with --force)"
    ), line
    assert not list(target.glob("commune.db*"))  # no half copy left to take the space
    for copied in (p for p in (target / "blobs").rglob("*") if p.is_file()):  # nor any part
        assert copied.read_bytes() == (backup / copied.relative_to(target)).read_bytes()
    french = _commune(target, "restore", str(backup), env={"LANG": "fr_FR.UTF-8"})
    assert "libérez sur le disque qui contient" in _one_line(french.stderr), french.stderr
    (tmpfs / "filler").unlink()
    again = _commune(target, "restore", "--force", str(backup), env={"LANG": "en_GB.UTF-8"})
    assert again.returncode == 0, again.stdout + again.stderr
    assert _commune(target, "check").returncode == 0


def _pages(path: Path) -> int:
    """What ``path`` (a file, or a folder's files) takes on a tmpfs: whole 4 KiB pages."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(-(-f.stat().st_size // 4096) * 4096 for f in files)


def test_a_restore_with_room_for_the_copy_and_not_its_writes_leaves_no_copy(
    tmpfs, home, corpus, tmp_path
):
    """The copy of the backup's database fits, and the sessions it ends and the index bases
    it forgets do not: written through SQLAlchemy, which wraps SQLite's error, the fault got
    past the restore's own handling, a traceback ending in "disk I/O error" (SQLite's word
    for the -shm it could not make), and the copy, a whole database, was left on the full
    disk as commune.db.restoring."""
    run = CliRunner(env={"LANG": "en_GB.UTF-8"})
    added = run.invoke(cli, ["--home", str(home), "add", str(corpus), "--licence", "etalab-2.0"])
    assert added.exit_code == 0, added.output
    backup = tmp_path / "backups" / "2026-12-07T023000Z"
    assert run.invoke(cli, ["--home", str(home), "backup", str(backup)]).exit_code == 0
    _fill(tmpfs, leave=_pages(backup / "blobs") + _pages(backup / "commune.db"))
    target = tmpfs / "restored"
    out = _commune(target, "restore", str(backup), env={"LANG": "en_GB.UTF-8"})
    assert out.returncode == 2, out.stdout + out.stderr
    line = _one_line(out.stderr)
    assert line.startswith(f"error: restoring into {target} failed: "), line
    assert line.endswith(
        f"(free room for the backup's database and original files on the disk holding "
        f"{target}, then run commune restore again with --force)"
    ), line
    assert not list(target.glob("commune.db*")), list(target.iterdir())
    (tmpfs / "filler").unlink()
    again = _commune(target, "restore", "--force", str(backup), env={"LANG": "en_GB.UTF-8"})
    assert again.returncode == 0, again.stdout + again.stderr
    assert _commune(target, "check").returncode == 0


# -- permissions and link loops ----------------------------------------------------------------


@pytest.mark.usefixtures("made_home")
def test_a_permission_refused_is_one_line(home, monkeypatch):
    from commune.store import db

    def refused(url: str) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(home / "commune.db"))

    monkeypatch.setattr(db, "_private_sqlite_file", refused)
    out = CliRunner().invoke(cli, ["--home", str(home), "documents"])
    assert out.exit_code == 2
    line = _one_line(out.output)
    assert "permission" in line.lower() and "commune.db" in line and "--home" in line


def test_a_link_loop_in_a_directory_fails_that_file_and_the_batch_goes_on(home, tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "piscine.txt").write_text(TEXT, encoding="utf-8")
    os.symlink("../loop2.txt", corpus / "sub" / "loop1.txt")  # loop1 -> loop2 -> loop1
    os.symlink("sub/loop1.txt", corpus / "loop2.txt")
    os.symlink("self.md", corpus / "self.md")
    os.symlink("..", corpus / "sub" / "up")  # a directory loop: not followed
    out = _commune(home, "add", str(corpus), "--licence", "etalab-2.0")
    assert out.returncode == 1, out.stderr  # some files failed, the others went in
    assert "Traceback" not in out.stderr
    assert "1 added" in out.stdout and "3 failed" in out.stdout, out.stdout
    loops = [line for line in out.stderr.splitlines() if "symbolic link loop" in line]
    assert len(loops) == 3, out.stderr
    assert all("remove or fix the link" in line for line in loops)


def test_check_names_a_document_stored_twice_and_retiring_it_clears_it(home, tmp_path):
    """A home from before `commune add` recognised the same bytes at the same address (a
    fiche fetched in two checkouts) holds each passage twice: `commune check` says which
    copy to retire, and how, in one line each."""
    from commune.core import Commune

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "fiche.md").write_text(
            "La déclaration de naissance se fait dans les 5 jours.", encoding="utf-8"
        )
    with Commune(home) as c:
        for name in ("a", "b"):  # two addresses: two documents, as add keeps them
            c.add([tmp_path / name / "fiche.md"], collection="mairie", licence="etalab-2.0")
        first, second = sorted(d["id"] for d in c.documents())
    # What an older version stored: the second copy at the first one's address.
    db = sqlite3.connect(home / "commune.db")
    with db:
        db.execute(
            "UPDATE documents SET source_uri = (SELECT source_uri FROM documents WHERE id = ?) "
            "WHERE id = ?",
            (first, second),
        )
    db.close()
    checked = CliRunner().invoke(cli, ["--home", str(home), "check"])
    assert checked.exit_code == 1
    [line] = [x for x in checked.output.splitlines() if "duplicates" in x]
    assert line.split()[:2] == ["FAILED", "duplicates"]
    assert line.endswith(
        f"document {second} repeats document {first} (the same bytes at the same address): "
        f"retire it with commune retire {second} --reason duplicate --keep-copies"
    )
    retire = ["--home", str(home), "retire", str(second), "--reason", "duplicate"]
    # Not with a takedown: it would leave the same file published, and so miss it.
    refused = CliRunner().invoke(cli, [*retire, "--category", "personal-data", "--keep-copies"])
    assert refused.exit_code == 2
    assert "a personal-data takedown reaches every copy of the file" in refused.output
    retired = CliRunner().invoke(cli, [*retire, "--keep-copies"])
    assert retired.exit_code == 0, retired.output
    assert "retired with it" not in retired.output, retired.output
    checked = CliRunner().invoke(cli, ["--home", str(home), "check"])
    assert checked.exit_code == 0, checked.output
    assert "ok      duplicates no document stored twice" in checked.output
    # The copy kept still answers: retired with its copies, the duplicate took the first
    # down too, and the fiche left the commons (found following docs/fr/exploitation.md).
    with Commune(home) as c:
        states = {d["id"]: d["status"] for d in c.documents()}
    assert states[first] != "retired" and states[second] == "retired", states


def test_add_says_when_a_file_is_already_there_at_another_address(home, tmp_path):
    """Found following docs/fr/guide.md: a file added with --source, then its folder added,
    made a second document of the same bytes, "3 ajoutés", nothing said; every passage was
    found twice. They stay two documents; add names the first and how to retire the second
    alone, and doing so leaves the first answering."""
    from commune.core import Commune

    fiche = tmp_path / "dechets.md"
    fiche.write_text("# Déchets\n\nLe camion passe le mardi matin.\n", encoding="utf-8")
    french = CliRunner(env={"LANG": "fr_FR.UTF-8"})
    add = ["--home", str(home), "add", "--collection", "mairie", "--licence", "etalab-2.0"]
    first = french.invoke(cli, [*add, str(fiche), "--source", "https://example.org/dechets"])
    assert first.exit_code == 0 and "à noter" not in first.stderr, first.output
    again = french.invoke(cli, [*add, str(fiche)])
    assert again.exit_code == 0, again.output
    assert (
        f"à noter\u00a0: {fiche}\u00a0: les mêmes octets que le document 1, à une autre "
        "adresse\u00a0: chaque passage serait trouvé deux fois (retirez celui-ci avec "
        "commune retire 2 --reason doublon --keep-copies)"
    ) in again.stderr, again.stderr
    assert "à noter" not in french.invoke(cli, [*add, str(fiche)]).stderr  # unchanged: once
    done = french.invoke(
        cli, ["--home", str(home), "retire", "2", "--reason", "doublon", "--keep-copies"]
    )
    assert done.exit_code == 0, done.output
    with Commune(home) as c:
        assert {d["id"]: d["status"] for d in c.documents()}[1] != "retired"


def test_check_counts_repeats_past_those_it_names_and_skips_a_retired_first(
    home, tmp_path, monkeypatch
):
    """Four copies of one fiche, the first retired: the second is the one kept, the third
    and fourth repeat it, and past the names shown the line says how many more."""
    from commune.core import Commune
    from commune.store import check

    names = ("a", "b", "c", "d")
    for name in names:
        (tmp_path / name).mkdir()
        (tmp_path / name / "fiche.md").write_text(
            "Le recensement se fait à la mairie dans les 3 mois.", encoding="utf-8"
        )
    with Commune(home) as c:
        for name in names:
            c.add([tmp_path / name / "fiche.md"], collection="mairie", licence="etalab-2.0")
        ids = sorted(d["id"] for d in c.documents())
    db = sqlite3.connect(home / "commune.db")
    with db:
        db.execute(
            "UPDATE documents SET source_uri = (SELECT source_uri FROM documents WHERE id = ?)",
            (ids[0],),
        )
        db.execute("UPDATE documents SET status = 'retired' WHERE id = ?", (ids[0],))
    db.close()
    monkeypatch.setattr(check, "REPEATS_SHOWN", 1)
    with Commune(home) as c:
        [found] = [x for x in c.check().checks if x.name == "duplicates"]
    assert not found.ok
    assert found.detail == (
        f"document {ids[2]} repeats document {ids[1]} (the same bytes at the same address): "
        f"retire it with commune retire {ids[2]} --reason duplicate --keep-copies; "
        "and 1 more: retire these, then run commune check again"
    )


def test_keep_copies_refused_for_a_takedown_never_offers_another_category(home, tmp_path):
    # The refusal said "…, or give another category": read as the way to keep a copy of a
    # document taken down for personal data, relabelled "other".
    from commune.core import Commune

    fiche = tmp_path / "plainte.md"
    fiche.write_text("# Plainte\n\nM. Jean Dupont, 12 rue des Lilas.\n", encoding="utf-8")
    with Commune(home) as c:
        c.add([fiche], collection="mairie", licence="etalab-2.0")
        [doc] = [d["id"] for d in c.documents()]
    retire = ["--home", str(home), "retire", str(doc), "--reason", "demande"]
    retire += ["--category", "personal-data", "--keep-copies"]
    english = CliRunner(env={"LANG": "en_US.UTF-8"}).invoke(cli, retire)
    assert english.exit_code == 2
    assert "category" not in english.output.split("takedown reaches")[1], english.output
    assert "leave out --keep-copies to retire them all" in english.output, english.output
    french = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, retire)
    assert french.exit_code == 2
    assert "catégorie" not in french.output, french.output
    assert "retirez sans --keep-copies pour les retirer toutes" in french.output, french.output
    with Commune(home) as c:
        assert [d["status"] for d in c.documents()] == ["published"]
