"""The searchable snapshot of the database at one generation, cached on disk.

The database is the truth; this is a cache keyed by the generation counter
that every content change bumps in its own transaction. A stale or missing
cache is rebuilt (embedding any chunk whose vector is missing for the current
model) and written atomically: a crash mid-build leaves the old one usable.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from commune.embed import Embedder
from commune.index.dense import MatrixIndex
from commune.index.lexical import Bm25Index
from commune.store import repository as repo


@dataclass
class Catalog:
    generation: int
    model: str
    chunk_ids: np.ndarray  # row -> chunk id
    collection_ids: np.ndarray  # row -> collection id
    languages: np.ndarray  # row -> language code of the chunk ("fr", "en"...)
    lexical: Bm25Index
    dense: MatrixIndex

    def __len__(self) -> int:
        return int(self.chunk_ids.shape[0])


_lock = threading.Lock()


# Bumped when the files of a catalog change shape: an older directory is then rebuilt, not
# misread (v2: chunk languages, for language-aware fusion).
FORMAT = 2


def _directory(index_dir: Path, generation: int, model: str) -> Path:
    return index_dir / f"g{generation}-{model}-v{FORMAT}"


Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)
EMBED_BATCH = 64  # vectors are stored batch by batch: an interrupted re-embedding resumes


def load_catalog(
    engine: Engine,
    index_dir: Path,
    embedder: Embedder,
    progress: Progress | None = None,
    rebuild: bool = False,
) -> Catalog:
    with engine.connect() as conn:
        gen = repo.generation(conn)
    path = _directory(index_dir, gen, embedder.name)
    if not rebuild and (path / "rows.npz").exists():
        return _read(path, gen, embedder.name)
    with _lock, _build_lock(index_dir):
        # Another thread or process may have built it while this one waited.
        if not rebuild and (path / "rows.npz").exists():
            return _read(path, gen, embedder.name)
        catalog = build_catalog(engine, embedder, progress)
        if rebuild and path.exists():
            shutil.rmtree(path, ignore_errors=True)
        _write(catalog, index_dir)
        return catalog


@contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    """One builder at a time across processes (API workers, CLI): the others wait for its
    result instead of building the same index and racing to rename it into place."""
    from commune.store.db import file_lock

    index_dir.mkdir(parents=True, exist_ok=True)
    with file_lock(index_dir / ".build.lock"):
        yield


def build_catalog(engine: Engine, embedder: Embedder, progress: Progress | None = None) -> Catalog:
    with engine.connect() as conn:
        # Read the generation and rows in one transaction so they agree.
        with conn.begin():
            gen = repo.generation(conn)
            rows = list(repo.searchable_chunks(conn))
            ids = [int(r.id) for r in rows]
            stored = repo.vectors_for(conn, ids, embedder.name)
    missing = [i for i, r in enumerate(rows) if int(r.id) not in stored]
    if missing:
        from commune.ingest.pipeline import embedding_text

        # Chunks without a vector from this model (a new embedder was configured): embed
        # them now, storing each batch, so that the work survives an interruption.
        for start in range(0, len(missing), EMBED_BATCH):
            part = missing[start : start + EMBED_BATCH]
            fresh = embedder.embed_passages(
                [embedding_text(rows[i].title, rows[i].heading_path, rows[i].text) for i in part]
            )
            pairs = [(ids[i], fresh[n]) for n, i in enumerate(part)]
            with engine.begin() as conn:
                repo.store_vectors(conn, pairs, embedder.name)
            stored.update({cid: np.asarray(v, dtype="<f4").tobytes() for cid, v in pairs})
            if progress:
                progress(start + len(part), len(missing))
    matrix = np.zeros((len(rows), embedder.dim), dtype=np.float32)
    for i, cid in enumerate(ids):
        matrix[i] = np.frombuffer(stored[cid], dtype="<f4")
    return Catalog(
        generation=gen,
        model=embedder.name,
        chunk_ids=np.asarray(ids, dtype=np.int64),
        collection_ids=np.asarray([int(r.collection_id) for r in rows], dtype=np.int64),
        languages=np.asarray([r.language for r in rows], dtype="U8"),
        lexical=Bm25Index.build([r.terms.split() for r in rows]),
        dense=MatrixIndex.build(matrix),
    )


def _write(catalog: Catalog, index_dir: Path) -> None:
    index_dir.mkdir(parents=True, exist_ok=True)
    final = _directory(index_dir, catalog.generation, catalog.model)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=index_dir))
    try:
        catalog.lexical.save(tmp / "lexical")
        catalog.dense.save(tmp / "dense")
        np.savez(
            tmp / "rows.npz",
            chunk_ids=catalog.chunk_ids,
            collection_ids=catalog.collection_ids,
            languages=catalog.languages,
        )
        (tmp / "info.json").write_text(
            json.dumps(
                {"generation": catalog.generation, "model": catalog.model, "rows": len(catalog)}
            )
        )
        if final.exists():
            shutil.rmtree(tmp)
            return
        try:
            os.replace(tmp, final)
        except OSError:
            if not (final / "rows.npz").exists():
                raise
            shutil.rmtree(tmp)  # another builder put the same index in place first: keep it
            return
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    # Older generations go, but the one just before stays: another process may be reading
    # it at this moment (it moves to the new one at its next search).
    older = sorted(
        (d for d in index_dir.glob("g*-*") if d.is_dir() and d != final),
        key=lambda d: d.stat().st_mtime,
    )
    for old in older[:-1]:
        shutil.rmtree(old, ignore_errors=True)


def _read(path: Path, gen: int, model: str) -> Catalog:
    rows = np.load(path / "rows.npz")
    return Catalog(
        generation=gen,
        model=model,
        chunk_ids=rows["chunk_ids"],
        collection_ids=rows["collection_ids"],
        languages=rows["languages"],
        lexical=Bm25Index.load(path / "lexical"),
        dense=MatrixIndex.load(path / "dense"),
    )
