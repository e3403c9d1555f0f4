"""French typography: the no-break space French puts before « : ; ? ! » and inside « ».

One rule, applied where French text is made rather than written into each message: the
pages' catalogue as it is compiled (web/i18n.catalogue), the CLI's help pages
(cli/helptext.french), the library's French messages as they are said
(text/messages.localise), and the charter's and licences' sentences (text/say.prose), so a
message added tomorrow follows it too.

The space is U+00A0 everywhere, not the Imprimerie nationale's narrow U+202F before « ; ? ! ».
Why: one character for every mark is one rule a translator can keep; it is the one the CLI,
the API and the messages already used before their colons and semicolons (numbers.COLON,
cli/helptext.Formatter, and the tests that read them); and U+00A0 is in every font, where
U+202F is missing from some terminal and older system fonts, which show a box or a wide
gap in its place. (Thousands and « % » keep U+202F: numbers.py, a figure's own rule.)

Only an ordinary space before a mark that ends a word is changed: "10:30", "http://",
"?q=" and "!=" have none, and the mark must be followed by a space, the end, or closing
punctuation. Only templates go through here, never the values put in them, so a file name,
a document's title or an answer quoted from a document stays as it was written."""

from __future__ import annotations

import re
from functools import lru_cache

NBSP = "\u00a0"

# An ordinary space before « : ; ? ! » that closes a clause ("Sources :", "numérisées ?)").
_BEFORE_MARK = re.compile(r" (?=[:;?!]+(?:[\s)\]»\"'<.,]|$))")
# Inside guillemets: « mot », never a line break between them and the word.
_AFTER_OPENING = re.compile(r"« ")
_BEFORE_CLOSING = re.compile(r" »")


@lru_cache(maxsize=4096)  # templates are few; a bound all the same
def french(template: str) -> str:
    """``template`` (French) with a no-break space where French typography wants one."""
    text = _BEFORE_MARK.sub(NBSP, template)
    text = _AFTER_OPENING.sub("«" + NBSP, text)
    return _BEFORE_CLOSING.sub(NBSP + "»", text)


# What tests and checks look for: an ordinary space where French wants a no-break one.
ORDINARY_SPACE = re.compile(r" [:;?!]+(?:[\s)\]»\"'<.,]|$)|« | »")
