"""Cross-lingual word neighbours: the question's words in the commons' other languages.

BM25 only matches the words a passage uses, so an English question over French fiches
("birth", "rent", "deadline") finds them by meaning alone. The multilingual embedder
already places a word near its translations ("birth" → "naissance" 0.89, "rent" → "loyer"
0.83), so no dictionary is needed: each language's vocabulary (the words of at least two of
its passages, but not those it only borrows from another language) is embedded once, when a
base is built, and a question's words are looked up among the other languages' words. Their
stems make a lexical list of their own over the passages in those languages
(answering/retrieve.py fuses it at half the lexical weight), and they count in a sentence's
overlap with the question when the sentence is in another language (answering/answer.py).

Only the commons' own words can come out: a neighbour is a word some passage uses, in the
form it uses it. Measured on the suites' dev halves (bench/README.md, "What was tried",
issue 20): MRR@10 of English questions over the fiches 0.770 → 0.844; on the test half
0.866 → 0.859, a gain that did not carry (docs/evaluation.md).

The vocabularies hold the words of every collection, private ones included: they are used
inside a search, over the passages the reader may read, and never shown.
"""

from __future__ import annotations

import re
import threading
import zipfile
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
# The most frequent words per language: about 60 MB of vectors each at 512 dimensions in
# memory (30 MB on disk), and about 12 s to embed them all with USE on 2 cores the first
# time (the evaluation home's 17,600 words took 7 s); known words are never embedded again.
MAX_WORDS = 30_000
# A language with fewer words is a few passages its detector misread ("it", "nl" among
# French manuals): not worth a list of its own.
MIN_VOCABULARY = 100
SHORTEST = 3  # "de", "la", "to": function words, or abbreviations no neighbour can help
# Chosen on the suites' dev halves (issue 20) among 0.75 / 0.8 / 0.85 and two or three
# neighbours: below 0.8 "deadline" brings "terminent", above it "rent" loses "loyer".
MIN_SIMILARITY = 0.8
NEIGHBOURS = 2
# A word a language's passages only borrow is not of its vocabulary. A translated manual
# keeps paragraphs of its original ("For any work with APT…" in the French handbook), and a
# French page quotes English names, so "paquets" stood in the English vocabulary: French
# "paquets" then found itself and "paquet" as its two nearest English words, and "packages"
# was left out. A word stays in a language's vocabulary when its share of that language's
# passages is at least this share of its share in another language's. Chosen on the suites'
# dev halves (issue 20) among 0.15 / 0.3 / 0.5: hybrid MRR@10 of French questions over
# English passages 0.589 -> 0.633 at 0.3 and 0.5, 0.589 at 0.15; of English questions over
# French ones 0.746 -> 0.772 (Debian) and 0.832 -> 0.839 (fiches) at 0.3. Words both
# languages use alike ("service", "configuration", "debian") stay in both.
OWN_SHARE = 0.3
# The passages a language needs to lend words: a language of fewer is a few passages its
# detector misread (as MIN_VOCABULARY says of words).
MIN_LENDER_PASSAGES = 100
# A question's words looked up at most: a long question is not made longer by them.
MAX_QUERY_WORDS = 24
# Words whose neighbours are kept once looked up (a few hundred bytes each).
WORDS_KEPT = 4096


_LETTERS = re.compile(r"[^\W\d_]+")
# {question term: {language: its terms there}}: what :meth:`Lexicon.equivalents` gives.
Equivalents = dict[str, dict[str, list[str]]]


