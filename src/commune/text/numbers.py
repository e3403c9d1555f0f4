"""Numbers as their reader writes them: 1 234,56 in French, 1,234.56 in English.

French typography groups thousands with a narrow no-break space (U+202F) and puts a
decimal comma; the web pages do the same (web/render.number)."""

from __future__ import annotations

import re

NARROW_NBSP = "\u202f"
# Before a French colon: a no-break space, so a line never starts with the colon.
COLON = {"fr": "\u00a0:", "en": ":"}


def number(value: float, digits: int, language: str | None) -> str:
    # A whole number asked without decimals is grouped digit for digit: through a float,
    # 2**63 - 1 (the largest row number a page may refuse) came out as ...775,808.
    whole = isinstance(value, int) and not isinstance(value, bool) and digits == 0
    text = f"{value:,}" if whole else f"{value:,.{digits}f}"
    if (language or "").lower().startswith("fr"):
        text = text.replace(",", NARROW_NBSP).replace(".", ",")
    return text


def exact(value: float, language: str | None) -> str:
    """``value`` as :func:`number` writes it, with every decimal it holds and no more: a
    quota an operator set (0.00001 Wh, 2.125 Wh) read "0" or "2,13" at a fixed number of
    decimals, a cap shown as none or as one never set."""
    from decimal import Decimal

    if float(value).is_integer():
        return number(value, 0, language)
    # repr is the shortest text that reads back as the same float: its decimals are the
    # ones the figure was given with ("1e-05" has five).
    exponent = Decimal(repr(float(value))).as_tuple().exponent
    return number(value, -exponent if isinstance(exponent, int) else 0, language)


# One mark between a first group and three digits: "1.000" is one to an English reader and a
# thousand to a French one who groups with dots; "1,000" the other way round.
_THREE_AFTER_ONE_MARK = re.compile(r"[+-]?[1-9]\d{0,2}([.,])\d{3}")
# Thousands grouped the English way, "2,000,000.5" (a first group of 1 to 3 digits, not 0).
_ENGLISH_GROUPS = re.compile(r"[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d*)?")


class Ambiguous(ValueError):
    """A typed figure two ways of writing read a thousand times apart: "1.000", one or
    a thousand. ``small`` and ``large`` are its two readings."""

    def __init__(self, text: str, small: float, large: float) -> None:
        super().__init__(text)
        self.small, self.large = small, large


def plain(text: str, language: str | None) -> str:
    """A figure typed as the reader of ``language`` writes it (:func:`number`: "1 000,5" in
    French, "1,000.5" in English), as Python reads it ("1000.5"), for int() or float().

    Spaces group, whichever (the narrow no-break one French writes included). A comma that
    does not group thousands is a decimal comma, in English too ("1,5" was read 15 once
    English commas were taken for groups). One mark before three digits, which either way
    reads a thousand times apart, is read as the page writes it ("1,000" in English,
    "1,125" in French, 1.125, as :func:`exact` writes it); else it raises
    :class:`Ambiguous`: "1.000" on a French page, which writes a thousand "1 000", or
    "2,500" there, which writes 2.5 "2,5"."""
    for space in (" ", "\u00a0", NARROW_NBSP):
        text = text.replace(space, "")
    text = text.strip()
    french = (language or "").lower().startswith("fr")
    group, decimal = ("", ",") if french else (",", ".")
    one = _THREE_AFTER_ONE_MARK.fullmatch(text)
    if one:
        mark = one[1]
        if mark == group:
            return text.replace(mark, "")
        # exact() writes no trailing zero: "1,000" is never how a French page writes 1.
        if mark == decimal and not text.endswith("0"):
            return text.replace(",", ".")
        raise Ambiguous(text, float(text.replace(",", ".")), float(text.replace(mark, "")))
    if not french and _ENGLISH_GROUPS.fullmatch(text):
        return text.replace(",", "")
    return text.replace(",", ".")


def small(value: float, digits: int, language: str | None) -> str:
    """``value`` as :func:`number` writes it, but a positive figure that rounds to zero
    reads "< 0,01": an answer's energy, a member's month, is not nothing, only below
    what is shown (a zero stays 0)."""
    if 0 < value < 10**-digits:
        return "< " + number(10**-digits, digits, language)
    return number(value, digits, language)


def percent(share: float, digits: int, language: str | None) -> str:
    """A share (0.3) as its reader writes it: "30 %" in French, with the narrow no-break
    space French typography puts before the sign (as :func:`number` groups thousands);
    "30%" in English."""
    text = number(share * 100, digits, language)
    french = (language or "").lower().startswith("fr")
    return f"{text}{NARROW_NBSP}%" if french else f"{text}%"


def colon(language: str | None) -> str:
    """The colon after a label, with the space French puts before it."""
    return COLON["fr"] if (language or "").lower().startswith("fr") else COLON["en"]


def plural(language: str | None, n: float, one: str, many: str) -> str:
    """``one`` or ``many`` for ``n`` things, ``{n}`` in them written as the reader writes it.

    The rules are gettext's (and CLDR's) for the two languages: French takes the singular
    for 0 and 1 ("0 requête", "1 requête", "2 requêtes"), English only for 1 ("0 requests").
    The web pages use their catalogue's ``ngettext`` with the same rule (web/locale)."""
    french = (language or "").lower().startswith("fr")
    single = abs(n) < 2 if french else n == 1
    digits = 0 if float(n).is_integer() else 1
    return (one if single else many).format(n=number(n, digits, language))


def billions(figure: str, language: str | None) -> str:
    """A model's size in billions of parameters, ``figure`` as the library writes it
    ("7.3", "0.135"): "7,3 milliards", "0,135 milliard" in French (singular below 2, as
    :func:`plural`), "7.3B" in English. Spelt out for the reader of a town hall, to whom
    « Md » said nothing; one wording on the pages, the CLI and the API."""
    if not (language or "").lower().startswith("fr"):
        return f"{figure}B"
    try:
        single = abs(float(figure)) < 2
    except ValueError:
        single = False
    said = re.sub(r"(\d)\.(\d)", r"\1,\2", figure)
    # Thousands grouped as :func:`number` groups them: a model of a thousand billion
    # parameters (Kimi K2's total) read « 1000 milliards » beside the page's « 1 000 ».
    whole, comma, decimals = said.partition(",")
    if whole.isdigit():
        said = number(int(whole), 0, "fr") + comma + decimals
    return f"{said} milliard" if single else f"{said} milliards"
