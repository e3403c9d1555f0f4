"""Build the retrieval evaluation set from the Debian Administrator's Handbook (fr-FR, en-US).

Judgements come from the book's own structure, so anyone can rebuild them:
a section's title (numbering removed) is the query, and the passages under
that section's anchor are the relevant ones. The French and English editions
share their anchors, which gives cross-lingual judgements for free: a French
title judged against the English passages of the same section, and the reverse.
Passages are indexed *without* their headings, so a title is not found by
simply matching itself.

    python bench/build_eval.py [--max-queries 300] [--out bench/data]

Writes passages.jsonl ({id, lang, file, anchor, text}) and queries.jsonl
({id, lang, text, file, anchor}).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from commune.ingest.chunking import chunk_blocks  # noqa: E402
from commune.ingest.html import read_html  # noqa: E402

NUMBERING = re.compile(r"^(?:[A-Z]|\d+)(?:\.\d+)*\.\s*")


def handbook() -> Path:
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "fetch-corpus.sh"), str(ROOT / ".cache" / "corpus")],
        capture_output=True,
        text=True,
    )
    root = out.stdout.strip()
    if not root:
        sys.exit("the Debian handbook could not be fetched (apt-get download debian-handbook)")
    return Path(root) / "html"


def passages(lang_dir: Path, lang: str) -> list[dict]:
    out = []
    for f in sorted(lang_dir.glob("*.html")):
        parsed = read_html(f.read_bytes(), f)
        for i, chunk in enumerate(chunk_blocks(parsed.blocks, 160, 260)):
            if not chunk.anchor or len(chunk.text.split()) < 20:
                continue
            out.append(
                {
                    "id": f"{lang}/{f.name}#{chunk.anchor}/{i}",
                    "lang": lang,
                    "file": f.name,
                    "anchor": chunk.anchor,
                    "text": chunk.text,
                    "heading": chunk.headings[-1] if chunk.headings else "",
                }
            )
    return out


def queries(chunks: list[dict], lang: str, limit: int) -> list[dict]:
    seen: dict[tuple[str, str], str] = {}
    for c in chunks:
        title = NUMBERING.sub("", c["heading"]).strip()
        if len(title.split()) >= 3 and (c["file"], c["anchor"]) not in seen:
            seen[(c["file"], c["anchor"])] = title
    items = sorted(seen.items())
    step = max(1, len(items) // limit)  # an even, deterministic sample across the book
    return [
        {"id": f"{lang}:{f}#{a}", "lang": lang, "text": t, "file": f, "anchor": a}
        for (f, a), t in items[::step][:limit]
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-queries", type=int, default=300)
    ap.add_argument("--out", default=str(ROOT / "bench" / "data"))
    args = ap.parse_args()
    html = handbook()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    all_passages, all_queries = [], []
    for lang, code in (("fr", "fr-FR"), ("en", "en-US")):
        ps = passages(html / code, lang)
        all_passages += ps
        all_queries += queries(ps, lang, args.max_queries)
    with (out / "passages.jsonl").open("w", encoding="utf-8") as fh:
        for p in all_passages:
            fh.write(
                json.dumps(
                    {k: p[k] for k in ("id", "lang", "file", "anchor", "text")}, ensure_ascii=False
                )
                + "\n"
            )
    with (out / "queries.jsonl").open("w", encoding="utf-8") as fh:
        for q in all_queries:
            fh.write(json.dumps(q, ensure_ascii=False) + "\n")
    print(f"{len(all_passages)} passages, {len(all_queries)} queries -> {out}")


if __name__ == "__main__":
    main()
