#!/usr/bin/env python3
"""Check the held-out evaluation suite against the man pages it was written from.

    python scripts/check_manpages_suite.py [--pages .cache/corpus/manpages-fr/usr/share/man/fr]
        [--suite eval/suites/manpages.jsonl]

The pages are Debian's manpages-fr (`bash scripts/fetch-corpus.sh .cache/corpus manpages-fr`
unpacks them). Checked: ids are unique; every document is a page's real file name (not a
link's); every fact (one alternative at least of each item) occurs in the text of one of the
question's pages as Commune renders it (ingest/manpage.py: what an answer can quote), by the
evaluation's own matching (evaluation.metrics.contains_fact); and the
counts per language, answerable and unanswerable, and distinct pages are printed. Exit status 1
if anything fails.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from commune.evaluation.metrics import contains_fact  # noqa: E402
from commune.ingest.readers import read_file  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", default=str(ROOT / ".cache/corpus/manpages-fr/usr/share/man/fr"))
    parser.add_argument("--suite", default=str(ROOT / "eval/suites/manpages.jsonl"))
    args = parser.parse_args()
    pages = {p.name: p for p in Path(args.pages).rglob("*.gz") if not p.is_symlink()}
    if not pages:
        print(f"no pages under {args.pages}: unpack manpages-fr first (see the docstring)")
        return 1
    texts: dict[str, str] = {}

    def text(name: str) -> str:
        if name not in texts:
            doc = read_file(pages[name].read_bytes(), pages[name])
            texts[name] = doc.title + "\n" + "\n".join(b.text for b in doc.blocks)
        return texts[name]

    problems, ids, counts, used = [], set(), {}, set()
    for n, line in enumerate(Path(args.suite).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        case = json.loads(line)
        kind = "unanswerable" if case.get("unanswerable") else "answerable"
        counts[(case["language"], kind)] = counts.get((case["language"], kind), 0) + 1
        if case["id"] in ids:
            problems.append(f"line {n}: id {case['id']} twice")
        ids.add(case["id"])
        if kind == "unanswerable":
            continue
        docs = [d for d in case.get("documents", []) if d in pages]
        for d in set(case.get("documents", [])) - set(docs):
            problems.append(f"line {n}: {case['id']} names {d}, which is no page's file")
        used.update(docs)
        for fact in case.get("facts", []):
            alternatives = fact if isinstance(fact, list) else [fact]
            if not any(contains_fact(text(d), a) for d in docs for a in alternatives):
                problems.append(f"line {n}: {case['id']}: {alternatives} in none of its pages")
    for (language, kind), count in sorted(counts.items()):
        print(f"{language} {kind}: {count}")
    print(f"distinct pages: {len(used)}")
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
