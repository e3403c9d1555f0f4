"""What every request goes through, whatever its route: the overload guard, the security
headers, the request log, and who forwarded it."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.base import RequestResponseEndpoint
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from commune.api.errors import error_response
from commune.http.body import MACHINE_ROUTES, refusal

# The requests that do work in proportion to a question: the ones an overload is made of.
# Posts only: an MCP client's GET /mcp is a listening stream held open for its whole
# session, doing nothing (eight idle agents held every slot and the API answered 503). The
# web's questions and the commons page's search are the same work as the API's.
HEAVY = (
    "/api/search",
    "/api/ask",
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/embeddings",
    "/mcp",
    "/peer/search",
    "/ask",  # the web's question, and /ask/stream
)
# The routes that take files (app.body_limits gives them [limits] max_upload_mb): an upload
# is read, parsed, embedded and indexed, a question's work for each passage. They were
# outside the guard, so that a few contributors sending files at once took the cores from
# every answer while the guard let more questions in.
UPLOADS = ("/api/documents", "/contribute")


def heavy(scope: Scope) -> bool:
    path = scope["path"]
    if scope["method"] == "POST":
        return bool(path.startswith(HEAVY)) or served(path) in UPLOADS
    # A search, when it has a query (HEAD: the same work as the GET).
    if scope["method"] in ("GET", "HEAD") and path == "/commons":
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        return any(v.strip() for v in query.get("q", []))
    return False


# Our own pages run no inline script and load nothing from elsewhere. Swagger UI (/docs)
# ships its own inline start-up script, so it gets the other headers but not this policy.
# Its package's folder, served for /docs's script and style, holds pages of its own too
# (index.html, the demo that fetches the Petstore's API from petstore.swagger.io and runs it
# on this site; oauth2-redirect.html): exempt with the folder, they ran inline script and
# reached elsewhere from the cooperative's address. The policy holds for them; a script or a
# style sheet is not held back by a policy sent with it.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' "
    "data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

requests_log = logging.getLogger("commune.requests")


# Said to a person on a page: the setting is the operator's, not theirs to change. Nothing
# of what they sent was kept: they send it again.
BUSY = "The server is busy answering others: send it again in a moment."


def overload_guard(app: FastAPI, limit: int) -> None:
    """Past ``limit`` heavy requests in flight, answer 503 with Retry-After at once."""
    app.add_middleware(OverloadGuard, limit=limit)
    app.add_exception_handler(Busy, _busy_said)


class Busy(HTTPException):
    """Every slot taken at the moment a request's body became whole: raised from the body's
    last read, so that the route stops there, nothing done. An HTTPException, as
    http/body.BodyTooLarge, so that FastAPI's reading of a body lets it through."""

    def __init__(self, limit: int) -> None:
        super().__init__(503, BUSY, {"Retry-After": "1"})
        self.limit = limit


async def _busy_said(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Busy)
    return busy(request.scope, exc.limit)


def busy(scope: Scope, limit: int) -> Response:
    """The guard's 503: for a program, the setting; for a person on a page, a line."""
    headers = {"Retry-After": "1"}
    if scope["path"].startswith(MACHINE_ROUTES):
        return error_response(
            Request(scope),
            503,
            # One request, as a small machine's operator may allow: "1 requests".
            f"the server is answering {limit} {'request' if limit == 1 else 'requests'} "
            "already: retry in a second ([limits] max_concurrent_requests)",
            headers,
        )
    # a page's form (a contributor's files, a question)
    return refusal(scope, 503, BUSY, headers)


