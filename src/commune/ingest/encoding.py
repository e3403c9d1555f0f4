"""A text file's encoding, where its first bytes say it."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from commune.errors import IngestError

# The byte order marks of UTF-16 and UTF-32, and the codec each names (UTF-8's, a file
# read as UTF-8 anyway, is dropped by "utf-8-sig"). UTF-32's little-endian mark begins with
# UTF-16's: it is tried first.
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def by_bom(data: bytes, path: Path) -> str | None:
    """The text of a file that starts with UTF-16's or UTF-32's byte order mark (Windows'
    Notepad saves "Unicode" as UTF-16 with one; its zero bytes read as binary), the mark
    dropped; None for a file without one. A mark followed by what is no text in its
    encoding is a binary file's first bytes."""
    for mark, codec in BOMS:
        if data.startswith(mark):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                text = "\x00"
            if "\x00" in text[:8192]:
                raise IngestError(f"{path.name}: looks binary, not text", "check the file type")
            return text
    return None


# A character of two to four bytes as UTF-8 writes it ("é" is c3 a9).
UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
# What French or English written in UTF-8 makes of such sequences: accented letters and
# "œ" (U+0080 to U+017F), quotes, dashes, "…" and "€" (U+2000 to U+20CF).
_WESTERN_UTF8 = re.compile("[\u0080-\u017f\u2000-\u20cf]")


def holds_utf8(data: bytes) -> bool:
    """Whether ``data`` holds characters written in UTF-8 ("é" as c3 a9), which no
    Windows-1252 text holds ("Ã©"). Any sequence of UTF-8's shape was taken for one, and
    Windows-1252 makes them by chance: "été" and a non-breaking space before "»" (e9 a0 bb)
    is one, so that a Notepad file of quoted French was refused as mixing two encodings.
    A chance one reads as a character no Western text has (U+903B, "ɠ"), and is rare among
    the text's other accents; Greek, Russian or Chinese written in UTF-8 is all such
    sequences (nine bytes of ten above 0x7f, and more than a few), and is UTF-8 still."""
    high = len(data) - len(data.translate(None, _HIGH))
    covered = found = 0
    for m in UTF8_SEQUENCE.finditer(data):
        covered, found = covered + len(m.group()), found + 1
        if _WESTERN_UTF8.match(m.group().decode("utf-8", "replace")):
            return True
        if found >= 8 and covered * 10 >= high * 9:
            return True
    return False


_HIGH = bytes(range(0x80, 0x100))
