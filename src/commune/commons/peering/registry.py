"""The peers this home asks: each cooperative's name, address, and the key it issued to
this one. The key is kept as given, because it must be sent; it is never shown whole."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, delete, func, insert, select, update

from commune.errors import CommuneError, InvalidRequest, NotFound
from commune.govern.policy import COOPERATIVE, Actor, require
from commune.store import audit
from commune.store.repository import now
from commune.store.schema import peer_citations, peers


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


def remove(conn: Connection, name: str, actor: Actor) -> int:
    """Stop asking the peer ``name``: its key is forgotten, and so are the titles and
    contributors of its documents cited here (forget_peer says why), their
    counts kept. Returns the documents whose title or contributor was forgotten."""
    may(actor)
    done = conn.execute(delete(peers).where(peers.c.name == name))
    if not done.rowcount:
        known = (
            ", ".join(r.name for r in conn.execute(select(peers.c.name).order_by(peers.c.name)))
            or "none yet"
        )
        raise NotFound(f"no peer named {name!r}", f"known peers: {known}")
    forgotten = forget_peer(conn, name)
    audit.append(conn, actor.user, "peer-remove", f"peer {name}", forgotten=forgotten)
    return forgotten


def forget_peer(conn: Connection, peer: str) -> int:
    """A peer removed: blank the titles and contributors of its documents this home's
    answers cited, keeping the rows, their document ids, licences and counts. The counts
    are this home's own record of what its answers used (``commune credits``, "theirs to
    credit"); the titles and the names of the peer's contributors are the peer's data, kept
    only to show them while the peer is asked, and no takedown of the peer's (``retired``,
    citations.forget_titles) can reach this home once it no longer asks it. Returns the
    documents whose title or contributor was forgotten."""
    kept = (
        peer_citations.c.peer == peer,
        (peer_citations.c.title != "") | peer_citations.c.contributor.is_not(None),
    )
    named = conn.execute(
        select(func.count(func.distinct(peer_citations.c.document_id))).where(*kept)
    ).scalar_one()
    if named:
        conn.execute(update(peer_citations).where(*kept).values(title="", contributor=None))
    return int(named)


def registered(conn: Connection) -> list[Peer]:
    return [
        Peer(str(r.name), str(r.url), str(r.api_key))
        for r in conn.execute(select(peers).order_by(peers.c.name))
    ]


def may(actor: Actor) -> None:
    """Peering binds the whole cooperative: its administrators decide it."""
    require(actor, "administer", COOPERATIVE)
