"""The first answer after a start, against the next ones: what the server's warm-up saves.

A process loads its models when it first needs them: the embedder, the index, the sentence
and refusal models, the language identifier. Side by side in one run, over the same home:

- ``no warm-up``: a fresh process (``Commune(home).ask``, as a request to a server without
  one was answered): its first answer pays every load;
- ``commune serve``: the server, which loads them before it takes a request
  (Commune.warm_up); its time to start (until ``/healthz`` answers) is counted apart.

Each answers the same first question, then five more, every one asked once (no answer comes
from the cache). Wall time per answer: the median of the next five is the steady state, and
the ratio of the first to it says what the first person waits for. Resident memory is read
before the first question and after the sixth: loaded at start, the models are in memory
from the start instead of from the first question.

    python bench/first_answer.py --home eval-data

The home (a SQLite one holding the Debian handbook: `make eval`'s or `make demo`'s) is copied
first, its cached answers dropped in the copy, so that every answer of both is computed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = (
    "Comment mettre à jour la liste des paquets disponibles ?",
    "How can I find which package contains a file?",
    "Comment configurer un serveur DNS avec bind ?",
    "How do I configure a static IP address?",
    "Quel fichier contient la liste des dépôts APT ?",
    "How do I list the installed packages?",
)


def _in_process(home: Path) -> dict[str, Any]:
    """In this process, as a request to a server without a warm-up was answered."""
    sys.path.insert(0, str(ROOT / "src"))
    from commune.core import Commune

    c = Commune(home)
    c.engine  # noqa: B018 -- the database opened, as a server's is before its first request
    before = _rss_mb("self")
    seconds = []
    for q in QUESTIONS:
        t0 = time.perf_counter()
        c.ask(q, use_cache=False, credit=False)
        seconds.append(time.perf_counter() - t0)
    c.close()
    return {"rss_start_mb": before, "rss_end_mb": _rss_mb("self")} | _figures(seconds)


def _rss_mb(pid: str) -> int:
    """The process's resident memory now (Linux's /proc), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024)
    raise SystemExit("no /proc here: this benchmark reads memory from Linux's /proc")


def _served(home: Path, commune: str) -> dict[str, Any]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    server = subprocess.Popen(
        [commune, "--home", str(home), "serve", "--no-auth", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            if server.poll() is not None:
                raise SystemExit(f"commune serve exited with status {server.returncode}")
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=5).close()
                break
            except OSError:
                time.sleep(0.05)
        started = time.perf_counter() - t0
        before = _rss_mb(str(server.pid))
        seconds = []
        for q in QUESTIONS:
            body = json.dumps({"question": q, "mode": "extractive"}).encode()
            request = urllib.request.Request(
                f"{url}/api/ask", body, {"Content-Type": "application/json"}
            )
            t0 = time.perf_counter()
            urllib.request.urlopen(request, timeout=120).close()
            seconds.append(time.perf_counter() - t0)
        after = _rss_mb(str(server.pid))
    finally:
        server.terminate()
        server.wait(30)
    return {"start_s": round(started, 2), "rss_start_mb": before, "rss_end_mb": after} | (
        _figures(seconds)
    )


def _figures(seconds: list[float]) -> dict[str, Any]:
    steady = statistics.median(seconds[1:])
    return {
        "first_s": round(seconds[0], 3),
        "next_median_s": round(steady, 3),
        "first_over_next": round(seconds[0] / steady, 1),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--home", type=Path, required=True, help="a home with the handbook ingested")
    p.add_argument("--commune", default=str(Path(sys.executable).with_name("commune")))
    p.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.probe:
        print(json.dumps(_in_process(args.home)))
        return
    # Both meet an empty answer cache: a copy of the home (its index with it, so nothing is
    # rebuilt) whose cached answers are dropped. The fresh process asks with the cache off.
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch) / "home"
        shutil.copytree(args.home, home, ignore=shutil.ignore_patterns("serve.*", "*.serving"))
        db = sqlite3.connect(home / "commune.db")
        with db:
            db.execute("DELETE FROM answer_cache")
        db.close()
        cold = subprocess.run(
            [sys.executable, __file__, "--home", str(home), "--probe"],
            capture_output=True,
            text=True,
            check=True,
        )
        served = _served(home, args.commune)
    results = {
        "no warm-up (a fresh process)": json.loads(cold.stdout.strip().splitlines()[-1]),
        "commune serve (warm-up at start)": served,
    }
    (ROOT / "bench" / "results" / "first_answer.json").write_text(
        json.dumps(results, indent=1) + "\n", "utf-8"
    )
    print(
        "| | start (s) | first answer (s) | next five, median (s) | first / next "
        "| memory before the first / after the sixth (MB) |"
    )
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r.get('start_s', '')} | {r['first_s']} | {r['next_median_s']} "
            f"| {r['first_over_next']}× | {r['rss_start_mb']} / {r['rss_end_mb']} |"
        )


if __name__ == "__main__":
    main()
