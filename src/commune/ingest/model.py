"""What a reader produces: a title and blocks of text, each under its headings."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Block:
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
