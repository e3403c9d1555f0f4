"""How errors reach an HTTP caller: Commune's own errors with their message and status; any
other exception as 500 with an incident number, its traceback in the operator's log only.

Only the library's own checks say what was wrong with a request (``InvalidRequest`` and the
other ``CommuneError``): a ``ValueError`` from a driver or a parser is a fault of ours, and its
message may show internals (paths, SQL, a model's reply), so it is answered like any other.
"""

from __future__ import annotations

import math
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from commune.api.bodies import unreadable
from commune.api.validation import numbers_as_written, one_line, param_of, what_is_wrong
from commune.errors import CommuneError, Forbidden, NotFound, cut, in_fields
from commune.govern.members import AuthError
from commune.govern.quotas import QuotaExceeded
from commune.http.body import MACHINE_ROUTES, BodyTooLarge, BodyTooSlow, envelope
from commune.http.incidents import incident
from commune.text import faults
from commune.text.messages import from_accept_language, localise
from commune.text.say import say

# The stable code of each refusal, for clients that must not parse the text (issue 24: the
# text is in the caller's language, French unless Accept-Language prefers English).
CODES = {
    400: "invalid_request",
    401: "authentication_failed",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "body_too_slow",
    413: "body_too_large",
    429: "rate_limited",
    500: "internal_error",
    503: "busy",
}


class ErrorBody(BaseModel):
    detail: str = Field(
        description="What was wrong, then what to do next: in French, or in English when "
        "Accept-Language prefers English."
    )
    code: str = Field(
        description="What was wrong, for programs: invalid_request, authentication_failed, "
        "forbidden, not_found, method_not_allowed, body_too_large, body_too_slow, "
        "rate_limited, "
        "quota_exceeded, internal_error, conflict (another request wrote the same thing at "
        "the same moment: retry), busy, or a fault of the server's machine (disk_full, "
        "read_only, permission_denied, "
        "database_locked, cannot_open_database, damaged_database, missing_file, link_loop; "
        "database_unreachable, a 503: PostgreSQL out of reach, retry; database_refused, a 503 "
        "without Retry-After: PostgreSQL refuses the server's login, a setting the operator "
        "must fix)."
    )
    incident: str | None = Field(
        None,
        description="For a fault of the server's (500, 409, a 503 of the database): the "
        "number the operator's log line names, to give them.",
    )


class OpenAIError(BaseModel):
    message: str = Field(description="The detail's line, in the caller's language.")
    type: str = Field(
        description="invalid_request_error, authentication_error, permission_error, "
        "not_found_error, conflict_error, rate_limit_error or server_error."
    )
    param: str | None = Field(
        description="The request's field at fault (messages[0].role), or null."
    )
    code: str = Field(description="The same as the body's code.")


class OpenAIErrorBody(BaseModel):
    """What a /v1 route answers when it refuses: OpenAI's error object, which its clients
    read, beside Commune's own fields."""

    error: OpenAIError
    detail: str | list[dict[str, Any]] = Field(
        description="The same line; for a body that does not match the schema, pydantic's "
        "list of what is wrong (and the line in message)."
    )
    code: str = Field(description="As ErrorBody's code.")
    message: str | None = Field(None, description="For a body that does not match the schema.")
    incident: str | None = Field(None, description="For a fault of the server's: its log line.")


def _refusals(body: type[BaseModel], bad_body: str) -> dict[int | str, dict[str, Any]]:
    def refusal(why: str) -> dict[str, Any]:
        return {"model": body, "description": why}

    return {
        400: refusal(f"Refused: the detail says what was wrong and what to do next.{bad_body}"),
        401: refusal("No API key, or not a valid one."),
        403: refusal("The key's role or member may not do this."),
        404: refusal("No such document, collection, member or model."),
        408: refusal(
            "The body did not keep arriving: past [limits] body_seconds, slower than "
            "body_min_kb_per_second."
        ),
        413: refusal("The body is over [limits] max_upload_mb (uploads) or max_body_kb."),
        409: refusal("Another request wrote the same thing at the same moment: retry."),
        429: refusal("A quota, or too many wrong keys: retry after Retry-After seconds."),
        503: refusal("The server is answering as many requests as it may: retry in a second."),
        500: refusal(
            "A fault of ours (internal_error) or of the server's machine (disk_full, …): "
            "incident names the operator's log line."
        ),
    }


