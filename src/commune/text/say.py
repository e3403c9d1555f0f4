"""One message in the reader's language: French for French readers, English otherwise.

Commune's people are French public bodies and associations; any other language reads the
English, which more of them share than any third language."""

from __future__ import annotations


def say(language: str | None, fr: str, en: str) -> str:
    return fr if (language or "").lower().startswith("fr") else en


def prose(language: str | None, fr: str, en: str) -> str:
    """:func:`say`, the French with French typography (text/typography.py): the no-break
    space before « : ; ? ! » and inside « ». The whole French sentence is spaced, values
    included, so only sentences whose values are names, identifiers, figures and Commune's
    own messages come here (a charter's steps, a licence's notes); a document's words and a
    file's path go through :func:`say`, and are left as they were written."""
    from commune.text.typography import french

    return french(fr) if (language or "").lower().startswith("fr") else en
