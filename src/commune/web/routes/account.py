"""One's account: role, API keys (created, shown once; revoked), password change. Keys are
created and revoked here for the administration page too (``back=admin``): the same forms.
Everything goes through ``commune.admin``, which checks the policy and writes the audit."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from commune.errors import Forbidden
from commune.govern.members import AuthError
from commune.http.signins import FailedSignIns
from commune.web.i18n import gettext as _
from commune.web.page import (
    PageOf,
    RowId,
    SignedIn,
    TheCommune,
    field,
    form,
    redirect,
    sessions_of,
    with_session,
)
from commune.web.render import render
from commune.web.routes.administration import administration
from commune.web.routes.payouts import own_line

router = APIRouter(include_in_schema=False)


@router.get("/account", response_class=HTMLResponse)
def account(p: PageOf, actor: SignedIn, commune: TheCommune, done: str = "") -> Response:
    keys = commune.admin.keys(actor)
    credited, payout, why = own_line(commune, actor)
    return render(
        p,
        "account.html",
        keys=keys,
        new_key=None,
        done=done,
        credited=credited,
        payout=payout,
        payout_why=why,
        currency=commune.settings.cooperative.currency,
    )


@router.post("/account/password", response_class=HTMLResponse)
async def change_password(p: PageOf, actor: SignedIn, commune: TheCommune) -> Response:
    data = await form(p)
    try:
        await run_in_threadpool(
            commune.admin.change_password,
            actor,
            current=field(data, "current"),
            new=field(data, "new"),
        )
    except AuthError:
        # A wrong current password is a guess at it, as on the sign-in page: counted against
        # the address and the account, 429 past the limit (http/signins.py). Without the
        # count, a stolen session could try passwords here without end.
        failures: FailedSignIns = p.request.app.state.failed_sign_ins
        host = p.request.client.host if p.request.client else "?"
        failures.failed(host, f"user {actor.user.lower()}" if actor.user else None, "sign-ins")
        raise Forbidden(_("The current password is wrong: nothing changed.")) from None
    # Every session of the account ended with the old password, this one too: the person
    # who changed it stays signed in, in a new session.
    hours = commune.settings.web.session_hours
    token = await run_in_threadpool(sessions_of(p.request).open, actor, hours)
    return with_session(redirect("/account?done=password"), token, commune.settings.web)


@router.post("/keys", response_class=HTMLResponse)
async def new_key(p: PageOf, actor: SignedIn, commune: TheCommune) -> Response:
    data = await form(p)
    user = field(data, "user") or actor.user
    label = field(data, "label")
    kid, secret = await run_in_threadpool(commune.admin.create_key, user, actor=actor, label=label)
    shown = await run_in_threadpool(administration, commune, actor)
    # Shown on this response only: the page is not cached and the key is not stored.
    template = "admin.html" if field(data, "back") == "admin" else "account.html"
    new = {"id": kid, "user": user, "key": secret}
    return render(p, template, **shown, new_key=new, done="")


@router.post("/keys/{key_id}/revoke")
async def revoke(p: PageOf, actor: SignedIn, commune: TheCommune, key_id: RowId) -> Response:
    data = await form(p)
    await run_in_threadpool(commune.admin.revoke_key, key_id, actor=actor)
    back = "/admin" if field(data, "back") == "admin" else "/account"
    return redirect(f"{back}?done=revoked")
