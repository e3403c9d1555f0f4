"""Administration, for member admins and above: members (the cooperative's admins add them),
people and roles (nobody grants a role above their own), keys of the people one administers.
Every change goes through ``commune.admin``, as `commune member add` and `commune user add`
do: the same policy decision, the same audit row."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from commune.core import Commune
from commune.govern.members import KINDS
from commune.govern.policy import COOPERATIVE, Actor
from commune.web.i18n import gettext as _
from commune.web.page import PageOf, SignedIn, TheCommune, field, form, guard, own_member, redirect
from commune.web.render import render

router = APIRouter(include_in_schema=False)


async def administrator(actor: SignedIn) -> Actor:
    refusal = _("Administration is for member admins; your role is %(role)s.")
    return guard(actor, "administer", own_member(actor), refusal)


Administrator = Annotated[Actor, Depends(administrator)]


def administration(commune: Commune, actor: Actor) -> dict[str, Any]:
    """What the account and administration pages show ``actor``: the members, people and
    keys they may see, the roles they may grant."""
    admin = commune.admin
    return {
        "members": admin.members(actor),
        "people": admin.people(actor),
        "keys": admin.keys(actor),
        "grantable": admin.grantable(actor),
        "kinds": KINDS,
    }


@router.get("/admin", response_class=HTMLResponse)
def admin_page(p: PageOf, actor: Administrator, commune: TheCommune, done: str = "") -> Response:
    shown = administration(commune, actor)
    return render(p, "admin.html", **shown, new_key=None, done=done)


@router.post("/admin/members")
async def add_member(p: PageOf, actor: Administrator, commune: TheCommune) -> Response:
    data = await form(p)
    guard(actor, "administer", COOPERATIVE, _("Adding members is for cooperative admins."))
    await run_in_threadpool(
        commune.admin.add_member,
        field(data, "name"),
        actor=actor,
        kind=field(data, "kind", "other"),
    )
    return redirect("/admin?done=member")


@router.post("/admin/users")
async def add_user(p: PageOf, actor: Administrator, commune: TheCommune) -> Response:
    data = await form(p)
    await run_in_threadpool(
        commune.admin.add_user,
        field(data, "name"),
        member=field(data, "member"),
        actor=actor,
        role=field(data, "role", "reader"),
        password=field(data, "password") or None,
    )
    return redirect("/admin?done=user")


@router.post("/admin/roles")
async def set_role(p: PageOf, actor: Administrator, commune: TheCommune) -> Response:
    data = await form(p)
    await run_in_threadpool(
        commune.admin.set_role, field(data, "user"), role=field(data, "role"), actor=actor
    )
    return redirect("/admin?done=role")
