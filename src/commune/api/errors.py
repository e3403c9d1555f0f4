"""How errors reach an HTTP caller: Commune's own errors with their message and status; any
other exception as 500 with an incident number, its traceback in the operator's log only.

Only the library's own checks say what was wrong with a request (``InvalidRequest`` and the
other ``CommuneError``): a ``ValueError`` from a driver or a parser is a fault of ours, and its
message may show internals (paths, SQL, a model's reply), so it is answered like any other.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from commune.errors import CommuneError, Forbidden, NotFound
from commune.govern.members import AuthError
from commune.govern.quotas import QuotaExceeded
from commune.http.body import BodyTooLarge
from commune.text.messages import from_accept_language, localise

# The package logs through the standard library; `commune serve` sends it to stderr.
log = logging.getLogger("commune.api")

# OpenAI clients read error.type; anything not listed is the caller's request.
_OPENAI_KINDS = {
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "server_error",
}


class ErrorBody(BaseModel):
    detail: str = Field(description="What was wrong, then what to do next.")


def _refusal(why: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": why}


# The refusals any API route may answer, declared in the OpenAPI description (api/app.py puts
# them on every router but /healthz's); 422 FastAPI declares itself.
REFUSALS: dict[int | str, dict[str, Any]] = {
    400: _refusal("Refused: the detail says what was wrong and what to do next."),
    401: _refusal("No API key, or not a valid one."),
    403: _refusal("The key's role or member may not do this."),
    404: _refusal("No such document, collection, member or model."),
    413: _refusal("The body is over [limits] max_upload_mb (uploads) or max_body_kb."),
    429: _refusal("A quota, or too many wrong keys: retry after Retry-After seconds."),
    503: _refusal("The server is answering as many requests as it may: retry in a second."),
}


def error_response(
    request: Request,
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    **extra: str,
) -> Response:
    """``{"detail": message, **extra}``; for /v1/ also OpenAI's ``error`` object; for a web
    page (commune/web/ marks its requests) the web's error page instead."""
    if getattr(request.state, "page", None) is not None:
        shown: Response = request.app.state.error_page(request, status, message)
        shown.headers.update(headers or {})
        return shown
    # An API caller that prefers French reads the common errors in French (text/messages.py).
    message = localise(message, from_accept_language(request.headers.get("accept-language")))
    body: dict[str, Any] = {"detail": message, **extra}
    if request.url.path.startswith("/v1/"):
        body["error"] = {
            "message": message,
            "type": _OPENAI_KINDS.get(status, "invalid_request_error"),
            "code": status,
        }
    return JSONResponse(body, status_code=status, headers=headers)


async def _unauthenticated(request: Request, exc: Exception) -> Response:
    return error_response(request, 401, str(exc), {"WWW-Authenticate": "Bearer"})


async def _over_quota(request: Request, exc: Exception) -> Response:
    retry = exc.retry_after if isinstance(exc, QuotaExceeded) else 1
    if isinstance(exc, QuotaExceeded):
        request.state.quota_refused = exc.quota  # counted by /metrics (api/metrics.py)
    return error_response(request, 429, str(exc), {"Retry-After": str(retry)})


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_response(request, 404, str(exc))


async def _forbidden(request: Request, exc: Exception) -> Response:
    return error_response(request, 403, str(exc))


async def _invalid(request: Request, exc: Exception) -> Response:
    # InvalidRequest and every other CommuneError without a status of its own: the message
    # and its hint were written for the caller.
    return error_response(request, 400, str(exc))


async def _too_large(request: Request, exc: Exception) -> Response:
    return error_response(request, 413, exc.detail if isinstance(exc, BodyTooLarge) else str(exc))


async def _incident(request: Request, exc: Exception) -> Response:
    incident = uuid.uuid4().hex[:8]
    log.error("incident %s on %s %s", incident, request.method, request.url.path, exc_info=exc)
    return error_response(
        request,
        500,
        f"internal error (incident {incident}): the operator's log has it",
        incident=incident,
    )


def install_error_handlers(app: FastAPI) -> None:
    # Starlette picks the handler of the nearest class in the exception's MRO: a QuotaExceeded
    # (a CommuneError) gets 429, not 400; an InvalidRequest (also a ValueError) gets 400.
    app.add_exception_handler(BodyTooLarge, _too_large)  # http/body.py, while a body is read
    app.add_exception_handler(AuthError, _unauthenticated)
    app.add_exception_handler(QuotaExceeded, _over_quota)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(CommuneError, _invalid)
    app.add_exception_handler(Exception, _incident)
