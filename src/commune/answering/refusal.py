"""Whether the commons can answer a question at all: "nothing relevant" when it cannot.

Passing each passage through fixed thresholds (answering/answer.py, ``is_relevant``) refuses
questions about what the commons never mentions; questions near its topics ("the opening
hours of the town hall of Saint-Jean-de-Luz", "the price of a photo booth at the station")
find passages about the same subject and pass. Two signs tell them apart: the question
names something the passages found never mention, and much of its wording is absent from
them. A logistic model weighs these with the passages' scores; it is trained on the dev
splits of both shipped suites (``bench/calibrate.py``, which states its figures), and shipped
as ``refusal_model.json`` with its threshold.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

import numpy as np

from commune.answering.retrieve import Hit
from commune.text.analysis import analyze

# The passages a question is judged against: those an answer would be drawn from.
JUDGED_HITS = 5
# A name: a capitalised word (or run of them) not opening the question, e.g. "Toulouse",
# "Saint-Jean-de-Luz", "Office 365". Judged case-insensitively against the passages' text.
_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b([A-ZÀ-Ý][\w'’-]+(?:[ -][A-ZÀ-Ý][\w'’-]+)*)")

FEATURES = (
    "top_cosine",  # the best passage's meaning score
    "max_cosine",
    "top_coverage",  # share of the question's term weight in the best passage
    "max_coverage",
    "unknown_names",  # words the whole commons never mentions (capped at 2)
    "same_language_cosine",  # best meaning score among passages in the question's language
    "names_missing",  # names of the question absent from the passages found (capped at 2)
    "terms_missing",  # share of the question's terms absent from the passages found
    "passes_thresholds",  # a passage passes answer.is_relevant's fixed thresholds
)


def features(question: str, lang: str, hits: list[Hit], passes: bool) -> np.ndarray:
    judged = hits[:JUDGED_HITS]
    seen = " ".join(f"{h.title} {h.text}" for h in judged).lower()
    names = [n for n in _NAME.findall(question) if len(n) > 2]
    missing_names = sum(1 for n in names if n.lower() not in seen)
    q_terms = set(analyze(question, lang))
    found: set[str] = set()
    for h in judged:
        analyser = h.language if h.language in ("fr", "en") else lang
        found |= set(analyze(f"{h.title} {h.text}", analyser))
    same = [h.cosine for h in judged if h.language == lang]
    return np.asarray(
        [
            judged[0].cosine if judged else 0.0,
            max((h.cosine for h in judged), default=0.0),
            judged[0].coverage if judged else 0.0,
            max((h.coverage for h in judged), default=0.0),
            float(min(judged[0].unknown_terms if judged else 0, 2)),
            max(same, default=0.0),
            float(min(missing_names, 2)),
            len(q_terms - found) / max(len(q_terms), 1),
            float(passes),
        ],
        dtype=np.float64,
    )


@lru_cache(maxsize=1)
def model() -> dict[str, np.ndarray | float]:
    data = json.loads(
        resources.files("commune.answering").joinpath("refusal_model.json").read_text("utf-8")
    )
    if tuple(data["features"]) != FEATURES:
        raise RuntimeError("refusal_model.json does not match FEATURES: rerun bench/calibrate.py")
    return {
        "mean": np.asarray(data["mean"], dtype=np.float64),
        "scale": np.asarray(data["scale"], dtype=np.float64),
        "weights": np.asarray(data["weights"], dtype=np.float64),
        "bias": float(data["bias"]),
        "threshold": float(data["threshold"]),
    }


def unanswerable_probability(question: str, lang: str, hits: list[Hit], passes: bool) -> float:
    """The model's probability that ``hits`` cannot answer ``question``; 1 when nothing was
    found."""
    if not hits:
        return 1.0
    m = model()
    z = (features(question, lang, hits, passes) - m["mean"]) / m["scale"]
    return float(1 / (1 + np.exp(-(z @ m["weights"] + m["bias"]))))


def threshold(configured: float = 0.0) -> float:
    """The threshold refusals are decided by: ``configured`` (``[answer] refusal_threshold``,
    proposed by `commune refusals` from a deployment's own questions), or 0 for the one shipped
    with the model."""
    return configured if configured > 0 else float(model()["threshold"])


def refuses(
    question: str, lang: str, hits: list[Hit], passes: bool, configured: float = 0.0
) -> bool:
    """Whether to answer "nothing relevant": no passage found, or the model judges the
    question beyond what the passages found can answer (at :func:`threshold`, at most 1)."""
    return unanswerable_probability(question, lang, hits, passes) >= threshold(configured)
