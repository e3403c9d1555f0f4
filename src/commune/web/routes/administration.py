"""Administration, for member admins and above: members (the cooperative's admins add them),
people and roles (nobody grants a role above their own), keys of the people one administers.
Every change goes through ``commune.admin``, as `commune member add` and `commune user add`
do: the same policy decision, the same audit row. A refused form comes back in its page,
said in the form (web/forms.py)."""

from __future__ import annotations

import math
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from commune.account.statement import parse_month
from commune.commons.payouts import lapses
from commune.core import Commune
from commune.errors import CommuneError, InvalidRequest
from commune.govern.members import KINDS, MAX_QUOTA, PEER_KIND, AuthError, departure_when
from commune.govern.policy import (
    COOPERATIVE,
    ROLES,
    Actor,
    above,
    allowed,
    can_cap,
    can_give_credentials,
)
from commune.http import signins
from commune.store.repository import aware
from commune.text import numbers
from commune.web.forms import Failed, refused
from commune.web.i18n import N_, current
from commune.web.i18n import gettext as _
from commune.web.page import (
    Page,
    PageOf,
    SignedIn,
    TheCommune,
    field,
    form,
    guard,
    own_member,
    redirect,
    today,
)
from commune.web.render import number as number_text
from commune.web.render import render

router = APIRouter(include_in_schema=False)


async def administrator(actor: SignedIn) -> Actor:
    refusal = _("Administration is for member admins; your role is %(role)s.")
    return guard(actor, "administer", own_member(actor), refusal)


Administrator = Annotated[Actor, Depends(administrator)]


def administration(commune: Commune, actor: Actor, payout_month: str = "") -> dict[str, Any]:
    """What the account and administration pages show ``actor``: the members, people and
    keys they may see, the roles they may grant. ``payout_month``: the month the payout
    form was sent with, if it comes back refused (its member list is that month's)."""
    admin = commune.admin
    seen = admin.members(actor)
    people = admin.people(actor)
    return {
        "members": seen,
        # The members whose new people the actor may give a password (a cooperative admin's
        # own, policy.can_give_credentials): the add-user form offers the field for these
        # only, and another form, without it, for the others, where it would be refused.
        "credentialed": [
            m["name"] for m in seen if can_give_credentials(actor, m["id"], m["name"])
        ],
        "people": people,
        # Whose caps the rows offer to change: policy.can_cap's, as the library decides (the
        # page had its own copy of the rule, which the test read through a name it never had).
        "cappable": [p["name"] for p in people if can_cap(actor, p["name"], p["role"])],
        "keyable": admin.keyable(actor),  # the key form's choices: no one it would refuse
        "keys": admin.keys(actor),
        "grantable": admin.grantable(actor),
        # Whose role the role forms offer to change: those below the actor's (an equal's is
        # a higher role's to change, policy.can_act_as).
        "below": [r for r in ROLES if above(actor, r)],
        "kinds": KINDS,
        "shareable": commune.library.shareable(actor),
        "ruled": commune.curation_rules(actor),
        # Who may approve: a reader or a contributor approving is no review (`commune
        # curation --role` still takes any role, for the operator's own reasons); never a
        # role above one's own, which curation.set_rules refuses.
        "approvers": [
            r for r in ("curator", "member-admin", "cooperative-admin") if actor.at_least(r)
        ],
        # The payout choices the cooperative's admins record for any contributor (an
        # organisation that contributes has no account to choose on), and the peering form:
        # read for them only.
        **(
            payout_choices(commune, actor)
            | {"payees": payees(seen, payout_month)}
            | peering(commune, actor)
            if allowed(actor, "administer", COOPERATIVE)
            else {}
        ),
    }


def peering(commune: Commune, actor: Actor) -> dict[str, Any]:
    """What the peering form shows the cooperative's admins (registry.may: peering binds the
    whole cooperative): the collections shared with peers now, each with its policy, and
    those one may share (a private one is its member's alone: the library refuses it)."""
    return {
        "peer_shares": commune.shares(),
        "peer_shareable": [
            c["name"] for c in commune.collections(actor) if c.get("visibility") != "private"
        ],
        "peer_clauses": PEER_CLAUSES,
    }


