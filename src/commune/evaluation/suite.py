"""Evaluation suites: one JSON object per line, validated with the line that is wrong.

Each line has ``question``, ``language`` ("fr" or "en") and ``collection``, and any of:
``documents`` (file names of the documents that answer), ``sections`` (heading text that
narrows a document to the part that answers), ``facts`` (short strings a correct answer
must contain: each item a string, or a list of acceptable alternatives), or
``"unanswerable": true``. Optional: ``id``, ``split`` ("dev" or "test"), ``corpus`` (the
package and version the question was written against).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from commune.errors import CommuneError

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

    @property
    def judged_retrieval(self) -> bool:
        return bool(self.documents)


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


class SuiteError(CommuneError):
    """A suite file is malformed; the message names the file and line."""


def _strings(value: object, where: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SuiteError(f"{where}: {key!r} must be a string or a list of non-empty strings")
    return tuple(value)


def parse_case(raw: object, where: str, number: int) -> Case:
    if not isinstance(raw, dict):
        raise SuiteError(f"{where}: each line must be a JSON object, got {type(raw).__name__}")
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise SuiteError(
            f"{where}: unknown key {unknown[0]!r}", f"known keys: {', '.join(sorted(_KNOWN))}"
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
    if not isinstance(facts_raw, list):
        raise SuiteError(f"{where}: 'facts' must be a list")
    facts = tuple(_strings(f, where, "facts") for f in facts_raw)
    unanswerable = raw.get("unanswerable", False)
    if not isinstance(unanswerable, bool):
        raise SuiteError(f"{where}: 'unanswerable' must be true or false")
    if unanswerable and (facts or raw.get("documents")):
        raise SuiteError(f"{where}: an unanswerable question cannot have facts or documents")
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
    )


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
    seen: set[str] = set()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SuiteError(f"{p} is not UTF-8 text", "save the suite as UTF-8 JSONL") from None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{p.name} line {number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SuiteError(f"{where}: invalid JSON ({exc.msg})") from None
        case = parse_case(raw, where, number)
        if case.id in seen:
            raise SuiteError(f"{where}: duplicate id {case.id!r}")
        seen.add(case.id)
        suite.cases.append(case)
    if not suite.cases:
        raise SuiteError(f"{p} holds no questions", "write one JSON object per line")
    return suite
