"""Telling the asker that the sentences quoted are in another language than their question.

An extractive answer quotes its sources as they are written: an English question over the
cooperative's French fiches is answered in French, and a French question over the English
handbook in English. Said nowhere, the asker read a foreign answer as a failure to
understand them; one line in their language says why and from where.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from commune.text.say import prose, written_in

# The languages text/lang.py tells apart, as the asker names them: French and English for
# Commune's own words (text/say.py).
_NAMES = {
    "fr": {
        "fr": "français",
        "en": "anglais",
        "de": "allemand",
        "es": "espagnol",
        "it": "italien",
        "nl": "néerlandais",
        "pt": "portugais",
    },
    "en": {
        "fr": "French",
        "en": "English",
        "de": "German",
        "es": "Spanish",
        "it": "Italian",
        "nl": "Dutch",
        "pt": "Portuguese",
    },
}


def note(asked: str, sentences: Sequence[dict[str, Any]]) -> str | None:
    """The line for an answer in ``asked`` (the question's language) quoting ``sentences``
    (each with its ``language``); None when each is in the question's language. A line of
    code has none (it is typed as it stands, in no language) and is not counted, nor is a
    sentence in a language Commune cannot name."""
    languages = [s["language"] for s in sentences if s.get("language") in _NAMES["en"]]
    others = Counter(x for x in languages if x != asked)
    if not others:
        return None
    lang = written_in(asked)
    # French says « en » before each language (« en anglais et en allemand »), English "in"
    # once ("in English and German"): « sont en anglais et allemand » read as a slip.
    names = [_NAMES[lang][x] for x, _ in others.most_common()]
    if lang == "fr":
        names = [names[0], *(f"en {x}" for x in names[1:])]
    last = " et " if lang == "fr" else " and "
    other = names[0] if len(names) == 1 else ", ".join(names[:-1]) + last + names[-1]
    n, total = sum(others.values()), len(languages)
    if total == 1:
        # An answer of one sentence (or one and a command line) was told "The sentences
        # quoted are in English, as their sources write them."
        return prose(
            lang,
            "La phrase citée est en {other}, telle que sa source l'écrit.",
            "The sentence quoted is in {other}, as its source writes it.",
            other=other,
        )
    if n == total:
        return prose(
            lang,
            "Les phrases citées sont en {other}, telles que leurs sources les écrivent.",
            "The sentences quoted are in {other}, as their sources write them.",
            other=other,
        )
    if n == 1:
        return prose(
            lang,
            "Une des {total} phrases citées est en {other}, telle que sa source l'écrit.",
            "One of the {total} sentences quoted is in {other}, as its source writes it.",
            total=total,
            other=other,
        )
    return prose(
        lang,
        "{n} des {total} phrases citées sont en {other}, telles que leurs sources les écrivent.",
        "{n} of the {total} sentences quoted are in {other}, as their sources write them.",
        n=n,
        total=total,
        other=other,
    )
