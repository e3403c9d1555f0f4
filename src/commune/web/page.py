"""What every page shares: its request's context (language, the person signed in, the CSRF
token its forms carry), reading a form with its token, and the role guard.

Routes receive these as FastAPI dependencies (``PageOf``, ``SignedIn``, ``TheCommune``);
the facade is the app's own (``app.state.commune``), never captured by the routes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData
from starlette.routing import BaseRoute, Match

from commune.config import WebSettings
from commune.core import Commune
from commune.errors import Forbidden
from commune.govern.policy import (
    ACTIONS,
    ASK_COOPERATIVE,
    ASK_MEMBER,
    ASK_MEMBERS_COOPERATIVE,
    ASK_OPERATOR,
    ASK_OWNER,
    ASK_PERSONS,
    COOPERATIVE,
    WORDS,
    Actor,
    Collection,
    Decision,
    Member,
    Role,
    allowed,
    check_role,
)
from commune.govern.sessions import Session
from commune.web import i18n, sessions
from commune.web.i18n import N_, label
from commune.web.i18n import gettext as _


@dataclass
class Page:
    """What every page knows about its request: language, who is signed in, the CSRF
    token its forms carry."""

    request: Request
    language: str
    session: Session | None
    csrf: str
    new_csrf_cookie: bool = False

    @property
    def actor(self) -> Actor:
        if self.session is None:
            raise SignInNeeded()
        return self.session.actor


class SignInNeeded(Exception):
    """The page needs a signed-in person: redirect to the sign-in page."""


class CsrfRefused(Forbidden):
    """A form without this session's token: refused, nothing done."""


def facade(request: Request) -> Commune:
    """The facade this app serves (api/app.py keeps it in ``app.state``)."""
    commune: Commune = request.app.state.commune
    return commune


async def commune_of(request: Request) -> Commune:
    return facade(request)


def sessions_of(request: Request) -> sessions.Sessions:
    """The session store (routes/__init__.py puts it in ``app.state`` at start-up)."""
    store: sessions.Sessions = request.app.state.web_sessions
    return store


async def page(request: Request) -> Page:
    """The request's Page. An async dependency, so that the language it sets is the one of
    the route that follows (a sync one would set it in a worker thread of its own)."""
    language = i18n.negotiate(
        request.cookies.get(i18n.COOKIE), request.headers.get("accept-language")
    )
    session_cookie, csrf_cookie = cookie_names(request)
    token = request.cookies.get(session_cookie)
    session = await run_in_threadpool(sessions_of(request).find, token)
    i18n.use(language)
    if session is not None:
        request.state.actor = session.actor  # for the request log
        csrf, new = session.csrf, False
    else:
        given = request.cookies.get(csrf_cookie)
        csrf, new = (given, False) if given else (sessions.new_csrf(), True)
    p = Page(request, language, session, csrf, new)
    request.state.page = p  # errors are then shown as pages (api/app.py's handlers)
    return p


async def signed_in(p: Annotated[Page, Depends(page)]) -> Actor:
    return p.actor


PageOf = Annotated[Page, Depends(page)]
SignedIn = Annotated[Actor, Depends(signed_in)]
TheCommune = Annotated[Commune, Depends(commune_of)]
# A row's id in a page's address: SQLite and PostgreSQL hold 64-bit integers, and a larger
# number must be refused as a bad address, not reach the database and fail there.
RowId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]
# How far into a list a page may start: beyond any commons, small enough for any database.
MAX_OFFSET = 10**9


async def form(p: Page) -> FormData:
    """The request's form, once its CSRF token is checked (CsrfRefused: 403, nothing done)."""
    data = await p.request.form()
    given = data.get("csrf")
    if not sessions.same(p.csrf, given if isinstance(given, str) else None):
        await data.close()  # uploaded files spooled to disk: gone at once
        url, secure = p.request.url, facade(p.request).settings.web.secure_cookies
        if p.new_csrf_cookie and sessions.refused_over_http(secure, url.scheme, url.hostname):
            # No CSRF cookie came back because the browser never kept it: "expired, reload
            # and send again" sent the person round that loop for good.
            raise CsrfRefused(
                _(
                    "Your browser did not keep this site's cookies: this address is plain "
                    "HTTP, and they travel over HTTPS only. Nothing was done."
                ),
                _(
                    "Open this address with https://, or ask the operator to put TLS in front "
                    "of Commune (docs/web.md)."
                ),
            )
        raise CsrfRefused(
            _("This form has expired or came from another site: nothing was done."),
            _("Reload the page and send it again."),
        )
    return data


def field(data: FormData, name: str, default: str = "") -> str:
    """A text field of ``data`` (``default`` when absent or a file)."""
    value = data.get(name)
    return value if isinstance(value, str) else default


def own_member(actor: Actor) -> Member:
    return Member(actor.member, actor.member_id)


