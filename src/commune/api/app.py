"""The HTTP API and the web application, a thin layer over :class:`commune.core.Commune`.

Every API route needs an API key except ``/healthz`` and the transparency pages; the
web pages (commune/web/) need a signed-in session. What a caller sees is what its member
may read.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from commune import __version__
from commune.api.auth import Caller, FailedSignIns
from commune.core import Commune
from commune.errors import CommuneError, Forbidden, NotFound
from commune.govern.members import AuthError
from commune.govern.quotas import QuotaExceeded
from commune.http.sse import sse

# The package logs through the standard library; `commune serve` sends it to stderr.
log = logging.getLogger("commune.api")


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, description="What to search for.")
    collection: str | None = Field(None, description="Only this collection.")
    k: int = Field(10, gt=0, le=100, description="Number of hits.")


class AskRequest(BaseModel):
    question: str = Field(min_length=1)
    collection: str | None = None
    mode: str = Field(
        "auto",
        pattern="^(auto|extractive|generate)$",
        description="auto: as the charter decides (docs/charter.md); extractive: quote the "
        "sources; generate: a model writes a cited answer.",
    )
    model: str | None = None


def _offline_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the swagger-ui-bundle package (Apache-2.0), no CDN."""
    import swagger_ui_bundle
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    app.mount(
        "/static/swagger",
        StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
        name="swagger-ui",
    )

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="Commune API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon-32x32.png",
        )


def _request_log(app: FastAPI) -> None:
    """One structured line per request (JSON on logger ``commune.requests``): its id (also
    returned as X-Request-ID), route, status, duration, user and member. Never a key."""
    import time

    requests_log = logging.getLogger("commune.requests")

    @app.middleware("http")
    async def log_request(request: Request, call_next):  # type: ignore[no-untyped-def]
        rid = uuid.uuid4().hex[:16]
        request.state.request_id = rid
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            response.headers["X-Request-ID"] = rid
            return response
        finally:
            actor = getattr(request.state, "actor", None)
            requests_log.info(
                json.dumps(
                    {
                        "request_id": rid,
                        "method": request.method,
                        "path": request.url.path,
                        "status": status,
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                        "user": getattr(actor, "user", None),
                        "member": getattr(actor, "member", None),
                    },
                    ensure_ascii=False,
                )
            )


# The routes that do work in proportion to a question: the ones an overload is made of.
_HEAVY = ("/api/search", "/api/ask", "/v1/chat/completions", "/v1/embeddings", "/mcp")


# Our own pages run no inline script and load nothing from elsewhere. Swagger UI (/docs)
# ships its own inline start-up script, so it gets the other headers but not this policy.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' "
    "data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def _security_headers(app: FastAPI) -> None:
    @app.middleware("http")
    async def headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if not request.url.path.startswith(("/docs", "/static/swagger")):
            response.headers.setdefault("Content-Security-Policy", CSP)
        return response


def _overload_guard(app: FastAPI, limit: int) -> None:
    """Past ``limit`` heavy requests in flight, answer 503 with Retry-After at once."""
    state = {"in_flight": 0}

    @app.middleware("http")
    async def guard(request: Request, call_next):  # type: ignore[no-untyped-def]
        if not request.url.path.startswith(_HEAVY):
            return await call_next(request)
        if state["in_flight"] >= limit:
            return JSONResponse(
                {
                    "detail": f"the server is answering {limit} requests already: retry in a "
                    "second ([limits] max_concurrent_requests)"
                },
                status_code=503,
                headers={"Retry-After": "1"},
            )
        state["in_flight"] += 1  # one event loop: no lock needed between these lines
        try:
            return await call_next(request)
        finally:
            state["in_flight"] -= 1


