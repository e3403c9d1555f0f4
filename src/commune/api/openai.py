"""OpenAI-compatible routes, so members' existing tools can talk to the commons.

``POST /v1/chat/completions`` answers the last user message from the commons (a follow-up
with the question it follows: commune/conversation.py), and
``POST /v1/completions`` (the legacy text completions, LlamaIndex's default) its prompt, by
the same answering path. ``model`` is ``auto`` (the charter chooses), a configured
generator, or ``extractive`` for the model-free answer. Extra request field ``collection``
limits retrieval (the openai client sends it with ``extra_body``). A streamed answer is sent
sentence by sentence, each one only once its citations were checked: nobody reads an
unchecked sentence.

Where the sources go (docs/api.md): LangChain, LlamaIndex and litellm keep a message's text
and drop fields they do not know, so the ``[n]`` markers would point at nothing. The one
place every client keeps is the content: it ends with the numbered sources (and, when the
charter answered otherwise than asked, why), unless the request says
``"sources_in_content": false``. The same sources are in ``message.annotations`` (OpenAI's
own ``url_citation`` shape, which the openai client types), ``citations`` (source URIs, in
[n] order) and ``commune`` (sources with title, section and licence, the answer mode, the
charter's decisions).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import time
import uuid
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from commune.answering.search import blank
from commune.answering.substitution import AUTO, EXTRACTIVE, Substitution, answered_by, substitution
from commune.api.answers import energy_of
from commune.api.auth import Caller
from commune.api.errors import STATUS_OF, language_of
from commune.api.schemas import (
    ChatCompletion,
    EmbeddingList,
    ModelCard,
    ModelList,
    TextCompletion,
    described,
)
from commune.charter.audience import shown
from commune.config import LimitsSettings
from commune.conversation import question_of
from commune.errors import InvalidRequest, NotFound
from commune.errors import shown as quoted
from commune.generate.base import AskerGone
from commune.http.body import envelope
from commune.http.departure import Departure, left
from commune.http.deps import CommuneDep
from commune.http.sse import ClosingStream, guarded
from commune.text import tokens

if TYPE_CHECKING:
    from commune.answering.answer import Answer
    from commune.core import Commune
    from commune.govern.policy import Actor

SOURCES_IN_CONTENT = (
    "Commune extension: end the content with the numbered sources (default), for clients "
    "that keep only the text (LangChain, LlamaIndex, litellm); false to get the text alone "
    "and read `citations`, `annotations` and `commune`."
)


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[dict[str, Any]] | None = None


# Never empty: an empty name once reached the default generator, past the check that refuses
# a model nobody configured (fuzzing found it, a local model held 9 s).
ModelName = Annotated[
    str,
    Field(
        min_length=1,
        description="'auto' (the charter chooses), 'extractive', or a configured model.",
    ),
]


# Clients send it by default (LlamaIndex's OpenAILike, 0.1): accepted, so that they work, and
# not applied, since an answer is a checked one, not a model's free text.
IGNORED = (
    "Accepted for the clients that send it, and ignored: a generated answer's sampling is "
    "the model's configuration (docs/generation.md)."
)

# max_tokens and stop were accepted and ignored: a client asking for 5 tokens got 95, one
# stopping at "\n" (LangChain's stop=, a ReAct agent's "Observation:") got the text after it.
# Both now cut what is sent, as a model told so would have stopped: the sentences kept were
# checked, and [generation] max_tokens still bounds what the model writes.
CUT_AT = "The content ends before the first of these, as a model's would (finish_reason stop)."
AT_MOST = (
    "The answer's text is cut after this many tokens (cl100k_base), finish_reason length; "
    "the sources of the citations kept and the licence notes follow it."
)


# One answer per request: n=2 was answered with one choice, and a client reading the second
# failed with an IndexError far from the cause.
ONE_CHOICE = "How many choices: 1 only (an answer is the commons' one checked answer)."


# Tools and structured output were accepted and ignored: LangChain's
# with_structured_output(method="function_calling") then returned None, a forced tool_choice
# no tool call and no word of why. An answer is text with its sources, so these are refused.
NO_TOOLS = 'Refused unless empty (or tool_choice is "none"): Commune calls no tools.'
TEXT_ONLY = 'Only {"type": "text"}: an answer is text with its sources, not JSON.'

# Accepted and ignored, these came back as nothing where the client looked: logprobs=True
# gave choices[0].logprobs None (LangChain's response_metadata["logprobs"] too), audio a
# message without audio, echo a text without its prompt, an image part an answer to the
# words beside it alone ("no relevant passage" for "What does this picture show?").
NO_LOGPROBS = "Refused unless false or null: an answer is checked text, not sampled tokens."
NO_AUDIO = 'Refused unless ["text"] or null: an answer is text with its sources.'
NOT_INSERTED = "Refused unless false or null: the text is the answer alone."


class StreamOptions(BaseModel):
    include_usage: bool = Field(
        False,
        description="usage in one more chunk, with no choices, after the last (OpenAI's "
        "way); without it, the last chunk carries usage.",
    )


class ChatRequest(BaseModel):
    model: ModelName
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    collection: str | None = Field(None, description="Commune extension: retrieve from it only.")
    sources_in_content: bool = Field(True, description=SOURCES_IN_CONTENT)
    max_tokens: int | None = Field(None, gt=0, description=AT_MOST)
    max_completion_tokens: int | None = Field(None, gt=0, description=AT_MOST)
    stop: str | list[str] | None = Field(None, description=CUT_AT)
    temperature: float | None = Field(None, description=IGNORED)
    n: int | None = Field(None, ge=1, le=1, description=ONE_CHOICE)
    tools: list[dict[str, Any]] | None = Field(None, description=NO_TOOLS)
    tool_choice: str | dict[str, Any] | None = Field(None, description=NO_TOOLS)
    functions: list[dict[str, Any]] | None = Field(None, description=NO_TOOLS)
    function_call: str | dict[str, Any] | None = Field(None, description=NO_TOOLS)
    response_format: dict[str, Any] | None = Field(None, description=TEXT_ONLY)
    logprobs: bool | None = Field(None, description=NO_LOGPROBS)
    top_logprobs: int | None = Field(None, description=NO_LOGPROBS)
    modalities: list[str] | None = Field(None, description=NO_AUDIO)
    audio: dict[str, Any] | None = Field(None, description=NO_AUDIO)


def _no_token_probabilities(**asked: Any) -> None:
    for name, value in asked.items():
        if value:  # False, 0 and null ask for nothing
            raise InvalidRequest(
                f"{name} is not offered: an answer is checked text, without token probabilities",
                f"leave {name} out",
                param=name,
            )


def _read_only_text(messages: list[ChatMessage]) -> None:
    """Refuse a question (the last user message) with a part that is not text (an image, a
    sound, a file): it was dropped, and the words beside it answered as if it had not been
    sent. An earlier turn's is not read, as earlier turns are not (docs/generation.md):
    refused, it would refuse every later question of a chat application's conversation."""
    users = [i for i, message in enumerate(messages) if message.role == "user"]
    parts = messages[users[-1]].content if users else None
    if not isinstance(parts, list):
        return
    for j, part in enumerate(parts):
        kind = part.get("type")
        if kind != "text":
            raise InvalidRequest(
                f"messages[{users[-1]}].content[{j}] is a part of type {kind!r}: Commune reads "
                "only the text of a message",
                "ask the question in words",
                param=f"messages[{users[-1]}].content[{j}]",
            )


