"""Members (organisations), their users, and API keys (shown once, stored hashed)."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update

from commune.errors import CommuneError, Forbidden, InvalidRequest, NotFound
from commune.govern.policy import OPERATOR, ROLES, Actor
from commune.store.repository import aware, new_id, now, zoned
from commune.store.schema import api_keys, members, usage, users

KINDS = ("town", "agglomeration", "association", "public-body", "other")
# Another cooperative, asking this one's shared collections (docs/peering.md): its own kind,
# because only it may use the peer routes and its members are the other cooperative's.
PEER_KIND = "peer"


class AuthError(CommuneError):
    """The request carries no valid key: HTTP 401."""


# A quota past this is no quota, and past 2**63 the database cannot hold it (an OverflowError
# reached the user); NaN compared false with everything and was stored as "no quota".
MAX_QUOTA = 10**15
# The longest a key may live: timedelta stops at 999,999,999 days, a key long before that.
MAX_KEY_DAYS = 36_500
# api_keys.label's width (store/schema.py): a longer label is refused, never cut.
MAX_KEY_LABEL = 200
# An unknown user's next step on the web's forms, which have no `commune user add`.
NO_USER = "check the name, or add the user first"


def _positive(name: str, value: float | None) -> None:
    if value is None:
        return
    if not math.isfinite(value) or value <= 0:
        raise InvalidRequest(f"{name} must be greater than 0, got {value}")
    if value > MAX_QUOTA:
        raise InvalidRequest(f"{name} must be at most {MAX_QUOTA:.0e}, got {value}")


# What a member declares it uses the commons for: licences (NC) and the charter's refusal
# rules (utility.refuse.uses) decide by it.
DECLARED_USES = ("non-commercial", "commercial")


def add_member(
    conn: Connection,
    name: str,
    kind: str = "other",
    requests_per_day: int | None = None,
    tokens_per_month: int | None = None,
    wh_per_month: float | None = None,
    declared_use: str = "non-commercial",
) -> int:
    if not name.strip():
        raise InvalidRequest("a member needs a name")
    check_name("member", name)
    if declared_use not in DECLARED_USES:
        raise InvalidRequest(
            f"declared use must be non-commercial or commercial, got {declared_use!r}"
        )
    if kind not in (*KINDS, PEER_KIND):
        raise InvalidRequest(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    for key, value in (
        ("requests_per_day", requests_per_day),
        ("tokens_per_month", tokens_per_month),
        ("wh_per_month", wh_per_month),
    ):
        _positive(key, value)
    _claim(conn, "member", name)
    if conn.execute(select(members.c.id).where(members.c.name == name)).first():
        raise CommuneError(f"a member named {name!r} already exists", "pick another name")
    _not_a_twin(conn, members, "member", name)
    return int(
        new_id(
            conn.execute(
                insert(members).values(
                    name=name,
                    kind=kind,
                    requests_per_day=requests_per_day,
                    tokens_per_month=tokens_per_month,
                    wh_per_month=wh_per_month,
                    created_at=now(),
                    declared_use=declared_use,
                )
            )
        )
    )


# A member's and a user's quotas, as their columns and the API's JSON name them.
QUOTAS = ("requests_per_day", "tokens_per_month", "wh_per_month")


def _check_quotas(quotas: dict[str, float | None]) -> None:
    """The quotas a `member set` or `user set` changes: known names, at least one, each as
    `add_member` and `add_user` check it."""
    unknown = sorted(set(quotas) - set(QUOTAS))
    if unknown:
        raise InvalidRequest(f"no quota named {unknown[0]!r}", f"known quotas: {', '.join(QUOTAS)}")
    if not quotas:
        raise InvalidRequest("no quota to change", "give a new value, or clear one")
    for key, value in quotas.items():
        _positive(key, value)


def set_member_quotas(
    conn: Connection, name: str, quotas: dict[str, float | None]
) -> dict[str, float | None]:
    """Change the quotas of member ``name`` named in ``quotas`` (None: no limit), each
    checked as `add_member` checks it; the others stay. Returns what they were."""
    _check_quotas(quotas)
    row = conn.execute(select(members).where(members.c.name == name)).first()
    if row is None:
        raise _no_member(conn, name)
    before = {key: row._mapping[key] for key in quotas}
    conn.execute(update(members).where(members.c.id == row.id).values(**quotas))
    return before


def set_user_quotas(
    conn: Connection, name: str, quotas: dict[str, float | None]
) -> dict[str, float | None]:
    """Change the caps of user ``name`` inside their member's pool, as `set_member_quotas`
    does a member's. Returns what they were."""
    _check_quotas(quotas)
    row = conn.execute(select(users).where(users.c.name == name)).first()
    if row is None:
        raise NotFound(
            f"no user named {name!r}", "create it with commune user add", field_hint=NO_USER
        )
    before = {key: row._mapping[key] for key in quotas}
    conn.execute(update(users).where(users.c.id == row.id).values(**quotas))
    return before


