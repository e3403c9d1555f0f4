"""Who is calling: an API key in ``Authorization: Bearer`` (or ``X-API-Key``)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPBearer

from commune.govern.members import AuthError, authenticate
from commune.govern.policy import OPERATOR, Actor
from commune.http.deps import get_commune


def key_in(headers: Mapping[str, str]) -> str | None:
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
    commune = get_commune(request)
    failures: FailedSignIns = request.app.state.failed_sign_ins
    host = request.client.host if request.client else "?"
    failures.check(host)
    key = key_from(request)
    try:
        with commune.engine.connect() as conn:
            actor = authenticate(conn, key)
    except AuthError:
        if key:  # a wrong key is a guess; no key at all is not
            failures.failed(host)
        raise
    request.state.actor = actor  # for the request log: who, never with which key
    return actor


class FailedSignIns:
    """Past ``limit`` wrong keys from one address within ``window_s``, that address is
    refused (HTTP 429, Retry-After) until the window has passed: guessing keys stays slow.
    In memory, one per app (so per server process)."""

    def __init__(self, limit: int = 20, window_s: float = 60.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self.seen: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def _recent(self, host: str, now: float) -> deque[float]:
        times = self.seen.setdefault(host, deque())
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def check(self, host: str) -> None:
        from datetime import UTC, datetime, timedelta

        from commune.govern.quotas import QuotaExceeded

        now = time.monotonic()
        with self.lock:
            times = self._recent(host, now)
            if len(times) < self.limit:
                return
            wait = max(1, int(self.window_s - (now - times[0])) + 1)
        raise QuotaExceeded(
            f"too many failed API keys from {host} ({self.limit} in {self.window_s:g} s)",
            "failed sign-ins",
            wait,
            datetime.now(UTC) + timedelta(seconds=wait),
        )

    def failed(self, host: str) -> None:
        with self.lock:
            now = time.monotonic()
            self._recent(host, now).append(now)
            if len(self.seen) > 10000:  # forget the addresses with no failure in the window
                for quiet in [
                    h for h, t in self.seen.items() if not t or now - t[-1] > self.window_s
                ]:
                    del self.seen[quiet]


Caller = Annotated[Actor, Depends(current_actor)]  # a route parameter: the authenticated actor