def _text_only(req: ChatRequest) -> None:
    """Refuse what asks for something other than a text answer: a tool call, JSON, token
    probabilities, audio; and a question that is not all text."""
    # A tool call forced without tools ("required", or one function named) was answered with
    # text, and the client that forced it found no tool_calls.
    forced = next(
        (
            name
            for name, value in (
                ("tool_choice", req.tool_choice),
                ("function_call", req.function_call),
            )
            if value not in (None, "none", "auto")
        ),
        None,
    )
    offered = (req.tools and req.tool_choice != "none") or (
        req.functions and req.function_call != "none"
    )
    if offered or forced:
        # Forced with none offered, the hint was to send "without tools", as it was sent; and
        # functions offered were told of tool_choice, which does not apply to them.
        if not offered:
            hint = f"leave {forced} out"
        elif req.tools and req.tool_choice != "none":
            hint = 'send the request without tools, or with tool_choice "none"'
        else:
            hint = 'send the request without functions, or with function_call "none"'
        raise InvalidRequest(
            "Commune calls no tools: it answers from the commons' documents, with their sources",
            hint,
            param=forced or ("tools" if req.tools else "functions"),
        )
    kind = (req.response_format or {}).get("type", "text")
    if kind != "text":
        raise InvalidRequest(
            f"response_format {kind!r} is not offered: an answer is text with its sources",
            "leave response_format out, and read the sources from citations",
            param="response_format",
        )
    _no_token_probabilities(logprobs=req.logprobs, top_logprobs=req.top_logprobs)
    if req.audio is not None or set(req.modalities or ()) - {"text"}:
        name = "audio" if req.audio is not None else "modalities"
        raise InvalidRequest(
            f"{name} is not offered: an answer is text with its sources, not sound",
            f"leave {name} out",
            param=name,
        )
    _read_only_text(req.messages)