# The refusals any API route may answer, declared in the OpenAPI description (api/app.py puts
# them on every router but /healthz's); 422 FastAPI declares itself.
REFUSALS = _refusals(ErrorBody, "")
# /v1's, in OpenAI's shape, which is what they answer. A body that does not match the schema
# is a 400 there, never FastAPI's 422, which the description declared until api/docs.py took
# it off /v1's routes: a client generated from it expected a body and a status never sent.
OPENAI_REFUSALS = _refusals(
    OpenAIErrorBody, " Also a body that does not match the schema (OpenAI answers 400, not 422)."
)


def language_of(request: Request) -> str:
    """The caller's language for messages: "en" when Accept-Language prefers English, else
    "fr"."""
    return from_accept_language(request.headers.get("accept-language"))


def error_response(
    request: Request,
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    code: str | None = None,
    openai: bool = False,
    mcp: bool = False,
    param: str | None = None,
    rpc: int | None = None,
    rpc_id: str | int | None = None,
    rpc_data: Any = None,
    **extra: str,
) -> Response:
    """``{"detail": message, "code": code, **extra}`` (``code`` by default from the status:
    :data:`CODES`); for /v1/ also OpenAI's ``error`` object, at /mcp a JSON-RPC error (its
    code ``rpc``, by default from the status, and ``rpc_id``, ``rpc_data`` as
    http/body.envelope says); for a web page (commune/web/ marks its
    requests) the web's error page instead."""
    if getattr(request.state, "page", None) is not None:
        shown: Response = request.app.state.error_page(request, status, message)
        shown.headers.update(headers or {})
        return shown
    # French unless the caller's Accept-Language prefers English (text/messages.py).
    message = localise(message, language_of(request))
    code = code or CODES.get(status, "invalid_request")
    # OpenAI's error.code is a string too (e.g. "invalid_api_key"): the same as ours.
    body: dict[str, Any] = {
        "detail": message,
        "code": code,
        **extra,
        # ``openai``, ``mcp``: a request an OpenAI or MCP client sent to another address than
        # its own (/v1's, /mcp).
        **envelope(
            "/v1/" if openai else "/mcp" if mcp else request.url.path,
            status,
            message,
            code,
            param,
            rpc,
            rpc_id,
            rpc_data,
        ),
    }
    return JSONResponse(body, status_code=status, headers=headers)


async def _unauthenticated(request: Request, exc: Exception) -> Response:
    return error_response(request, 401, in_fields(exc), {"WWW-Authenticate": "Bearer"})


async def _over_quota(request: Request, exc: Exception) -> Response:
    retry = exc.retry_after if isinstance(exc, QuotaExceeded) else 1
    if isinstance(exc, QuotaExceeded):
        request.state.quota_refused = exc.quota  # counted by /metrics (api/metrics.py)
    return error_response(request, 429, in_fields(exc), {"Retry-After": str(retry)}, code=_why(exc))


def _why(exc: Exception) -> str:
    """quota_exceeded for a member's or user's quota; rate_limited for too many wrong keys
    or sign-ins (http/signins.py)."""
    quota = getattr(exc, "quota", None)
    return "rate_limited" if quota in (None, "failed sign-ins") else "quota_exceeded"


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_response(request, 404, in_fields(exc))


async def _forbidden(request: Request, exc: Exception) -> Response:
    return error_response(request, 403, in_fields(exc))


