"""Approximate nearest neighbours for a large base segment: faiss's inverted file of 8-bit
scalar-quantised vectors (IVF-SQ8), its candidates re-scored exactly.

Why this engine: at 1M passages of 512 dimensions the exact scan reads 2 GB a query
(~150 ms on 2 cores). An inverted file reads the few lists nearest the query instead, and
builds in about a minute at 1M on 2 cores (k-means on a sample, then one assignment per
vector), where an HNSW graph of the same size takes tens of minutes there; measured side by
side in bench/ann.py. 8-bit codes hold the lists in a quarter of the float32 bytes; the
best candidates are then re-scored against the float32 vectors, so the cosines given back
are exact and only the candidate set is approximate.

Visibility masks (collections a person may read, tombstoned passages) are applied inside
the scan by an ``IDSelectorBitmap``: a masked passage is never a candidate. When the mask
keeps only a share ``f`` of the rows, ``probes / sqrt(f)`` lists are read (measured: as good
as ``probes / f`` for a fraction of its cost); up to every list, the scan then being exact
over the 8-bit codes of the visible rows. A mask of a few thousand rows is scored directly.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from commune.index.base import top_k

# Candidates taken from the 8-bit scan per result, before the exact re-scoring.
RESCORE_FACTOR = 2
# Visible rows under which the mask's rows are scored directly (about 2 ms at 512 dimensions).
EXACT_BELOW = 4096
ADD_BATCH = 65_536


def faiss_module() -> Any:  # faiss ships no type information
    try:
        import faiss
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "approximate search needs faiss: pip install 'commune-coop[scale]', "
            "or set [index] approximate_from_rows = 0 in commune.toml"
        ) from e
    return faiss


def default_lists(rows: int) -> int:
    """About the square root of the row count (faiss's guideline for an inverted file), and
    at least 39 rows a list, below which faiss's k-means has too few points to place one."""
    return max(1, min(int(round(math.sqrt(rows))), rows // 39))


class IvfSegment:
    """An inverted file over ``matrix`` (unit float32 rows), searched with ``probes`` lists."""

    def __init__(self, index: Any, matrix: np.ndarray, probes: int) -> None:  # a faiss index
        self.index = index
        self.matrix = matrix
        self.probes = probes

    @property
    def lists(self) -> int:
        return int(self.index.nlist)

    @classmethod
    def build(
        cls, matrix: np.ndarray, probes: int, lists: int | None = None, seed: int = 0
    ) -> IvfSegment:
        faiss = faiss_module()
        rows, dim = matrix.shape
        lists = lists or default_lists(rows)
        index = faiss.index_factory(dim, f"IVF{lists},SQ8", faiss.METRIC_INNER_PRODUCT)
        # k-means on a sample of 64 rows per list: the centroids barely move past that, and
        # training time stays a fraction of the build (faiss's own guideline is 30 to 256).
        n_train = min(rows, 64 * lists)
        pick = np.sort(np.random.default_rng(seed).choice(rows, n_train, replace=False))
        index.train(np.ascontiguousarray(matrix[pick], dtype=np.float32))
        for start in range(0, rows, ADD_BATCH):
            index.add(np.ascontiguousarray(matrix[start : start + ADD_BATCH], dtype=np.float32))
        return cls(index, matrix, probes)

    def search(
        self, query: np.ndarray, k: int, mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        faiss = faiss_module()
        rows = self.matrix.shape[0]
        if rows == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        probes = self.probes
        params = faiss.SearchParametersIVF()
        visible = rows if mask is None else int(np.count_nonzero(mask))
        if visible == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if mask is not None and visible <= EXACT_BELOW:
            return self._rescore(np.flatnonzero(mask), query, k)  # reading a few rows wins
        if mask is not None and visible < rows:  # (all visible: no selector to test)
            # Fewer visible rows a list: read more lists. By the square root of the share,
            # not the share itself: at 1M with 30% visible, recall@10 0.997 in 6.9 ms, where
            # probes / share gave 0.998 in 16.1 ms (bench/README.md).
            probes = math.ceil(probes * math.sqrt(rows / visible))
            bits = np.packbits(mask, bitorder="little")
            selector = faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits))
            params.sel = selector
        params.nprobe = min(self.lists, probes)
        want = min(rows, k * RESCORE_FACTOR)
        _, found = self.index.search(
            np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), want, params=params
        )
        found = found[0]
        found = found[found >= 0]  # fewer visible rows than asked for
        if found.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        found.sort()  # in file order: the re-scoring reads the memory map forwards
        return self._rescore(found, query, k)

    def _rescore(
        self, rows: np.ndarray, query: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The best ``k`` of ``rows`` by their exact cosine against the float32 vectors."""
        exact = np.asarray(self.matrix[rows], dtype=np.float32) @ query.astype(np.float32)
        best, scores = top_k(exact, k, None)
        return rows[best].astype(np.int64), scores

    def save(self, path: Path) -> None:
        faiss_module().write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, matrix: np.ndarray, probes: int) -> IvfSegment:
        return cls(faiss_module().read_index(str(path)), matrix, probes)