def member_id(conn: Connection, name: str) -> int:
    row = conn.execute(select(members.c.id).where(members.c.name == name)).first()
    if row is None:
        raise _no_member(conn, name)
    return int(row.id)


def _no_member(conn: Connection, name: str) -> NotFound:
    # In the order of their names, as the library lists collections: PostgreSQL, asked for
    # no order, gave them in the order they were stored (SQLite read them off the names'
    # index), and the same hint read otherwise from one backend to the other.
    known = (
        ", ".join(r.name for r in conn.execute(select(members.c.name).order_by(members.c.name)))
        or "none yet"
    )
    return NotFound(f"no member named {name!r}", f"known members: {known}")


MAX_NAME = 200


def check_name(kind: str, name: str) -> None:
    """A person's or a member's name: shown in lists, one per line and tab-separated, and
    typed back in commands. Empty, or with a tab, a line break or another control
    character, it could not be (an empty user name still got a working key)."""
    if (
        not name.strip()
        or len(name) > MAX_NAME
        or any(unicodedata.category(ch).startswith("C") for ch in name)
    ):
        raise InvalidRequest(
            f"a {kind} name must be 1 to {MAX_NAME} characters, without tabs, line breaks or "
            "other control characters",
            "give a name such as 'marie.durand' or 'Ville de Lyon'",
        )


def _claim(conn: Connection, what: str, name: str) -> None:
    """Hold ``name`` (in any case) until the transaction ends, before it is checked free: two
    adds of one name at once both found it free, and on PostgreSQL the second failed on the
    unique key with the driver's traceback (two names that differ only in case both went
    in). The second now waits, then is told the name is taken."""
    from commune.store.db import lock

    lock(conn, "name", f"{what} {name.casefold()}")


def _not_a_twin(conn: Connection, table: Any, what: str, name: str) -> None:
    """Refuse a name that differs from one already there only in case ("Alice" beside
    "alice"): two members wrote one statement file between them, and two users shared the
    sign-in's failure counter, which reads names in lower case. Compared here, not in SQL:
    SQLite's lower() leaves "É" as it is."""
    folded = name.casefold()
    for (other,) in conn.execute(select(table.c.name)):
        if other.casefold() != folded:
            continue
        if what == "member":
            said = f"a member named {other!r} already exists: {name!r} differs from it only in case"
        else:
            said = f"a user named {other!r} already exists: {name!r} differs from it only in case"
        raise CommuneError(said, "pick another name")


def list_members(conn: Connection) -> list[dict[str, Any]]:
    """Every member, with its departure, if one is recorded, said as the faces show it:
    ``left_on`` its day (UTC), ``has_left`` whether it took effect (leave)."""
    at = now()
    return [
        {
            **r._mapping,
            "left_on": None if r.left_at is None else _day(r.left_at),
            "has_left": left_on(r, at) is not None,
        }
        for r in conn.execute(select(members).order_by(members.c.name))
    ]


