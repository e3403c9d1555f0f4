"""Exact cosine search over float32 matrices: one per segment, their rows numbered one
after the other.

One matrix-vector product: ~10 ms at 100k chunks of 512 dimensions on 2 cores, exact
(recall 1.0), and the large segment is memory-mapped from disk so RSS stays near the raw
vector bytes. New passages sit in a small in-memory segment beside it until the next merge.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from commune.index.base import top_k


class MatrixIndex:
    def __init__(self, matrix: np.ndarray, *more: np.ndarray) -> None:
        self.segments = [m for m in (matrix, *more)]
        self.offsets = np.cumsum([0] + [m.shape[0] for m in self.segments])

    @classmethod
    def build(cls, matrix: np.ndarray) -> MatrixIndex:
        return cls(np.ascontiguousarray(matrix, dtype=np.float32))

    @classmethod
    def join(cls, parts: Sequence[np.ndarray]) -> MatrixIndex:
        return cls(*parts)

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
        parts = [m @ q for m in self.segments if m.shape[0]]
        scores = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return top_k(scores, k, mask)

    def save(self, directory: Path) -> None:
        if len(self.segments) != 1:
            raise ValueError("only a one-segment index is saved: merge it first")
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "vectors.npy", self.matrix)

    @classmethod
    def load(cls, directory: Path) -> MatrixIndex:
        return cls(np.load(directory / "vectors.npy", mmap_mode="r"))
