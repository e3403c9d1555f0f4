"""Sign-in sessions and CSRF tokens for the web application.

The cookie holds a random token (256 bits); the database keeps its SHA-256, the user
and the session's CSRF token, so a stolen database does not hand out sessions, and a
session can be ended server-side. Forms carry the CSRF token in a hidden field; before
sign-in, a random cookie plays that part (double submit), so the sign-in form is covered
too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, Engine, insert, select, update

from commune.govern.members import PEER_KIND
from commune.govern.policy import Actor
from commune.store.repository import aware, now
from commune.store.schema import api_keys, members, users, web_sessions

COOKIE = "commune_session"
CSRF_COOKIE = "commune_csrf"  # before sign-in only


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


def new_csrf() -> str:
    return secrets.token_urlsafe(32)


def same(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))


class Sessions:
    """The session store: the web application's one use of the database engine (sign-in,
    sign-out, and finding the session of each request). Everything else a page does goes
    through the facade, as the CLI's and the API's calls do."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def find(self, token: str | None) -> Session | None:
        with self.engine.connect() as conn:
            return find(conn, token)

    def open(
        self,
        actor: Actor,
        hours: float,
        key_prefix: str | None = None,
        replacing: str | None = None,
    ) -> str:
        """A new session; ``replacing``: the cookie token of the one it takes the place of
        (a sign-in while signed in), ended with it: nobody holds its cookie any more, and it
        stayed valid on the server until it expired."""
        with self.engine.begin() as conn:
            end(conn, replacing)
            return open_session(conn, actor, hours, key_prefix)

    def end(self, token: str | None) -> None:
        with self.engine.begin() as conn:
            end(conn, token)