class CompletionRequest(BaseModel):
    model: ModelName
    # Token ids (cl100k_base), which the openai client's types allow: refused with "a string
    # is expected" once per id, they are read as the embeddings' are.
    prompt: str | list[str] | list[int] | list[list[int]] = Field(
        description="The question (one prompt per request), as text or cl100k_base token ids."
    )
    stream: bool = False
    stream_options: StreamOptions | None = None
    collection: str | None = Field(None, description="Commune extension: retrieve from it only.")
    sources_in_content: bool = Field(True, description=SOURCES_IN_CONTENT)
    max_tokens: int | None = Field(None, gt=0, description=AT_MOST)
    stop: str | list[str] | None = Field(None, description=CUT_AT)
    temperature: float | None = Field(None, description=IGNORED)
    n: int | None = Field(None, ge=1, le=1, description=ONE_CHOICE)
    logprobs: int | None = Field(None, description=NO_LOGPROBS)
    echo: bool | None = Field(None, description=NOT_INSERTED)
    suffix: str | None = Field(None, description=NOT_INSERTED)


def _answer_alone(req: CompletionRequest) -> None:
    """Refuse what asks for more than the answer's text: its tokens' probabilities, the
    prompt before it (echo), a text after it (suffix, for inserting)."""
    _no_token_probabilities(logprobs=req.logprobs)
    if req.echo:
        raise InvalidRequest(
            "echo is not offered: the text is the answer alone, without the prompt",
            "leave echo out, and put the prompt you sent before the text",
            param="echo",
        )
    if req.suffix:
        raise InvalidRequest(
            "suffix is not offered: an answer is not written to go before a text",
            "leave suffix out",
            param="suffix",
        )


class EmbeddingRequest(BaseModel):
    model: str
    # Token ids (cl100k_base) are what LangChain's OpenAIEmbeddings sends by default.
    input: str | list[str] | list[int] | list[list[int]]
    # "base64" was answered with lists of floats: the openai client, asked for base64, hands
    # its caller what the server sent, and their b64decode failed on a list.
    encoding_format: Literal["float", "base64"] = Field(
        "float", description="float: lists of numbers; base64: little-endian float32 bytes."
    )
    # Ignored, a vector of another size came back, and a store made for that size refused it
    # far from the cause (or, sized by the first vector, held two sizes).
    dimensions: int | None = Field(
        None, gt=0, description="The model's own dimension only: vectors are not shortened."
    )


def _sized(model: str, dimensions: int | None) -> None:
    """Refuse, before any work, a model that is not an embedder's, or a ``dimensions`` the
    model does not make."""
    from commune.embed import get_embedder

    embedder = get_embedder(model)  # an unknown name is refused here, before any work
    if dimensions is not None and dimensions != (dim := embedder.dim):
        raise InvalidRequest(
            f"{model} makes vectors of {dim} dimensions, not {dimensions}",
            "leave dimensions out, or ask another model (GET /v1/models)",
            param="dimensions",
        )


def _encoded(vector: Any, encoding: str) -> list[float] | str:
    """One vector as OpenAI sends it: numbers, or base64 of its float32 bytes, little-endian
    (the openai client decodes it with numpy's frombuffer)."""
    if encoding == "base64":
        return base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")
    return list(vector.tolist())


def _text(content: str | list[dict[str, Any]] | None) -> str:
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if p.get("type") == "text"]
        for text in parts:
            # {"type": "text", "text": {"a": 1}} was answered as the question "{'a': 1}".
            if not isinstance(text, str):
                raise InvalidRequest(
                    f"a text part's text must be a string, got {type(text).__name__}"
                )
        return " ".join(parts)
    return content or ""


# LlamaIndex's messages_to_prompt, which its OpenAILike uses for chat() unless told
# is_chat_model=True: "role: content" lines, then "assistant: " for the reply.
_TURN = re.compile(r"^(system|developer|user|assistant|tool|function|chatbot|model): ", re.M)


def _asked(prompt: str) -> list[str]:
    """The user turns in a text completion's ``prompt``, the question last: a conversation
    written out as LlamaIndex writes it was taken whole for the question ("system: …\nuser:
    Quand passe le camion ?\nassistant: "), and nothing was found. Any other prompt is one
    turn, itself."""
    turns = list(_TURN.finditer(prompt))
    if not turns or turns[0].start() != 0 or prompt.rstrip() != prompt[: turns[-1].end()].rstrip():
        return [prompt]  # not a whole conversation that ends by giving the assistant the word
    if turns[-1].group(1) != "assistant":
        return [prompt]
    users = [
        prompt[turn.end() : after.start()].strip()
        for turn, after in zip(turns, turns[1:], strict=False)
        if turn.group(1) == "user"
    ]
    # A conversation whose last user turn is empty, or that has none, asks nothing: it was
    # searched whole, its system message for the question. Empty, it is refused, as a chat
    # with no user text is.
    return users or [""]


