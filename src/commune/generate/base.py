"""The generation contract: OpenAI-style chat messages in, text (whole or streamed) out."""

from __future__ import annotations

import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from commune.errors import CommuneError

if TYPE_CHECKING:
    from commune.config import ModelSettings

# How a generator's energy is known (Generator.energy_method): measured on this machine
# around the work (RAPL, else CPU time), or estimated from the model's parameters by
# EcoLogits' method, for a model that runs elsewhere.
MEASURED = "measured-or-cpu-time"
ECOLOGITS = "ecologits"


class GeneratorUnavailable(CommuneError):
    """The model cannot be reached or loaded; callers fall back to extractive answers."""


class GenerationTimedOut(GeneratorUnavailable):
    """The model did not finish within the request's time limit; it has been told to stop."""


class AskerGone(Exception):  # noqa: N818 -- a departure, not an error of anyone's
    """The asker left (their connection closed) while the model wrote, and it was told to
    stop. No GeneratorUnavailable: an extractive answer in its place would have nobody to
    read it. ``model`` and the tokens it read and wrote until then are set where the answer
    knows them (answering/answer.stream_generated), for the ledger's row."""

    def __init__(self) -> None:
        super().__init__("the asker left while the model wrote")
        self.model: str | None = None
        self.input_tokens = 0
        self.output_tokens = 0


# How often a model that sends nothing (busy with another request, reading a long prompt)
# is asked whether its asker is still there: a model that writes is asked at each token.
LOOK_SECONDS = 0.25

T = TypeVar("T")

# The stop of the within() that reads a stream, kept for the thread reading it: a backend
# whose work waits in a thread of its own (llama.cpp's, for the model's lock while another
# answer is written) was told to stop only at its next token, so it took the lock once free
# and read the whole prompt for an asker gone or a time out long past.
_reading = threading.local()


def given_up() -> threading.Event | None:
    """Set once the :func:`within` reading this thread's stream has stopped (an asker gone,
    a time out); None where no within() reads it (no limit, nobody to leave). A backend reads
    it as its stream starts, from the thread that reads it."""
    return getattr(_reading, "stop", None)


def within(
    stream: Iterator[T], seconds: float | None, gone: Callable[[], bool] | None = None
) -> Iterator[T]:
    """``stream``'s items while ``seconds`` last (None: no limit), then
    :class:`GenerationTimedOut`; and while ``gone`` (None: nobody can leave) says the asker is
    still there, then :class:`AskerGone`. The time counts the wait for the first item (a
    model busy with another request, or loading). The stream is read by a thread of its own,
    so that a model that sends nothing cannot hold the request; on time out, when the asker
    has gone, or when the caller stops reading, the stream is closed at its next item: a
    backend stops its work there (llama.cpp at its next token, or before it starts when it
    waits for the model's lock, :func:`given_up`; an endpoint by closing the
    connection)."""
    if seconds is None and gone is None:
        yield from stream
        return
    items: queue.Queue[tuple[str, Any]] = queue.Queue()
    stop = threading.Event()

    def read() -> None:
        _reading.stop = stop  # this thread's, for the stream's backend (given_up)
        try:
            for item in stream:
                if stop.is_set():
                    break
                items.put(("item", item))
            else:
                items.put(("end", None))
        except BaseException as exc:  # surfaced in the caller's thread
            items.put(("error", exc))
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    threading.Thread(target=read, daemon=True, name="generation").start()
    deadline = None if seconds is None else time.monotonic() + seconds
    try:
        while True:
            # The clock is read before each item, not only while waiting for one: a model
            # that writes fast and without end (an endpoint ignoring max_tokens) always has
            # an item ready, and a time-out given only to an empty queue never came. The
            # asker too: one who left is not written for a token longer.
            if gone is not None and gone():
                raise AskerGone()
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise GenerationTimedOut(
                    f"no answer within {seconds:g} s", "raise [limits] generation_seconds"
                )
            looks = [x for x in (left, LOOK_SECONDS if gone is not None else None) if x]
            try:
                kind, value = items.get(timeout=min(looks))
            except queue.Empty:
                continue  # the clock and the asker are read again above
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()


@dataclass
class Completion:
    text: str
    model: str
    input_tokens: int
    output_tokens: int
    finish_reason: str = "stop"


Message = dict[str, str]


