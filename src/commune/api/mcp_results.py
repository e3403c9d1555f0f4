"""What the MCP tools return: each result's schema (the tool's ``outputSchema``), and the
same result as text a person or a model reads.

A tool's result is given twice, as MCP asks of structured output: ``structuredContent``, an
object checked against the schema, for a host that hands its model or its application
objects; and a text content for a host that shows only text. The text was the JSON of the
object, so a host got a string holding JSON, encoded twice. Now it is written to be read,
and it carries every id and offset an agent needs for its next call (a document's number, the
offset of a document's next part): many hosts hand their model only the text.

The schemas name the fields an agent acts on and let the rest through (``extra="allow"``):
the answer and the hits carry more (ranks, scores, provenance), which the API documents and
which a schema listing each would bind to every change of theirs.
"""

from __future__ import annotations

import json
from datetime import date, time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_jsonable_python

from commune.text.energy import summary
from commune.text.numbers import plural
from commune.text.say import say


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Passage(_Open):
    document_id: int = Field(description="The document's id, for get_document.")
    title: str | None
    text: str = Field(description="The passage.")
    collection: str
    licence: str | None = Field(description="The document's licence (SPDX), to credit it.")
    source: str | None = Field(description="Where the document comes from.")


class Withheld(_Open):
    document_id: int
    title: str | None
    reason: str = Field(description="Why its passages are kept out of what agents are given.")


class SearchResult(_Open):
    hits: list[Passage]
    withheld: list[Withheld] = Field(
        description="Documents whose passages the charter or their licence keeps from agents."
    )
    refused: str | None = Field(None, description="The charter's reason, when it refused.")


class Source(_Open):
    n: int = Field(description="The number the answer's [n] citations refer to.")
    document_id: int
    title: str | None
    licence: str | None
    attribution: str | None = Field(None, description="The credit line the licence asks for.")


class Decision(_Open):
    step: str
    outcome: str
    reason: str


class Energy(_Open):
    wh: float
    summary: str


class AnswerResult(_Open):
    question: str
    language: str
    text: str = Field(description="The answer, its sentences cited as [n].")
    found: bool
    mode: str
    sources: list[Source]
    decisions: list[Decision] = Field(description="The charter's five steps, each with why.")
    energy: Energy
    notice: str | None = None


class DocumentPart(_Open):
    id: int
    title: str | None
    collection: str
    licence: str | None
    source_uri: str | None
    text: str = Field(description="This part of the document's text.")
    text_chars: int = Field(description="The whole text's length, in characters.")
    next_offset: int | None = Field(
        description="The offset to ask for the next part; null at the end."
    )


class Collection(_Open):
    name: str
    visibility: str
    documents: int


class Collections(BaseModel):
    # An object, not a list: MCP wants a tool's structured result to be one.
    collections: list[Collection]