# The clauses the peering form offers, with the page's words (attribution is always asked).
PEER_CLAUSES = (
    ("non-commercial", N_("non-commercial use only")),
    ("share-alike", N_("share alike")),
    ("tdm-reserved", N_("text and data mining reserved")),
)


def payees(seen: list[dict[str, Any]], month: str = "") -> list[dict[str, Any]]:
    """The members the payout form offers to redirect a share to from ``month`` (empty or
    not a month: this one), as payouts.set_choice takes them: no peer cooperative (its fund
    pays its own members) and none out of the cooperative for the whole month (the redirect
    would lapse on its first month, payouts.lapses), a departure to come included while the
    month is before it. The form offered every member, and one that had left was refused
    once chosen. The month is this one until the form is sent back with its own: the list
    is the page's, and a month typed later is checked by the library, which says why."""
    try:
        start = parse_month(month).strftime("%Y-%m")
    except InvalidRequest:
        start = today().strftime("%Y-%m")
    return [
        m
        for m in seen
        if m["kind"] != PEER_KIND
        and not lapses(None if m["left_at"] is None else aware(m["left_at"]), start)
    ]


def payout_choices(commune: Commune, actor: Actor) -> dict[str, Any]:
    """The payout form's history (every choice, latest first) and the names it takes, as
    the library gives them to ``actor`` (it decides again: the page only chooses to show)."""
    return {
        "choices": commune.payout_choices(actor)[::-1],
        "contributors": commune.payout_contributors(actor),
    }


@router.get("/admin", response_class=HTMLResponse)
def admin_page(
    p: PageOf,
    actor: Administrator,
    commune: TheCommune,
    done: str = "",
    released: int = 0,
    revoked: int = 0,
) -> Response:
    shown = administration(commune, actor)
    return render(
        p,
        "admin.html",
        **shown,
        new_key=None,
        done=done,
        released=max(released, 0),
        revoked=max(revoked, 0),
    )


async def again(p: Page, commune: Commune, actor: Actor, failed: Failed) -> Response:
    """The administration page with ``failed`` said in its form."""
    month = failed.typed.get("from", "") if failed.form == "payout" else ""
    shown = await run_in_threadpool(administration, commune, actor, month)
    return render(
        p,
        "admin.html",
        failed.status,
        **shown,
        new_key=None,
        done="",
        released=0,
        revoked=0,
        failed=failed,
    )


@router.post("/admin/members")
async def add_member(p: PageOf, actor: Administrator, commune: TheCommune) -> Response:
    data = await form(p)
    # Not the form's: the page offers it to the cooperative's admins only.
    guard(actor, "administer", COOPERATIVE, _("Adding members is for cooperative admins."))
    typed = {"name": field(data, "name"), "kind": field(data, "kind", "other")}
    try:
        await run_in_threadpool(
            commune.admin.add_member, typed["name"], actor=actor, kind=typed["kind"]
        )
    except CommuneError as exc:
        return await again(p, commune, actor, refused(p, "member", exc, typed))
    return redirect("/admin?done=member")


@router.post("/admin/members/leave")
async def member_leave(p: PageOf, actor: Administrator, commune: TheCommune) -> Response:
    """A member's departure, as `commune member leave` records it: the same library call
    (govern/admin.Admin.leave), so the same refusals and audit row. The day left empty: at
    the end of the month under way."""
    data = await form(p)
    guard(actor, "administer", COOPERATIVE, _("Recording a departure is for cooperative admins."))
    typed = {k: field(data, k) for k in ("member", "on", "reason")}
    try:
        when = departure_when(typed["on"].strip() or None)
        await run_in_threadpool(
            partial(commune.admin.leave, reason=typed["reason"], actor=actor),
            typed["member"],
            when,
        )
    except CommuneError as exc:
        return await again(p, commune, actor, refused(p, "leave", exc, typed))
    return redirect("/admin?done=leave")


@router.post("/admin/members/stay")
async def member_stay(p: PageOf, actor: Administrator, commune: TheCommune) -> Response:
    """Undo a departure before it takes effect, as `commune member stay` does."""
    data = await form(p)
    guard(actor, "administer", COOPERATIVE, _("Recording a departure is for cooperative admins."))
    # Its reason as the departure's: `commune member stay --reason` kept one in the audit log
    # and the page had no field for it, so an undoing there read as one nobody explained.
    typed = {k: field(data, k) for k in ("member", "reason")}
    try:
        await run_in_threadpool(
            partial(commune.admin.stay, reason=typed["reason"], actor=actor), typed["member"]
        )
    except CommuneError as exc:
        return await again(p, commune, actor, refused(p, "stay", exc, typed))
    return redirect("/admin?done=stay")


