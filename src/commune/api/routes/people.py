"""The cooperative's people: ``POST /api/users/{name}/remove``, for a member's admin (their
member's people) and the cooperative's admins (everyone), as `commune user remove` and the
administration page do, and ``POST /api/users/{name}/password``, as `commune user password`
and the administration page set one, through the same library calls (govern/admin.py)."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from commune.api.auth import Caller
from commune.api.schemas import PasswordSet, UserRemoved, described
from commune.errors import Forbidden
from commune.govern.members import AuthError
from commune.http.deps import CommuneDep
from commune.http.signins import guessed

router = APIRouter()


class Removal(BaseModel):
    # No min_length: an empty reason gets Commune's own message, in the caller's language.
    reason: str = Field(description="Why, in one line: the audit log keeps it.")


@router.post("/api/users/{name}/remove", **described(UserRemoved, "What the removal did."))
async def remove_user(
    name: str, removal: Removal, actor: Caller, commune: CommuneDep
) -> dict[str, Any]:
    """Remove a person: their keys are revoked and their sessions end at once; their ledger
    rows, credits, payouts, contributions and the audit log stay (docs/cooperative.md)."""
    return await run_in_threadpool(commune.admin.remove_user, name, removal.reason, actor=actor)


class Reset(BaseModel):
    password: str = Field(
        description="The new password (at least 10 characters), chosen by the admin, who gives "
        "it to the person: it is never shown back."
    )
    your_password: str = Field(
        description="The caller's own password (or, for someone who has none, one of their "
        "keys), asked again as the web asks it before a key: a key stolen alone resets no "
        "one's password."
    )
    keep_keys: bool = Field(
        False,
        description="Keep the person's API keys (a forgotten password, not a stolen account); "
        "by default every active key of theirs is revoked.",
    )


@router.post("/api/users/{name}/password", **described(PasswordSet, "What was ended."))
async def reset_password(
    name: str, reset: Reset, request: Request, actor: Caller, commune: CommuneDep
) -> dict[str, Any]:
    """Set a person's password, as `commune user password --as` does: their own member's
    admins, from a role strictly above theirs (docs/cooperative.md). Their sessions end, and
    their keys are revoked unless ``keep_keys``; the audit log records it."""
    try:
        revoked = await run_in_threadpool(
            partial(
                commune.admin.set_password,
                keep_keys=reset.keep_keys,
                actor_password=reset.your_password,
            ),
            name,
            reset.password,
            actor=actor,
        )
    except AuthError as exc:
        # A guess at the caller's password, counted as the sign-in page's are (429 past the
        # limit); 403, not 401: the key was right, and a client told 401 drops it.
        await guessed(request, actor.user)
        raise Forbidden(exc.message, exc.hint) from None
    return {"user": name, "sessions_ended": True, "keys_revoked": revoked}
