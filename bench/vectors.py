"""Vectors shaped like real ones, in any number, for the approximate-search benchmarks.

Random unit vectors are the wrong test for approximate search: in 512 dimensions every
pair is nearly equidistant, so no index finds "the" nearest ten and recall says nothing
(pgvector's HNSW scored 0.11 on them in bench/postgres_search.py). Real embeddings have
few effective dimensions and dense neighbourhoods.

Here, the USE vectors of the Debian handbook's real passages (fr + en) are the anchors.
Each synthetic vector is a random convex mix of one anchor and three of its ten nearest
real neighbours (Dirichlet weights), plus a little isotropic noise, normalised: points on
the real vectors' local manifold, at the density of a commons hundreds of times larger.
The queries are the real questions of the evaluation suite (eval/suites), embedded by USE.
This is a proxy, stated as such in bench/README.md: a real corpus of a million passages
would spread over more topics than the handbook's.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
MODEL = "use-multilingual-v3"


def anchors() -> np.ndarray:
    """The real passage vectors: the evaluation home's (scripts/eval-home.sh), else the
    passages of bench/data (bench/build_eval.py) embedded now, else, on a fresh clone, the
    evaluation suite's questions embedded as passages (fewer anchors, still real text).
    Embedded ones are cached in .cache/."""
    db = ROOT / "eval-data" / "commune.db"
    if db.exists():
        with sqlite3.connect(db) as conn:
            rows = conn.execute("select vector from embeddings where model = ?", (MODEL,))
            found = [np.frombuffer(v, dtype="<f4") for (v,) in rows]
        if found:
            return np.stack(found).astype(np.float32)
    passages = ROOT / "bench" / "data" / "passages.jsonl"
    source = "passages" if passages.exists() else "questions"
    cache = ROOT / ".cache" / f"bench-anchors-{source}.npy"
    if cache.exists():
        return np.load(cache)
    from commune.embed import get_embedder

    if passages.exists():
        texts = [json.loads(line)["text"] for line in passages.read_text().splitlines()]
    else:
        texts = questions()
    out = get_embedder(MODEL).embed_passages(texts).astype(np.float32)
    cache.parent.mkdir(exist_ok=True)
    np.save(cache, out)
    return out


class Realistic:
    def __init__(self, seed: int = 0, neighbours: int = 10, noise: float = 0.02) -> None:
        self.real = anchors()
        self.real /= np.linalg.norm(self.real, axis=1, keepdims=True)
        sims = self.real @ self.real.T
        self.near = np.argsort(-sims, axis=1)[:, :neighbours]  # each anchor first
        self.rng = np.random.default_rng(seed)
        self.noise = noise

    def sample(self, n: int) -> np.ndarray:
        dim = self.real.shape[1]
        anchor = self.rng.integers(0, len(self.real), n)
        others = self.near[anchor[:, None], self.rng.integers(1, self.near.shape[1], (n, 3))]
        picks = np.concatenate([anchor[:, None], others], axis=1)
        w = self.rng.dirichlet(np.ones(4), n).astype(np.float32)
        out = np.einsum("nk,nkd->nd", w, self.real[picks])
        out += self.rng.standard_normal((n, dim), dtype=np.float32) * (self.noise / dim**0.5)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out.astype(np.float32)

    def fill(self, n: int, block: int = 50_000) -> np.ndarray:
        out = np.empty((n, self.real.shape[1]), dtype=np.float32)
        for start in range(0, n, block):
            out[start : start + block] = self.sample(min(block, n - start))
        return out


def questions() -> list[str]:
    lines = (ROOT / "eval" / "suites" / "debian.jsonl").read_text().splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def query_vectors(limit: int | None = None) -> np.ndarray:
    from commune.embed import get_embedder

    embedder = get_embedder(MODEL)
    return np.stack([embedder.embed_query(q) for q in questions()[:limit]]).astype(np.float32)