@router.post("/admin/users")
async def add_user(p: PageOf, actor: Administrator, commune: TheCommune) -> Response:
    data = await form(p)
    # Two forms post here: the one for the members the actor may give a password to, and
    # the one for the others, without the field (its refusal is said in it).
    which = "user-other" if field(data, "form") == "user-other" else "user"
    # The password is not kept: a page does not show one back.
    typed = {k: field(data, k) for k in ("name", "member")} | {
        "role": field(data, "role", "reader")
    }
    try:
        await run_in_threadpool(
            commune.admin.add_user,
            typed["name"],
            member=typed["member"],
            actor=actor,
            role=typed["role"],
            password=field(data, "password") or None,
        )
    except CommuneError as exc:
        return await again(p, commune, actor, refused(p, which, exc, typed))
    return redirect("/admin?done=user")


@router.post("/admin/roles")
async def set_role(p: PageOf, actor: Administrator, commune: TheCommune) -> Response:
    data = await form(p)
    typed = {"user": field(data, "user"), "role": field(data, "role")}
    try:
        await run_in_threadpool(
            commune.admin.set_role, typed["user"], role=typed["role"], actor=actor
        )
    except CommuneError as exc:
        return await again(p, commune, actor, refused(p, "role", exc, typed))
    return redirect("/admin?done=role")


@router.post("/admin/users/remove")
async def remove_user(p: PageOf, actor: Administrator, commune: TheCommune) -> Response:
    data = await form(p)
    # The reason is asked on the row itself: typing it is the confirmation, and the audit
    # log keeps it (govern/accounts.remove_user says what ends and what stays).
    typed = {"user": field(data, "user"), "reason": field(data, "reason")}
    try:
        if not field(data, "confirmed"):
            # Asked first, naming what is lost: a member admin removed another, meaning to
            # take their role back, and found they could not add them again (the name stays
            # taken), nor give back their password, keys and caps. Removing stays final: the
            # ledger, credits and audit log name the person, and a name given again would
            # be paid and blamed for them (members.add_user).
            lost = await run_in_threadpool(
                commune.admin.removal, typed["user"], typed["reason"], actor=actor
            )
            return render(p, "remove.html", lost=lost, reason=typed["reason"].strip())
        await run_in_threadpool(
            commune.admin.remove_user, typed["user"], typed["reason"], actor=actor
        )
    except CommuneError as exc:
        return await again(p, commune, actor, refused(p, "remove", exc, typed))
    return redirect("/admin?done=removed")


@router.post("/admin/users/password")
async def reset_password(p: PageOf, actor: Administrator, commune: TheCommune) -> Response:
    """Set the password of someone one administers, as `commune user password --as` does:
    the same library call (govern/admin.Admin.set_password), so the same rule (their own
    member's admins, from a role strictly above theirs: policy.can_give_credentials,
    can_act_as), their sessions ended, their keys revoked unless kept, the same audit row.
    The admin's own password is asked again first, as for a key (accounts.confirm). Only
    the CLI reset one, so a town's member admin whose clerk forgot theirs asked the
    operator."""
    data = await form(p)
    # Neither password is kept: a page does not show one back.
    typed = {"user": field(data, "user"), "keep_keys": "1" if field(data, "keep_keys") else ""}
    try:
        revoked = await run_in_threadpool(
            partial(
                commune.admin.set_password,
                keep_keys=bool(typed["keep_keys"]),
                actor_password=field(data, "yours"),
            ),
            typed["user"],
            field(data, "password"),
            actor=actor,
        )
    except AuthError:
        await guessed(p, actor)
        wrong = _("Your password is wrong: no password was set.")
        return await again(p, commune, actor, Failed("password", wrong, 403, typed))
    except CommuneError as exc:
        return await again(p, commune, actor, refused(p, "password", exc, typed))
    if typed["keep_keys"]:
        return redirect("/admin?done=password-kept")
    return redirect(f"/admin?done=password&revoked={revoked}")


