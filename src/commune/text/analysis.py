"""Lexical analysis: the same pipeline for documents and queries.

French and English need different care: French elisions (l', d', qu') glue the
article to the noun, stems differ by language, and users type without accents.
So: Unicode NFKC, lowercase, split elisions, drop function words, Snowball stem
in the text's language, then fold accents *after* stemming (the French stemmer
needs accents to find suffixes; the index must not, so "systeme" finds
"système").
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from commune.text.stopwords import STOPWORDS

# Letters and digits, keeping inner dots/dashes/underscores/plus so that
# "sources.list", "apt-get", "x86_64" and "c++" stay whole tokens.
_TOKEN = re.compile(r"\w+(?:[.\-_+]\w+)*\+*", re.UNICODE)
_ELISION = re.compile(
    r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu|presqu)['’]", re.IGNORECASE
)
_STEMMER_NAMES = {
    "fr": "french",
    "en": "english",
    "de": "german",
    "es": "spanish",
    "it": "italian",
    "nl": "dutch",
    "pt": "portuguese",
}


# A Snowball stemmer keeps its working word in the object: shared between threads (the
# API serves requests on several), two stems interleave and come out wrong, or raise
# IndexError. Each thread gets its own.
_local = threading.local()


def _stemmer(lang: str) -> Any:  # a snowballstemmer stemmer (the package ships no types)
    cache: dict[str, Any] | None = getattr(_local, "stemmers", None)
    if cache is None:
        cache = _local.stemmers = {}
    if lang not in cache:
        import snowballstemmer

        cache[lang] = snowballstemmer.stemmer(_STEMMER_NAMES.get(lang, "english"))
    return cache[lang]


def fold_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("œ", "oe")


def words(text: str) -> list[str]:
    """Split into lowercase words, with French elisions removed."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    out: list[str] = []
    for raw in re.split(r"\s+", text):
        raw = _ELISION.sub("", raw)
        out.extend(_TOKEN.findall(raw))
    return out


# A word's term and its folded form, kept once computed: Snowball's pure-Python stemmer was
# more than half of an extractive answer's time (the same few thousand words, stemmed again
# for every sentence of every answer), and the result depends on nothing else. About 350
# bytes a word for both, the word included (measured with tracemalloc): 23 MB for 65,536
# words of up to LONGEST_KEPT characters; a longer token (a URL, a hash) is not kept.
_WORDS_KEPT = 1 << 16
LONGEST_KEPT = 40


def _stem(word: str, lang: str) -> str:
    # Stemming technical tokens ("sources.list") would only damage them.
    return fold_accents(_stemmer(lang).stemWord(word) if word.isalpha() else word)


_kept_term = lru_cache(maxsize=_WORDS_KEPT)(_stem)
_kept_folded = lru_cache(maxsize=_WORDS_KEPT)(fold_accents)


def _term(word: str, lang: str) -> str:
    return _kept_term(word, lang) if len(word) <= LONGEST_KEPT else _stem(word, lang)


def _folded(word: str) -> str:
    return _kept_folded(word) if len(word) <= LONGEST_KEPT else fold_accents(word)


def analyze(text: str, lang: str, stop: frozenset[str] | None = None) -> list[str]:
    """Index terms for ``text`` written in ``lang`` (duplicates kept: BM25 counts them)."""
    if stop is None:
        stop = STOPWORDS.get(lang, frozenset())
    return [_term(w, lang) for w in words(text) if w not in stop and _folded(w) not in stop]


def query_term_sets(text: str, langs: Iterable[str]) -> dict[str, list[str]]:
    """The query's terms under each language's analyser (see :func:`analyze_query`)."""
    langs = list(langs)
    stop = frozenset().union(*(STOPWORDS.get(lang, frozenset()) for lang in langs))
    return {lang: list(dict.fromkeys(analyze(text, lang, stop))) for lang in langs}


def analyze_query(text: str, langs: Iterable[str]) -> list[str]:
    """Query terms under each candidate language's analyser, deduplicated.

    A French question may be answered by an English paragraph (the French
    handbook is partly untranslated), so the query is stemmed both ways and
    each document matches the stems of its own language.
    """
    # A function word of any candidate language is noise in every analyser
    # ("comment" is not an English stopword, but it is here).
    seen: dict[str, None] = {}
    for terms in query_term_sets(text, langs).values():
        for term in terms:
            seen.setdefault(term, None)
    return list(seen)
