"""Original files, kept by content hash in the home, so the commons can leave as it came.

Written before the database commit (a crash leaves at most an unreferenced
blob, never a reference without its blob) and atomically (temp file, rename).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def blob_path(home: Path, digest: str) -> Path:
    return home / "blobs" / digest[:2] / digest


def put(home: Path, digest: str, data: bytes) -> Path:
    path = blob_path(home, digest)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def get(home: Path, digest: str) -> bytes | None:
    path = blob_path(home, digest)
    return path.read_bytes() if path.exists() else None
