"""What the cross-lingual vocabularies (index/lexicon.py) cost, on a real home's passages.

Two figures the 1M rows of bench/README.md predate:
- building a base counts every passage's words in Python: passages per second of
  index/lexicon.py's own build_lexicon over the home's passages, their words' vectors known
  from the home's lexicon (so that nothing is embedded: the embedding is a one-off, timed
  apart), and what that rate makes of a million passages (a projection: the count is linear
  in the passages, the vocabulary is capped);
- a question looks its words up among a language's vocabulary: the embedding of its words by
  the home's embedder, and the similarity search, against the home's own vocabulary and
  against a full one of MAX_WORDS words (random unit vectors: only the arithmetic is timed).

    python bench/lexicon_cost.py --home eval-data
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from commune.core import Commune  # noqa: E402
from commune.evaluation import load_suite  # noqa: E402
from commune.index.lexicon import MAX_WORDS, Lexicon, Vocabulary, build_lexicon  # noqa: E402
from commune.store.repository import searchable_chunks  # noqa: E402
from commune.text.lang import detect  # noqa: E402

REPEATS = 5


class _Counting:
    """The home's embedder, counting the words build_lexicon asks it to embed."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.embedded = inner, inner.name, 0

    def embed_passages(self, texts: list[str]) -> Any:
        self.embedded += len(texts)
        return self.inner.embed_passages(texts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", default="eval-data")
    ap.add_argument("--questions", type=int, default=100, help="of the fiches suite, in order")
    args = ap.parse_args()
    commune = Commune(args.home)
    lexicon = commune.catalog().lexicon
    if lexicon is None:
        sys.exit("this home has no lexicon.npz yet: `commune reindex` builds it")
    # The passages a base build reads (index/catalog.py): every word of theirs is then known
    # to the home's lexicon, and nothing is embedded in the timed runs.
    with commune.engine.connect() as conn:
        texts = [(r.text, r.language) for r in searchable_chunks(conn)]
    embedder = commune.embedder
    counted = _Counting(embedder)
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        build_lexicon(texts, counted, previous=lexicon)  # type: ignore[arg-type]
        best = min(best, time.perf_counter() - start)
    rate = len(texts) / best
    print(f"counting: {len(texts)} passages in {best:.2f} s (best of {REPEATS}), {rate:,.0f}/s;")
    print(f"  words embedded in the timed runs: {counted.embedded} (0: the counting alone)")
    print(f"  a million passages at that rate: {1e6 / rate / 60:.1f} min (projected)")

    suite = load_suite(ROOT / "eval" / "suites" / "fiches.jsonl")
    questions = [c.question for c in suite.cases][: args.questions]
    rng = np.random.default_rng(0)
    full = rng.standard_normal((MAX_WORDS, embedder.dim)).astype(np.float32)
    full /= np.linalg.norm(full, axis=1, keepdims=True)
    sizes = {lang: len(v) for lang, v in lexicon.languages.items()}
    for label, lex in (
        (f"this home's vocabularies {sizes}", lexicon),
        (
            f"{MAX_WORDS:,} words in each of its languages",
            Lexicon(
                lexicon.model,
                {
                    lang: Vocabulary([f"w{i}" for i in range(MAX_WORDS)], full)
                    for lang in lexicon.languages
                },
            ),
        ),
    ):
        times = []
        for q in questions:
            lang = detect(q, default="fr")
            start = time.perf_counter()
            lex.equivalents(q, lang, embedder)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p95 = times[int(0.95 * (len(times) - 1))]
        print(
            f"lookup against {label}: {len(times)} questions, "
            f"p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms"
        )


if __name__ == "__main__":
    main()
