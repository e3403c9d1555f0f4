"""Would the commons' own translations teach the lexicon words its embedder misses?

The question's words in the other languages (index/lexicon.py) are their nearest words by the
embedder: "mettre à jour" reaches "put" and "day", never "update". Where the commons holds a
document in two languages (the Debian handbook in fr-FR and en-US: the same address but for its
language segment, the same section anchors), the words that keep appearing in a section and
in its translation are each other's translations: "jour" and "update", "noyau" and "kernel",
"mot" and "passe" and "password". This learns them (Dice's coefficient over the aligned
sections, each side only its own language's passages, as words of the target language's
vocabulary), adds each word's best ones (at most the lexicon's NEIGHBOURS) to its embedding
neighbours, and runs `commune eval` with that lexicon (bench/README.md, item 27). Work on a
copy of the evaluation home: the answers are cached under the code's hash, which this patch
does not change.

    cp -a eval-data /tmp/parallel
    python bench/parallel_lexicon.py --home /tmp/parallel --dice 0.5 --together 3 \
        eval/suites/debian.jsonl --split dev --out /tmp/parallel/reports/dev
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from commune.index import lexicon as lx  # noqa: E402
from commune.text.analysis import analyze  # noqa: E402

# A document's address and its translation's differ by this segment only.
LANGUAGE_SEGMENT = re.compile(r"/(fr-FR|en-US|fr|en)/")
LANGUAGES = ("fr", "en")
Learned = dict[tuple[str, str], dict[str, list[str]]]  # {(word, language): {target: words}}


def sections(db: Path) -> list[dict[str, list[str]]]:
    """The aligned sections: for each (address without its language, anchor) held in both
    languages, each language's passages in that language (a translated page keeps some
    paragraphs of its original)."""
    found: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    query = (
        "select d.source_uri, d.language, c.anchor, c.language, c.text from chunks c "
        "join documents d on d.published_revision_id = c.revision_id "
        "where d.status = 'published'"
    )
    with sqlite3.connect(db) as conn:
        for uri, doc_language, anchor, language, text in conn.execute(query):
            if uri and LANGUAGE_SEGMENT.search(uri) and language == doc_language:
                key = (LANGUAGE_SEGMENT.sub("/*/", uri, count=1), anchor or "")
                found[key][language].append(text)
    return [dict(v) for v in found.values() if all(lang in v for lang in LANGUAGES)]


def learn(aligned: list[dict[str, list[str]]], dice: float, together: int) -> Learned:
    """Each word's translations, best first: Dice's coefficient over the aligned sections at
    least ``dice``, the two words in at least ``together`` of them."""
    words = {
        lang: [set(lx.vocabulary_words(" ".join(s[lang]), lang)) for s in aligned]
        for lang in LANGUAGES
    }
    vocab = {lang: sorted(set().union(*words[lang])) for lang in LANGUAGES}
    matrices = {}
    for lang in LANGUAGES:
        index = {w: i for i, w in enumerate(vocab[lang])}
        rows = [r for r, held in enumerate(words[lang]) for _ in held]
        cols = [index[w] for held in words[lang] for w in held]
        ones = np.ones(len(rows), dtype=np.float32)
        matrices[lang] = sparse.csr_matrix(
            (ones, (rows, cols)), shape=(len(aligned), len(vocab[lang]))
        )
    fr, en = (matrices[lang] for lang in LANGUAGES)
    both = (fr.T @ en).toarray()
    alone_fr, alone_en = np.asarray(fr.sum(0)).ravel(), np.asarray(en.sum(0)).ravel()
    score = 2 * both / (alone_fr[:, None] + alone_en[None, :])
    kept = (both >= together) & (score >= dice)
    out: Learned = {}
    for src, tgt, s, k in (("fr", "en", score, kept), ("en", "fr", score.T, kept.T)):
        for i, word in enumerate(vocab[src]):
            js = np.nonzero(k[i])[0]
            if len(js):
                out[(word, src)] = {tgt: [vocab[tgt][j] for j in js[np.argsort(-s[i, js])]]}
    return out


def patch(learned: Learned) -> None:
    """The lexicon's neighbours, and each word's learned translations after them (only
    words of the target language's vocabulary, at most NEIGHBOURS)."""
    near = lx.Lexicon._near

    def with_learned(
        self: lx.Lexicon, words: list[str], lang: str, embedder: Any, targets: Any
    ) -> dict[str, dict[str, list[str]]]:
        found = near(self, words, lang, embedder, targets)
        for w in words:
            for target, translations in learned.get((w, lang), {}).items():
                if target not in targets:
                    continue
                own = set(targets[target].words)
                terms = found[w].setdefault(target, [])
                for t in [t for t in translations if t in own][: lx.NEIGHBOURS]:
                    terms.extend(s for s in analyze(t, target) if s not in terms)
        return found

    lx.Lexicon._near = with_learned  # type: ignore[method-assign]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", required=True, help="a copy of the evaluation home")
    ap.add_argument("--dice", type=float, default=0.5, help="least Dice's coefficient")
    ap.add_argument("--together", type=int, default=3, help="least aligned sections in common")
    args, rest = ap.parse_known_args()
    aligned = sections(Path(args.home) / "commune.db")
    learned = learn(aligned, args.dice, args.together)
    print(f"{len(aligned)} aligned sections, {len(learned)} words translated", file=sys.stderr)
    patch(learned)
    from commune.cli import cli

    cli(["--home", args.home, "eval", *rest])


if __name__ == "__main__":
    main()