def add_user(
    conn: Connection,
    name: str,
    member: str,
    role: str = "reader",
    requests_per_day: int | None = None,
    tokens_per_month: int | None = None,
    wh_per_month: float | None = None,
    by: str = "operator",
) -> int:
    if role not in ROLES:
        raise InvalidRequest(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    check_name("user", name)
    if name.casefold() == OPERATOR.user:
        # The audit log, the payout choices and their lists name the command line's operator
        # "operator" (by user name, as every actor): a person of that name read as the
        # operator in each of them, what they did taken for the operator's.
        raise InvalidRequest(
            f"{name!r} names the operator in the audit log: a person cannot take it",
            "give a name such as 'marie.durand'",
        )
    for key, value in (
        ("requests_per_day", requests_per_day),
        ("tokens_per_month", tokens_per_month),
        ("wh_per_month", wh_per_month),
    ):
        _positive(key, value)
    mid = member_id(conn, member)
    _claim(conn, "user", name)
    taken = conn.execute(select(users.c.removed_at).where(users.c.name == name)).first()
    if taken is not None:
        # A removed person's name stays theirs: the ledger, the credits, the payouts and the
        # audit log name them, and a newcomer under it would be paid and blamed for them. Said
        # as any name taken: "was removed" told another member's admin that a person of a
        # member not theirs had left.
        raise CommuneError(
            f"a user named {name!r} already exists",
            "pick another name: a name stays taken, a removed person's too",
        )
    _not_a_twin(conn, users, "user", name)
    kind = conn.execute(select(members.c.kind).where(members.c.id == mid)).scalar_one()
    if (
        kind == PEER_KIND
        and conn.execute(select(users.c.id).where(users.c.member_id == mid)).first()
    ):
        # A peer cooperative is one user, made with its key (`commune peer issue`): its key
        # opens /peer/ only, and another user of it would be a person no member answers for.
        raise InvalidRequest(
            f"{member} is a peer cooperative: it has its one user already",
            "add the person to a member of this cooperative",
        )
    uid = int(
        new_id(
            conn.execute(
                insert(users).values(
                    name=name,
                    member_id=mid,
                    role=role,
                    requests_per_day=requests_per_day,
                    tokens_per_month=tokens_per_month,
                    wh_per_month=wh_per_month,
                    created_at=now(),
                )
            )
        )
    )
    from commune.store import audit

    audit.append(conn, by, "role-grant", f"user {name}", member=member, role=role)
    return uid


def list_users(conn: Connection, member: str | None = None) -> list[dict[str, Any]]:
    q = (
        select(
            users.c.id,
            users.c.name,
            users.c.role,
            members.c.name.label("member"),
            users.c.requests_per_day,
            users.c.tokens_per_month,
            users.c.wh_per_month,
        )
        .select_from(users.join(members))
        .where(users.c.removed_at.is_(None))  # a removed person is listed nowhere
        .order_by(users.c.name)
    )
    if member:
        q = q.where(members.c.name == member)
    return [dict(r._mapping) for r in conn.execute(q)]


def _digest(key: str) -> str:
    # Keys are 192 bits of randomness (token_urlsafe(24)): a plain SHA-256 is enough (no
    # password stretching).
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    conn: Connection,
    user: str,
    label: str = "",
    expires_days: int | None = None,
    most: int | None = None,
) -> tuple[int, str]:
    """Return (key id, the key). The key is shown this once; only its digest is kept.
    ``most``: the active keys (neither revoked nor expired) ``user`` may hold, this one
    included ([limits] max_keys_per_user); None: no cap."""
    row = conn.execute(
        select(users.c.id).where(users.c.name == user, users.c.removed_at.is_(None))
    ).first()
    if row is None:
        raise NotFound(
            f"no user named {user!r}", "create it with commune user add", field_hint=NO_USER
        )
    if len(label) > MAX_KEY_LABEL:
        raise InvalidRequest(
            f"a key's label is at most {MAX_KEY_LABEL} characters, got {len(label)}",
            "shorten it",
        )
    if any(unicodedata.category(ch).startswith("C") for ch in label):
        # Anyone labels their own keys (the account page), and `commune key list` prints
        # the label on the operator's terminal: a line break forged a key's line there, an
        # escape sequence drove the terminal (its title, its clipboard).
        raise InvalidRequest(
            "a key's label may not hold tabs, line breaks or other control characters",
            "give a label such as 'laptop'",
        )
    if expires_days is not None and not 0 < expires_days <= MAX_KEY_DAYS:
        raise InvalidRequest(
            f"expires_days must be between 1 and {MAX_KEY_DAYS}, got {expires_days}"
        )
    if most is not None:
        _within_keys(conn, user, int(row.id), most)
    prefix = secrets.token_hex(4)
    key = f"cmn_{prefix}_{secrets.token_urlsafe(24)}"
    expires = now() + timedelta(days=expires_days) if expires_days else None
    kid = new_id(
        conn.execute(
            insert(api_keys).values(
                user_id=row.id,
                prefix=prefix,
                digest=_digest(key),
                label=label,
                created_at=now(),
                expires_at=expires,
            )
        )
    )
    return int(kid), key


