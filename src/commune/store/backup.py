"""Backups of a SQLite home, taken while it serves, and their restoration.

The database is copied with SQLite's online backup API: a consistent snapshot even while
other processes write (a file copy of a live WAL database is not). Original files are
content-addressed and never change, so they are copied once each. The search indexes are
not copied: they are rebuilt from the database. Every backup and restore is verified:
SQLite's integrity check, the audit chain, and every revision's original file present with
its SHA-256.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import filecmp
import hashlib
import json
import os
import re
import shutil
import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.exc import DBAPIError

from commune.errors import CommuneError
from commune.store import blobs, erasure
from commune.store.files import flush, flush_tree, write_whole

MANIFEST = "backup.json"


def _sqlite_path(database_url: str) -> Path:
    from commune.store.db import sqlite_path

    path = sqlite_path(database_url)
    if path is None:
        raise CommuneError(
            "commune backup copies SQLite homes",
            # The database alone is not the home: the original files are in blobs/ (checked
            # by `commune check`, sent by export); a dump without them lost them all.
            "for PostgreSQL, dump the database with pg_dump, then copy the home's blobs/ "
            "folder (the original files) and its commune.toml",
        )
    return Path(path)


def verify_database(db: Path, home: Path) -> dict[str, Any]:
    """Integrity check, audit chain and original files of a database file; raises if bad."""
    from commune.store.audit import verify
    from commune.store.schema import revisions

    # A backup's database is in WAL mode, as the home's was: opened as usual, SQLite must
    # write a -shm beside it, so a backup on read-only media (borg or restic mounted, a disk
    # mounted read-only, a folder the restoring user cannot write) read as "not a readable
    # Commune database", every one of them. A backup never changes once written: immutable
    # reads it where it lies, and writes nothing there. Unless a -wal that holds writes lies
    # beside it (someone wrote to it since): it is part of the database, opened as usual.
    # (Until the connections below were closed, every backup kept an empty -wal and a -shm.)
    wal = db.with_name(db.name + "-wal")
    written = wal.exists() and wal.stat().st_size > 0
    uri = db.resolve().as_uri() + ("" if written else "?immutable=1")

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True)

    with closing(connect()) as raw:
        result = raw.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        raise CommuneError(f"{db}: SQLite integrity check failed: {result}")
    engine = create_engine("sqlite://", creator=connect)
    try:
        with engine.connect() as conn:
            chain = verify(conn)
            # A personal-data takedown's revisions have no file by design (store/erasure.py).
            erased = erasure.erased_revisions(conn)
            rows = conn.execute(select(revisions.c.id, revisions.c.content_hash)).all()
    finally:
        engine.dispose()
    digests = [r.content_hash for r in rows if r.id not in erased]
    if not chain.ok:
        raise CommuneError(f"{db}: the audit chain is broken: {'; '.join(chain.problems[:3])}")
    for digest in set(digests):
        data = blobs.get(home, digest)
        if data is None or hashlib.sha256(data).hexdigest() != digest:
            raise CommuneError(f"original file {digest[:12]}… is missing or altered in {home}")
    return {"revisions": len(rows), "audit_entries": chain.entries}


def backup(database_url: str, home: Path, dest: Path) -> dict[str, Any]:
    """Write a verified backup of the home (its database at ``database_url``, its original
    files and commune.toml) into ``dest``, a new or empty directory.

    It is written beside ``dest`` under a hidden name and takes ``dest``'s name once
    verified: a failed backup (a full disk) leaves no directory that looks like a backup,
    which pruning the old ones would count among those it keeps."""
    source = _sqlite_path(database_url)
    from commune.store.db import holds_database

    if not holds_database(database_url, home):
        # SQLite's connect would make an empty file there, and the copy then failed on "no
        # such table" or, the folder missing, on "unable to open database file", which read
        # as a full disk.
        raise CommuneError(
            f"{home} holds no Commune database ({source} is missing or empty)",
            "check --home and COMMUNE_HOME: a backup copies a home that has one",
        )
    if dest.exists() and any(dest.iterdir()):
        raise CommuneError(f"{dest} is not empty", "give a new directory for the backup")
    _readable(source)
    partial = dest.with_name(f".{dest.name}.partial")
    try:
        held = _claim(partial, dest)  # before the try below, which removes ``partial``
    except OSError as exc:
        # Its folder made, then refused its mode (a disk that keeps no permissions): the
        # empty hidden folder was left beside the backups.
        with contextlib.suppress(OSError):
            partial.rmdir()  # only if empty: never another backup's files
        raise _write_failed(dest, exc) from None
    try:
        _remove_partials(dest.parent)
        manifest = _write_backup(source, home, partial)
        # On the disk before it has the backup's name: after a power cut, a backup whose
        # files were still in memory kept its name with empty or short files, and was
        # counted among the good ones until a restore refused it.
        flush_tree(partial)
        if dest.exists():
            dest.rmdir()  # empty (checked above): the rename takes its place
        partial.replace(dest)
        flush(dest.parent)
    except (OSError, sqlite3.Error) as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise _write_failed(dest, exc) from None
    except BaseException:  # a failed verification, an interruption: no half backup left
        shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        os.close(held)
    return manifest


def _readable(source: Path) -> None:
    """Read the home's database before the backup's folder is made. SQLite writes beside a
    WAL database to read it, so a home on a disk mounted read-only failed inside the copy,
    said as "writing the backup into DEST failed: unable to open database file (free some
    space on the disk holding DEST's folder)", of a writable disk with room to spare. The
    home's own fault is raised as the home's (text/faults.py says it), as every other command
    says it."""
    try:
        with closing(sqlite3.connect(source)) as home_db:
            home_db.execute("PRAGMA schema_version").fetchone()
    except sqlite3.OperationalError as exc:
        if os.statvfs(source.parent).f_flag & os.ST_RDONLY:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(source)) from exc
        raise


def _write_failed(dest: Path, exc: OSError | sqlite3.Error) -> CommuneError:
    reason = getattr(exc, "strerror", None) or str(exc)
    if getattr(exc, "errno", None) == errno.EPERM:
        # A disk that keeps no permissions (FAT, exFAT, an SMB share) refuses the 0600 and
        # 0700 a backup's files and folders take (_private): "free some space" sent the
        # operator to clean a disk with room to spare.
        return CommuneError(
            f"writing the backup into {dest} failed: {reason}",
            "back up onto a disk that keeps files' permissions (ext4, XFS, NFS), not the one "
            f"holding {dest.parent}: a backup holds every document and the members' personal "
            "data, readable by its owner only",
        )
    return CommuneError(
        f"writing the backup into {dest} failed: {reason}",
        f"free some space on the disk holding {dest.parent}, or back up elsewhere",
    )


def _claim(partial: Path, dest: Path) -> int:
    """Make ``partial``, the hidden folder a backup into ``dest`` is written in, this
    backup's: locked (the descriptor returned holds the lock) and emptied of an earlier
    attempt's files. Another backup into the same ``dest`` writing it now holds its lock:
    refused. It was removed, whatever wrote it: two backups named by the date (a timer's and
    the operator's) at once, the second deleted the first's files under it, and the first
    said "free some space on the disk"."""
    partial.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        partial.mkdir(mode=0o700)  # the backup's own: no one else reads it (_private)
    if partial.is_symlink():
        # Followed, the folder it names was emptied below (a clerk's documents), the backup
        # written there and that folder given the backup's name: never a backup's own.
        raise CommuneError(
            f"{partial} is a symbolic link, not a folder a backup writes in",
            "remove the link, or give another directory for this backup",
        )
    # Not followed either if it became one meanwhile (ELOOP, said as a failed write).
    held = os.open(partial, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # ours while written (_remove_partials)
    except BlockingIOError:
        os.close(held)
        raise CommuneError(
            f"another backup is being written into {dest}",
            "let it end, or give another directory for this backup",
        ) from None
    except OSError:
        # A disk that locks no folder: NFSv4, where backups are often kept, refuses (ENOLCK,
        # or EBADF for a folder opened to read; Linux's nfs4_proc_lock). Written unlocked, as
        # before the locks, rather than not at all: every backup onto a NAS failed.
        pass
    except BaseException:
        os.close(held)
        raise
    try:
        os.fchmod(held, 0o700)  # made by an earlier attempt under another umask
        for left in partial.iterdir():  # an earlier attempt's, never a backup
            if left.is_dir() and not left.is_symlink():
                shutil.rmtree(left)
            else:
                left.unlink()
    except BaseException:  # not a folder, or not ours to empty: the lock goes with the error
        os.close(held)
        raise
    return held


# What a backup writes into its folder; a hidden ``.NAME.partial`` folder holding anything
# else is someone's own, never removed.
BACKUP_PARTS = {"commune.db", "commune.db-wal", "commune.db-shm", "commune.db-journal"}
BACKUP_PARTS |= {"blobs", "commune.toml", MANIFEST}
# A partial folder this young may be one just made whose lock is not taken yet.
PARTIAL_AGE_S = 60


def _remove_partials(parent: Path) -> None:
    """Remove the half-written backups that backups killed midway (kill -9, a power cut, a
    timer's unit stopped) left in ``parent``: each holds a copy of the database and of the
    original files, and the next night's backup, under another name, left them there for
    good, filling the disk the backups are kept on. One that another backup is writing is
    locked by it, and left alone."""
    for folder in parent.glob(".*.partial") if parent.is_dir() else ():
        try:
            if not folder.is_dir() or not {p.name for p in folder.iterdir()} <= BACKUP_PARTS:
                continue
            if time.time() - folder.stat().st_mtime < PARTIAL_AGE_S:
                continue
            other = os.open(folder, os.O_RDONLY)
        except OSError:  # gone meanwhile, or not ours to open: not ours to judge
            continue
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            shutil.rmtree(folder, ignore_errors=True)
        except BlockingIOError:
            continue  # another backup is writing it
        except OSError:
            # A disk that locks no folder (NFSv4, _claim): a backup killed and one being
            # written look the same there, and the one being written is not ours to delete.
            continue
        finally:
            os.close(other)


def _write_backup(source: Path, home: Path, dest: Path) -> dict[str, Any]:
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / "commune.db"
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # the online backup API: consistent while others write
    finally:
        dst.close()
        src.close()
    target.chmod(0o600)
    copied = 0
    if (home / "blobs").is_dir():
        for path in (home / "blobs").rglob("*"):
            if path.is_file() and not path.name.startswith(".tmp-"):
                out = dest / path.relative_to(home)
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, out)
                copied += 1
    settings_mode = None
    if (home / "commune.toml").exists():
        shutil.copy2(home / "commune.toml", dest / "commune.toml")
        settings_mode = (home / "commune.toml").stat().st_mode & 0o777
    checked = verify_database(target, dest)
    manifest: dict[str, Any] = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": str(home),
        "files": copied,
        **checked,
    }
    if settings_mode is not None:
        # The home's commune.toml may be 0640 (root:commune in the guide): the backup's copy
        # is 0600 like every file here, and a restore gives the home's back (_settings_in_place).
        manifest[SETTINGS_MODE] = f"{settings_mode:04o}"
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1))
    _private(dest)
    return manifest


# The mode of the home's commune.toml, as the manifest records it.
SETTINGS_MODE = "commune_toml_mode"


def _private(dest: Path) -> None:
    """Every file of the backup 0600, every folder 0700, whatever the umask: a backup holds
    every document and the members' personal data. The systemd units set UMask=0077, but a
    backup run by hand under the usual 022 was readable by every account on the machine
    (its folder 0755, its original files and backup.json 0644). Its folder is 0700 from its
    making (_claim): no one else could reach a file before it is set here."""
    for folder, dirs, files in os.walk(dest):
        os.chmod(folder, 0o700)
        for name in dirs:
            os.chmod(os.path.join(folder, name), 0o700)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o600)


def restore(
    backup_dir: Path, home: Path, force: bool = False, database_url: str | None = None
) -> dict[str, Any]:
    """Put a verified backup in place as ``home``'s database (at ``database_url``, the home's
    own, by default its commune.db) and original files."""
    # Where the home really keeps its database: restored into home/commune.db while its
    # commune.toml named another file, a restore said "restored" and changed nothing.
    # Asked first: a PostgreSQL home given its pg_dump (a directory, with -Fd) was told it
    # was "not a Commune backup", not that pg_restore restores it.
    if database_url is None:
        target = home / "commune.db"
    else:
        try:
            target = _sqlite_path(database_url)
        except CommuneError:
            # pg_restore replaces the database without Commune: nothing compares the audit
            # log it replaces with the dump's, so the takedowns, readers, roles and
            # revocations made since the dump come back unlisted (a SQLite restore lists
            # them, _undone). Said here, where the operator looks, with where to read them.
            raise CommuneError(
                "commune restore restores SQLite homes",
                "for PostgreSQL, use pg_restore on the pg_dump you keep, then put back the "
                "blobs/ folder copied after it and remove the home's index/ folder (built from "
                "the database replaced; the next search builds it again); pg_restore lists "
                "nothing it takes back: "
                "before it, note the changes commune audit log shows since the dump "
                "(takedowns, readers, roles, revoked keys) and make again those that still hold",
            ) from None
    manifest = backup_dir / MANIFEST
    if not manifest.exists() and (backup_dir / "commune.dump").exists():
        # The guides' nightly backup of a PostgreSQL home: `commune restore` of it into a
        # trial home (as "Trying a restore" does with a SQLite backup) was told it was "not
        # a Commune backup", though it was the one the guides have the timer make.
        raise CommuneError(
            f"{backup_dir} holds a PostgreSQL backup (commune.dump, made by pg_dump), not a "
            "`commune backup`",
            "restore it with pg_restore, as the operator's guide says (Backups; Trying a "
            "restore, into a new database)",
        )
    if not manifest.exists() or not (backup_dir / "commune.db").exists():
        raise CommuneError(f"{backup_dir} is not a Commune backup", "give a `commune backup` dir")
    checked = _verified_backup(backup_dir)  # before touching home
    if target.exists() and not force:
        raise CommuneError(
            f"{home} already holds a database", "restore into a new home, or pass --force"
        )
    from commune.store.db import unserved

    with unserved(home) as free:
        if not free:
            raise CommuneError(
                f"{home} is in use (commune serve, commune mcp or another command, such as "
                "commune add): what it writes after the restore would be lost",
                "let the command end, or stop the server (sudo systemctl stop commune), then run "
                "commune restore again",
            )
        return {**checked, **_put_in_place(backup_dir, home, target)}


def _verified_backup(backup_dir: Path) -> dict[str, Any]:
    """:func:`verify_database` of a backup, a database that cannot be read (truncated,
    damaged, not SQLite, or without Commune's tables) named as the backup's fault: SQLite's
    error was taken for the live home's, with advice to restore over it with --force."""
    from sqlalchemy.exc import DatabaseError

    db = backup_dir / "commune.db"
    try:
        return verify_database(db, backup_dir)
    except (sqlite3.DatabaseError, DatabaseError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise CommuneError(
            f"the backup's database {db} is not a readable Commune database (SQLite: {reason})",
            "this backup cannot be restored, and the home is untouched: restore another backup",
        ) from None


def _put_in_place(backup_dir: Path, home: Path, target: Path) -> dict[str, Any]:
    """The backup's files, then its database, in place; the database replaced, with its
    -wal and -shm (which hold its latest writes), kept whole beside it under a dated name."""
    tmp = target.with_name(target.name + ".restoring")
    kept: Path | None = None
    try:
        home.mkdir(parents=True, exist_ok=True)
        # The original files first (content-addressed: extra ones do no harm), the database
        # last: interrupted, the home keeps its old database, never one whose files are gone.
        if (backup_dir / "blobs").is_dir():
            try:
                shutil.copytree(
                    backup_dir / "blobs", home / "blobs", dirs_exist_ok=True, copy_function=_copy
                )
            except _CopyStopped as stopped:
                raise stopped.error from None
            flush_tree(home / "blobs")
        target.parent.mkdir(parents=True, exist_ok=True)
        # An earlier attempt's -wal beside the copy would be read as part of it, another
        # backup's writes replayed onto this one's pages.
        _remove_copy(tmp)
        shutil.copyfile(backup_dir / "commune.db", tmp)  # a full disk stops here: nothing moved
        tmp.chmod(0o600)
        sessions_ended = _end_sessions(tmp)
        _forget_index_bases(tmp)  # the index they name is removed below (_drop_index)
        # On the disk before it takes the database's name: a power cut just after the
        # rename otherwise left the home a commune.db empty or cut short, where the one it
        # replaced had been whole.
        flush(tmp)
        if target.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            kept = target.with_name(f"{target.name}.replaced-{stamp}")
            _keep_database(target, kept)
        else:  # a -wal left without its database belongs to none: never beside the new one
            for suffix in ("-wal", "-shm"):
                target.with_name(target.name + suffix).unlink(missing_ok=True)
        _drop_index(home)  # before the database it was built from is replaced, never after
        tmp.replace(target)
        flush(target.parent)
        settings_kept = _settings_in_place(backup_dir, home)
    except (OSError, sqlite3.Error, DBAPIError) as exc:
        # The sessions ended and the index's bases forgotten in the copy are written through
        # SQLAlchemy, which wraps SQLite's error: a disk with room for the copy and not for
        # its -wal left the copy, a whole database on a full disk, and said nothing of restore.
        fault = exc.orig if isinstance(exc, DBAPIError) else exc
        full = no_room(target.parent)  # before the copy's removal gives room back
        _remove_copy(tmp)
        if kept is not None and not target.exists():  # put the old database back, whole
            _move_database(kept, target)
        elif kept is not None and kept.exists() and kept.samefile(target):
            kept.unlink()  # the old database is still in place: no second name for it
            kept = None
        if not isinstance(fault, (OSError, sqlite3.Error)):  # not SQLite's: not the disk's
            raise
        raise _restore_failed(home, tmp, fault, full) from None
    done: dict[str, Any] = {} if settings_kept is None else {"settings_kept": settings_kept}
    done["sessions_ended"] = sessions_ended
    if kept is None:
        return done
    return {
        **done,
        "replaced": str(kept),
        "replaced_held": _held(kept),
        "revived_keys": _revived_keys(kept, target),
        "revived_users": _revived_users(kept, target),
        "undone": _undone(kept, target),
    }


def _remove_copy(tmp: Path) -> None:
    """Remove the backup's database copied into the home, with the -wal and -shm its
    writes made beside it."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        tmp.with_name(tmp.name + suffix).unlink(missing_ok=True)


class _CopyStopped(Exception):
    """An original file that could not be copied, carried out of ``shutil.copytree``, which
    would otherwise go on to every other file and then raise them all as one list."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error)
        self.error = error


def _copy(src: str, dst: str) -> object:
    # On a full disk copytree tried every other file the same way, then raised the list of
    # them, Python's own words and both paths of each, as the operator's "one line".
    try:
        # An original the home has already, the same bytes, is left as it is: copied over,
        # it was emptied first, and a restore --force stopped there (a full disk, a kill,
        # Ctrl-C) left the home's database, kept in place, with that original empty.
        if os.path.isfile(dst) and filecmp.cmp(src, dst, shallow=False):
            return dst
    except OSError as exc:
        raise _CopyStopped(exc) from exc
    try:
        return shutil.copy2(src, dst)
    except OSError as exc:
        # What was written of it goes: on a full disk it held the room the operator is told
        # to free, under an original's name with only part of its bytes.
        with contextlib.suppress(OSError):
            os.unlink(dst)
        raise _CopyStopped(exc) from exc


# Faults of the disk written to: shutil's copies (sendfile) name the file read first and the
# file written second, and a restore onto a full disk named the backup's database, on a disk
# with room to spare, as the one without space.
_WRITE_FAULTS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG)


# Under this much room left (what the service's user may write, not root's reserve), a disk
# is full: less than a few of SQLite's writes. Read by a restore here and by /healthz.
NO_ROOM_BYTES = 1 << 20


def no_room(folder: str | os.PathLike[str]) -> bool:
    """Whether the disk holding ``folder`` has under :data:`NO_ROOM_BYTES` left. SQLite says
    a full disk "disk I/O error" when it cannot make the -shm a WAL database is read
    through: the copy's writes on a full disk were told to "fix that", not to free room.
    A disk mounted read-only is not full: squashfs, an ISO image or EROFS count no free
    block at all, and /healthz then said "disk_full", sending the operator to free room
    that writing would not get (the writes say "read-only file system" themselves)."""
    try:
        disk = os.statvfs(folder)
    except OSError:
        return False
    if disk.f_flag & os.ST_RDONLY:
        return False
    return disk.f_bavail * disk.f_frsize < NO_ROOM_BYTES


def _restore_failed(
    home: Path, written: Path, exc: OSError | sqlite3.Error, no_room: bool = False
) -> CommuneError:
    if isinstance(exc, sqlite3.Error):  # the copy's own database, made in the home
        full = "disk is full" in str(exc) or no_room
        reason, where = str(exc), str(written)
    else:
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        reason = exc.strerror or str(exc)
        written_to = exc.filename2 if exc.errno in _WRITE_FAULTS else None
        where = str(written_to or exc.filename or home)
    if full:
        return CommuneError(
            f"restoring into {home} failed: {reason} ({where})",
            f"free room for the backup's database and original files on the disk holding "
            f"{home}, then run commune restore again with --force",
        )
    return CommuneError(
        f"restoring into {home} failed: {reason} ({where})",
        "fix that, then run commune restore again with --force",
    )


def _drop_index(home: Path) -> None:
    """Remove the home's search index, rebuilt from the restored database at its first
    search. Removed after the rename of the restored database, a restore killed between the
    two (kill -9, a power cut) left bases at the replaced database's later generations: once
    the restored commons reached one, searches read its passages as the restored ones' (the
    same chunk ids, other words). Removed first, a kill leaves the old database with no index,
    which its next search builds. Renamed aside, then removed: a removal cut short never
    leaves a base with some of its files, which would read as whole."""
    index, aside = home / "index", home / ".index-replaced"
    shutil.rmtree(aside, ignore_errors=True)  # an earlier restore's, cut short
    if index.exists():
        index.replace(aside)
        shutil.rmtree(aside, ignore_errors=True)


# What the audit log records that a restore takes back and someone should decide again: who
# reads a collection, who has which role, caps, passwords. Keys revoked and people removed
# are named on their own lines, with the command that does it again (_revived_keys,
# _revived_users).
UNDONE_ACTIONS = (
    "retire",  # a takedown since the backup: published again by the restore
    "reinstate",
    "reject",
    "curation-rules",
    "visibility",
    "transfer",
    "drop-collection",
    "peer-unshare",
    "peer-remove",
    "peer-update",  # a key issued anew since: the restore brings back the old one
    "member-add",  # a member added since: gone, and its people's lines refused without it
    "role-grant",
    "user-quotas",
    "member-quotas",
    "password-set",
)


def _undone(replaced: Path, restored: Path) -> list[dict[str, Any]]:
    """The changes the replaced database's audit log records after the restored one's last
    entry, of the kinds a restore silently takes back (UNDONE_ACTIONS): a collection made
    private since the backup was shared again, a role lowered since (a compromised admin)
    came back, and nothing said so. Only when the replaced log continues the restored one
    (the same entry, by its hash, at the restored one's end): otherwise nobody can tell."""
    try:
        with closing(sqlite3.connect(restored)) as raw:
            last = raw.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        with closing(sqlite3.connect(replaced)) as raw:
            if last is not None:
                same = raw.execute("SELECT hash FROM audit_log WHERE id = ?", (last[0],)).fetchone()
                if same is None or same[0] != last[1]:
                    return []
            marks = ", ".join("?" for _ in (*UNDONE_ACTIONS, "user-remove"))
            rows = raw.execute(
                "SELECT created_at, actor, action, subject, details FROM audit_log "
                f"WHERE id > ? AND action IN ({marks}) ORDER BY id",
                (last[0] if last else 0, *UNDONE_ACTIONS, "user-remove"),
            ).fetchall()
    except sqlite3.Error:
        return []  # not a Commune database after all: there is nothing to compare
    # A person removed since: what was done to them before does not hold (a person added
    # since and removed was listed to be added again). Their removal is named on its own
    # line when the backup holds them (_revived_users).
    removed = {subject for _, _, action, subject, _ in rows if action == "user-remove"}
    undone = []
    for at, actor, action, subject, details in rows:
        if subject in removed:
            continue
        try:
            said = json.loads(details)
        except ValueError:
            said = {}
        if action == "retire" and said.get("copy_of"):
            continue  # a copy retired with a document: retiring that document again takes it
        entry: dict[str, Any] = {
            "at": str(at),
            "actor": actor,
            "action": action,
            "subject": subject,
            # What the change set (a visibility, a role, caps): the restore takes it back,
            # and the operator makes it again from this (cli/operate says how).
            "details": said if isinstance(said, dict) else {},
        }
        if action == "retire":
            entry["category"] = str(said.get("category") or "other")
        undone.append(entry)
    return undone


def _end_sessions(db: Path) -> int:
    """End the web sessions the backup holds open. They were open when the backup was made;
    what happened to them since (a sign-out, a password reset, the person removed) is in the
    replaced database, not this one, and a session ended since worked again after a restore
    (up to its 12 hours). Everyone signs in again once. Returns how many were ended."""
    from sqlalchemy import update
    from sqlalchemy.exc import OperationalError

    from commune.store.schema import web_sessions

    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.begin() as conn:
            done = conn.execute(
                update(web_sessions)
                .where(web_sessions.c.ended_at.is_(None))
                .values(ended_at=datetime.now(UTC))
            )
            return int(done.rowcount or 0)
    except OperationalError as exc:
        if "no such table" in str(exc):  # a backup from before the web sessions (0006)
            return 0
        raise
    finally:
        engine.dispose()


def _forget_index_bases(db: Path) -> None:
    """Forget the bases of the search index the backup's database recorded (index/catalog.py):
    the restore removes index/ (:func:`_drop_index`), and no later build forgot rows naming
    bases that were no longer there, a few more at every restore."""
    from commune.store.repository import INDEX_BASE
    from commune.store.schema import meta  # in every Commune database (0001)

    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.begin() as conn:
            conn.execute(meta.delete().where(meta.c.key.startswith(INDEX_BASE)))
    finally:
        engine.dispose()


def _revived_users(replaced: Path, restored: Path) -> list[dict[str, Any]]:
    """The people the replaced database had removed since the backup: the restore brings
    them back, and they sign in again. Named, with what to do, as keys are. (A password
    changed since is in the audit log's ``password-set``, :func:`_undone`: comparing hashes
    named everyone whose hash was renewed at sign-in.)"""

    def removed(db: Path) -> dict[str, bool]:
        with closing(sqlite3.connect(db)) as raw:
            cols = {r[1] for r in raw.execute("PRAGMA table_info(users)")}
            gone = "removed_at IS NOT NULL" if "removed_at" in cols else "0"
            rows = raw.execute(f"SELECT name, {gone} FROM users").fetchall()
        return {name: bool(out) for name, out in rows}

    try:
        before, after = removed(replaced), removed(restored)
    except sqlite3.Error:
        return []  # not a Commune database after all: there is nothing to compare
    return [
        {"user": name, "what": "removed"}
        for name, gone in sorted(before.items())
        if gone and after.get(name) is False
    ]


def _settings_in_place(backup_dir: Path, home: Path) -> str | None:
    """The backup's commune.toml, copied into a home that has none; a home that has its own
    keeps it (its database_url, its models' addresses are this machine's). Returns the path
    of the backup's copy when it differs from the home's and was not copied: the restore says
    so, where it once kept the home's in silence."""
    theirs, ours = backup_dir / "commune.toml", home / "commune.toml"
    if not theirs.exists():
        return None
    if not ours.exists():
        # With the backup's mode (0640 in the guide): it may hold a [metrics] token or a
        # model's address with credentials, which a copy at the umask's 0644 showed to all.
        # Whole and on the disk, with the name the home gives it: written in place, a power
        # cut soon after left it empty (the home then opened with the defaults, not the
        # backup's models and charter, without a word), a kill cut it short.
        write_whole(ours, _without_database_url(theirs.read_text("utf-8")), like=theirs)
        mode = _settings_mode(backup_dir)
        if mode is not None:  # the home's own, where the backup's copy is 0600 (_private)
            os.chmod(ours, mode & 0o666 | 0o600)
        flush(home)
        return None
    return None if theirs.read_bytes() == ours.read_bytes() else str(theirs)


def _settings_mode(backup_dir: Path) -> int | None:
    """The mode the backed-up home's commune.toml had, as the manifest records it (None for
    a backup made before it did, whose copy kept that mode itself)."""
    try:
        mode = json.loads((backup_dir / MANIFEST).read_text("utf-8")).get(SETTINGS_MODE)
        return int(mode, 8) if isinstance(mode, str) else None
    except (OSError, ValueError, AttributeError):
        return None


def _keep_database(target: Path, kept: Path) -> None:
    """Give the database at ``target`` a second name, ``kept``, whole, while it stays in place
    until the restored one replaces it in one rename. It was moved aside first: a restore
    killed (kill -9, a power cut) between the moves left the home without a database, and
    the next command made a new, empty commons there.

    Its -wal (its latest writes) is written into it first, so that the file alone holds
    everything; a database that cannot be read so (damaged: what a restore is often for) is
    renamed aside with its -wal and -shm, as before."""
    try:
        with closing(sqlite3.connect(target)) as raw:
            busy = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        if busy:
            raise sqlite3.OperationalError("the database is in use")
        for suffix in ("-wal", "-shm"):  # the -wal is empty now; a -shm is rebuilt
            target.with_name(target.name + suffix).unlink(missing_ok=True)
        os.link(target, kept)
    except (sqlite3.Error, OSError):
        # Not readable, or no hard links on this file system. The moves leave a moment
        # without a database, which the restored one's rename ends.
        _move_database(target, kept)


def _move_database(source: Path, dest: Path) -> None:
    """Rename a SQLite database with its -wal and -shm, which hold its latest writes:
    renamed, never copied, so that no space is needed."""
    for suffix in ("", "-wal", "-shm"):
        part = source.with_name(source.name + suffix)
        if part.exists():
            part.replace(dest.with_name(dest.name + suffix))


def _held(db: Path) -> dict[str, int]:
    """What a replaced database held, read with its own -wal: what the restore set aside."""
    counts: dict[str, int] = {}
    try:
        with closing(sqlite3.connect(db)) as raw:
            for table in ("documents", "usage", "audit_log"):
                counts[table] = int(raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.Error:
        pass  # not a Commune database after all: it is kept all the same
    return counts


def _revived_keys(replaced: Path, restored: Path) -> list[dict[str, Any]]:
    """The API keys the replaced database had revoked and the restored one holds active: a
    key revoked after the backup (leaked, or its holder gone) worked again after a restore,
    and nothing said so. The restore names them, so that they are revoked again."""
    try:
        with closing(sqlite3.connect(replaced)) as raw:
            sql = "SELECT prefix FROM api_keys WHERE revoked_at IS NOT NULL"
            revoked = {r[0] for r in raw.execute(sql)}
        if not revoked:
            return []
        with closing(sqlite3.connect(restored)) as raw:
            rows = raw.execute(
                "SELECT k.id, k.prefix, u.name, k.label FROM api_keys k "
                "JOIN users u ON u.id = k.user_id WHERE k.revoked_at IS NULL ORDER BY k.id"
            ).fetchall()
    except sqlite3.Error:
        return []  # not a Commune database after all: there is nothing to compare
    return [
        {"id": int(i), "prefix": prefix, "user": user, "label": label}
        for i, prefix, user, label in rows
        if prefix in revoked
    ]


def _without_database_url(text: str) -> str:
    """The backed-up home's commune.toml for the restored one, its database_url left out:
    it named the backed-up home's database, which the restored home must not use."""
    return re.sub(
        r"(?m)^(\s*database_url\s*=.*)$",
        r"# left out by commune restore (the backed-up home's database): \1",
        text,
    )