async def _invalid(request: Request, exc: Exception) -> Response:
    # InvalidRequest and every other CommuneError without a status of its own: the message
    # and its hint were written for the caller (its field_hint where the hint is the CLI's).
    return error_response(request, 400, in_fields(exc), param=getattr(exc, "param", None))


async def _too_large(request: Request, exc: Exception) -> Response:
    if isinstance(exc, BodyTooLarge):  # a page's person is not told the operator's setting
        return error_response(request, 413, exc.said_at(request.url.path))
    return error_response(request, 413, str(exc))


async def _too_slow(request: Request, exc: Exception) -> Response:
    # Read by the route: through the framework's handler, a program read invalid_request and
    # a person on a page the operator's sentence naming [limits].
    said = exc.said_at(request.url.path) if isinstance(exc, BodyTooSlow) else str(exc)
    return error_response(request, 408, said)


# A fault's status where it is not the server's own bug (500): two writers met (409, send it
# again); the database is out of reach (503, as a monitor and a client's retry read it); the
# database refuses the server's login (503 too, the service is unavailable, but without
# Retry-After: a wrong database_url does not heal by retrying).
STATUS_OF = {"conflict": 409, "database_unreachable": 503, "database_refused": 503}


async def _incident(request: Request, exc: Exception) -> Response:
    where = f"on {request.method} {request.url.path}"
    # The request log's line of the same request (api/middleware.request_log): who asked.
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        where += f" (request {request_id})"
    failed = incident(exc, language_of(request), where)
    # Two writers met on one name (or PostgreSQL broke a deadlock): the request wrote nothing
    # and may be sent again, which 409 says to a client's retry logic; a 500 says "a bug".
    status = STATUS_OF.get(failed.code, 500)
    headers = {"Retry-After": "30"} if failed.code == "database_unreachable" else None
    return error_response(
        request, status, failed.message, headers, code=failed.code, incident=failed.number
    )


