"""Server-sent events of an answer: ``delta`` events carry checked text as it comes, then
one ``answer`` event carries the whole answer (as JSON for the API, rendered for the page)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from commune.generate.base import AskerGone
from commune.http.departure import Departure
from commune.http.incidents import incident
from commune.text.messages import localise

# How a route declares its stream in the OpenAPI description (``responses=STREAMED``).
STREAMED: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-sent events, as they come.",
        "content": {
            "text/event-stream": {
                # OpenAPI 3.1 has no schema for a stream's events (3.2's itemSchema): each
                # event's data is named here, its fields in the components named.
                "schema": {
                    "type": "string",
                    "description": 'Events: `delta`, data {"text"}: the answer\'s checked '
                    "text so far, in parts; `answer`, data: an AnswerReply (as /api/ask's "
                    'reply), the last; `error`, data: an ErrorBody ({"detail", "code", '
                    '"incident"}), a failure after the stream began.',
                }
            }
        },
    }
}


class ClosingStream(StreamingResponse):
    """A streamed answer that closes its answer when the response ends, however it ends.

    Starlette neither closes a body it iterates nor knows of the answer behind it: a client
    that left midway left the answer's generator suspended until Python's garbage collector
    happened to run, so its ledger row and decision record came late or never, and its
    quota hold stayed. Closing ``answer`` runs its "abandoned" branch (answering/path.py);
    closing an answer that finished does nothing. The body's thread has returned by then
    (anyio waits for a thread it cannot cancel), so nothing is closed while it runs.

    That thread may be in a model's generation, waiting for its next checked sentence:
    ``departure`` (the one the answer was asked with, AskRequest.gone) is told the client
    left, and the model stops at its next token, where it wrote on to its end for nobody."""

    def __init__(
        self, body: Iterator[str], answer: Iterator[Any], departure: Departure | None = None
    ) -> None:
        super().__init__(body, media_type="text/event-stream")
        self._closing = (body, answer)
        self._departure = departure or Departure()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with self._departure.watching(receive):
                await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):  # a client gone cancels the scope
                await run_in_threadpool(self._close)

    def _close(self) -> None:
        for generator in self._closing:
            close = getattr(generator, "close", None)
            if close is not None:
                close()


def failure(exc: Exception, language: str) -> dict[str, str]:
    """What a stream that fails midway tells its reader, as a 500 would have (api/errors.py)."""
    failed = incident(exc, language, "in a streamed answer")
    message = localise(failed.message, language)
    return {"message": message, "code": failed.code, "incident": failed.number}


def guarded(
    chunks: Iterator[str], language: str, ending: Callable[[dict[str, str]], Iterator[str]]
) -> Iterator[str]:
    """``chunks``; if they fail after the response's 200 went out, ``ending`` of the failure:
    an event the client reads as an error, where the stream would otherwise just stop and
    a client take a cut answer for a whole one."""
    try:
        yield from chunks
    except AskerGone:
        return  # nobody to tell, and no failure: the ledger has the answer as abandoned
    except Exception as exc:  # noqa: BLE001 -- every failure is logged, and told to the reader
        yield from ending(failure(exc, language))


def sse(
    first: Any, rest: Iterator[Any], answer: Callable[[Any], Any], language: str
) -> Iterator[str]:
    """``first`` was taken before the response started, so that errors get a status; one
    that comes later is an ``error`` event ({"detail", "code", "incident"})."""

    def events() -> Iterator[str]:
        for item in itertools.chain([first], rest):
            if isinstance(item, str):
                data = json.dumps({"text": item}, ensure_ascii=False)
                yield f"event: delta\ndata: {data}\n\n"
            else:
                body = json.dumps(answer(item), ensure_ascii=False, default=str)
                yield f"event: answer\ndata: {body}\n\n"

    def error(failed: dict[str, str]) -> Iterator[str]:
        body = {"detail": failed["message"], "code": failed["code"], "incident": failed["incident"]}
        yield f"event: error\ndata: {json.dumps(body, ensure_ascii=False)}\n\n"

    return guarded(events(), language, error)
