"""The embedding contract: texts in, L2-normalised float32 rows out."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Sequence
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
        embedded. A kept vector was computed in another batch: it may differ from a fresh
        one in the seventh decimal."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        cache: OrderedDict[str, np.ndarray] = self.__dict__.setdefault("_sentences", OrderedDict())
        found: dict[str, np.ndarray] = {}
        with _QUERY_LOCK:
            for text in dict.fromkeys(texts):
                vector = cache.get(text)
                if vector is not None:
                    cache.move_to_end(text)
                    found[text] = vector
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            # Through the public method, which a plugin may override; each row copied, so
            # that a kept row does not keep its whole batch in memory.
            fresh = [row.copy() for row in self.embed_passages(missing)]
            found.update(zip(missing, fresh, strict=True))
            with _QUERY_LOCK:
                for text, vector in zip(missing, fresh, strict=True):
                    cache[text] = vector
                while len(cache) > SENTENCES_KEPT:
                    cache.popitem(last=False)
        return np.vstack([found[t] for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        """One query's vector. An answer embeds its question twice (to search, then to
        choose sentences): the last few are kept so that the second time costs nothing."""
        cache: OrderedDict[str, np.ndarray] = self.__dict__.setdefault("_queries", OrderedDict())
        with _QUERY_LOCK:  # the API answers on several threads
            vector = cache.get(text)
            if vector is not None:
                cache.move_to_end(text)
                return vector
        vector = np.asarray(self._run([text], "query")[0])
        with _QUERY_LOCK:
            cache[text] = vector
            if len(cache) > 64:
                cache.popitem(last=False)
        return vector


_QUERY_LOCK = threading.Lock()  # the API answers on several threads
# An answer's candidate sentences kept with their vectors: 16 MB at 512 dimensions. Of the
# 30,154 sentences the 579 questions of the evaluation's test split embedded, 53% had been
# embedded for an earlier question (the same passages answer many questions).
SENTENCES_KEPT = 8192
