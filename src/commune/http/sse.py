"""Server-sent events of an answer: ``delta`` events carry checked text as it comes, then
one ``answer`` event carries the whole answer (as JSON for the API, rendered for the page)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

# How a route declares its stream in the OpenAPI description (``responses=STREAMED``).
STREAMED: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-sent events, as they come.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


def sse(first: Any, rest: Iterator[Any], answer: Callable[[Any], Any]) -> Iterator[str]:
    """``first`` was taken before the response started, so that errors get a status."""
    for item in itertools.chain([first], rest):
        if isinstance(item, str):
            data = json.dumps({"text": item}, ensure_ascii=False)
            yield f"event: delta\ndata: {data}\n\n"
        else:
            body = json.dumps(answer(item), ensure_ascii=False, default=str)
            yield f"event: answer\ndata: {body}\n\n"
