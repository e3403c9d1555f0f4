"""Evaluation suites: one JSON object per line, validated with the line that is wrong.

Each line has ``question``, ``language`` ("fr" or "en") and ``collection``, and any of:
``documents`` (file names of the documents that answer), ``sections`` (heading text that
narrows a document to the part that answers), ``facts`` (short strings a correct answer
must contain: each item a string, or a list of acceptable alternatives), or
``"unanswerable": true``. Optional: ``id``, ``split`` ("dev" or "test"), ``corpus`` (the
package and version the question was written against).

The split is assigned by document group (:func:`assign_splits`): a question, every question
about one of its documents, and its translations fall in the same split, so that nothing
tuned on dev has seen a test question's document or its twin in another language. A
``split`` written in the file must agree with its group; the shipped suites write none.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from commune.errors import CommuneError, NotFound

LANGUAGES = ("fr", "en")
SPLITS = ("dev", "test")
_KNOWN = {
    "id",
    "question",
    "language",
    "collection",
    "documents",
    "sections",
    "facts",
    "unanswerable",
    "split",
    "corpus",
    "note",
}


@dataclass(frozen=True)
class Case:
    id: str
    question: str
    language: str
    collection: str
    documents: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    facts: tuple[tuple[str, ...], ...] = ()  # each: acceptable alternatives
    unanswerable: bool = False
    split: str | None = None
    corpus: str | None = None
    # Its line in the suite file (0: made in code), for the errors that name it.
    line: int = field(default=0, compare=False)

    @property
    def judged_retrieval(self) -> bool:
        return bool(self.documents)

    @property
    def named(self) -> str:
        """ "question 'q4' (line 4)", as the errors about it begin."""
        return f"question {self.id!r}" + (f" (line {self.line})" if self.line else "")


@dataclass
class Suite:
    name: str
    path: Path
    sha256: str
    cases: list[Case] = field(default_factory=list)

    def select(self, split: str | None = None, collection: str | None = None) -> list[Case]:
        return [
            c
            for c in self.cases
            if (split is None or c.split == split)
            and (collection is None or c.collection == collection)
        ]

    def none_selected(self, split: str | None, collection: str | None) -> NotFound:
        """The error for a selection with no question (`commune eval`, `commune refusals`)."""
        asked = sorted({c.collection for c in self.cases})
        hint = "check --split and --collection"
        if collection and collection not in asked:  # a misspelt name: say the right ones
            hint = f"its questions ask about {', '.join(asked)}"
        return NotFound(
            f"no question of {self.name} matches --split {split or 'all'}"
            + (f" and --collection {collection}" if collection else ""),
            hint,
        )


class SuiteError(CommuneError):
    """A suite file is malformed; the message names the file and line."""


def _strings(value: object, where: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    # An empty list too: a fact with no alternative can never be found, and would score the
    # question wrong whatever the answer (and the charter reads the scores).
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise SuiteError(
            f"{where}: {key!r} must be a string or a non-empty list of non-empty strings"
        )
    return tuple(value)


def parse_case(raw: object, where: str, number: int) -> Case:
    if not isinstance(raw, dict):
        raise SuiteError(f"{where}: each line must be a JSON object, got {type(raw).__name__}")
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise SuiteError(
            f"{where}: unknown key {unknown[0]!r}",
            # A spreadsheet's own columns (an author, a date): "note" holds any remark.
            f'remove it, or write its text in "note"; the keys are {", ".join(sorted(_KNOWN))}',
        )
    for key in ("question", "language", "collection"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise SuiteError(
                f"{where}: {key!r} is missing or empty",
                "each line needs question, language and collection",
            )
    if raw["language"] not in LANGUAGES:
        raise SuiteError(f"{where}: language must be 'fr' or 'en', got {raw['language']!r}")
    split = raw.get("split")
    if split is not None and split not in SPLITS:
        raise SuiteError(f"{where}: split must be 'dev' or 'test', got {split!r}")
    facts_raw = raw.get("facts", [])
    if isinstance(facts_raw, str):
        # A spreadsheet's cell: its text may hold several facts ("mardi, jaune"), which read
        # as one would never be found, so the writer says which.
        shown = json.dumps(facts_raw, ensure_ascii=False)
        raise SuiteError(
            f"{where}: 'facts' is the text {shown}, where a list is needed",
            f'write "facts": [{shown}], one string per fact',
        )
    if not isinstance(facts_raw, list):
        raise SuiteError(f"{where}: 'facts' must be a list")
    facts = tuple(_strings(f, where, "facts") for f in facts_raw)
    unanswerable = raw.get("unanswerable", False)
    if not isinstance(unanswerable, bool):
        raise SuiteError(f"{where}: 'unanswerable' must be true or false")
    if unanswerable and (facts or raw.get("documents")):
        raise SuiteError(f"{where}: an unanswerable question cannot have facts or documents")
    # Sections narrow documents: without them the question was never judged on retrieval,
    # and no figure said so.
    if "sections" in raw and not raw.get("documents"):
        raise SuiteError(
            f"{where}: 'sections' narrow 'documents', which this line does not name",
            "add the documents the sections are in",
        )
    return Case(
        id=str(raw.get("id") or f"q{number}"),
        question=raw["question"].strip(),
        language=raw["language"],
        collection=raw["collection"],
        documents=_strings(raw["documents"], where, "documents") if "documents" in raw else (),
        sections=_strings(raw["sections"], where, "sections") if "sections" in raw else (),
        facts=facts,
        unanswerable=unanswerable,
        split=split,
        corpus=raw.get("corpus"),
        line=number,
    )


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return False
    return True


def _json_mistake(line: str, where: str, suffix: str) -> SuiteError | None:
    """What a spreadsheet or a hand-edited file did to a line that is not JSON, when it is
    one of the usual slips: the parser's own word ("Extra data", "Expecting value") said
    nothing a clerk could act on."""
    text = line.strip()
    if text.endswith(",") and _parses(text[:-1]):
        return SuiteError(
            f"{where}: a comma after the object",
            "remove it: a line holds one JSON object and nothing after it",
        )
    if re.search(r",\s*[}\]]", text) and _parses(re.sub(r",(\s*[}\]])", r"\1", text)):
        return SuiteError(
            f"{where}: a comma after the last value of an object or a list",
            "remove the comma before the closing brace or bracket",
        )
    if text.startswith('"{'):
        return SuiteError(
            f"{where}: the object is in quotes, as a spreadsheet exports a cell",
            "save the column as plain text, without quotes around each line",
        )
    if text.startswith("["):
        return SuiteError(
            f"{where}: a JSON list, where each line should be one question",
            "write each question as one JSON object on a line of its own, as "
            "docs/evaluation.md shows",
        )
    if suffix in (".csv", ".tsv") or (not text.startswith("{") and re.search(r"[;,\t]", text)):
        return SuiteError(
            f"{where}: a spreadsheet's row (CSV), not a JSON object",
            "write each question as one JSON object on a line of its own, as "
            "docs/evaluation.md shows",
        )
    return None


def load_suite(path: str | Path) -> Suite:
    """Read and validate a suite; a bad line raises :class:`SuiteError` naming it."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise SuiteError(
            f"cannot read the suite {p}: {exc.strerror}", "give the path of a JSONL file"
        ) from None
    suite = Suite(p.stem, p, hashlib.sha256(data).hexdigest())
    seen: dict[str, int] = {}  # id -> its line
    try:
        # "utf-8-sig": Windows editors (Notepad) begin a UTF-8 file with a byte order mark,
        # which the JSON parser refuses; the hash above stays the bytes'.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SuiteError(f"{p} is not UTF-8 text", "save the suite as UTF-8 JSONL") from None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{p.name} line {number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _json_mistake(line, where, p.suffix.lower()) or SuiteError(
                f"{where}: invalid JSON ({exc.msg})"
            ) from None
        except RecursionError:  # "[[[[…": the parser's stack, not a question
            raise SuiteError(f"{where}: JSON nested too deeply to be a question") from None
        try:  # "\ud800" alone: JSON's escapes write it, no UTF-8 carries it to the database
            json.dumps(raw, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            code = f"\\u{ord(exc.object[exc.start]):04x}"
            raise SuiteError(
                f"{where}: a lone surrogate ({code}) is not text",
                "write the character itself, or both halves of its surrogate pair",
            ) from None
        case = parse_case(raw, where, number)
        if case.id in seen:
            raise SuiteError(
                f"{where}: duplicate id {case.id!r}, first on line {seen[case.id]}",
                "give each question an id of its own, or leave the id out",
            )
        seen[case.id] = number
        suite.cases.append(case)
    if not suite.cases:
        raise SuiteError(f"{p} holds no questions", "write one JSON object per line")
    suite.cases = assign_splits(suite.cases, p.name)
    return suite


# -- the split by document group --------------------------------------------------------------
# A twin's id is its stem and its language: "sp-0042-fr" and "sp-0042-en" ask the same thing.
_TWIN = re.compile(r"^(?P<stem>.+)-(?:fr|en)$")


def id_stem(case_id: str) -> str:
    """The id without its language parts: "unanswerable-en-002" -> "unanswerable-002"."""
    return "-".join(part for part in case_id.split("-") if part not in LANGUAGES)


def _question_key(text: str) -> str:
    return " ".join(text.casefold().split())


def document_groups(cases: Sequence[Case]) -> dict[str, str]:
    """Each case's group, named by its smallest member (a document, or an id stem).

    Linked into one group (union-find): questions that share a document, by file name, so
    that the French and English editions of a manual's page are one document; twins whose
    ids differ only by a final language ("sp-0042-fr", "sp-0042-en"); the same question asked
    of two collections; and unanswerable questions with the same id stem
    ("unanswerable-fr-002", "unanswerable-en-002"), which are translations of each other.
    Translations in the Debian suite share their documents and facts, so the documents link
    them. The name changes only when a new question merges two groups.
    """
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        root = parent.setdefault(node, node)
        while root != parent[root]:
            parent[root] = parent[parent[root]]
            root = parent[root]
        return root

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)  # the smallest node names the group

    for c in cases:
        # Prefixes order the names: a document names its group before an id stem, a stem
        # before a question's text; a question's id never does (every group has a text).
        node = f"z:{c.id}"
        find(node)
        for doc in c.documents:
            union(f"d:{doc}", node)
        twin = _TWIN.match(c.id)
        if c.unanswerable:
            union(f"s:{id_stem(c.id)}", node)
        elif twin:
            union(f"s:{twin['stem']}", node)
        union(f"t:{_question_key(c.question)}", node)
    return {c.id: find(f"z:{c.id}") for c in cases}


def group_split(group: str) -> str:
    """The split of a group: a stable hash of its name, about half each."""
    digest = hashlib.sha256(group.encode("utf-8")).digest()
    return SPLITS[digest[0] & 1]


def assign_splits(cases: Sequence[Case], where: str = "suite") -> list[Case]:
    """The cases with their group's split. A ``split`` written in the file wins for its whole
    group, and two different ones in a group are refused: the suite would leak."""
    groups = document_groups(cases)
    written: dict[str, Case] = {}
    for c in cases:
        if c.split is None:
            continue
        first = written.setdefault(groups[c.id], c)
        if first.split != c.split:
            raise SuiteError(
                f"{where}: {first.id!r} ({first.split}) and {c.id!r} ({c.split}) are about the "
                f"same document or are translations ({groups[c.id][2:]}), in different splits",
                'remove the "split" fields: the loader assigns splits by document group',
            )
    return [
        c
        if c.split is not None
        else replace(
            c,
            split=written[groups[c.id]].split
            if groups[c.id] in written
            else group_split(groups[c.id]),
        )
        for c in cases
    ]
