"""The HTTP API and the web page, a thin layer over :class:`commune.core.Commune`."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from commune import __version__
from commune.core import Commune
from commune.errors import CommuneError, NotFound

WEB = Path(__file__).resolve().parent.parent / "web"


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, description="What to search for.")
    collection: str | None = Field(None, description="Only this collection.")
    k: int = Field(10, gt=0, le=100, description="Number of hits.")


class AskRequest(BaseModel):
    question: str = Field(min_length=1)
    collection: str | None = None
    mode: str = Field("extractive", pattern="^(extractive|generate)$")
    model: str | None = None


def create_app(commune: Commune | None = None) -> FastAPI:
    commune = commune or Commune()
    app = FastAPI(
        title="Commune",
        version=__version__,
        description="Cited answers from a cooperative's documents commons.",
    )
    app.state.commune = commune

    def error(request: Request, status: int, message: str) -> JSONResponse:
        body: dict[str, Any] = {"detail": message}
        if request.url.path.startswith("/v1/"):
            # OpenAI clients read error.message; show them ours.
            kind = "not_found_error" if status == 404 else "invalid_request_error"
            body["error"] = {"message": message, "type": kind, "code": status}
        return JSONResponse(body, status_code=status)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> JSONResponse:
        return error(request, 404, str(exc))

    @app.exception_handler(CommuneError)
    async def commune_error(request: Request, exc: CommuneError) -> JSONResponse:
        return error(request, 400, str(exc))

    @app.exception_handler(ValueError)
    async def bad_value(request: Request, exc: ValueError) -> JSONResponse:
        return error(request, 400, str(exc))

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        with commune.engine.connect() as conn:
            from commune.store.repository import generation

            return {"status": "ok", "version": __version__, "generation": generation(conn)}

    @app.post("/api/search")
    async def search(req: SearchRequest) -> list[dict[str, Any]]:
        hits = await run_in_threadpool(commune.search, req.query, req.collection, req.k)
        return [h.to_json() for h in hits]

    @app.post("/api/ask")
    async def ask(req: AskRequest) -> dict[str, Any]:
        answer = await run_in_threadpool(
            commune.ask, req.question, req.collection, req.mode, req.model
        )
        return answer.to_json()

    @app.post("/api/ask/stream")
    async def ask_stream(req: AskRequest) -> StreamingResponse:
        """Server-sent events: ``delta`` events carry verified text, ``answer`` the whole answer."""
        events = commune.ask_stream(req.question, req.collection, req.mode, req.model)
        first = await run_in_threadpool(next, events)  # errors before the stream get a status

        def sse() -> Iterator[str]:
            for item in itertools.chain([first], events):
                if isinstance(item, str):
                    data = json.dumps({"text": item}, ensure_ascii=False)
                    yield f"event: delta\ndata: {data}\n\n"
                else:
                    body = json.dumps(item.to_json(), ensure_ascii=False, default=str)
                    yield f"event: answer\ndata: {body}\n\n"

        return StreamingResponse(sse(), media_type="text/event-stream")

    @app.get("/api/documents")
    def list_documents(
        collection: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        if not 0 < limit <= 1000 or offset < 0:
            raise ValueError(f"limit must be 1..1000 and offset >= 0, got {limit}, {offset}")
        return commune.documents(collection, limit, offset)

    @app.get("/api/collections")
    def list_collections() -> list[dict[str, Any]]:
        return commune.collections()

    from commune.api.openai import router

    app.include_router(router(commune))

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return (WEB / "index.html").read_text(encoding="utf-8")

    return app
