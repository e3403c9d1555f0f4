"""The "nothing relevant" threshold for a deployment's own documents (`commune refusals`).

The refusal model (answering/refusal.py) ships with the threshold chosen on the shipped
suites' dev questions. Its scores move with the corpus (bench/README.md, item 31): fitted on
one suite's documents, it refuses about 15% of the other's answerable questions, and on
Debian's French manual pages, a corpus it never saw, 17 of 75. An operator who writes a few
questions about the home's own documents, some they answer and some near their topics that
they do not, can see what each threshold would refuse of them, and choose: the threshold
proposed refuses the most unanswerable questions while refusing at most a share of the
answerable ones. Nothing is changed here: the operator sets ``[answer] refusal_threshold``
in commune.toml, the settings being theirs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from commune.answering.answer import unanswerable_probability
from commune.answering.licensing import usable_for_answers
from commune.answering.path import ANSWER_HITS
from commune.answering.search import Searcher
from commune.config import Settings
from commune.errors import InvalidRequest
from commune.evaluation.suite import Case
from commune.text.lang import question_language

# The thresholds tried on the model's probability of "unanswerable" (bench/calibrate.py chose
# the shipped one among the same).
GRID = tuple(round(0.05 + 0.01 * i, 2) for i in range(90))  # 0.05 to 0.94
# The bar for answerable questions refused (issue 20): at most 5%.
DEFAULT_CAP = 0.05

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Point:
    """What a threshold refuses of the operator's questions."""

    threshold: float
    unanswerable_refused: int
    answerable_refused: int

    @property
    def counts(self) -> tuple[int, int]:
        """Two thresholds with the same counts refuse the same questions (both counts only
        fall as the threshold rises)."""
        return self.unanswerable_refused, self.answerable_refused


@dataclass(frozen=True)
class Thresholds:
    answerable: int
    unanswerable: int
    cap: float
    points: tuple[Point, ...]  # one per GRID threshold
    shipped: Point  # the model's own threshold
    current: Point  # the one this home answers with
    # The proposal: None when even the highest threshold refuses more than the cap allows.
    proposed: Point | None
    # Answerable questions for which nothing was found: every threshold refuses them.
    unreachable: int = 0
    # The collections the questions were asked of.
    collections: frozenset[str] = frozenset()


def kinds(cases: Sequence[Case]) -> tuple[int, int]:
    """How many answerable and unanswerable questions: a threshold is chosen between the two,
    so both are needed (checked before any question is asked)."""
    unanswerable = sum(1 for c in cases if c.unanswerable)
    answerable = len(cases) - unanswerable
    if not unanswerable or not answerable:
        raise InvalidRequest(
            "choosing a threshold needs both kinds of questions: some the documents answer and "
            f"some they do not; these are {answerable} answerable and {unanswerable} unanswerable",
            'add questions marked "unanswerable": true (or answerable ones) to the suite',
        )
    return answerable, unanswerable


def probabilities(
    searcher: Searcher, settings: Settings, cases: Sequence[Case], progress: Progress | None = None
) -> list[tuple[Case, float]]:
    """Each question's probability of "unanswerable", as an answer reads it: the same
    passages (`commune ask` retrieves ANSWER_HITS; the charter's TDM rule leaves some out,
    with no declared use) and the same model."""
    out = []
    for i, case in enumerate(cases):
        hits = searcher.search(case.question, case.collection, k=ANSWER_HITS)
        hits, _ = usable_for_answers(hits, None, settings.charter.tdm_reserved)
        lang = question_language(case.question, case.language)  # as `commune ask` reads it
        out.append((case, unanswerable_probability(case.question, lang, hits)))
        if progress:
            progress("questions", i + 1, len(cases))
    return out


def at(scored: Sequence[tuple[Case, float]], threshold: float) -> Point:
    """The questions refused at ``threshold`` (a probability at or above it refuses)."""
    refused = [case for case, p in scored if p >= threshold]
    return Point(
        threshold,
        sum(1 for c in refused if c.unanswerable),
        sum(1 for c in refused if not c.unanswerable),
    )


def choose(
    scored: Sequence[tuple[Case, float]],
    shipped: float,
    current: float,
    cap: float = DEFAULT_CAP,
) -> Thresholds:
    """Every GRID threshold's refusals, and the proposal: the most unanswerable refused with
    at most ``cap`` of the answerable refused."""
    answerable, unanswerable = kinds([case for case, _ in scored])
    if not 0 <= cap < 1:
        raise InvalidRequest(
            f"the share of answerable questions refused must be between 0 and 1, got {cap}"
        )
    points = tuple(at(scored, t) for t in GRID)
    # A share of a few questions: 5% of 38 allows one refusal, not 1.9.
    allowed = math.floor(cap * answerable + 1e-9)
    within = [p for p in points if p.answerable_refused <= allowed]
    proposed = None
    now = at(scored, current)
    if within:
        best = max(within, key=lambda p: (p.unanswerable_refused, -p.answerable_refused))
        if now.counts == best.counts:
            # The home's threshold refuses the same questions: no change to propose.
            proposed = now
        else:
            # Of the thresholds refusing exactly as many, the middle one: the farthest from
            # the operator's questions on either side (within the grid), for the questions
            # they did not write.
            tied = [p for p in points if p.counts == best.counts]
            proposed = tied[len(tied) // 2]
    return Thresholds(
        answerable,
        unanswerable,
        cap,
        points,
        at(scored, shipped),
        now,
        proposed,
        # A probability of 1: no passage was found (answer.unanswerable_probability).
        sum(1 for case, p in scored if not case.unanswerable and p >= 1.0),
        frozenset(case.collection for case, _ in scored),
    )
