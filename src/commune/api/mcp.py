"""An MCP server over the commons (the official `mcp` SDK): tools `search`, `ask`,
`get_document`, `list_collections`, and documents as resources.

Agents reach the commons under the same rules as everyone: an API key (``Authorization:
Bearer`` over streamable HTTP, ``COMMUNE_API_KEY`` over stdio), its member's visibility,
quotas, the charter's five steps and energy accounting; every call lands in the ledger
under an ``mcp/...`` route.
"""

# No `from __future__ import annotations` here: the SDK reads the tools' annotations at run
# time to find their `ctx: Context` parameter, and Context is only imported when serving.
import hashlib
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from commune.api.answers import answer_json
from commune.api.auth import key_in
from commune.errors import CommuneError, NotFound, cut, shown
from commune.govern.policy import Actor
from commune.text.messages import from_accept_language, from_environment, localise

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from starlette.routing import BaseRoute
    from starlette.types import Receive, Scope, Send

    from commune.core import Commune

KEY_ENV = "COMMUNE_API_KEY"
# A row's id: SQLite and PostgreSQL hold 64-bit integers; a larger one is refused by the
# tool's schema (a one-line error), not left to overflow in the database driver.
MAX_ROW_ID = 2**63 - 1
# Each argument's schema says what the tool takes, as /api/search's and /api/ask's do: an
# agent reads nothing else before it calls. `mode` was any string to the schema, and only
# the tool refused a fourth one; `collection` and `k` said nothing of what they were.
RowId = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_ROW_ID,
        description="The document's id: a search hit's or an answer's source's document_id.",
    ),
]
Collection = Annotated[
    str | None,
    Field(
        description="Only this collection (a name list_collections gives); none or empty: "
        "every collection the caller may read."
    ),
]
# A document's text comes in parts: hosts cap a tool's result (Claude Code warns past 10,000
# tokens, and past 25,000 keeps the result on disk and hands the model a file reference
# instead), and a 100-page PDF's text is about 80,000 tokens: the agent read none of it.
# 30,000 characters are about 8,000 tokens, under the warning.
TEXT_PART_CHARS = 30_000
# A search's passages, at most, under the same budget: a passage is at most 260 words (the
# chunker's max_words), about 1,500 characters, so 20 are about 30,000, under the hosts'
# warning. /api/search's 100 (k=10**9 had returned every readable passage at once) was some
# 40,000 tokens of text: past Claude Code's 25,000, the model read a file reference instead.
# Refused past it by the schema (its "maximum" is read before the call; the error is one
# line), not clamped: handed 20 when it asked for 50, an agent would take it that the commons
# holds no more.
SEARCH_HITS = 20
Hits = Annotated[
    int, Field(ge=1, le=SEARCH_HITS, description=f"How many passages, at most {SEARCH_HITS}.")
]
Offset = Annotated[
    int,
    Field(
        ge=0,
        le=MAX_ROW_ID,
        description="Where in the text to start (a character's index): 0, or the "
        "next_offset a previous call gave.",
    ),
]
PartChars = Annotated[
    int,
    Field(ge=1, le=TEXT_PART_CHARS, description="How many characters of the text, at most."),
]
Query = Annotated[str, Field(description="What to search for, in a few words.")]
Question = Annotated[str, Field(description="The question, in French or English.")]
Mode = Annotated[
    Literal["auto", "extractive", "generate"],
    Field(
        description="auto: as the charter decides; extractive: quote the sources; generate: "
        "a model writes a cited answer."
    ),
]
INSTRUCTIONS = (
    "Cited answers from a cooperative's documents commons (French and English). Use `ask` for "
    "an answer with its sources and the charter's decisions, `search` for passages, "
    "`get_document` or the commune://documents/{id} resource for a document, in parts."
)


def _requires() -> tuple[Any, "type[MCPServer[Any]]"]:
    try:
        from mcp.server.mcpserver import Context, MCPServer
    except ImportError:
        raise CommuneError(
            "the MCP server needs the mcp package", "pip install 'commune-coop[mcp]'"
        ) from None
    return Context, MCPServer


def language_of(ctx: Any) -> str:
    """The agent's language for messages, as the API's and the CLI's (issue 24: French
    unless the caller says English): over streamable HTTP its request's Accept-Language,
    over stdio the locale the server was started under (a desktop client's configuration
    may set LANG in its ``env``)."""
    return language_of_request(ctx.request_context.request if ctx is not None else None)


def language_of_request(request: Any) -> str:
    """:func:`language_of` for the HTTP request itself (None over stdio), as the SDK's
    middleware is handed it."""
    if request is not None:
        return from_accept_language(request.headers.get("accept-language"))
    return from_environment(os.environ)


