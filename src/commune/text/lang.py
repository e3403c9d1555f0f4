"""Language identification, restricted to the languages the commons holds.

py3langid ships its model inside the package (no download) and is accurate on
paragraphs; on very short strings (a query of three words) it guesses, so short
texts fall back to a stopword vote, which is what decides French vs English
questions reliably.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from commune.text.stopwords import STOPWORDS

SUPPORTED = ("fr", "en", "de", "es", "it", "nl", "pt")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@lru_cache(maxsize=1)
def _identifier() -> Any:  # py3langid's LanguageIdentifier (the package ships no types)
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE)
    ident.set_languages(list(SUPPORTED))
    return ident


def _stopword_vote(words: list[str]) -> str | None:
    fr = sum(w in STOPWORDS["fr"] for w in words)
    en = sum(w in STOPWORDS["en"] for w in words)
    if fr == en:
        return None
    return "fr" if fr > en else "en"


def by_function_words(text: str) -> str | None:
    """French or English by their function words alone, None on a tie: a sentence's own
    language (answering/answer.py), where the n-gram model costs forty times as much. Over
    4,000 prose sentences of five words or more sampled from the evaluation home, the vote
    decided 3,976 and agreed with the n-gram model on 3,971 (24 were ties)."""
    return _stopword_vote([w.lower() for w in _WORD.findall(text)])


def detect(text: str, default: str = "en", keywords: int = 0) -> str:
    """Return an ISO 639-1 code for ``text`` (``default`` when there is no signal).
    ``keywords``: up to this many words, a text with no function word and no accent is in
    ``default`` too, not in the language n-grams guess (:func:`question_language`)."""
    words = [w.lower() for w in _WORD.findall(text[:5000])]
    if not words:
        return default
    if len(words) < 12:
        # Too short for character n-grams to be trusted: count function words,
        # and accents as a tie-breaker (French questions carry them often).
        vote = _stopword_vote(words)
        if vote:
            return vote
        if re.search(r"[éèêàùçœ]", text.lower()):
            return "fr"
        if len(words) <= keywords:
            return default
    lang = str(_identifier().classify(text[:5000])[0])
    return lang if lang in SUPPORTED else default


# Up to this many words, a question with no French or English function word and no accent is
# a few keywords ("piscine municipale", "carte grise perdue"), whose language n-grams guess;
# longer, it is a sentence in another language ("Wie beantrage ich einen Reisepass"), which
# they tell.
KEYWORDS_AT_MOST = 3


def question_language(question: str, asker: str | None = None) -> str:
    """The language to answer ``question`` in: :func:`detect`'s, except that a few keywords
    with no function word and no accent ("passeport", "piscine municipale") are in
    ``asker``'s language (the face's: the CLI's locale, the page's), English when no face
    says. Character n-grams on two words guess: "passeport" read as German was answered in
    English in the French CLI."""
    return detect(question, default=asker or "en", keywords=KEYWORDS_AT_MOST)
