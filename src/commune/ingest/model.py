"""What a reader produces: a title and blocks of text, each under its headings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


def listing(text: str) -> str:
    """A listing's text as a block holds it: its lines without trailing spaces or blank
    lines around them, and a blank line inside kept as one space, so that the listing
    stays one block where a passage is split into blocks (at its blank lines)."""
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(line or " " for line in lines)


def under(header: str | None, text: str) -> str:
    """A table cell's ``text`` with its column's ``header``, "Prix du repas : 1,50 €", as every
    reader writes a row of a table with a header; the text alone without one, or under a
    header of the same words."""
    return f"{header} : {text}" if header and header != text else text


# A list item's marker, as readers write one before its text ("- ", "3. ") and a text may
# hold one written by hand ("1) Remplir", "• Photo"): a reader adds none before it, since two
# would read as one marker and a sentence starting "1.".
MARKER = r"(?:[-–•*]|\d{1,3}[.)])"  # alone, for patterns that allow one (answering/instructions)
MARKED = re.compile(rf"^{MARKER}\s+(?=\S)")


@dataclass(frozen=True)
class Block:
    # Prose is one line; a listing (code, a command, a file) keeps its lines (see listing()):
    # the chunker, the answers' candidates and the document page tell them apart so, and a
    # command alone after a shell prompt by its text (answering/answer.is_listing).
    text: str
    headings: tuple[str, ...] = ()
    anchor: str | None = None
    page: int | None = None


@dataclass
class Parsed:
    title: str
    media_type: str
    blocks: list[Block] = field(default_factory=list)
    tdm_reserved: bool = False  # the document itself declares a TDM reservation (TDMRep)
    # What the document says of itself, where its format says it (a DILA fiche does):
    source: str | None = None  # its canonical http(s) address
    date: str | None = None  # when it was last modified, as an ISO 8601 date
    licence: str | None = None  # the SPDX licence it is published under
    # What of the file could not be read, said to the person adding it (a PDF's scanned
    # pages): one line, "NAME: what (what to do)".
    missing: str | None = None
