import pytest

from commune.config import load_settings, resolve_home
from commune.errors import ConfigError


def test_home_from_argument_env_or_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_home() == tmp_path / "commune-data"
    monkeypatch.setenv("COMMUNE_HOME", str(tmp_path / "env"))
    assert resolve_home() == tmp_path / "env"
    assert resolve_home(tmp_path / "arg") == tmp_path / "arg"


def test_defaults_without_a_config_file(tmp_path):
    s = load_settings(tmp_path)
    assert s.database_url == f"sqlite:///{tmp_path / 'commune.db'}"
    assert s.retrieval.embedder == "use-multilingual-v3"


def test_config_file_is_read(tmp_path):
    (tmp_path / "commune.toml").write_text("[retrieval]\nrrf_k = 20\ndense_weight = 2\n")
    s = load_settings(tmp_path)
    assert s.retrieval.rrf_k == 20 and s.retrieval.dense_weight == 2.0


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[retrieval]\nrrf = 3\n", "unknown key retrieval.rrf"),
        ("[retrieval]\nrrf_k = 'sixty'\n", "retrieval.rrf_k in commune.toml must be int"),
        ("[chunking]\nmax_words = -5\n", "must be greater than 0, got -5"),
        ("colour = 'blue'\n", "unknown key colour"),
        ("retrieval = 3\n", "[retrieval] in commune.toml must be a table"),
        ("[retrieval\n", "is not valid TOML"),
        ("database_url = 'nowhere'\n", "database_url in commune.toml must be a SQLAlchemy URL"),
        ("[cooperative]\nusage_share = 1.5\n", "is a share: between 0 and 1, got 1.5"),
        ("[answer]\nrefusal_threshold = 1.5\n", "is a share: between 0 and 1, got 1.5"),
        ("[answer]\nrefusal_threshold = -0.2\n", "must not be negative, got -0.2"),
        ("[answer]\nrefusal_threshold = 'high'\n", "answer.refusal_threshold in commune.toml"),
        ("[answer.refusal_thresholds]\nfiches = 1.5\n", "is a share: between 0 and 1, got 1.5"),
        ("[answer.refusal_thresholds]\nfiches = 'x'\n", "fiches in commune.toml must be float"),
        ("[answer]\nrefusal_thresholds = 3\n", "[answer.refusal_thresholds] in commune.toml must"),
        ("[retrieval]\ndense_weight = -1\n", "must not be negative, got -1"),
        ("[retrieval]\ntranslated_weight = -0.5\n", "must not be negative, got -0.5"),
        ("[index]\nprobes = 0\n", "index.probes in commune.toml must be greater than 0, got 0"),
        ("[index]\napproximate_from_rows = -1\n", "must not be negative, got -1"),
        ("[index]\nlists = 9\n", "unknown key index.lists"),
        # More than a peer's /peer/search gives: every peer refused every question (HTTP 422).
        ("[peers]\nk = 30\n", "peers.k in commune.toml must be at most 20, got 30"),
    ],
)
def test_bad_config_fails_at_start_up_naming_the_key(tmp_path, toml, message):
    (tmp_path / "commune.toml").write_text(toml)
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path)
    assert message in str(err.value)


def test_unknown_embedder_names_the_available_ones(tmp_path, corpus):
    from commune.core import Commune

    (tmp_path / "commune.toml").write_text('[retrieval]\nembedder = "word2vec"\n')
    with (
        Commune(tmp_path) as c,
        pytest.raises(Exception, match="unknown embedding model 'word2vec'.*use-multilingual-v3"),
    ):
        c.add([corpus / "pool.txt"], licence="etalab-2.0")


def test_a_fusion_weight_may_be_zero(tmp_path):
    (tmp_path / "commune.toml").write_text("[retrieval]\ncross_lingual_lexical_weight = 0\n")
    assert load_settings(tmp_path).retrieval.cross_lingual_lexical_weight == 0.0
    # The question's words in the other languages, off.
    (tmp_path / "commune.toml").write_text("[retrieval]\ntranslated_weight = 0\n")
    assert load_settings(tmp_path).retrieval.translated_weight == 0.0


def test_approximate_search_may_be_turned_off(tmp_path):
    (tmp_path / "commune.toml").write_text("[index]\napproximate_from_rows = 0\n")
    assert load_settings(tmp_path).index.approximate_from_rows == 0


def test_a_config_file_that_is_not_utf8_is_named(tmp_path):
    # Issue 22: Python's codec message alone ("can't decode byte 0xe9") named no file.
    (tmp_path / "commune.toml").write_bytes(
        "[cooperative]\nname = 'Coopérative'\n".encode("latin-1")
    )
    with pytest.raises(ConfigError) as exc:
        load_settings(tmp_path)
    message = str(exc.value)
    assert str(tmp_path / "commune.toml") in message and "UTF-8" in message
    assert "line 2" in message and "\n" not in message


def test_a_charter_that_is_not_utf8_is_named(tmp_path):
    from commune.charter.rules import load_charter

    (tmp_path / "charter.toml").write_bytes(
        'version = "1"\nname = "Charte de la mairie de Sète"\n'.encode("latin-1")
    )
    with pytest.raises(ConfigError) as exc:
        load_charter(tmp_path)
    message = str(exc.value)
    assert str(tmp_path / "charter.toml") in message and "UTF-8" in message
    assert "line 2" in message and "\n" not in message
