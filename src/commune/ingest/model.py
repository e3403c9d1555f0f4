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
    # What the document says of itself, where its format says it (a DILA fiche does):
    source: str | None = None  # its canonical http(s) address
    date: str | None = None  # when it was last modified, as an ISO 8601 date
    licence: str | None = None  # the SPDX licence it is published under