def plain(value: Any) -> Any:
    """``value`` as JSON holds it (a date as its text), as ``structuredContent`` carries it."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=_text))


def _text(value: Any) -> str:
    # A date in ISO 8601, written as the HTTP API's responses write the same document's
    # (pydantic's encoder: "2026-12-07T03:57:55Z"): str() wrote "2026-12-07 03:57:55", which
    # an agent comparing the two, or a parser expecting ISO 8601's T, read as another value.
    # Anything else (a Decimal) as its text.
    if isinstance(value, date | time):  # a datetime is a date
        return str(to_jsonable_python(value))
    return str(value)


def search_text(found: dict[str, Any], language: str) -> str:
    if found.get("refused"):
        return str(found["refused"])
    lines = [
        say(language, "Aucun passage trouvé.", "No passage found.")
        if not found["hits"]
        else say(
            language,
            plural(language, len(found["hits"]), "{n} passage", "{n} passages") + "\u00a0:",
            plural(language, len(found["hits"]), "{n} passage", "{n} passages") + ":",
        )
    ]
    for n, hit in enumerate(found["hits"], 1):
        lines += [
            "",
            f"[{n}] {hit['title']} — {hit['collection']}, {_licence(hit['licence'], language)}, "
            f"document {hit['document_id']}",
            hit["text"],
        ]
    for w in found["withheld"]:
        why = f"{w['title']} (document {w['document_id']}) — {w['reason']}"
        lines += ["", say(language, f"Écarté\u00a0: {why}", f"Withheld: {why}")]
    return "\n".join(lines)


def answer_text(answer: dict[str, Any], language: str) -> str:
    lines = [answer["text"]]
    if answer.get("notice"):
        lines += ["", answer["notice"]]
    if answer.get("language_note"):  # quoted in the sources' language
        lines += ["", answer["language_note"]]
    if answer.get("licence_notes"):  # what the licences ask of whoever reuses the answer
        lines += ["", *answer["licence_notes"]]
    if answer["sources"]:
        lines += ["", say(language, "Sources\u00a0:", "Sources:")]
        for s in answer["sources"]:
            credit = s.get("attribution") or f"{s['title']}, {_licence(s['licence'], language)}"
            if s.get("origin"):
                # A peer cooperative's passage: its id here is a negative stand-in, which
                # get_document refuses (it gives this home's documents); the peer is named.
                via = f"via {s['origin']['peer']}"
                lines.append(f"[{s['n']}] {credit}" + ("" if via in credit else f" ({via})"))
            else:
                lines.append(f"[{s['n']}] {credit} (document {s['document_id']})")
    # The summary again in the agent's language, as the line's label: the object's is in the
    # answer's (api/answers.py), and an English agent asking in French read "Energy: 1,66
    # mWh, … estimée (temps CPU x 12 W par cœur, …)".
    energy = summary(answer["energy"], language) or answer["energy"]["summary"]
    lines += ["", say(language, "Énergie\u00a0: ", "Energy: ") + energy]
    return "\n".join(lines)


def document_text(part: dict[str, Any], offset: int, language: str, resource: bool = False) -> str:
    """A part of a document: its heading, its text, and, when more follows, where: the
    get_document call for it, and for a resource (``resource``) the next part's URI first."""
    head = (
        f"{part['title']} (document {part['id']}, {part['collection']}, "
        f"{_licence(part['licence'], language)}) — {part['source_uri']}"
    )
    lines = [head, "", part["text"]]
    after = part["next_offset"]
    if not part["text"] and part["text_chars"]:
        # From past the end: the heading alone read as an empty document.
        n = part["text_chars"]
        lines += [
            "",
            say(
                language,
                "[le texte compte "
                + plural(language, n, "{n} caractère, avant", "{n} caractères, tous avant")
                + " cet offset\u00a0: lisez-le depuis l'offset 0]",
                "[the text has "
                + plural(language, n, "{n} character, before", "{n} characters, all before")
                + " this offset: read it from offset 0]",
            ),
        ]
    if after is not None:
        call = f"get_document, document_id={part['id']}, offset={after}"
        uri = f"commune://documents/{part['id']}?offset={after}"
        lines += [
            "",
            say(
                language,
                f"[caractères {offset} à {after} sur {part['text_chars']}\u00a0: la suite "
                + (f"dans {uri}, ou avec {call}]" if resource else f"avec {call}]"),
                f"[characters {offset} to {after} of {part['text_chars']}: the rest "
                + (f"in {uri}, or with {call}]" if resource else f"with {call}]"),
            ),
        ]
    return "\n".join(lines)


def collections_text(rows: list[dict[str, Any]], language: str) -> str:
    if not rows:
        return say(language, "Aucune collection lisible.", "No collection you may read.")
    # Each count with its plural and, in French, the visibility in French: « mairie (shared) :
    # 1 document(s) » read as English and as a form to fill in.
    return "\n".join(
        say(
            language,
            f"{r['name']} ({_VISIBILITY_FR.get(r['visibility'], r['visibility'])})\u00a0: "
            + plural(language, r["documents"], "{n} document", "{n} documents"),
            f"{r['name']} ({r['visibility']}): "
            + plural(language, r["documents"], "{n} document", "{n} documents"),
        )
        for r in rows
    )


# The pages' words for a collection's visibility (web/locale: « privée », « partagée »).
_VISIBILITY_FR = {"private": "privée", "shared": "partagée", "public": "publique"}


def _licence(licence: str | None, language: str) -> str:
    return licence or say(language, "licence inconnue", "licence unknown")
