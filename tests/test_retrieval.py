import os
from pathlib import Path

import numpy as np
import pytest

from commune.answering.retrieve import fuse
from commune.config import RetrievalSettings
from commune.errors import NotFound


@pytest.fixture
def loaded(commune, corpus):  # type: ignore[no-untyped-def]
    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    return commune


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Quel jour passe le camion des ordures ménagères ?", "mardi matin"),
        ("où mettre les emballages plastique", "bac jaune"),
        ("comment faire enlever un vieux canapé encombrant", "rendez-vous"),
        ("inscription cantine scolaire", "quotient familial"),
        ("acte de naissance", "état civil"),
        ("renouveler sa carte d'identite", "photo récente"),  # no accent in the query
        ("When is the library open?", "Tuesday to Saturday"),
        ("how many books can I borrow", "eight books"),
        ("parking permit for residents", "registration certificate"),
        ("swimming lessons for kids", "Wednesday"),
    ],
)
def test_right_chunk_ranks_first(loaded, query, expected):
    hits = loaded.search(query, k=5)
    assert expected in hits[0].text, [h.text[:60] for h in hits]


def test_cross_lingual_question_finds_the_other_language(loaded):
    hits = loaded.search("opening hours of the town library", k=3)
    assert "Tuesday" in hits[0].text
    hits = loaded.search("horaires d'ouverture de la bibliothèque municipale", k=3)
    assert any("Tuesday" in h.text for h in hits)


def test_hits_carry_the_search_contract_fields(loaded):
    hit = loaded.search("bac jaune", k=1)[0]
    data = hit.to_json()
    for key in (
        "document_id",
        "chunk_id",
        "title",
        "source",
        "section",
        "score",
        "licence",
        "text",
    ):
        assert key in data
    assert data["section"] == "Tri sélectif" and data["licence"] == "etalab-2.0"


def test_collection_filter_and_unknown_collection(loaded, corpus):
    loaded.add([corpus / "pool.txt"], collection="sport", licence="etalab-2.0")
    assert {h.collection for h in loaded.search("swimming pool", collection="sport")} == {"sport"}
    with pytest.raises(NotFound, match="no collection named 'nope'.*mairie"):
        loaded.search("x", collection="nope")


def test_k_and_empty_query_are_validated(loaded):
    with pytest.raises(ValueError, match="k must be greater than 0, got 0"):
        loaded.search("bac", k=0)
    with pytest.raises(ValueError, match="query is empty"):
        loaded.search("   ")
    # Control and format characters only: nothing a reader typed. "\u0000" returned hits.
    for nothing in ("\u0000", "\u200b\ufeff", "\x07 \u2060\t"):
        with pytest.raises(ValueError, match="query is empty"):
            loaded.search(nothing)
    assert len(loaded.search("bac", k=2)) == 2


def test_search_on_an_empty_commons_returns_nothing(commune):
    assert commune.search("anything") == []


def test_index_cache_is_rebuilt_when_another_process_changes_the_data(loaded, home, corpus):
    from commune.core import Commune

    first = loaded.catalog()
    with Commune(home) as other:
        (corpus / "new.txt").write_text("Le marché de Noël ouvre le premier samedi de décembre.")
        other.add([corpus / "new.txt"], licence="etalab-2.0")
    assert loaded.catalog().generation > first.generation
    assert "marché de Noël" in loaded.search("marché de Noël", k=1)[0].text


def test_reciprocal_rank_fusion_rewards_agreement():
    s = RetrievalSettings(rrf_k=60)
    fused = fuse(np.array([1, 2, 3]), np.array([3, 4, 1]), s)
    order = [row for row, *_ in fused]
    assert order[:2] == [1, 3]  # in both lists beats the top of only one
    assert {row for row in order} == {1, 2, 3, 4}
    row, score, lr, dr = fused[0]
    assert (lr, dr) == (1, 3) and score == pytest.approx(1 / 61 + 1 / 63)


def test_an_index_put_in_place_by_another_builder_is_kept(commune, corpus, monkeypatch):
    # Racing to rename a freshly built index into place failed with "Directory not empty".
    import os

    from commune.index import catalog as cat

    commune.add([corpus], licence="CC0-1.0")
    built = cat.build_catalog(commune.engine, commune.embedder)
    real_replace = os.replace

    def another_builder_first(src, dst):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(cat.os, "replace", real_replace)
        cat._write(
            built, commune.settings.index_dir, commune.engine
        )  # the other process wins the race
        return real_replace(src, dst)

    monkeypatch.setattr(cat.os, "replace", another_builder_first)
    cat._write(built, commune.settings.index_dir, commune.engine)
    dirs = [d for d in commune.settings.index_dir.iterdir() if d.is_dir()]
    assert len(dirs) == 1 and (dirs[0] / "rows.npz").exists()
    assert commune.search("bac jaune")


def waiting_for(lock: Path, pid: int) -> bool:
    """Whether process ``pid`` is blocked waiting for the flock on ``lock``: the kernel lists
    each waiter in /proc/locks, marked ``->``, with its pid and the file's device:inode."""
    st = os.stat(lock)
    file = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if fields[1:3] == ["->", "FLOCK"] and fields[5] == str(pid) and fields[6] == file:
            return True
    return False


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="reads Linux's /proc/locks")
def test_index_builders_wait_for_each_other_across_processes(home, corpus):
    import shutil
    import subprocess
    import sys

    from commune.core import Commune
    from commune.index.catalog import _build_lock
    from tests.conftest import wait_until

    with Commune(home) as c:
        c.add([corpus], licence="CC0-1.0")
        c.search("bac jaune")
    shutil.rmtree(home / "index")
    cmd = [sys.executable, "-m", "commune.cli", "--home", str(home), "search", "bac jaune"]
    lock = home / "index" / ".build.lock"
    with _build_lock(home / "index"):  # this process is building
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        # The other one waits instead of building too: the kernel shows it blocked on the
        # build lock (however long it takes to get there), not finished.
        try:
            wait_until(
                lambda: waiting_for(lock, proc.pid) or proc.poll() is not None,
                "the other process to reach the build lock",
                timeout=300,
            )
        except AssertionError:
            proc.kill()
            raise
        assert proc.poll() is None, proc.communicate()[0].decode()
        assert waiting_for(lock, proc.pid)
    out = proc.communicate(timeout=600)[0].decode()  # released: it goes on
    assert proc.returncode == 0 and "jaune" in out
