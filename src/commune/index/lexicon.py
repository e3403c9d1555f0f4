"""Cross-lingual word neighbours: the question's words in the commons' other languages.

BM25 only matches the words a passage uses, so an English question over French fiches
("birth", "rent", "deadline") finds them by meaning alone. The multilingual embedder
already places a word near its translations ("birth" → "naissance" 0.89, "rent" → "loyer"
0.83), so no dictionary is needed: each language's vocabulary (the words of at least two of
its passages) is embedded once, when a base is built, and a question's words are looked up
among the other languages' words. Their stems make a lexical list of their own over the
passages in those languages (answering/retrieve.py fuses it at half the lexical weight).

Only the commons' own words can come out: a neighbour is a word some passage uses, in the
form it uses it. Measured on the suites' dev halves (bench/README.md, "What was tried",
issue 20): MRR@10 of English questions over the fiches 0.770 → 0.844.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from commune.embed import Embedder
from commune.text.analysis import analyze, fold_accents, words
from commune.text.stopwords import STOPWORDS

# A word of one passage only is as often a typo, a name or a stray token as a word of the
# language; two passages keep the vocabulary to what the language's documents share.
MIN_PASSAGES = 2
# The most frequent words per language: about 60 MB of vectors each at 512 dimensions, and
# about 30 s to embed them all on 2 cores the first time (known words are never re-embedded).
MAX_WORDS = 30_000
# A language with fewer words is a few passages its detector misread ("it", "nl" among
# French manuals): not worth a list of its own.
MIN_VOCABULARY = 100
SHORTEST = 3  # "de", "la", "to": function words, or abbreviations no neighbour can help
# Chosen on the suites' dev halves (issue 20) among 0.75 / 0.8 / 0.85 and two or three
# neighbours: below 0.8 "deadline" brings "terminent", above it "rent" loses "loyer".
MIN_SIMILARITY = 0.8
NEIGHBOURS = 2
# A question's words looked up at most: a long question is not made longer by them.
MAX_QUERY_WORDS = 24


_LETTERS = re.compile(r"[^\W\d_]+")


def vocabulary_words(text: str, lang: str) -> list[str]:
    """The words of ``text`` a vocabulary keeps: alphabetic, three letters or more, and not
    a function word of ``lang``; a compound's parts ("9-year-old": "year", "old")."""
    stop = STOPWORDS.get(lang, frozenset())
    return [
        w
        for token in words(text)
        for w in _LETTERS.findall(token)
        if len(w) >= SHORTEST and w not in stop and fold_accents(w) not in stop
    ]


@dataclass
class Vocabulary:
    words: list[str]
    vectors: np.ndarray  # float32, one unit-norm row per word

    def __len__(self) -> int:
        return len(self.words)


@dataclass
class Lexicon:
    """Each language's vocabulary and its words' vectors, from one embedder."""

    model: str
    languages: dict[str, Vocabulary] = field(default_factory=dict)
    # The last questions' lists: a search and its answer look the same question up.
    _asked: dict[tuple[str, str], dict[str, list[str]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __len__(self) -> int:
        return sum(len(v) for v in self.languages.values())

    def vector_of(self) -> dict[str, np.ndarray]:
        """Every known word's vector, whatever its language (to build the next one)."""
        return {w: v.vectors[i] for v in self.languages.values() for i, w in enumerate(v.words)}

    def translate(self, text: str, lang: str, embedder: Embedder) -> dict[str, list[str]]:
        """``text``'s neighbours in each other language, as that language's index terms
        (stems): {language: terms}. Empty when the lexicon has no other language, or its
        embedder is not ``embedder`` (the vectors would not be comparable)."""
        targets = {t: v for t, v in self.languages.items() if t != lang and len(v)}
        if not targets or embedder.name != self.model:
            return {}
        key = (text, lang)
        if key in self._asked:
            return self._asked[key]
        if len(self._asked) >= 64:
            self._asked.pop(next(iter(self._asked), key), None)
        found = self._asked[key] = self._translate(text, lang, embedder, targets)
        return found

    def _translate(
        self, text: str, lang: str, embedder: Embedder, targets: dict[str, Vocabulary]
    ) -> dict[str, list[str]]:
        asked = list(dict.fromkeys(vocabulary_words(text, lang)))[:MAX_QUERY_WORDS]
        if not asked:
            return {}
        vectors = np.asarray(embedder.embed_passages(asked), dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        out: dict[str, list[str]] = {}
        for target, vocab in targets.items():
            sims = vectors @ vocab.vectors.T  # (asked words, vocabulary)
            terms: list[str] = []
            for row in sims:
                best = np.argpartition(-row, min(NEIGHBOURS, len(row) - 1))[: NEIGHBOURS + 1]
                for i in sorted(best.tolist(), key=lambda j: -row[j])[:NEIGHBOURS]:
                    if row[i] >= MIN_SIMILARITY:
                        terms.extend(analyze(vocab.words[i], target))
            if terms:
                out[target] = list(dict.fromkeys(terms))
        return out

    def save(self, path: Path) -> None:
        arrays: dict[str, np.ndarray] = {"model": np.asarray(self.model)}
        for lang, vocab in self.languages.items():
            arrays[f"words_{lang}"] = np.asarray(vocab.words, dtype=str)
            # Half precision on disk: the neighbours' order is unchanged at this resolution.
            arrays[f"vectors_{lang}"] = vocab.vectors.astype(np.float16)
        np.savez(path, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        data = np.load(path)
        languages = {}
        for key in data.files:
            if key.startswith("words_"):
                lang = key[len("words_") :]
                languages[lang] = Vocabulary(
                    [str(w) for w in data[key]], data[f"vectors_{lang}"].astype(np.float32)
                )
        return cls(str(data["model"]), languages)


def build_lexicon(
    texts: Iterable[tuple[str, str]], embedder: Embedder, previous: Lexicon | None = None
) -> Lexicon:
    """The vocabulary of each language of ``texts`` ((text, language) per passage), its new
    words embedded by ``embedder``; the words ``previous`` knows keep their vectors."""
    counts: dict[str, Counter[str]] = {}
    for text, lang in texts:
        counts.setdefault(lang, Counter()).update(set(vocabulary_words(text, lang)))
    known = previous.vector_of() if previous is not None and previous.model == embedder.name else {}
    languages = {}
    for lang, counter in sorted(counts.items()):
        kept = [w for w, n in counter.most_common(MAX_WORDS) if n >= MIN_PASSAGES]
        if len(kept) < MIN_VOCABULARY:
            continue
        kept.sort()  # the file does not depend on the order passages were read in
        fresh = [w for w in kept if w not in known]
        if fresh:
            for w, v in zip(fresh, embedder.embed_passages(fresh), strict=True):
                known[w] = np.asarray(v, dtype=np.float32)
        matrix = np.vstack([known[w] for w in kept]).astype(np.float32)
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        languages[lang] = Vocabulary(kept, matrix)
    return Lexicon(embedder.name, languages)
