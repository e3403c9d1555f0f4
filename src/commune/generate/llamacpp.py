"""A local GGUF model through llama.cpp's prebuilt Python wheel (xllamacpp).

xllamacpp installs in seconds where llama-cpp-python compiles for ~19
minutes on these machines. The model is loaded on first use and kept.
"""

from __future__ import annotations

import queue
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from commune.generate.base import (
    MEASURED,
    ChatStream,
    Completion,
    Generator,
    GeneratorUnavailable,
    Message,
    given_up,
)

if TYPE_CHECKING:
    from commune.config import ModelSettings


class LlamaCppGenerator(Generator):
    backend = "llamacpp"
    local = True
    streams = True
    energy_method = MEASURED

    def __init__(
        self,
        name: str,
        path: str,
        n_ctx: int = 4096,
        threads: int = 2,
        max_tokens: int = 400,
        temperature: float = 0.1,
    ) -> None:
        super().__init__(name, max_tokens, temperature)
        self.path = path
        self.n_ctx = n_ctx
        self.threads = threads
        self._server: Any = None
        self.api_key = secrets.token_urlsafe(32)  # for llama.cpp's own loopback HTTP server
        self._lock = threading.Lock()  # one generation at a time on a small CPU box

    @classmethod
    def from_spec(
        cls, name: str, spec: ModelSettings, max_tokens: int, seconds: float | None
    ) -> LlamaCppGenerator:
        # ``seconds`` is not needed here: llama.cpp stops at the next token once the reader
        # has gone (base.within), and no network stands between them.
        if spec.path is None:
            raise GeneratorUnavailable(
                f"model {name} has no file", f"set models.{name}.path in commune.toml"
            )
        return cls(name, spec.path, spec.n_ctx, spec.threads, max_tokens, spec.temperature)

    def warm_up(self) -> None:
        with self._lock:
            self._load()

    def _load(self) -> Any:
        if self._server is None:
            try:
                import xllamacpp as xlc
            except ImportError:
                raise GeneratorUnavailable(
                    "the llama.cpp binding is not installed", "pip install 'commune-coop[local]'"
                ) from None
            if not Path(self.path).is_file():
                raise GeneratorUnavailable(
                    f"model file not found: {self.path}",
                    f"fix models.{self.name}.path in commune.toml",
                )
            params = xlc.CommonParams()
            params.model.path = self.path
            params.model_alias = self.name
            params.n_ctx = self.n_ctx
            params.n_parallel = 1
            params.verbosity = -1
            params.cpuparams.n_threads = self.threads
            params.cpuparams_batch.n_threads = self.threads
            # llama.cpp also opens an HTTP server on loopback: without a key, any local
            # process could use the model unmetered. A fresh key per process closes it.
            params.api_keys = [self.api_key]
            try:
                self._server = xlc.Server(params)
            except RuntimeError:  # llama.cpp says only "failed to init": the file is the suspect
                raise GeneratorUnavailable(
                    f"model {self.name} could not be loaded from {self.path}",
                    f"check that models.{self.name}.path is a GGUF model file",
                ) from None
        return self._server

    def _failed(self, error: Any) -> GeneratorUnavailable:
        """llama.cpp's error object as one line the asker can read (it came as a dict)."""
        if not isinstance(error, dict):
            return GeneratorUnavailable(f"model {self.name} failed: {error}")
        if error.get("type") == "exceed_context_size_error":
            # Said as an endpoint's same refusal is (openai_compat): the person asking can
            # act on it; models.NAME.n_ctx is the operator's, who reads it in the docs.
            return GeneratorUnavailable(
                f"the question and its passages are too long for model {self.name}",
                "ask a shorter question, or in fewer collections",
            )
        message = " ".join(str(error.get("message") or error).split())
        return GeneratorUnavailable(f"model {self.name} failed: {message}")

    @property
    def address(self) -> str:
        """The OpenAI-compatible HTTP endpoint llama.cpp serves on loopback."""
        return str(self._load().listening_address)

    def stream(
        self, messages: list[Message], max_tokens: int | None = None, *, language: str | None = None
    ) -> Iterator[str | Completion]:
        request = {
            "messages": messages,
            "stream": True,
            "temperature": self.temperature,
            "max_tokens": max_tokens or self.max_tokens,
            "stream_options": {"include_usage": True},
        }
        events: queue.Queue[Any] = queue.Queue()
        done = object()
        closed = threading.Event()  # the reader went away (a time limit): stop generating
        # Its reader's stop (base.within), read here, in the thread that reads this stream:
        # given up while this waits for the lock, it is known without a token to tell it.
        stop = given_up()

        def over() -> bool:
            return closed.is_set() or (stop is not None and stop.is_set())

        def send(event: Any) -> bool:
            events.put(event)
            return over()  # llama.cpp stops when its callback returns True

        def run() -> None:
            try:
                with self._lock:
                    if over():  # given up while waiting for the model
                        return
                    self._load().handle_chat_completions(request, send)
            except Exception as exc:  # surfaced in the consumer thread
                events.put(exc)
            finally:
                events.put(done)

        threading.Thread(target=run, daemon=True).start()
        reader = ChatStream()
        try:
            while (event := events.get()) is not done:
                if isinstance(event, GeneratorUnavailable):  # loading failed: it says why
                    raise event
                if isinstance(event, Exception):
                    raise GeneratorUnavailable(f"model {self.name} failed: {event}") from event
                if "error" in event:
                    raise self._failed(event["error"])
                yield from reader.feed(event)
            yield reader.completion(self.name)
        finally:
            closed.set()
