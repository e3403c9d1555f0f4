"""The HTTP API and the web page, a thin layer over :class:`commune.core.Commune`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
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


def create_app(commune: Commune | None = None) -> FastAPI:
    commune = commune or Commune()
    app = FastAPI(
        title="Commune",
        version=__version__,
        description="Cited answers from a cooperative's documents commons.",
    )
    app.state.commune = commune

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(CommuneError)
    async def commune_error(_: Request, exc: CommuneError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(ValueError)
    async def bad_value(_: Request, exc: ValueError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

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
        answer = await run_in_threadpool(commune.ask, req.question, req.collection)
        return answer.to_json()

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

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return (WEB / "index.html").read_text(encoding="utf-8")

    return app
