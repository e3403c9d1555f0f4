"""Which code this is: the hash of the package's files that can change an answer.

Two readers: an evaluation's report pins it (evaluation/pins.py, checked by
tests/test_instrument.py), and the answer cache keys its scope on it (answering/path.py), so
that an upgrade, a retrained ranker or a new refusal model never serves an answer the old code
gave. Kept at the bottom of the package: both readers point down to it."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

# The faces carry questions in and answers out: a change to them cannot move a figure, so it
# does not make a committed report stale. Everything else in the package can (retrieval,
# ranking, answering and its model files, ingestion, the store's queries, the settings'
# defaults, the metrics themselves).
FACES = ("api", "cli", "http", "web")


def package_root() -> Path:
    """The directory of the ``commune`` package this code runs from."""
    return Path(__file__).resolve().parent


def code_files(root: Path | None = None) -> list[Path]:
    """The files whose content determines an evaluation's figures, in a stable order."""
    base = root or package_root()
    return sorted(
        p
        for p in base.rglob("*")
        if p.is_file()
        and p.relative_to(base).parts[0] not in FACES
        and "__pycache__" not in p.parts
        and p.suffix not in (".pyc", ".pyo")
    )


def code_hash(root: Path | None = None) -> str:
    """SHA-256 over every file of :func:`code_files`: its path in the package and the hash of
    its bytes. The same function checks a committed report (tests/test_instrument.py)."""
    base = root or package_root()
    h = hashlib.sha256()
    for p in code_files(base):
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
        h.update(f"{p.relative_to(base).as_posix()}\0{digest}\n".encode())
    return h.hexdigest()


@lru_cache(maxsize=1)
def running_code() -> str:
    """:func:`code_hash` of the package this process runs, read once: its files are not
    expected to change under a running server (an upgrade restarts it)."""
    return code_hash()