class Incidents:
    """An unexpected error answered inside our middleware, as every other refusal is. Left to
    Starlette's handler for Exception, it was answered outside them all, then raised again to
    the server: the 500, the one response an operator looks up in the request log, came
    without its X-Request-ID and a page's without the security headers, and uvicorn wrote a
    second traceback ("Exception in ASGI application") under the incident's. Added first,
    this sits innermost; an error once the response has started (a stream's) is the
    stream's to tell (http/sse.py), and goes on to the server."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started:
                raise
            response = await _incident(Request(scope, receive), exc)
            await response(scope, receive, send)


# The machine-facing routes, and the API's documents: their errors stay JSON whatever the
# client accepts.
_MACHINE = (*MACHINE_ROUTES, "/docs", "/openapi", "/metrics", "/healthz")


def _from_a_browser(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and not request.url.path.startswith(
        _MACHINE
    )


async def _framework(request: Request, exc: Exception) -> Response:
    """The framework's own refusals (an address no route has, a method a route does not
    take, a body it could not parse) in the same form as ours: a one-line detail and a code,
    OpenAI's error object on /v1, the web's page for a page. They came out as {"detail":
    "Not Found"}, in English."""
    status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
    headers = getattr(exc, "headers", None)
    allow = (headers or {}).get("Allow", "")
    # A route that takes GET takes HEAD too (api/middleware.HeadAsGet): Allow says so.
    if status == 405 and "GET" in allow.split(", ") and "HEAD" not in allow.split(", "):
        headers = {**(headers or {}), "Allow": f"{allow}, HEAD"}
    page_for = getattr(request.app.state, "page_for", None)
    if status in (404, 405) and page_for is not None and _from_a_browser(request):
        # A mistyped address, or a form's address opened again (GET /ask): a page in the
        # reader's language, not the API's JSON pointing at /docs.
        await page_for(request)
        if status == 404:
            message = "nothing at this address (check it, or start again from the question box)"
        else:
            message = (
                "this page is reached through its form, not by its address (start again from "
                "the question box)"
            )
        return error_response(request, status, message, headers, code=CODES.get(status))
    if status == 404 and re.search(r"/responses(?:/|$)", request.url.path):
        # OpenAI's newer API, the default of its agents SDK and of LangChain for some
        # features: "nothing at /v1/responses (check the address)" sent them to look for a typo.
        message = (
            "Commune answers through /v1/chat/completions, not OpenAI's Responses API "
            "(use chat completions; with LangChain, use_responses_api=False)"
        )
        return error_response(request, 404, message, headers, code=CODES[404], openai=True)
    # Before MCP's: an OpenAI route (POST /chat/completions without /v1) is an OpenAI client's,
    # whatever it accepts; one accepting server-sent events beside JSON, as a streaming client
    # may, was told of MCP instead of its base URL.
    meant = _openai_route(request.url.path) if status == 404 else None
    if meant is not None:
        base = str(request.base_url).rstrip("/") + "/v1"
        message = (
            f"nothing at {request.url.path}: the OpenAI-compatible API is at {meant} (give "
            f"your client the base URL {base})"
        )
        return error_response(request, 404, message, headers, code=CODES[404], openai=True)
    serves_mcp = getattr(request.app.state, "serves_mcp", False)
    if (
        status in (404, 405)
        and request.url.path != "/mcp"
        and serves_mcp
        and _from_an_mcp_client(request)
    ):
        # An agent's host given the server's address, or the old transport's /sse: the SDK
        # reads a refusal only as a JSON-RPC error, and without one told the agent "Not
        # Found" or "Server returned an error response", in English, and nothing of /mcp.
        language = language_of(request)
        base = str(request.base_url).rstrip("/") + "/mcp"
        path = request.url.path
        message = say(
            language,
            f"aucun serveur MCP à l'adresse {path}\u00a0: celui de Commune est à l'adresse /mcp, "
            "par le transport \u00ab\u00a0streamable HTTP\u00a0\u00bb "
            f"(donnez à votre client l'adresse {base})",
            f"no MCP server at {path}: Commune's is at /mcp, over streamable HTTP (give your "
            f"client the address {base})",
        )
        return error_response(request, status, message, headers, code=CODES[status], mcp=True)
    if status == 404:
        message = f"nothing at {request.url.path} (check the address; the API is listed at /docs)"
    elif status == 405:
        message = (
            f"{request.method} is not accepted at {request.url.path} (the API is listed at /docs)"
        )
    elif status == 400:  # a body the framework could not parse: its words were its own
        message = unreadable(request, str(getattr(exc, "detail", "")), exc.__cause__)
    else:
        message = str(getattr(exc, "detail", "")) or "refused"
    return error_response(request, status, message, headers, code=CODES.get(status))


def _from_an_mcp_client(request: Request) -> bool:
    """Whether an MCP client sent ``request``: one of MCP's own headers (a session's, the
    protocol version after the handshake), or, as streamable HTTP asks of every POST, an
    Accept of both JSON and server-sent events; or a GET for events, as the old SSE
    transport opens its stream. The API's own streams are POSTs, and the OpenAI clients
    accept JSON alone."""
    sent = request.headers
    if "mcp-protocol-version" in sent or "mcp-session-id" in sent:
        return True
    accept = sent.get("accept", "").lower()
    if "text/event-stream" not in accept:
        return False
    return request.method == "GET" or "application/json" in accept


# OpenAI's routes, as a client joins them to its base URL.
_OPENAI_ROUTE = re.compile(r"/(?:chat/completions|completions|embeddings|models(?:/[^/]+)?)")


def _openai_route(path: str) -> str | None:
    """The /v1 route a client meant when its base URL lacked /v1 (the commonest mistake:
    "http://host:8000"), had it twice, or named /api: it was told only "nothing at
    /chat/completions", without OpenAI's error object, so the openai client showed no
    message."""
    for start in range(len(path)):
        if path[start] == "/" and _OPENAI_ROUTE.fullmatch(path[start:]):
            return "/v1" + path[start:]
    return None


def _finite(value: Any) -> Any:
    """``value`` with every float that is not a number or is infinite written as text: pydantic
    echoes the input it refused ("question": 1e999 reads as inf), and JSON has no such number,
    so the refusal itself failed with a 500."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


