"""Peering between cooperatives (docs/peering.md): ``GET /peer/catalogue`` (public: what
this home shares, under which policy), ``POST /peer/search``, ``POST /peer/cited`` and
``POST /peer/retired`` (a peer's key: what it asks, what its answers cited, and which of
those documents were retired, or brought back, since)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from commune.api.auth import Caller
from commune.api.schemas import (
    PeerCatalogue,
    PeerCitedReply,
    PeerRetired,
    PeerSearchReply,
    described,
)
from commune.http.deps import CommuneDep

router = APIRouter()


class PeerSearch(BaseModel):
    query: str = Field(min_length=1, description="The question or words to search for.")
    k: int = Field(5, gt=0, le=20, description="Number of passages.")
    language: str | None = Field(
        None,
        max_length=10,
        description="The language the asking member reads (fr, en…), for the refusals and "
        "reasons sent back; absent or unknown: the query's own.",
    )


class PeerCited(BaseModel):
    cited: dict[int, int] = Field(
        description="The passages (chunk ids, as /peer/search gave them) an answer cited, "
        "each with the number of its sentences that cite it."
    )


class JSONLD(JSONResponse):
    # Its own type, declared so in /openapi.json, which said application/json.
    media_type = "application/ld+json"


@router.get(
    "/peer/catalogue",
    response_class=JSONLD,
    **described(PeerCatalogue, "The catalogue, in JSON-LD."),
)
async def catalogue(commune: CommuneDep) -> JSONLD:
    """The collections shared with peers: DCAT-AP, with an ODRL policy per dataset."""
    return JSONLD(await run_in_threadpool(commune.peer_catalogue))


@router.post("/peer/search", **described(PeerSearchReply, "The passages shared with the peer."))
async def search(req: PeerSearch, actor: Caller, commune: CommuneDep) -> dict[str, Any]:
    return await run_in_threadpool(
        commune.peer_search, req.query, actor=actor, k=req.k, language=req.language
    )


@router.post(
    "/peer/retired", **described(PeerRetired, "Documents retired, or brought back, since.")
)
async def retired(actor: Caller, commune: CommuneDep) -> dict[str, Any]:
    """The documents this peer's answers cited that this home has retired since, for the
    peer to forget their titles, and those brought back since, with their titles, for the
    peer to show them again, between its searches (each /peer/search reply says it too)."""
    return await run_in_threadpool(commune.peer_retired, actor=actor)


@router.post("/peer/cited", **described(PeerCitedReply, "The passages credited."))
async def cited(req: PeerCited, actor: Caller, commune: CommuneDep) -> dict[str, Any]:
    """``recorded``: the passages credited; ``dropped``: those that no longer match (not
    shared any more, or not returned to this peer), each with why."""
    return await run_in_threadpool(commune.peer_cited, req.cited, actor=actor)
