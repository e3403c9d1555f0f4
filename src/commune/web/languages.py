"""The language of what a page quotes, so that text in another language than the page's
carries its own ``lang``: a screen reader reads a French passage on an English page with a
French voice, not as English words (WCAG 3.1.2, the RGAA's criterion 8.7).

Search hits and documents carry their language. An answer carries the question's; its
quoted sentences and its sources carry none (answering/answer.py), so each is read by its
function words, as the library reads a sentence's own language.
"""

from __future__ import annotations

from html import escape
from typing import Any

from markupsafe import Markup

from commune.text.lang import by_function_words
from commune.web import i18n

# The languages the library tells documents apart by (text/lang.py's SUPPORTED), named as a
# reader names them: the document page said "Langue : fr", a code, not a word.
NAMES = {
    "fr": i18n.N_("French"),
    "en": i18n.N_("English"),
    "de": i18n.N_("German"),
    "es": i18n.N_("Spanish"),
    "it": i18n.N_("Italian"),
    "nl": i18n.N_("Dutch"),
    "pt": i18n.N_("Portuguese"),
}


def name(language: str | None) -> str:
    """``language`` (a code) named in the page's language; a code it does not know, as is."""
    if not language:
        return "—"
    return i18n.gettext(NAMES[language]) if language in NAMES else language


def attribute(language: str | None, within: str | None = None) -> Markup:
    """`` lang="xx"`` for text in ``language`` inside text in ``within`` (the page's
    language when not given); nothing when they are the same or ``language`` is unknown."""
    if not language or language == (within or i18n.current()):
        return Markup("")
    return Markup(f' lang="{escape(language)}"')


def of_answer(answer: dict[str, Any]) -> dict[str, Any]:
    """The languages of ``answer`` (its JSON): ``sentences``, one per quoted sentence (None
    for a line of code, which has none of its own); ``sources``, each source's by its number:
    the language of the first sentence quoted from it, else of its title."""
    own = answer.get("language") or i18n.current()
    quoted = answer.get("mode") != "generate"  # a model's sentences are in the answer's
    sentences: list[str | None] = []
    sources: dict[int, str] = {}
    for s in answer.get("sentences") or []:
        # The library's reading where the answer carries it (answering/answer.py: the one its
        # language note counts), else the sentence's function words.
        said = (
            None
            if s.get("code")
            else (s.get("language") or by_function_words(s.get("text", "")) or own)
        )
        sentences.append(said if quoted else own)
        if quoted and said and "source" in s:
            sources.setdefault(s["source"], said)
    for c in answer.get("sources") or []:
        if c["n"] not in sources:
            titled = f"{c.get('title') or ''} {c.get('section') or ''}"
            sources[c["n"]] = by_function_words(titled) or own
    return {"sentences": sentences, "sources": sources}
