"""The commons' documents and collections: list, contribute (``/api/documents``) and
``/api/collections``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse

from commune.api.auth import Caller
from commune.errors import InvalidRequest
from commune.http.deps import CommuneDep

router = APIRouter()


@router.get("/api/documents")
def list_documents(
    actor: Caller,
    commune: CommuneDep,
    collection: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    if not 0 < limit <= 1000 or offset < 0:
        raise InvalidRequest(f"limit must be 1..1000 and offset >= 0, got {limit}, {offset}")
    with commune.metered("api/documents", actor):
        return commune.documents(collection, limit=limit, offset=offset, actor=actor)


@router.post("/api/documents")
async def upload(
    actor: Caller,
    commune: CommuneDep,
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
    results = await commune.contribute(
        files=files,
        collection=collection,
        licence=licence,
        publisher=publisher,
        source=source,
        actor=actor,
        route="api/documents:upload",
    )
    ok = [r for r in results if r["status"] != "failed"]
    return JSONResponse({"files": results}, status_code=200 if ok else 400)


@router.get("/api/collections")
def list_collections(actor: Caller, commune: CommuneDep) -> list[dict[str, Any]]:
    with commune.metered("api/collections", actor):
        return commune.collections(actor)
