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
from commune.conversation import elliptic, question_of
from commune.errors import CommuneError, InvalidRequest
from commune.generate.base import AskerGone
from commune.http.departure import Departure, left
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


def _following(
    data: FormData, question: str, limit: int, language: str
) -> tuple[str, str | None, str]:
    """What is searched for ``question``; the earlier question it was read after (None: read
    alone); and the question the next follow-up is read after, which the answer sends back.
    The page sends back, in ``follows``, the last question that stood alone: « Et pour un
    passeport ? » after « Combien coûte une carte d'identité ? » was answered alone, with
    whatever "un passeport" found (the citizen walk, stop 61). The rule is /v1's for a chat's
    turns (commune/conversation.py): only a question that opens as a follow-up (« et », « pour
    un … », "what about") is joined, within the length a question may have and in the same
    language; and a follow-up read alone is no question to follow, as /v1 skips it: it leaves
    the one before (« And the yellow bin? » after a French question made « Et pour le
    carton ? », asked next, be read alone)."""
    follows = field(data, "follows").replace("\r\n", "\n").strip()
    if not follows or not question:
        return question, None, question
    searched = question_of([follows, question], limit, language)
    if searched != question:
        return searched, follows, follows
    return question, None, (follows if elliptic(question) else question)


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
    data = await form(p)
    question, collection, mode = _question(data)
    limit = commune.settings.limits.max_query_chars
    searched, followed, after = _following(data, question, limit, p.language)
    answer, failed = None, None
    departure = Departure()  # a reader gone stops the model (http/departure.py)
    try:
        async with departure.watching(p.request.receive):
            answer = await run_in_threadpool(
                partial(commune.ask, asker_language=p.language, gone=departure),
                _asked(searched),
                collection=collection,
                mode=mode,
                route="web/ask",
                actor=actor,
            )
    except AskerGone:  # recorded as abandoned (answering/path.py)
        return left()
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
        limit=limit,
        followed=followed,
        # The next question may follow the last one that stood alone (_following).
        follows=after if answer else field(data, "follows"),
    )


@router.post("/ask/stream")
async def ask_stream(p: PageOf, actor: SignedIn, commune: TheCommune) -> Response:
    """Server-sent events for the page's script: ``delta`` (text that passed the citation
    checks), then ``answer`` with the answer rendered by the same template as without script."""
    data = await form(p)
    question, collection, mode = _question(data)
    limit = commune.settings.limits.max_query_chars
    searched, followed, after = _following(data, question, limit, p.language)
    departure = Departure()
    events = commune.ask_stream(
        _asked(searched),
        collection=collection,
        mode=mode,
        route="web/ask",
        actor=actor,
        asker_language=p.language,
        gone=departure,
    )
    try:
        async with departure.watching(p.request.receive):
            first = await run_in_threadpool(next, events)  # errors before the stream: a status
    except AskerGone:
        return left()

    def rendered(answer: Any) -> dict[str, Any]:
        return {
            "html": fragment(
                p,
                "_answer.html",
                answer=shown(answer, actor).to_json(),
                followed=followed,
                follows=after,
            )
        }

    stream = sse(first, events, rendered, p.language)
    return ClosingStream(stream, events, departure)
