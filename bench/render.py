"""Render bench/README.md's result tables (between the RESULTS markers) from results/*.json."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
START, END = "<!-- RESULTS:START -->", "<!-- RESULTS:END -->"


def quality(data: dict) -> list[str]:
    lines = [
        f"Quality on {data['passages']} handbook passages, {data['queries']} queries "
        f"(`bench/.venv/bin/python bench/run.py --peers`); nDCG@10 / Recall@10 / MRR@10, "
        "search p95 (ms, query embedding excluded):",
        "",
        "| system | fr | en | fr→en | en→fr | p95 ms |",
        "|---|---|---|---|---|---|",
    ]
    for name, slices in data["results"].items():
        cells = [
            f"{s['ndcg@10']:.3f} / {s['recall@10']:.3f} / {s['mrr@10']:.3f}"
            for s in slices.values()
        ]
        p95 = max(s["p95_ms"] for s in slices.values())
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {p95:.1f} |")
    return lines


def scale(rows: list[dict]) -> list[str]:
    lines = [
        "Scale, synthetic passages with realistic vectors (`bench/.venv/bin/python "
        "bench/scale.py`); search p95 excludes the query's embedding; recall@10 of the fused "
        "top 10 against exact dense search:",
        "",
        "| chunks | dense index | p50 ms | p95 ms | lexical p50 / p95 | (ranking every row) | "
        "dense p95 | recall@10 | peak RSS MB | raw MB | RSS / raw |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        kind = "IVF-SQ8 (faiss)" if r.get("approximate") else "exact"
        every = (
            f"{r['lexical_every_row_p50_ms']} / {r['lexical_every_row_p95_ms']}"
            if "lexical_every_row_p50_ms" in r
            else "-"
        )
        lines.append(
            f"| {r['chunks']:,} | {kind} | {r['p50_ms']} | {r['p95_ms']} | "
            f"{r.get('lexical_p50_ms', '-')} / {r.get('lexical_p95_ms', '-')} | {every} | "
            f"{r.get('dense_p95_ms', '-')} | "
            f"{r.get('recall@10', '-')} | {r['peak_rss_mb']} | {r['raw_vector_mb']} | "
            f"{r['rss_over_raw']} |"
        )
    return lines


def ingest(r: dict) -> list[str]:
    return [
        f"Ingestion (`bench/.venv/bin/python bench/ingest.py`): {r['corpus']}, "
        f"{r['chunks']} chunks in {r['seconds']} s ({r['chunks_per_s']} chunks/s) with "
        f"{r['embedding']}; peak RSS {r['peak_rss_mb']} MB; index {r['index_mb']} MB, "
        f"database {r['database_mb']} MB."
    ]


def main() -> None:
    parts: list[str] = []
    results = HERE / "results"
    if (results / "quality.json").exists():
        parts += quality(json.loads((results / "quality.json").read_text())) + [""]
    if (results / "ingest.json").exists():
        parts += ingest(json.loads((results / "ingest.json").read_text())) + [""]
    if (results / "scale.json").exists():
        parts += scale(json.loads((results / "scale.json").read_text()))
    readme = HERE / "README.md"
    text = readme.read_text(encoding="utf-8")
    before, rest = text.split(START)
    after = rest.split(END)[1]
    readme.write_text(
        before + START + "\n" + "\n".join(parts) + "\n" + END + after, encoding="utf-8"
    )
    print(f"rendered {readme}")


if __name__ == "__main__":
    main()