async def guessed(p: Page, actor: Actor) -> None:
    """A wrong password of the acting person (the password form's, the key form's, the reset
    form's), counted as a guess at it (http/signins.guessed)."""
    await signins.guessed(p.request, actor.user)


# A person's caps: the field (the library's name), its numbers, and the page's name for it.
CAPS = (
    ("requests_per_day", int, N_("Requests per day of %(u)s")),
    ("tokens_per_month", int, N_("Tokens per month of %(u)s")),
    ("wh_per_month", float, N_("Wh per month of %(u)s")),
)


def caps(typed: dict[str, str]) -> dict[str, float | None]:
    """The caps a row's form gives: each field's number, None (no cap) for an empty one.
    The library then checks each as `commune user set` has it checked (above 0, at most
    the largest quota)."""
    given: dict[str, float | None] = {}
    for name, kind, label in CAPS:
        try:
            # As the page writes numbers (« 1 000,5 », "1,000.5"): every English comma was
            # taken for a group, and "1,5" Wh stored 15.
            text = numbers.plain(typed[name], current())
        except numbers.Ambiguous as two:
            # « 1.000 » was stored as 1 Wh by an admin who meant a thousand: asked instead.
            raise InvalidRequest(
                _(
                    "%(cap)s: '%(value)s' could be %(small)s or %(large)s: write the number "
                    "you mean, or leave the field empty for no cap.",
                    cap=_(label, u=typed["user"]),
                    value=typed[name],
                    small=numbers.exact(two.small, current()),
                    large=numbers.exact(two.large, current()),
                )
            ) from None
        if not text:
            given[name] = None
            continue
        try:
            value = kind(text)
            if math.isnan(value):
                # float() reads "nan", a number to Python only: it compared false with every
                # bound and was said to be « above the largest cap ».
                raise ValueError(text)
            given[name] = value
        except ValueError:
            # The field named, as for a number out of bounds below: a row has three, and
            # « "abc" n'est pas un nombre entier » said neither which nor whose.
            raise InvalidRequest(
                _(
                    # Quoted: what was typed, never read as the sentence's first word.
                    "%(cap)s: '%(value)s' is not a whole number: give one, or leave the field "
                    "empty for no cap.",
                    cap=_(label, u=typed["user"]),
                    value=typed[name],
                )
                if kind is int
                else _(
                    "%(cap)s: '%(value)s' is not a number: give one, or leave the field empty "
                    "for no cap.",
                    cap=_(label, u=typed["user"]),
                    value=typed[name],
                )
            ) from None
        # Checked here too, as the page names the field: the library's refusal named it as
        # the CLI does (« requests_per_day doit être supérieur à 0, reçu -3 ») and said
        # neither which row nor that an empty field means no cap.
        number = given[name]
        if number is not None and not 0 < number <= MAX_QUOTA:
            cap = _(label, u=typed["user"])
            raise InvalidRequest(
                _(
                    "%(cap)s: '%(value)s' is not above 0: give a number above 0, or leave the "
                    "field empty for no cap.",
                    cap=cap,
                    value=typed[name],
                )
                if number <= 0
                else _(
                    "%(cap)s: '%(value)s' is above the largest cap, %(max)s: give a smaller "
                    "number, or leave the field empty for no cap.",
                    cap=cap,
                    value=typed[name],
                    max=number_text(MAX_QUOTA),
                )
            )
    return given


@router.post("/admin/users/caps")
async def set_caps(p: PageOf, actor: Administrator, commune: TheCommune) -> Response:
    """A person's caps inside their member's pool, as `commune user set` changes them: the
    same library call (govern/admin.Admin.set_user_quotas), so the same rule (their member's
    admin or a cooperative admin, never someone above one's role), the same refusals and
    the same audit row. Member admins mostly use these pages: a caps change the CLI alone
    offered was one they had to ask the operator for."""
    data = await form(p)
    typed = {"user": field(data, "user")} | {name: field(data, name) for name, *_rest in CAPS}
    try:
        await run_in_threadpool(
            commune.admin.set_user_quotas, typed["user"], caps(typed), actor=actor
        )
    except CommuneError as exc:
        return await again(p, commune, actor, refused(p, "caps", exc, typed))
    return redirect("/admin?done=caps")


