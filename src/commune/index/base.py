"""The index contracts: build from rows, search with an optional row mask."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np


class LexicalIndex(Protocol):
    def search(
        self, terms: list[str], k: int, mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers and scores of the best ``k`` rows (only rows where ``mask`` is True)."""

    def knows(self, term: str) -> bool:
        """Whether any indexed chunk contains ``term`` (unknown words signal off-topic)."""
        ...

    def term_weights(self, terms: list[str]) -> dict[str, float]:
        """Inverse document frequency of each known term (to judge how much a hit matched)."""

    def save(self, directory: Path) -> None: ...


class VectorIndex(Protocol):
    def search(
        self, query: np.ndarray, k: int, mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers and cosine similarities of the nearest ``k`` rows."""

    def save(self, directory: Path) -> None: ...


def top_k(scores: np.ndarray, k: int, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` largest scores, best first, honouring ``mask``; equal
    scores in index order.

    Equal scores are common: a fiche repeats a block under each case it covers, and its
    copies score alike. argpartition keeps an arbitrary few of those tied at the k-th score,
    in an order that depends on the whole array, so the same passages ranked differently in
    a home built from nothing and in one that read some documents again (docs/evaluation.md):
    the lowest k rows tied at the k-th score join the k argpartition gave, then the order is
    score, then row."""
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    k = min(k, scores.shape[0])
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    idx = np.argpartition(-scores, k - 1)[:k]
    kth = scores[idx].min()
    if np.isfinite(kth):  # (rows masked out all score -inf: dropped below, never ordered)
        # The k lowest rows tied at the k-th score are enough, and keep the sort to 2k rows
        # when most rows tie (a lexical list of zeros).
        idx = np.union1d(idx, np.flatnonzero(scores == kth)[:k])
    idx = idx[np.lexsort((idx, -scores[idx]))][:k]
    keep = np.isfinite(scores[idx])
    return idx[keep], scores[idx][keep]
