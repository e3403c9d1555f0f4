"""Cosine search over float32 matrices: one per segment, their rows numbered one after the
other.

Exact by default: one matrix-vector product, ~10 ms at 100k chunks of 512 dimensions on 2
cores (recall 1.0), the large segment memory-mapped from disk so RSS stays near the raw
vector bytes. New passages sit in a small in-memory segment beside it until the next merge,
always searched exactly. Past ``[index] approximate_from_rows``, the base segment is also
given an inverted file (:mod:`commune.index.ann`) and searched through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from commune.index.base import top_k

if TYPE_CHECKING:
    from commune.index.ann import IvfSegment

ANN_FILE = "ivf-sq8.faiss"


class MatrixIndex:
    def __init__(
        self, matrix: np.ndarray, *more: np.ndarray, ann: IvfSegment | None = None
    ) -> None:
        self.segments = [m for m in (matrix, *more)]
        self.offsets = np.cumsum([0] + [m.shape[0] for m in self.segments])
        self.ann = ann  # an IvfSegment over segments[0], or None (exact)

    @classmethod
    def build(cls, matrix: np.ndarray, approximate_from: int = 0, probes: int = 0) -> MatrixIndex:
        """``approximate_from``: from this many rows on, an inverted file is built beside the
        matrix (0: never)."""
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        ann = None
        if approximate_from and matrix.shape[0] >= approximate_from and _have_faiss():
            from commune.index.ann import IvfSegment

            ann = IvfSegment.build(matrix, probes)
        return cls(matrix, ann=ann)

    @classmethod
    def join(cls, parts: Sequence[np.ndarray], ann: IvfSegment | None = None) -> MatrixIndex:
        return cls(*parts, ann=ann)

    @property
    def matrix(self) -> np.ndarray:
        """The first (merged) segment: what is saved."""
        return self.segments[0]

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def vector(self, row: int) -> np.ndarray:
        seg = int(np.searchsorted(self.offsets, row, side="right")) - 1
        return np.asarray(self.segments[seg][row - self.offsets[seg]])

    def search(
        self, query: np.ndarray, k: int, mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        if len(self) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        q = query.astype(np.float32)
        if self.ann is None:
            parts = [m @ q for m in self.segments if m.shape[0]]
            scores = parts[0] if len(parts) == 1 else np.concatenate(parts)
            return top_k(scores, k, mask)
        # The base through its inverted file, the small segments beside it exactly; the
        # best k of their union.
        rows, sims = [], []
        for i, (m, start) in enumerate(zip(self.segments, self.offsets.tolist(), strict=False)):
            if not m.shape[0]:
                continue
            part = None if mask is None else mask[start : start + m.shape[0]]
            if i == 0:
                r, s = self.ann.search(q, k, part)
            else:
                r, s = top_k(m @ q, k, part)
            rows.append(r + start)
            sims.append(s)
        all_rows, all_sims = np.concatenate(rows), np.concatenate(sims)
        best, scores = top_k(all_sims, k, None)
        return all_rows[best], scores

    def save(self, directory: Path) -> None:
        if len(self.segments) != 1:
            raise ValueError("only a one-segment index is saved: merge it first")
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "vectors.npy", self.matrix)
        if self.ann is not None:
            self.ann.save(directory / ANN_FILE)

    @classmethod
    def load(cls, directory: Path, approximate_from: int = 0, probes: int = 0) -> MatrixIndex:
        """The inverted file saved beside the matrix is used unless approximate search was
        turned off since (``approximate_from`` 0)."""
        matrix = np.load(directory / "vectors.npy", mmap_mode="r")
        ann = None
        if approximate_from and (directory / ANN_FILE).exists() and _have_faiss():
            from commune.index.ann import IvfSegment

            ann = IvfSegment.load(directory / ANN_FILE, matrix, probes)
        return cls(matrix, ann=ann)


def _have_faiss() -> bool:
    from commune.index.ann import faiss_module

    try:
        faiss_module()
    except RuntimeError as e:
        import logging

        # Exact search still answers, only slower past a few hundred thousand passages.
        logging.getLogger("commune.index").warning("dense search stays exact: %s", e)
        return False
    return True
