"""Ask a suite's questions of a deployment, through the library calls everyone uses."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Engine

from commune.answering.grounding import SUPPORT_THRESHOLD, support
from commune.answering.path import AskPath, AskRequest
from commune.answering.search import Searcher
from commune.charter.scores import Scoreboard
from commune.config import Settings
from commune.errors import InvalidRequest, NotFound
from commune.evaluation.metrics import (
    Outcome,
    answer_scores,
    contains_facts,
    expected_units,
    names_document,
    ranked_units,
    retrieval_scores,
)
from commune.evaluation.suite import Case, Suite

RETRIEVAL_K = 10
# Retrieval is judged for the hybrid and for each of its halves: fusion must earn its keep.
RETRIEVERS = ("hybrid", "lexical", "dense")

Progress = Callable[[str, int, int], None]


@dataclass
class System:
    """One way of answering: a mode, and the model for generated answers."""

    mode: str
    model: str | None = None

    @property
    def label(self) -> str:
        return self.mode if self.model is None else f"{self.mode}:{self.model}"


@dataclass
class RunResult:
    cases: list[Case]
    slices: dict[str, str]  # case id -> slice
    retrieval: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # system -> runs
    qrels: dict[str, list[str]] = field(default_factory=dict)
    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)  # system label -> ...
    # Part of the questions only (--limit, --sample): a quick look, not a score to decide by.
    partial: bool = False

    def groups(self) -> dict[str, list[Case]]:
        """Every case in "all", and in its slice and its question language."""
        out: dict[str, list[Case]] = {"all": list(self.cases)}
        for c in self.cases:
            out.setdefault(f"slice {self.slices[c.id]}", []).append(c)
            out.setdefault(f"language {c.language}", []).append(c)
        return out

    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for group, cases in self.groups().items():
            ids = {c.id for c in cases}
            entry: dict[str, Any] = {"questions": len(cases), "retrieval": {}, "answers": {}}
            qrels = {q: u for q, u in self.qrels.items() if q in ids}
            for system, runs in self.retrieval.items():
                scores = retrieval_scores(runs, qrels)
                if scores:
                    entry["retrieval"][system] = scores
            for label, outcomes in self.outcomes.items():
                entry["answers"][label] = answer_scores([o for o in outcomes if o.case.id in ids])
            out[group] = entry
        return out


def collection_languages(engine: Engine, cases: list[Case]) -> dict[str, str]:
    """The main language of each collection the ``cases`` ask about, which decides the slice
    of a question naming no document (case_slices)."""
    from sqlalchemy import func, select

    from commune.store.schema import collections, documents

    names = {c.collection for c in cases}

    with engine.connect() as conn:
        rows = conn.execute(
            select(collections.c.name, documents.c.language, func.count())
            .join(documents, documents.c.collection_id == collections.c.id)
            .where(collections.c.name.in_(sorted(names)))
            .group_by(collections.c.name, documents.c.language)
        ).all()
    best: dict[str, tuple[int, str]] = {}
    for name, lang, n in rows:
        if name not in best or n > best[name][0]:
            best[name] = (n, lang)
    for c in cases:
        if c.collection not in best:
            # The first question that asks, with its line: the suite's writer corrects a name
            # where it is written.
            raise NotFound(
                f"{c.named} asks about collection {c.collection!r}, which this home does not hold",
                "correct its name as commune collections lists it, or add its documents with "
                "commune add --collection",
            )
    return {name: lang for name, (_, lang) in best.items()}


def check_documents(engine: Engine, cases: list[Case]) -> None:
    """Stop, before any question is asked, at a document a question names that its collection
    does not hold: a misspelt file name would be judged a retrieval miss whatever was found,
    and the report would say so without a word."""
    from sqlalchemy import select

    from commune.store.schema import collections, documents

    named = {c.collection for c in cases if c.documents}
    if not named:
        return
    with engine.connect() as conn:
        rows = conn.execute(
            select(collections.c.name, documents.c.source_uri)
            .join(documents, documents.c.collection_id == collections.c.id)
            .where(collections.c.name.in_(sorted(named)))
        ).all()
    sources: dict[str, list[str]] = {}
    for name, source in rows:
        sources.setdefault(name, []).append(source)
    for c in cases:
        for doc in c.documents:
            if not any(names_document(doc, s) for s in sources.get(c.collection, ())):
                raise NotFound(
                    f"{c.named} names the document {doc!r}, which collection "
                    f"{c.collection!r} does not hold",
                    "write the last part of its source_uri, which commune documents --json "
                    "shows, or add the document",
                )


def check_questions(settings: Settings, cases: list[Case]) -> None:
    """Stop, before any question is asked, at one too long to be asked: it would stop the run
    halfway, after the questions before it had spent their energy, naming none."""
    limit = settings.limits.max_query_chars
    for c in cases:
        if len(c.question) > limit:
            raise InvalidRequest(
                f"{c.named} is {len(c.question)} characters long, over the limit of {limit}",
                "shorten it, or raise [limits] max_query_chars in commune.toml",
            )


def slice_of(question_language: str, collection_language: str) -> str:
    if question_language == collection_language:
        return question_language
    return f"{question_language}→{collection_language}"


def case_slices(engine: Engine, cases: list[Case], main: dict[str, str]) -> dict[str, str]:
    """Each case's slice: its question's language against its documents' (the ones it names),
    or its collection's ``main`` language when it names none. A French question on the
    French page of a collection mostly in English landed in "fr→en", a cross-language slice,
    though what it was to find was in its own language."""
    from sqlalchemy import select

    from commune.store.schema import collections, documents

    named = {c.collection for c in cases if c.documents}
    held: dict[str, list[tuple[str, str]]] = {}
    if named:
        with engine.connect() as conn:
            rows = conn.execute(
                select(collections.c.name, documents.c.source_uri, documents.c.language)
                .join(documents, documents.c.collection_id == collections.c.id)
                .where(collections.c.name.in_(sorted(named)))
            ).all()
        for name, source, lang in rows:
            held.setdefault(name, []).append((source, lang))
    out = {}
    for c in cases:
        found = Counter(
            lang
            for doc in c.documents
            for source, lang in held.get(c.collection, ())
            if lang and names_document(doc, source)
        )
        # A document held in both languages (one file name in two manuals) is found in the
        # question's own: the slice says what the search had to cross, if anything.
        if not found:
            lang = main[c.collection]
        elif c.language in found:
            lang = c.language
        else:
            lang = found.most_common(1)[0][0]
        out[c.id] = slice_of(c.language, lang)
    return out


@dataclass
class Deployment:
    """What a suite is asked of: the search and the request path every face uses, over the
    database at ``engine``."""

    engine: Engine
    searcher: Searcher
    path: AskPath
    scoreboard: Scoreboard


def run_suite(
    deployment: Deployment,
    suite: Suite,
    systems: list[System],
    split: str | None = None,
    collection: str | None = None,
    limit: int | None = None,
    sample: int | None = None,
    progress: Progress | None = None,
) -> RunResult:
    cases = selected = suite.select(split, collection)
    if sample is not None and sample < len(cases):
        # Evenly spaced, so that every part of the suite (and so every slice) is kept.
        cases = [cases[i * len(cases) // sample] for i in range(sample)]
    if limit is not None:
        cases = cases[:limit]
    if not cases:
        raise suite.none_selected(split, collection)
    languages = collection_languages(deployment.engine, cases)
    check_documents(deployment.engine, cases)
    check_questions(deployment.searcher.settings, cases)
    result = RunResult(cases, case_slices(deployment.engine, cases, languages))
    result.partial = len(cases) < len(selected)
    judged = [c for c in cases if c.judged_retrieval]
    result.qrels = {c.id: expected_units(c) for c in judged}
    base = deployment.searcher.settings.retrieval
    settings = {
        "hybrid": base,
        "lexical": replace(base, dense_weight=0.0, lexical_weight=1.0),
        "dense": replace(base, lexical_weight=0.0, dense_weight=1.0),
    }
    for name in RETRIEVERS:
        runs: dict[str, list[str]] = {}
        for i, case in enumerate(judged):
            hits = deployment.searcher.search(
                case.question, case.collection, k=RETRIEVAL_K, retrieval=settings[name]
            )
            # A half's zero-weight side only pads the list: what it did not find stays out.
            hits = [h for h in hits if h.score > 0]
            runs[case.id] = ranked_units(case, [(h.source, h.section) for h in hits])
            if progress:
                progress(f"retrieval {name}", i + 1, len(judged))
        result.retrieval[name] = runs
    for system in systems:
        outcomes = []
        for i, case in enumerate(cases):
            outcomes.append(ask_one(deployment, case, system, result.slices[case.id]))
            if progress:
                progress(f"answers {system.label}", i + 1, len(cases))
        result.outcomes[system.label] = outcomes
    return result


def ask_one(deployment: Deployment, case: Case, system: System, slice_: str) -> Outcome:
    from commune.store import repository as repo

    started = time.perf_counter()
    answer = deployment.path.ask(
        AskRequest(
            case.question,
            collection=case.collection,
            mode=system.mode,
            model=system.model,
            route="eval",
            # Its energy is real and recorded; its citations are nobody's reading.
            credit=False,
            # Every question is answered afresh: the cache would make a second run look cheaper.
            use_cache=False,
            # The evaluation judges this home: its figures, and the scores the charter decides
            # by, are not a federation's, and its questions are nobody's to send to the peers.
            peers=False,
            # Asked as its writer would: a few keywords are in the suite's language for them.
            asker_language=case.language,
        )
    )
    seconds = time.perf_counter() - started
    refused = not answer.found
    facts_found = None
    if not case.unanswerable and case.facts:
        facts_found = not refused and contains_facts(answer.text, case.facts)
    if case.unanswerable:
        correct = refused
    else:
        correct = bool(facts_found) if case.facts else not refused
    cited = supported = 0
    if answer.found and answer.sources:
        quoted = [s["chunk_id"] for s in answer.sentences if s.get("chunk_id")]
        with deployment.engine.connect() as conn:
            details = repo.chunk_details(conn, [s.chunk_id for s in answer.sources] + quoted)
        passages = {s.n: details[s.chunk_id]["text"] for s in answer.sources}
        for sentence in answer.sentences:
            numbers = sentence.get("sources") or [sentence.get("source")]
            cited += 1
            if sentence.get("chunk_id"):  # an extractive quote: judged against its own passage
                texts = [details[sentence["chunk_id"]]["text"]]
                numbers = [None]
            else:
                texts = [passages[n] for n in numbers if n in passages]
            if (
                len(texts) == len(numbers)
                and support(sentence["text"], texts, answer.language) >= SUPPORT_THRESHOLD
            ):
                supported += 1
    return Outcome(
        case=case,
        slice=slice_,
        answer=answer.text,
        refused=refused,
        correct=correct,
        facts_found=facts_found,
        citations=cited,
        citations_supported=supported,
        seconds=seconds,
        wh=float((answer.energy or {}).get("wh", 0.0)),
        mode=answer.mode,
        model=answer.model,
        notice=answer.notice,
        sources=[s.source for s in answer.sources],
    )


def scores_kept(result: RunResult, split: str) -> bool:
    """Whether a run's scores may decide how the charter answers: only every question of the
    test split, or of the whole suite. The latest scores switch every user of a collection
    between extraction and a model, so one lucky question of a quick look (--limit,
    --sample) must not, nor the dev half alone, which settings are chosen on."""
    return split in ("test", "all") and not result.partial


def record_scores(deployment: Deployment, result: RunResult, suite: Suite, split: str) -> int:
    """Keep each way of answering's score per collection: the charter's reduce and redirect
    steps choose by the latest (charter/scores.py). Returns the rows written: none unless
    :func:`scores_kept`."""
    from commune.store import repository as repo

    if not scores_kept(result, split):
        return 0

    with deployment.engine.connect() as conn:
        generation = repo.generation(conn)
    rows = []
    for label, outcomes in result.outcomes.items():
        by_collection: dict[str, list[Outcome]] = {}
        for o in outcomes:
            by_collection.setdefault(o.case.collection, []).append(o)
        mode, _, model = label.partition(":")
        if mode not in ("extractive", "generate"):
            continue  # "auto" is the charter itself, not a way of answering it chooses
        for collection, group in sorted(by_collection.items()):
            scores = answer_scores(group)
            rows.append(
                {
                    "suite": suite.name,
                    "suite_sha256": suite.sha256,
                    "split": split,
                    "collection": collection,
                    "mode": mode,
                    "model": model or None,
                    "questions": scores["questions"],
                    "correct": scores["correct"] or 0.0,
                    "fact_containment": scores["fact_containment"],
                    "wh_per_correct_answer": scores["wh_per_correct_answer"],
                    "generation": generation,
                }
            )
    deployment.scoreboard.record(rows)
    return len(rows)
