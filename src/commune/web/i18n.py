"""French and English: gettext catalogues (Babel), the language of each request.

English is the source language (the msgids); ``locale/fr/LC_MESSAGES/messages.po`` is
the French catalogue. It is compiled in memory when first used, so no binary file is kept
in the repository. ``scripts/i18n.sh`` extracts new messages (pybabel extract/update);
``tests/test_web.py`` fails when a message of a page or of this package lacks French.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("fr", "en")
DEFAULT = "fr"  # the cooperative's working language, when a browser states no preference
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
COOKIE = "commune_lang"

_current: ContextVar[str] = ContextVar("commune_language", default=DEFAULT)


@cache
def catalogue(language: str) -> Any:
    """The compiled catalogue for ``language`` (NullTranslations for English)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import NullTranslations, Translations

    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == "en" or not po.exists():
        return NullTranslations()
    with po.open("rb") as f:
        messages = read_po(f, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, messages)
    buffer.seek(0)
    return Translations(buffer)


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The user's choice (cookie), else the browser's first language we have, else French."""
    if cookie in LANGUAGES:
        return str(cookie)
    wanted: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag:
            wanted.append((-q, i, tag.split("-")[0].lower()))
    for _, _, tag in sorted(wanted):
        if tag in LANGUAGES:
            return tag
    return DEFAULT


def use(language: str) -> None:
    """Make ``language`` the one ``gettext`` speaks in for this request (a context variable:
    each request and thread has its own)."""
    _current.set(language if language in LANGUAGES else DEFAULT)


def current() -> str:
    return _current.get()


def gettext(message: str, **values: Any) -> str:
    text = str(catalogue(current()).gettext(message))
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    text = str(catalogue(current()).ngettext(singular, plural, n))
    return text % {"num": n, **values}


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue, to be translated where it is shown."""
    return message


_: Callable[..., str] = gettext
