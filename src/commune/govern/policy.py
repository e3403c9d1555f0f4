"""Decisions with reasons: visibility of collections, roles, and what they allow."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("reader", "contributor", "curator", "member-admin", "cooperative-admin")
VISIBILITIES = ("private", "shared", "public")


@dataclass(frozen=True)
class Actor:
    """Who is asking. The CLI runs as the operator, who administers the host."""

    user_id: int | None
    user: str
    member_id: int | None
    member: str | None
    role: str

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"

    def at_least(self, role: str) -> bool:
        if self.is_operator:
            return True
        return ROLES.index(self.role) >= ROLES.index(role)


OPERATOR = Actor(None, "operator", None, None, "operator")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def can_read(actor: Actor, visibility: str, owner_id: int | None, owner: str | None) -> Decision:
    """May ``actor`` read a collection? Private means private, even to cooperative admins."""
    if visibility == "public":
        return Decision(True, "the collection is public")
    if actor.is_operator:
        return Decision(True, "the operator administers this host")
    if visibility == "shared":
        return Decision(True, "the collection is shared with every member of the cooperative")
    if owner_id is not None and owner_id == actor.member_id:
        return Decision(True, f"the collection is private to {owner}, the actor's member")
    return Decision(False, f"the collection is private to {owner or 'another member'}")


def can_curate(actor: Actor, visibility: str, owner_id: int | None, owner: str | None) -> Decision:
    """May ``actor`` (whose role allows curating) curate in a collection? A member's
    collection is curated by that member's people and the cooperative's admins; a private one
    only by its member, whose very name stays hidden from the others."""
    if actor.is_operator:
        return Decision(True, "the operator administers this host")
    if owner_id is None:
        return Decision(True, "the collection belongs to the cooperative as a whole")
    if owner_id == actor.member_id:
        return Decision(True, f"the collection belongs to {owner}, the actor's member")
    if visibility != "private" and actor.at_least("cooperative-admin"):
        return Decision(True, "cooperative admins curate every member's shared collections")
    return Decision(False, f"the collection belongs to {owner or 'another member'}")


def check_role(actor: Actor, needed: str, action: str) -> Decision:
    if actor.at_least(needed):
        return Decision(True, f"{action} needs the role {needed}; {actor.user} is {actor.role}")
    return Decision(
        False, f"{action} needs the role {needed} or above; {actor.user} is {actor.role}"
    )