def _within_keys(conn: Connection, user: str, user_id: int, most: int) -> None:
    """Refuse a key past the ``most`` active ones ``user`` holds. Each key is a way in that
    someone may lose, and a person needs a few (a laptop, a phone, a script); without a cap
    anyone signed in minted keys without end (the account page's form), each a row kept for
    good and listed on their admins' pages, and a stolen session could leave hundreds of
    ways back in, each to find and revoke."""
    from commune.store.db import lock

    # Two creations at once both counted one short of the cap: the second waits here.
    lock(conn, "keys", user_id)
    active = conn.execute(
        select(func.count())
        .select_from(api_keys)
        .where(
            api_keys.c.user_id == user_id,
            api_keys.c.revoked_at.is_(None),
            or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > now()),
        )
    ).scalar_one()
    if active >= most:
        raise CommuneError(
            f"{user} already has {active} active keys, the most [limits] max_keys_per_user allows",
            "revoke one first: commune key list, then commune key revoke ID",
            field_hint="revoke one first: its Revoke button in the list of keys",
        )


def revoke_key(conn: Connection, key_id: int) -> None:
    done = conn.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id)
        .where(api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    if not done.rowcount:
        raise NotFound(f"no active key with id {key_id}", "list keys with commune key list")


def list_keys(conn: Connection, user_names: list[str] | None = None) -> list[dict[str, Any]]:
    """Keys (never their secret), of the named users only when ``user_names`` is given; each
    says whether it has ``expired`` (as :func:`authenticate` refuses it: at its expiry and
    after), which `commune key list` and the web's keys said as "expires 2026-01-01", the
    date past, of a key that no longer opened anything."""
    q = (
        select(
            api_keys.c.id,
            api_keys.c.prefix,
            api_keys.c.label,
            users.c.name.label("user"),
            api_keys.c.created_at,
            api_keys.c.expires_at,
            api_keys.c.revoked_at,
        )
        .select_from(api_keys.join(users))
        .order_by(api_keys.c.id)
    )
    if user_names is not None:
        q = q.where(users.c.name.in_(user_names))
    at = now()
    # Its dates in UTC (zoned), as the other lists give them: on PostgreSQL they came in the
    # session's zone, and `commune key list` said "expires 2030-02-01" of a key expiring at
    # 23:30 UTC on 31 January in a session set to Europe/Paris (PGTZ).
    return [
        {
            **zoned(dict(r._mapping)),
            "expired": r.expires_at is not None and aware(r.expires_at) <= at,
        }
        for r in conn.execute(q)
    ]


# What to do with a missing or wrong key, over HTTP: a face that takes the key another way
# (commune mcp, from an environment variable) says its own.
SEND_THE_KEY = "send 'Authorization: Bearer KEY'; an admin creates keys with commune key create"


def authenticate(
    conn: Connection, key: str | None, at: datetime | None = None, *, peer_route: bool = False
) -> Actor:
    """Who holds ``key``. A peer cooperative's key (docs/peering.md) opens the peer routes
    only (``peer_route``): elsewhere it would read every collection shared inside this
    cooperative, where peers may read only what is shared outward."""
    hint = SEND_THE_KEY
    if not key:
        raise AuthError("authentication required", hint)
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != "cmn":
        raise AuthError("malformed API key", hint)
    row = conn.execute(
        select(
            api_keys,
            users.c.name.label("user"),
            users.c.role,
            users.c.member_id,
            users.c.removed_at.label("user_removed_at"),
            members.c.name.label("member"),
            members.c.kind,
            members.c.left_at,
        )
        .select_from(api_keys.join(users).join(members))
        .where(api_keys.c.prefix == parts[1])
    ).first()
    if row is None or not hmac.compare_digest(row.digest, _digest(key)):
        raise AuthError("unknown API key", hint)
    if row.user_removed_at is not None:
        # Removal revokes every key, in the same transaction; this holds even for a key a
        # restored backup or a hand edit brought back.
        raise AuthError("this API key's user was removed", "ask your member admin")
    left = left_on(row, at)
    if left is not None:
        # Its keys are not revoked when it leaves (a departure recorded ahead may still be
        # undone): they are refused from the day it takes effect, saying why.
        raise refuse_departed(row.member, left)
    if row.revoked_at is not None:
        raise AuthError("this API key was revoked", "ask your member admin for a new key")
    if row.expires_at is not None and aware(row.expires_at) <= (at or now()):
        raise AuthError("this API key has expired", "ask your member admin for a new key")
    if row.kind == PEER_KIND and not peer_route:
        raise AuthError(
            "this key is a peer cooperative's: it opens the /peer/ routes only",
            "see docs/peering.md",
        )
    return Actor(int(row.user_id), row.user, int(row.member_id), row.member, row.role)


def actor_for(conn: Connection, user: str) -> Actor:
    row = conn.execute(
        select(
            users.c.id,
            users.c.name,
            users.c.role,
            users.c.member_id,
            users.c.removed_at,
            members.c.name.label("member"),
        )
        .select_from(users.join(members))
        .where(users.c.name == user)
    ).first()
    if row is None:
        raise NotFound(
            f"no user named {user!r}", "create it with commune user add", field_hint=NO_USER
        )
    if row.removed_at is not None:  # nobody acts as them any more, the operator's --as included
        raise NotFound(
            f"user {user!r} was removed from the cooperative",
            "the audit log says when, by whom and why: commune audit log",
            field_hint="check the name",
        )
    return Actor(int(row.id), row.name, int(row.member_id), row.member, row.role)


def acting_as(conn: Connection, user: str) -> Actor:
    """``user``, for the operator to act as (``--as``): not a person of a member that left
    the cooperative, whose keys and password open nothing either. What they would do (an
    answer, a document added) is metered to that member, which no statement bills any more:
    the others would pay for it."""
    actor = actor_for(conn, user)
    row = conn.execute(
        select(members.c.name, members.c.left_at).where(members.c.id == actor.member_id)
    ).one()
    left = left_on(row)
    if left is not None:
        raise refuse_departed(row.name, left)
    return actor


def profile(conn: Connection, member_id: int | None) -> tuple[str | None, str | None]:
    """(kind, declared use) of a member; (None, None) for the operator, who is none."""
    if member_id is None:
        return None, None
    row = conn.execute(
        select(members.c.kind, members.c.declared_use).where(members.c.id == member_id)
    ).first()
    return (None, None) if row is None else (str(row.kind), str(row.declared_use))


def peer_use(conn: Connection, member_id: int | None) -> str | None:
    """A peer cooperative's declared use; Forbidden for a key that is not a peer's: the
    peer routes (/peer/search, /peer/cited, /peer/retired) answer other cooperatives only."""
    kind, use = profile(conn, member_id)
    if kind != PEER_KIND:
        raise Forbidden(
            "the peer routes are for other cooperatives: this key is not a peer's",
            "members search with /api/search; an operator issues a peer key with "
            "commune peer issue NAME",
        )
    return use


# -- a member's departure ------------------------------------------------------------------
#
# A member (a town, an association) leaves the cooperative as a cooperative expects: on a
# date, recorded ahead (its assembly voted) or on the day. The statement shares the fixed
# cost among the members of each month, and a member is one of a month's if it was a member
# for any part of it, as a member that joins mid-month pays that month whole: so it pays the
# months it was in, never one after, and the others share the fixed cost from then on. Its
# row stays, with everything that points to it: the ledger (never rewritten), the
# statements issued (records), the credits, the payouts, and the documents it gave the
# commons, under the licences they were given with, still credited to it. Its private
# collections stay as they are, readable by its people alone, who can no longer sign in:
# they are the member's documents, not the commons', so they are neither opened to the
# others nor deleted (the member may want them back); the operator decides, with the
# member, to hand them back (commune export) or to retire them (docs/cooperative.md).


def _at(value: datetime) -> datetime:
    return aware(value).astimezone(UTC)


def end_of_month(at: datetime) -> datetime:
    """The first instant after the month holding ``at``: a departure "at the end of the
    month" takes effect then, the month itself still the member's."""
    start = _at(at).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)


