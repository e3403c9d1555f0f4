"""Sign-in sessions of the web application, kept in the database: the cookie holds a random
token (256 bits), the database its SHA-256, the user and the session's CSRF token, so a
stolen database does not hand out sessions, and a session can be ended server-side.

Here, with the people and keys they belong to, rather than in the web face: a removed
person, a revoked key or a peer's key ends or refuses a session (find), which is identity's
decision, and the faces reach the database only through the library (tests/test_layers.py)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, or_, select, update

from commune.govern.members import PEER_KIND, left_on
from commune.govern.policy import Actor
from commune.store.repository import aware, now
from commune.store.schema import api_keys, members, users, web_sessions


@dataclass(frozen=True)
class Session:
    actor: Actor
    csrf: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    conn: Connection, actor: Actor, hours: float, key_prefix: str | None = None
) -> str:
    """Start a session for ``actor``: its cookie token (its CSRF token is read back with
    it, by find). ``key_prefix``: the API key it was opened with, which it ends with."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    conn.execute(
        insert(web_sessions).values(
            digest=_digest(token),
            user_id=actor.user_id,
            csrf=csrf,
            created_at=now(),
            expires_at=now() + timedelta(hours=hours),
            key_prefix=key_prefix,
        )
    )
    return token


def find(conn: Connection, token: str | None) -> Session | None:
    """The live session of this cookie token, or None (absent, ended or expired)."""
    if not token or len(token) > 100:
        return None
    row = conn.execute(
        select(
            web_sessions.c.csrf,
            web_sessions.c.expires_at,
            web_sessions.c.ended_at,
            users.c.id,
            users.c.name,
            users.c.role,
            users.c.member_id,
            users.c.removed_at,
            members.c.name.label("member"),
            members.c.kind,
            members.c.left_at,
            web_sessions.c.key_prefix,
            api_keys.c.id.label("key_id"),
            api_keys.c.revoked_at.label("key_revoked_at"),
            api_keys.c.expires_at.label("key_expires_at"),
        )
        .select_from(
            web_sessions.join(users)
            .join(members)
            .outerjoin(api_keys, api_keys.c.prefix == web_sessions.c.key_prefix)
        )
        .where(web_sessions.c.digest == _digest(token))
    ).first()
    if row is None or row.ended_at is not None or aware(row.expires_at) <= now():
        return None
    if row.removed_at is not None:  # removal ends the sessions too; this holds regardless
        return None
    if left_on(row) is not None:  # their member left: signed out, the sign-in says why
        return None
    if row.key_prefix is not None and (  # opened with a key since revoked, expired or gone
        row.key_id is None
        or row.key_revoked_at is not None
        or (row.key_expires_at is not None and aware(row.key_expires_at) <= now())
    ):
        return None
    if row.kind == PEER_KIND:  # a peer cooperative reads by its key, on /peer/ only
        return None
    actor = Actor(int(row.id), row.name, int(row.member_id), row.member, row.role)
    return Session(actor, row.csrf)


def end(conn: Connection, token: str | None) -> None:
    if token:
        conn.execute(
            update(web_sessions)
            .where(web_sessions.c.digest == _digest(token), web_sessions.c.ended_at.is_(None))
            .values(ended_at=now())
        )


def purge(conn: Connection, before: datetime) -> int:
    """Delete the sessions that ended (signed out, or their person removed) or expired before
    ``before``: the charter's retention, as for the decision records (charter/records.purge).
    An ended session's row was kept for the record, and then for good: who signed in when,
    years on, on a home that purges what they asked after 90 days. Returns the rows deleted."""
    done = conn.execute(
        delete(web_sessions).where(
            or_(web_sessions.c.expires_at < before, web_sessions.c.ended_at < before)
        )
    )
    return int(done.rowcount or 0)
