"""Who is calling: an API key in ``Authorization: Bearer`` (or ``X-API-Key``). Wrong keys
are counted by ``commune.http.signins.FailedSignIns``, the same count for the API, /mcp and
the web's sign-in page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPBearer

from commune.core import Commune
from commune.govern.members import AuthError
from commune.govern.policy import OPERATOR, Actor
from commune.http.deps import get_commune
from commune.http.signins import FailedSignIns, key_prefix


def key_in(headers: Mapping[str, str]) -> str | None:
    """The API key in a request's headers (a mapping of lower-case names): a bearer token,
    else X-API-Key. The HTTP API and the MCP endpoint read keys the same way."""
    header = headers.get("authorization") or ""
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return headers.get("x-api-key")


# Where a peer cooperative's key is valid (govern/members.authenticate).
PEER_ROUTES = "/peer/"


def key_from(request: Request) -> str | None:
    return key_in(request.headers)


def identify(
    commune: Commune, failures: FailedSignIns, host: str, key: str | None, peer_route: bool = False
) -> Actor:
    """The actor holding ``key``; AuthError (401) when nobody does, QuotaExceeded (429) for
    a wrong key past the limits. No key at all is not a guess: never counted."""
    try:
        return commune.authenticate(key, peer_route=peer_route)
    except AuthError:
        if key:
            failures.failed(host, key_prefix(key))
        raise


def client_host(request: Request) -> str:
    """The caller's address: the connection's, or the one a trusted proxy forwarded
    (``[web] trusted_proxies``; api/app.py believes no one else)."""
    return request.client.host if request.client else "?"


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
    # A request with a body had its key checked before the body was read (api/gate.py).
    actor: Actor | None = getattr(request.state, "authenticated", None)
    if actor is None:
        failures: FailedSignIns = request.app.state.failed_sign_ins
        actor = identify(
            get_commune(request),
            failures,
            client_host(request),
            key_from(request),
            peer_route=request.url.path.startswith(PEER_ROUTES),
        )
    request.state.actor = actor  # for the request log: who, never with which key
    return actor


Caller = Annotated[Actor, Depends(current_actor)]  # a route parameter: the authenticated actor