def flatten(equivalents: Equivalents | None) -> dict[str, list[str]]:
    """The question's terms in each other language, whatever term they stand for, once each."""
    out: dict[str, list[str]] = {}
    for per_language in (equivalents or {}).values():
        for target, terms in per_language.items():
            out.setdefault(target, []).extend(terms)
    return {target: list(dict.fromkeys(terms)) for target, terms in out.items()}


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
    # The last questions' lists: a search and its answer look the same question up. Shared
    # by the server's threads, hence the lock; never copied by dataclasses.replace.
    _asked: dict[tuple[str, str], Equivalents] = field(
        default_factory=dict, repr=False, compare=False, init=False
    )
    # The last words' neighbours ({(word, language): {target: terms}}), least recently used
    # first.
    _words: dict[tuple[str, str], dict[str, list[str]]] = field(
        default_factory=dict, repr=False, compare=False, init=False
    )
    _lock: threading.Lock = field(
        default_factory=threading.Lock, repr=False, compare=False, init=False
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
        return flatten(self.equivalents(text, lang, embedder))

    def equivalents(self, text: str, lang: str, embedder: Embedder) -> Equivalents:
        """For each of ``text``'s index terms in ``lang`` that has neighbours: their index
        terms in each other language ({term: {language: terms}}), so that a term can be
        found in a passage of another language."""
        targets = {t: v for t, v in self.languages.items() if t != lang and len(v)}
        if not targets or embedder.name != self.model:
            return {}
        key = (text, lang)
        with self._lock:
            found = self._asked.get(key)
        if found is None:
            found = self._neighbours(text, lang, embedder, targets)
            with self._lock:
                while len(self._asked) >= 64:
                    self._asked.pop(next(iter(self._asked)))
                self._asked[key] = found
        # A copy: a caller that changes it must not change the next question's.
        return {term: {t: list(v) for t, v in per.items()} for term, per in found.items()}

    def _neighbours(
        self, text: str, lang: str, embedder: Embedder, targets: dict[str, Vocabulary]
    ) -> Equivalents:
        asked = list(dict.fromkeys(vocabulary_words(text, lang)))[:MAX_QUERY_WORDS]
        if not asked:
            return {}
        with self._lock:
            near = {}
            for w in asked:
                kept = self._words.pop((w, lang), None)
                if kept is not None:  # back to the newest end: the least recently used go
                    self._words[(w, lang)] = near[w] = kept
        fresh = [w for w in asked if w not in near]
        if fresh:
            near.update(self._near(fresh, lang, embedder, targets))
        out: Equivalents = {}
        for target in targets:
            for word in asked:
                terms = near[word].get(target)
                # A word spelled the same in both languages ("service", "préfecture") stays:
                # the question's own terms match it at the cross-lingual weight only, and
                # dropping it here lost on dev (fiches' English questions 0.844 -> 0.825).
                if not terms:
                    continue
                for own in analyze(word, lang) or [word]:
                    known = out.setdefault(own, {}).setdefault(target, [])
                    known.extend(t for t in terms if t not in known)
        return out

    def _near(
        self, words: list[str], lang: str, embedder: Embedder, targets: dict[str, Vocabulary]
    ) -> dict[str, dict[str, list[str]]]:
        """Each word's nearest words in each target language, as that language's terms;
        kept (the last :data:`WORDS_KEPT`): the same words come back in many questions, and
        each costs a product with every target word."""
        vectors = np.asarray(embedder.embed_sentences(words), dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        found: dict[str, dict[str, list[str]]] = {w: {} for w in words}
        for target, vocab in targets.items():
            sims = vectors @ vocab.vectors.T  # (words, vocabulary)
            for word, row in zip(words, sims, strict=True):
                best = np.argpartition(-row, min(NEIGHBOURS, len(row) - 1))[: NEIGHBOURS + 1]
                terms: list[str] = []
                for i in sorted(best.tolist(), key=lambda j: -row[j])[:NEIGHBOURS]:
                    if row[i] >= MIN_SIMILARITY:
                        terms.extend(analyze(vocab.words[i], target))
                found[word][target] = terms
        with self._lock:
            for word, near in found.items():
                self._words[(word, lang)] = near
            while len(self._words) > WORDS_KEPT:
                self._words.pop(next(iter(self._words)))
        return found

    def save(self, path: Path) -> None:
        arrays: dict[str, np.ndarray] = {"model": np.asarray(self.model)}
        for lang, vocab in self.languages.items():
            arrays[f"words_{lang}"] = np.asarray(vocab.words, dtype=str)
            # Half precision on disk: the neighbours' order is unchanged at this resolution.
            arrays[f"vectors_{lang}"] = vocab.vectors.astype(np.float16)
        # numpy's stubs read arrays passed by name as its allow_pickle flag.
        np.savez(path, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        """Raises ValueError when the file is not a lexicon (cut short, another format)."""
        try:
            return cls._load(path)
        except (KeyError, zipfile.BadZipFile, EOFError) as e:
            raise ValueError(f"{path} is not a readable lexicon: {e}") from e

    @classmethod
    def _load(cls, path: Path) -> Lexicon:
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
    passages: Counter[str] = Counter()
    for text, lang in texts:
        counts.setdefault(lang, Counter()).update(set(vocabulary_words(text, lang)))
        passages[lang] += 1
    known = previous.vector_of() if previous is not None and previous.model == embedder.name else {}
    frequent = {
        lang: [w for w, n in counter.most_common(MAX_WORDS) if n >= MIN_PASSAGES]
        for lang, counter in sorted(counts.items())
    }
    frequent = {lang: kept for lang, kept in frequent.items() if len(kept) >= MIN_VOCABULARY}
    # Only a language of many passages lends words: a few misread ones ("it" among French
    # manuals) would have shares too coarse to judge another language's words by.
    lenders = [lang for lang in frequent if passages[lang] >= MIN_LENDER_PASSAGES]
    languages = {}
    for lang, kept in frequent.items():
        others = [o for o in lenders if o != lang]
        kept = [w for w in kept if _own(w, lang, others, counts, passages)]
        if len(kept) < MIN_VOCABULARY:
            continue  # what is left is borrowed words' leftovers, not a language's vocabulary
        kept.sort()  # the file does not depend on the order passages were read in
        fresh = [w for w in kept if w not in known]
        if fresh:
            for w, v in zip(fresh, embedder.embed_passages(fresh), strict=True):
                known[w] = np.asarray(v, dtype=np.float32)
        matrix = np.vstack([known[w] for w in kept]).astype(np.float32)
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        languages[lang] = Vocabulary(kept, matrix)
    return Lexicon(embedder.name, languages)


def _own(
    word: str, lang: str, others: list[str], counts: dict[str, Counter[str]], passages: Counter[str]
) -> bool:
    """Whether ``lang``'s passages use ``word`` as their own, not only borrow it from another
    language's (:data:`OWN_SHARE`)."""
    share = counts[lang][word] / passages[lang]
    return all(
        counts[o][word] < MIN_PASSAGES or share >= OWN_SHARE * counts[o][word] / passages[o]
        for o in others
    )