# Of a list pydantic echoes as an error's input, the items kept; of lists within lists, the
# levels kept ("…" below them).
ECHOED_ITEMS = 20
ECHOED_DEPTH = 10


def _echoed(value: Any, depth: int = 0) -> Any:
    """An input pydantic echoes, as a refusal quotes a caller's value: each string cut after
    60 characters ("…"), a list to its first items. A role, a mode or a k of 300,000
    characters came back whole in the detail, 300 KB for one wrong field. An object is a
    list of its keys here: its first items, each key cut as a string is (an object of
    20,000 keys sent as a question came back whole, 200 KB). Lists or objects nested past
    :data:`ECHOED_DEPTH` levels are "…": a question sent as 500 lists one in the other was
    answered 500, the echo's encoding past Python's recursion limit."""
    if isinstance(value, str):
        return cut(value)
    if isinstance(value, dict | list | tuple) and depth >= ECHOED_DEPTH:
        return "…"
    if isinstance(value, dict):
        return {cut(str(k)): _echoed(v, depth + 1) for k, v in list(value.items())[:ECHOED_ITEMS]}
    if isinstance(value, list | tuple):
        return [_echoed(v, depth + 1) for v in value[:ECHOED_ITEMS]]
    return value


def _not_json(request: Request, errors: list[Any]) -> str | None:
    """The line for a JSON body sent under another Content-Type: FastAPI reads it as text,
    and curl -d, which sends application/x-www-form-urlencoded unless told otherwise, got
    "the request body: a JSON object is expected" for the JSON object it had sent."""
    if not any(e.get("loc") == ["body"] and isinstance(e.get("input"), str) for e in errors):
        return None
    return sent_not_as_json(request)


def sent_not_as_json(request: Request, plain_only: bool = False) -> str | None:
    """The line for a body whose Content-Type is not JSON's, in the caller's language, or
    None when it is JSON's. /mcp asks it before the SDK, which answered curl -d with a bare
    "Invalid Content-Type header", in English and not JSON-RPC; the SDK reads no JSON type
    but application/json itself (``plain_only``): application/vnd.api+json got the same
    bare line."""
    kind = request.headers.get("content-type", "").split(";")[0].strip()[:80]
    if kind.lower() == "application/json" or (kind.lower().endswith("+json") and not plain_only):
        return None  # read as JSON: the string was the body's own value ("abc")
    language = language_of(request)
    # Without a Content-Type the body is not read as JSON either: a form could send it.
    sent = (
        say(language, f"comme {kind}", f"as {kind}")
        if kind
        else say(language, "sans Content-Type", "without a Content-Type")
    )
    return say(
        language,
        f"le corps de la requête est envoyé {sent}, pas comme du JSON (envoyez l'en-tête "
        "Content-Type: application/json\u00a0; avec curl, -H 'Content-Type: application/json')",
        f"the request body is sent {sent}, not as JSON (send the header Content-Type: "
        "application/json; with curl, -H 'Content-Type: application/json')",
    )


# The pages' address values as a reader names them: the route's own name ("document_id :
# un nombre entier est attendu") was a developer's word on a French page. Every value a
# page's address takes that can be refused is here (tests/test_web.py checks it).
_PAGE_VALUES = {
    "document_id": ("le numéro du document", "the document's number"),
    "revision_id": ("le numéro de la révision", "the revision's number"),
    "key_id": ("le numéro de la clé", "the key's number"),
    "days": ("le nombre de jours", "the number of days"),
    "offset": ("la position dans la liste", "the position in the list"),
    "released": ("le nombre de révisions publiées", "the number of revisions published"),
    "revoked": ("le nombre de clés révoquées", "the number of keys revoked"),
    "dialect": ("le format du tableur", "the spreadsheet format"),
    "copies": ("le nombre de copies retirées", "the number of copies retired"),
}


