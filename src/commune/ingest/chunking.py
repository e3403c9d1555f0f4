"""Structure-aware chunking: sections stay whole where they fit, paragraphs are never cut
mid-sentence, and every chunk keeps its heading path, anchor and page.

A chunk never spans two sections (a citation must point at one place), and is
flushed near ``target_words``; a paragraph longer than ``max_words`` is split
at sentence ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from commune.ingest.model import Block, listing

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"«(\[]?[A-ZÀ-ÖØ-Ý0-9])")
# Chunks are counted in words, so one "word" of five megabytes (a data blob, a file of one
# token) made a passage the embedder ran out of memory on. Real words stay far below: the
# longest in the evaluation's 7,476 passages is a 1,289-character address, kept whole.
MAX_WORD_CHARS = 2000
_LONG_WORD = re.compile(rf"\S{{{MAX_WORD_CHARS + 1},}}")


def _cut_long_words(text: str) -> str:
    """``text`` with each run of more than MAX_WORD_CHARS non-space characters cut into words
    of that length, so that counting words bounds a passage's size."""
    return _LONG_WORD.sub(
        lambda m: " ".join(
            m[0][i : i + MAX_WORD_CHARS] for i in range(0, len(m[0]), MAX_WORD_CHARS)
        ),
        text,
    )


@dataclass(frozen=True)
class Chunk:
    text: str
    headings: tuple[str, ...]
    anchor: str | None
    page: int | None

    @property
    def heading_path(self) -> str:
        return " > ".join(self.headings)


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _pieces(block: Block, max_words: int) -> list[str]:
    if len(block.text.split()) <= max_words:
        return [block.text]
    if "\n" in block.text:
        return _listing_pieces(block.text, max_words)
    return _pack(split_sentences(block.text), max_words, " ")


def _listing_pieces(text: str, max_words: int) -> list[str]:
    """A listing (a block with lines of its own: code, a command, a file) cut between its
    lines, which it keeps: a command cut in two, or run into one line, is wrong to type."""
    return [listing(p) for p in _pack(text.split("\n"), max_words, "\n") if p.strip()]


def _pack(units: list[str], max_words: int, sep: str) -> list[str]:
    """Consecutive units (sentences, or a listing's lines) joined by ``sep`` into pieces of at
    most ``max_words``; one unit longer than that alone (a listing run into one sentence, a
    line of data) is cut by words."""
    pieces: list[str] = []
    current: list[str] = []
    count = 0
    for unit in units:
        n = len(unit.split())
        if current and count + n > max_words:
            pieces.append(sep.join(current))
            current, count = [], 0
        if n > max_words:
            words = unit.split()
            pieces.extend(" ".join(words[i : i + max_words]) for i in range(0, n, max_words))
            continue
        current.append(unit)
        count += n
    if current:
        pieces.append(sep.join(current))
    return pieces


def chunk_blocks(blocks: list[Block], target_words: int = 160, max_words: int = 260) -> list[Chunk]:
    chunks: list[Chunk] = []
    parts: list[str] = []
    words = 0
    key: tuple[tuple[str, ...], int | None, str | None] | None = None
    anchor: str | None = None

    def flush() -> None:
        nonlocal parts, words
        if parts and key is not None:
            chunks.append(Chunk("\n\n".join(parts), key[0], anchor, key[1]))
        parts, words = [], 0

    for block in blocks:
        # A new section or a new page starts a new chunk; so does a section of the same name
        # (its own anchor: a citation must point at one place).
        block_key = (block.headings, block.page, block.anchor)
        if block_key != key:
            flush()
            key, anchor = block_key, block.anchor
        if len(block.text) > MAX_WORD_CHARS:
            block = replace(block, text=_cut_long_words(block.text))
        for piece in _pieces(block, max_words):
            n = len(piece.split())
            if parts and words + n > max_words:
                flush()
            parts.append(piece)
            words += n
            if words >= target_words:
                flush()
    flush()
    return chunks
