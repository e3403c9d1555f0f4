"""Search and answers: ``/api/search``, ``/api/search/federated``, ``/api/ask`` and
``/api/ask/stream``."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from commune.api.answers import answer_json
from commune.api.auth import Caller
from commune.api.errors import language_of
from commune.api.schemas import AnswerReply, FederatedHits, Hit, described
from commune.charter.audience import plain, sees_everything
from commune.generate.base import AskerGone
from commune.http.departure import Departure, left
from commune.http.deps import CommuneDep
from commune.http.sse import STREAMED, ClosingStream, sse

router = APIRouter()


class SearchRequest(BaseModel):
    # No min_length: an empty query gets Commune's own message, in the reader's language.
    query: str = Field(description="What to search for.")
    collection: str | None = Field(None, description="Only this collection.")
    k: int = Field(10, gt=0, le=100, description="Number of hits.")


class AskRequest(BaseModel):
    question: str = Field(description="The question; an empty one gets Commune's own message.")
    collection: str | None = None
    mode: str = Field(
        "auto",
        pattern="^(auto|extractive|generate)$",
        description="auto: as the charter decides (docs/charter.md); extractive: quote the "
        "sources; generate: a model writes a cited answer.",
    )
    model: str | None = None
    peers: bool | None = Field(
        None,
        description="Ask the peer cooperatives too (docs/peering.md); null: as commune.toml's "
        "[peers] federate says.",
    )


@router.post("/api/search", **described(list[Hit], "The hits, best first."))
async def search(req: SearchRequest, actor: Caller, commune: CommuneDep) -> list[dict[str, Any]]:
    hits = await run_in_threadpool(
        commune.search,
        req.query,
        collection=req.collection,
        k=req.k,
        actor=actor,
        record="api/search",
    )
    return [h.to_json() for h in hits]


@router.post(
    "/api/search/federated",
    **described(FederatedHits, "This home's hits and the peers', fused."),
)
async def federated_search(
    req: SearchRequest, request: Request, actor: Caller, commune: CommuneDep
) -> dict[str, Any]:
    """This home's hits and the peer cooperatives' (docs/peering.md), fused. A route of its
    own, not an option of /api/search: the reply also says which of the peers' passages were
    withheld from the caller, and why, and which peers did not answer."""
    hits, withheld, notices = await run_in_threadpool(
        commune.federated_search,
        req.query,
        collection=req.collection,
        k=req.k,
        actor=actor,
        record="api/search",
        asker_language=language_of(request),
    )
    if not sees_everything(actor):  # as an answer's notice (charter/audience.py)
        notices = [plain(n) for n in notices]
    return {"hits": [h.to_json() for h in hits], "withheld": withheld, "notices": notices}


@router.post(
    "/api/ask",
    **described(AnswerReply, "The answer, its sources and the charter's decisions."),
)
async def ask(
    req: AskRequest, request: Request, actor: Caller, commune: CommuneDep
) -> dict[str, Any] | Response:
    departure = Departure()  # a client gone stops the model (http/departure.py)
    try:
        async with departure.watching(request.receive):
            answer = await run_in_threadpool(
                partial(commune.ask, asker_language=language_of(request), gone=departure),
                req.question,
                collection=req.collection,
                mode=req.mode,
                model=req.model,
                route="api/ask",
                actor=actor,
                peers=req.peers,
            )
    except AskerGone:  # recorded as abandoned (answering/path.py)
        return left()
    return answer_json(answer, actor)


@router.post("/api/ask/stream", response_class=StreamingResponse, responses=STREAMED)
async def ask_stream(
    req: AskRequest, request: Request, actor: Caller, commune: CommuneDep
) -> Response:
    """Server-sent events: ``delta`` events carry checked text, ``answer`` the whole answer."""
    departure = Departure()
    events = commune.ask_stream(
        req.question,
        collection=req.collection,
        mode=req.mode,
        model=req.model,
        route="api/ask/stream",
        actor=actor,
        peers=req.peers,
        asker_language=language_of(request),
        gone=departure,
    )
    try:
        async with departure.watching(request.receive):
            first = await run_in_threadpool(next, events)  # errors before the stream: a status
    except AskerGone:
        return left()
    stream = sse(first, events, partial(answer_json, actor=actor), language_of(request))
    return ClosingStream(stream, events, departure)