def _page_value(loc: Any, language: str) -> tuple[Any, ...]:
    """``loc`` with its last part named as the pages name it, when they have a name for it."""
    parts = tuple(loc)
    if parts and isinstance(parts[-1], str) and parts[-1] in _PAGE_VALUES:
        return (*parts[:-1], say(language, *_PAGE_VALUES[parts[-1]]))
    return parts


async def _unprocessable(request: Request, exc: Exception) -> Response:
    """A request whose fields do not match the route's: FastAPI's own list, which the OpenAPI
    description declares, with the code and one line in the caller's language
    (api/validation.py) beside it, and OpenAI's error object on /v1 (its clients read that);
    or the web's page for a page."""
    from fastapi.encoders import jsonable_encoder

    # The inputs cut before they are encoded: encoding them whole (jsonable_encoder, then
    # _finite) recursed once per level of nesting.
    refused = exc.errors() if isinstance(exc, RequestValidationError) else []
    echoed = [{**e, "input": _echoed(e["input"])} if "input" in e else e for e in refused]
    errors = _finite(jsonable_encoder(echoed))
    if getattr(request.state, "page", None) is not None:
        # A person followed a link: which value is wrong and what it should be, in the
        # page's language, not pydantic's English for developers.
        language = request.state.page.language
        named = [{**e, "loc": _page_value(e.get("loc", ()), language)} for e in errors]
        wrong = what_is_wrong(numbers_as_written(named, language), language)
        said = say(
            language,
            f"une valeur de cette adresse n'est pas valide ({wrong})\u00a0: vérifiez le lien, "
            "ou repartez du menu",
            f"a value of this address is not valid ({wrong}): check the link, or start again "
            "from the menu",
        )
        shown: Response = request.app.state.error_page(request, 422, said)
        return shown
    # pydantic's list stays the detail (the OpenAPI description declares it; programs read
    # it); beside it, the code every other refusal carries and one line to show a person.
    line = _not_json(request, errors) or one_line(errors, language_of(request))
    body: dict[str, Any] = {"detail": errors, "code": CODES[400], "message": line}
    if request.url.path.startswith("/v1/"):
        body.update(envelope("/v1/", 400, line, CODES[400], param_of(errors)))
        # OpenAI answers a request it cannot use with 400, never 422, and its clients raise
        # BadRequestError for 400 only: n=2 or a missing model raised UnprocessableEntityError,
        # which code catching BadRequestError (a user message missing: 400) let through.
        return JSONResponse(body, status_code=400)
    return JSONResponse(body, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    # Starlette picks the handler of the nearest class in the exception's MRO: a QuotaExceeded
    # (a CommuneError) gets 429, not 400; an InvalidRequest (also a ValueError) gets 400.
    app.add_exception_handler(BodyTooLarge, _too_large)  # http/body.py, while a body is read
    app.add_exception_handler(BodyTooSlow, _too_slow)  # the same
    app.add_exception_handler(StarletteHTTPException, _framework)
    app.add_exception_handler(RequestValidationError, _unprocessable)
    app.add_exception_handler(AuthError, _unauthenticated)
    app.add_exception_handler(QuotaExceeded, _over_quota)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(CommuneError, _invalid)
    # The machine's faults (the database out of reach or refusing the login, a full disk)
    # answered by the same handler, but registered by class: Starlette's handler for
    # Exception answers, then raises the exception again for the server to log, and uvicorn
    # wrote "Exception in ASGI application" and a whole traceback under incidents.py's one
    # line, for every request while PostgreSQL was down; the request log and the metrics,
    # which saw the exception and not the answer, said 500 where the client was told 503.
    for fault in faults.machine_fault_classes():
        app.add_exception_handler(fault, _incident)
    app.add_exception_handler(Exception, _incident)
