"""Who is calling: an API key in ``Authorization: Bearer`` (or ``X-API-Key``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPBearer

from commune.govern.members import authenticate
from commune.govern.policy import OPERATOR, Actor


def key_in(headers: Any) -> str | None:
    """The API key in a request's headers (a mapping of lower-case names): a bearer token,
    else X-API-Key. The HTTP API and the MCP endpoint read keys the same way."""
    header = headers.get("authorization") or ""
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return headers.get("x-api-key")


def key_from(request: Request) -> str | None:
    return key_in(request.headers)


# Declared so that the OpenAPI description names how to authenticate; the key itself is read
# (and checked) below, the same way for both.
_BEARER = HTTPBearer(
    auto_error=False, description="An API key (`commune key create USER`), as a bearer token."
)
_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False, description="The same key, as a header.")


def current_actor(
    request: Request,
    _bearer: Annotated[Any, Security(_BEARER)] = None,
    _header: Annotated[Any, Security(_HEADER)] = None,
) -> Actor:
    """FastAPI dependency: the authenticated actor (AuthError -> 401 otherwise)."""
    if not request.app.state.require_auth:
        request.state.actor = OPERATOR
        return OPERATOR  # `commune serve --no-auth`: a single-user machine, loopback only
    commune = request.app.state.commune
    with commune.engine.connect() as conn:
        actor = authenticate(conn, key_from(request))
    request.state.actor = actor  # for the request log: who, never with which key
    return actor


Caller = Annotated[Actor, Depends(current_actor)]  # a route parameter: the authenticated actor
