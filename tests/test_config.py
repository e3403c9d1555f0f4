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
        (
            "[retrieval]\nrrf_k = 'sixty'\n",
            "retrieval.rrf_k in commune.toml must be a whole number",
        ),
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
        ("[answer.refusal_thresholds]\nfiches = 'x'\n", "fiches in commune.toml must be a number"),
        ("[answer]\nrefusal_thresholds = 3\n", "[answer.refusal_thresholds] in commune.toml must"),
        ("[retrieval]\ndense_weight = -1\n", "must not be negative, got -1"),
        ("[retrieval]\ntranslated_weight = -0.5\n", "must not be negative, got -0.5"),
        ("[index]\nprobes = 0\n", "index.probes in commune.toml must be greater than 0, got 0"),
        ("[index]\napproximate_from_rows = -1\n", "must not be negative, got -1"),
        ("[index]\nlists = 9\n", "unknown key index.lists"),
        # More than a peer's /peer/search gives: every peer refused every question (HTTP 422).
        ("[peers]\nk = 30\n", "peers.k in commune.toml must be at most 20, got 30"),
        # An empty default collection refused every add that named none, as a collection
        # "named ' '"; a number was taken as its digits.
        ("default_collection = ''\n", "default_collection in commune.toml must be a collection"),
        ("default_collection = ' '\n", 'must be a collection\'s name, got " "'),
        ("default_collection = 5\n", "must be a collection's name, got 5 (give one in quotes"),
        # The catalogue's address, published to the peers as written.
        ("[peers]\nurl = 'commune.coop-a.fr'\n", "peers.url in commune.toml must be an http://"),
        ("[peers]\nurl = 'https://'\n", 'or https:// address, got "https://" (give the address'),
        # Published to every peer, and quoted by the line above: never a password.
        ("[peers]\nurl = 'https://coop:s3cret@coop-a.fr'\n", "must hold no user or password"),
        # Past what a cookie's age or a wait can hold: every sign-in, generated answer or
        # read failed with a 500 or a traceback.
        ("[web]\nsession_hours = 1e12\n", "web.session_hours in commune.toml must be at most 8784"),
        ("[limits]\ngeneration_seconds = 1e300\n", "generation_seconds in commune.toml must be"),
        ("[limits]\nmax_parse_seconds = 1e12\n", "max_parse_seconds in commune.toml must be at"),
        ("[peers]\ntimeout_s = 1e12\n", "peers.timeout_s in commune.toml must be at most 3600"),
    ],
)
def test_bad_config_fails_at_start_up_naming_the_key(tmp_path, toml, message):
    (tmp_path / "commune.toml").write_text(toml)
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path)
    assert message in str(err.value)
    assert "s3cret" not in str(err.value)


def test_unknown_embedder_names_the_available_ones(tmp_path, corpus):
    from commune.core import Commune

    (tmp_path / "commune.toml").write_text('[retrieval]\nembedder = "word2vec"\n')
    with (
        Commune(tmp_path) as c,
        pytest.raises(
            ConfigError,
            match="retrieval.embedder in commune.toml: 'word2vec' is not an embedding model "
            r"\(available: .*use-multilingual-v3",
        ),
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


@pytest.mark.parametrize(
    ("toml", "hint", "french"),
    [
        # A typo: the name meant, not the list of every key to search.
        (
            "[retrieval]\nrrf_K = 5\n",
            "did you mean retrieval.rrf_k?",
            "vouliez-vous dire retrieval.rrf_k\u00a0?",
        ),
        ("[web]\nsession_hour = 3\n", "did you mean web.session_hours?", "web.session_hours"),
        ("[retreival]\nrrf_k = 5\n", "did you mean [retrieval]?", "dire [retrieval]\u00a0?"),
        ("database-url = 'sqlite:///x'\n", "did you mean database_url?", "dire database_url"),
        (
            "[models.gpu]\nbackend = 'openai'\nbase_url = 'https://g/v1'\nmodel = 'm'\n"
            "api_key = 'secret'\n",
            "did you mean models.gpu.api_key_env?",
            "dire models.gpu.api_key_env\u00a0?",
        ),
        # A line under the wrong heading, or before any: where it goes.
        (
            "[limits]\nsession_hours = 3\n",
            "session_hours is set in [web]: move that line under [web]",
            "session_hours se règle dans [web]\u00a0: déplacez cette ligne sous [web]",
        ),
        (
            "rrf_k = 5\n[retrieval]\ndense_weight = 1\n",
            "rrf_k is set in [retrieval]: move that line under [retrieval]",
            "rrf_k se règle dans [retrieval]",
        ),
        # A common word under a heading is that table's setting misnamed: moved where the
        # same word is a setting, it set another thing, in silence.
        (
            "[retrieval]\nk = 8\n",
            "known keys: candidates, cross_lingual_lexical_weight, dense_weight, embedder, "
            "lexical_weight, rrf_k, translated_weight",
            "clés connues\u00a0: candidates",
        ),
        (
            "[generation]\nmodel = 'gpu'\n",
            "known keys: default_model, max_tokens, passages",
            "clés connues\u00a0: default_model",
        ),
        ("[charter]\nname = 'Charte'\n", "known keys: tdm_reserved", "clés connues"),
        # A misspelt table's heading is a table, not a line out of place.
        (
            "[model.gpu]\nbackend = 'openai'\n",
            "did you mean [models.NAME]?",
            "vouliez-vous dire [models.NAME]\u00a0?",
        ),
        (
            "model = 'e5-small'\n",
            "model is set in [enrich] or [models.NAME]: move that line under [enrich]",
            "dans [enrich] ou [models.NAME]\u00a0: déplacez",
        ),
        (
            "[sobriety]\nenergy_budget_wh_per_month = 5\n",
            "[sobriety] is a table of charter.toml, not of commune.toml: move it there",
            "[sobriety] est une table de charter.toml, pas de commune.toml\u00a0: déplacez-la",
        ),
    ],
)
def test_an_unknown_key_says_what_it_was_likely_meant_to_be(tmp_path, toml, hint, french):
    """A typo of a real key, or a line under the wrong table, was refused with the list of
    every key known there (or only "unknown"), in which the operator had to find the one they
    meant; now the line names it, or the table it goes under, in French too."""
    from commune.text.messages import localise

    (tmp_path / "commune.toml").write_text(toml)
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path)
    assert err.value.hint == hint
    assert french in localise(str(err.value), "fr"), localise(str(err.value), "fr")


