"""Files the operator hands on or the home reads at start-up, written whole or not at all.

A file written in place and cut short (a kill, a power cut) is worse than none: a payouts
CSV that stops halfway reads as a smaller fund, a commune.toml that stops halfway stops the
home from opening. Written beside under a temporary name, flushed to the disk, then renamed
over the old one: a reader finds the old file whole, or the new one whole.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_whole(
    path: Path, text: str, newline: str | None = None, *, like: Path | None = None
) -> None:
    """Write ``text`` (UTF-8) to ``path``, replacing it in one rename; ``newline`` as for
    :func:`open` ("": the text carries its own line ends). A file replaced keeps its
    permissions (a commune.toml may hold a database password); a new one gets the umask's,
    or with ``like`` that file's: a copy of a commune.toml holds the same secrets."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    kept: int | None
    try:
        if like is not None:
            # Who else may read it, from the original; the owner always reads and writes
            # it: a backup on read-only media (0444) gave a commune.toml nobody could edit.
            kept = like.stat().st_mode & 0o666 | 0o600
        else:
            kept = path.stat().st_mode & 0o7777
    except OSError:
        kept = None
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if kept is None else 0o600)
    try:
        with open(fd, "w", encoding="utf-8", newline=newline) as out:
            if kept is not None:
                # Set, not masked: open()'s mode passes through the umask, and an operator's
                # 077 made a 0640 commune.toml (root:commune) 0600, which its service, reading
                # it through the group, could not.
                os.fchmod(out.fileno(), kept)
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def flush(path: Path) -> None:
    """Have the disk hold ``path`` now: a file's bytes, or a folder's names (a rename into
    it). Before a name is given to what was written, a power cut can otherwise leave the
    name with an empty or short file (ext4's delayed allocation)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def flush_tree(root: Path) -> None:
    """:func:`flush` every file and folder under ``root``, ``root`` last."""
    for folder, _, names in os.walk(root, topdown=False):
        for name in names:
            flush(Path(folder) / name)
        flush(Path(folder))
