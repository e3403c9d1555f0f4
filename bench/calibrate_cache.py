"""Choose the answer cache's near-duplicate threshold on the shipped suite's dev split.

Two questions may share a cached answer when they are in the same language, about the same
collection, and their embeddings are at least a cosine apart. A merge is *right* when both
questions expect the same answer (the same facts from the same documents), *wrong*
otherwise: a wrong merge would hand someone the answer to another question.

The suite's questions are all different, so near-duplicates are made from each of them the
way people retype a question: a greeting before it, "please" after it, two letters
swapped in its longest word. A variant found is a right merge (recall).

Chosen: the lowest threshold with no wrong merge on dev, plus a margin of 0.05 (dev holds
only a few hundred questions; the commons' real questions will be more varied). Then both
figures are read on test. Beside them, the same counts when a merge also needs the same words
(``answering.cache.same_words``, as the cache asks): an opposite question ("enable" /
"disable") can sit above any threshold the suite allows.

    python bench/calibrate_cache.py
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from commune.answering.cache import same_words  # noqa: E402
from commune.embed import get_embedder  # noqa: E402
from commune.evaluation import load_suite  # noqa: E402

THRESHOLDS = [round(0.70 + 0.01 * i, 2) for i in range(30)]
MARGIN = 0.05


def variants(question: str, language: str) -> list[str]:
    """Near-duplicates of a question, as people retype it."""
    hello, please = (
        ("Bonjour, ", " s'il vous plaît") if language == "fr" else ("Hello, ", " please")
    )
    words = question.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    w = words[longest]
    if len(w) > 3:
        mid = len(w) // 2
        words[longest] = w[: mid - 1] + w[mid] + w[mid - 1] + w[mid + 1 :]
    body = question.rstrip(" ?")
    return [hello + question[0].lower() + question[1:], body + please + " ?", " ".join(words)]


def pairs(cases, vectors):  # type: ignore[no-untyped-def]
    """(cosine, same expected answer) for every pair in one language and collection."""
    out = []
    for (i, a), (j, b) in itertools.combinations(enumerate(cases), 2):
        if a.language != b.language or a.collection != b.collection:
            continue
        same = (
            not a.unanswerable
            and not b.unanswerable
            and a.facts == b.facts
            and set(a.documents) == set(b.documents)
        )
        out.append((float(vectors[i] @ vectors[j]), same, same_words(a.question, b.question)))
    return out


def variant_cosines(cases, vectors, embedder):  # type: ignore[no-untyped-def]
    """Cosine of each question with each of its retyped variants."""
    texts, owners = [], []
    for i, c in enumerate(cases):
        for v in variants(c.question, c.language):
            texts.append(v)
            owners.append(i)
    found = embedder.embed_queries(texts)
    return [
        (float(found[k] @ vectors[i]), same_words(texts[k], cases[i].question))
        for k, i in enumerate(owners)
    ]


def table(found, near):  # type: ignore[no-untyped-def]
    rows = []
    for t in THRESHOLDS:
        merged = [same for cos, same, _ in found if cos >= t]
        worded = [same for cos, same, words in found if cos >= t and words]
        recall = sum(c >= t for c, _ in near) / len(near)
        recall_worded = sum(c >= t and words for c, words in near) / len(near)
        rows.append(
            {
                "threshold": t,
                "merges": len(merged),
                "right": sum(merged),
                "wrong": len(merged) - sum(merged),
                "variant_recall": round(recall, 4),
                "wrong_with_words": len(worded) - sum(worded),
                "variant_recall_with_words": round(recall_worded, 4),
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", default=str(ROOT / "eval/suites/debian.jsonl"))
    ap.add_argument("--embedder", default="use-multilingual-v3")
    ap.add_argument("--out", default=str(ROOT / "bench/results/cache.json"))
    args = ap.parse_args()
    suite = load_suite(args.suite)
    embedder = get_embedder(args.embedder)
    result = {"suite": suite.name, "suite_sha256": suite.sha256, "embedder": embedder.name}
    for split in ("dev", "test"):
        cases = suite.select(split)
        vectors = embedder.embed_queries([c.question for c in cases])
        near = variant_cosines(cases, vectors, embedder)
        result[split] = {"questions": len(cases), "table": table(pairs(cases, vectors), near)}
    lowest = next(r["threshold"] for r in result["dev"]["table"] if r["merges"] == 0)
    chosen = round(lowest + MARGIN, 2)
    on_dev = next(r for r in result["dev"]["table"] if r["threshold"] == chosen)
    on_test = next(r for r in result["test"]["table"] if r["threshold"] == chosen)
    result["chosen"] = {"threshold": chosen, "dev": on_dev, "test": on_test}
    print(
        f"{'cosine':>7} {'dev wrong':>10} {'variants':>9} {'+words':>7} {'':>7} | "
        f"{'test wrong':>10} {'variants':>9} {'+words':>7} {'':>7}"
    )
    for d, t in zip(result["dev"]["table"], result["test"]["table"], strict=True):
        print(
            f"{d['threshold']:>7.2f} {d['wrong']:>10} {d['variant_recall']:>9.1%} "
            f"{d['wrong_with_words']:>7} {d['variant_recall_with_words']:>7.1%} | "
            f"{t['wrong']:>10} {t['variant_recall']:>9.1%} "
            f"{t['wrong_with_words']:>7} {t['variant_recall_with_words']:>7.1%}"
        )
    print(f"\nchosen: {chosen} (lowest with no wrong merge on dev, {lowest}, + {MARGIN})")
    print(f"dev: {on_dev}\ntest: {on_test}")
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
