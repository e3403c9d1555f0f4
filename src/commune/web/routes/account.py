"""One's account: role, API keys (created, shown once; revoked), password change, one's payout
choice. Keys are created and revoked here for the administration page too (``back=admin``):
the same forms. Everything goes through ``commune.admin``, which checks the policy and writes
the audit. A refused form comes back in its page, said in the form (web/forms.py)."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from commune.commons.payouts import credited_as
from commune.core import Commune
from commune.errors import CommuneError, InvalidRequest, NotFound
from commune.govern.members import MAX_KEY_DAYS, AuthError
from commune.govern.policy import Actor
from commune.text import numbers
from commune.web.forms import Failed, refused
from commune.web.i18n import current
from commune.web.i18n import gettext as _
from commune.web.page import (
    Page,
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
from commune.web.render import number, render
from commune.web.routes.administration import administration, guessed
from commune.web.routes.administration import again as admin_again
from commune.web.routes.payouts import next_choice, own_line

router = APIRouter(include_in_schema=False)


def account_shown(commune: Commune, actor: Actor) -> dict[str, Any]:
    """What the account page shows ``actor``: their keys, their payout line this month."""
    credited, payout, why = own_line(commune, actor)
    return {
        "keys": commune.admin.keys(actor),
        "credited": credited,
        "payout": payout,
        "payout_why": why,
        "payout_next": next_choice(commune, credited),
        "currency": commune.settings.cooperative.currency,
    }


async def _again(p: Page, commune: Commune, actor: Actor, failed: Failed) -> Response:
    """The account page with ``failed`` said in its form."""
    shown = await run_in_threadpool(account_shown, commune, actor)
    return render(p, "account.html", failed.status, **shown, new_key=None, done="", failed=failed)


@router.get("/account", response_class=HTMLResponse)
def account(p: PageOf, actor: SignedIn, commune: TheCommune, done: str = "") -> Response:
    return render(p, "account.html", **account_shown(commune, actor), new_key=None, done=done)


@router.post("/account/password", response_class=HTMLResponse)
async def change_password(p: PageOf, actor: SignedIn, commune: TheCommune) -> Response:
    data = await form(p)
    try:
        # The form offers, ticked, to revoke one's keys too: a password is changed most
        # often because someone else may know it, and a key they made with it would outlive
        # the change (Admin.set_password); who keeps scripts running unticks it.
        revoked = await run_in_threadpool(
            partial(commune.admin.change_password, revoke_keys=bool(field(data, "revoke_keys"))),
            actor,
            current=field(data, "current"),
            new=field(data, "new"),
        )
    except AuthError:
        await guessed(p, actor)
        wrong = _("The current password is wrong: nothing changed.")
        return await _again(p, commune, actor, Failed("password", wrong, 403))
    except CommuneError as exc:  # a new password too short: passwords are not shown again
        return await _again(p, commune, actor, refused(p, "password", exc))
    # Every session of the account ended with the old password, this one too: the person
    # who changed it stays signed in, in a new session.
    hours = commune.settings.web.session_hours
    token = await run_in_threadpool(sessions_of(p.request).open, actor, hours)
    done = "password-keys" if revoked else "password"
    response = redirect(f"/account?done={done}")
    return with_session(response, token, commune.settings.web, p.request)


@router.post("/account/payout")
async def payout_choice(p: PageOf, actor: SignedIn, commune: TheCommune) -> Response:
    data = await form(p)
    choice = field(data, "choice")
    # A share paid to one's own member (a town's clerk contributing for the town): the
    # library let a contributor choose it (payouts.may_choose), and only the command line
    # and a cooperative admin's form offered it. Their own member only: the form names it.
    to = actor.member if choice == "redirect" else None
    try:
        if choice not in ("waive", "receive", "redirect") or (choice == "redirect" and not to):
            # The form offers these: anything else is no choice, and nothing is recorded
            # (an unknown value was stored as "receive").
            raise InvalidRequest(_("Choose to receive your share or to waive it."))
        await run_in_threadpool(
            partial(commune.set_payout_choice, to=to),
            credited_as(actor),
            choice=choice,
            actor=actor,
        )
    except CommuneError as exc:
        return await _again(p, commune, actor, refused(p, "payout", exc))
    return redirect(f"/account?done=payout-{choice}")


def expiry(typed: str) -> int | None:
    """The days a new key lasts, as its form gives them: None (it does not expire) for an
    empty field. Checked here, as the page names the field: the library's refusal named it
    as the CLI does (« expires_days doit être entre 1 et 36500 »)."""
    try:
        text = numbers.plain(typed, current())  # « 1 000 » as the page writes it
    except numbers.Ambiguous:
        text = typed  # « 1.000 »: said below, as any other
    if not text:
        return None
    # Its leading zeros aside, no longer than the largest: int() refuses past 4,300 digits
    # (ValueError, a 500), and a run of digits pasted or crafted is no number of days.
    digits = text.lstrip("0") if text.isdecimal() else ""
    if len(digits) > len(str(MAX_KEY_DAYS)) or not 0 < int(digits or "0") <= MAX_KEY_DAYS:
        raise InvalidRequest(
            _(
                # Quoted: what was typed, never read as the sentence's first word.
                "Expires after: '%(value)s' is not a number of days from 1 to %(max)s: give "
                "one, or leave the field empty for a key that does not expire.",
                value=typed.strip(),
                max=number(MAX_KEY_DAYS),
            )
        )
    return int(digits)


@router.post("/keys", response_class=HTMLResponse)
async def new_key(p: PageOf, actor: SignedIn, commune: TheCommune) -> Response:
    data = await form(p)
    user = field(data, "user") or actor.user
    label = field(data, "label")
    days = field(data, "expires_days")
    typed = {"user": user, "label": label, "expires_days": days}
    admin = field(data, "back") == "admin"
    again = admin_again if admin else _again
    try:
        # The person's password again (re-authentication): a key outlives the session, so
        # a session stolen alone must not make one (accounts.confirm).
        kid, secret = await run_in_threadpool(
            partial(commune.admin.create_key, password=field(data, "password")),
            user,
            actor=actor,
            label=label,
            expires_days=expiry(days),
        )
    except AuthError:
        await guessed(p, actor)
        wrong = _("Your password is wrong: no key was made.")
        return await again(p, commune, actor, Failed("key", wrong, 403, typed))
    except CommuneError as exc:
        return await again(p, commune, actor, refused(p, "key", exc, typed))
    template, shown = ("admin.html", administration) if admin else ("account.html", account_shown)
    context = await run_in_threadpool(shown, commune, actor)
    # Shown on this response only: the page is not cached and the key is not stored.
    new = {"id": kid, "user": user, "key": secret}
    return render(p, template, **context, new_key=new, done="")


@router.post("/keys/{key_id}/revoke")
async def revoke(p: PageOf, actor: SignedIn, commune: TheCommune, key_id: RowId) -> Response:
    data = await form(p)
    admin = field(data, "back") == "admin"
    try:
        await run_in_threadpool(commune.admin.revoke_key, key_id, actor=actor)
    except NotFound:
        # A second click, or a second tab, on a key revoked meanwhile: a page apart said "no
        # active key with id 2 (check the address…)", an id the table never shows and an
        # address nobody typed. The table of keys comes back, with each one's state.
        gone = _(
            "This key is no longer active: it was revoked already (the table of keys gives "
            "each one's state)."
        )
        shown = await run_in_threadpool(commune.admin.keys, actor)
        if key_id not in {k["id"] for k in shown}:
            # A form made by hand, for another member's key or a number no key has, read
            # "revoked already": untrue of both. Said alike of both, as the library refuses
            # them alike (accounts.revoke_key_for): another member's keys are not one's to
            # know of. A key of one's own table, revoked, is the second click above.
            gone = _(
                "This key is not one of those you manage (the table of keys gives those you "
                "may revoke)."
            )
        again = admin_again if admin else _again
        return await again(p, commune, actor, Failed("revoke", gone, 404))
    return redirect(f"{'/admin' if admin else '/account'}?done=revoked")
