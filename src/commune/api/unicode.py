"""Text in a JSON body is Unicode: a lone surrogate (``"\\ud800"`` with no partner), which
JSON's escapes can write but no UTF-8 can carry, is refused with one line (400) before it
reaches a parser, a model or the database, where it would fail with a codec's message."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from commune.errors import InvalidRequest


def _lone_surrogate(value: Any) -> str | None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"\\u{ord(value[exc.start]):04x}"
        return None
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        found = _lone_surrogate(key) if isinstance(key, str) else None
        if found or (found := _lone_surrogate(item)):
            return found
    return None


async def valid_unicode(request: Request) -> None:
    """A route dependency (api/app.py puts it on every API router): 400 for a JSON body
    holding a lone surrogate. The body was read and parsed already; this walks it again."""
    if "json" not in request.headers.get("content-type", ""):
        return
    try:
        body = await request.json()
    except ValueError:
        return  # not JSON at all: the route's own parsing says so (422)
    found = _lone_surrogate(body)
    if found:
        raise InvalidRequest(
            f"the JSON body holds a lone surrogate ({found}): text must be valid Unicode",
            "send the character itself in UTF-8, or both halves of its surrogate pair",
        )