def test_a_database_url_from_the_environment_that_is_no_url_is_one_line(home, monkeypatch):
    """COMMUNE_DATABASE_URL, read where commune.toml names no database, was used as it was:
    a value that is no URL stopped every command with SQLAlchemy's 60-line traceback
    ("Could not parse SQLAlchemy URL"). Now one line names the variable and what to put in it,
    without quoting the value (a URL holds a password), and the home is untouched."""
    from click.testing import CliRunner

    from commune.cli import cli
    from tests.conftest import make_home

    make_home(home)
    before = sorted(p.name for p in home.iterdir())
    monkeypatch.setenv("COMMUNE_DATABASE_URL", "commune:s3cret@db.example/commune")
    for language, line in (
        ("en_GB.UTF-8", "error: COMMUNE_DATABASE_URL must be a SQLAlchemy URL (such as "),
        ("fr_FR.UTF-8", "erreur\u00a0: COMMUNE_DATABASE_URL doit être une URL SQLAlchemy ("),
    ):
        monkeypatch.setenv("LANG", language)
        r = CliRunner().invoke(cli, ["--home", str(home), "check"], catch_exceptions=False)
        assert r.exit_code == 78, r.output
        assert r.output.startswith(line) and r.output.count("\n") == 1, r.output
        assert "s3cret" not in r.output
    assert sorted(p.name for p in home.iterdir()) == before
    # commune.toml's own database_url is the one used: the variable is not read.
    (home / "commune.toml").write_text(f"database_url = 'sqlite:///{home / 'commune.db'}'\n")
    assert load_settings(home).database_url == f"sqlite:///{home / 'commune.db'}"


