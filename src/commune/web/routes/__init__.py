"""The web application's pages, one router per concern (datasette's ``views/``): each route
reads its form, calls the library as the signed-in person, and renders a template. No logic
of its own: permissions, quotas, the charter and the ledger are the library's, exactly as for
the CLI and the API.

Every core flow works without JavaScript; ``static/commune.js`` streams answers and shows
upload progress when it runs.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import Response

from commune.core import Commune
from commune.web import sessions
from commune.web.page import SignInNeeded, page, page_that_opens, redirect
from commune.web.render import error_page
from commune.web.routes import (
    account,
    administration,
    ask,
    commons,
    contribute,
    curation,
    dashboards,
    payouts,
    signin,
    transparency,
)

STATIC = Path(__file__).resolve().parent.parent / "static"
ROUTERS = (
    signin,
    ask,
    commons,
    contribute,
    curation,
    dashboards,
    payouts,
    account,
    administration,
    transparency,
)


async def to_sign_in(request: Request, exc: Exception) -> Response:
    """A page that needs a signed-in person: to the sign-in page, then back here. Back to a
    form's action (POST /ask) would be a GET it does not take (405): a form sent signed out
    comes back to the nearest page above it that opens (POST /contribute to /contribute,
    POST /ask to the home page), whose forms send it again."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method not in ("GET", "HEAD"):
        # And the sign-in page says that what was sent was not recorded: a curator whose
        # session ended as they sent a decision signed in again, found the revision's page
        # as before, and could not tell whether their decision had counted.
        target = page_that_opens(request.app.routes, request.url.path)
        return redirect(f"/signin?next={quote(target)}&unsent=1")
    return redirect(f"/signin?next={quote(target)}")


def install(app: FastAPI, commune: Commune) -> None:
    """Add the pages and their static files to ``app`` (which keeps ``commune`` in
    ``app.state.commune``: the routes reach the facade from there)."""
    from fastapi.staticfiles import StaticFiles

    # The session store, over the facade like everything else a page does.
    app.state.web_sessions = sessions.Sessions(commune)
    app.state.error_page = error_page  # api/app.py's error handlers show errors as pages
    app.state.page_for = page  # and make a page of a browser's request no route took
    app.add_exception_handler(SignInNeeded, to_sign_in)
    for module in ROUTERS:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
