"""The cooperative's administration, one service for every face: members, people, roles,
passwords and keys.

The CLI and the web application change these only through :class:`Admin`. Each action asks
``policy.allowed`` (with its reason), then writes its change and its audit row in one
transaction, so the same action leaves the same trace whichever face called it. The CLI acts
as the operator unless given ``--as USER``; the web acts as the person signed in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from commune.errors import CommuneError, Forbidden, InvalidRequest, NotFound
from commune.govern import accounts, members
from commune.govern.policy import (
    COOPERATIVE,
    OPERATOR,
    Actor,
    Member,
    Role,
    allowed,
    can_act_as,
    can_cap,
    can_give_credentials,
    require,
)
from commune.store import audit
from commune.store.schema import members as member_rows
from commune.store.schema import users


class Admin:
    """Administration of one home's cooperative."""

    def __init__(self, engine: Engine, max_keys_per_user: int | None = None) -> None:
        self.engine = engine
        # [limits] max_keys_per_user: the active keys one person may hold (members.create_key
        # says why); None, no cap.
        self.max_keys_per_user = max_keys_per_user

    # -- members ---------------------------------------------------------------------------
    def members(self, actor: Actor = OPERATOR) -> list[dict[str, Any]]:
        """The members ``actor`` may see: all for cooperative admins, else their own."""
        with self.engine.connect() as conn:
            rows = members.list_members(conn)
        if allowed(actor, "administer", COOPERATIVE):
            return rows
        return [m for m in rows if m["name"] == actor.member]

    def add_member(
        self,
        name: str,
        *,
        actor: Actor = OPERATOR,
        kind: str = "other",
        declared_use: str = "non-commercial",
        requests_per_day: int | None = None,
        tokens_per_month: int | None = None,
        wh_per_month: float | None = None,
    ) -> int:
        if kind == members.PEER_KIND:
            # A peer is another cooperative, with a key for the /peer/ routes and nothing else:
            # added as an ordinary member, it could be given people who sign in to the web.
            raise InvalidRequest(
                f"kind must be one of {', '.join(members.KINDS)}, got {kind!r}",
                "another cooperative is added with commune peer issue NAME",
            )
        return self._add_member(
            name,
            actor=actor,
            kind=kind,
            declared_use=declared_use,
            requests_per_day=requests_per_day,
            tokens_per_month=tokens_per_month,
            wh_per_month=wh_per_month,
        )

    def _add_member(
        self,
        name: str,
        *,
        actor: Actor,
        kind: str,
        declared_use: str,
        requests_per_day: int | None,
        tokens_per_month: int | None,
        wh_per_month: float | None,
    ) -> int:
        require(actor, "administer", COOPERATIVE)
        with self.engine.begin() as conn:
            mid = members.add_member(
                conn,
                name.strip(),
                kind,
                requests_per_day,
                tokens_per_month,
                wh_per_month,
                declared_use,
            )
            audit.append(
                conn,
                actor.user,
                "member-add",
                f"member {name.strip()}",
                kind=kind,
                declared_use=declared_use,
            )
        return mid

    def set_member_quotas(
        self, name: str, quotas: dict[str, float | None], *, actor: Actor = OPERATOR
    ) -> dict[str, Any]:
        """Change the quotas of member ``name`` named in ``quotas`` (None: no limit; the
        others stay), as `add_member` checks them; audited with what they were. Only a
        cooperative admin may: a member admin would raise its own. Returns the member."""
        require(actor, "administer", COOPERATIVE)
        with self.engine.begin() as conn:
            before = members.set_member_quotas(conn, name, quotas)
            audit.append(
                conn,
                actor.user,
                "member-quotas",
                f"member {name}",
                before=before,
                after=quotas,
            )
            return next(m for m in members.list_members(conn) if m["name"] == name)

    def leave(
        self,
        name: str,
        at: datetime | None = None,
        *,
        reason: str = "",
        actor: Actor = OPERATOR,
    ) -> dict[str, Any]:
        """Record that member ``name`` leaves the cooperative at ``at`` (None: at the end of
        the month under way), or move a departure not yet in effect (members.leave says what
        a departure does and what it is refused for). A cooperative admin's decision, as
        adding a member is: a member's own admin could otherwise stop its share of the
        cost. Audited with its reason and the date it replaces. Returns what was done."""
        require(actor, "administer", COOPERATIVE)
        reason = reason.strip()
        if reason:
            accounts.check_reason(reason)
        with self.engine.begin() as conn:
            done = members.leave(conn, name, at)
            audit.append(conn, actor.user, "member-leave", f"member {name}", reason=reason, **done)
        return done

    def stay(self, name: str, *, reason: str = "", actor: Actor = OPERATOR) -> dict[str, Any]:
        """Undo member ``name``'s departure before it takes effect (members.stay), audited
        with the date undone and its reason. Returns what was done."""
        require(actor, "administer", COOPERATIVE)
        reason = reason.strip()
        if reason:
            accounts.check_reason(reason)
        with self.engine.begin() as conn:
            done = members.stay(conn, name)
            audit.append(conn, actor.user, "member-stay", f"member {name}", reason=reason, **done)
        return done

    def set_user_quotas(
        self, user: str, quotas: dict[str, float | None], *, actor: Actor = OPERATOR
    ) -> dict[str, Any]:
        """Change ``user``'s caps inside their member's pool (None: no cap; the others
        stay), audited with what they were. Their member's admin may: a person's caps were
        set once, at `user add`, and nobody could lower a heavy user's afterwards. A cap
        never lifts the member's own quotas, which every request meets too. Returns the
        user as `people` lists them."""
        with self.engine.begin() as conn:
            accounts.require_administer(conn, actor, user)
            if user == actor.user and not (
                actor.is_operator or actor.at_least("cooperative-admin")
            ):
                # A cap one holds was set by someone above (a cooperative admin): its holder
                # cleared it as easily as anyone they administer.
                raise Forbidden(
                    "your own caps are set by a cooperative admin",
                    "ask one of them to change them",
                )
            capped = can_cap(actor, user, members.actor_for(conn, user).role)
            if user != actor.user and not capped:
                raise capped.refusal()
            before = members.set_user_quotas(conn, user, quotas)
            audit.append(
                conn, actor.user, "user-quotas", f"user {user}", before=before, after=quotas
            )
            return next(u for u in members.list_users(conn) if u["name"] == user)

    # -- people ------------------------------------------------------------------------------
    def people(self, actor: Actor = OPERATOR, member: str | None = None) -> list[dict[str, Any]]:
        """The users ``actor`` administers (of ``member`` only, when given)."""
        with self.engine.connect() as conn:
            # An unknown member is named, not listed as having nobody; the hint names no
            # other member (a member admin sees its own only). Another member's name is
            # answered alike for whoever may not administer it: an empty list for a member
            # that exists and this error for one that does not told a member admin which
            # names the cooperative's other members have.
            unknown = member is not None and (
                conn.execute(select(member_rows.c.id).where(member_rows.c.name == member)).first()
                is None
            )
            hidden = (
                member is not None
                and member != actor.member
                and not allowed(actor, "administer", COOPERATIVE)
            )
            if unknown or hidden:
                raise NotFound(
                    f"no member named {member!r}",
                    "list them with commune member list",
                    field_hint="check the member's name",
                )
            rows = accounts.people(conn, actor)
        return [r for r in rows if member is None or r["member"] == member]

    def keyable(self, actor: Actor = OPERATOR) -> list[dict[str, Any]]:
        """The people ``actor`` administers and may give a key or a password: those of their
        own member (policy.can_give_credentials) whose role is below theirs, or themselves
        (policy.can_act_as), so that the administration page's key form offers no one it
        would refuse."""
        with self.engine.connect() as conn:
            rows = accounts.managed(conn, actor)
            ids = {r["member"]: members.member_id(conn, r["member"]) for r in rows}
        return [
            r
            for r in rows
            if can_give_credentials(actor, ids[r["member"]], r["member"])
            and can_act_as(actor, r["name"], r["role"])
        ]

    def add_user(
        self,
        name: str,
        member: str,
        *,
        actor: Actor = OPERATOR,
        role: str = "reader",
        password: str | None = None,
        requests_per_day: int | None = None,
        tokens_per_month: int | None = None,
        wh_per_month: float | None = None,
    ) -> int:
        """A new user of ``member`` with ``role`` (and its password, if given)."""
        with self.engine.begin() as conn:
            self._may_administer_member(conn, actor, member)
            require(actor, "grant", Role(role))
            if password is not None:
                # A password made here is one its maker knows: the person's own member's.
                accounts.require_credentials_in(conn, actor, member)
                # and one of a role below theirs: an equal made with a password its maker
                # knows is one they can act as (policy.can_act_as).
                accounts.require_act_as(actor, name.strip(), role, member, adding=True)
                accounts.check_password_strength(password)  # before anything is written
            uid = members.add_user(
                conn,
                name.strip(),
                member,
                role,
                requests_per_day,
                tokens_per_month,
                wh_per_month,
                by=actor.user,
            )
            if password is not None:
                accounts.set_password(conn, name.strip(), password, by=actor.user)
        return uid

    def set_role(self, user: str, role: str, *, actor: Actor = OPERATOR) -> None:
        with self.engine.begin() as conn:
            accounts.set_role(conn, actor, user, role)

    def may_set_password(self, user: str, *, actor: Actor = OPERATOR) -> None:
        """Refuse (Forbidden, NotFound) unless ``actor`` may set ``user``'s password, the
        check set_password makes: a face asks it before prompting, so that nobody types a
        new password twice only to be told they could not set it."""
        with self.engine.connect() as conn:
            accounts.require_credentials(conn, actor, user)

    def set_password(
        self,
        user: str,
        password: str,
        *,
        actor: Actor = OPERATOR,
        keep_keys: bool = False,
        actor_password: str | None = None,
    ) -> int:
        """Set ``user``'s password: oneself, or someone ``actor`` administers. Their sessions
        end, and their keys are revoked unless ``keep_keys``. Returns the keys revoked.
        ``actor_password``: the acting person's own, which the web and the API ask again
        before a reset, as before a key (accounts.confirm: a session or a key stolen alone
        would otherwise give its thief the accounts of everyone its holder administers);
        the CLI's operator is on the host, and asks none. With it, never one's own: that is
        changed with the current password (change_password).

        A password is reset, above all, when someone else may know it or holds a session of
        theirs: a key made with it (on the web, where a stolen session made keys without
        the password until re-authentication was asked) outlived the reset, and opened the
        API as them the day after. Revoking them all is the safe default; the person makes
        new ones once signed in. ``keep_keys`` is for a reset that is no such thing (a
        password forgotten, or a first one for someone who has only used keys)."""
        if actor_password is not None and user == actor.user:
            # One's own is changed with the current password (change_password, /account),
            # never reset: accounts.confirm takes a key from someone who has no password, so
            # a key-only reader (or a key stolen from one) set the account's first password
            # here, which /account refuses without one, and the password outlived the key.
            raise InvalidRequest(
                "your own password is changed with your current one, not reset",
                "change it on your account page, /account",
            )
        with self.engine.begin() as conn:
            if actor_password is not None:
                accounts.confirm(conn, actor, actor_password)
            accounts.require_credentials(conn, actor, user)
            return accounts.set_password(
                conn, user, password, by=actor.user, revoke_keys=not keep_keys
            )

    def removal(self, user: str, reason: str, *, actor: Actor = OPERATOR) -> dict[str, Any]:
        """What removing ``user`` would end (accounts.removal), checked as removing is,
        nothing written: asked before the removal, which cannot be undone."""
        with self.engine.connect() as conn:
            return accounts.removal(conn, actor, user.strip(), reason)

    def remove_user(self, user: str, reason: str, *, actor: Actor = OPERATOR) -> dict[str, Any]:
        """Remove ``user`` from the cooperative (accounts.remove_user: what ends, what
        stays), as their member's admin or a cooperative admin, with the reason the audit
        log keeps. Returns what was done: keys revoked, sessions ended, and the like."""
        from commune.store.db import scrub

        with self.engine.begin() as conn:
            done = accounts.remove_user(conn, actor, user.strip(), reason)
        scrub(self.engine)  # their erased questions, out of the write-ahead log too
        return done

    def change_password(
        self, actor: Actor, current: str, new: str, *, revoke_keys: bool = False
    ) -> int:
        """One's own password, proven by the current one (members.AuthError otherwise); with
        ``revoke_keys``, one's keys revoked too (set_password says why one would). Returns
        the keys revoked."""
        with self.engine.begin() as conn:
            accounts.sign_in(conn, actor.user, current)
            return accounts.set_password(
                conn, actor.user, new, by=actor.user, revoke_keys=revoke_keys
            )

    def sign_in(self, user: str, password: str) -> Actor:
        with self.engine.begin() as conn:  # begin: an outdated hash is upgraded on the way
            return accounts.sign_in(conn, user, password)

    def actor(self, user: str) -> Actor:
        """Who ``user`` is (their member and role), for acting as them."""
        with self.engine.connect() as conn:
            return members.acting_as(conn, user)

    def grantable(self, actor: Actor) -> list[str]:
        from commune.govern.policy import ROLES

        return [r for r in ROLES if allowed(actor, "grant", Role(r))]

    # -- keys ----------------------------------------------------------------------------------
    def keys(self, actor: Actor = OPERATOR) -> list[dict[str, Any]]:
        """One's own keys and those of the people one administers (every key, as operator)."""
        with self.engine.connect() as conn:
            if actor.is_operator:
                return members.list_keys(conn)
            return accounts.keys_visible(conn, actor)

    def create_key(
        self,
        user: str,
        *,
        actor: Actor = OPERATOR,
        label: str = "",
        expires_days: int | None = None,
        password: str | None = None,
    ) -> tuple[int, str]:
        """A new key for ``user``: (its id, the key), shown this once. ``password``: the
        acting person's current one, which the web asks again before making a key
        (accounts.confirm says why); the CLI's operator is on the host, and asks none."""
        with self.engine.begin() as conn:
            if password is not None:
                accounts.confirm(conn, actor, password)
            return accounts.create_key_for(
                conn, actor, user, label.strip(), expires_days, self.max_keys_per_user
            )

    def revoke_key(self, key_id: int, *, actor: Actor = OPERATOR) -> None:
        with self.engine.begin() as conn:
            accounts.revoke_key_for(conn, actor, key_id)

    # -- peers (docs/peering.md) --------------------------------------------------------------
    def issue_peer(
        self,
        name: str,
        *,
        actor: Actor = OPERATOR,
        declared_use: str | None = None,
        requests_per_day: int | None = None,
        tokens_per_month: int | None = None,
        wh_per_month: float | None = None,
    ) -> tuple[int, str]:
        """A key for another cooperative: a member of kind ``peer`` (its quotas and ledger
        rows its own; declared use non-commercial unless told), one user of the same name,
        and its key, shown this once. Issued again for a known peer, it is a new key beside
        the others (revoke the old one by its id); its declared use and quotas stay as they
        are, and other values for them are refused rather than dropped in silence.

        Everything is checked before anything is written: a refused name leaves no member."""
        name = name.strip()
        quotas: dict[str, Any] = {
            "requests_per_day": requests_per_day,
            "tokens_per_month": tokens_per_month,
            "wh_per_month": wh_per_month,
        }
        with self.engine.connect() as conn:
            known = {m["name"]: m for m in members.list_members(conn)}
            owner = conn.execute(
                select(member_rows.c.name)
                .select_from(users.join(member_rows, member_rows.c.id == users.c.member_id))
                .where(users.c.name == name)
            ).scalar()
        member = known.get(name)
        if member is not None and member["kind"] != members.PEER_KIND:
            raise CommuneError(
                f"member {name!r} is a {member['kind']}, not a peer", "give the peer another name"
            )
        if owner is not None and owner != name:
            # The key would be that user's, with its member's access: never hand it to a peer.
            raise CommuneError(
                f"user {name!r} belongs to member {owner!r}, not to the peer",
                "give the peer another name",
            )
        if member is not None:
            asked = {k: v for k, v in quotas.items() if v is not None}
            if declared_use is not None:
                asked["declared_use"] = declared_use
            if any(member[k] != v for k, v in asked.items()):
                raise CommuneError(
                    f"peer {name!r} already exists: issuing again makes a new key, and keeps "
                    "its declared use and quotas",
                    "issue again without --declared-use and the quota options",
                )
        else:
            self._add_member(
                name,
                actor=actor,
                kind=members.PEER_KIND,
                declared_use=declared_use or "non-commercial",
                requests_per_day=requests_per_day,
                tokens_per_month=tokens_per_month,
                wh_per_month=wh_per_month,
            )
        if owner is None:
            self.add_user(name, name, actor=actor, role="reader")
        return self.create_key(name, actor=actor, label=f"peer {name}")

    # -- helpers -------------------------------------------------------------------------------
    def _may_administer_member(self, conn: Connection, actor: Actor, member: str) -> None:
        try:
            mid: int | None = members.member_id(conn, member)
        except NotFound:
            mid = None
        decision = allowed(actor, "administer", Member(member, mid))
        if not decision or mid is None:
            # Another member's name stays hidden: the same answer as an unknown one.
            if mid is None or actor.at_least("member-admin"):
                raise NotFound(
                    f"no member named {member!r}",
                    "list them with commune member list",
                    field_hint="check the member's name",
                )
            raise decision.refusal()

    def user_exists(self, name: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(users.c.id).where(users.c.name == name)).first() is not None


__all__ = ["Admin", "CommuneError"]
