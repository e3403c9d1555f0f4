"""The commons' documents and collections: list, contribute (``/api/documents``) and
``/api/collections``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from commune.api.auth import Caller
from commune.api.errors import language_of
from commune.api.schemas import CollectionRow, Contributions, Document, described
from commune.errors import InvalidRequest
from commune.http.deps import CommuneDep
from commune.text.messages import localise

router = APIRouter()


MAX_LIMIT = 1000
# Far past any commons, and well inside SQLite's 64-bit integers: 2**63 made the driver raise
# OverflowError, a 500 for any key holder (issue 22).
MAX_OFFSET = 1_000_000_000
# A document's id, as SQLite's and PostgreSQL's 64-bit integers hold it.
MAX_ID = 2**63 - 1


@router.get(
    "/api/documents",
    **described(list[Document], "The documents, in id order."),
)
def list_documents(
    actor: Caller,
    commune: CommuneDep,
    collection: str | None = None,
    # The bounds are stated in the schema and checked here, so that a value out of them gets
    # the same 400 and message as before, not a 422.
    limit: Annotated[int, Query(json_schema_extra={"minimum": 1, "maximum": MAX_LIMIT})] = 100,
    offset: Annotated[int, Query(json_schema_extra={"minimum": 0, "maximum": MAX_OFFSET})] = 0,
    after: Annotated[
        int | None,
        Query(
            description="The id of the last document of the page before: the next page starts "
            "after it, and a document that left the listing meanwhile (retired, its collection "
            "made private) does not shift it, as it shifts an offset.",
            json_schema_extra={"minimum": 0, "maximum": MAX_ID},
        ),
    ] = None,
) -> list[dict[str, Any]]:
    if not 0 < limit <= MAX_LIMIT or offset < 0:
        raise InvalidRequest(f"limit must be 1..{MAX_LIMIT} and offset >= 0, got {limit}, {offset}")
    if offset > MAX_OFFSET:
        raise InvalidRequest(f"offset must be 0..{MAX_OFFSET}, got {offset}")
    if after is not None and not 0 <= after <= MAX_ID:
        raise InvalidRequest(f"after must be 0..{MAX_ID}, got {after}")
    with commune.metered("api/documents", actor):
        return commune.documents(collection, limit=limit, offset=offset, actor=actor, after=after)


class FileResult(BaseModel):
    """One file of an upload: what became of it, and why."""

    file: str | None = Field(description="The file's name (its last part).")
    status: Literal["added", "updated", "unchanged", "failed"]
    document_id: int | None = Field(None, description="The document it is, or became.")
    chunks: int | None = Field(None, description="Its passages.")
    error: str | None = Field(None, description="Why it failed, in the caller's language.")
    held: str | None = Field(None, description="Why it waits for a reviewer.")
    note: str | None = Field(
        None,
        description="What of it could not be read though it was added (a PDF's pages "
        "without text).",
    )


class Uploaded(BaseModel):
    files: list[FileResult]


# A 400 is either an upload none of whose files went in (each file's result, as a 200's) or
# a refusal of the whole request (a licence, a role, a collection's name): the description
# declared only the refusal's shape, and a client generated from it failed on the other.
UPLOAD_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"model": Uploaded, "description": "At least one file went in: each file's result."},
    400: {
        "description": "No file went in (each file's result, why it failed), or the whole "
        "upload was refused: the detail says what was wrong and what to do next.",
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [
                        {"$ref": "#/components/schemas/Uploaded"},
                        {"$ref": "#/components/schemas/ErrorBody"},
                    ]
                }
            }
        },
    },
}


@router.post("/api/documents", responses=UPLOAD_ANSWERS)
async def upload(
    request: Request,
    actor: Caller,
    commune: CommuneDep,
    files: Annotated[
        list[UploadFile], File(description="One or more txt, md, html, pdf, odt, ods, docx.")
    ],
    collection: Annotated[str | None, Form(description="Collection to add to.")] = None,
    licence: Annotated[str | None, Form(description="SPDX licence expression.")] = None,
    publisher: Annotated[str | None, Form()] = None,
    source: Annotated[str | None, Form(description="Base URI of the documents.")] = None,
) -> JSONResponse:
    """Contribute documents (contributor role or above): each file's result, and why it
    failed or waits for curation. The same rules as `commune add`."""
    if collection is None:
        # FastAPI reads a form field sent empty as one left out: `-F collection=$COLLECTION`
        # with the variable unset published to the cooperative's default collection, shared
        # with every member. Sent empty, it reaches the library, which refuses the name as
        # `commune add --collection ''` does; left out, the default takes the files.
        sent = (await request.form()).get("collection")
        collection = sent if isinstance(sent, str) else None
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
    language = language_of(request)
    for r in results:  # each file's error in the caller's language, as the request's own
        if r.get("error"):
            r["error"] = localise(r["error"], language)
        if r.get("note"):
            r["note"] = localise(r["note"], language)
        if r.get("held"):
            r["held"] = _held(r["held"], language)
    return JSONResponse({"files": results}, status_code=200 if ok else 400)


def _held(reason: str, language: str) -> str:
    """Why a file waits for a reviewer, in the words the contribute page and `commune add`
    use: the pages' catalogue has the hold reasons (web/i18n.py), text/messages.py not."""
    from commune.web import i18n

    i18n.use(language)
    return i18n.translate(reason)


@router.get("/api/contributions", **described(Contributions, "The caller's own contributions."))
def list_contributions(
    request: Request, actor: Caller, commune: CommuneDep
) -> dict[str, list[dict[str, Any]]]:
    """The caller's own contributions, newest first (the last 50): where each revision
    stands, why it waits, and the last reviewer's decision and reason (or its retirement).
    The contribute page showed them; a program that uploaded through the API read only each
    upload's answer, and nothing of what a reviewer decided later."""
    language = language_of(request)
    with commune.metered("api/contributions", actor):
        rows = commune.contributions(actor)
    listed = []
    for r in rows:
        review = r.get("review")
        listed.append(
            {
                "document_id": r["document_id"],
                "revision_id": r["id"],
                "revision": r["number"],
                "title": r["title"],
                "collection": r["collection"],
                # A program's word, as an upload's "status": the same in every language.
                "status": r["status"],
                "held": _held(r["hold_reason"], language) if r.get("hold_reason") else None,
                "review": {**review, "reason": _held(review["reason"], language)}
                if review
                else None,
                "added_at": r.get("created_at"),  # in UTC, said so ("…Z")
            }
        )
    return {"contributions": listed}


@router.get(
    "/api/collections",
    **described(list[CollectionRow], "The collections the caller may read."),
)
def list_collections(actor: Caller, commune: CommuneDep) -> list[dict[str, Any]]:
    with commune.metered("api/collections", actor):
        return commune.collections(actor)