def test_a_relative_sqlite_database_is_the_home_s(tmp_path, monkeypatch):
    """database_url = "sqlite:///commune.db" was opened from the working directory: the
    service (started in its home) and the operator's shell (anywhere else) opened two
    databases. A relative SQLite path is now the home's, wherever the command runs."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text('database_url = "sqlite:///data/commune.db"\n')
    monkeypatch.chdir(tmp_path)
    assert load_settings(home).database_url == f"sqlite:///{home / 'data' / 'commune.db'}"
    (home / "commune.toml").write_text(f'database_url = "sqlite:///{tmp_path / "x.db"}"\n')
    assert load_settings(home).database_url == f"sqlite:///{tmp_path / 'x.db'}"


def test_a_relative_sqlite_database_left_in_the_working_directory_is_named(tmp_path, monkeypatch):
    """A relative SQLite path was opened from the working directory before it was made the
    home's: a deployment that ran from elsewhere than its home then opened, or made, an empty
    database in the home, its documents apparently lost. Now it is refused, naming both."""
    home, elsewhere = tmp_path / "home", tmp_path / "srv"
    home.mkdir()
    elsewhere.mkdir()
    (elsewhere / "commune.db").write_bytes(b"")
    (home / "commune.toml").write_text('database_url = "sqlite:///commune.db"\n')
    monkeypatch.chdir(elsewhere)
    with pytest.raises(ConfigError) as e:
        load_settings(home)
    said = str(e.value)
    assert "the relative SQLite path sqlite:///commune.db is read in the home" in said
    assert f"{home / 'commune.db'} does not exist, and {elsewhere / 'commune.db'} does" in said
    assert f"sqlite:///{elsewhere / 'commune.db'}" in said
    # The variable the same; in the home, or run from it, nothing is refused.
    (home / "commune.toml").write_text("")
    monkeypatch.setenv("COMMUNE_DATABASE_URL", "sqlite:///commune.db")
    with pytest.raises(ConfigError, match="relative SQLite path sqlite:///commune.db"):
        load_settings(home)
    (home / "commune.db").write_bytes(b"")
    assert load_settings(home).database_url == f"sqlite:///{home / 'commune.db'}"
    (home / "commune.db").unlink()
    monkeypatch.chdir(home)
    assert load_settings(home).database_url == f"sqlite:///{home / 'commune.db'}"


def test_no_limit_on_generation_is_accepted(tmp_path):
    """[limits] generation_seconds = 0 is "no limit" (docs/reliability.md, and what answers
    read it as), but commune.toml was refused: "must be greater than 0, got 0.0"."""
    (tmp_path / "commune.toml").write_text("[limits]\ngeneration_seconds = 0\n")
    assert load_settings(tmp_path).limits.generation_seconds == 0
    (tmp_path / "commune.toml").write_text("[limits]\ngeneration_seconds = -1\n")
    with pytest.raises(ConfigError, match="generation_seconds in commune.toml must not be neg"):
        load_settings(tmp_path)


@pytest.mark.parametrize("url", ["postgresql+psycopg://commune:s3cret@db:abc/c", "://s3cret"])
def test_a_database_url_sqlalchemy_cannot_read_is_one_line_naming_where_it_is(
    home, monkeypatch, url
):
    """A URL with "://" but a port that is no number, or no scheme before it, passed the
    check: every command then stopped on "invalid literal for int() with base 10: 'abc'"
    or SQLAlchemy's traceback, naming neither the variable nor the setting. Now it is the
    same one line as a value with no "://", the password never quoted."""
    from click.testing import CliRunner

    from commune.cli import cli
    from tests.conftest import make_home

    make_home(home)
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    monkeypatch.setenv("COMMUNE_DATABASE_URL", url)
    r = CliRunner().invoke(cli, ["--home", str(home), "check"])
    assert r.exit_code == 78 and r.output.count("\n") == 1, r.output
    assert r.output.startswith("error: COMMUNE_DATABASE_URL must be a SQLAlchemy URL (such as ")
    assert "s3cret" not in r.output
    monkeypatch.delenv("COMMUNE_DATABASE_URL")
    (home / "commune.toml").write_text(f"database_url = '{url}'\n")
    r = CliRunner().invoke(cli, ["--home", str(home), "check"])
    assert r.exit_code == 78 and r.output.count("\n") == 1, r.output
    assert r.output.startswith("error: database_url in commune.toml must be a SQLAlchemy URL")
    assert "s3cret" not in r.output


@pytest.mark.parametrize(
    ("toml", "target", "most"),
    [
        ("[chunking]\ntarget_words = 300\n", 300, 260),
        ("[chunking]\ntarget_words = 200\nmax_words = 120\n", 200, 120),
    ],
)
def test_a_target_above_the_most_words_is_refused_naming_both(home, toml, target, most):
    """target_words above max_words was taken and did nothing: a passage is cut at
    max_words before it reaches the target. Now one line names both settings and their
    values, in the reader's language, and the command stops as on any configuration error."""
    from click.testing import CliRunner

    from commune.cli import cli
    from tests.conftest import make_home

    make_home(home)
    (home / "commune.toml").write_text(toml)
    for language, said in (
        (
            "en_GB.UTF-8",
            f"error: chunking.target_words ({target}) in commune.toml is above "
            f"chunking.max_words ({most}): no passage could reach it (lower target_words, or "
            "raise max_words)\n",
        ),
        (
            "fr_FR.UTF-8",
            f"erreur\u00a0: chunking.target_words ({target}) dans commune.toml est supérieur à "
            f"chunking.max_words ({most})\u00a0: aucun passage ne pourrait l'atteindre (baissez "
            "target_words, ou augmentez max_words)\n",
        ),
    ):
        r = CliRunner(env={"LANG": language}).invoke(cli, ["--home", str(home), "check"])
        assert r.exit_code == 78 and r.output == said, r.output
    (home / "commune.toml").write_text("[chunking]\ntarget_words = 260\n")
    assert load_settings(home).chunking.target_words == 260


