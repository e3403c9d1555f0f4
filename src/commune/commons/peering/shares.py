"""Which collections this home shares outward, each with its policy (policy.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select

from commune.commons.peering.policy import Policy
from commune.commons.peering.registry import may
from commune.errors import InvalidRequest, NotFound
from commune.govern.policy import Actor
from commune.store import audit
from commune.store.repository import collection_named, now
from commune.store.schema import collections, shares


@dataclass(frozen=True)
class Share:
    collection_id: int
    collection: str
    description: str
    policy: Policy


def _collection(conn: Connection, name: str) -> tuple[int, str, str]:
    """The collection ``name`` writes (read composed, repository.collection_named): its id,
    visibility and stored name."""
    named = conn.execute(select(collections.c.name)).scalars()
    name = collection_named(named, name)
    row = conn.execute(
        select(collections.c.id, collections.c.visibility).where(collections.c.name == name)
    ).first()
    if row is None:
        known = (
            ", ".join(
                r.name
                for r in conn.execute(select(collections.c.name).order_by(collections.c.name))
            )
            or "none yet"
        )
        raise NotFound(f"no collection named {name!r}", f"known collections: {known}")
    return int(row.id), str(row.visibility), name


def share(conn: Connection, collection: str, policy: Policy, actor: Actor) -> None:
    """Share ``collection`` with peers under ``policy`` (replacing any earlier one), audited."""
    may(actor)
    cid, visibility, collection = _collection(conn, collection)
    if visibility == "private":
        # A private collection is its member's alone: other cooperatives may not read what
        # this cooperative's own members may not.
        raise InvalidRequest(
            f"collection {collection!r} is private to its member, so it cannot be shared "
            "with peers",
            f"make it shared first: commune visibility {collection} shared",
        )
    conn.execute(delete(shares).where(shares.c.collection_id == cid))
    conn.execute(
        insert(shares).values(
            collection_id=cid,
            non_commercial=policy.non_commercial,
            share_alike=policy.share_alike,
            tdm_reserved=policy.tdm_reserved,
            kinds=",".join(policy.kinds),
            created_at=now(),
            actor=actor.user,
        )
    )
    audit.append(conn, actor.user, "peer-share", f"collection {collection}", **policy.to_json())


def unshare(conn: Connection, collection: str, actor: Actor) -> None:
    may(actor)
    cid, _, collection = _collection(conn, collection)
    done = conn.execute(delete(shares).where(shares.c.collection_id == cid))
    if not done.rowcount:
        raise NotFound(f"collection {collection!r} is not shared with peers")
    audit.append(conn, actor.user, "peer-unshare", f"collection {collection}")


def withdraw_private(conn: Connection, collection_id: int, actor: str) -> bool:
    """End the share of a collection just made private, audited; True if it was shared.

    Making a collection private is how its owner takes it back: left in place, the share
    would come back to life, unseen and unaudited, the day the collection is made shared
    inside the cooperative again. Sharing it again takes a new `commune share`."""
    done = conn.execute(delete(shares).where(shares.c.collection_id == collection_id))
    if not done.rowcount:
        return False
    name = conn.execute(
        select(collections.c.name).where(collections.c.id == collection_id)
    ).scalar_one()
    audit.append(conn, actor, "peer-unshare", f"collection {name}", reason="made private")
    return True


def shared(conn: Connection) -> list[Share]:
    """The collections shared outward, by name; one made private since is left out."""
    rows = conn.execute(
        select(shares, collections.c.name, collections.c.description)
        .select_from(shares.join(collections, collections.c.id == shares.c.collection_id))
        .where(collections.c.visibility != "private")
        .order_by(collections.c.name)
    )
    return [
        Share(
            int(r.collection_id),
            str(r.name),
            str(r.description or ""),
            Policy(
                non_commercial=bool(r.non_commercial),
                share_alike=bool(r.share_alike),
                tdm_reserved=bool(r.tdm_reserved),
                kinds=tuple(k for k in str(r.kinds).split(",") if k),
            ),
        )
        for r in rows
    ]