# Whom a page's refusal sends its reader to (policy.ASKS), a sentence after the page's own:
# "Administration is for member admins; your role is reader." said what was refused, and a
# town's clerk did not know whom to ask.
ASKED = {
    ASK_MEMBER: N_("Ask your member's admins."),
    ASK_OWNER: N_("Ask the admins of the member it belongs to."),
    ASK_COOPERATIVE: N_("Ask a cooperative admin or the operator."),
    ASK_OPERATOR: N_("Ask the operator."),
    ASK_PERSONS: N_("Ask the admins of the person's member, or the operator."),
    ASK_MEMBERS_COOPERATIVE: N_("Ask a cooperative admin of your member, or the operator."),
}


def refused_page(actor: Actor, decision: Decision, refusal: str) -> Forbidden:
    """403: ``refusal`` (a catalogue message naming %(role)s, the actor's role), whom to ask
    (the decision's, in the page's words), and the policy's reason after them."""
    said = refusal % {"role": label(actor.role)}
    if decision.ask in ASKED:
        said = f"{said} {_(ASKED[decision.ask])}"
    return Forbidden(said, decision.reason)


def guard(actor: Actor, action: str, resource: Collection | Member | Role, refusal: str) -> Actor:
    """``actor``, if ``policy.allowed`` lets them do ``action`` on ``resource``; else 403
    (refused_page)."""
    decision = allowed(actor, action, resource)
    if not decision:
        raise refused_page(actor, decision, refusal)
    return actor


def may_contribute(actor: Actor, refusal: str) -> Actor:
    """``actor``, if their role lets them add documents (policy.ACTIONS: each collection then
    decides, as it is read); else 403: ``refusal`` and the policy's reason after it."""
    return least_role(actor, "contribute", refusal)


def least_role(actor: Actor, action: str, refusal: str) -> Actor:
    """``actor``, if their role is at least the one ``action`` needs (policy.ACTIONS: the
    collection then decides); else 403 (refused_page)."""
    decision = check_role(actor, ACTIONS[action], WORDS[action])
    if not decision:
        raise refused_page(actor, decision, refusal)
    return actor


def abilities(actor: Actor | None) -> dict[str, bool]:
    """What the pages offer ``actor`` (links, forms), from the same policy as the routes, so
    that a link and its page never disagree."""
    if actor is None:
        return {}
    return {
        "contribute": bool(check_role(actor, ACTIONS["contribute"], WORDS["contribute"])),
        "review": bool(allowed(actor, "review", COOPERATIVE)),
        "statement": bool(allowed(actor, "statement", own_member(actor))),
        "payouts": bool(allowed(actor, "statement", COOPERATIVE)),
        "administer": bool(allowed(actor, "administer", own_member(actor))),
        "add_members": bool(allowed(actor, "administer", COOPERATIVE)),
    }


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def cookie_names(request: Request) -> tuple[str, str]:
    """The names of ``request``'s session and CSRF cookies (web/sessions.names: __Host-
    prefixed when Secure, but on plain HTTP on the machine itself)."""
    web = facade(request).settings.web
    return sessions.names(web.secure_cookies, request.url.scheme, request.url.hostname)


def with_session(
    response: RedirectResponse, token: str, web: WebSettings, request: Request
) -> RedirectResponse:
    """``response`` with the cookie of a session just opened."""
    session_cookie, csrf_cookie = cookie_names(request)
    response.set_cookie(
        session_cookie,
        token,
        max_age=int(web.session_hours * 3600),
        path="/",  # and no Domain: the __Host- prefix requires both
        httponly=True,
        secure=web.secure_cookies,
        samesite="lax",  # followed links keep the session; other sites' forms do not
    )
    forget(response, csrf_cookie, web)
    forget_unprefixed(response, session_cookie, web)
    return response


def forget(response: RedirectResponse, name: str, web: WebSettings) -> None:
    """Delete the cookie ``name`` as it was set (Path=/, Secure when the cookies are): a
    browser ignores a __Host- cookie's deletion without Secure."""
    response.delete_cookie(name, path="/", secure=web.secure_cookies, httponly=True)


def forget_unprefixed(response: RedirectResponse, session_cookie: str, web: WebSettings) -> None:
    """Delete the session cookie of the name it had before the __Host- prefix, when the
    prefix is now in use: set before an upgrade, it was ignored but stayed in the browser,
    its session open on the server until it expired, and copied and renamed it still opened
    the account after sign-out (routes/signin.py ends its session there)."""
    if session_cookie != sessions.COOKIE:
        forget(response, sessions.COOKIE, web)


def page_that_opens(routes: Sequence[BaseRoute], target: str) -> str:
    """``target``, or the nearest page above it that its address opens. A page shown in
    reply to a form without script (POST /ask, a refused POST /admin/users) has the form's
    address, which only the form reaches: switching language there, or signing in again
    after sending the form signed out, led to "Cette page s'atteint par son formulaire"."""
    path = target.partition("?")[0]
    at = path
    while at != "/":
        scope = {"type": "http", "path": at, "root_path": "", "method": "GET"}
        if any(route.matches(scope)[0] == Match.FULL for route in routes):
            return target if at == path else at
        at = at.rsplit("/", 1)[0] or "/"
    return target if path == "/" else "/"


def local(target: str) -> str:
    """Only a path of this site: never an address elsewhere (an open redirect)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def today() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
