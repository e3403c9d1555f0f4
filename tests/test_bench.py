"""A smoke version of the benchmark harness (the real runs are `make bench`, never timed in CI)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))


def test_scale_harness_reports_latency_and_memory():
    out = subprocess.run(
        [sys.executable, str(BENCH / "scale.py"), "--one", "2000", "--queries", "5"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    row = json.loads(out.stdout.strip().splitlines()[-1])
    assert row["chunks"] == 2000 and row["p95_ms"] >= row["p50_ms"] > 0
    assert row["raw_vector_mb"] >= 3 and row["rss_over_raw"] > 1


def test_quality_harness_judges_by_section_and_ranks_commune(tmp_path):
    from run import qrels, setups
    from systems import Commune, PlainBM25, Vectors

    from commune.embed import get_embedder

    passages = [
        {
            "id": "fr/a#tri/0",
            "lang": "fr",
            "file": "a",
            "anchor": "tri",
            "text": "Les emballages en plastique vont dans le bac jaune, collecté le jeudi.",
        },
        {
            "id": "en/a#tri/0",
            "lang": "en",
            "file": "a",
            "anchor": "tri",
            "text": "Plastic packaging goes in the yellow bin, collected on Thursdays.",
        },
        {
            "id": "fr/a#pool/0",
            "lang": "fr",
            "file": "a",
            "anchor": "pool",
            "text": "La piscine municipale propose des cours de natation le mercredi.",
        },
        {
            "id": "en/a#pool/0",
            "lang": "en",
            "file": "a",
            "anchor": "pool",
            "text": "The municipal pool offers swimming lessons on Wednesdays.",
        },
    ]
    queries = [
        {
            "id": "fr:a#tri",
            "lang": "fr",
            "text": "Tri des emballages plastiques",
            "file": "a",
            "anchor": "tri",
        }
    ]
    assert qrels(passages, queries) == {"fr:a#tri": {"fr/a#tri/0": 1, "en/a#tri/0": 1}}
    assert [len(ps) for ps, _ in setups(passages, queries).values()] == [4, 4, 2, 2]
    vectors = Vectors(get_embedder("use-multilingual-v3"))
    hybrid = Commune(vectors, "hybrid")
    hybrid.index(passages)
    assert set(hybrid.search("Tri des emballages plastiques", 2)) == {"fr/a#tri/0", "en/a#tri/0"}
    bm25 = PlainBM25()
    bm25.index(passages)
    assert bm25.search("swimming lessons", 1) == ["en/a#pool/0"]


def test_the_trainers_folds_keep_a_document_group_whole_in_every_assignment():
    # bench/train_answer.py and bench/calibrate.py read five-fold figures over several
    # assignments of the document groups to folds: each must keep a group (a document's
    # questions and their translations) in one fold, and the assignments must differ, or
    # reading them together smooths nothing.
    from folds import FOLD_SEEDS, FOLDS, fold_of

    groups = [f"debian/{i % 37}" for i in range(200)] + [f"fiches/{i}" for i in range(23)]
    assignments = [fold_of(groups, seed) for seed in FOLD_SEEDS]
    for assignment in assignments:
        assert set(assignment.values()) == set(range(FOLDS))
        sizes = [list(assignment.values()).count(f) for f in range(FOLDS)]
        assert max(sizes) - min(sizes) <= 1  # groups dealt evenly
    assert len({tuple(sorted(a.items())) for a in assignments}) == len(FOLD_SEEDS)
    assert fold_of(groups, FOLD_SEEDS[0]) == assignments[0]  # a rerun chooses the same


def test_the_ranker_variants_redefine_or_add_their_columns_only():
    # bench/ranker_variants.py's figures (bench/README.md, item 24) compare a variant with
    # the shipped ranker on the same candidates: a variant must change its own columns and
    # leave every other feature as `commune ask` computes it.
    import numpy as np
    from ranker_variants import apply, constraints, last_clause

    from commune.answering.answer import FEATURES, Candidate

    def record(question, texts):
        x = np.arange(len(texts) * len(FEATURES), dtype=float).reshape(len(texts), -1)
        x[:, FEATURES.index("holds_yesno")] = [1.0, 0.0]
        cands = [Candidate(0, i, t, False) for i, t in enumerate(texts)]
        return {"question": question, "cands": cands, "x": x}

    texts = ["Le titre ne peut plus être utilisé.", "Formulaire : demande (Cerfa n° 15789*02)"]
    polar = record("J'ai retrouvé ma carte, je peux la réutiliser ?", texts)
    which = record("La famille veut enterrer le défunt : qui doit donner l'autorisation ?", texts)
    before = polar["x"].copy()
    before_which = which["x"].copy()
    assert apply([polar, which], "yesno", None) == list(FEATURES)
    ask, match = FEATURES.index("asks_yesno"), FEATURES.index("match_yesno")
    assert polar["x"][:, ask].tolist() == [1.0, 1.0] and polar["x"][:, match].tolist() == [1, 0]
    assert which["x"][:, ask].tolist() == [0.0, 0.0] and which["x"][:, match].tolist() == [0, 0]
    others = [i for i in range(len(FEATURES)) if i not in (ask, match)]
    assert (polar["x"][:, others] == before[:, others]).all()
    assert (which["x"][:, others] == before_which[:, others]).all()

    form = record("Pour rompre un Pacs, c'est quel formulaire ?", texts)
    features = apply([form], "form", None)
    assert features[-3:] == ["asks_form", "holds_form", "match_form"]
    assert form["x"][:, -3:].tolist() == [[1, 0, 0], [1, 1, 1]]
    assert (form["x"][:, : len(FEATURES)] == before).all()
    # Trained as the features they mirror: a kind's match and a cosine's gap only raise.
    rising = constraints([*FEATURES, "asks_form", "holds_form", "match_form", "clause_gap"])
    assert rising[-4:] == [0, 0, 1, 1]
    assert rising[FEATURES.index("match_yesno")] == 1 and rising[FEATURES.index("cosine_gap")] == 1

    assert last_clause("Mon bébé est né hier, on a combien de jours ?") == "on a combien de jours ?"
    assert last_clause("Quel délai pour déclarer ?") == "Quel délai pour déclarer ?"

    paths = ["Les zones sont déclarées dans /etc/bind/named.conf.local.", "Le serveur répond."]
    asked_where = record("Où déclarer les zones de mon serveur DNS ?", paths)
    asked_how_long = record("Combien de temps garde-t-on les journaux ?", paths)
    where_before, how_long_before = asked_where["x"].copy(), asked_how_long["x"].copy()
    holds_file = FEATURES.index("holds_file")
    for r in (asked_where, asked_how_long):
        r["x"][:, holds_file] = [1.0, 0.0]
    assert apply([asked_where, asked_how_long], "where", None) == list(FEATURES)
    ask, match = FEATURES.index("asks_file"), FEATURES.index("match_file")
    assert asked_where["x"][:, ask].tolist() == [1, 1]
    assert asked_where["x"][:, match].tolist() == [1, 0]
    assert asked_how_long["x"][:, ask].tolist() == [0, 0]
    assert asked_how_long["x"][:, match].tolist() == [0, 0]
    others = [i for i in range(len(FEATURES)) if i not in (ask, match, holds_file)]
    assert (asked_where["x"][:, others] == where_before[:, others]).all()
    assert (asked_how_long["x"][:, others] == how_long_before[:, others]).all()


def test_the_ranker_variants_refuse_a_cache_of_another_number_of_passages(tmp_path):
    # A cache says how many passages its candidates came from: figures read for eight
    # passages from a cache of five would be five's, silently.
    import pickle

    cache = tmp_path / "cand.pkl"
    cache.write_bytes(pickle.dumps(([{"passages": 5}], "suites")))
    out = subprocess.run(
        [sys.executable, str(BENCH / "ranker_variants.py"), "--home", str(tmp_path / "home")]
        + ["--cache", str(cache), "--passages", "8", "base"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode != 0
    assert "holds candidates from 5 passages, not 8" in out.stderr
    assert "Traceback" not in out.stderr


def test_the_e5_variants_score_with_e5_and_keep_its_vectors(tmp_path, monkeypatch):
    # bench/README.md item 26: e5-small's cosine beside USE's, for every candidate or for the
    # E5_TOP of highest USE cosine only (the others below any real value); the vectors are
    # kept in a file, so that a rerun embeds nothing again.
    import numpy as np
    import ranker_variants
    from ranker_variants import E5Vectors, apply, constraints

    import commune.embed
    from commune.answering.answer import FEATURES, Candidate

    texts = [f"Le délai de déclaration est de {n} jours après la naissance." for n in range(14)]
    texts[12] = "La recette de la tarte aux pommes demande du beurre."
    x = np.zeros((len(texts), len(FEATURES)))
    # USE's order is not the list's: its last two are candidates 10 and 11, not 12 and 13.
    x[:, FEATURES.index("cosine")] = np.roll(np.linspace(0, 1, len(texts)), 2)[::-1]
    first = np.argsort(-x[:, FEATURES.index("cosine")], kind="stable")[: ranker_variants.E5_TOP]
    assert sorted(set(range(len(texts))) - set(first.tolist())) == [10, 11]

    def record():
        cands = [Candidate(0, i, t, False) for i, t in enumerate(texts)]
        question = "Combien de jours pour déclarer une naissance ?"
        return {"question": question, "cands": cands, "x": x.copy()}

    vectors = E5Vectors(tmp_path / "e5.pkl")
    every, top = record(), record()
    features = apply([every], "e5", vectors)
    assert features == [*FEATURES, "e5_cosine", "e5_rank", "e5_gap"]
    assert constraints(features)[-3:] == [1, 1, 1]
    assert (every["x"][:, : len(FEATURES)] == x).all()
    assert vectors.of(texts[:1], "passage").shape == (1, 384)  # e5-small's, not USE's 512
    cos, rank, gap = every["x"][:, -3:].T
    assert cos.argmin() == 12 and gap.max() == 0 and rank[cos.argmax()] == 1
    apply([top], "e5top", vectors)
    rest = np.setdiff1d(np.arange(len(texts)), first)
    assert np.allclose(top["x"][first, -3], cos[first])
    assert (top["x"][rest, -3] < top["x"][first, -3].min()).all()  # below, never missing
    assert (top["x"][rest, -2] == 0).all() and (top["x"][rest, -1] < -1).all()

    def embed_again(name):
        raise AssertionError("embedded again: the file should hold every vector")

    monkeypatch.setattr(commune.embed, "get_embedder", embed_again)
    again = record()
    apply([again], "e5", E5Vectors(tmp_path / "e5.pkl"))
    assert np.allclose(again["x"][:, -3], cos)


def test_the_refusal_examples_weigh_as_their_weight_says():
    # bench/refusal_negatives.py (bench/README.md, item 55) reads weight 0 as calibrate.py's own
    # model and weight 1 as an example counting like a real question: its weighted fit must be
    # calibrate.fit where the weights are 1, and ignore a row of weight 0.
    import numpy as np
    from calibrate import fit
    from refusal_negatives import fit_weighted

    rng = np.random.default_rng(0)
    z = rng.normal(size=(60, 3))
    y = (z[:, 0] + rng.normal(size=60) > 0).astype(float)
    assert np.allclose(fit_weighted(z, y, np.ones(60)), fit(z, y))
    extra_z, extra_y = np.vstack([z, rng.normal(size=(20, 3))]), np.concatenate([y, np.ones(20)])
    weights = np.concatenate([np.ones(60), np.zeros(20)])
    assert np.allclose(fit_weighted(extra_z, extra_y, weights), fit(z, y))
    assert not np.allclose(fit_weighted(extra_z, extra_y, np.ones(80)), fit(z, y))
