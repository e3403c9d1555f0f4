"""Original files, kept by content hash in the home, so the commons can leave as it came.

Written before the database commit (a crash leaves at most an unreferenced
blob, never a reference without its blob) and atomically (temp file, flushed to the disk,
rename).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def blob_path(home: Path, digest: str) -> Path:
    return home / "blobs" / digest[:2] / digest


def put(home: Path, digest: str, data: bytes) -> Path:
    """Keep ``data`` (whose SHA-256 is ``digest``) whole on the disk; a no-op, one stat,
    when it is there already."""
    path = blob_path(home, digest)
    if whole(path, len(data)):
        return path
    # Not there, or shorter than its bytes: a power cut after the rename but before the data
    # reached the disk leaves the name with an empty file. Taken for the original, it stayed
    # so for good (an export published the empty file); it is written again.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())  # on the disk before the name, and before the commit
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)
    return path


def whole(path: Path, size: int) -> bool:
    """Whether the original at ``path`` is there with its ``size`` bytes."""
    try:
        return path.stat().st_size == size
    except OSError:
        return False


def _sync_directory(path: Path) -> None:
    """The rename on the disk too (the original's name, not only its bytes)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # a file system that cannot sync a directory: the rename stands all the same
    finally:
        os.close(fd)


def get(home: Path, digest: str) -> bytes | None:
    path = blob_path(home, digest)
    return path.read_bytes() if path.exists() else None
