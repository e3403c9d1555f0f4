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
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from starlette.routing import BaseRoute

from commune import __version__
from commune.api import middleware, openai
from commune.api.auth import FailedSignIns
from commune.api.docs import offline_docs
from commune.api.errors import install_error_handlers
from commune.api.routes import documents, health, search, transparency, usage
from commune.core import Commune
from commune.errors import CommuneError
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
    # Added first, so that they sit inside the request log: refusals are logged too.
    middleware.overload_guard(app, commune.settings.limits.max_concurrent_requests)
    middleware.security_headers(app)
    middleware.request_log(app)
    install_error_handlers(app)
    app.state.commune = commune
    app.state.require_auth = require_auth
    app.state.failed_sign_ins = FailedSignIns(commune.settings.web.failed_sign_ins_per_minute)
    commune.charter  # noqa: B018 -- validated at start-up: an invalid charter stops here

    for routes in (health, search, documents, usage, openai):
        app.include_router(routes.router)
    mcp_routes, mcp_lifespan = _mcp(commune)
    app.router.routes.extend(mcp_routes)
    app.include_router(transparency.router)
    # The HTML page /transparency is the web's: commune/web/ serves it, like every page.
    install_web(app, commune)  # the web application (commune/web/), on the same library calls
    _lifespan(app, commune, mcp_lifespan)
    return app


def _mcp(commune: Commune) -> tuple[list[BaseRoute], McpLifespan | None]:
    """The MCP server's streamable HTTP endpoint at /mcp, when the mcp package is installed
    (`commune[mcp]`), and the lifespan that runs its session manager."""
    try:
        from commune.api.mcp import http_routes

        return http_routes(commune)
    except CommuneError:
        log.info("the mcp package is not installed: no /mcp endpoint")
        return [], None


def _lifespan(app: FastAPI, commune: Commune, mcp: McpLifespan | None) -> None:
    """While the server runs, MCP's session manager runs, and the search snapshot is refreshed
    in the background: no search waits for a change to be taken in (Commune.start_refresher)."""
    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:  # the state previous yields, if any
        async with AsyncExitStack() as stack:
            if mcp is not None:
                await stack.enter_async_context(mcp())
            await run_in_threadpool(commune.start_refresher)
            stack.callback(commune.stop_refresher)
            yield await stack.enter_async_context(previous(a))

    app.router.lifespan_context = lifespan