class OverloadGuard:
    """A plain ASGI middleware, not ``@app.middleware("http")``: there, ``call_next`` returns
    once the headers are out, so a streamed answer stopped counting while its body (the
    model's work) still ran, and streams escaped the limit. Here a request counts until the
    app has sent its last byte, or failed, or its client left.

    An upload counts from the moment its route has read its body whole, not from its
    headers: it held a slot while its body arrived (a 200 MB file at 1 Mbit/s, about 27
    minutes), and a few contributors on slow lines kept every question out. Receiving is no
    question's work, and its pace is bounded by the body's own limits (http/body.BodyLimit:
    [limits] body_seconds, body_min_kb_per_second, the size). The route reads it as it always
    did, after its own checks (a key, a session, a role), so a refusal of its own still comes
    before the body is read. A question's body is small ([limits] max_body_kb): it counts
    from its headers, as MCP's SDK would turn an error raised while it reads into a 500.
    Every slot taken at the headers, or when an upload's body becomes whole (Busy), is a 503
    at once: never a queue.

    Uploads are counted apart as well, from their headers to their answer: at most ``limit``
    at once, arriving or being read; past it, the next is a 503 from its headers. What an
    upload has sent is held while the rest arrives (a file under a MB in memory, a larger one
    in the temporary directory), up to [limits] max_upload_mb; with its slot no longer taken
    at its headers nothing counted uploads on their way, and one caller opening thirty at once
    against a limit of one had all thirty taken in. Their bytes stay within ``limit`` times
    max_upload_mb, as when they held a slot, and they keep no question out."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0  # one event loop: no lock needed between the check and the count
        self.uploads = 0  # uploads taken in, their body arriving or their files being read

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not heavy(scope):
            await self.app(scope, receive, send)
            return
        upload = served(scope["path"]) in UPLOADS and _has_body(scope)
        if self.in_flight >= self.limit or (upload and self.uploads >= self.limit):
            await busy(scope, self.limit)(scope, receive, send)  # before a byte of the body
            return
        held = False

        def take() -> None:
            nonlocal held
            if self.in_flight >= self.limit:
                raise Busy(self.limit)
            self.in_flight += 1
            held = True

        async def read() -> Message:
            message = await receive()
            if not held and message["type"] == "http.request" and not message.get("more_body"):
                take()  # the body is whole: the work starts
            return message

        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        if upload:
            self.uploads += 1
        try:
            if not upload:
                take()  # a question: its work starts now
            await self.app(scope, read, sending)
        except Busy:  # a route that read the body outside FastAPI's handlers
            if started:
                raise
            await busy(scope, self.limit)(scope, receive, send)
        finally:
            if held:
                self.in_flight -= 1
            if upload:
                self.uploads -= 1


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


def slash_optional(app: FastAPI) -> None:
    """Serve /v1's and /api's routes with a trailing slash too (POST /v1/chat/completions/,
    POST /api/ask/), rather than redirect to the address without it, as the router would
    (307)."""
    app.add_middleware(SlashOptional)


class SlashOptional:
    """A redirect lost the request for several clients: Python's urllib will not follow a
    POST's 307, httpx and curl do not follow one unless told, and behind a proxy that does
    not say it spoke https (no [web] trusted_proxies) the Location is http://, to which the
    openai client follows without the key (httpx drops it off its origin). The address is
    not ambiguous, so it is served where it was sent. Only under /v1/ and /api/: their
    callers are programs (the same clients, the same lost POST); the web's pages keep the
    redirect, which a browser follows. Every slash at the end goes (/v1/chat/completions//):
    one slash less would only have turned into a redirect. The scope is changed in place, so
    that the request log and /metrics name the route that answered. The key, the quota and
    the route's access are decided as for the address without the slash: the gate keys
    /api/ and /v1/ by prefix, and the body's limit looks the slash past (app.body_limits)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["path"] = served(scope.get("path", ""))
        await self.app(scope, receive, send)


def head_as_get(app: FastAPI) -> None:
    """Answer HEAD wherever GET is answered: the same status and headers, no body."""
    app.add_middleware(HeadAsGet)


class HeadAsGet:
    """HTTP asks every server that takes GET to take HEAD (RFC 9110, 9.3.2), and Starlette's
    own routes do; FastAPI's take only the methods they name. HEAD /healthz was a 405, which
    an uptime monitor checking with HEAD (UptimeRobot's default, ``curl -I``) read as the
    service down, and a link checker as every page broken. The request goes to its route
    as a GET, the same work, key and quota, and only its status and headers go back (its
    Content-Length the GET's); what is outside it (the key's gate, the request log, /metrics)
    sees the HEAD. /mcp keeps its own route's answer: its GET is a session's stream.

    The route reached is written back on the request's own scope, as the router writes it
    on a GET's: /metrics labels a request by it, and counted every HEAD as "unmatched"."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or scope["path"] == "/mcp":
            await self.app(scope, receive, send)
            return
        sent = False
        as_get = {**scope, "method": "GET"}  # a copy: the server itself still sees a HEAD

        async def headers_only(message: Message) -> None:
            nonlocal sent
            if message["type"] == "http.response.start" and "route" in as_get:
                scope["route"] = as_get["route"]
            if message["type"] == "http.response.body":
                if sent:
                    return  # the rest of a streamed body
                sent = True
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        try:
            await self.app(as_get, receive, headers_only)
        finally:  # a fault's 500 is answered outside, by Starlette's last handler
            if "route" in as_get:
                scope["route"] = as_get["route"]


def open_data(app: FastAPI, public: Callable[[str], bool]) -> None:
    """Let any site's page read the addresses ``public(path)`` names (the public data)."""
    app.add_middleware(OpenData, public=public)


class OpenData:
    """``Access-Control-Allow-Origin: *`` on what anyone may read without a key: /healthz,
    and the transparency data while the charter makes it public. A town's site showing the
    cooperative's energy figures, or a status badge, fetches them from its visitors'
    browsers, which withheld every answer from its script (no CORS header: "blocked by CORS
    policy"), the refusals (a 404 before `commune bom` has run) as the data. Nothing of the
    visitor's travels with such a request (no credentials are allowed with "*"), and what
    needs a key is left as it was: no other site's page reads it."""

    def __init__(self, app: ASGIApp, public: Callable[[str], bool]) -> None:
        self.app = app
        self.public = public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or not self.public(scope["path"])
        ):
            await self.app(scope, receive, send)
            return

        async def readable(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Access-Control-Allow-Origin"] = "*"
            await send(message)

        await self.app(scope, receive, readable)


def served(path: str) -> str:
    """The address ``path`` is served as: a program's (SLASH_OPTIONAL) without its final
    slashes. "/api/" or "/v1//" alone name no route: left as they are, to the router's 404."""
    if path.startswith(SLASH_OPTIONAL) and path.endswith("/"):
        stripped = path.rstrip("/")
        if stripped not in ("/api", "/v1"):
            return stripped
    return path


# The programs' prefixes, whose addresses are served with or without a final slash.
SLASH_OPTIONAL = ("/v1/", "/api/")


# The names this machine answers to on loopback, as a browser writes them in Host and Origin.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def _loopback(authority: str) -> bool:
    """Whether ``authority`` ("host" or "host:port") names this machine's loopback."""
    host = authority.lower()
    if host.startswith("["):
        host = host.split("]")[0] + "]"
    else:
        host = host.rsplit(":", 1)[0]
    return host in LOOPBACK_NAMES


def loopback_only(app: FastAPI) -> None:
    """Without keys (`commune serve --no-auth`), serve this machine's own pages and programs
    only. A page of any site the user opens may send a form to http://127.0.0.1:PORT (an
    upload to /api/documents, as the operator), and a site whose name it makes point at
    127.0.0.1 (DNS rebinding) reads what it asks: everything, private collections included.
    A request must name this machine in Host, and one a browser sends from a page must come
    from a page of this machine (Origin); programs send no Origin."""
    app.add_middleware(LoopbackOnly)


class LoopbackOnly:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host, origin = headers.get("host", ""), headers.get("origin")
        site = origin.split("://", 1)[-1] if origin else ""
        if _loopback(host) and (origin is None or ("://" in origin and _loopback(site))):
            await self.app(scope, receive, send)
            return
        response = error_response(
            Request(scope),
            403,
            "without keys (--no-auth) this server answers this machine's own pages only "
            "(open it at http://127.0.0.1 or http://localhost)",
        )
        await response(scope, receive, send)


def security_headers(app: FastAPI) -> None:
    @app.middleware("http")
    async def headers(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.url.path != "/docs":
            response.headers.setdefault("Content-Security-Policy", CSP)
        return response


def request_log(app: FastAPI) -> None:
    """One structured line per request (JSON on logger ``commune.requests``): its id (also
    returned as X-Request-ID), route, status, duration, user and member. Never a key."""

    @app.middleware("http")
    async def log_request(request: Request, call_next: RequestResponseEndpoint) -> Response:
        rid = uuid.uuid4().hex[:16]
        request.state.request_id = rid
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            response.headers["X-Request-ID"] = rid
            return response
        finally:
            actor = getattr(request.state, "actor", None)
            requests_log.info(
                json.dumps(
                    {
                        "request_id": rid,
                        "method": request.method,
                        "path": request.url.path,
                        "status": status,
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                        "user": getattr(actor, "user", None),
                        "member": getattr(actor, "member", None),
                    },
                    ensure_ascii=False,
                )
            )


def forwarded_by(app: FastAPI, proxies: tuple[str, ...]) -> None:
    """Believe X-Forwarded-For and X-Forwarded-Proto from ``proxies`` only ([web]
    trusted_proxies): from anyone else they are ignored, and the limits by address count the
    address that connected. `commune serve` turns uvicorn's own reading of them off (it
    believes any client on loopback), so that this list is the one rule."""
    if proxies:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(proxies))
