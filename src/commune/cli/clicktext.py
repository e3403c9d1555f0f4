"""click's own messages — usage errors ("No such option", "Missing argument", "Invalid
value"), "Usage:", "Try … for help", "Error:" and the help page's headings — in the
reader's language, as every other line of the CLI (issue 24: French by default, English
when the locale says so, text/messages.py :func:`from_environment`).

click asks Python's gettext for each of its messages, through the stdlib's
``gettext.gettext`` and ``ngettext`` it imported under ``_`` and ``ngettext``. The stdlib
would pick the catalogue from the locale variables and a compiled ``.mo`` on disk, so an
unset or ``C`` locale would read English, against issue 24's French default. Instead,
:func:`speaking` points those names at the French catalogue (``locale/fr/LC_MESSAGES/
click.po``, compiled in memory with Babel as the web's is, so no binary file is kept) for
one invocation, and puts the stdlib's back after it. A msgid a later click adds or changes
reads English until ``scripts/i18n.sh`` brings it into the catalogue; the tests check the
common ones.
"""

from __future__ import annotations

import gettext
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

CATALOGUE = Path(__file__).resolve().parent / "locale" / "fr" / "LC_MESSAGES" / "click.po"


@cache
def french() -> Any:
    """click's messages in French (babel's Translations), compiled from the catalogue."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    with CATALOGUE.open("rb") as f:
        messages = read_po(f, locale="fr")
    buffer = io.BytesIO()
    write_mo(buffer, messages)
    buffer.seek(0)
    return Translations(buffer)


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """click speaks ``language`` inside the block: French for "fr", its own English else."""
    if language != "fr":
        yield
        return

    # The catalogue is read on click's first message, not before: most runs show none, and
    # reading it (Babel) would cost every run of the default language.
    def gettext_(message: str) -> str:
        return str(french().gettext(message))

    def ngettext_(singular: str, plural: str, n: int) -> str:
        return str(french().ngettext(singular, plural, n))

    # Each click module that bound the stdlib's function, by whatever module name a click
    # release gives it; a name bound to something else (a test's own) is left alone.
    ours = {
        "_": (gettext.gettext, gettext_),
        "ngettext": (gettext.ngettext, ngettext_),
    }
    swapped: list[tuple[ModuleType, str, Any]] = []
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "click" or name.startswith("click.")):
            continue
        for attr, (stdlib, translated) in ours.items():
            if getattr(module, attr, None) is stdlib:
                setattr(module, attr, translated)
                swapped.append((module, attr, stdlib))
    try:
        yield
    finally:
        for where, attr, original in swapped:
            setattr(where, attr, original)