def _day(at: datetime) -> str:
    return _at(at).date().isoformat()


def left_on(row: Any, at: datetime | None = None) -> datetime | None:
    """When ``row``'s member left, if it has (by ``at``, default now); None while it is a
    member, a departure to come included."""
    left = row.left_at
    if left is None or _at(left) > (at or now()):
        return None
    return _at(left)


def departed(conn: Connection) -> dict[int, str]:
    """The members whose departure has taken effect, each with the day it did (YYYY-MM-DD):
    what the decisions about their collections need (policy.can_share)."""
    rows = conn.execute(
        select(members.c.id, members.c.left_at).where(members.c.left_at.is_not(None))
    ).all()
    return {int(r.id): _day(left) for r in rows if (left := left_on(r)) is not None}


class Departed(AuthError):
    """A person of a member that left the cooperative: their key or password was right, and
    they are told why it opens nothing (not "wrong password", which sent them retyping it)."""


def refuse_departed(member: str, left: datetime) -> Departed:
    return Departed(
        f"{member} left the cooperative on {_day(left)}: its people's keys and passwords "
        "open nothing any more",
        "ask the cooperative's operator",
    )


def _last_issued_month(conn: Connection) -> str | None:
    """The latest month whose statement was issued (account/statement.issue records each in
    the audit log, action "statement", subject "month YYYY-MM"): read here, below account/,
    as the audit log's rows, which are the record the issue is."""
    from commune.store.schema import audit_log

    months = [
        subject.removeprefix("month ")
        for (subject,) in conn.execute(
            select(audit_log.c.subject).where(audit_log.c.action == "statement").distinct()
        )
    ]
    return max(months, default=None)


