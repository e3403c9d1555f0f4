"""Signing in (a password, or an API key instead) and out, and the language chosen."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from commune.govern.members import AuthError, Departed
from commune.govern.quotas import QuotaExceeded
from commune.http.signins import FailedSignIns, key_prefix, user_claim
from commune.web import i18n, sessions
from commune.web.i18n import gettext as _
from commune.web.page import (
    PageOf,
    TheCommune,
    cookie_names,
    facade,
    field,
    forget,
    forget_unprefixed,
    form,
    local,
    page_that_opens,
    redirect,
    sessions_of,
    with_session,
)
from commune.web.render import render, sentence

# What a key that matched no key is told: nothing more, to anyone guessing.
UNKNOWN_KEY = ("authentication required", "malformed API key", "unknown API key")


router = APIRouter(include_in_schema=False)


@router.get("/signin", response_class=HTMLResponse)
async def signin_page(p: PageOf, next: str = "/", unsent: str = "") -> Response:
    return render(p, "signin.html", next=local(next), unsent=bool(unsent))


@router.post("/signin", response_class=HTMLResponse)
async def signin(p: PageOf, commune: TheCommune) -> Response:
    data = await form(p)
    request = p.request
    failures: FailedSignIns = request.app.state.failed_sign_ins
    host = request.client.host if request.client else "?"
    user, password = field(data, "user").strip(), field(data, "password")
    key = field(data, "key").strip()
    target = local(field(data, "next", "/"))
    settings = commune.settings.web
    if not key and not (user and password):
        # A form sent with a field left empty (Enter pressed too soon) is no wrong password:
        # it read "Wrong user name or password" and counted as a guess towards the limit.
        message = _(
            "Write your user name and your password, or an API key under “%(choice)s”.",
            choice=_("Sign in with an API key instead"),
        )
        return render(p, "signin.html", 400, next=target, failed=message, user=user)
    try:
        if key:
            actor = await run_in_threadpool(commune.authenticate, key)
        else:
            actor = await run_in_threadpool(commune.admin.sign_in, user, password)
    except AuthError as exc:
        # Counted against the address and the key or account it claimed: past the limit a
        # wrong one gets 429; the right one is always checked, so that nobody else's guesses
        # lock a person out (issue 22).
        # Counted in the database (govern/guesses.py), in a thread: from the event loop, a
        # wrong password waiting for another writer held every request of the process.
        try:
            if key:
                await run_in_threadpool(failures.failed, host, key_prefix(key))
            else:
                await run_in_threadpool(failures.failed, host, user_claim(user), "sign-ins")
        except QuotaExceeded as limit:
            # Said in the sign-in form, the name typed kept, how long to wait with it: a page
            # apart offered someone signed out "Back to the question box".
            request.state.quota_refused = limit.quota  # counted by /metrics, as elsewhere
            said = sentence(i18n.translate(limit.in_fields()))
            refused = render(
                p, "signin.html", 429, next=target, failed=said, user=user, by_key=bool(key)
            )
            refused.headers["Retry-After"] = str(limit.retry_after)
            return refused
        message = _("Wrong API key.") if key else _("Wrong user name or password.")
        if key and exc.message not in UNKNOWN_KEY or isinstance(exc, Departed):
            # A key that matched (revoked, expired, a peer cooperative's) says why: whoever
            # holds it has proved so, and "wrong key" sent a peer's admin looking for a typo.
            # So does a right password of a member that left the cooperative: "wrong
            # password" sent its people retyping it.
            message = i18n.translate(str(exc))
        # A key refused is said on its field, left open (signin.html).
        return render(
            p, "signin.html", 401, next=target, failed=message, user=user, by_key=bool(key)
        )
    token = await run_in_threadpool(
        sessions_of(request).open,
        actor,
        settings.session_hours,
        key.split("_")[1] if key else None,  # a session opened by a key ends with it
        request.cookies.get(cookie_names(request)[0]),  # the session this replaces, if any
    )
    return with_session(redirect(target), token, settings, request)


@router.post("/signout")
async def signout(p: PageOf) -> Response:
    await form(p)
    name = cookie_names(p.request)[0]
    await run_in_threadpool(sessions_of(p.request).end, p.request.cookies.get(name))
    if name != sessions.COOKIE:
        # A session cookie of the name from before the __Host- prefix ends too (with_session
        # says why): its token, wherever it came from, can only end a session.
        await run_in_threadpool(sessions_of(p.request).end, p.request.cookies.get(sessions.COOKIE))
    response = redirect("/signin")
    web = facade(p.request).settings.web
    forget(response, name, web)
    forget_unprefixed(response, name, web)
    return response


@router.post("/language")
async def language(p: PageOf, commune: TheCommune) -> Response:
    data = await form(p)
    chosen = field(data, "language")
    target = page_that_opens(p.request.app.routes, local(field(data, "next", "/")))
    response = redirect(target)
    if chosen in i18n.LANGUAGES:
        response.set_cookie(
            i18n.COOKIE,
            chosen,
            max_age=365 * 86400,
            samesite="lax",
            secure=commune.settings.web.secure_cookies,
        )
    return response
