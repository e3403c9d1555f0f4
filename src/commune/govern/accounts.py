"""Signing in with a password, and who may administer which people.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's second
recommended profile); API keys stay plain SHA-256 digests because they are random
(members.py). The web application signs people in with either.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, delete, select, update

from commune.errors import CommuneError, Forbidden, InvalidRequest, NotFound
from commune.govern.members import (
    NO_USER,
    PEER_KIND,
    AuthError,
    actor_for,
    left_on,
    member_id,
    refuse_departed,
)
from commune.govern.policy import (
    Actor,
    Decision,
    Member,
    Role,
    above,
    allowed,
    can_act_as,
    can_give_credentials,
    who_acts_for,
)
from commune.store.repository import now
from commune.store.schema import (
    answer_cache,
    api_keys,
    decisions,
    members,
    revisions,
    users,
    web_sessions,
)

MIN_PASSWORD = 10  # NIST SP 800-63B asks for at least 8; a passphrase is easier at 10
MAX_PASSWORD = 1024  # hashing a megabyte "password" would be a cheap way to load the server


@lru_cache(maxsize=1)
def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against when the user is unknown, so that a wrong name takes as long as a
    # wrong password: timing does not tell which user names exist.
    return str(_hasher().hash("not a password of anyone"))


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidRequest(
            f"a password needs at least {MIN_PASSWORD} characters, got {len(password)}"
        )
    if len(password) > MAX_PASSWORD:
        raise InvalidRequest(f"a password has at most {MAX_PASSWORD} characters")


def set_password(
    conn: Connection, user: str, password: str, by: str = "operator", revoke_keys: bool = False
) -> int:
    """Set ``user``'s password (argon2id hash); the audit log records that it changed. With
    ``revoke_keys``, every active key of theirs is revoked too (Admin.set_password says
    when). Returns how many keys were revoked."""
    from commune.store import audit

    check_password_strength(password)
    if _of_a_peer(conn, user):
        raise InvalidRequest(
            f"user {user!r} is another cooperative's, which signs in with its key only",
            "see docs/peering.md",
        )
    done = conn.execute(
        update(users)
        .where(users.c.name == user, users.c.removed_at.is_(None))
        .values(password_hash=_hasher().hash(password))
    )
    if not done.rowcount:
        raise NotFound(
            f"no user named {user!r}", "create it with commune user add", field_hint=NO_USER
        )
    # Whoever held a session by the old password (a stolen one, above all when an admin
    # resets a compromised account) is signed out; the web signs the changer in again.
    conn.execute(
        update(web_sessions)
        .where(
            web_sessions.c.user_id
            == select(users.c.id).where(users.c.name == user).scalar_subquery(),
            web_sessions.c.ended_at.is_(None),
        )
        .values(ended_at=now())
    )
    revoked = 0
    if revoke_keys:
        revoked = conn.execute(
            update(api_keys)
            .where(
                api_keys.c.user_id
                == select(users.c.id).where(users.c.name == user).scalar_subquery(),
                api_keys.c.revoked_at.is_(None),
            )
            .values(revoked_at=now())
        ).rowcount
        audit.append(conn, by, "password-set", f"user {user}", keys_revoked=revoked)
    else:
        audit.append(conn, by, "password-set", f"user {user}")
    return int(revoked)


def confirm(conn: Connection, actor: Actor, secret: str) -> None:
    """Re-authentication: refuse (AuthError) unless ``secret`` is ``actor``'s current
    password, or, for someone who has none (they sign in with a key), one of their active
    keys. Asked by the web before what outlives a session (a key): a session stolen alone,
    a cookie copied from an unlocked computer, made a key that still worked once the
    password was reset and every session ended."""
    from commune.govern.members import authenticate

    wrong = AuthError("wrong password: nothing was done", "type your current password again")
    if actor.is_operator:
        return
    stored = conn.execute(select(users.c.password_hash).where(users.c.id == actor.user_id))
    if stored.scalar():
        try:
            if sign_in(conn, actor.user, secret).user_id == actor.user_id:
                return
        except AuthError:
            pass
        raise wrong
    try:
        holder = authenticate(conn, secret)
    except AuthError:
        raise wrong from None
    if holder.user_id != actor.user_id:
        raise wrong


def _of_a_peer(conn: Connection, user: str) -> bool:
    """Whether ``user`` stands for a peer cooperative (docs/peering.md): its key opens the
    /peer/ routes only, and it must not reach by a password what its key may not."""
    kind = conn.execute(
        select(members.c.kind)
        .select_from(users.join(members, members.c.id == users.c.member_id))
        .where(users.c.name == user)
    ).scalar()
    return kind == PEER_KIND


def sign_in(conn: Connection, user: str, password: str) -> Actor:
    """The actor whose name and password these are; AuthError (the same for an unknown
    name, a wrong password or a user without a password) otherwise."""
    from argon2.exceptions import InvalidHashError, VerificationError

    wrong = AuthError("wrong user name or password", "check both, or sign in with an API key")
    # No name holds a NUL (check_name), and PostgreSQL refuses to look one up: the sign-in
    # page answered it with the database's refusal, uncounted, where SQLite said "wrong".
    if len(password) > MAX_PASSWORD or "\x00" in user:
        raise wrong
    row = _signing_in(conn, user)
    stored = row.password_hash if row is not None and row.password_hash else None
    try:
        _hasher().verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        raise wrong from None
    if row is None or stored is None or _of_a_peer(conn, row.name):
        raise wrong  # no such person, no password, or a peer's set before that rule
    departed = conn.execute(
        select(members.c.name, members.c.left_at)
        .select_from(users.join(members, members.c.id == users.c.member_id))
        .where(users.c.name == row.name)
    ).one()
    left = left_on(departed)
    if left is not None:  # the password was right: they are told why it opens nothing
        raise refuse_departed(departed.name, left)
    if _hasher().check_needs_rehash(stored):  # parameters raised since: upgrade it now
        conn.execute(
            update(users)
            .where(users.c.name == row.name)
            .values(password_hash=_hasher().hash(password))
        )
    return actor_for(conn, row.name)


def _signing_in(conn: Connection, user: str) -> Any:
    """The person (name, password hash) a sign-in names, in any case: no two names differ
    only in case (members._not_a_twin), so "Alice", as a phone capitalises a field's first
    letter, is alice, and was "wrong user name or password". Their own spelling first, for
    two names from before that rule; a spelling that is neither of them names nobody.
    Compared in Python, as _not_a_twin does: SQLite's lower() leaves "É" as it is.
    Every person read, whatever was typed: read by the exact spelling first, then all of
    them when it found nobody, an unknown name cost a read of the table more than a known
    one, which timing would tell (the dummy hash of sign_in is there so that it does not)."""
    present = conn.execute(
        select(users.c.name, users.c.password_hash).where(users.c.removed_at.is_(None))
    ).all()
    exact = [r for r in present if r.name == user]
    folded = user.casefold()
    found = exact or [r for r in present if r.name.casefold() == folded]
    return found[0] if len(found) == 1 else None


# -- administration ---------------------------------------------------------------------------


def may_administer(actor: Actor, member: str, member_id: int | None) -> Decision:
    """Member admins administer their own member's people; cooperative admins everyone's."""
    return allowed(actor, "administer", Member(member, member_id))


def may_grant(actor: Actor, role: str) -> Decision:
    """Nobody grants a role above their own: a member admin cannot make a cooperative admin."""
    return allowed(actor, "grant", Role(role))


def _no_user(user: str) -> NotFound:
    return NotFound(
        f"no user named {user!r}", "create it with commune user add", field_hint=NO_USER
    )


def _member_of(conn: Connection, user: str) -> tuple[str, int]:
    row = conn.execute(
        select(members.c.name, members.c.id)
        .select_from(users.join(members))
        .where(users.c.name == user)
    ).first()
    if row is None:
        raise _no_user(user)
    return str(row.name), int(row.id)


def require_administer(conn: Connection, actor: Actor, user: str) -> None:
    """Refuse (NotFound for another member's people, as elsewhere) unless ``actor`` may
    administer ``user``."""
    # Someone who administers nobody is told so before any name is looked up: "no user
    # named" for a name nobody has, and this for one somebody has, told them which exist.
    role = may_administer(actor, actor.member or "", actor.member_id)
    if not role and not actor.at_least("member-admin"):
        raise role.refusal()
    member, mid = _member_of(conn, user)
    decision = may_administer(actor, member, mid)
    if not decision:
        if actor.at_least("member-admin"):
            # Word for word the answer for a name nobody has: without the hint, it told a
            # member admin which names the other members' people have.
            raise _no_user(user)
        raise decision.refusal()
    # Nobody administers someone above them: a member admin who could mint a key for, or
    # set the password of, a cooperative admin of their member could then act as one.
    # Someone removed is administered by nobody: actor_for says they were removed, to
    # those who may administer their member only (the others read "no user named").
    target = actor_for(conn, user)
    if not actor.at_least(target.role):
        raise Forbidden(f"{user} is {target.role}, above {actor.user}'s role")


# Who manages a member's people from inside it: its member admins, and its cooperative admins
# (a role above, administering everyone's). A member left with none of them had its people
# managed only from outside (another member's cooperative admins, the operator), who do not
# know who the town hall's clerk is; its own people could not be given a key or a role by
# one of theirs. A member that has left needs none: its people no longer sign in.
ADMIN_ROLES = ("member-admin", "cooperative-admin")


def keeps_an_admin(
    conn: Connection, target: Actor, role: str | None = None, *, hold: bool = True
) -> None:
    """Refuse (InvalidRequest) taking ``target`` out of their member's admins (given
    ``role``; None: removed) when they are its last, unless it has left the cooperative.
    Whoever asks, the operator included: appointing another first is always open to them.
    ``hold``: in the transaction that writes the change (False: a preview, which writes
    nothing and holds no lock)."""
    if role in ADMIN_ROLES:
        return
    if hold and target.role in ADMIN_ROLES and target.member_id is not None:
        # Two admins of one member taken out at once (by two cooperative admins) each saw
        # the other still there: the second waits here, then sees the first.
        from commune.store.db import lock

        lock(conn, "name", f"admins of {target.member_id}")
    member = last_admin_of(conn, target)
    if member is not None:
        raise InvalidRequest(
            f"{target.user} is the last admin of {member}: without one, nobody of "
            f"{member} would manage its people",
            f"appoint another admin of {member} first: make a person of {member} its member admin",
        )


def last_admin_of(conn: Connection, target: Actor) -> str | None:
    """The name of the member ``target`` is the last admin of (one that has not left), or
    None: they are not an admin, or another admin of their member is there."""
    if target.role not in ADMIN_ROLES or target.member_id is None:
        return None
    member = conn.execute(
        select(members.c.name, members.c.left_at).where(members.c.id == target.member_id)
    ).one()
    if left_on(member) is not None:
        return None
    others = conn.execute(
        select(users.c.id).where(
            users.c.member_id == target.member_id,
            users.c.id != target.user_id,
            users.c.removed_at.is_(None),
            users.c.role.in_(ADMIN_ROLES),
        )
    ).first()
    return str(member.name) if others is None else None


def another_admin(conn: Connection, target: Actor, role: str | None = None) -> str:
    """Who can change ``target``'s own role to ``role`` (None: remove them), which they
    cannot do themselves: another admin of their member; where that would take their
    member's only admin away, nobody until another is appointed (keeps_an_admin), which is
    what they are told to do first. "another admin of your member can" sent them looking
    for one that does not exist."""
    member = None if role in ADMIN_ROLES else last_admin_of(conn, target)
    if member is None:
        return "another admin of your member can"
    return f"appoint another admin of {member} first: they can then do it"


def set_role(conn: Connection, actor: Actor, user: str, role: str) -> None:
    from commune.store import audit

    require_administer(conn, actor, user)
    grant = may_grant(actor, role)
    if not grant:
        raise grant.refusal()
    target = actor_for(conn, user)
    if not actor.at_least(target.role):
        raise Forbidden(f"{user} is {target.role}, above {actor.user}'s role")
    if target.user_id == actor.user_id and role != actor.role:
        raise CommuneError("you cannot change your own role", another_admin(conn, target, role))
    if target.user_id != actor.user_id:
        # An equal's role is a higher role's to change: lowering it, setting the password
        # of someone now below, then raising it back was acting as an equal in three steps.
        require_act_as(actor, user, target.role, target.member, "commune user set-role")
        if not above(actor, role):
            # Nor is raising someone to one's own role: a password or a key given to them
            # while they were below (allowed then) would act as an equal from then on, and a
            # reader added with a password, then raised, was an equal made in two steps.
            who = who_acts_for(role, target.member)
            raise Forbidden(
                f"making {user} {role}, as {actor.user} is, is a higher role's decision: a "
                "password or a key given to them before would act as an equal",
                f"{who} can: commune user set-role",
                field_hint=f"{who} can",
            )
    keeps_an_admin(conn, target, role)
    conn.execute(update(users).where(users.c.name == user).values(role=role))
    audit.append(conn, actor.user, "role-grant", f"user {user}", role=role)


# A removal's reason is kept in the audit log, which is hash-chained for good: a line.
MAX_REASON = 500


def check_reason(reason: str) -> None:
    """A reason kept in the audit log (a removal's, a retirement's): one line, as the log and
    the lists that show it are read a row per line; a line break there reads as two rows."""
    if len(reason) > MAX_REASON or any(unicodedata.category(ch).startswith("C") for ch in reason):
        raise InvalidRequest(
            f"a reason is one line of at most {MAX_REASON} characters",
            "say why in one short line",
        )


def removal(
    conn: Connection, actor: Actor, user: str, reason: str, *, hold: bool = False
) -> dict[str, Any]:
    """What removing ``user`` would end, checked as :func:`remove_user` checks it (the
    reason, ``actor``'s right to), nothing written: the administration page says it before
    it is done. A removal cannot be undone: the person's name stays taken (members.add_user
    refuses it again), so adding them back is a new person under a new name, with a new
    password, new keys, and their role and caps given again. A member's last admin is not
    removed (keeps_an_admin; ``hold``: from remove_user's transaction)."""
    from sqlalchemy import func

    reason = reason.strip()
    if not reason:
        raise InvalidRequest(
            "removing someone needs a reason, kept in the audit log",
            "say why, e.g. 'left the town hall in 2026'",
        )
    check_reason(reason)
    require_administer(conn, actor, user)  # another member's people: "no user named"
    target = actor_for(conn, user)
    if target.user_id == actor.user_id:
        raise CommuneError("you cannot remove yourself", another_admin(conn, target))
    keeps_an_admin(conn, target, hold=hold)
    uid = target.user_id
    row = conn.execute(
        select(
            users.c.requests_per_day,
            users.c.tokens_per_month,
            users.c.wh_per_month,
            users.c.password_hash.is_not(None).label("has_password"),
        ).where(users.c.id == uid)
    ).one()
    at = now()
    keys = conn.execute(
        select(func.count())
        .select_from(api_keys)
        .where(
            api_keys.c.user_id == uid,
            api_keys.c.revoked_at.is_(None),
            (api_keys.c.expires_at.is_(None)) | (api_keys.c.expires_at > at),
        )
    ).scalar_one()
    return {
        "user": user,
        "member": target.member,
        "role": target.role,
        # Whether ``actor`` could take away only the role instead, as set_role decides it
        # (policy.can_act_as: from a strictly higher role): the page sent a member admin
        # removing another to a role form their page does not show, which set_role refuses.
        "role_changeable": target.role != "reader" and bool(can_act_as(actor, user, target.role)),
        "has_password": bool(row.has_password),
        "keys_active": int(keys),
        "caps": {
            "requests_per_day": row.requests_per_day,
            "tokens_per_month": row.tokens_per_month,
            "wh_per_month": row.wh_per_month,
        },
    }


def remove_user(conn: Connection, actor: Actor, user: str, reason: str) -> dict[str, Any]:
    """Remove ``user`` from the cooperative: from now on they sign in with nothing, every
    key of theirs is revoked and every session ended, and nobody lists them or acts as them.

    What the cooperative's accounts and the commons rest on stays, pointing to their row:
    the ledger's rows (energy, cost), the credits and payouts they earned, the provenance
    of the revisions they contributed (the licence they chose credits them, and attribution
    is its condition), and the audit log, which records this removal with its reason.
    Their revisions still waiting for a curator stay in the queue: they were given to the
    commons under a licence, and whether they are published is the curators' call on the
    text, not a side effect of someone leaving (the count is returned and logged). The
    text of the questions they asked, where the charter keeps it, is erased: the records
    keep its SHA-256, their steps and energy, but nobody needs a departed person's words;
    the answers cached for their questions, which hold their text, are deleted.
    A request already under way when they are removed finishes. Returns what was done."""
    from commune.store import audit
    from commune.store.db import lock

    removal(conn, actor, user, reason, hold=True)  # the same checks as the page's preview
    reason = reason.strip()
    target = actor_for(conn, user)
    uid = target.user_id
    at = now()
    conn.execute(update(users).where(users.c.id == uid).values(removed_at=at, password_hash=None))
    keys = conn.execute(
        update(api_keys)
        .where(api_keys.c.user_id == uid, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=at)
    ).rowcount
    sessions = conn.execute(
        update(web_sessions)
        .where(web_sessions.c.user_id == uid, web_sessions.c.ended_at.is_(None))
        .values(ended_at=at)
    ).rowcount
    questions = conn.execute(
        update(decisions)
        .where(decisions.c.user_id == uid, decisions.c.question.is_not(None))
        .values(question=None)
    ).rowcount
    # The answer cache keeps each question's text beside its answer, under a "hash" charter
    # too, for up to the cache's lifetime: the answers cached for their questions go, after
    # their row is written above (an answer of theirs cached meanwhile waits for it, then is
    # not kept: answering/cache.py). The audit log's lock first: a retirement holds it, then
    # deletes every entry cached before it (commons/curation.retire), so a removal holding
    # this person's entries while it waited for the log was a deadlock on PostgreSQL.
    lock(conn, "audit")
    cached = conn.execute(delete(answer_cache).where(answer_cache.c.user_id == uid)).rowcount
    waiting = len(
        conn.execute(
            select(revisions.c.id).where(
                revisions.c.contributor_user_id == uid,
                revisions.c.status.in_(("proposed", "changes-requested")),
            )
        ).all()
    )
    done = {
        "user": user,
        "member": target.member,
        "role": target.role,
        "keys_revoked": keys,
        "sessions_ended": sessions,
        "questions_erased": questions,
        "cached_answers_deleted": cached,
        "revisions_waiting": waiting,
    }
    audit.append(conn, actor.user, "user-remove", f"user {user}", reason=reason, **done)
    return done


def was_removed(conn: Connection, user_id: int) -> bool:
    """Whether the person ``user_id`` was removed (or never was), read under the lock their
    removal's write of their row takes (:func:`remove_user`): on SQLite its one write lock,
    taken here unless the transaction holds it already; on PostgreSQL the row's, which FOR
    SHARE waits for while a removal is under way, then reads it removed, or, read first,
    holds the removal back until the reader's transaction ends, for its erasure to take what
    that transaction wrote. What a request under way writes after its asker's removal (its
    cached answer, its decision record) asks here first, so as to keep no question text."""
    from commune.store.db import lock

    if conn.dialect.name == "sqlite":
        lock(conn, "quota")
    row = conn.execute(
        select(users.c.removed_at).where(users.c.id == user_id).with_for_update(read=True)
    ).first()
    return row is None or row.removed_at is not None


def people(conn: Connection, actor: Actor) -> list[dict[str, Any]]:
    """The users ``actor`` administers: every one for cooperative admins, their member's
    for member admins, none otherwise."""
    from commune.govern.members import list_users

    if not actor.at_least("member-admin"):
        return []
    if actor.is_operator or actor.at_least("cooperative-admin"):
        return list_users(conn)
    return list_users(conn, actor.member)


def managed(conn: Connection, actor: Actor) -> list[dict[str, Any]]:
    """The people whose keys ``actor`` manages: those they administer whose role is not
    above theirs (require_administer refuses the others: a member admin's page listed their
    cooperative admin's keys, each with a Revoke button that answered "no active key")."""
    return [p for p in people(conn, actor) if actor.at_least(p["role"])]


def _may_manage_keys_of(conn: Connection, actor: Actor, user: str) -> None:
    if user != actor.user:  # one's own keys are one's own business
        require_administer(conn, actor, user)


def require_credentials(conn: Connection, actor: Actor, user: str) -> None:
    """Refuse unless ``actor`` may give ``user`` a key or a password: oneself, or someone of
    one's own member one administers (policy.can_give_credentials says why not) whose role
    is strictly below one's own (policy.can_act_as). Revoking stays open to whoever
    administers them: it takes access away, it gives none."""
    if user == actor.user:
        return
    require_administer(conn, actor, user)
    member = _member_of(conn, user)[0]
    require_credentials_in(conn, actor, member)
    require_act_as(actor, user, actor_for(conn, user).role, member)


def require_act_as(
    actor: Actor,
    user: str,
    role: str,
    member: str | None,
    commands: str = "commune user password, commune key create",
    *,
    adding: bool = False,
) -> None:
    """Refuse unless ``actor`` may give ``user`` (of ``role``, in ``member``) what acts as
    them (policy.can_act_as), saying who may, and with which ``commands``. ``adding``: the
    person is being added with a password, which adding them without needs no one else."""
    decision = can_act_as(actor, user, role)
    if not decision:
        who = who_acts_for(role, member)
        if adding:
            # A member admin told only "a cooperative admin …, or the operator, can" read
            # adding an equal as not hers to do; it is, without the password.
            then = f"{who}, then gives them one" if "," in who else f"{who} then gives them one"
            step = f"add them without a password: {then}"
            raise Forbidden(decision.reason, step, field_hint=step)
        raise Forbidden(decision.reason, f"{who} can: {commands}", field_hint=f"{who} can")


def require_credentials_in(conn: Connection, actor: Actor, member: str) -> None:
    """Refuse unless ``actor`` may give a person of ``member`` a key or a password."""
    mid = member_id(conn, member)
    decision = can_give_credentials(actor, mid, member)
    if not decision:
        admins = conn.execute(
            select(users.c.id).where(
                users.c.member_id == mid,
                users.c.role.in_(("member-admin", "cooperative-admin")),
                users.c.removed_at.is_(None),
            )
        ).first()
        if admins is None:
            # A member just added has nobody to give its people credentials but the operator:
            # "the admins of Ville D" named people who do not exist yet.
            raise Forbidden(
                decision.reason,
                f"{member} has no admin yet: the operator gives its first one a password or a "
                "key (commune user password, commune key create)",
                field_hint=f"{member} has no admin yet: ask the operator to give its first one "
                "a password or a key",
            )
        raise Forbidden(
            decision.reason,
            f"the admins of {member} give them one, or the operator: commune key create, "
            "commune user password",
            field_hint=f"the admins of {member} give them one, or the operator",
        )


def create_key_for(
    conn: Connection,
    actor: Actor,
    user: str,
    label: str = "",
    expires_days: int | None = None,
    most: int | None = None,
) -> tuple[int, str]:
    """A new key for ``user`` (oneself, or someone ``actor`` administers): shown once.
    ``most``: the active keys a person may hold (members.create_key)."""
    from commune.govern.members import create_key
    from commune.store import audit

    require_credentials(conn, actor, user)
    kid, secret = create_key(conn, user, label, expires_days, most)
    audit.append(conn, actor.user, "key-create", f"user {user}", key_id=kid, label=label)
    return kid, secret


def revoke_key_for(conn: Connection, actor: Actor, key_id: int) -> None:
    from commune.govern.members import revoke_key
    from commune.store import audit

    row = conn.execute(
        select(users.c.name)
        .select_from(api_keys.join(users))
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
    ).first()
    # The refusal says where the numbers are: a mistyped number, or one already revoked, left
    # the operator with "no active key with id 99" and nothing to do next.
    hint = "list keys with commune key list"
    if row is None:
        raise NotFound(f"no active key with id {key_id}", hint)
    try:
        _may_manage_keys_of(conn, actor, row.name)
    except (Forbidden, NotFound):
        # NotFound too: a member admin is told "no user named 'carol'" of another member's
        # person (require_administer), and counting up the key numbers listed every other
        # member's people. Another member's key reads as one that does not exist.
        raise NotFound(f"no active key with id {key_id}", hint) from None
    revoke_key(conn, key_id)
    audit.append(conn, actor.user, "key-revoke", f"user {row.name}", key_id=key_id)


def keys_visible(conn: Connection, actor: Actor) -> list[dict[str, Any]]:
    """One's own keys, and those of the people whose keys one manages (managed)."""
    from commune.govern.members import list_keys

    names = {actor.user} | {p["name"] for p in managed(conn, actor)}
    return list_keys(conn, sorted(names))
