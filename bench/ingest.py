"""Time `commune add` of the French handbook with the default embedding, in a fresh home.

    python bench/ingest.py [--lang fr-FR]

Whole-process figures for the child: wall seconds, chunks/s, peak RSS; and the
index size on disk.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lang", default="fr-FR")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "ingest.json"))
    args = ap.parse_args()
    root = subprocess.run(
        ["bash", str(ROOT / "scripts" / "fetch-corpus.sh"), str(ROOT / ".cache" / "corpus")],
        capture_output=True,
        text=True,
    )
    html = Path(root.stdout.strip()) / "html" / args.lang
    commune = Path(sys.executable).parent / "commune"
    with tempfile.TemporaryDirectory() as home:
        t0 = time.perf_counter()
        out = subprocess.run(
            [
                str(commune),
                "--home",
                home,
                "add",
                str(html),
                "--licence",
                "GPL-2.0-or-later OR CC-BY-SA-3.0",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - t0
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        chunks = int(re.search(r"(\d+) chunks", out.stdout).group(1))
        index = sum(f.stat().st_size for f in (Path(home) / "index").rglob("*") if f.is_file())
        db = (Path(home) / "commune.db").stat().st_size
    result = {
        "corpus": f"debian-handbook {args.lang}",
        "chunks": chunks,
        "seconds": round(wall, 1),
        "chunks_per_s": round(chunks / wall, 1),
        "peak_rss_mb": round(rss / 2**20),
        "index_mb": round(index / 2**20, 1),
        "database_mb": round(db / 2**20, 1),
        "embedding": "use-multilingual-v3",
    }
    print(json.dumps(result))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
