"""The embedding contract: texts in, L2-normalised float32 rows out."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import ClassVar

import numpy as np


class Embedder(ABC):
    """Subclasses implement :meth:`_embed`; the base class batches and normalises.

    Capabilities and provenance are class attributes, so callers (and the bill
    of materials) read them without loading the model.
    """

    name: ClassVar[str]
    dim: ClassVar[int]
    batch_size: ClassVar[int] = 32
    licence: ClassVar[str]  # SPDX identifier of the model weights
    origin: ClassVar[str]  # where the weights come from (an installed package)
    package: ClassVar[str | None] = None  # the distribution that ships the weights
    params_b: ClassVar[float | None] = None  # parameters, in billions, where known
    quantisation: ClassVar[str | None] = None
    openness: ClassVar[str] = "unknown"  # Model Openness Framework class, or open-weights

    @abstractmethod
    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        """Embed one batch; ``kind`` is "query" or "passage" (asymmetric models care)."""

    def _run(self, texts: Sequence[str], kind: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        for start in range(0, len(texts), self.batch_size):
            out.append(np.asarray(self._embed(list(texts[start : start + self.batch_size]), kind)))
        matrix = np.vstack(out).astype(np.float32, copy=False)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        normalised: np.ndarray = matrix / np.maximum(norms, 1e-12)
        return normalised

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(texts, "passage")

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(texts, "query")

    def embed_sentences(self, texts: Sequence[str]) -> np.ndarray:
        """Passage vectors of short texts asked for again and again (an answer's candidate
        sentences): the last :data:`SENTENCES_KEPT` are kept, and only the others are
        embedded (through :meth:`embed_passages`, which a plugin may override). A kept
        vector was computed in another batch: it may differ from a fresh one in the seventh
        decimal."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        found = self._kept("_sentences", texts, SENTENCES_KEPT, self.embed_passages)
        return np.vstack([found[t] for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        """One query's vector. An answer embeds its question twice (to search, then to
        choose sentences): the last few are kept so that the second time costs nothing."""
        return self._kept("_queries", [text], 64, lambda ts: self._run(ts, "query"))[text]

    def _kept(
        self,
        store: str,
        texts: Sequence[str],
        limit: int,
        embed: Callable[[list[str]], np.ndarray],
    ) -> dict[str, np.ndarray]:
        """Each distinct text's vector from the instance's ``store`` of the last ``limit``
        (the least recently used go first), the others embedded by ``embed`` and kept. Each
        row is copied, so that a kept one does not keep its whole batch in memory."""
        cache: OrderedDict[str, np.ndarray] = self.__dict__.setdefault(store, OrderedDict())
        found: dict[str, np.ndarray] = {}
        with _QUERY_LOCK:  # the API answers on several threads
            for text in dict.fromkeys(texts):
                vector = cache.get(text)
                if vector is not None:
                    cache.move_to_end(text)
                    found[text] = vector
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            fresh = [row.copy() for row in embed(missing)]
            found.update(zip(missing, fresh, strict=True))
            with _QUERY_LOCK:
                cache.update(zip(missing, fresh, strict=True))
                while len(cache) > limit:
                    cache.popitem(last=False)
        return found


_QUERY_LOCK = threading.Lock()  # the API answers on several threads
# An answer's candidate sentences kept with their vectors: 16 MB at 512 dimensions. Of the
# 30,154 sentences the 579 questions of the evaluation's test split embedded, 53% had been
# embedded for an earlier question (the same passages answer many questions).
SENTENCES_KEPT = 8192
