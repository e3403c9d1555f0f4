"""The generation contract: OpenAI-style chat messages in, text (whole or streamed) out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from commune.errors import CommuneError


class GeneratorUnavailable(CommuneError):
    """The model cannot be reached or loaded; callers fall back to extractive answers."""


@dataclass
class Completion:
    text: str
    model: str
    input_tokens: int
    output_tokens: int
    finish_reason: str = "stop"


Message = dict[str, str]


class Generator(ABC):
    """Backends implement :meth:`stream`; :meth:`complete` joins it.

    The last item a stream yields is a :class:`Completion` carrying usage;
    the ones before are text deltas.
    """

    backend: ClassVar[str]
    can_stream: ClassVar[bool] = True

    def __init__(self, name: str, max_tokens: int = 400, temperature: float = 0.1) -> None:
        self.name = name
        self.max_tokens = max_tokens
        self.temperature = temperature

    @abstractmethod
    def stream(
        self, messages: list[Message], max_tokens: int | None = None
    ) -> Iterator[str | Completion]:
        """Yield text deltas, then one :class:`Completion` with the whole text and usage."""

    def complete(self, messages: list[Message], max_tokens: int | None = None) -> Completion:
        for item in self.stream(messages, max_tokens):
            if isinstance(item, Completion):
                return item
        raise GeneratorUnavailable(f"model {self.name} ended without a completion")


class ChatStream:
    """Reads OpenAI ``chat.completion.chunk`` events, from llama.cpp or any endpoint alike."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.usage: dict[str, int] = {}
        self.finish = "stop"

    def feed(self, event: dict) -> list[str]:  # type: ignore[type-arg]
        """The text deltas an event carries (usage and finish reason are kept)."""
        self.usage = event.get("usage") or self.usage
        deltas = []
        for choice in event.get("choices", []):
            delta = (choice.get("delta") or {}).get("content")
            if delta:
                self.parts.append(delta)
                deltas.append(delta)
            self.finish = choice.get("finish_reason") or self.finish
        return deltas

    def completion(self, model: str) -> Completion:
        return Completion(
            "".join(self.parts),
            model,
            int(self.usage.get("prompt_tokens") or 0),
            int(self.usage.get("completion_tokens") or 0),
            self.finish,
        )
