"""How much a request may send, enforced while it is read.

A declared ``Content-Length`` over the route's limit is refused at once (HTTP 413), before a
byte of the body is read; a body sent without one (chunked) is counted as it arrives and
refused as soon as it passes the limit. Nothing downstream (a JSON parser, the multipart
parser spooling files to the temporary directory) ever holds more than the limit: issue 22
saw 291 MB written to disk before a request without a key got its 401.

A ``gate`` may refuse a request from its headers alone, before its body is read: the API
checks the caller's key there (api/gate.py).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from decimal import ROUND_FLOOR, Decimal
from http.cookies import CookieError, SimpleCookie
from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from commune.text.messages import LANGUAGE_COOKIE, from_accept_language, localise

LimitOf = Callable[[Scope], tuple[int, str]]  # (bytes, the setting that says so)
Gate = Callable[[Scope], Awaitable[Response | None]]


def size(n: int) -> str:
    """``n`` bytes as a person reads a limit: in MB from one MB up, else in KB, to three
    significant figures and never fewer than its whole units ("20.4 KB", "1.5 MB", "1234
    MB"), rounded down, so that "larger than" stays true. A limit of a fraction of a MB
    ([limits] max_upload_mb = 0.02, 20971 bytes) read "20.4795 KB", and ":g" wrote a million
    MB "1e+06 MB". Rounded to six figures first: 1.15 MB is 1205862 bytes, 1.1499996 MB."""
    value, unit = (n / 1024 / 1024, "MB") if n >= 1024 * 1024 else (n / 1024, "KB")
    figure = Decimal(f"{value:.6g}")
    if figure:
        places = Decimal(1).scaleb(min(0, figure.adjusted() - 2))
        figure = figure.quantize(places, rounding=ROUND_FLOOR)
    text = f"{figure:f}"
    return f"{text.rstrip('0').rstrip('.') if '.' in text else text} {unit}"


class BodyTooLarge(HTTPException):
    """A request body over its route's limit: HTTP 413, nothing done. An HTTPException, so
    that a parser reading the body lets it through rather than calling it a parse error."""

    def __init__(self, limit: int, setting: str) -> None:
        super().__init__(
            413,
            f"the request body is larger than {size(limit)} ([limits] {setting}): "
            "send less, or in several requests",
        )
        # Said to a person on a page: the setting is the operator's, not theirs to change. A
        # sentence of its own, with its stop: the page and the script's fragment show it as
        # it is (refusal), where it read without one.
        self.to_a_person = (
            f"What you sent is larger than {size(limit)}, the most this server takes: "
            + (
                "send fewer or smaller files, or a few at a time."
                if setting == "max_upload_mb"
                else "send a shorter text."  # a question, a form's fields
            )
        )

    def said_at(self, path: str) -> str:
        return self.detail if path.startswith(MACHINE_ROUTES) else self.to_a_person


class BodyTooSlow(HTTPException):
    """A request body that did not keep up ``[limits] body_min_kb_per_second`` past its first
    ``body_seconds``: HTTP 408, nothing done, the connection closed. An HTTPException, as
    BodyTooLarge."""

    def __init__(self, seconds: float, kb_per_second: float = 0.0) -> None:
        if kb_per_second > 0:
            said = (
                f"the request body arrived slower than {kb_per_second:g} KB/s past its first "
                f"{seconds:g} s ([limits] body_min_kb_per_second, body_seconds)"
            )
        else:
            said = (
                f"the request body took longer than {seconds:g} s to arrive ([limits] body_seconds)"
            )
        super().__init__(
            408, f"{said}: send it again, over a faster connection or in smaller parts"
        )
        self.to_a_person = (
            "What you sent took too long to arrive: send it again, or a few files at a time."
        )

    def said_at(self, path: str) -> str:
        return self.detail if path.startswith(MACHINE_ROUTES) else self.to_a_person


# The routes machines call, each with a key: the API's, the OpenAI-compatible one, MCP and
# the peers'. Their errors are JSON; the rest are the web's pages.
MACHINE_ROUTES = ("/api/", "/v1/", "/mcp", "/peer/")

# OpenAI clients read error.type; anything not listed is the caller's request.
OPENAI_KINDS = {
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    # Two writers met: the request was sound and wrote nothing. It was typed
    # invalid_request_error, which tells a program to change its request; OpenAI documents
    # no type for a 409, and its client raises ConflictError from the status alone, after
    # retrying it as a "lock timeout": the type says what happened, in the family above.
    409: "conflict_error",
    429: "rate_limit_error",
    500: "server_error",
    # Busy ([limits] max_concurrent_requests): the server's state, not the request's, which
    # invalid_request_error said.
    503: "server_error",
}
# JSON-RPC's own codes: a refusal of ours (4xx) is the request's, the rest the server's.
JSONRPC_INVALID_REQUEST, JSONRPC_INTERNAL_ERROR = -32600, -32603


def envelope(
    path: str,
    status: int,
    message: str,
    code: str,
    param: str | None = None,
    rpc: int | None = None,
    rpc_id: str | int | None = None,
    rpc_data: Any = None,
) -> dict[str, Any]:
    """What a client of the route reads an error from, beside ``detail`` and ``code``: under
    /v1/, OpenAI's ``error`` object; at /mcp, a JSON-RPC error. The MCP SDK's client reads a
    refused request's body only when it is one, and otherwise tells the agent "Server
    returned an error response": a revoked key, a quota or a body too large reached the
    agent without a word of why. ``param``: the request's field at fault, when one is (OpenAI's
    error object always carries the key, null otherwise); ``rpc``: the JSON-RPC code, when
    the status does not say it (a body that is not JSON, -32700); ``rpc_id`` and ``rpc_data``:
    the id of the request refused and the data of an error the MCP SDK said, kept where Commune
    says its message in its own words (a client matches an answer to its request by the id,
    and the SDK's client reads the versions a server speaks in the data of -32022)."""
    if path.startswith("/v1/"):
        kind = OPENAI_KINDS.get(status, "invalid_request_error")
        return {"error": {"message": message, "type": kind, "param": param, "code": code}}
    if path == "/mcp" or path.startswith("/mcp/"):
        number = rpc or (JSONRPC_INVALID_REQUEST if status < 500 else JSONRPC_INTERNAL_ERROR)
        data = {**(rpc_data if isinstance(rpc_data, dict) else {}), "code": code, "status": status}
        error = {"code": number, "message": message, "data": data}
        return {"jsonrpc": "2.0", "id": rpc_id, "error": error}
    return {}


def refusal(
    scope: Scope, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    """A one-line error: an HTML line for a browser's page, else ``{"detail": ..., "code":
    ...}`` as api/errors.py writes them; in French unless the caller prefers English."""
    sent = dict(scope.get("headers", []))
    accept = sent.get(b"accept", b"").decode("latin-1")
    page = not scope["path"].startswith(MACHINE_ROUTES)
    language = from_accept_language(sent.get(b"accept-language", b"").decode("latin-1"))
    if page:  # the language the person chose on the pages, over the browser's (web/i18n.py)
        language = _chosen(sent.get(b"cookie", b"").decode("latin-1")) or language
    message = localise(message, language)
    if page and b"x-fragment" in sent:  # the page's script, which shows it in place
        from html import escape

        body = f'<p class="error" role="alert">{escape(message)}</p>\n'
        return Response(body, status, headers, media_type="text/html")
    if page and "text/html" in accept:
        from html import escape

        # A form sent without script (a contributor's files): a page that fits a phone, in
        # the pages' style, leading back to the form's page. It had no viewport (drawn 980 px
        # wide at 360), no style, and its one link led to the question box.
        # What the form held is in the browser, not here: refused before its body was read
        # (larger than the limit, every slot of the overload guard taken) or while it
        # arrived, nothing of it was kept. The browser's Back button brings the form back as
        # it was filled, its licence, publisher and chosen files with it (Chromium, script
        # off: test_browser); the one link, "Back to the form", opened it empty, and a
        # contributor who followed it chose and typed everything again.
        # Not so a question: web/templates/ask.html turns its box's autocomplete off, so that
        # the next person at a shared computer does not find it there. Chromium gave it back
        # only from its back-forward cache (with that cache off, the box came back empty:
        # test_browser), and the page said it was kept to whoever went back to an empty box.
        # Nor a search (GET /commons?q=), nothing filled in when a link was followed: its
        # address holds it.
        kind = "search" if scope.get("method") in ("GET", "HEAD") else "form"
        if scope["path"].startswith(QUESTION_FORMS):
            kind = "question"
        if language == "fr":
            title, empty = "Requête refusée", "Ouvrir le formulaire vide"
        else:
            title, empty = "Request refused", "Open the form empty"
        kept = KEPT["fr" if language == "fr" else "en"][kind]
        body = (
            f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title} ({status})</title>"
            '<link rel="stylesheet" href="/static/commune.css"></head>'
            f'<body><main id="main"><h1>{title}</h1>'
            f'<div class="error" role="alert"><p>{escape(message)}</p><p>{kept}</p></div>'
            f'<p><a href="{escape(form_page(scope))}">{empty}</a></p></main></body></html>\n'
        )
        return Response(body, status, headers, media_type="text/html")
    code = {408: "body_too_slow", 413: "body_too_large", 503: "busy"}.get(status, "invalid_request")
    said = {"detail": message, "code": code, **envelope(scope["path"], status, message, code)}
    return Response(
        json.dumps(said, ensure_ascii=False),
        status,
        headers,
        "application/json",
    )


# The web's question forms (POST /ask, /ask/stream): their question is not kept by the browser.
QUESTION_FORMS = ("/ask",)
# What a page refused without script says of what was sent, by the kind of request (refusal).
KEPT = {
    "fr": {
        "form": "Votre navigateur a gardé ce que vous avez rempli\u00a0: revenez au formulaire "
        "avec son bouton Retour (←) et envoyez-le de là.",
        "question": "Revenez à la question avec le bouton Retour (←) de votre navigateur et "
        "envoyez-la de nouveau\u00a0; si sa case est vide, tapez-la de nouveau (une question "
        "n'est pas gardée pour qui utilise le navigateur après vous).",
        "search": "L'adresse de cette page garde votre recherche\u00a0: rechargez-la dans un "
        "instant.",
    },
    "en": {
        "form": "Your browser has kept what you filled in: go back to the form with its Back "
        "button (←) and send it from there.",
        "question": "Go back to your question with your browser's Back button (←) and send it "
        "again; if its box is empty, type it again (a question is not kept for whoever uses the "
        "browser after you).",
        "search": "This page's address holds your search: reload it in a moment.",
    },
}


def form_page(scope: Scope) -> str:
    """The page a form sent to ``scope``'s path is on: the nearest address at or above that
    path that opens (GET /contribute, /curation/3; /admin for /admin/users, /account for
    /account/password, /documents/3 for /documents/3/retire), else the question box (POST
    /ask). It was the path itself or the question box, so that "Back to the form" after an
    administration form led to the question box. The path sent, never another site's: "//"
    opens one (a browser reads "/\\" as "//" too)."""
    path: str = scope["path"]
    if not path.startswith("/") or path.startswith(("//", "/\\")):
        return "/"
    routes = getattr(scope.get("app"), "routes", [])
    while path not in ("", "/"):
        probe = {"type": "http", "path": path, "root_path": "", "method": "GET"}
        if any(route.matches(probe)[0] == Match.FULL for route in routes):
            return path
        path = path.rsplit("/", 1)[0]
    return "/"


def _chosen(cookies: str) -> str | None:
    try:
        chosen = SimpleCookie(cookies).get(LANGUAGE_COOKIE)
    except CookieError:  # a malformed header: the browser's language, as without one
        return None
    return chosen.value if chosen is not None and chosen.value in ("fr", "en") else None


def _declared(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length itself
    return None


class BodyLimit:
    """ASGI middleware: each request's body within ``limit_of(scope)``, arriving within
    ``seconds`` of its headers plus a second for every ``kb_per_second`` KB received
    ([limits] body_seconds, body_min_kb_per_second), and ``gate`` asked first when there is
    one. Not a pause's time: a client sending a byte a second never paused long, and held its
    slot of the overload guard for as long as it liked (api/middleware.OverloadGuard, outside
    this, now takes an upload's slot once its body is whole). Nor the whole body's alone: a
    contributor's large file over a slow line, its bytes coming all along, was cut off past
    it (the rate Apache's mod_reqtimeout keeps, MinRate).
    Once the body is whole, what the app waits for (a client leaving a stream) is not timed."""

    def __init__(
        self,
        app: ASGIApp,
        limit_of: LimitOf,
        gate: Gate | None = None,
        seconds: float = 120.0,
        kb_per_second: float = 4.0,
    ) -> None:
        self.app = app
        self.limit_of = limit_of
        self.gate = gate
        self.seconds = seconds
        self.kb_per_second = kb_per_second

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = self.limit_of(scope)
        declared = _declared(scope)
        if declared is not None and declared > limit:
            too_large = BodyTooLarge(limit, setting)
            await refusal(scope, 413, too_large.said_at(scope["path"]))(scope, receive, send)
            return
        if self.gate is not None:
            refused = await self.gate(scope)
            if refused is not None:
                await refused(scope, receive, send)
                return
        seen = 0
        started = False
        whole = False
        deadline = time.monotonic() + self.seconds
        rate = self.kb_per_second * 1024  # bytes a second of delay each byte earns

        async def counted() -> Message:
            nonlocal seen, whole
            if whole:
                return await receive()
            left = deadline + (seen / rate if rate else 0.0) - time.monotonic()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, left))
            except TimeoutError:
                raise BodyTooSlow(self.seconds, self.kb_per_second) from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit, setting)
            whole = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except (BodyTooLarge, BodyTooSlow) as exc:
            if started:
                raise
            # A body left unread: the server closes the connection after the answer.
            said = exc.said_at(scope["path"])
            await refusal(scope, exc.status_code, said)(scope, receive, send)
