"""OpenAI-compatible routes, so members' existing tools can talk to the commons.

``POST /v1/chat/completions`` answers the last user message from the commons.
``model`` is a configured generator, or ``extractive`` for the model-free
answer. Extra request field ``collection`` limits retrieval (the openai client
sends it with ``extra_body``). Responses carry ``citations`` (source URIs, in
[n] order) and ``commune`` (sources with title, section and licence, the
answer mode, and any notice). A streamed answer is sent sentence by sentence,
each one only once its citations were checked: nobody reads an unchecked
sentence.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from commune.api.auth import Caller
from commune.config import LimitsSettings
from commune.errors import InvalidRequest
from commune.http.deps import CommuneDep

if TYPE_CHECKING:
    from commune.answering.answer import Answer
    from commune.core import Commune

EXTRACTIVE = "extractive"
AUTO = "auto"  # the charter chooses (docs/charter.md)


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    model: str = Field(
        description="'auto' (the charter chooses), 'extractive', or a configured model."
    )
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    collection: str | None = Field(None, description="Commune extension: retrieve from it only.")
    max_tokens: int | None = Field(None, gt=0)
    temperature: float | None = None


class EmbeddingRequest(BaseModel):
    model: str
    input: str | list[str]


def _text(content: str | list[dict[str, Any]] | None) -> str:
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if p.get("type") == "text")
    return content or ""


def _payload(answer: Answer) -> dict[str, Any]:
    return {
        "mode": answer.mode,
        "found": answer.found,
        "notice": answer.notice,
        "model": answer.model,
        "sources": [vars(s) for s in answer.sources],
        "energy": answer.energy,
        "licence_notes": answer.licence_notes,
        "excluded": answer.excluded,
        "decisions": answer.decisions,
    }


def _closing(answer: Answer) -> dict[str, Any]:
    return {
        "usage": {
            "prompt_tokens": answer.input_tokens,
            "completion_tokens": answer.output_tokens,
            "total_tokens": answer.input_tokens + answer.output_tokens,
        },
        "citations": [s.source for s in answer.sources],
        "commune": _payload(answer),
    }


def _sse(base: dict[str, Any], first: Any, events: Iterator[Any]) -> Iterator[str]:
    """OpenAI chat.completion.chunk events; each text piece was checked before it is sent."""

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {
            **base,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(body, ensure_ascii=False, default=str)}\n\n"

    yield event({"role": "assistant"})
    for item in itertools.chain([first], events):
        if isinstance(item, str):
            yield event({"content": item})
        else:
            yield event({}, "stop", **_closing(item))
    yield "data: [DONE]\n\n"


def _models(commune: Commune) -> dict[str, Any]:
    from commune.embed import available
    from commune.generate.registry import model_specs

    now = int(time.time())
    data = [
        {"id": name, "object": "model", "created": now, "owned_by": "commune"}
        for name in (AUTO, EXTRACTIVE)
    ]
    data += [
        {"id": name, "object": "model", "created": now, "owned_by": spec.backend}
        for name, spec in sorted(model_specs(commune.settings).items())
    ]
    data += [
        {"id": name, "object": "model", "created": now, "owned_by": "commune-embedding"}
        for name in available()
    ]
    return {"object": "list", "data": data}


def _bounded(texts: list[str], limits: LimitsSettings) -> None:
    """A request's inputs within [limits]: 2,000 inputs of 1,000 characters held a worker
    297 s (issue 22), so their number and their characters in all are bounded."""
    if len(texts) > limits.max_embedding_inputs:
        raise InvalidRequest(
            f"at most {limits.max_embedding_inputs} inputs per request ([limits] "
            f"max_embedding_inputs), got {len(texts)}",
            "send them in several requests",
        )
    chars = sum(len(t) for t in texts)
    if chars > limits.max_embedding_chars:
        raise InvalidRequest(
            f"at most {limits.max_embedding_chars} characters in all per request ([limits] "
            f"max_embedding_chars), got {chars}",
            "send them in several requests",
        )


router = APIRouter(prefix="/v1")


@router.get("/models")
def models(actor: Caller, commune: CommuneDep) -> dict[str, Any]:
    with commune.metered("v1/models", actor):
        return _models(commune)


@router.post("/embeddings")
async def embeddings(req: EmbeddingRequest, actor: Caller, commune: CommuneDep) -> dict[str, Any]:
    texts = [req.input] if isinstance(req.input, str) else req.input
    _bounded(texts, commune.settings.limits)
    embedder, vectors, tokens = await run_in_threadpool(
        commune.embed, texts, model=req.model, actor=actor, record="v1/embeddings"
    )
    return {
        "object": "list",
        "model": embedder.name,
        "data": [
            {"object": "embedding", "index": i, "embedding": v.tolist()}
            for i, v in enumerate(vectors)
        ],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


@router.post(
    "/chat/completions",
    responses={
        200: {
            "description": "A chat.completion, or with stream=true chat.completion.chunk "
            "events, each sentence once its citations were checked.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def chat(req: ChatRequest, actor: Caller, commune: CommuneDep) -> Any:
    question = next((_text(m.content) for m in reversed(req.messages) if m.role == "user"), "")
    if not question.strip():
        raise InvalidRequest("messages must contain a user message with text")
    mode = req.model if req.model in (AUTO, EXTRACTIVE) else "generate"
    model = req.model if mode == "generate" else None
    ident = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    base = {"id": ident, "created": int(time.time()), "model": req.model}
    route = "v1/chat/completions"
    if not req.stream:
        answer = await run_in_threadpool(
            commune.ask,
            question,
            collection=req.collection,
            mode=mode,
            model=model,
            route=route,
            actor=actor,
        )
        message = {"role": "assistant", "content": answer.text}
        return {
            **base,
            "object": "chat.completion",
            "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
            **_closing(answer),
        }
    # Take the first piece before answering, so that a bad collection or model
    # still gets an HTTP error status rather than a broken stream.
    events = commune.ask_stream(
        question, collection=req.collection, mode=mode, model=model, route=route, actor=actor
    )
    first = await run_in_threadpool(next, events)
    return StreamingResponse(_sse(base, first, events), media_type="text/event-stream")
