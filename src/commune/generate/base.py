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
