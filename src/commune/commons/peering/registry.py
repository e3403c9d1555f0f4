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
    name = name.strip()
    if not name:
        raise InvalidRequest("a peer needs a name, e.g. commune peer add ville-b URL --key KEY")
    # Listed one per line and typed back, as people's and members' names; and 200 characters
    # at most, the column's: SQLite stored a longer one, PostgreSQL failed on it.
    from commune.govern.members import check_name

    check_name("peer", name)
    url, key = _address(url), _key(key)
    if conn.execute(select(peers.c.id).where(peers.c.name == name)).first():
        raise CommuneError(
            f"a peer named {name!r} already exists",
            f"change its address or key with commune peer update {name}",
        )
    conn.execute(insert(peers).values(name=name, url=url, api_key=key, added_at=now()))
    audit.append(conn, actor.user, "peer-add", f"peer {name}", url=url, key=masked(key))
    return Peer(name, url, key)


def change(
    conn: Connection, name: str, actor: Actor, url: str | None = None, key: str | None = None
) -> Peer:
    """Give the peer ``name`` a new address or key (a key its operator issued anew), the
    other kept. Checked as :func:`add` checks them. In place, not removed and added again:
    removing a peer forgets its documents' titles cited here (:func:`remove`), which a new
    address or key is no reason to."""
    may(actor)
    if url is None and key is None:
        raise InvalidRequest(
            "nothing to change: give --url, --key or both",
            f"e.g. commune peer update {name} --key -",
        )
    row = conn.execute(select(peers).where(peers.c.name == name)).first()
    if row is None:
        raise _unknown(conn, name)
    new_url = str(row.url) if url is None else _address(url)
    new_key = str(row.api_key) if key is None else _key(key)
    changed: dict[str, str] = {}
    if new_url != row.url:
        changed["url"] = new_url
    if new_key != row.api_key:
        changed["key"] = masked(new_key)
    if changed:
        conn.execute(update(peers).where(peers.c.id == row.id).values(url=new_url, api_key=new_key))
        audit.append(conn, actor.user, "peer-update", f"peer {name}", **changed)
    return Peer(name, new_url, new_key)


def _address(url: str) -> str:
    """A peer's address, checked: an http(s) URL, https unless on this machine."""
    url = url.strip().rstrip("/")
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
    if "@" in parts.netloc:
        # Not quoted: the password is the point. httpx sends a user and password of the
        # address as basic authentication in place of the peer's key (every request then
        # refused as a wrong key), and the address is shown by commune peer list, kept in
        # the audit log and printed by a restore.
        raise InvalidRequest(
            "the peer's address must hold no user or password: this cooperative's key is "
            "what the peer checks",
            "give the address alone, e.g. https://commune.ville-b.fr, and the key with --key",
        )
    if parts.scheme == "http" and not _loopback(parts.hostname or ""):
        # The key travels in every request: in clear, anyone on the way could take it.
        raise InvalidRequest(
            f"the peer's address must use https:// (http:// only on this machine), got {url!r}",
            "use https://",
        )
    return url


def _key(key: str) -> str:
    key = key.strip()
    if not key.startswith("cmn_") or len(key.split("_")) < 3:
        raise InvalidRequest(
            "the key must be the cmn_… key the peer issued to this cooperative",
            "ask the peer's operator for one: commune peer issue NAME, on their side",
        )
    return key


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
        raise _unknown(conn, name)
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


def _unknown(conn: Connection, name: str) -> NotFound:
    known = (
        ", ".join(r.name for r in conn.execute(select(peers.c.name).order_by(peers.c.name)))
        or "none yet"
    )
    return NotFound(f"no peer named {name!r}", f"known peers: {known}")


def registered(conn: Connection) -> list[Peer]:
    return [
        Peer(str(r.name), str(r.url), str(r.api_key))
        for r in conn.execute(select(peers).order_by(peers.c.name))
    ]


def may(actor: Actor) -> None:
    """Peering binds the whole cooperative: its administrators decide it."""
    require(actor, "administer", COOPERATIVE)
