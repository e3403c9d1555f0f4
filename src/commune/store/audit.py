"""A tamper-evident audit log of governance actions: a hash chain.

Each entry's hash covers its content and the previous entry's hash, and the
head (last hash and count) is kept in ``meta``: editing, reordering or
deleting any entry — the last one included — breaks verification. Publish
the head (``commune audit verify`` prints it) somewhere else to make even a
rewrite of the whole chain detectable.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from commune.store.repository import now
from commune.store.schema import audit_log, meta

GENESIS = "0" * 64
HEAD = "audit_head"


def _hash(prev: str, created_at: str, actor: str, action: str, subject: str, details: str) -> str:
    body = json.dumps([prev, created_at, actor, action, subject, details], ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def head(conn: Connection) -> tuple[str, int]:
    row = conn.execute(select(meta.c.value).where(meta.c.key == HEAD)).first()
    if row is None:
        return GENESIS, 0
    value = json.loads(row.value)
    return value["hash"], value["count"]


# The action of a purge of decision records past the charter's retention
# (charter/records.purge), whose counts by outcome /metrics reads back (account/observed.py).
PURGE_DECISIONS = "purge decisions"


def append(conn: Connection, actor: str, action: str, subject: str, **details: Any) -> str:
    """Append an entry in the caller's transaction (the action and its record commit together)."""
    from commune.store.db import lock

    lock(conn, "audit")  # two processes must not both chain onto the same head
    prev, count = head(conn)
    created = now().isoformat()
    text = json.dumps(details, sort_keys=True, ensure_ascii=False, default=str)
    digest = _hash(prev, created, actor, action, subject, text)
    conn.execute(
        insert(audit_log).values(
            created_at=created,
            actor=actor,
            action=action,
            subject=subject,
            details=text,
            prev_hash=prev,
            hash=digest,
        )
    )
    value = json.dumps({"hash": digest, "count": count + 1})
    if not conn.execute(update(meta).where(meta.c.key == HEAD).values(value=value)).rowcount:
        conn.execute(insert(meta).values(key=HEAD, value=value))
    return digest


@dataclass
class Verification:
    ok: bool
    entries: int
    head: str
    problems: list[str]


def verify(conn: Connection) -> Verification:
    problems: list[str] = []
    prev = GENESIS
    n = 0
    for row in conn.execute(select(audit_log).order_by(audit_log.c.id)):
        n += 1
        if row.prev_hash != prev:
            problems.append(
                f"entry {row.id}: does not follow the previous entry "
                "(an entry was deleted, inserted or reordered)"
            )
        expected = _hash(
            row.prev_hash, row.created_at, row.actor, row.action, row.subject, row.details
        )
        if expected != row.hash:
            problems.append(f"entry {row.id}: its content does not match its hash (edited)")
        prev = row.hash
    last, count = head(conn)
    if (last, count) != (prev, n):
        problems.append(
            f"the log ends at entry {n} with hash {prev[:12]}…, but the recorded "
            f"head is entry {count} with hash {last[:12]}… (entries were removed "
            "or added outside Commune)"
        )
    return Verification(not problems, n, prev, problems)


def entries(conn: Connection, limit: int = 50) -> list[dict[str, Any]]:
    q = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    return [dict(r._mapping) for r in conn.execute(q)][::-1]
