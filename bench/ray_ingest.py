"""Ingestion throughput: a local `commune add`, and `commune add --ray` on a local Ray
cluster with 1 and then 2 worker CPUs, on the same real documents.

    python bench/ray_ingest.py [DIR]   # default: the Debian handbook's fr-FR HTML

Needs `pip install -e '.[test]'` (ray[data]). Each run ingests into a fresh home; the
cluster is started and stopped around each Ray run (its start-up is not counted; the job's
own start is). Side by side in one run; results in bench/results/ray.json.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ENV = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}


def add(docs: Path, ray: str | None) -> dict:
    home = Path(tempfile.mkdtemp(prefix="ray-bench-"))
    cmd = [
        str(BIN / "commune"),
        "--home",
        str(home),
        "add",
        str(docs),
        "--licence",
        "GPL-2.0-or-later OR CC-BY-SA-3.0",
    ]
    if ray:
        cmd += ["--ray", ray]
    t = time.perf_counter()
    out = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
    if out.returncode not in (0, 1):  # 1: some file failed, the others went in
        raise SystemExit(out.stderr[-2000:])
    seconds = time.perf_counter() - t
    line = [ln for ln in out.stdout.splitlines() if "chunks in" in ln][-1]
    chunks = int(line.split(";")[1].split()[0])
    shutil.rmtree(home, ignore_errors=True)
    return {
        "seconds": round(seconds, 1),
        "chunks": chunks,
        "chunks_per_s": round(chunks / seconds, 1),
    }


def cluster(cpus: int) -> tuple[str, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    common = ["--node-ip-address=127.0.0.1", "--num-cpus=1", "--disable-usage-stats"]
    subprocess.run(
        [
            str(BIN / "ray"),
            "start",
            "--head",
            f"--port={port}",
            "--include-dashboard=false",
            f"--temp-dir={temp}",
            *common,
        ],
        env=ENV,
        check=True,
        capture_output=True,
    )
    for _ in range(cpus - 1):
        subprocess.run(
            [str(BIN / "ray"), "start", f"--address=127.0.0.1:{port}", *common],
            env=ENV,
            check=True,
            capture_output=True,
        )
    return f"127.0.0.1:{port}", temp


def main() -> None:
    handbook = ROOT / ".cache" / "corpus" / "debian-handbook" / "usr" / "share" / "doc"
    default = handbook / "debian-handbook" / "html" / "fr-FR"  # scripts/fetch-corpus.sh
    docs = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    if not docs.is_dir():
        raise SystemExit(f"{docs}: no such folder (bash scripts/fetch-corpus.sh .cache/corpus)")
    results = {"documents": str(docs), "local": add(docs, None)}
    print(json.dumps(results["local"]), flush=True)
    for cpus in (1, 2):
        address, temp = cluster(cpus)
        try:
            results[f"ray_{cpus}_cpu"] = add(docs, address)
        finally:
            subprocess.run([str(BIN / "ray"), "stop", "--force"], env=ENV, capture_output=True)
            shutil.rmtree(temp, ignore_errors=True)
        print(json.dumps(results[f"ray_{cpus}_cpu"]), flush=True)
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "ray.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
