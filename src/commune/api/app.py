"""The HTTP API and the web application, a thin layer over :class:`commune.core.Commune`.

Every API route needs an API key except ``/healthz`` and the transparency data; the web
pages (commune/web/) need a signed-in session. What a caller sees is what its member may
read. The routes live in ``api/routes/`` (one module per concern), ``api/openai.py`` and
``api/mcp.py``; this module only assembles them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from functools import partial
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from starlette.routing import BaseRoute
from starlette.types import Scope

from commune import __version__
from commune.api import metrics, middleware, openai
from commune.api.docs import offline_docs, openai_refuses_with_400
from commune.api.errors import OPENAI_REFUSALS, REFUSALS, Incidents, install_error_handlers
from commune.api.gate import keys_first
from commune.api.routes import documents, health, peering, people, search, transparency, usage
from commune.api.unicode import valid_unicode
from commune.config import LimitsSettings
from commune.core import Commune
from commune.errors import CommuneError
from commune.http.body import BodyLimit, LimitOf
from commune.http.signins import FailedSignIns
from commune.ingest.upload import remove_leftovers
from commune.web.routes import install as install_web

log = logging.getLogger("commune.api")

McpLifespan = Callable[[], AbstractAsyncContextManager[None]]


def create_app(commune: Commune | None = None, require_auth: bool = True) -> FastAPI:
    commune = commune or Commune()
    app = FastAPI(
        title="Commune",
        version=__version__,
        description="Cited answers from a cooperative's documents commons.",
        docs_url=None,  # served by offline_docs, from a package, not a CDN
        redoc_url=None,
    )
    offline_docs(app)
    openai_refuses_with_400(app)
    # In the database: one count for every server process of the deployment.
    failures = FailedSignIns(
        commune.settings.web.failed_sign_ins_per_minute, tries=commune.wrong_tries()
    )
    # Innermost: an unexpected error's 500 goes out through the request log, the security
    # headers and the metrics as any answer does.
    app.add_middleware(Incidents)
    middleware.head_as_get(app)  # everything outside it sees the HEAD
    middleware.slash_optional(app)  # what is outside it sees the route served
    # Added first, so that they sit inside the request log: refusals are logged too. The
    # body's limit and the key's check come before anything reads the body.
    app.add_middleware(
        BodyLimit,
        limit_of=body_limits(commune.settings.limits),
        gate=keys_first(commune, failures, require_auth),
        seconds=commune.settings.limits.body_seconds,
        kb_per_second=commune.settings.limits.body_min_kb_per_second,
    )
    middleware.overload_guard(app, commune.settings.limits.max_concurrent_requests)
    if not require_auth:
        middleware.loopback_only(app)
    middleware.open_data(app, partial(_public, commune))
    middleware.security_headers(app)
    middleware.request_log(app)
    metrics.install(app, commune)  # inside the forwarded rewrite: it sees the real client
    middleware.forwarded_by(app, commune.settings.web.trusted_proxies)  # outermost
    install_error_handlers(app)
    app.state.commune = commune
    app.state.require_auth = require_auth
    app.state.failed_sign_ins = failures  # one count for the API, /mcp and the sign-in page
    commune.charter_at_start()  # an invalid charter stops here, and one not recordable
    commune.check_settings()  # and a model commune.toml names that is not here

    # No key, no quota: what /healthz may answer besides its 200 is a fault (500, with its
    # incident) or a database out of reach (503), which a monitor generated from the
    # description must read as such.
    app.include_router(health.router, responses={s: REFUSALS[s] for s in (500, 503)})
    for routes in (search, documents, usage, people, openai, peering):
        refusals = OPENAI_REFUSALS if routes is openai else REFUSALS
        app.include_router(routes.router, dependencies=[Depends(valid_unicode)], responses=refusals)
    mcp_routes, mcp_lifespan = _mcp(commune, require_auth)
    app.router.routes.extend(mcp_routes)
    # An MCP client at another address is told where /mcp is (api/errors.py): only if it is.
    app.state.serves_mcp = bool(mcp_routes)
    app.include_router(transparency.router, responses=REFUSALS)
    # The HTML page /transparency is the web's: commune/web/ serves it, like every page.
    install_web(app, commune)  # the web application (commune/web/), on the same library calls
    _lifespan(app, commune, mcp_lifespan)
    return app


def _public(commune: Commune, path: str) -> bool:
    """Whether anyone may read ``path`` without a key: /healthz, and the transparency data
    unless the charter keeps it to members (``transparency_public = false``)."""
    if path == "/healthz":
        return True
    return path in transparency.ADDRESSES and commune.charter.utility.transparency_public


# The routes that take files (middleware.UPLOADS): their body may reach [limits]
# max_upload_mb; every other body (a question, a form, a JSON-RPC call) [limits] max_body_kb.


def body_limits(limits: LimitsSettings) -> LimitOf:
    upload = int(limits.max_upload_mb * 1024 * 1024)
    other = limits.max_body_kb * 1024

    def limit_of(scope: Scope) -> tuple[int, str]:
        # /api/documents/ is served as /api/documents (middleware.SlashOptional): the same
        # upload, the same limit. Its rule is asked here, as this runs outside it.
        if scope["method"] == "POST" and middleware.served(scope["path"]) in middleware.UPLOADS:
            return upload, "max_upload_mb"
        return other, "max_body_kb"

    return limit_of


def _mcp(commune: Commune, require_auth: bool) -> tuple[list[BaseRoute], McpLifespan | None]:
    """The MCP server's streamable HTTP endpoint at /mcp, when the mcp package is installed
    (`commune-coop[mcp]`), and the lifespan that runs its session manager."""
    try:
        from commune.api.mcp import http_routes

        return http_routes(commune, require_auth)
    except CommuneError:
        log.info("the mcp package is not installed: no /mcp endpoint")
        return [], None


def _lifespan(app: FastAPI, commune: Commune, mcp: McpLifespan | None) -> None:
    """While the server runs, MCP's session manager runs, and the search snapshot is refreshed
    in the background: no search waits for a change to be taken in (Commune.start_refresher).
    The models every answer uses are loaded before the first request (Commune.warm_up).
    With ``[enrich] background``, passages are enriched meanwhile (Commune.start_enricher).
    Upload folders a server left when it died are removed (ingest/upload.remove_leftovers),
    and the erasures a crash left pending are finished (store/erasure.finish). What is past
    its retention is purged at start, then hourly, even if nobody asks (Commune.start_purger)."""
    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:  # the state previous yields, if any
        async with AsyncExitStack() as stack:
            if mcp is not None:
                await stack.enter_async_context(mcp())
            await run_in_threadpool(commune.start_refresher)
            stack.callback(commune.stop_refresher)
            # What a server that died mid-upload left in uploads/ (a locked folder, another
            # server's upload in progress, stays).
            left = await run_in_threadpool(remove_leftovers, commune.settings.home)
            if left:
                log.info("removed %d upload folder(s) left by a server that stopped", left)
            # What a takedown for personal data left in blobs/ when a crash cut it short.
            if await run_in_threadpool(commune.finish_erasures_at_start):
                log.info("finished the erasure of a personal-data takedown cut short")
            # Past the retention, purged hourly whether or not anyone asks.
            await run_in_threadpool(commune.start_purger)
            stack.callback(commune.stop_purger)
            # Before the first request is taken: otherwise that person waits for the models
            # to load (about 2 s on 2 cores, against 0.2 s for the next questions:
            # bench/first_answer.py).
            seconds = await run_in_threadpool(commune.warm_up)
            log.info("models loaded in %.1f s: ready to answer", seconds)
            if commune.settings.enrich.background:  # e5 vectors added at low priority
                await run_in_threadpool(commune.start_enricher)
                stack.callback(commune.stop_enricher)
            yield await stack.enter_async_context(previous(a))

    app.router.lifespan_context = lifespan