def _said(message: ChatMessage) -> str:
    """An earlier turn's text, for conversation.question_of: one whose parts are not text
    was never read, and is not a reason to refuse the question after it."""
    try:
        return _text(message.content)
    except InvalidRequest:
        return ""


def _payload(answer: Answer) -> dict[str, Any]:
    return {
        "mode": answer.mode,
        "found": answer.found,
        "notice": answer.notice,
        "model": answer.model,
        "sources": [vars(s) for s in answer.sources],
        "energy": energy_of(answer),
        "licence_notes": answer.licence_notes,
        "language_note": answer.language_note,
        "excluded": answer.excluded,
        "decisions": answer.decisions,
    }


def _appendix(answer: Answer, replaced: Substitution | None, cited: str | None = None) -> str:
    """What ends the content: the numbered sources, the licence notes and any substitution,
    in the question's language, as plain text that reads the same rendered as Markdown or
    not. ``cited``: the text that max_tokens kept, whose citations only are listed (the
    notes are kept whole: what a licence asks holds for the part kept too)."""
    fr = answer.language == "fr"
    lines = []
    for s in answer.sources:
        if cited is not None and f"[{s.n}]" not in cited:
            continue
        where = " — ".join(x for x in (s.title, s.section) if x)
        licence = f" ({s.licence})" if s.licence else ""
        # A peer cooperative's passage says whose it is, as every other face does: the
        # content is all many clients keep, and it named the source as if this home's.
        via = f" — via {s.origin['peer']}" if s.origin else ""
        lines.append(f"[{s.n}] {where}, {s.source}{licence}{via}")
    parts = []
    # The labels keep an ordinary space before their colon, unlike the pages' French
    # (text/typography.py): clients split the content on "\n\nSources :\n" and "Note : ",
    # as docs/generation.md shows it, and a no-break space would break their scripts.
    if lines:
        parts.append(("Sources :" if fr else "Sources:") + "\n" + "\n".join(lines))
    # What the sources' licences and policies ask of whoever reuses the answer (share-alike,
    # a peer's collection shared share-alike, no derivatives) and what was left out and why,
    # a peer's "via" it: the library's notes, as the web, the API and the CLI show them. The
    # sources named a peer and the content said nothing of its terms, and the content is all
    # many clients keep.
    if answer.language_note:  # quoted in the sources' language, said in the question's
        parts.append(answer.language_note)
    parts += answer.licence_notes
    if replaced is not None:
        parts.append(("Note : " if fr else "Note: ") + replaced.notice)
    return "".join("\n\n" + p for p in parts)


def _annotations(text: str, answer: Answer) -> list[dict[str, Any]]:
    """OpenAI's ``url_citation`` annotations: each [n] marker in ``text`` with its source."""
    out = []
    for s in answer.sources:
        marker = f"[{s.n}]"
        start = text.find(marker)
        while start != -1:
            out.append(
                {
                    "type": "url_citation",
                    "url_citation": {
                        "start_index": start,
                        "end_index": start + len(marker),
                        "url": s.source,
                        "title": " — ".join(x for x in (s.title, s.section) if x),
                    },
                }
            )
            start = text.find(marker, start + 1)
    return sorted(out, key=lambda a: a["url_citation"]["start_index"])


def _usage(answer: Answer, prompt: str, completion: str) -> dict[str, Any]:
    """The model's own counts when a model ran; otherwise Commune counts the question and
    the content it sent (an extractive or cached answer ran no model, and reported 0)."""
    if answer.input_tokens or answer.output_tokens:
        given, made, method = answer.input_tokens, answer.output_tokens, "model"
    else:
        given, made, method = tokens.count(prompt), tokens.count(completion), tokens.method()
    return {
        "prompt_tokens": given,
        "completion_tokens": made,
        "total_tokens": given + made,
        "method": method,  # an extension: how they were counted (docs/api.md)
    }


def _refusal(answer: Answer) -> str | None:
    """The charter's refusal in OpenAI's own field for one, beside the content (which keeps
    it for the clients that read only the text): a refused question came back as an answer,
    and a program could not tell them apart without reading Commune's extension."""
    return answer.text if answer.mode == "refused" else None


_MARKER_CUT = re.compile(r"\s*\[\d*$")


