"""The cooperative's people: ``POST /api/users/{name}/remove``, for a member's admin (their
member's people) and the cooperative's admins (everyone), as `commune user remove` and the
administration page do, through the same library call (govern/admin.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from commune.api.auth import Caller
from commune.http.deps import CommuneDep

router = APIRouter()


class Removal(BaseModel):
    # No min_length: an empty reason gets Commune's own message, in the caller's language.
    reason: str = Field(description="Why, in one line: the audit log keeps it.")


@router.post("/api/users/{name}/remove")
async def remove_user(
    name: str, removal: Removal, actor: Caller, commune: CommuneDep
) -> dict[str, Any]:
    """Remove a person: their keys are revoked and their sessions end at once; their ledger
    rows, credits, payouts, contributions and the audit log stay (docs/cooperative.md)."""
    return await run_in_threadpool(commune.admin.remove_user, name, removal.reason, actor=actor)