def _anticipated(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Commune's own errors (a bad value, a quota, an unknown key or collection) reach the
    agent with their message, in its language, as MCP tool errors; a failure of ours is told
    as the API's 500 tells it (:func:`failure`)."""
    import functools

    from mcp.server.mcpserver.exceptions import ToolError

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        language = language_of(kwargs.get("ctx"))
        try:
            return fn(*args, **kwargs)
        except CommuneError as exc:
            raise ToolError(localise(exc.in_fields(), language)) from exc
        except Exception as exc:  # noqa: BLE001 -- said to the agent, logged for the operator
            raise ToolError(failure(exc, language, f"mcp/{fn.__name__}")) from exc

    return wrapper


def failure(exc: Exception, language: str, where: str) -> str:
    """A failure of ours (a busy, full or read-only disk, a bug), as the API's 500 says it:
    the machine's fault named, or an incident number, in the agent's language; its traceback
    in the operator's log under that number. The SDK told the agent only "Error executing
    tool search" or "Error creating resource from template …", in English: neither what
    happened nor whether to retry."""
    from commune.http.incidents import incident

    return localise(incident(exc, language, where).message, language)


def tool_error(tool: str, what: str, language: str) -> str:
    """A tool's error as the agent reads it, in its language: the tool, then what went wrong,
    which says what to do. The SDK's own words were English whatever the agent's language."""
    from commune.text.say import say

    return say(
        language, f"Erreur de l'outil {tool}\u00a0: {what}", f"Error executing tool {tool}: {what}"
    )


def unknown_arguments(unknown: list[str], taken: list[str], language: str) -> str:
    """Arguments a tool does not take, and those it takes, in the agent's language."""
    from commune.text.say import say

    # The first few: a model can send hundreds, and the line is read by one.
    names = ", ".join(shown(a) for a in unknown[:5]) + (", …" if len(unknown) > 5 else "")
    fr = "arguments inconnus" if len(unknown) > 1 else "argument inconnu"
    en = "unknown arguments" if len(unknown) > 1 else "unknown argument"
    if taken:
        fr_taken = f"ses arguments\u00a0: {', '.join(taken)}"
        en_taken = f"its arguments: {', '.join(taken)}"
    else:
        fr_taken, en_taken = "il n'en prend aucun", "it takes none"
    return say(language, f"{fr}\u00a0: {names} ({fr_taken})", f"{en}: {names} ({en_taken})")


def _errors_told(base: "type[MCPServer[Any]]") -> "type[MCPServer[Any]]":
    """The server, with every error of a tool call said in one line in the agent's language.
    The SDK checks the arguments against the tool's schema before the tool runs, and reported
    pydantic's multi-line English with a link to its site ("1 validation error for
    get_documentArguments …"); the API says the same mistakes as "document_id : un nombre
    entier est attendu". Its other words were English too: "Error executing tool …" before
    each of Commune's messages, "Unknown tool: serach" (without the tools there are), and a
    bare "Error executing tool search" for a result that failed its own output schema; and
    "Unknown resource: URI" for a resource, and an unknown prompt an internal error."""
    from mcp.server.mcpserver.exceptions import (
        ResourceNotFoundError,
        ToolError,
        UnexpectedToolError,
    )
    from mcp.shared.exceptions import MCPError
    from mcp_types import INVALID_PARAMS
    from pydantic import ValidationError

    from commune.api.validation import what_is_wrong
    from commune.text.say import say

    class Server(base):  # type: ignore[valid-type,misc]
        async def list_tools(self) -> Any:
            # Each tool's schema says it takes no other argument, as call_tool refuses one.
            tools = await super().list_tools()
            for tool in tools:
                tool.input_schema = {**tool.input_schema, "additionalProperties": False}
            return tools

        async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
            # An argument the tool does not take was dropped by the SDK's validation: a
            # misspelt `colection` searched every collection, and the agent read the hits as
            # its collection's. Refused, naming the arguments the tool takes.
            schema = next((t.input_schema for t in await self.list_tools() if t.name == name), None)
            if schema is not None:
                taken = sorted(schema.get("properties", {}))
                unknown = [a for a in arguments or {} if a not in taken]
                if unknown:
                    language = language_of(context)
                    raise ToolError(
                        tool_error(name, unknown_arguments(unknown, taken, language), language)
                    )
            try:
                return await super().call_tool(name, arguments, context)
            except ToolError as exc:
                language = language_of(context)
                cause = exc.__cause__
                if isinstance(exc, UnexpectedToolError):  # a failure of ours: its incident
                    what = failure(
                        cause if isinstance(cause, Exception) else exc, language, f"mcp/{name}"
                    )
                elif isinstance(cause, ValidationError):
                    # what_is_wrong drops a location's first part (the API's "body").
                    errors = [{**e, "loc": ("arguments", *e["loc"])} for e in cause.errors()]
                    what = what_is_wrong(errors, language)
                elif isinstance(cause, ToolError):  # Commune's own, said in the agent's language
                    what = str(cause)
                else:
                    tools = sorted(t.name for t in await self.list_tools())
                    if name in tools:
                        raise
                    names = ", ".join(tools)
                    # An agent (or its host) guessing a name: the names it may call.
                    raise ToolError(
                        say(
                            language,
                            f"outil inconnu\u00a0: {shown(name)} (les outils\u00a0: {names})",
                            f"unknown tool: {shown(name)} (the tools: {names})",
                        )
                    ) from exc
                raise ToolError(tool_error(name, what, language)) from cause

        async def get_prompt(
            self, name: str, arguments: dict[str, Any] | None = None, context: Any = None
        ) -> Any:
            prompts = sorted(p.name for p in await self.list_prompts())
            if name in prompts:
                return await super().get_prompt(name, arguments, context)
            # The SDK's ValueError was "Internal server error" under the protocol of
            # 2026-07-28 (and "Unknown prompt: x", code 0, under the handshake's), with a
            # traceback in the operator's log: a host asking for a prompt by a name of its own
            # configuration read that the server had failed. A refusal, naming what there is.
            language = language_of(context)
            if prompts:
                offered = ", ".join(prompts)
                fr = f"ses prompts\u00a0: {offered}"
                en = f"its prompts: {offered}"
            else:
                tools = ", ".join(sorted(t.name for t in await self.list_tools()))
                fr = f"ce serveur n'en offre aucun\u00a0; appelez ses outils ({tools})"
                en = f"this server offers none; call its tools ({tools})"
            raise MCPError(
                code=INVALID_PARAMS,
                message=say(
                    language,
                    f"aucun prompt nommé {shown(name)}\u00a0: {fr}",
                    f"no prompt named {shown(name)}: {en}",
                ),
            )

        async def read_resource(self, uri: Any, context: Any = None) -> Any:
            try:
                return await super().read_resource(uri, context)
            except ResourceNotFoundError as exc:
                if not str(exc).startswith("Unknown resource"):  # Commune's own, said already
                    raise
                # The SDK's "Unknown resource: URI", in English, named no resource there is.
                asked = cut(str(uri))
                raise ResourceNotFoundError(
                    say(
                        language_of(context),
                        f"ressource inconnue\u00a0: {asked} (les documents sont "
                        "commune://documents/{id}, que liste resources/list)",
                        f"unknown resource: {asked} (documents are commune://documents/{{id}}, "
                        "which resources/list lists)",
                    )
                ) from exc

    return Server


# The methods a client calls on this server, named to one that asked for another: it offers
# tools, resources and prompts, and none of MCP's subscriptions, completions or logging levels
# (a host asks for them to see whether a server has them). Each protocol has its own
# (:func:`served_methods`): the one without sessions (2026-07-28) opens with server/discover,
# and has no initialize and no ping.
SERVED_METHODS = (
    "server/discover",
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "prompts/list",
    "prompts/get",
)


def served_methods(version: str) -> str:
    """:data:`SERVED_METHODS` that MCP defines at the protocol ``version`` (the SDK's table),
    for a client of that version: one without a session was told this server answers
    initialize and ping, which it then said it did not know."""
    from mcp_types.methods import CLIENT_REQUESTS

    return ", ".join(m for m in SERVED_METHODS if (m, version) in CLIENT_REQUESTS)


class SdkErrorsSaid:
    """The SDK's own errors for a request it cannot route, or whose params do not fit its
    method, said in one line in the client's language, as a tool's (:func:`_errors_told`).
    The SDK answered "Method not found" (the method only in its data) and "Invalid request
    parameters" (pydantic's reason dropped, its data ""), in English whatever the client's
    Accept-Language, in a session's stream as in the answers of the protocol without
    sessions. A middleware of the SDK's (``MCPServer.middleware``): each request's lookup,
    its params' check and the handshake's gate all run inside it, whatever the transport."""

    async def __call__(self, ctx: Any, call_next: Callable[[Any], Any]) -> Any:
        from mcp.shared.exceptions import MCPError
        from mcp_types import INVALID_PARAMS, METHOD_NOT_FOUND
        from pydantic import ValidationError

        from commune.api.validation import what_is_wrong
        from commune.text.say import say

        try:
            return await call_next(ctx)
        except ValidationError as exc:
            language = language_of_request(ctx.request)
            # Each field named from params ("params.name"), whichever of the SDK's checks
            # failed (some locate from the request, some from its params); what_is_wrong drops
            # a location's first part (the API's "body").
            errors = [
                {
                    **e,
                    "loc": (
                        "request",
                        *(() if e["loc"][:1] == ("params",) else ("params",)),
                        *e["loc"],
                    ),
                }
                for e in exc.errors()
            ]
            what = what_is_wrong(errors, language)
            method = shown(ctx.method)
            raise MCPError(
                code=INVALID_PARAMS,
                message=say(
                    language,
                    f"paramètres de {method} non valides\u00a0: {what}",
                    f"invalid params of {method}: {what}",
                ),
            ) from exc
        except MCPError as exc:
            language = language_of_request(ctx.request)
            said = (exc.error.code, exc.error.message)
            if said == (METHOD_NOT_FOUND, "Method not found"):
                method, served = shown(ctx.method), served_methods(ctx.protocol_version)
                message = say(
                    language,
                    f"méthode inconnue\u00a0: {method} (ce serveur répond à {served})",
                    f"unknown method: {method} (this server answers {served})",
                )
            elif said == (INVALID_PARAMS, "Invalid request parameters"):
                # Its params' failures come as ValidationError (above): this one is the gate
                # of a connection that sent no initialize (stdio; over HTTP, initialize opens
                # the session).
                message = say(
                    language,
                    "cette connexion n'a pas encore ouvert de session\u00a0: envoyez d'abord "
                    "initialize",
                    "this connection has not opened its session yet: send initialize first",
                )
            else:
                raise
            raise MCPError(code=exc.error.code, message=message, data=exc.error.data) from exc


# resources/list gives this many documents a page, the next page behind its cursor: a commons
# of thousands listed in one message is more than a host shows, or than its model reads.
DOCUMENTS_PER_PAGE = 100


def _listing_documents(
    base: "type[MCPServer[Any]]", page: Callable[[Any, str | None], Any]
) -> "type[MCPServer[Any]]":
    """The server, with ``resources/list`` giving the documents the caller's agent may read,
    a page at a time (``page(ctx, cursor)``). The SDK lists only resources registered one by
    one, the same for every caller, and hands its listing neither the request (so no key)
    nor the cursor: its own handler is replaced."""
    from anyio.to_thread import run_sync
    from mcp.server.mcpserver import Context

    class Server(base):  # type: ignore[valid-type,misc]
        async def _handle_list_resources(self, ctx: Any, params: Any) -> Any:
            context = Context(request_context=ctx, mcp_server=self)
            cursor = params.cursor if params is not None else None
            return await run_sync(page, context, cursor)

    return Server


def part_of(doc: dict[str, Any], offset: int, max_chars: int) -> dict[str, Any]:
    """``doc`` with ``max_chars`` of its text from ``offset``, its whole length (``text_chars``)
    and where the next part starts (``next_offset``, None at the end)."""
    text = doc["text"]
    part = {k: v for k, v in doc.items() if k != "passages"}  # the text again, cut: the page's
    part["text"] = text[offset : offset + max_chars]
    end = min(offset, len(text)) + len(part["text"])
    part["text_chars"] = len(text)
    part["next_offset"] = end if end < len(text) else None
    return part


def every_one_if_empty(collection: str | None) -> str | None:
    """An empty collection is every one the caller may read, as none is: a model filling in a
    tool's optional arguments often sends "" for "no value", and was told "no collection
    named ''" (no collection's name is empty)."""
    return collection if collection and collection.strip() else None


def actor_from_key(commune: "Commune", key: str | None) -> Actor:
    return commune.authenticate(key)


def build_server(commune: "Commune", actor_of: Callable[[Any], Actor]) -> "MCPServer[Any]":
    """The MCP server; ``actor_of(ctx)`` says who is calling."""
    if TYPE_CHECKING:  # the types, for the checker; at run time the SDK is loaded here
        from mcp.server.mcpserver import Context, MCPServer
    else:
        Context, MCPServer = _requires()
    from mcp.shared.exceptions import MCPError
    from mcp_types import (
        INTERNAL_ERROR,
        INVALID_PARAMS,
        INVALID_REQUEST,
        CallToolResult,
        ListResourcesResult,
        Resource,
        TextContent,
    )

    from commune import __version__
    from commune.api import mcp_results as out
    from commune.text.say import say

    def result(structured: dict[str, Any], text: str) -> CallToolResult:
        """Objects for the host that reads them (checked against the tool's output schema),
        and text for the one that shows only text (api/mcp_results.py says why not JSON)."""
        return CallToolResult(
            content=[TextContent(type="text", text=text)], structured_content=structured
        )

    def documents_page(ctx: Any, cursor: str | None) -> ListResourcesResult:
        """A page of the documents ``ctx``'s agent may be handed: those of the collections its
        key reads, less those ``get_document`` refuses (core.kept_from_agents, the rules
        themselves, not a copy). The cursor is the id the next page starts after, the
        documents in id order (new ones come last, so a listing in progress meets them at
        its end; one that leaves it meanwhile moves none of the others)."""
        language = language_of(ctx)
        if cursor is None:
            after = None
        elif cursor.isascii() and cursor.isdigit() and int(cursor) <= MAX_ROW_ID:
            after = int(cursor)
        else:
            message = f"cursor must be the nextCursor of a previous listing, got {shown(cursor)}"
            raise MCPError(code=INVALID_PARAMS, message=localise(message, language))
        try:
            actor = actor_of(ctx)
            with commune.metered("mcp/resources", actor):
                docs, following = commune.documents_for_agent(
                    DOCUMENTS_PER_PAGE, after, actor=actor, language=language
                )
        except CommuneError as exc:
            raise MCPError(
                code=INVALID_REQUEST, message=localise(exc.in_fields(), language)
            ) from exc
        except Exception as exc:  # noqa: BLE001 -- said to the agent, logged for the operator
            message = failure(exc, language, "mcp/resources")
            raise MCPError(code=INTERNAL_ERROR, message=message) from exc
        return ListResourcesResult(
            resources=[
                Resource(
                    uri=f"commune://documents/{d['id']}",
                    name=d["title"] or f"document {d['id']}",
                    title=d["title"],
                    description=f"{d['collection']}, "
                    + (d["licence"] or say(language, "licence inconnue", "licence unknown")),
                    mime_type="text/plain",
                )
                for d in docs
            ],
            next_cursor=None if following is None else str(following),
        )

    # The version, as /healthz says it: a client shows it, and an operator asks for it.
    server = _listing_documents(_errors_told(MCPServer), documents_page)(
        name="commune", version=__version__, instructions=INSTRUCTIONS, middleware=[SdkErrorsSaid()]
    )

    @server.tool(
        description="Hybrid search of the commons: {hits: passages with their source and "
        "licence, withheld: the documents whose passages the charter keeps out of answers "
        "(a TDM opt-out, a licence your member's use forbids), each with its reason}; "
        "{refused: the reason} when the charter refuses the query."
    )
    @_anticipated
    def search(
        query: Query, ctx: Context, collection: Collection = None, k: Hits = 10
    ) -> Annotated[CallToolResult, out.SearchResult]:
        language = language_of(ctx)
        found = commune.search_for_agent(
            query,
            collection=every_one_if_empty(collection),
            k=k,
            actor=actor_of(ctx),
            record="mcp/search",
            language=language,
        )
        found = out.plain(found)
        return result(found, out.search_text(found, language))

    @server.tool(
        description="Answer a question with cited sentences, their sources, the energy used and "
        "the charter's decisions."
    )
    @_anticipated
    def ask(
        question: Question, ctx: Context, collection: Collection = None, mode: Mode = "auto"
    ) -> Annotated[CallToolResult, out.AnswerResult]:
        actor, language = actor_of(ctx), language_of(ctx)
        answer = commune.ask(
            question,
            collection=every_one_if_empty(collection),
            mode=mode,
            route="mcp/ask",
            actor=actor,
            asker_language=language,
        )
        said = out.plain(answer_json(answer, actor))
        return result(said, out.answer_text(said, language))

    @server.tool(
        description="A published document with its licence, provenance and text; refused, "
        "with the reason, when the charter keeps its passages out of answers. The text "
        "comes in parts of at most max_chars characters: text_chars is its whole length, "
        "and next_offset, when not null, the offset to ask for the rest."
    )
    @_anticipated
    def get_document(
        document_id: RowId,
        ctx: Context,
        offset: Offset = 0,
        max_chars: PartChars = TEXT_PART_CHARS,
    ) -> Annotated[CallToolResult, out.DocumentPart]:
        actor, language = actor_of(ctx), language_of(ctx)
        with commune.metered("mcp/get_document", actor):
            doc = commune.document_for_agent(document_id, actor=actor, language=language)
        part = out.plain(part_of(doc, offset, max_chars))
        return result(part, out.document_text(part, min(offset, len(doc["text"])), language))

    @server.tool(
        description="The collections the caller may read, with document counts: "
        "{collections: [{name, visibility, documents}]}."
    )
    @_anticipated
    def list_collections(ctx: Context) -> Annotated[CallToolResult, out.Collections]:
        actor = actor_of(ctx)
        with commune.metered("mcp/list_collections", actor):
            rows = out.plain(commune.collections(actor=actor))
        return result({"collections": rows}, out.collections_text(rows, language_of(ctx)))

    # The resource gives a document's text in parts too, as get_document does, each from the
    # offset its URI names (the first part without one): read whole, a 100-page manual came in
    # one message, past what a host attaches or its model reads. Parts in the URI, rather than
    # the first part and a pointer to the tool, let an application that reads resources (and
    # never calls tools) read the rest; each part's last line names the next part's URI and
    # get_document's offset for it, for a model that reads only the text.
    @server.resource(
        "commune://documents/{document_id}{?offset}",
        name="document",
        description="A published document of the commons: its title, licence and source, then "
        f"its text, {TEXT_PART_CHARS} characters a part from ?offset= (0 when left out); a "
        "part's last line names the next part.",
        mime_type="text/plain",
    )
    def document(document_id: str, ctx: Context, offset: str = "0") -> str:
        from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

        language = language_of(ctx)
        # ASCII digits only ("²" is a digit to str.isdigit, not to int), and no id past what the
        # databases hold: as the API's and the web's RowId.
        if not (document_id.isascii() and document_id.isdigit()):
            message = f"document ids are numbers, got {shown(document_id)}"
            raise ResourceNotFoundError(localise(message, language))
        if not 1 <= int(document_id) <= MAX_ROW_ID:
            raise ResourceNotFoundError(localise(f"no document {document_id}", language))
        if not (offset.isascii() and offset.isdigit() and int(offset) <= MAX_ROW_ID):
            message = f"offset must be a number of characters, 0 or more, got {shown(offset)}"
            raise ResourceNotFoundError(localise(message, language))
        try:
            actor = actor_of(ctx)
            with commune.metered("mcp/resource", actor):
                doc = commune.document_for_agent(int(document_id), actor=actor, language=language)
        except NotFound as exc:
            raise ResourceNotFoundError(localise(exc.in_fields(), language)) from exc
        except CommuneError as exc:
            # Refused (the charter, a licence, the quota), as resources/list says it: the SDK
            # says a ResourceError with JSON-RPC's "internal error", the code of a server's
            # fault, which a host shows as the server failing and may retry.
            raise MCPError(
                code=INVALID_REQUEST, message=localise(exc.in_fields(), language)
            ) from exc
        except Exception as exc:  # noqa: BLE001 -- said to the agent, logged for the operator
            raise ResourceError(failure(exc, language, "mcp/resource")) from exc
        start = min(int(offset), len(doc["text"]))
        part = out.plain(part_of(doc, start, TEXT_PART_CHARS))
        return out.document_text(part, start, language, resource=True)

    return server


def http_actor(commune: "Commune", require_auth: bool = True) -> Callable[[Any], Actor]:
    """Who calls over streamable HTTP: the key of that request; the operator under
    `commune serve --no-auth`, as on the API (api/auth.py's current_actor)."""
    from commune.govern.policy import OPERATOR

    if not require_auth:
        return lambda ctx: OPERATOR

    def actor_of(ctx: Any) -> Actor:
        request = ctx.request_context.request
        return actor_from_key(commune, key_in(request.headers) if request is not None else None)

    return actor_of


def stdio_actor(commune: "Commune", no_auth: bool = False) -> Callable[[Any], Actor]:
    """Who calls over stdio: the key in COMMUNE_API_KEY (checked at every call: a key revoked
    meanwhile stops working), or the operator with --no-auth."""
    from commune.govern.policy import OPERATOR

    if no_auth:
        return lambda ctx: OPERATOR
    # Stripped, as a bearer token is over HTTP (api/auth.key_in): a key pasted into a
    # desktop configuration with a space or a newline after it was refused as unknown.
    key = os.environ.get(KEY_ENV, "").strip()
    if not key:
        raise CommuneError(
            f"the MCP server needs an API key in {KEY_ENV}",
            "create one with `commune key create USER`, or pass --no-auth as the operator",
        )
    actor_from_key(commune, key)  # an invalid key stops here, before serving
    return lambda ctx: actor_from_key(commune, key)


def desktop_config(
    home: Path, no_auth: bool = False, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A desktop MCP client's configuration (``mcpServers``) that starts `commune mcp` over
    stdio on ``home``. Paths are absolute: the client knows neither the virtual environment
    (so ``commune`` is not on its PATH) nor the directory the home is relative to. An
    English locale in ``environ`` (the shell that prints it) is carried in ``env``: a client
    passes the server no locale of its own, and the agent was told every error in French
    although the person who printed the configuration reads English."""
    # The script installed beside this interpreter; `python -m commune.cli` when there is
    # none (a source checkout). The interpreter's path is kept unresolved: a virtual
    # environment's python is a link, and resolving it would leave the environment.
    interpreter = Path(os.path.abspath(sys.executable))
    script = interpreter.parent / "commune"
    if script.is_file():
        command, args = str(script), []
    else:
        command, args = str(interpreter), ["-m", "commune.cli"]
    args += ["--home", str(home), "mcp"]
    server: dict[str, Any] = {"command": command, "args": args}
    env: dict[str, str] = {}
    if no_auth:
        args.append("--no-auth")
    else:
        env[KEY_ENV] = "cmn_..."
    environ = os.environ if environ is None else environ
    if from_environment(environ) == "en":  # French needs nothing: the server's default
        # The variable that decided, as gettext reads them (text/messages.from_environment).
        name = next(
            n
            for n in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
            if environ.get(n, "").split(":")[0].strip()
        )
        env[name] = environ[name]
    if env:
        server["env"] = env
    return {"mcpServers": {"commune": server}}


# MCP sessions over HTTP: the SDK keeps 10,000 of them, 30 minutes each, and opening one
# is metered by nothing, so one reader key opened them all in under two minutes and other
# members' agents were refused. A session idle for 10 minutes ends (an agent reconnects at
# its next call), and each key opens at most 32 in that time: far more than the agents a
# member runs, which open one each.
SESSION_IDLE_S = 600
SESSIONS_PER_KEY = 32


class SessionsOpened:
    """New sessions per key (its SHA-256) in a sliding window; in memory, per process."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self.seen: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def admit(self, who: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self.lock:
            for name in [n for n, t in self.seen.items() if now - t[-1] > self.window_s]:
                del self.seen[name]  # forgotten once quiet for a whole window
            times = self.seen.setdefault(who, deque())
            while times and now - times[0] > self.window_s:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True


class SessionOwners:
    """Who opened each MCP session (its key's SHA-256, or the caller's address without keys).
    The SDK ties a session to its opener only through ``scope["user"]``, which its own OAuth
    middleware sets and Commune's keys do not: anyone holding another valid key and a session
    id could end that session (DELETE) or read its stream (GET). In memory, per process, as
    the sessions.

    The owner is the key, not its person: a person's second key is refused the first one's
    sessions, on purpose. A key is a device's or an agent's (its label says which: "laptop",
    "ci"), and a session's stream carries what that agent asked and was answered: tied to
    the person, a session id read from one agent's log would let another of the person's
    agents, perhaps a less trusted one, read that conversation. Nothing is lost by it: a
    client sends one key for its whole connection, and a client given another key starts
    again with a handshake, which opens a new session.

    A record is kept while the SDK may keep its session: the SDK ends one only when it has
    been idle ``idle_s`` after its last request *ended*, and never while a request (a standing
    GET stream, a long tool call) is open. Counted from when requests began, a record was
    forgotten under an open stream, and any key holding the id was served again. So each
    request is counted while it runs, the idle time starts when the last one ends, and a
    record is dropped only at twice the SDK's idle time with none running."""

    def __init__(self, idle_s: float) -> None:
        self.idle_s = idle_s
        # session id -> [owner, when its last request ended (or it opened), requests running]
        self.owners: dict[str, list[Any]] = {}
        self.lock = threading.Lock()

    def opened(self, session_id: str, who: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self.lock:
            gone = [
                sid
                for sid, (_, last, running) in self.owners.items()
                if not running and now - last > 2 * self.idle_s
            ]
            for sid in gone:
                del self.owners[sid]
            self.owners.setdefault(session_id, [who, now, 0])

    def allows(self, session_id: str, who: str) -> bool:
        """Whether ``who`` may use the session: its opener, or anyone for a session unknown
        here (never opened in this process, or long gone: the SDK finds it unknown, and its
        404 is said in the words of another key's, :class:`_HoldingNotFound`)."""
        with self.lock:
            owner = self.owners.get(session_id)
            return owner is None or owner[0] == who

    def begin(self, session_id: str) -> None:
        """A request of the session's opener starts: the session is in use until it ends."""
        with self.lock:
            if session_id in self.owners:
                self.owners[session_id][2] += 1

    def end(self, session_id: str, now: float | None = None) -> None:
        """It ended: the session's idle time starts again now, as the SDK's does."""
        now = time.monotonic() if now is None else now
        with self.lock:
            owner = self.owners.get(session_id)
            if owner is not None:
                owner[1], owner[2] = now, max(owner[2] - 1, 0)

    def ended(self, session_id: str) -> None:
        with self.lock:
            self.owners.pop(session_id, None)


def of_sessions(headers: "Mapping[str, str]") -> bool:
    """Whether the request is of a protocol with sessions, opened by a handshake (an
    MCP-Protocol-Version header absent or one of those), as the SDK routes it. A later
    protocol's request (2026-07-28 on) is served whole by itself: the SDK reads no
    mcp-session-id in it, and keeps nothing for it."""
    from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

    version = headers.get("mcp-protocol-version")
    return version is None or version in HANDSHAKE_PROTOCOL_VERSIONS


def opens_a_session(method: str, headers: "Mapping[str, str]") -> bool:
    """Whether the SDK keeps a session for this request: a POST without a session id, under
    a protocol that opens one with a handshake (:func:`of_sessions`). A later protocol's
    client (2026-07-28 on) sends every request without a session id, and the SDK keeps
    nothing for it: counted as sessions, an agent's 33rd call in ten minutes was refused with
    "too many MCP sessions"."""
    if method != "POST" or headers.get("mcp-session-id"):
        return False
    return of_sessions(headers)


def _noting_session(send: "Send", note: Callable[[str], None]) -> "Send":
    """``send``, telling ``note`` the session id the SDK's response opens (its header)."""

    async def sending(message: Any) -> None:
        if message["type"] == "http.response.start":
            for name, value in message.get("headers", []):
                if name.lower() == b"mcp-session-id":
                    note(value.decode("latin-1"))
        await send(message)

    return sending


# The SDK's own refusals at the HTTP door (its transport's), in English whatever the agent's
# language, and most saying nothing of what to send instead: each is said in Commune's words,
# which text/messages.py says in French. Its message -> Commune's line. A refusal not listed
# here (a later SDK's) goes out as the SDK wrote it.
NOT_JSON = (
    'the body is not JSON: send one JSON-RPC message, {"jsonrpc": "2.0", "id": 1, "method": …}'
)
NOT_JSON_RPC = (
    'the body is not one JSON-RPC message: send one object, {"jsonrpc": "2.0", "id": 1, '
    '"method": …, "params": {…}}, not a list'
)
NOT_ACCEPTABLE = "Not Acceptable: Client must accept both application/json and text/event-stream"
SDK_REFUSALS = {
    "Bad Request: Missing session ID": "this request needs the mcp-session-id the server "
    "gave when the session opened: send it, or open a session (a POST of initialize, without "
    "mcp-session-id)",
    NOT_ACCEPTABLE: "send Accept: application/json, text/event-stream (an MCP client takes both)",
    "Not Acceptable: Client must accept application/json": "send Accept: application/json",
    "Not Acceptable: Client must accept text/event-stream": (
        "send Accept: text/event-stream (a GET opens the session's stream of events)"
    ),
    "Conflict: Only one SSE stream is allowed per session": (
        "this session has a stream open already: one GET stream per session"
    ),
    "Too many open sessions": "the server holds as many MCP sessions as it can: retry in a minute",
    # The protocol without sessions (2026-07-28) says these two in its own words.
    "Parse error": NOT_JSON,
    "Body must be a single JSON-RPC request or notification object": NOT_JSON_RPC,
}
# Those whose message goes on with the parser's own words, after its start: its JSON parser's
# ("Parse error: key must be a string at line 1 column 2"), or pydantic's over many lines, a
# link to its site in each ("Validation error: 8 validation errors for union[...]").
SDK_REFUSALS_STARTING = {"Parse error: ": NOT_JSON, "Validation error: ": NOT_JSON_RPC}


# The protocol without sessions (2026-07-28) checks each request's envelope before it
# serves it, and said what was wrong in its own English: "params._meta must be an object
# carrying the required 'io.modelcontextprotocol/protocolVersion' and …", "Mcp-Method header
# does not match the request body's method", "Unsupported protocol version". A request with an
# MCP-Protocol-Version the SDK does not know is routed there too, and was told of params._meta
# when its version was what was wrong: said first.
UNSERVED_PROTOCOL = (
    "MCP-Protocol-Version {asked} is not one this server speaks: send {modern} (and the same "
    "version in each request's params._meta), or leave it out and open a session with "
    "initialize"
)
NO_ENVELOPE = (
    "under MCP-Protocol-Version {version} each request carries its envelope in params._meta: "
    "io.modelcontextprotocol/protocolVersion ({version}) and "
    "io.modelcontextprotocol/clientCapabilities"
)
# Its checks of a header against the body (Mcp-Method, Mcp-Name, MCP-Protocol-Version, the
# Mcp-Param-* of a tool's arguments), each in its words, all said by the header's name.
HEADER_DISAGREES = (
    "the {header} header does not say what the body says: send it once, with the body's value"
)
# The same protocol's refusals of a GET or a DELETE, and of an Accept that leaves a type out,
# bare statuses without a word.
NO_SESSIONS = (
    "under MCP-Protocol-Version {version} there is no session: no stream to open (GET), none "
    "to end (DELETE); send each request as a POST"
)


def in_our_words(said: str, protocol: str | None = None) -> str | None:
    """Commune's line for a refusal the SDK said (``said``), None for one it does not know;
    ``protocol``: the request's MCP-Protocol-Version."""
    from mcp_types.version import MODERN_PROTOCOL_VERSIONS

    if said in SDK_REFUSALS:
        return SDK_REFUSALS[said]
    envelope = said.startswith("params._meta ") or said.startswith("the protocol-version envelope")
    if said == "Unsupported protocol version" or (
        envelope and protocol not in MODERN_PROTOCOL_VERSIONS
    ):
        return unserved(protocol)
    if envelope:
        return NO_ENVELOPE.format(version=protocol)
    header, _, rest = said.partition(" header ")
    if rest and header.lower().startswith("mcp-"):
        return HEADER_DISAGREES.format(header=header)
    return next(
        (ours for start, ours in SDK_REFUSALS_STARTING.items() if said.startswith(start)), None
    )


def unserved(protocol: str | None) -> str:
    """:data:`UNSERVED_PROTOCOL` for the request's MCP-Protocol-Version ``protocol``."""
    from mcp_types.version import MODERN_PROTOCOL_VERSIONS

    modern = ", ".join(MODERN_PROTOCOL_VERSIONS)
    return UNSERVED_PROTOCOL.format(asked=shown(protocol or ""), modern=modern)


def bare_refusal(status: int, protocol: str | None) -> tuple[str, dict[str, str]] | None:
    """Commune's line, and the headers to keep, for a refusal the SDK sent without a body."""
    from mcp_types.version import MODERN_PROTOCOL_VERSIONS

    if status == 405:
        # Any version the SDK does not know for a session's is routed to the protocol
        # without sessions, which refuses a GET: its version is what is wrong, not the GET.
        if protocol not in MODERN_PROTOCOL_VERSIONS:
            return unserved(protocol), {"Allow": "POST"}
        return NO_SESSIONS.format(version=protocol), {"Allow": "POST"}
    if status == 406:
        return SDK_REFUSALS[NOT_ACCEPTABLE], {}
    return None


class _HoldingRefusal:
    """``send``, holding back an answer of the SDK's with an error status (its start and its
    body), for the caller to say it in Commune's words (:data:`SDK_REFUSALS`), or send it on
    as it is (:meth:`release`). Among them its 404 to a session id it does not hold:
    "Session not found", saying neither why (the server restarted, the session was idle too
    long) nor what to do. A success (a stream) goes through as it comes."""

    def __init__(self, send: "Send") -> None:
        self.send, self.status = send, 0
        self.held: list[Any] = []

    async def __call__(self, message: Any) -> None:
        if message["type"] == "http.response.start" and message["status"] >= 400:
            self.status = message["status"]
        if self.status:
            self.held.append(message)
        else:
            await self.send(message)

    def said(self) -> tuple[str, int, Any, Any] | None:
        """The SDK's message, JSON-RPC code, the request's id and the error's data, as its
        error body gives them; None if not one."""
        import json

        body = b"".join(m.get("body", b"") for m in self.held if m["type"] == "http.response.body")
        try:
            reply = json.loads(body)
            error = reply.get("error")
        except (ValueError, AttributeError):
            return None
        if not isinstance(error, dict):
            return None
        message, code = error.get("message"), error.get("code")
        if not isinstance(message, str) or type(code) is not int:
            return None
        return message, code, reply.get("id"), error.get("data")

    async def release(self) -> None:
        for message in self.held:
            await self.send(message)


def http_routes(
    commune: "Commune", require_auth: bool = True
) -> tuple[list["BaseRoute"], Callable[[], AbstractAsyncContextManager[None]]]:
    """The streamable HTTP endpoint at /mcp, for `commune serve`, and the lifespan that runs
    its session manager. A request without a valid key is refused with 401 before it reaches
    an MCP session, unless ``require_auth`` is off (`serve --no-auth`: the operator's own
    loopback machine, as the API). Each start of the lifespan gets a fresh session manager
    (the SDK's runs once), so an app started twice (tests, reloads) still serves MCP."""
    from contextlib import asynccontextmanager

    from mcp.server.transport_security import TransportSecuritySettings
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from commune.api.auth import client_host, identify
    from commune.api.errors import error_response, sent_not_as_json
    from commune.govern.members import AuthError
    from commune.govern.quotas import QuotaExceeded

    # The SDK logs each session's id at INFO ("Created new transport with session ID: …",
    # "Terminating session: …"). A session id is a bearer secret, together with a key: whoever
    # reads the server's log would hold every open session's. Only its warnings are kept.
    for name in ("mcp.server.streamable_http_manager", "mcp.server.streamable_http"):
        logging.getLogger(name).setLevel(logging.WARNING)
    server = build_server(commune, http_actor(commune, require_auth))
    current: dict[str, Any] = {}
    opened = SessionsOpened(SESSIONS_PER_KEY, SESSION_IDLE_S)
    owners = SessionOwners(SESSION_IDLE_S)

    @asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        # Keys travel as bearer tokens, never cookies, so DNS rebinding gains nothing: the
        # Host check would only refuse the cooperative's own reverse proxy names. Without
        # keys (--no-auth), api/middleware.LoopbackOnly checks Host and Origin for every route.
        app = server.streamable_http_app(
            streamable_http_path="/mcp",
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
            session_idle_timeout=SESSION_IDLE_S,
        )
        current["app"] = next(
            r.app for r in app.routes if isinstance(r, Route) and r.path == "/mcp"
        )
        async with app.router.lifespan_context(app):
            yield

    class Guarded:
        """An ASGI app (a plain function would be taken by Starlette for a request handler)."""

        async def __call__(self, scope: "Scope", receive: "Receive", send: "Send") -> None:
            request = Request(scope)
            failures = request.app.state.failed_sign_ins  # the API's count (api/app.py)
            host = client_host(request)
            refused: Response | None = None
            try:
                # Else api/gate.py checked the key already, or --no-auth needs none.
                if require_auth and "authenticated" not in scope.get("state", {}):
                    await run_in_threadpool(
                        identify, commune, failures, host, key_in(request.headers)
                    )
            except QuotaExceeded as exc:  # wrong keys count here as on the API
                # and in /metrics' refusals, as the API's gate counts them (api/gate.py): a
                # GET's stream is not gated there, and guessing on it went uncounted.
                request.state.quota_refused = exc.quota
                refused = error_response(
                    request, 429, str(exc), {"Retry-After": str(exc.retry_after)}
                )
            except AuthError as exc:
                refused = error_response(request, 401, str(exc), {"WWW-Authenticate": "Bearer"})
            # Who calls: the key, kept only as its hash (as for SessionsOpened).
            who = hashlib.sha256(
                (key_in(request.headers) or f"address {host}").encode()
            ).hexdigest()
            # A session id means something only under a protocol with sessions: sent with a
            # later protocol's request (which the SDK serves without reading it), its 404s
            # (a method the server does not know, JSON-RPC -32601) were said as a session
            # gone, and another key's id was refused there though nothing of its session is
            # reached, where an id of none was served: whether another key's session has
            # this id showed.
            session_id = (
                request.headers.get("mcp-session-id") if of_sessions(request.headers) else None
            )
            opening = opens_a_session(request.method, request.headers)

            def gone() -> Response:
                # Another key's session is said as one that does not exist, in the same
                # words: whether another key's session has this id is none of the caller's
                # business.
                return error_response(
                    request,
                    404,
                    "no MCP session with this id for this key: open a new one (send no "
                    f"mcp-session-id; a session ends after {SESSION_IDLE_S // 60} minutes "
                    "idle, and when the server restarts)",
                )

            if refused is None and request.method == "POST":
                not_json = sent_not_as_json(request, plain_only=True)
                if not_json is not None:
                    refused = error_response(request, 400, not_json)
            if refused is None and session_id and not owners.allows(session_id, who):
                refused = gone()
            if refused is None and opening:
                # a new session: each key opens a bounded number of them
                if not opened.admit(who):
                    refused = error_response(
                        request,
                        429,
                        f"too many MCP sessions opened with this key ({SESSIONS_PER_KEY} in "
                        f"{SESSION_IDLE_S // 60} minutes): reuse one (its mcp-session-id), or "
                        "wait",
                        {"Retry-After": "60"},
                    )
            if refused is not None:
                await refused(scope, receive, send)
                return
            if "app" not in current:
                starting = error_response(
                    request, 503, "the MCP endpoint is starting: retry in a second"
                )
                await starting(scope, receive, send)
                return
            if opening:
                send = _noting_session(send, lambda sid: owners.opened(sid, who))
            if session_id:
                owners.begin(session_id)
            held = _HoldingRefusal(send)
            try:
                await current["app"](scope, receive, held)
            finally:
                if session_id:
                    owners.end(session_id)
            if session_id and held.status == 404:
                await gone()(scope, receive, held.send)
            elif held.status:
                said = held.said()
                protocol = request.headers.get("mcp-protocol-version")
                ours: str | None = None
                kept: dict[str, str] = {}
                if said is not None:
                    ours = in_our_words(said[0], protocol)
                elif (bare := bare_refusal(held.status, protocol)) is not None:
                    ours, kept = bare
                if ours is None:
                    await held.release()
                else:
                    if held.status == 503:
                        kept["Retry-After"] = "60"
                    # The SDK's JSON-RPC code kept (-32700 says a body that is not JSON), and
                    # its id and data (-32022's data names the versions this server speaks).
                    rpc, rpc_id, rpc_data = said[1:] if said is not None else (None, None, None)
                    await error_response(
                        request,
                        held.status,
                        ours,
                        kept or None,
                        rpc=rpc,
                        rpc_id=rpc_id,
                        rpc_data=rpc_data,
                    )(scope, receive, held.send)
            if session_id and request.method == "DELETE":
                owners.ended(session_id)

    return [Route("/mcp", endpoint=Guarded(), methods=["GET", "POST", "DELETE"])], lifespan
