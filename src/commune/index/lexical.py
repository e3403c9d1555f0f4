"""BM25 over Commune's own analysed terms, in segments that share their statistics.

A segment is an immutable sparse matrix (passages × terms) of BM25's term-frequency part,
``tf / (tf + k1 (1 - b + b dl / avgdl))`` (the Lucene variant, as bm25s computes it). The
inverse document frequency is applied at query time from statistics summed over every
segment, as Lucene's searcher does: a small segment of new passages scores on the same
scale as the large one it sits beside, so the two can be ranked together. This is why the
index is not bm25s any more: bm25s bakes each index's own IDF into its scores, so a delta
index of a hundred passages would rank on another scale than the main one.

With one segment, scores equal bm25s' "lucene" method (the conformance kit compares them).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from commune.index.base import top_k

K1, B = 1.2, 0.75


class Bm25Segment:
    """One immutable segment: its terms, their frequency part, their document frequency."""

    def __init__(
        self,
        matrix: Any,  # scipy.sparse.csc_matrix, float32, rows = passages (scipy is untyped)
        vocab: dict[str, int],
        n_docs: int,
        total_length: int,
    ) -> None:
        self.matrix = matrix
        self.vocab = vocab
        self.n_docs = n_docs
        self.total_length = total_length
        matrix.sort_indices()  # postings are binary-searched
        indptr = matrix.indptr
        self.df = np.diff(indptr).astype(np.int64)  # passages holding each term
        # Each term's largest frequency part: with its IDF, the most it can add to a score
        # (the bound MaxScore prunes with, in Bm25Index.search).
        data = matrix.data
        self.peak = np.zeros(len(self.df), dtype=np.float32)
        filled = self.df > 0
        if filled.any():
            self.peak[filled] = np.maximum.reduceat(data, indptr[:-1][filled])

    @classmethod
    def build(cls, corpus: Sequence[Sequence[str]], avgdl: float | None = None) -> Bm25Segment:
        """``avgdl``: the average length to normalise by (a new segment beside a larger one
        takes the larger one's); by default this segment's own."""
        from scipy.sparse import csc_matrix

        vocab: dict[str, int] = {}
        lengths = np.fromiter((len(d) for d in corpus), dtype=np.int64, count=len(corpus))
        total = int(lengths.sum())
        shape_rows = len(corpus)
        if total == 0:
            return cls(csc_matrix((shape_rows, 0), dtype=np.float32), vocab, shape_rows, 0)
        # Arrays, not lists: at 1M passages of 60 terms a Python list per entry costs GBs.
        cols = np.fromiter(
            (vocab.setdefault(t, len(vocab)) for doc in corpus for t in doc),
            dtype=np.int32,
            count=total,
        )
        rows = np.repeat(np.arange(shape_rows, dtype=np.int32), lengths)
        tf = csc_matrix(
            (np.ones(total, dtype=np.float32), (rows, cols)), shape=(shape_rows, len(vocab))
        )
        del rows, cols
        tf.sum_duplicates()  # one entry per (passage, term): its count
        mean = avgdl if avgdl else total / max(len(corpus), 1)
        norm = (K1 * ((1 - B) + B * lengths / max(mean, 1e-9))).astype(np.float32)
        row_of = tf.indices
        tf.data = (tf.data / (tf.data + norm[row_of])).astype(np.float32)
        return cls(tf, vocab, len(corpus), total)

    def column(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        j = self.vocab.get(term)
        if j is None:
            return None
        m = self.matrix
        start, end = m.indptr[j], m.indptr[j + 1]
        return m.indices[start:end], m.data[start:end]

    def doc_freq(self, term: str) -> int:
        j = self.vocab.get(term)
        return 0 if j is None else int(self.df[j])

    def save(self, directory: Path) -> None:
        from scipy.sparse import save_npz

        directory.mkdir(parents=True, exist_ok=True)
        save_npz(directory / "tf.npz", self.matrix, compressed=False)
        (directory / "vocab.json").write_text(
            json.dumps(
                {"n_docs": self.n_docs, "total_length": self.total_length, "vocab": self.vocab}
            ),
            encoding="utf-8",
        )

    @classmethod
    def load(cls, directory: Path) -> Bm25Segment:
        from scipy.sparse import load_npz

        info = json.loads((directory / "vocab.json").read_text(encoding="utf-8"))
        matrix = load_npz(directory / "tf.npz").tocsc()
        return cls(matrix, info["vocab"], info["n_docs"], info["total_length"])


class Bm25Index:
    """BM25 over one or more segments, their rows numbered one after the other."""

    def __init__(self, segments: Sequence[Bm25Segment]) -> None:
        self.segments = list(segments)
        self.n_docs = sum(s.n_docs for s in self.segments)
        self.offsets = np.cumsum([0] + [s.n_docs for s in self.segments])

    @classmethod
    def build(cls, corpus: Sequence[Sequence[str]]) -> Bm25Index:
        return cls([Bm25Segment.build(corpus)])

    @property
    def avgdl(self) -> float:
        return sum(s.total_length for s in self.segments) / max(self.n_docs, 1)

    def doc_freq(self, term: str) -> int:
        return sum(s.doc_freq(term) for s in self.segments)

    def idf(self, term: str) -> float:
        df = self.doc_freq(term)
        return math.log(1 + (self.n_docs - df + 0.5) / (df + 0.5))

    def scores(self, terms: list[str]) -> np.ndarray:
        """Every row's BM25 score for ``terms``, over all segments."""
        return self._dense(self._postings(terms))

    def _postings(self, terms: list[str]) -> list[_Postings]:
        """Each known query term's postings over the segments, with its IDF and bound."""
        lists: list[_Postings] = []
        for term in dict.fromkeys(terms):
            if not self.doc_freq(term):
                continue
            weight = np.float32(self.idf(term))
            parts, peak = [], 0.0
            for seg, offset in zip(self.segments, self.offsets.tolist(), strict=False):
                j = seg.vocab.get(term)
                if j is None or not seg.df[j]:
                    continue
                column = seg.column(term)
                assert column is not None  # the term is in this segment's vocabulary
                r, v = column
                parts.append((offset, r, v))
                peak = max(peak, float(seg.peak[j]))
            lists.append(_Postings(parts, weight, float(weight) * peak))
        return lists

    def _dense(self, lists: list[_Postings]) -> np.ndarray:
        """Every row's score from ``lists``, in one pass over their postings."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        for p in lists:
            for offset, r, v in p.parts:
                # One entry per row within a posting; the base's rows need no offset copy.
                out[r if offset == 0 else r + offset] += p.weight * v
        return out

    def search(
        self, terms: list[str], k: int, mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The best ``k`` rows holding at least one of ``terms``, by MaxScore (Turtle and
        Flood, 1995), exact: the rarest terms' postings are read first; once the most the
        remaining terms could add together (IDF x their largest frequency part) is below
        the k-th best score so far, no row outside the candidates can reach the top k, nor
        can a candidate too far below it; the common terms are then only looked up for the
        remaining candidates (a binary search in each posting). At 1M passages a term held
        by nearly every passage then costs a lookup per candidate instead of a pass over a
        million rows."""
        lists = self._postings(terms)
        if not lists:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        lists.sort(key=lambda p: p.size)  # rarest first
        # rest[j]: the most the lists from j on can add to any row's score.
        rest = np.cumsum([p.bound for p in lists][::-1])[::-1].tolist() + [0.0]
        # Rare lists first, as long as they are few rows: after each, is the k-th best score
        # so far above what the remaining lists could add?
        taken, theta = 0, 0.0
        rows = np.zeros(0, dtype=np.int64)
        scores = np.zeros(0, dtype=np.float32)
        while taken < len(lists) and sum(p.size for p in lists[: taken + 1]) * 8 <= self.n_docs:
            taken += 1
            rows, scores = self._accumulate(lists[:taken])
            theta = _kth(scores, rows, mask, k)
            if taken < len(lists) and theta > rest[taken]:
                return self._finish(lists, taken, rows, scores, theta, rest[taken], k, mask)
        if taken == 0:
            # Every term is in over an eighth of the passages: their weights are close, so
            # pruning rarely pays; score every row in one pass.
            return self._every_row(lists, k, mask)
        if taken == len(lists):
            return _best(rows, scores, k, mask)
        # Common lists remain. The score so far is a lower bound of the final k-th best: take
        # in, in one pass, only as many lists as it takes for the rest to fall below it.
        more = next((j for j in range(taken + 1, len(lists)) if rest[j] < theta), len(lists))
        if more == len(lists):
            return self._every_row(lists, k, mask)
        rows, scores = self._accumulate(lists[:more])
        theta = max(theta, _kth(scores, rows, mask, k))
        return self._finish(lists, more, rows, scores, theta, rest[more], k, mask)

    def _finish(
        self,
        lists: list[_Postings],
        taken: int,
        rows: np.ndarray,
        scores: np.ndarray,
        theta: float,
        rest: float,
        k: int,
        mask: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """No row outside ``rows`` can reach the k-th score ``theta``, nor can a row of them
        that even ``rest`` more would leave below it (the small slack covers float32
        rounding: it keeps rows, never drops one). The lists not taken are only looked up
        for the rows that remain."""
        keep = scores + (rest + 1e-5) >= theta
        remaining = sum(p.size for p in lists[taken:])
        if int(keep.sum()) * 16 > remaining:
            # Too many rows stay candidates (the common terms weigh about as much as the
            # rare ones): a binary search per candidate would cost more than one pass.
            return self._every_row(lists, k, mask)
        rows, scores = rows[keep], scores[keep].copy()
        for p in lists[taken:]:
            p.add_to(rows, scores)
        return _best(rows, scores, k, mask)

    def _every_row(
        self, lists: list[_Postings], k: int, mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        best, vals = top_k(self._dense(lists), k, mask)
        keep = vals > 0  # BM25 zero means no query term occurs: not a match at all
        return best[keep].astype(np.int64), vals[keep]

    def _accumulate(self, lists: list[_Postings]) -> tuple[np.ndarray, np.ndarray]:
        """Every row the ``lists`` touch, and its score from them."""
        if len(lists) == 1:
            return lists[0].read()  # sorted, one entry a row
        if sum(p.size for p in lists) * 8 > self.n_docs:  # many rows: one dense pass
            dense = self._dense(lists)
            rows = np.flatnonzero(dense)
            return rows, dense[rows]
        read = [p.read() for p in lists]
        rows, inverse = np.unique(np.concatenate([r for r, _ in read]), return_inverse=True)
        scores = np.bincount(
            inverse, weights=np.concatenate([v for _, v in read]), minlength=rows.size
        )
        return rows, scores.astype(np.float32)

    def knows(self, term: str) -> bool:
        """Whether any indexed chunk contains ``term``."""
        return self.doc_freq(term) > 0

    def term_weights(self, terms: list[str]) -> dict[str, float]:
        return {t: self.idf(t) for t in terms}

    def save(self, directory: Path) -> None:
        """One segment's index (a merged base) is saved; deltas live in memory."""
        if len(self.segments) != 1:
            raise ValueError("only a one-segment index is saved: merge it first")
        self.segments[0].save(directory)

    @classmethod
    def load(cls, directory: Path) -> Bm25Index:
        return cls([Bm25Segment.load(directory)])


class _Postings:
    """One query term's postings over the segments: (row offset, sorted local rows, values)
    per segment, its IDF, and the most it can add to a score."""

    def __init__(
        self, parts: list[tuple[int, np.ndarray, np.ndarray]], weight: np.float32, bound: float
    ) -> None:
        self.parts = parts
        self.weight = weight
        self.bound = bound
        self.size = sum(r.size for _, r, _ in parts)

    def read(self) -> tuple[np.ndarray, np.ndarray]:
        rows = np.concatenate([r.astype(np.int64) + offset for offset, r, _ in self.parts])
        vals = np.concatenate([self.weight * v for *_, v in self.parts])
        return rows, vals

    def add_to(self, rows: np.ndarray, scores: np.ndarray) -> None:
        """Add this term's part to the scores of ``rows`` (sorted) that hold it."""
        for offset, r, v in self.parts:
            local = rows - offset
            inside = (local >= 0) & (local <= int(r[-1]))  # (a part is never empty)
            if not inside.any():
                continue
            idx = np.flatnonzero(inside)
            at = np.minimum(np.searchsorted(r, local[idx]), r.size - 1)
            hit = r[at] == local[idx]
            scores[idx[hit]] += self.weight * v[at[hit]]


def _kth(scores: np.ndarray, rows: np.ndarray, mask: np.ndarray | None, k: int) -> float:
    """The k-th best visible score (0 when fewer than k rows are visible)."""
    if mask is not None:
        scores = scores[mask[rows]]
    if scores.size < k:
        return 0.0
    return float(np.partition(scores, scores.size - k)[scores.size - k])


def _best(
    rows: np.ndarray, scores: np.ndarray, k: int, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    if mask is not None:
        keep = mask[rows]
        rows, scores = rows[keep], scores[keep]
    best, vals = top_k(scores, k, None)
    keep = vals > 0  # BM25 zero means no query term occurs: not a match at all
    return rows[best][keep].astype(np.int64), vals[keep]
