"""Asking the commons: the question page, its answer without script, and the answer streamed
to the page's script as server-sent events."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from commune.charter.audience import shown
from commune.errors import CommuneError, InvalidRequest
from commune.http.sse import ClosingStream, sse
from commune.web.forms import refused
from commune.web.i18n import gettext as _
from commune.web.page import PageOf, SignedIn, TheCommune, field, form
from commune.web.render import fragment, render

router = APIRouter(include_in_schema=False)

MODES = ("auto", "extractive", "generate")


def _question(data: FormData) -> tuple[str, str | None, str]:
    """The question, its collection (None: every one readable) and how to answer."""
    # A form sends each line break of a text box as "\r\n", where the box's maxlength (and
    # the person typing) counted one character: a long question of many lines, accepted by
    # its box, was refused as over the limit by the characters the box had not shown.
    question = field(data, "question").replace("\r\n", "\n").strip()
    mode = field(data, "mode", "auto")
    return question, field(data, "collection") or None, mode if mode in MODES else "auto"


def _asked(question: str) -> str:
    if not question:
        raise InvalidRequest(_("Write a question first."))
    return question


@router.get("/", response_class=HTMLResponse)
def home(p: PageOf, actor: SignedIn, commune: TheCommune) -> Response:
    collections = commune.collections(actor)
    return render(
        p,
        "ask.html",
        collections=collections,
        question="",
        answer=None,
        limit=commune.settings.limits.max_query_chars,
    )


@router.post("/ask", response_class=HTMLResponse)
async def ask(p: PageOf, actor: SignedIn, commune: TheCommune) -> Response:
    question, collection, mode = _question(await form(p))
    answer, failed = None, None
    try:
        answer = await run_in_threadpool(
            partial(commune.ask, asker_language=p.language),
            _asked(question),
            collection=collection,
            mode=mode,
            route="web/ask",
            actor=actor,
        )
    except CommuneError as exc:
        failed = refused(p, "ask", exc)  # the question stays in its box
    collections = await run_in_threadpool(commune.collections, actor)
    return render(
        p,
        "ask.html",
        failed.status if failed else 200,
        collections=collections,
        question=question,
        answer=shown(answer, actor).to_json() if answer else None,
        chosen=collection,
        mode=mode,
        failed=failed,
        limit=commune.settings.limits.max_query_chars,
    )


@router.post("/ask/stream")
async def ask_stream(p: PageOf, actor: SignedIn, commune: TheCommune) -> Response:
    """Server-sent events for the page's script: ``delta`` (text that passed the citation
    checks), then ``answer`` with the answer rendered by the same template as without script."""
    question, collection, mode = _question(await form(p))
    events = commune.ask_stream(
        _asked(question),
        collection=collection,
        mode=mode,
        route="web/ask",
        actor=actor,
        asker_language=p.language,
    )
    first = await run_in_threadpool(next, events)  # errors before the stream get a status

    def rendered(answer: Any) -> dict[str, Any]:
        return {"html": fragment(p, "_answer.html", answer=shown(answer, actor).to_json())}

    stream = sse(first, events, rendered, p.language)
    return ClosingStream(stream, events)
