import numpy as np
import pytest

from commune.config import RetrievalSettings
from commune.errors import NotFound
from commune.retrieve import fuse


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
