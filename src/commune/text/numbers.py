"""Numbers as their reader writes them: 1 234,56 in French, 1,234.56 in English.

French typography groups thousands with a narrow no-break space (U+202F) and puts a
decimal comma; the web pages do the same (web/render.number)."""

from __future__ import annotations

NARROW_NBSP = "\u202f"
# Before a French colon: a no-break space, so a line never starts with the colon.
COLON = {"fr": "\u00a0:", "en": ":"}


def number(value: float, digits: int, language: str | None) -> str:
    text = f"{value:,.{digits}f}"
    if (language or "").lower().startswith("fr"):
        text = text.replace(",", NARROW_NBSP).replace(".", ",")
    return text


def colon(language: str | None) -> str:
    """The colon after a label, with the space French puts before it."""
    return COLON["fr"] if (language or "").lower().startswith("fr") else COLON["en"]