@router.post("/admin/collections/visibility")
async def set_visibility(p: PageOf, actor: Administrator, commune: TheCommune) -> Response:
    """Who reads one of the member's collections, as `commune visibility --as` sets it: the
    same library call and decision (policy.can_share: private or shared by the member's
    admins, public by a cooperative admin), the audit row naming who did it. A collection
    an upload started stayed private until the operator shared it from the host."""
    data = await form(p)
    typed = {"collection": field(data, "collection"), "visibility": field(data, "visibility")}
    try:
        await run_in_threadpool(
            commune.set_visibility, typed["collection"], typed["visibility"], actor=actor
        )
    except CommuneError as exc:
        return await again(p, commune, actor, refused(p, "visibility", exc, typed))
    return redirect("/admin?done=visibility")


@router.post("/admin/collections/peers")
async def share_with_peers(p: PageOf, actor: Administrator, commune: TheCommune) -> Response:
    """Share a collection with peer cooperatives, or stop, as `commune share --as` does: the
    same library calls (core.Commune.share, unshare), so the same rule (registry.may: the
    cooperative's admins), the same refusals (a private collection, an unknown one) and the
    same audit row. Only the CLI shared, so a cooperative admin asked the operator."""
    data = await form(p)
    clauses = [c for c, _said in PEER_CLAUSES if field(data, c)]
    kinds = [k for k in KINDS if field(data, f"kind-{k}")]
    off = field(data, "off") == "1"
    typed = {"collection": field(data, "collection"), "off": "1" if off else ""}
    typed |= {c: "1" for c in clauses} | {f"kind-{k}": "1" for k in kinds}
    try:
        if off:
            await run_in_threadpool(commune.unshare, typed["collection"], actor=actor)
        else:
            await run_in_threadpool(
                commune.share,
                typed["collection"],
                policy=",".join(clauses),
                kinds=",".join(kinds),
                actor=actor,
            )
    except CommuneError as exc:
        return await again(p, commune, actor, refused(p, "peers", exc, typed))
    return redirect("/admin?done=unshared" if off else "/admin?done=shared")


@router.post("/admin/collections/rules")
async def set_rules(p: PageOf, actor: Administrator, commune: TheCommune) -> Response:
    """How many approvals a collection's revisions need, and from whom, as `commune curation
    --as` sets them: the same library call (commons/curation.set_rules), so the same rule
    (policy.can_set_rules: the member's admins for its collections, the cooperative's for
    the cooperative's), the same refusals and audit row. Only the CLI set them, so a member
    admin asked the operator to change their own member's rules."""
    data = await form(p)
    typed = {k: field(data, k) for k in ("collection", "approvals", "role")}
    try:
        if not typed["approvals"].strip():  # « «  » n'est pas un nombre entier » said nothing
            raise InvalidRequest(_("Give the approvals needed, 0 for none."))
        try:
            approvals = int(typed["approvals"].strip())
        except ValueError:
            raise InvalidRequest(
                _(
                    "'%(value)s' is not a whole number: give the approvals needed, 0 for none.",
                    value=typed["approvals"],
                )
            ) from None
        done = await run_in_threadpool(
            commune.set_curation_rules,
            typed["collection"],
            approvals,
            typed["role"],
            actor=actor,
        )
    except CommuneError as exc:
        return await again(p, commune, actor, refused(p, "rules", exc, typed))
    return redirect(f"/admin?done=rules&released={done.released}")


@router.post("/admin/payouts")
async def set_payout_choice(p: PageOf, actor: Administrator, commune: TheCommune) -> Response:
    data = await form(p)
    # Not the form's: the page offers it to the cooperative's admins only, as the library
    # decides (payouts.may_choose); a person chooses for their own share on their account.
    guard(
        actor,
        "administer",
        COOPERATIVE,
        _("Recording a contributor's payout choice is for cooperative admins."),
    )
    typed = {k: field(data, k) for k in ("contributor", "choice", "to", "from")}
    try:
        await run_in_threadpool(
            commune.set_payout_choice,
            typed["contributor"],
            typed["choice"],
            # The member list is the redirect's alone: a member left selected while waiving
            # is no part of the choice (the library refuses a member given with it).
            to=(typed["to"] or None) if typed["choice"] == "redirect" else None,
            from_month=typed["from"] or None,
            actor=actor,
        )
    except CommuneError as exc:
        return await again(p, commune, actor, refused(p, "payout", exc, typed))
    return redirect("/admin?done=payout")