class Generator(ABC):
    """Backends implement :meth:`stream` and :meth:`from_spec`; :meth:`complete` joins the
    stream.

    The last item a stream yields is a :class:`Completion` carrying usage;
    the ones before are text deltas. Capabilities are class attributes, so that callers (the
    catalogue, the bill of materials, the ledger) read them without building a generator.
    """

    backend: ClassVar[str]  # the registry key: ``backend = "..."`` in [models.NAME]
    local: ClassVar[bool]  # runs on this machine (its weights are a file here)
    streams: ClassVar[bool] = True  # yields text as it comes, not only at the end
    energy_method: ClassVar[str] = MEASURED  # MEASURED or ECOLOGITS

    @classmethod
    @abstractmethod
    def from_spec(
        cls, name: str, spec: ModelSettings, max_tokens: int, seconds: float | None
    ) -> Generator:
        """Build the generator configured as [models.NAME] in commune.toml. ``max_tokens`` is
        [generation] max_tokens; ``seconds`` is [limits] generation_seconds (None: no limit),
        the time an answer may take: a backend that waits on a network waits no longer than
        that for the next byte (the caller stops reading then anyway, see :func:`within`),
        and under no limit still gives up on a silence of its own length (the
        OpenAI-compatible backend's SILENT_SECONDS), so that a stuck server holds no request
        for ever."""

    def __init__(self, name: str, max_tokens: int = 400, temperature: float = 0.1) -> None:
        self.name = name
        self.max_tokens = max_tokens
        self.temperature = temperature

    @abstractmethod
    def stream(
        self, messages: list[Message], max_tokens: int | None = None, *, language: str | None = None
    ) -> Iterator[str | Completion]:
        """Yield text deltas, then one :class:`Completion` with the whole text and usage.
        ``language`` is the asker's ("fr", "en"; None: not known): an endpoint's own errors,
        quoted in the note of an answer given without it, are asked for in it."""

    def warm_up(self) -> None:
        """Load what the first generation would (a local model's weights); nothing for an
        endpoint. A calibration meters the start-up apart, so that the energy per token it
        measures is the tokens', not the loading's."""
        return None  # an endpoint loads nothing here

    def complete(
        self, messages: list[Message], max_tokens: int | None = None, *, language: str | None = None
    ) -> Completion:
        for item in self.stream(messages, max_tokens, language=language):
            if isinstance(item, Completion):
                return item
        raise GeneratorUnavailable(f"model {self.name} ended without a completion")


# The ledger's token columns (a 32-bit INTEGER on PostgreSQL): no reply counts more.
MOST_TOKENS = 2**31 - 1


def _count(value: Any) -> int:
    """A usage count as the protocol gives it: a whole number of tokens, none (0) when not
    said. A negative one took energy off the member's month (the Wh estimated from it), and
    one past the ledger's column (or 1e999, read as infinity) failed the request."""
    if value is None:
        return 0
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MOST_TOKENS:
        raise ValueError(f"a token count is no whole number of tokens: {value!r}")
    return value


class ChatStream:
    """Reads OpenAI ``chat.completion.chunk`` events, from llama.cpp or any endpoint alike."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.usage: dict[str, int] = {}
        self.finish = "stop"
        self.finished = False  # a choice said why it ended (its finish_reason)

    def feed(self, event: dict[str, Any]) -> list[str]:
        """The text deltas an event carries (usage and finish reason are kept). An event off
        the protocol (usage that is no object of counts, content that is no text) raises
        ValueError or TypeError here, where the reader tells it from a reply."""
        usage = event.get("usage")
        if usage:
            if not isinstance(usage, dict):
                raise ValueError(f"usage is not an object: {usage!r}")
            self.usage = {k: _count(usage.get(k)) for k in ("prompt_tokens", "completion_tokens")}
        deltas = []
        for choice in event.get("choices", []):
            delta = (choice.get("delta") or {}).get("content")
            if delta:
                if not isinstance(delta, str):
                    raise TypeError(f"content is not text: {delta!r}")
                self.parts.append(delta)
                deltas.append(delta)
            if choice.get("finish_reason"):
                self.finish, self.finished = choice["finish_reason"], True
        return deltas

    def completion(self, model: str) -> Completion:
        return Completion(
            "".join(self.parts),
            model,
            int(self.usage.get("prompt_tokens") or 0),
            int(self.usage.get("completion_tokens") or 0),
            self.finish,
        )
