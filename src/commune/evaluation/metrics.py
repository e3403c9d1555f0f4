"""What is judged, question by question, and how results add up.

- Retrieval: ranks of the expected documents (or sections) among the hits, scored by
  ranx (MRR@10, nDCG@10, Recall@k). Hits are judged at the level the suite names:
  a document, or a section of one; repeated chunks of the same unit count once.
- Answers: a correct answer contains every fact (one alternative of each) on word
  boundaries ("ss" is not in "ssh"), or, for an unanswerable question, is a refusal.
- Citations: each cited sentence must be supported by the passage it cites: most of its
  content words (after Commune's own analysis) occur in that passage. A lexical proxy for
  entailment: it cannot be fooled by citing an unrelated passage, and it runs anywhere.
- Refusals: precision and recall of "nothing relevant" against the unanswerable questions.
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from commune.errors import CommuneError
from commune.evaluation.suite import Case

K_VALUES = (1, 5, 10)

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "«": '"', "»": '"', "\u00a0": " "})


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    return " ".join(text.split())


@lru_cache(maxsize=4096)
def fact_pattern(fact: str) -> re.Pattern[str]:
    """A fact, normalised, found only as whole words: an edge that is a word character
    must not touch another word character ("dd" is not in "additional", "5 jours" not in
    "15 jours"); an edge that is punctuation or a symbol needs no boundary
    ("/etc/apt/sources.list", "€", "cerfa n°12345" match where they stand).

    A number's edge must not touch the rest of a larger number either: "125 €" is not in
    "1 125 €" (a thousands group), "5 ans" not in "2,5 ans" nor "1.5 ans", "1 000" not in
    "1 000 000"."""
    text = normalise(fact)
    left = r"(?<!\w)" if re.match(r"\w", text[:1]) else ""
    right = r"(?!\w)" if re.match(r"\w", text[-1:]) else ""
    if text[:1].isdigit():
        left += r"(?<!\d[.,])(?<!\d )"
    if text[-1:].isdigit():
        right += r"(?![.,]\d)(?! \d{3}(?!\d))"
    return re.compile(left + re.escape(text) + right)


def contains_fact(text: str, fact: str) -> bool:
    """``fact`` is in ``text`` on word boundaries (case, spacing, quotes and Unicode
    compatibility forms ignored)."""
    return fact_pattern(fact).search(normalise(text)) is not None


def contains_facts(answer: str, facts: Sequence[Sequence[str]]) -> bool:
    """Every fact is present, as one of its alternatives, on word boundaries."""
    text = normalise(answer)
    return all(
        any(fact_pattern(alt).search(text) for alt in alternatives) for alternatives in facts
    )


def document_name(source: str) -> str:
    """The name a suite gives the document at ``source``: its last path part."""
    return source.rstrip("/").rsplit("/", 1)[-1]


def names_document(doc: str, source: str) -> bool:
    """``doc`` (a suite's file name) is the document at ``source``: the same last part, or the
    file name without its extension when the document's own address replaced the file's
    (a service-public.fr fiche "F961.json" is at ".../vosdroits/F961")."""
    name = document_name(source)
    return name == doc or ("." in doc and name == doc.rsplit(".", 1)[0])


def unit_of(case: Case, source: str, section: str) -> str | None:
    """The expected unit a hit belongs to ("d0", "d0s1"...), or None if it is not one."""
    for di, doc in enumerate(case.documents):
        if not names_document(doc, source):
            continue
        if not case.sections:
            return f"d{di}"
        for si, sec in enumerate(case.sections):
            if normalise(sec) in normalise(section):
                return f"d{di}s{si}"
    return None


def expected_units(case: Case) -> list[str]:
    if not case.sections:
        return [f"d{i}" for i in range(len(case.documents))]
    return [f"d{i}s{j}" for i in range(len(case.documents)) for j in range(len(case.sections))]


def ranked_units(case: Case, hits: Iterable[tuple[str, str]]) -> list[str]:
    """Hits (source, section) in rank order -> judged units, each unit once."""
    out: list[str] = []
    seen: set[str] = set()
    for rank, (source, section) in enumerate(hits, 1):
        unit = unit_of(case, source, section)
        # Units not judged relevant are keyed by what a reader would see as one place.
        key = unit or f"x:{source}#{section if case.sections else ''}"
        if key in seen:
            continue
        seen.add(key)
        out.append(unit or f"n{rank}")
    return out


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


# Whether this module imported ranx with numba's JIT off (None: not imported by it).
_RANX_INTERPRETED: bool | None = None


@contextmanager
def _interpreted_ranx() -> Iterator[None]:
    """Run ranx's metrics as plain Python, not compiled by numba. Compiling them takes more
    than a minute of CPU on a fresh install (measured: 78 s, against 9 s interpreted, for
    the evaluation tests), while a suite's few hundred questions score in milliseconds
    either way. numba reads its switch when ranx's functions are decorated (at import) and
    when its typed containers are made (in Qrels and Run), so the switch is on across both,
    and put back after: other numba code in the process keeps its compiler. A process that
    imported ranx before, compiled, keeps it so."""
    global _RANX_INTERPRETED
    if _RANX_INTERPRETED is None:
        _RANX_INTERPRETED = "ranx" not in sys.modules
    if not _RANX_INTERPRETED:
        yield
        return
    import numba

    before = numba.config.DISABLE_JIT  # set at import by numba
    numba.config.DISABLE_JIT = True
    try:
        yield
    finally:
        numba.config.DISABLE_JIT = before


def retrieval_scores(
    runs: dict[str, list[str]], qrels: dict[str, list[str]], ks: Sequence[int] = K_VALUES
) -> dict[str, float]:
    """Mean MRR@10, nDCG@10 and Recall@k by ranx, over the judged questions."""
    judged = [q for q in qrels if qrels[q]]
    if not judged:
        return {}
    import warnings

    with _interpreted_ranx():
        try:
            from ranx import Qrels, Run, evaluate
        except ImportError:
            raise CommuneError(
                "the evaluation needs ranx, which is not installed",
                "pip install 'commune-coop[eval]'",
            ) from None
        q = Qrels({qid: {u: 1 for u in qrels[qid]} for qid in judged})
        # ranx wants a score per item: rank order as decreasing scores. A question whose
        # search found nothing gets an empty run, which scores zero.
        r = Run(
            {
                qid: {u: float(len(runs.get(qid, [])) - i) for i, u in enumerate(runs.get(qid, []))}
                or {"none": 0.0}
                for qid in judged
            }
        )
        metrics = ["mrr@10", "ndcg@10"] + [f"recall@{k}" for k in ks]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numba's type-safety chatter inside ranx
            scores = evaluate(q, r, metrics, make_comparable=True)
    return {m: round(float(v), 4) for m, v in scores.items()}


@dataclass
class Outcome:
    """One question asked of one system (a mode and a model)."""

    case: Case
    slice: str
    answer: str
    refused: bool
    correct: bool
    facts_found: bool | None  # None for unanswerable questions
    citations: int
    citations_supported: int
    seconds: float
    wh: float
    mode: str
    model: str | None
    notice: str | None = None
    sources: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.case.id,
            "question": self.case.question,
            "slice": self.slice,
            "unanswerable": self.case.unanswerable,
            "answer": self.answer,
            "refused": self.refused,
            "correct": self.correct,
            "facts_found": self.facts_found,
            "citations": self.citations,
            "citations_supported": self.citations_supported,
            "seconds": round(self.seconds, 4),
            "wh": self.wh,
            "mode": self.mode,
            "model": self.model,
            "notice": self.notice,
            "sources": self.sources,
        }


def _ratio(num: float, den: float, digits: int = 4) -> float | None:
    return round(num / den, digits) if den else None


def answer_scores(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    answerable = [o for o in outcomes if not o.case.unanswerable]
    unanswerable = [o for o in outcomes if o.case.unanswerable]
    with_facts = [o for o in answerable if o.case.facts]
    refused = [o for o in outcomes if o.refused]
    correct = [o for o in outcomes if o.correct]
    seconds = [o.seconds for o in outcomes]
    wh = sum(o.wh for o in outcomes)
    cited = sum(o.citations for o in outcomes)
    return {
        "questions": len(outcomes),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "fact_containment": _ratio(sum(bool(o.facts_found) for o in with_facts), len(with_facts)),
        "correct": _ratio(len(correct), len(outcomes)),
        "citation_validity": _ratio(sum(o.citations_supported for o in outcomes), cited),
        "refusal_precision": _ratio(sum(o.case.unanswerable for o in refused), len(refused)),
        "refusal_recall": _ratio(sum(o.refused for o in unanswerable), len(unanswerable)),
        "answerable_refused": _ratio(sum(o.refused for o in answerable), len(answerable)),
        "latency_p50_ms": _ms(percentile(seconds, 0.5)),
        "latency_p95_ms": _ms(percentile(seconds, 0.95)),
        "wh_total": round(wh, 6),
        "wh_per_answer": _ratio(wh, len(outcomes), 7),
        # Everything spent, divided by what it bought: wrong answers cost energy too.
        "wh_per_correct_answer": _ratio(wh, len(correct), 7),
        # The charter's sobriety figure: the typical cost of one correct answer.
        "wh_median_correct": None
        if not correct
        else round(float(percentile([o.wh for o in correct], 0.5) or 0.0), 7),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)
