"""The request path's collaborators, each on its own: the charter book, the model catalogue,
the generators' registry, credits, the answer cache, the scoreboard, the library's declared
use, the request object; and the path built from them, never from the facade."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from sqlalchemy import Engine, func, select

from commune.config import ModelSettings, load_settings
from commune.errors import NotFound
from commune.generate.base import ECOLOGITS, MEASURED, Completion, Generator, Message
from commune.govern.policy import OPERATOR, Actor


@pytest.fixture
def engine(home: Path) -> Iterator[Engine]:
    from commune.store.db import open_database

    home.mkdir(parents=True, exist_ok=True)
    engine = open_database(f"sqlite:///{home / 'commune.db'}")
    yield engine
    engine.dispose()


# -- the charter book ---------------------------------------------------------------------------
def test_the_charter_is_loaded_once_and_remembered(engine: Engine, home: Path) -> None:
    from commune.charter.book import CharterBook
    from commune.store.schema import charters

    book = CharterBook(engine, home)
    assert book.charter is book.charter
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(charters)).scalar() == 1


def test_records_are_written_and_purged_at_most_hourly(
    engine: Engine, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from commune.charter import book as book_module
    from commune.charter.book import CharterBook
    from commune.store.schema import decisions

    purges: list[int] = []
    real = book_module.records.purge

    def counted(conn: Any, charter: Any, actor: str = "charter") -> int:
        purges.append(1)
        return real(conn, charter, actor)

    monkeypatch.setattr(book_module.records, "purge", counted)
    book = CharterBook(engine, home)
    fields: dict[str, Any] = dict(
        route="ask",
        actor=OPERATOR,
        question="Quand ouvre la piscine ?",
        language="fr",
        collection=None,
        outcome="extractive",
        model=None,
        steps=[{"step": "refuse", "outcome": "passed", "reason": "r"}],
        wh=0.01,
    )
    first, second = book.write(**fields), book.write(**fields)
    assert first != second
    assert len(purges) == 1  # the second write is within the hour
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(decisions)).scalar() == 2
    assert book.purge() == 0  # nothing is past the retention; asked for, it runs anyway
    assert len(purges) == 2


# -- the model catalogue ------------------------------------------------------------------------
def _remote(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "commune.toml").write_text(
        '[models.gpu]\nbackend = "openai"\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "m"\n'
        'jurisdiction = "FR"\nopenness = "open-weights"\n',
        encoding="utf-8",
    )


def test_the_catalogue_keeps_its_cards_a_minute_and_names_the_known_models(
    engine: Engine, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from commune.charter import catalogue as cat
    from commune.charter.book import CharterBook

    _remote(home)
    settings = load_settings(home)
    reads: list[int] = []
    real = cat.catalogue

    def counted(*args: Any) -> list[cat.ModelCard]:
        reads.append(1)
        return real(*args)

    monkeypatch.setattr(cat, "catalogue", counted)
    models = cat.ModelCatalogue(settings, CharterBook(engine, home), engine)
    card = models.card("gpu")
    assert card.remote and card.hosting == "http://127.0.0.1:9/v1"
    assert card.to_json()["remote"] is True
    models.cards()
    assert len(reads) == 1
    monkeypatch.setattr(cat, "CARDS_TTL_S", -1.0)
    models.cards()
    assert len(reads) == 2
    with pytest.raises(NotFound) as err:
        models.card("nope")
    assert "gpu" in (err.value.hint or str(err.value))


# -- the generators' registry -------------------------------------------------------------------
def test_built_in_generators_carry_their_capabilities() -> None:
    from commune.generate.registry import available, generator_class

    assert {"llamacpp", "openai"} <= set(available())
    local, remote = generator_class("llamacpp"), generator_class("openai")
    assert local.local and local.streams and local.energy_method == MEASURED
    assert not remote.local and remote.streams and remote.energy_method == ECOLOGITS
    with pytest.raises(NotFound):
        generator_class("no-such-backend")


def test_a_plugin_registers_like_a_built_in_and_may_replace_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from commune.generate import registry

    class Echo(Generator):
        backend: ClassVar[str] = "openai"  # replaces the built-in for this test
        local: ClassVar[bool] = True
        energy_method: ClassVar[str] = MEASURED

        @classmethod
        def from_spec(
            cls, name: str, spec: ModelSettings, max_tokens: int, seconds: float | None
        ) -> Echo:
            return cls(name, max_tokens)

        def stream(
            self,
            messages: list[Message],
            max_tokens: int | None = None,
            *,
            language: str | None = None,
        ) -> Iterator[str | Completion]:
            text = messages[-1]["content"]
            yield text
            yield Completion(text, self.name, 1, 1)

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    registry._load_registry()
    registry.register(Echo)
    registry._load_registry()  # the built-ins do not take their place back
    assert registry.generator_class("openai") is Echo
    spec = ModelSettings(backend="openai", base_url="http://127.0.0.1:9/v1", model="m")
    gen = registry.generator_class(spec.backend).from_spec("echo", spec, 10, None)
    assert gen.complete([{"role": "user", "content": "bonjour"}]).text == "bonjour"


def test_generators_build_each_configured_model_once(home: Path) -> None:
    from commune.generate.registry import Generators

    _remote(home)
    generators = Generators(load_settings(home))
    gen = generators.get("gpu")
    assert gen is generators.get("gpu")
    assert gen.energy_method == ECOLOGITS and "gpu" in generators.specs()
    with pytest.raises(NotFound):
        generators.get("nope")


# -- credits, cache, scores, declared use --------------------------------------------------------
def test_the_answer_cache_serves_the_same_and_near_questions(engine: Engine) -> None:
    from commune.answering.cache import AnswerCache
    from commune.store.repository import bump_generation

    answers = AnswerCache(engine)
    vector = np.ones(4, dtype=np.float32) / 2
    stored = {"question": "Quand la déchetterie est-elle ouverte ?", "text": "ouvert"}
    answers.store("k", "s", 3, "fr", vector, "e", stored, 24.0)
    assert answers.exact("k", 3, 24.0) is None  # found on generation 0: not cached as of 3
    with engine.begin() as conn:
        for _ in range(3):
            bump_generation(conn)
    answers.store("k", "s", 3, "fr", vector, "e", stored, 24.0)
    hit = answers.exact("k", 3, 24.0)
    assert hit is not None and hit.answer == stored
    assert answers.exact("k", 4, 24.0) is None  # another generation: never served
    retyped = "Bonjour, quand la déchetterie est-elle ouvetre, s’il vous plaît ?"
    near = answers.near("s", 3, 24.0, "fr", vector, 0.9, retyped)
    assert near is not None and near.cosine == pytest.approx(1.0)
    assert answers.near("s", 3, 24.0, "en", vector, 0.9, retyped) is None
    # As close in meaning, but other words: answered afresh.
    other = "Quand la déchetterie est-elle fermée ?"
    assert answers.near("s", 3, 24.0, "fr", vector, 0.9, other) is None


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("How do I enable the firewall?", "How do I disable the firewall?", False),
        ("How do I start the ssh service?", "How do I stop the ssh service?", False),
        ("How do I turn on the firewall?", "How do I turn off the firewall?", False),
        ("Why does the service start?", "Why does the service not start?", False),
        ("Comment activer le pare-feu ?", "Comment désactiver le pare-feu ?", False),
        ("How do I enable the firewall?", "How do I unable the firewall?", False),
        ("How do I enable the firewall?", "Hello, how do I enable the firewall please?", True),
        ("How do I enable the firewall?", "how do i enable the firewlal", True),
        ("Où mettre les emballages ?", "Bonjour, où mettre les emballages, s'il te plaît ?", True),
        ("Où mettre les emballages ?", "Ou mettre les emballages", True),
        ("How do I convert a PDF to ODT?", "How do I convert a ODT to PDF?", False),
    ],
)
def test_near_duplicates_must_say_the_same_words(a: str, b: str, same: bool) -> None:
    from commune.answering.cache import same_words

    assert same_words(a, b) is same and same_words(b, a) is same


def test_scores_are_kept_and_the_latest_read(engine: Engine) -> None:
    from commune.charter.scores import Scoreboard

    board = Scoreboard(engine)
    row = {
        "suite": "s",
        "suite_sha256": "x",
        "split": "test",
        "collection": "mairie",
        "mode": "extractive",
        "model": None,
        "questions": 2,
        "correct": 0.5,
        "fact_containment": None,
        "wh_per_correct_answer": None,
        "generation": 1,
    }
    board.record([row, {**row, "correct": 1.0}])
    assert board.latest()[("mairie", "extractive", None)]["correct"] == 1.0


def test_the_declared_use_is_the_members(engine: Engine, home: Path) -> None:
    from commune.commons.library import Library
    from commune.govern.members import add_member

    with engine.begin() as conn:
        member = add_member(conn, "Coop Bio", "association", declared_use="commercial")
    library = Library(engine, load_settings(home))
    reader = Actor(None, "ana", int(member), "Coop Bio", "reader")
    assert library.declared_use(reader) == "commercial"
    assert library.declared_use(OPERATOR) is None


def test_credits_count_nothing_for_an_answer_without_sources(engine: Engine) -> None:
    from commune.answering.answer import Answer
    from commune.commons.credits import Credits

    credits = Credits(engine)
    credits.record("ask", Answer("q", "fr", "rien", found=False), {}, OPERATOR)
    assert credits.report("2026-01")["documents"] == []


# -- the request ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"mode": "fast"}, "mode must be one of auto, extractive, generate, got 'fast'"),
        ({"question": "  "}, "the question is empty"),
        ({"question": "\u0000\u200b"}, "the question is empty"),
        ({"question": "x" * 100_000}, "over the limit"),
        ({"mode": "extractive", "model": "gpu"}, "a model is for generated answers"),
    ],
)
def test_a_malformed_request_is_refused_before_any_work(
    home: Path, fields: dict[str, Any], message: str
) -> None:
    from commune.answering.path import AskRequest

    request = AskRequest(**{"question": "Quand ouvre la piscine ?", **fields})
    with pytest.raises(ValueError, match=message.replace("?", r"\?")):
        request.check(load_settings(home))


def test_a_request_knows_its_language() -> None:
    from commune.answering.path import AskRequest

    assert AskRequest("Quand ouvre la piscine municipale ?").language == "fr"
    assert AskRequest("When does the public library open?").language == "en"


# -- the path ------------------------------------------------------------------------------------
def test_the_path_takes_typed_collaborators_never_the_facade() -> None:
    from commune.answering.path import AskPath

    params = inspect.signature(AskPath.__init__).parameters
    annotations = {name: str(p.annotation) for name, p in params.items() if name != "self"}
    assert "Any" not in " ".join(annotations.values())
    assert not any("Commune" in a for a in annotations.values())
    source = inspect.getsource(inspect.getmodule(AskPath))  # type: ignore[arg-type]
    assert "commune.core" not in source


def test_the_facade_builds_the_path_once(home: Path) -> None:
    from commune.core import Commune

    with Commune(home) as c:
        path = c.ask_path
        assert path is c.ask_path
        assert path.library is c.library and path.metering is c.metering
        assert path.charters is c.charters and path.models is c.models
