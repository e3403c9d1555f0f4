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


# A character of two to four bytes as UTF-8 writes it ("é" is c3 a9): Windows-1252 text
# holds such pairs almost never ("Ã©"), so bytes that have them are UTF-8 written.
UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
