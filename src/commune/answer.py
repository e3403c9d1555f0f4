"""Extractive answers: the sentences of the commons that best answer, each cited [n].

No generative model: nothing is written that the sources do not say. When the
best passages neither share the question's key terms nor come close in
meaning, the answer says that nothing relevant was found rather than quoting
noise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from commune.embed import Embedder
from commune.ingest.chunking import split_sentences
from commune.retrieve import Hit
from commune.text.analysis import analyze
from commune.text.lang import detect

# A hit is relevant when it holds most of the question's term weight, or when
# its meaning is close (cosine of USE vectors; unrelated passages of the
# handbook score below ~0.25 against everyday questions, answers above ~0.4).
MIN_COVERAGE = 0.5
MIN_COSINE = 0.42
MAX_SENTENCES = 3

NOTHING_FOUND = {
    "fr": (
        "Je n'ai trouvé aucun passage pertinent dans les documents pour répondre à cette question."
    ),
    "en": "I found no relevant passage in the documents to answer this question.",
}


@dataclass
class Source:
    n: int
    document_id: int
    chunk_id: int
    title: str
    section: str
    source: str
    anchor: str | None
    page: int | None
    licence: str | None
    contributor: str | None
    publisher: str | None


@dataclass
class Answer:
    question: str
    language: str
    text: str
    found: bool
    mode: str = "extractive"
    sentences: list[dict[str, Any]] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def is_relevant(hit: Hit) -> bool:
    return hit.coverage >= MIN_COVERAGE or hit.cosine >= MIN_COSINE


def extractive_answer(question: str, hits: list[Hit], embedder: Embedder) -> Answer:
    lang = detect(question, default="en")
    relevant = [h for h in hits if is_relevant(h)][:5]
    if not relevant:
        return Answer(question, lang, NOTHING_FOUND.get(lang, NOTHING_FOUND["en"]), found=False)

    candidates: list[tuple[int, int, str]] = []  # (hit index, position, sentence)
    for hi, hit in enumerate(relevant):
        # Paragraphs keep no inner newlines; a block that does is code or a
        # listing, which reads badly as an answer sentence.
        prose = [p for p in hit.text.split("\n\n") if "\n" not in p.strip()]
        for pos, sentence in enumerate(s for para in prose for s in split_sentences(para)):
            if 4 <= len(sentence.split()) <= 90:
                candidates.append((hi, pos, sentence))
    if not candidates:  # passages of short lines (lists, tables): quote them whole
        candidates = [(hi, 0, h.text[:600]) for hi, h in enumerate(relevant)]

    vectors = embedder.embed_queries([question])[0]
    sent_vecs = embedder.embed_passages([c[2] for c in candidates])
    cos = sent_vecs @ vectors
    q_terms = {lang_: set(analyze(question, lang_)) for lang_ in ("fr", "en")}
    scores = []
    for (hi, _pos, sentence), c in zip(candidates, cos, strict=True):
        hit = relevant[hi]
        terms = set(analyze(sentence, hit.language if hit.language in q_terms else "en"))
        wanted = q_terms.get(hit.language, q_terms["en"])
        overlap = len(terms & wanted) / max(len(wanted), 1)
        # Meaning first, shared terms next, then the passage's own rank, and a
        # small preference for sentences in the question's language.
        score = 0.55 * float(c) + 0.3 * overlap + 0.15 / (1 + hi) + 0.05 * (hit.language == lang)
        scores.append(score)
    order = np.argsort(-np.asarray(scores), kind="stable")
    chosen: list[int] = []
    per_hit: dict[int, int] = {}
    seen: set[str] = set()
    for i in order.tolist():
        hi = candidates[i][0]
        # The same sentence can stand in two documents (a page and its partly
        # untranslated copy): quote it once.
        key = " ".join(candidates[i][2].lower().split())
        if per_hit.get(hi, 0) >= 2 or key in seen:
            continue
        seen.add(key)
        chosen.append(i)
        per_hit[hi] = per_hit.get(hi, 0) + 1
        if len(chosen) == MAX_SENTENCES:
            break
    chosen.sort(key=lambda i: (candidates[i][0], candidates[i][1]))

    # One number per place (document and section): two chunks of the same
    # section are one source to a reader.
    numbers: dict[tuple[int, str, int | None], int] = {}
    sources: list[Source] = []
    sentences = []
    for i in chosen:
        hi, _, sentence = candidates[i]
        h = relevant[hi]
        place = (h.document_id, h.section, h.page)
        if place not in numbers:
            numbers[place] = len(numbers) + 1
            sources.append(
                Source(
                    numbers[place],
                    h.document_id,
                    h.chunk_id,
                    h.title,
                    h.section,
                    h.source,
                    h.anchor,
                    h.page,
                    h.licence,
                    h.contributor,
                    h.publisher,
                )
            )
        sentences.append({"text": sentence, "source": numbers[place]})
    text = " ".join(f"{s['text']} [{s['source']}]" for s in sentences)
    return Answer(question, lang, text, found=True, sentences=sentences, sources=sources)
