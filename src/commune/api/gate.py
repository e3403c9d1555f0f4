"""Who may send a body to the API: the key is checked from the headers, before a byte of the
body is read (http/body.py asks here first). FastAPI reads a request's body before it runs
the route's dependencies, so without this a request with no key or a wrong one had its whole
upload spooled to disk before its 401 (issue 22)."""

from __future__ import annotations

from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from commune.api.auth import PEER_ROUTES, client_host, identify, key_from
from commune.api.errors import error_response
from commune.core import Commune
from commune.govern.members import AuthError
from commune.govern.quotas import QuotaExceeded
from commune.http.body import MACHINE_ROUTES, Gate
from commune.http.signins import FailedSignIns

# The routes that take a key; the rest are the web's pages (a session, checked by each page
# before it reads its form) and the public ones (GET only).
KEYED = MACHINE_ROUTES
NO_BODY = ("GET", "HEAD", "OPTIONS")


def keys_first(commune: Commune, failures: FailedSignIns, require_auth: bool) -> Gate:
    async def gate(scope: Scope) -> Response | None:
        if not require_auth or scope["method"] in NO_BODY or not scope["path"].startswith(KEYED):
            return None
        request = Request(scope)
        try:
            actor = await run_in_threadpool(
                identify,
                commune,
                failures,
                client_host(request),
                key_from(request),
                scope["path"].startswith(PEER_ROUTES),
            )
        except QuotaExceeded as exc:
            scope.setdefault("state", {})["quota_refused"] = exc.quota  # for /metrics
            return error_response(request, 429, str(exc), {"Retry-After": str(exc.retry_after)})
        except AuthError as exc:
            return error_response(request, 401, str(exc), {"WWW-Authenticate": "Bearer"})
        scope.setdefault("state", {})["authenticated"] = actor  # the route's Caller reuses it
        return None

    return gate
