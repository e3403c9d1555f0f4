"""What a report pins so that anyone can reproduce it, or see why two runs differ.

Commune's version and commit, a hash of the code that determines the figures, the embedder
and generators with a hash of their weights, a hash of the configuration, of the suite, the
index generation, the charter in force, a hash of the scores it chooses by, and how many
passages each embedding model has embedded. Weights that come
from a Python package are fingerprinted by the package's RECORD, which lists a SHA-256
of every file it installed: cheap, and it changes whenever one weight file does.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from commune import __version__
from commune.charter.rules import Charter
from commune.config import ModelSettings, Settings
from commune.embed import Embedder
from commune.evaluation.suite import Suite
from commune.identity import code_hash

# How to make a committed reference (eval/reports/) again, when `make test` finds it stale:
# it no longer matches its suite or this code (tests/test_instrument.py). `make eval` takes
# 2.5 to 10 minutes on 2 cores with eval-data/ built, about 25 more to build it.
REFRESH = (
    "commit your changes, then refresh the references: `make eval EVAL_UPDATE=1` (a few "
    "minutes once eval-data/ is built, about 25 more the first time), and commit eval/reports/"
)


def stale(why: str, language: str | None) -> str:
    """Why a committed reference is stale, then how to refresh it, in ``language`` through
    the catalogues (text/messages.py): `make test` said it in English to a French reader."""
    from commune.text.messages import localise

    return localise(f"{why} ({REFRESH})", language)


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file, computed once per process for a given size and modification time
    (model files are hundreds of MB, and the bill of materials and the pins both ask)."""
    st = Path(path).stat()
    return _sha256_file(str(Path(path).resolve()), st.st_size, st.st_mtime_ns, chunk)


@lru_cache(maxsize=32)
def _sha256_file(path: str, size: int, mtime_ns: int, chunk: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def distribution_fingerprint(name: str) -> dict[str, Any]:
    """Version and RECORD hash of an installed distribution, or why there is none."""
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return {"package": name, "installed": False}
    record = dist.read_text("RECORD") or ""
    return {
        "package": name,
        "version": dist.version,
        "sha256": hashlib.sha256(record.encode()).hexdigest(),
    }


def commit() -> str | None:
    """The git commit of the source tree Commune runs from, when it runs from one."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    dirty = subprocess.run(
        ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        timeout=5,
    ).stdout.strip()
    return out.stdout.strip() + ("-dirty" if dirty else "")


def config_hash(settings: Settings) -> str:
    """Hash of every setting that can change an answer (not the home's path)."""
    return settings.fingerprint()


def embedder_pin(embedder: Embedder) -> dict[str, Any]:
    pin: dict[str, Any] = {
        "name": embedder.name,
        "licence": embedder.licence,
        "origin": embedder.origin,
    }
    package = embedder.package
    if package:
        pin["weights"] = distribution_fingerprint(package)
    return pin


def generator_pin(name: str, spec: ModelSettings) -> dict[str, Any]:
    from commune.generate.registry import generator_class

    pin: dict[str, Any] = {"name": name, "backend": spec.backend, "licence": spec.licence}
    if generator_class(spec.backend).local and spec.path:
        pin["file"] = Path(spec.path).name
        pin["sha256"] = sha256_file(spec.path)
    else:  # a remote endpoint: what it serves is named, not hashed
        pin["endpoint"] = spec.base_url
        pin["model"] = spec.model
    return pin


# What the charter keeps of a run but never chooses by (charter/scores.py reads the share of
# correct answers).
NOT_CHOSEN_BY = "wh_per_correct_answer"


def pins(
    engine: Engine,
    settings: Settings,
    embedder: Embedder,
    suite: Suite,
    models: list[str],
    charter: Charter,
) -> dict[str, Any]:
    """Everything a report of ``suite`` depends on, for the deployment whose database is
    ``engine``, configured by ``settings``, that embeds with ``embedder``, under ``charter``.

    The charter refuses questions and, under ``auto``, chooses how to answer by the latest
    scores; the second embedder's vectors rank the passages they reach: all three can move
    a figure, so two runs that differ in one of them do not share their pins."""
    from commune.charter import scores
    from commune.generate.registry import model_specs
    from commune.index.enrich import coverage
    from commune.store import repository as repo

    with engine.connect() as conn:
        generation = repo.generation(conn)
        latest = scores.latest(conn)
        enriched = coverage(conn)
    specs = model_specs(settings)
    board = sorted(
        json.dumps(
            # Not the energy per correct answer either: measured afresh by every run, it
            # decides nothing, and made two runs of the same home never share their pins.
            {k: v for k, v in row.items() if k not in ("id", "created_at", NOT_CHOSEN_BY)},
            sort_keys=True,
            default=str,
        )
        for row in latest.values()
    )
    return {
        "commune_version": __version__,
        "commit": commit(),
        "code_sha256": code_hash(),
        "embedder": embedder_pin(embedder),
        "generators": [generator_pin(m, specs[m]) for m in models if m in specs],
        "config_sha256": config_hash(settings),
        "suite": {"name": suite.name, "sha256": suite.sha256, "questions": len(suite.cases)},
        "index_generation": generation,
        "charter": {"version": charter.version, "sha256": charter.sha256},
        "scores_sha256": hashlib.sha256("\n".join(board).encode()).hexdigest(),
        "embeddings": enriched["models"],
    }
