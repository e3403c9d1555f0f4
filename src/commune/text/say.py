"""One message in the reader's language: French for French readers, English otherwise.

Commune's people are French public bodies and associations; any other language reads the
English, which more of them share than any third language."""

from __future__ import annotations


def say(language: str | None, fr: str, en: str) -> str:
    return fr if written_in(language) == "fr" else en


def written_in(language: str | None) -> str:
    """The language :func:`say` writes Commune's own words in for ``language``: French for
    French, English for every other (a German question's "nothing found" is English)."""
    return "fr" if (language or "").lower().startswith("fr") else "en"


def prose(language: str | None, fr: str, en: str, **values: object) -> str:
    """:func:`say`, the French with French typography (text/typography.py): the no-break
    space before « : ; ? ! » and inside « ». The sentence is spaced, then ``values`` are put
    in its ``{name}`` places (``str.format``) as they are: a document's title, a peer's words
    or a file's path stays as it was written ("Qui paie ? Le guide" keeps its ordinary space,
    which a reader searching for that title types). Values written into ``fr`` itself (an
    f-string) are spaced with it: only names, identifiers, figures and Commune's own
    messages go there."""
    from commune.text.typography import french

    if (language or "").lower().startswith("fr"):
        return french(fr).format(**values) if values else french(fr)
    return en.format(**values) if values else en
