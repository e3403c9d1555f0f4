"""Extractive answers: the sentences of the commons that best answer, each cited [n].

No generative model: nothing is written that the sources do not say. When the
best passages neither share the question's key terms nor come close in
meaning, the answer says that nothing relevant was found rather than quoting
noise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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
    attribution: str | None = None  # the credit line the licence requires


@dataclass
class Answer:
    question: str
    language: str
    text: str
    found: bool
    mode: str = "extractive"
    sentences: list[dict[str, Any]] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    model: str | None = None
    notice: str | None = None  # why the answer is not what was asked for (a fallback)
    input_tokens: int = 0
    output_tokens: int = 0
    energy: dict[str, Any] | None = None  # {"wh", "gco2e", "measured", "method"}
    licence_notes: list[str] = field(default_factory=list)  # share-alike, exclusions
    excluded: list[dict[str, Any]] = field(default_factory=list)  # sources left out, and why

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
            sources.append(_source(numbers[place], h))
        sentences.append({"text": sentence, "source": numbers[place], "sources": [numbers[place]]})
    text = " ".join(f"{s['text']} [{s['source']}]" for s in sentences)
    return Answer(question, lang, text, found=True, sentences=sentences, sources=sources)


def _source(n: int, h: Hit) -> Source:
    return Source(
        n,
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


def relevant_hits(hits: list[Hit], limit: int = 5) -> list[Hit]:
    return [h for h in hits if is_relevant(h)][:limit]


def stream_generated(  # type: ignore[no-untyped-def]
    question: str, hits: list[Hit], embedder: Embedder, generator, passages: int = 5
) -> Iterator[str | Answer]:
    """Yield verified sentences as the model writes them, then the whole :class:`Answer`.

    Each sentence is checked as soon as it is complete (citations exist and
    are renumbered to the sources in order of first use); a sentence that
    fails is never shown. If none passes, or the model is unavailable, the
    extractive answer is given instead, with a notice saying why.
    """
    from commune.generate.base import Completion, GeneratorUnavailable
    from commune.grounding import SentenceGate, build_messages

    lang = detect(question, default="en")
    relevant = relevant_hits(hits, passages)
    if not relevant:
        answer = Answer(
            question,
            lang,
            NOTHING_FOUND.get(lang, NOTHING_FOUND["en"]),
            found=False,
            mode="generate",
            model=generator.name,
        )
        yield answer.text
        yield answer
        return
    gate = SentenceGate(len(relevant))
    order: dict[int, int] = {}
    sentences: list[dict[str, Any]] = []
    completion = None

    def accept(passed: list[tuple[str, list[int]]]) -> Iterator[str]:
        for text, valid in passed:
            for n in valid:
                order.setdefault(n, len(order) + 1)
            text = re.sub(r"\[(\d{1,3})\]", lambda m: f"[{order[int(m.group(1))]}]", text)
            cited = [order[n] for n in valid]
            sentences.append({"text": text, "source": cited[0], "sources": cited})
            yield text if len(sentences) == 1 else " " + text

    try:
        for item in generator.stream(build_messages(question, relevant, lang)):
            if isinstance(item, Completion):
                completion = item
            else:
                yield from accept(gate.feed(item))
        yield from accept(gate.close())
    except GeneratorUnavailable as exc:
        if sentences:  # the model died mid-answer: keep what was verified, say so
            gate.problems.append(f"the model stopped: {exc}")
        else:
            fallback = extractive_answer(question, hits, embedder)
            fallback.notice = f"model unavailable, extractive answer given instead: {exc}"
            yield fallback.text
            yield fallback
            return
    tokens_in = completion.input_tokens if completion else 0
    tokens_out = completion.output_tokens if completion else 0
    model = completion.model if completion else generator.name
    if not sentences:
        fallback = extractive_answer(question, hits, embedder)
        fallback.model, fallback.input_tokens, fallback.output_tokens = model, tokens_in, tokens_out
        fallback.notice = (
            "the generated answer failed citation checks ("
            + "; ".join(gate.problems[:3])
            + "); extractive answer given instead"
        )
        yield fallback.text
        yield fallback
        return
    sources = [_source(new, relevant[old - 1]) for old, new in order.items()]
    notice = None
    if gate.problems:
        notice = "parts of the generated answer were removed: " + "; ".join(gate.problems[:3])
    yield Answer(
        question,
        lang,
        " ".join(s["text"] for s in sentences),
        found=True,
        mode="generate",
        sentences=sentences,
        sources=sources,
        model=model,
        notice=notice,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
    )


def extractive_stream(question: str, hits: list[Hit], embedder: Embedder) -> Iterator[str | Answer]:
    answer = extractive_answer(question, hits, embedder)
    for i, s in enumerate(answer.sentences or [{"text": answer.text}]):
        text = f"{s['text']} [{s['source']}]" if "source" in s else s["text"]
        yield text if i == 0 else " " + text
    yield answer


def generated_answer(  # type: ignore[no-untyped-def]
    question: str, hits: list[Hit], embedder: Embedder, generator, passages: int = 5
) -> Answer:
    """Generate from the best passages, verified; extractive fallback on failure."""
    *_, answer = stream_generated(question, hits, embedder, generator, passages)
    assert isinstance(answer, Answer)
    return answer