def _paid_out_to(conn: Connection, name: str, at: datetime) -> str | None:
    """The latest month whose payouts were issued (commons/payouts.issue: audit action
    "payouts", subject "month YYYY-MM") that began at ``at`` or later with a contributor's
    share redirected to member ``name``, if any. Read here, below commons/, from the audit
    log's rows and the choices' table: the choice in force in a month is the latest one
    recorded from that month or before (commons/payouts.choices_in_force)."""
    from commune.store.schema import audit_log, payout_choices

    subjects = conn.execute(
        select(audit_log.c.subject).where(audit_log.c.action == "payouts").distinct()
    ).scalars()
    months = sorted(
        m
        for m in (s.removeprefix("month ") for s in subjects if s.startswith("month "))
        if datetime.strptime(m + "-01", "%Y-%m-%d").replace(tzinfo=UTC) >= at
    )
    if not months:
        return None
    rows = conn.execute(select(payout_choices).order_by(payout_choices.c.id)).all()
    for month in reversed(months):
        in_force = {r.contributor: (r.choice, r.target) for r in rows if r.from_month <= month}
        if ("redirect", name) in in_force.values():
            return str(month)
    return None


def _departing(conn: Connection, name: str) -> Any:
    from commune.store.db import lock

    row = conn.execute(select(members).where(members.c.name == name)).first()
    if row is None:
        raise _no_member(conn, name)
    # Two departures at once (or one and its undoing) each saw the other members still in:
    # the last two could leave together. The second waits here, then sees the first.
    lock(conn, "name", "departures")
    return conn.execute(select(members).where(members.c.id == row.id)).one()


