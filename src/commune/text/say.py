"""One message in the reader's language: French for French readers, English otherwise.

Commune's people are French public bodies and associations; any other language reads the
English, which more of them share than any third language."""

from __future__ import annotations


def say(language: str | None, fr: str, en: str) -> str:
    return fr if (language or "").lower().startswith("fr") else en
