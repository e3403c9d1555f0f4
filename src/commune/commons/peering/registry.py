"""The peers this home asks: each cooperative's name, address, and the key it issued to
this one. The key is kept as given, because it must be sent; it is never shown whole."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, delete, insert, select

from commune.errors import CommuneError, InvalidRequest, NotFound
from commune.govern.policy import COOPERATIVE, Actor, require
from commune.store import audit
from commune.store.repository import now
from commune.store.schema import peers


@dataclass(frozen=True)
class Peer:
    name: str
    url: str
    key: str

    def shown(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url, "key": masked(self.key)}


def masked(key: str) -> str:
    """Enough of a key to tell it from another (its public prefix), never the secret."""
    parts = key.split("_")
    if len(parts) >= 3 and parts[0] == "cmn":
        return f"cmn_{parts[1]}_…"
    return key[:4] + "…"


def add(conn: Connection, name: str, url: str, key: str, actor: Actor) -> Peer:
    may(actor)
    name, url, key = name.strip(), url.strip().rstrip("/"), key.strip()
    if not name:
        raise InvalidRequest("a peer needs a name, e.g. commune peer add ville-b URL --key KEY")
    # Listed one per line and typed back, as people's and members' names; and 200 characters
    # at most, the column's: SQLite stored a longer one, PostgreSQL failed on it.
    from commune.govern.members import check_name

    check_name("peer", name)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- reading it checks it ("http://h:x" is refused here, not later)
    except ValueError:  # "http://[::1": urlsplit's own English, with no hint
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidRequest(
            f"the peer's address must be an http:// or https:// URL, got {url!r}",
            "give the address its commune serve answers on, e.g. https://commune.ville-b.fr",
        )
    if parts.scheme == "http" and not _loopback(parts.hostname or ""):
        # The key travels in every request: in clear, anyone on the way could take it.
        raise InvalidRequest(
            f"the peer's address must use https:// (http:// only on this machine), got {url!r}",
            "use https://",
        )
    if not key.startswith("cmn_") or len(key.split("_")) < 3:
        raise InvalidRequest(
            "the key must be the cmn_… key the peer issued to this cooperative",
            "ask the peer's operator for one: commune peer issue NAME, on their side",
        )
    if conn.execute(select(peers.c.id).where(peers.c.name == name)).first():
        raise CommuneError(
            f"a peer named {name!r} already exists", f"remove it first: commune peer remove {name}"
        )
    conn.execute(insert(peers).values(name=name, url=url, api_key=key, added_at=now()))
    audit.append(conn, actor.user, "peer-add", f"peer {name}", url=url, key=masked(key))
    return Peer(name, url, key)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback  # 127.0.0.0/8 and ::1
    except ValueError:
        return False


def remove(conn: Connection, name: str, actor: Actor) -> None:
    may(actor)
    done = conn.execute(delete(peers).where(peers.c.name == name))
    if not done.rowcount:
        known = (
            ", ".join(r.name for r in conn.execute(select(peers.c.name).order_by(peers.c.name)))
            or "none yet"
        )
        raise NotFound(f"no peer named {name!r}", f"known peers: {known}")
    audit.append(conn, actor.user, "peer-remove", f"peer {name}")


def registered(conn: Connection) -> list[Peer]:
    return [
        Peer(str(r.name), str(r.url), str(r.api_key))
        for r in conn.execute(select(peers).order_by(peers.c.name))
    ]


def may(actor: Actor) -> None:
    """Peering binds the whole cooperative: its administrators decide it."""
    require(actor, "administer", COOPERATIVE)