def leave(conn: Connection, name: str, at: datetime | None = None) -> dict[str, Any]:
    """Record that member ``name`` leaves the cooperative at ``at`` (it is no member from
    then on; None: at the end of the month under way), or move a departure not yet in
    effect to ``at``. Refused, nothing written: an unknown member, a peer cooperative, a
    member that has left already, a date before it joined, a date inside or before a month
    whose statement is issued (a record: issued with this member in it, it would no longer
    add up), a date on or before the first day of a month whose payouts were issued with a
    share redirected to it (that share would go back to its contributor after the fact), a
    date in the past after which its people still used the service (their use, which the
    ledger keeps as it is, would be charged to nobody), and the last member
    (nobody would share the fixed cost). Returns what it was and what it is now, for the
    audit log."""
    row = _departing(conn, name)
    today = now()
    at = end_of_month(today) if at is None else _at(at)
    if row.kind == PEER_KIND:
        raise InvalidRequest(
            f"{name} is a peer cooperative, not a member: it does not leave, its key is revoked",
            "revoke it with commune key revoke ID (commune key list)",
        )
    left = left_on(row, today)
    if left is not None:
        raise InvalidRequest(f"{name} left the cooperative on {_day(left)}", "nothing to do")
    if at < _at(row.created_at):
        raise InvalidRequest(
            f"{name} joined the cooperative on {_day(row.created_at)}: it cannot leave "
            f"before, on {_day(at)}",
            "give a later date",
        )
    issued = _last_issued_month(conn)
    if issued is not None:
        first = end_of_month(datetime.strptime(issued + "-01", "%Y-%m-%d").replace(tzinfo=UTC))
        if at < first:
            raise InvalidRequest(
                f"the statement of {issued} is issued: a departure on {_day(at)} would change "
                "a record",
                f"give {_day(first)} or a later date",
            )
    paid = _paid_out_to(conn, name, at)
    if paid is not None:
        # A share redirected to a member is paid back to its contributor from the first
        # month the member is out of (commons/payouts.lapses): a departure before a month
        # paid out would move that month's money after the fact. A departure inside it does
        # not (the member was in for part of it, so the month is its own): the first day it
        # may take is the month's second. The hint named the next month's first, while the
        # 15th was accepted: it sent the operator a month later than needed.
        start = datetime.strptime(paid + "-01", "%Y-%m-%d").replace(tzinfo=UTC)
        first = start + timedelta(days=1)
        raise InvalidRequest(
            f"the payouts of {paid} were issued with a share redirected to {name}: a departure "
            f"on {_day(at)} would change them",
            f"give {_day(first)} or a later date",
        )
    if at < today:
        used = conn.execute(
            select(func.max(usage.c.created_at)).where(
                usage.c.member_id == row.id, usage.c.created_at >= at
            )
        ).scalar()
        if used is not None:
            raise InvalidRequest(
                f"{name}'s people used the service after {_day(at)}, last on {_day(used)}: "
                "their use would be charged to nobody",
                f"give {_day(used + timedelta(days=1))} or a later date",
            )
    # Counted among those who stay for good, not those still in at ``at``: a member whose
    # own departure, recorded first, falls later let this one go, and after it nobody shared
    # the fixed cost (two departures recorded in the reverse order of their days).
    others = conn.execute(
        select(members.c.left_at).where(members.c.id != row.id, members.c.kind != PEER_KIND)
    ).all()
    if not any(o.left_at is None for o in others):
        later = [_at(o.left_at) for o in others if _at(o.left_at) > at]
        if later:
            raise InvalidRequest(
                f"every other member leaves the cooperative by {_day(max(later))}: nobody "
                f"would share the fixed cost after {name}",
                "undo one of their departures first with commune member stay, or add "
                "another member: commune member add",
            )
        raise InvalidRequest(
            f"{name} is the cooperative's last member: nobody would share the fixed cost after it",
            "add another member first: commune member add",
        )
    before = None if row.left_at is None else _at(row.left_at).isoformat()
    conn.execute(update(members).where(members.c.id == row.id).values(left_at=at))
    return {"member": name, "left_at": at.isoformat(), "before": before}


def stay(conn: Connection, name: str) -> dict[str, Any]:
    """Undo member ``name``'s departure, which has not taken effect: it stays a member as if
    nothing had been recorded. A departure in effect is not undone: the months since were
    shared without it, and a statement may have been issued so. Returns the date undone."""
    row = _departing(conn, name)
    left = left_on(row)
    if left is not None:
        raise InvalidRequest(
            f"{name} left the cooperative on {_day(left)}: a departure in effect is not undone",
            "the months since were shared without it; to come back it joins again under "
            "another name: commune member add",
        )
    if row.left_at is None:
        raise InvalidRequest(f"{name} has no departure to undo", "nothing to do")
    conn.execute(update(members).where(members.c.id == row.id).values(left_at=None))
    return {"member": name, "undone": _at(row.left_at).isoformat()}


def departure_when(on: str | None = None, end_of: str | None = None) -> datetime | None:
    """When a departure takes effect, as a face was given it: from the day ``on``
    (YYYY-MM-DD, UTC: the member is none from that day), or at the end of the month
    ``end_of`` (YYYY-MM); neither: None, the end of the month under way."""
    if on and end_of:
        raise InvalidRequest(
            "a departure takes effect on a day or at the end of a month, not both",
            "give one of them",
        )
    if end_of:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", end_of) or not "0001" <= end_of < "9999-12":
            raise InvalidRequest(f"month must look like 2026-11, got {end_of!r}")
        return end_of_month(datetime.strptime(end_of + "-01", "%Y-%m-%d").replace(tzinfo=UTC))
    if on:
        try:
            day = datetime.strptime(on, "%Y-%m-%d") if len(on) == 10 else None
        except ValueError:
            day = None
        if day is None:
            raise InvalidRequest(
                f"a departure's day must look like 2027-03-31, got {on!r}",
                "give the first day the member is no longer in, as YYYY-MM-DD",
            )
        return day.replace(tzinfo=UTC)
    return None
