"""Grounded generation: numbered passages in the prompt, citations checked after.

A small model invents, forgets to cite, or cites passages that do not exist.
So every answer is verified before anyone reads it: a sentence without a
valid [n] is removed, an out-of-range [n] is stripped, and if too little
survives the caller falls back to the extractive answer and says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from commune.ingest.chunking import split_sentences
from commune.retrieve import Hit

INSTRUCTIONS = {
    "fr": (
        "Tu es l'assistant d'une coopérative. Réponds en français, brièvement, uniquement à "
        "partir des passages numérotés ci-dessous. Après chaque phrase, cite le ou les passages "
        "qui la justifient, sous la forme [1] ou [2][3]. Si les passages ne permettent pas de "
        "répondre, dis-le."
    ),
    "en": (
        "You are a cooperative's assistant. Answer in English, briefly, using only the numbered "
        "passages below. After each sentence, cite the passage or passages that support it, as "
        "[1] or [2][3]. If the passages do not answer the question, say so."
    ),
}
_CITATION = re.compile(r"\[(\d{1,3})\]")


def build_messages(
    question: str, hits: list[Hit], language: str, max_chars: int = 1200
) -> list[dict[str, str]]:
    passages = []
    for n, hit in enumerate(hits, 1):
        where = " — ".join(p for p in (hit.title, hit.section) if p)
        passages.append(f"[{n}] {where}\n{hit.text[:max_chars]}")
    system = INSTRUCTIONS.get(language, INSTRUCTIONS["en"])
    user = "Passages:\n\n" + "\n\n".join(passages) + f"\n\nQuestion: {question}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


@dataclass
class Verification:
    text: str  # the answer with failing sentences removed and bad citations stripped
    sentences: list[dict[str, object]] = field(default_factory=list)  # {"text", "sources"}
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.sentences)


def verify(answer: str, n_passages: int) -> Verification:
    """Keep the sentences that cite at least one existing passage; report the rest."""
    result = Verification(text="")
    kept: list[str] = []
    for sentence in split_sentences(" ".join(answer.split())):
        # A citation written after the full stop ("... on Tuesday. [1]") starts
        # the next piece: give it back to the sentence it belongs to.
        lead = re.match(r"^((?:\[\d{1,3}\]\s*)+)(.*)$", sentence)
        if lead and kept:
            kept[-1] = kept[-1] + " " + lead.group(1).strip()
            sentence = lead.group(2).strip()
        if sentence:
            kept.append(sentence)
    for sentence in kept:
        cited = [int(n) for n in _CITATION.findall(sentence)]
        valid = sorted({n for n in cited if 1 <= n <= n_passages})
        invalid = sorted({n for n in cited if not 1 <= n <= n_passages})
        clean = _CITATION.sub(
            lambda m: m.group(0) if 1 <= int(m.group(1)) <= n_passages else "", sentence
        )
        clean = " ".join(clean.split())
        if invalid:
            result.problems.append(f"cited passage(s) {invalid} that do not exist")
        if not valid:
            result.problems.append(f"sentence without a valid citation removed: {sentence[:80]!r}")
            continue
        result.sentences.append({"text": clean, "sources": valid})
    result.text = " ".join(str(s["text"]) for s in result.sentences)
    return result