class _Cut:
    """``stop`` and ``max_tokens`` applied to the content as it is sent, piece by piece: it
    ends before the first stop sequence, or at the token limit, as a model's text would. A
    piece's end that may begin a stop sequence is held until the next shows whether it
    does. The limit counts the answer's text, not what follows it (:meth:`_Shape.rest`)."""

    def __init__(self, stop: str | list[str] | None, limit: int | None):
        self.stops = [s for s in ([stop] if isinstance(stop, str) else stop or []) if s]
        self.limit = limit
        self.sent = ""
        self.held = ""
        self.reason: str | None = None  # "stop" or "length" once cut

    def feed(self, text: str, last: bool = False, counted: bool = True) -> str:
        """What of ``text`` may be sent now (``last``: nothing comes after it). ``counted``
        false: ``text`` follows the answer's text, and the limit applies only to what was
        held of that."""
        if self.reason is not None:
            return ""
        bounded = len(self.held) if not counted else None
        text = self.held + text
        self.held = ""
        ends = [i for s in self.stops if (i := text.find(s)) != -1]
        if ends:
            text, self.reason = text[: min(ends)], "stop"
        elif not last:
            for k in range(min(len(text), max(map(len, self.stops), default=1) - 1), 0, -1):
                if any(s.startswith(text[-k:]) for s in self.stops):
                    text, self.held = text[:-k], text[-k:]
                    break
        if self.limit is not None:
            n = len(text) if bounded is None else min(bounded, len(text))
            kept = tokens.head(self.sent + text[:n], self.limit)
            if len(kept) < len(self.sent) + n:
                # A citation cut ("… commune. [1" of "[1]" or "[12]") read as a whole one,
                # with no source listed for it, or another's: it is not sent.
                text, self.reason = _MARKER_CUT.sub("", kept)[len(self.sent) :], "length"
        self.sent += text
        return text

    def follow(self, text: str) -> str:
        """``text`` sent after the answer's text that the limit cut, up to a stop sequence."""
        ends = [i for s in self.stops if (i := (self.sent + text).find(s)) != -1]
        if ends:
            text = text[: max(0, min(ends) - len(self.sent))]
        self.sent += text
        return text


class _Shape:
    """One answer as a /v1 response: chat or text completion, sources in the content or not."""

    def __init__(
        self,
        kind: str,
        requested: str,
        sources_in_content: bool,
        prompt: str,
        actor: Actor,
        options: StreamOptions | None = None,
        cut: _Cut | None = None,
    ):
        self.kind = kind  # "chat" or "text"
        self.cut = cut or _Cut(None, None)
        # stream_options.include_usage: usage came on the last chunk with its choice, and
        # code written to OpenAI's way (usage in a chunk of its own, with no choices: "if
        # not chunk.choices: chunk.usage") never read it.
        self.usage_apart = options is not None and options.include_usage
        self.actor = actor  # who is shown the commands and settings in the reasons
        self.requested = requested
        self.sources_in_content = sources_in_content
        self.prompt = prompt
        prefix = "chatcmpl" if kind == "chat" else "cmpl"
        self.base = {
            "id": f"{prefix}-{uuid.uuid4().hex[:24]}",
            "created": int(time.time()),
            "model": requested,
        }

    def tail(self, answer: Answer, cited: str | None = None) -> str:
        replaced = substitution(self.requested, answer)
        return _appendix(answer, replaced, cited) if self.sources_in_content else ""

    def rest(self, answer: Answer) -> str:
        """What is sent after the answer's text. Cut by max_tokens, the text keeps its
        citations' sources and any substitution's note, whole: they were cut with the rest,
        and a client reading only the content got "[2]" with no source line, or "[1] Verre,
        /srv/comm", and no note of a model replaced. Cut by a stop sequence, nothing: the
        client asked for nothing past it."""
        text = "" if self.cut.reason else self.cut.feed(self.tail(answer), True, counted=False)
        if self.cut.reason == "length":
            text += self.cut.follow(self.tail(answer, cited=self.cut.sent))
        return text

    def closing(self, answer: Answer, content: str) -> dict[str, Any]:
        replaced = substitution(self.requested, answer)
        return {
            "model": answered_by(self.requested, answer),
            "usage": _usage(answer, self.prompt, content),
            "citations": [s.source for s in answer.sources],
            "commune": {
                **_payload(answer),
                "substitution": replaced.to_json() if replaced else None,
            },
        }

    def choice(self, content: str, answer: Answer | None, finish: str | None) -> dict[str, Any]:
        if self.kind == "text":
            return {"index": 0, "text": content, "logprobs": None, "finish_reason": finish}
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if answer is not None:
            message["annotations"] = _annotations(content, answer)
            message["refusal"] = _refusal(answer)
        return {"index": 0, "message": message, "finish_reason": finish}

    def whole(self, answer: Answer) -> dict[str, Any]:
        answer = shown(answer, self.actor)
        text = self.cut.feed(answer.text)
        content = text + self.rest(answer)
        return {
            **self.base,
            "object": "chat.completion" if self.kind == "chat" else "text_completion",
            "choices": [self.choice(content, answer, self.cut.reason or "stop")],
            **self.closing(answer, content),
        }

    def writer(self, first: Any) -> str:
        """Who answers, as :meth:`closing` will name them, from a stream's first event: a
        model's piece names it (answering/answer.Piece), any other piece was quoted by no
        model, and the Answer itself (a stream of one event) says."""
        if not isinstance(first, str):
            return answered_by(self.requested, first)
        model = getattr(first, "model", None)
        if model is None:
            return EXTRACTIVE
        return self.requested if self.requested not in (AUTO, EXTRACTIVE) else model

    def headers(self, answer: Answer) -> dict[str, str]:
        """The model that answered, and any substitution's notice (percent-encoded UTF-8:
        header values are Latin-1, and the notice is in the user's language)."""
        out = {"X-Commune-Model": answered_by(self.requested, answer)}
        answer = shown(answer, self.actor)
        replaced = substitution(self.requested, answer)
        if replaced is not None:
            out["X-Commune-Notice"] = quote(replaced.notice, safe=" ,:'()")
        return out

    def events(self, first: Any, events: Iterator[Any]) -> Iterator[str]:
        """Streamed chunks; each text piece was checked before it is sent."""
        obj = "chat.completion.chunk" if self.kind == "chat" else "text_completion"
        # Every chunk names the model that answers, known from the first piece: the first
        # chunks named the model asked for ("auto") and the last the one that answered, and
        # a client keeps one name for a stream (the openai SDK's helpers, the first chunk's).
        self.base["model"] = self.writer(first)

        def event(choice: dict[str, Any], **extra: Any) -> str:
            body = {**self.base, "object": obj, "choices": [choice], **extra}
            return f"data: {json.dumps(body, ensure_ascii=False, default=str)}\n\n"

        def piece(text: str | None, finish: str | None = None, role: bool = False) -> str:
            if self.kind == "text":
                return event(
                    {"index": 0, "text": text or "", "logprobs": None, "finish_reason": finish}
                )
            delta: dict[str, Any] = {"role": "assistant"} if role else {}
            if text is not None:
                delta["content"] = text
            return event({"index": 0, "delta": delta, "finish_reason": finish})

        if self.kind == "chat":
            yield piece(None, role=True)
        sent = []
        for item in itertools.chain([first], events):
            if isinstance(item, str):
                if text := self.cut.feed(item):
                    sent.append(text)
                    yield piece(text)
                continue
            item = shown(item, self.actor)
            if text := self.rest(item):
                sent.append(text)
                yield piece(text)
            content = "".join(sent)
            closing = self.closing(item, content)
            usage = closing.pop("usage") if self.usage_apart else None
            finish = self.cut.reason or "stop"
            if self.kind == "chat":
                delta = {"annotations": _annotations(content, item), "refusal": _refusal(item)}
                yield event({"index": 0, "delta": delta, "finish_reason": finish}, **closing)
            else:
                yield event(
                    {"index": 0, "text": "", "logprobs": None, "finish_reason": finish},
                    **closing,
                )
            if usage is not None:
                body = {**self.base, "object": obj, "choices": [], "model": closing["model"]}
                yield f"data: {json.dumps({**body, 'usage': usage}, ensure_ascii=False)}\n\n"
        yield "data: [DONE]\n\n"