@pytest.mark.parametrize(
    ("toml", "english", "french"),
    [
        (
            "[retrieval]\nrrf_k = 'sixty'\n",
            'must be a whole number, got "sixty"',
            'doit être un nombre entier, reçu "sixty"',
        ),
        (
            "[limits]\nmax_file_mb = 'fifty'\n",
            'must be a number, got "fifty"',
            'doit être un nombre, reçu "fifty"',
        ),
        (
            "[metrics]\ntoken = 42\n",
            "must be a string in quotes, got 42",
            "doit être un texte entre guillemets, reçu 42",
        ),
        (
            "[web]\nsecure_cookies = 1\n",
            "must be true or false, got 1",
            "doit être true ou false, reçu 1",
        ),
        (
            "[web]\ntrusted_proxies = '127.0.0.1'\n",
            'must be a list of strings, got "127.0.0.1"',
            'doit être une liste de textes, reçu "127.0.0.1"',
        ),
        (
            "[answer.refusal_thresholds]\nfiches = 'x'\n",
            'must be a number, got "x"',
            'doit être un nombre, reçu "x"',
        ),
        # Quoted as TOML writes them, not as Python does (True, 'yes', ['a', 1]).
        (
            "[limits]\nmax_query_chars = true\n",
            "must be a whole number, got true",
            "doit être un nombre entier, reçu true",
        ),
        (
            '[web]\nsecure_cookies = "yes"\n',
            'must be true or false, got "yes"',
            'doit être true ou false, reçu "yes"',
        ),
        (
            '[web]\ntrusted_proxies = ["127.0.0.1", 8]\n',
            'must be a list of strings, got ["127.0.0.1", 8]',
            'doit être une liste de textes, reçu ["127.0.0.1", 8]',
        ),
        (
            '[limits]\nmax_file_mb = {size = 50, "in" = "MB"}\n',
            'must be a number, got {size = 50, in = "MB"}',
            'doit être un nombre, reçu {size = 50, in = "MB"}',
        ),
        (
            '[models.gpu]\nbackend = "openai"\nbase_url = "https://gpu.example/v1"\nmodel = "m"\n'
            "temperature = false\n",
            "models.gpu.temperature must be a number from 0 to 2, got false",
            "models.gpu.temperature doit être un nombre de 0 à 2, reçu false",
        ),
    ],
)
def test_a_setting_of_the_wrong_type_is_said_in_the_operator_s_words(home, toml, english, french):
    """A setting of the wrong type was refused in Python's words, "must be int", "must be
    tuple", to an operator who writes TOML; now in words, English or French as the
    reader's locale says, the command stopped in one line."""
    from click.testing import CliRunner

    from commune.cli import cli
    from tests.conftest import make_home

    make_home(home)
    (home / "commune.toml").write_text(toml)
    for language, said in (("en_GB.UTF-8", english), ("fr_FR.UTF-8", french)):
        r = CliRunner(env={"LANG": language}).invoke(cli, ["--home", str(home), "check"])
        assert r.exit_code == 78 and r.output.count("\n") == 1, r.output
        assert r.output.rstrip("\n").endswith(said), r.output


@pytest.mark.parametrize(
    ("toml", "english", "french"),
    [
        (
            "[limits]\nbody_seconds = 0\n",
            "limits.body_seconds in commune.toml must be greater than 0, got 0",
            "limits.body_seconds dans commune.toml doit être supérieur à 0, reçu 0",
        ),
        (
            "[limits]\ngeneration_seconds = -5\n",
            "limits.generation_seconds in commune.toml must not be negative, got -5",
            "limits.generation_seconds dans commune.toml ne doit pas être négatif, reçu -5",
        ),
        (
            "[limits]\nbody_seconds = 100000\n",
            "must be at most 86400, got 100000",
            "doit valoir au plus 86400, reçu 100000",
        ),
    ],
)
def test_a_number_refused_is_quoted_as_the_file_writes_it(home, toml, english, french):
    """`body_seconds = 0` in commune.toml was refused with "got 0.0" (« reçu 0.0 »), a number
    the operator never wrote, in Python's English notation inside a French line; the refusal
    now quotes the number as the file writes it."""
    from click.testing import CliRunner

    from commune.cli import cli
    from tests.conftest import make_home

    make_home(home)
    (home / "commune.toml").write_text(toml)
    for language, said in (("en_GB.UTF-8", english), ("fr_FR.UTF-8", french)):
        r = CliRunner(env={"LANG": language}).invoke(cli, ["--home", str(home), "check"])
        assert r.exit_code == 78 and r.output.count("\n") == 1, r.output
        assert r.output.rstrip("\n").endswith(said), r.output
