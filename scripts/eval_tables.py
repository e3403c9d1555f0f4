"""Print the results tables of docs/evaluation.md from the committed reference reports.

    python scripts/eval_tables.py            # Markdown tables, one per domain

The docs' figures are pasted from this output, never typed: rerun it after `make eval
EVAL_UPDATE=1`. "median words" counts the whitespace-separated words of the answers given
(refusals left out), citation markers included, as a reader sees them; "over 60" is the share
of those answers longer than 60 words (a longer budget serves the answers least sure of their
best sentence: answering/answer.py, SentenceScorer.budget).
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORTS = {
    "debian.jsonl": ROOT / "eval/reports/reference-test/report.json",
    "fiches.jsonl": ROOT / "eval/reports/reference-fiches-test/report.json",
    "manpages.jsonl": ROOT / "eval/reports/reference-manpages-all/report.json",  # held out
    "fiches-heldout.jsonl": ROOT / "eval/reports/reference-fiches-heldout-all/report.json",
}
HEADER = (
    "| `{name}`, {split} | questions (unanswerable) | MRR@10 hybrid / lexical / dense "
    "| hybrid − better half | facts | unanswerable refused | answerable refused "
    "| median words | over 60 |\n|---|---|---|---|---|---|---|---|---|"
)


def table(name: str, report: dict) -> str:  # type: ignore[type-arg]
    rows = [HEADER.format(name=name, split=report["split"])]
    answers = report["questions"]["extractive"]
    for key, label in [("all", "all")] + [
        (k, k.removeprefix("slice ")) for k in report["metrics"] if k.startswith("slice ")
    ]:
        m = report["metrics"][key]
        r = m["retrieval"]
        h, lx, d = (r[s]["mrr@10"] for s in ("hybrid", "lexical", "dense"))
        a = m["answers"]["extractive"]
        given = [
            len(q["answer"].split())
            for q in answers
            if not q["refused"] and (key == "all" or q["slice"] == label)
        ]
        refused = f"{a['refusal_recall']:.3f}" if a["unanswerable"] else "–"
        rows.append(
            f"| {label} | {a['questions']} ({a['unanswerable']} unanswerable) "
            f"| {h:.3f} / {lx:.3f} / {d:.3f} | {h - max(lx, d):+.3f} "
            f"| {a['fact_containment']:.3f} | {refused} | {a['answerable_refused']:.3f} "
            f"| {statistics.median(given):g} | {sum(n > 60 for n in given) / len(given):.2f} |"
        )
    return "\n".join(rows)


def main() -> None:
    out = []
    for name, path in REPORTS.items():
        report = json.loads(path.read_text(encoding="utf-8"))
        pins = report["pins"]
        out.append(
            f"<!-- {path.relative_to(ROOT)}: commit {pins.get('commit')}, "
            f"code {str(pins.get('code_sha256', ''))[:12]} -->\n" + table(name, report)
        )
    sys.stdout.write("\n\n".join(out) + "\n")


if __name__ == "__main__":
    main()