def _models(commune: Commune) -> dict[str, Any]:
    from commune.embed import installed

    now = int(time.time())
    data = [
        {"id": name, "object": "model", "created": now, "owned_by": "commune"}
        for name in (AUTO, EXTRACTIVE)
    ]
    # Only what can answer: a model the charter never admits, or an embedder whose package
    # is not installed, was listed and then answered otherwise or 400 (issue 24).
    data += [
        {"id": card.name, "object": "model", "created": now, "owned_by": card.backend}
        for card in sorted(commune.models.admitted(), key=lambda c: c.name)
    ]
    data += [
        {"id": name, "object": "model", "created": now, "owned_by": "commune-embedding"}
        for name in installed()
    ]
    return {"object": "list", "data": data}


def _bounded(texts: list[str], limits: LimitsSettings) -> None:
    """A request's inputs within [limits]: 2,000 inputs of 1,000 characters held a worker
    297 s (issue 22), so their number and their characters in all are bounded."""
    # LangChain's OpenAIEmbeddings sends 1,000 a request unless told otherwise (chunk_size).
    # The size said fits both limits for texts as long as these: told max_embedding_inputs
    # (64), a caller whose texts a splitter cut at 1,000 characters sent 64,000 characters
    # and was refused again, past max_embedding_chars.
    longest = max((len(t) for t in texts), default=0)
    fits = min(limits.max_embedding_inputs, limits.max_embedding_chars // max(longest, 1))
    hint = "send them in several requests"
    if fits >= 1:  # else one text alone is too long: no chunk size helps
        hint += f"; with LangChain's OpenAIEmbeddings, chunk_size={fits}"
    if len(texts) > limits.max_embedding_inputs:
        raise InvalidRequest(
            f"at most {limits.max_embedding_inputs} inputs per request ([limits] "
            f"max_embedding_inputs), got {len(texts)}",
            hint,
            param="input",
        )
    chars = sum(len(t) for t in texts)
    if chars > limits.max_embedding_chars:
        raise InvalidRequest(
            f"at most {limits.max_embedding_chars} characters in all per request ([limits] "
            f"max_embedding_chars), got {chars}",
            hint,
            param="input",
        )


def _inputs(raw: str | list[str] | list[int] | list[list[int]], field: str) -> list[str]:
    """The texts to embed, or a completion's prompts: strings as they are, token ids decoded
    (cl100k_base). A refusal of the ids names ``field`` in OpenAI's error object."""
    if isinstance(raw, str):
        return [raw]
    try:
        ints = [x for x in raw if isinstance(x, int)]
        if ints:  # one input as token ids (pydantic let no mixed list through)
            return [tokens.decode(ints)]
        return [
            x if isinstance(x, str) else tokens.decode(x) for x in raw if not isinstance(x, int)
        ]
    except InvalidRequest as exc:
        exc.param = exc.param or field
        raise


router = APIRouter(prefix="/v1")


@router.get("/models", **described(ModelList, "The models that can answer or embed."))
def models(actor: Caller, commune: CommuneDep) -> dict[str, Any]:
    with commune.metered("v1/models", actor):
        return _models(commune)


@router.get(
    "/models/{model:path}",
    **described(ModelCard | ModelList, "The model (the list, asked as /v1/models/)."),
)
def model(model: str, actor: Caller, commune: CommuneDep) -> dict[str, Any]:
    """One model of /v1/models (the openai client's models.retrieve): it answered 404
    "nothing at this address", as if the route were mistyped, even for a model listed."""
    with commune.metered("v1/models", actor):
        listing = _models(commune)
    if not model:  # /v1/models/, as a client that ends its addresses with a slash asks
        return listing
    for card in listing["data"]:
        if card["id"] == model:
            return dict(card)
    raise NotFound(
        f"no model {quoted(model)} can answer here", "GET /v1/models lists those that can"
    )


@router.post("/embeddings", **described(EmbeddingList, "The texts' vectors."))
async def embeddings(req: EmbeddingRequest, actor: Caller, commune: CommuneDep) -> dict[str, Any]:
    texts = _inputs(req.input, "input")
    _bounded(texts, commune.settings.limits)
    try:
        _sized(req.model, req.dimensions)
    except NotFound as exc:
        # The registry quotes the name whole: a 200,000-character one came back twice, in
        # detail and in error.message, as /v1's other refusals of a caller's value do not.
        raise NotFound(f"unknown embedding model {quoted(req.model)}", exc.hint) from None
    try:
        embedder, vectors, counted = await run_in_threadpool(
            commune.embed, texts, model=req.model, actor=actor, record="v1/embeddings"
        )
    except InvalidRequest as exc:  # the library's refusal of the texts (an empty one)
        exc.param = exc.param or "input"
        raise
    return {
        "object": "list",
        "model": embedder.name,
        "data": [
            {"object": "embedding", "index": i, "embedding": _encoded(v, req.encoding_format)}
            for i, v in enumerate(vectors)
        ],
        "usage": {"prompt_tokens": counted, "total_tokens": counted},
    }


async def _respond(
    commune: Commune,
    actor: Any,
    shape: _Shape,
    question: str,
    collection: str | None,
    stream: bool,
    request: Request,
    response: Response,
    route: str,
) -> Any:
    mode = shape.requested if shape.requested in (AUTO, EXTRACTIVE) else "generate"
    model = shape.requested if mode == "generate" else None
    if model is not None:
        _askable(commune, model)
    departure = Departure()  # a client gone stops the model (http/departure.py)
    asked: dict[str, Any] = {
        "collection": collection,
        "mode": mode,
        "model": model,
        "route": route,
        "actor": actor,
        "asker_language": language_of(request),
        "gone": departure,
    }
    try:
        if not stream:
            async with departure.watching(request.receive):
                answer = await run_in_threadpool(partial(commune.ask, question, **asked))
            response.headers.update(shape.headers(answer))
            return shape.whole(answer)
        # Take the first piece before answering, so that a bad collection or model
        # still gets an HTTP error status rather than a broken stream.
        events = commune.ask_stream(question, **asked)
        async with departure.watching(request.receive):
            first = await run_in_threadpool(next, events)
    except AskerGone:  # recorded as abandoned (answering/path.py)
        return left()
    chunks = guarded(shape.events(first, events), language_of(request), _failed)
    return ClosingStream(chunks, events, departure)


def _askable(commune: Commune, model: str) -> None:
    """Refuse, in words for a caller of /v1, a model nobody configured. /v1/models lists the
    embedders beside the generators, as OpenAI's does; one asked for an answer was refused
    with "add [models.e5-small] to commune.toml", a hint that sent the operator to configure
    a generator by an embedder's name."""
    from commune.embed import installed

    configured = {c.name for c in commune.models.cards()}
    if model in installed() and model not in configured:
        raise InvalidRequest(
            f"{quoted(model)} is an embedding model, for /v1/embeddings",
            "ask for answers with auto, extractive or a configured model: GET /v1/models "
            "lists them",
        )
    if model not in configured:
        # A client's default (gpt-4o-mini, gpt-3.5-turbo) was told "add [models.gpt-4o-mini]
        # to commune.toml", a step for the operator, with every configured model named,
        # those the charter never lets answer too: the caller needs the ones it may ask.
        raise NotFound(
            f"unknown model {quoted(model)}",
            "ask for answers with auto, extractive or a configured model: GET /v1/models "
            "lists them",
        )


def _failed(failure: dict[str, str]) -> Iterator[str]:
    """A stream that fails after its 200: OpenAI's error object as the last event, then
    [DONE], so that the client raises instead of taking a cut answer for a whole one. Typed
    as the same failure before the 200 would be (http/body.py): two writers meeting midway
    (the ledger's row) were a server_error here and a conflict_error there."""
    status = STATUS_OF.get(failure["code"], 500)  # as api/errors.py's _incident
    error = envelope("/v1/", status, failure["message"], failure["code"])["error"]
    yield f"data: {json.dumps({'error': error}, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


def streamed(model: Any, chunk: str) -> dict[str, Any]:
    """A /v1 completion's 200: ``model`` as JSON, or its chunks as server-sent events."""
    return {
        "response_model": Any,
        "responses": {
            200: {
                "model": model,
                "description": "A completion, or with stream=true its chunks as server-sent "
                "events, each sentence once its citations were checked.",
                "content": {
                    "text/event-stream": {
                        # OpenAPI 3.1 has no schema for a stream's events: said here.
                        "schema": {
                            "type": "string",
                            "description": f"Events of data: OpenAI's chunks (object "
                            f"{chunk}, each choice's delta or text), then data: [DONE]; a "
                            'failure after the stream began is data: {"error": '
                            '{"message", "type", "param", "code"}}.',
                        }
                    }
                },
            }
        },
    }


@router.post("/chat/completions", **streamed(ChatCompletion, "chat.completion.chunk"))
async def chat(
    req: ChatRequest, actor: Caller, commune: CommuneDep, request: Request, response: Response
) -> Any:
    _text_only(req)
    users = [m for m in req.messages if m.role == "user"]
    question = _text(users[-1].content) if users else ""
    # No letter or digit ("\u200b", a lone accent) is no text either, as the search reads
    # it (answering/search.blank): told so here, as a message of spaces is.
    if blank(question):
        raise InvalidRequest("messages must contain a user message with text", param="messages")
    # A follow-up ("Et pour un stationnement ?") is searched with the question it follows.
    limit = commune.settings.limits.max_query_chars
    turns = [*map(_said, users[:-1]), question]
    question = question_of(turns, limit, language_of(request))
    cut = _Cut(req.stop, req.max_completion_tokens or req.max_tokens)
    shape = _Shape(
        "chat", req.model, req.sources_in_content, question, actor, req.stream_options, cut
    )
    return await _respond(
        commune,
        actor,
        shape,
        question,
        req.collection,
        req.stream,
        request,
        response,
        "v1/chat/completions",
    )


@router.post("/completions", **streamed(TextCompletion, "text_completion"))
async def completions(
    req: CompletionRequest,
    actor: Caller,
    commune: CommuneDep,
    request: Request,
    response: Response,
) -> Any:
    """Legacy text completions (LlamaIndex's default): the prompt is the question."""
    _answer_alone(req)
    prompts = _inputs(req.prompt, "prompt")
    if len(prompts) != 1:
        # LangChain's OpenAI (text completions) sends up to 20 prompts in one request, its
        # batch() and generate() all of them: the hint said nothing of how to make it send one.
        raise InvalidRequest(
            f"one prompt per request, got {len(prompts)}",
            "send them in several requests; with LangChain's OpenAI, batch_size=1",
            param="prompt",
        )
    limit = commune.settings.limits.max_query_chars
    question = question_of(_asked(prompts[0]), limit, language_of(request))
    if blank(question):
        raise InvalidRequest("prompt must be a question with text", param="prompt")
    cut = _Cut(req.stop, req.max_tokens)
    shape = _Shape(
        "text", req.model, req.sources_in_content, question, actor, req.stream_options, cut
    )
    return await _respond(
        commune,
        actor,
        shape,
        question,
        req.collection,
        req.stream,
        request,
        response,
        "v1/completions",
    )