def create_app(commune: Commune | None = None, require_auth: bool = True) -> FastAPI:
    commune = commune or Commune()
    app = FastAPI(
        title="Commune",
        version=__version__,
        description="Cited answers from a cooperative's documents commons.",
        docs_url=None,  # served below from a package, not a CDN: it must work offline
        redoc_url=None,
    )
    _offline_docs(app)
    # Added first, so that they sit inside the request log: refusals are logged too.
    _overload_guard(app, commune.settings.limits.max_concurrent_requests)
    _security_headers(app)
    _request_log(app)
    app.state.commune = commune
    app.state.require_auth = require_auth
    app.state.failed_sign_ins = FailedSignIns(commune.settings.web.failed_sign_ins_per_minute)
    commune.charter  # noqa: B018 -- validated at start-up: an invalid charter stops here

    def error(request: Request, status: int, message: str, **headers: str) -> Response:
        if getattr(request.state, "page", None) is not None:  # a web page: an error page
            shown = request.app.state.error_page(request, status, message)
            shown.headers.update(headers)
            return shown
        body: dict[str, Any] = {"detail": message}
        if request.url.path.startswith("/v1/"):
            # OpenAI clients read error.message; show them ours.
            kinds = {
                401: "authentication_error",
                403: "permission_error",
                404: "not_found_error",
                429: "rate_limit_error",
            }
            body["error"] = {
                "message": message,
                "type": kinds.get(status, "invalid_request_error"),
                "code": status,
            }
        return JSONResponse(body, status_code=status, headers=headers or None)

    @app.exception_handler(AuthError)
    async def unauthenticated(request: Request, exc: AuthError) -> Response:
        return error(request, 401, str(exc), **{"WWW-Authenticate": "Bearer"})

    @app.exception_handler(QuotaExceeded)
    async def over_quota(request: Request, exc: QuotaExceeded) -> Response:
        return error(request, 429, str(exc), **{"Retry-After": str(exc.retry_after)})

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return error(request, 404, str(exc))

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return error(request, 403, str(exc))

    @app.exception_handler(CommuneError)
    async def commune_error(request: Request, exc: CommuneError) -> Response:
        return error(request, 400, str(exc))

    @app.exception_handler(ValueError)
    async def bad_value(request: Request, exc: ValueError) -> Response:
        # Our own validation raises ValueError with a message meant for the caller; kept in
        # the log too, with its traceback, in case it came from deeper down.
        log.info("400 on %s %s: %s", request.method, request.url.path, exc, exc_info=exc)
        return error(request, 400, str(exc))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        incident = uuid.uuid4().hex[:12]
        log.error("incident %s on %s %s", incident, request.method, request.url.path, exc_info=exc)
        return error(
            request, 500, f"internal error (incident {incident}): the operator's log has it"
        )

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        with commune.engine.connect() as conn:
            from commune.store.repository import generation

            return {"status": "ok", "version": __version__, "generation": generation(conn)}

    @app.post("/api/search")
    async def search(req: SearchRequest, actor: Caller) -> list[dict[str, Any]]:
        hits = await run_in_threadpool(
            commune.search, req.query, req.collection, req.k, actor, "api/search"
        )
        return [h.to_json() for h in hits]

    @app.post("/api/ask")
    async def ask(req: AskRequest, actor: Caller) -> dict[str, Any]:
        answer = await run_in_threadpool(
            commune.ask, req.question, req.collection, req.mode, req.model, "api/ask", actor
        )
        return answer.to_json()

    @app.post("/api/ask/stream")
    async def ask_stream(req: AskRequest, actor: Caller) -> StreamingResponse:
        """Server-sent events: ``delta`` events carry verified text, ``answer`` the whole answer."""
        events = commune.ask_stream(
            req.question, req.collection, req.mode, req.model, "api/ask/stream", actor
        )
        first = await run_in_threadpool(next, events)  # errors before the stream get a status
        stream = sse(first, events, lambda answer: answer.to_json())
        return StreamingResponse(stream, media_type="text/event-stream")

    @app.get("/api/documents")
    def list_documents(
        actor: Caller, collection: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        if not 0 < limit <= 1000 or offset < 0:
            raise ValueError(f"limit must be 1..1000 and offset >= 0, got {limit}, {offset}")
        with commune.metered("api/documents", actor):
            return commune.documents(collection, limit, offset, actor)

    @app.post("/api/documents")
    async def upload(
        actor: Caller,
        files: Annotated[
            list[UploadFile], File(description="One or more txt, md, html, pdf, odt, docx.")
        ],
        collection: Annotated[str | None, Form(description="Collection to add to.")] = None,
        licence: Annotated[str | None, Form(description="SPDX licence expression.")] = None,
        publisher: Annotated[str | None, Form()] = None,
        source: Annotated[str | None, Form(description="Base URI of the documents.")] = None,
    ) -> JSONResponse:
        """Contribute documents (contributor role or above): each file's result, and why it
        failed or waits for curation. The same rules as `commune add`."""
        from commune.ingest.upload import contribute

        results = await contribute(
            commune, files, collection, licence, publisher, source, actor, "api/documents:upload"
        )
        ok = [r for r in results if r["status"] != "failed"]
        return JSONResponse({"files": results}, status_code=200 if ok else 400)

    @app.get("/api/collections")
    def list_collections(actor: Caller) -> list[dict[str, Any]]:
        with commune.metered("api/collections", actor):
            return commune.collections(actor)

    @app.get("/api/usage")
    def usage(
        actor: Caller, start: str | None = None, end: str | None = None, member: str | None = None
    ) -> dict[str, Any]:
        """Usage per day for dashboards: the caller's own, its member's for member admins,
        any member's for cooperative admins. ``start``/``end``: YYYY-MM-DD (default: 30 days)."""
        until = _date(end, "end") + timedelta(days=1) if end else _today() + timedelta(days=1)
        since = _date(start, "start") if start else until - timedelta(days=31)
        if since >= until:
            raise ValueError(f"start must be before end, got {start} and {end}")
        series = commune.usage_series(actor, since, until, member)
        return {
            "member": member or actor.member,
            "start": since.date().isoformat(),
            "end": (until - timedelta(days=1)).date().isoformat(),
            "days": series,
        }

    from commune.api.openai import router

    app.include_router(router(commune))
    _refresh(app, commune)
    _mcp(app, commune)

    def transparency_data_allowed(request: Request) -> None:
        if not commune.charter.utility.transparency_public:
            from commune.api.auth import current_actor

            current_actor(request)  # the charter keeps it to members: a key is needed

    def transparency_data(request: Request) -> dict[str, Any]:
        transparency_data_allowed(request)
        return commune.transparency()

    @app.get("/transparency.json")
    def transparency_json(request: Request) -> dict[str, Any]:
        """The charter in force and its history, the models, energy totals, the share of
        requests at each of the charter's steps, the latest evaluations."""
        return transparency_data(request)

    @app.get("/transparency/bom.json")
    def transparency_bom(request: Request) -> dict[str, Any]:
        """The latest bill of materials kept by `commune bom` (CycloneDX 1.6)."""
        transparency_data_allowed(request)
        return _latest_boms(commune)[-1]

    @app.get("/transparency/sovereignty.json")
    def transparency_sovereignty(request: Request) -> dict[str, Any]:
        """The sovereignty map of the latest bill, with what changed since the one before."""
        from commune.stack.sovereignty import sovereignty_map

        transparency_data_allowed(request)
        boms = _latest_boms(commune)
        previous = boms[-2] if len(boms) > 1 else None
        return sovereignty_map(boms[-1], commune.charter.sovereignty.jurisdictions, previous)

    @app.get("/transparency", response_class=HTMLResponse)
    def transparency_page(request: Request) -> str:
        from commune.charter.transparency import render_html

        return render_html(transparency_data(request))

    from commune.web.pages import install

    install(app, commune)  # the web application (commune/web/), on the same library calls
    return app


def _refresh(app: FastAPI, commune: Commune) -> None:
    """While the server runs, the search snapshot is refreshed in the background: no search
    waits for a change to be taken in (Commune.start_refresher)."""
    from contextlib import asynccontextmanager

    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any):  # type: ignore[no-untyped-def]
        await run_in_threadpool(commune.start_refresher)
        try:
            async with previous(a) as state:
                yield state
        finally:
            commune.stop_refresher()

    app.router.lifespan_context = lifespan


def _mcp(app: FastAPI, commune: Commune) -> None:
    """The MCP server's streamable HTTP endpoint at /mcp, when the mcp package is installed
    (`commune[mcp]`); its session manager runs in the app's lifespan."""
    from contextlib import asynccontextmanager

    try:
        from commune.api.mcp import http_routes

        routes, mcp_lifespan = http_routes(commune)
    except CommuneError:
        log.info("the mcp package is not installed: no /mcp endpoint")
        return
    app.router.routes.extend(routes)
    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any):  # type: ignore[no-untyped-def]
        async with mcp_lifespan(), previous(a) as state:
            yield state

    app.router.lifespan_context = lifespan


def _latest_boms(commune: Commune) -> list[dict[str, Any]]:
    """The two newest bills kept in the home (the newest last); built on the command line,
    not per request: hashing every model file takes seconds."""
    from commune.stack.bom import stored

    kept = stored(commune.settings.home)[-2:]
    if not kept:
        raise NotFound("no bill of materials yet", "the operator runs `commune bom` to make one")
    return [json.loads(p.read_text(encoding="utf-8")) for p in kept]


def _today() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _date(text: str, name: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{name} must be a date like 2026-11-23, got {text!r}") from None
