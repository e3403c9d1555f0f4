"""A collection named by someone who would change how it is governed (who reads it, its
curation rules): found by name, or reported absent when they may not read it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from commune.errors import NotFound
from commune.govern.policy import ACTIONS, WORDS, Actor, allowed, check_role
from commune.govern.policy import collection as access
from commune.store import repository as repo


def governed_collection(conn: Connection, name: str, actor: Actor, action: str) -> dict[str, Any]:
    """The access row of collection ``name`` for ``action`` (a key of policy.ACTIONS) by
    ``actor``. Another member's private collection is reported as absent (its very name is
    private), and to someone whose role allows no such action, neither is looked up: the
    refusal then says the role, whatever the name."""
    rows = repo.collection_access(conn)
    name = repo.collection_named((r["name"] for r in rows), name)
    row = next((r for r in rows if r["name"] == name), None)
    if row is None or not allowed(actor, "read", access(row)):
        may = check_role(actor, ACTIONS[action], WORDS[action])
        if not may:
            raise may.refusal()
        raise NotFound(
            f"no collection named {name!r}",
            "list them with commune collections",
            field_hint="check the collection's name",
        )
    return row
