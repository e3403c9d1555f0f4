"""BM25 over Commune's own analysed terms, with bm25s (sparse matrices, numpy only).

Measured at 200k chunks: ~2,000 queries/s against ~40 for SQLite FTS5
OR-queries, and bm25s takes pre-analysed tokens, so French and English
analysis (elisions, stemming, accent folding) stays ours.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from commune.index.base import top_k


class Bm25Index:
    def __init__(self, model, n_docs: int, doc_freq: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
        self._model = model
        self.n_docs = n_docs
        self._df = doc_freq

    @classmethod
    def build(cls, corpus: list[list[str]]) -> Bm25Index:
        import bm25s

        model = bm25s.BM25(k1=1.2, b=0.75)
        df: dict[str, int] = {}
        for doc in corpus:
            for term in set(doc):
                df[term] = df.get(term, 0) + 1
        if corpus:
            model.index(corpus, show_progress=False)
        return cls(model, len(corpus), df)

    def search(
        self, terms: list[str], k: int, mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        known = [t for t in terms if t in self._df]
        if not known or self.n_docs == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = np.asarray(self._model.get_scores(known), dtype=np.float32)
        idx, vals = top_k(scores, k, mask)
        keep = vals > 0  # BM25 zero means no query term occurs: not a match at all
        return idx[keep], vals[keep]

    def knows(self, term: str) -> bool:
        """Whether any indexed chunk contains ``term``."""
        return self._df.get(term, 0) > 0

    def term_weights(self, terms: list[str]) -> dict[str, float]:
        n = max(self.n_docs, 1)
        return {
            t: math.log(1 + (n - self._df.get(t, 0) + 0.5) / (self._df.get(t, 0) + 0.5))
            for t in terms
        }

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if self.n_docs:
            self._model.save(str(directory / "bm25"), show_progress=False)
        (directory / "df.json").write_text(
            json.dumps({"n_docs": self.n_docs, "df": self._df}), encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path) -> Bm25Index:
        import bm25s

        info = json.loads((directory / "df.json").read_text(encoding="utf-8"))
        model = (
            bm25s.BM25.load(str(directory / "bm25"), mmap=True, show_progress=False)
            if info["n_docs"]
            else bm25s.BM25()
        )
        return cls(model, info["n_docs"], info["df"])
