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
from commune.embed import Embedder
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
    # The meaning of the best passage's document title and headings, and the closest of the
    # judged passages': a question near the commons' topics finds passages that mention its
    # subject in documents about another one ("le RSA" in a fiche on housing aid). On both
    # suites' dev questions, five folds, at most 4% of the answerable refused: the fiches'
    # unanswerable refused 0.572 -> 0.617, Debian's 0.869 -> 0.854, and Debian's answerable
    # refused 0.023 -> 0.009 (bench/README.md, item 34).
    "heading_cosine",
    "max_heading_cosine",
)


def heading(hit: Hit) -> str:
    """What a passage is about, as its document and headings say."""
    return " — ".join(part for part in (hit.title, hit.section) if part)


def heading_cosines(question: str, hits: list[Hit], embedder: Embedder) -> np.ndarray:
    """The cosine of the question to each judged passage's :func:`heading` (the embedder keeps
    recent sentences' vectors: a document's headings are embedded once for many questions)."""
    judged = hits[:JUDGED_HITS]
    if not judged:
        return np.zeros(0)
    vectors = embedder.embed_sentences([heading(h) for h in judged])
    return np.asarray(vectors @ embedder.embed_query(question), dtype=np.float64)


def features(
    question: str, lang: str, hits: list[Hit], passes: bool, headings: np.ndarray
) -> np.ndarray:
    """The model's signs; ``headings``: :func:`heading_cosines` of the same hits."""
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
            float(headings[0]) if len(headings) else 0.0,
            float(headings.max()) if len(headings) else 0.0,
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


def unanswerable_probability(
    question: str, lang: str, hits: list[Hit], passes: bool, embedder: Embedder
) -> float:
    m = model()
    signs = features(question, lang, hits, passes, heading_cosines(question, hits, embedder))
    z = (signs - m["mean"]) / m["scale"]
    return float(1 / (1 + np.exp(-(z @ m["weights"] + m["bias"]))))


def threshold(configured: float = 0.0) -> float:
    """The threshold refusals are decided by: ``configured`` (``[answer] refusal_threshold``,
    proposed by `commune refusals` from a deployment's own questions), or 0 for the one shipped
    with the model."""
    return configured if configured > 0 else float(model()["threshold"])


def refuses(
    question: str,
    lang: str,
    hits: list[Hit],
    passes: bool,
    embedder: Embedder,
    configured: float = 0.0,
) -> bool:
    """Whether to answer "nothing relevant": no passage found, or the model judges the
    question beyond what the passages found can answer (at :func:`threshold`)."""
    if not hits:
        return True
    probability = unanswerable_probability(question, lang, hits, passes, embedder)
    return probability >= threshold(configured)
