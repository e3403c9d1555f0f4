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
    dropped, or of UTF-16 without one (:func:`utf16_unmarked`); None for another file. A
    mark followed by what is no text in its encoding is a binary file's first bytes."""
    for mark, codec in BOMS:
        if data.startswith(mark):
            try:
                text = without_cut_end(data, codec)
            except UnicodeDecodeError:
                text = "\x00"
            if "\x00" in text[:8192]:
                raise IngestError(f"{path.name}: looks binary, not text", "check the file type")
            return text
    return utf16_unmarked(data)


# Control characters no text holds (tab, line and page breaks aside).
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def utf16_unmarked(data: bytes) -> str | None:
    """The text of UTF-16 saved without its mark (some exports and scripts write it so),
    or None: a zero byte beside each of Latin text's characters, on the same side each time.
    Refused as binary for those zeros, such a file was "looks binary, not text (check the
    file type)", which it is not. A binary with zeros so placed reads as control
    characters, and stays a binary."""
    start = data[: min(len(data), 8192) // 2 * 2]
    if len(start) < 4:
        return None
    for codec, zeros in (("utf-16-le", start[1::2]), ("utf-16-be", start[0::2])):
        if zeros.count(0) * 10 < len(zeros) * 9:
            continue  # Latin text in UTF-16: nine characters of ten at least have a zero byte
        try:
            text = without_cut_end(data, codec)
        except UnicodeDecodeError:
            return None
        return None if _NOT_TEXT.search(text[:4096]) else text
    return None


def without_cut_end(data: bytes, codec: str) -> str:
    """``data`` in ``codec``, without a last character cut short (an odd byte of UTF-16, half
    of a surrogate pair), as a UTF-8 file cut inside its last character is read
    (:func:`utf8_cut_short`): a download stopped at an odd byte had been refused as "looks
    binary, not text". What is no text before the end still raises UnicodeDecodeError."""
    text = codecs.getincrementaldecoder(codec)().decode(data, final=False)
    if not text:
        # Nothing before the cut (a mark, then half a surrogate pair): no text cut short but
        # a binary's first bytes, decoded whole so that it raises as it did.
        return data.decode(codec)
    return text


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


# What Windows-1252 French makes of UTF-8's two-byte shape: a capital "Ç", "È", "É", "Ê" or
# "Ë" (c7 to cb) right before a non-breaking space, "»", "’", "”", "…", "–" or "—".
_CHANCE_PAIR = re.compile(rb"[\xc7-\xcb][\xa0\xbb\x92\x94\x85\x96\x97]")


def windows_1252_by_chance(data: bytes) -> bool:
    """Whether ``data``, valid UTF-8, is Windows-1252 French whose every accent happens to
    take UTF-8's shape: "Le CAFÉ’ est ouvert" (c9 92) was read as "Le CAFɒ est ouvert", a
    letter of the phonetic alphabet that no search for "café" finds. Each such pair read as
    UTF-8 is a character of U+01C0 to U+02FF (phonetic symbols, rare Latin letters), which
    no French or English text holds; one real accent of UTF-8 ("é", c3 a9) anywhere, or a
    character of another shape, and the file is UTF-8.

    So is a file with a pair after anything but a capital letter: Windows-1252's "É" or
    "Ê" there ends a word in capitals ("CAFÉ’", "FERMÉ…"), where a phonetic symbol stands
    alone or after a small letter ("Le son ʒ et ɔ", "[ɔ]", "bɔ"): such text, in UTF-8,
    had been read as "Le son Ê’ et É”". Save "Ç’" opening a word (:func:`_elided_c`)."""
    found = False
    for m in UTF8_SEQUENCE.finditer(data):
        if not _CHANCE_PAIR.fullmatch(m.group()):
            return False
        # Any byte above 0x7f before it would have made the file invalid UTF-8 (or a
        # sequence of its own, checked above): only an ASCII capital is one.
        if not (m.start() and 0x41 <= data[m.start() - 1] <= 0x5A or _elided_c(data, m)):
            return False
        found = True
    return found


def _elided_c(data: bytes, m: re.Match[bytes]) -> bool:
    """Whether the pair ``m`` is Windows-1252's "Ç’" opening a word before its letter, as
    French writes "Ç’a été" at a sentence's start: the one pair French puts at a word's
    start, so not after a capital. "Ç’a pris du temps." had been read as "ǒa pris du
    temps"; UTF-8's "ǒ" (c7 92) opens a word only in pinyin, whose other tones are
    UTF-8's own characters."""
    before = data[m.start() - 1 : m.start()]
    after = data[m.end() : m.end() + 1]
    # bytes' isalpha is ASCII's letters only.
    return m.group() == b"\xc7\x92" and not before.isalpha() and after.isalpha()


def utf8_cut_short(data: bytes) -> int:
    """How many bytes of a character cut in two end ``data`` (a download stopped mid-way,
    a file cut to a size), when all before them is UTF-8 with its accents; else 0. Read as
    a whole, such a file was refused as "mixing UTF-8 with another encoding", or read as
    Windows-1252 ("DÃ©libÃ©ration"). Not when all before is ASCII, nor for a last byte that
    is a Windows-1252 letter ending words: "Le café" in Windows-1252 ends with "é" (e9),
    which is also how a UTF-8 character of three bytes starts."""
    for cut in (1, 2, 3):
        if len(data) <= cut:
            return 0
        first = data[-cut]
        if 0x80 <= first < 0xC0:
            continue  # a character's next byte: it starts further back
        need = 2 if first < 0xE0 else 3 if first < 0xF0 else 4
        if not 0xC2 <= first <= 0xF4 or cut >= need:
            return 0  # no character's first byte, or a whole one
        if cut == 1 and first >= 0xE0 and first != 0xE2:
            # "é", "à", "ù" of Windows-1252 (e9, e0, f9) end French words, and a file pasted
            # from two encodings ("Arrêté … café"), which stays refused as such. A lone e2 is
            # the first byte of "’", "–", "…", "€", and "â" ends no French word.
            return 0
        head = data[:-cut]
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            return 0
        return 0 if head.isascii() else cut
    return 0
