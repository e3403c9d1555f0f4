"""Decisions with reasons: visibility of collections, roles, and what they allow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from commune.errors import Forbidden, InvalidRequest

ROLES = ("reader", "contributor", "curator", "member-admin", "cooperative-admin")
VISIBILITIES = ("private", "shared", "public")


@dataclass(frozen=True)
class Actor:
    """Who is asking. The CLI runs as the operator, who administers the host."""

    user_id: int | None
    user: str
    member_id: int | None
    member: str | None
    role: str

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"

    def at_least(self, role: str) -> bool:
        if self.is_operator:
            return True
        return ROLES.index(self.role) >= ROLES.index(role)


OPERATOR = Actor(None, "operator", None, None, "operator")


# Whom a refusal sends the asker to: who may grant what was refused, or do it for them. In
# words that name a role, never a person: the asker may not see who holds it (another
# member's admins, their names and addresses). A member's matter is its admins' (a
# collection's, its own member's); the cooperative's, its admins' or the operator's; what
# only the host does, the operator's.
ASK_MEMBER = "ask your member's admins"
ASK_OWNER = "ask the admins of the member it belongs to"
ASK_COOPERATIVE = "ask a cooperative admin or the operator"
ASK_OPERATOR = "ask the operator"
ASK_PERSONS = "ask the admins of the person's member, or the operator"
# What a cooperative admin does for their own member only (making its collection public):
# one of another member, sent there by ASK_COOPERATIVE, was refused in turn (can_share).
ASK_MEMBERS_COOPERATIVE = "ask a cooperative admin of your member, or the operator"
ASKS = (
    ASK_MEMBER,
    ASK_OWNER,
    ASK_COOPERATIVE,
    ASK_OPERATOR,
    ASK_PERSONS,
    ASK_MEMBERS_COOPERATIVE,
)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    # On a refusal, whom to ask (one of ASKS): a 403 said what was refused, not whom to ask.
    ask: str = ""

    def __bool__(self) -> bool:
        return self.allowed

    def refusal(self, hint: str | None = None, field_hint: str | None = None) -> Forbidden:
        """The refusal to raise: the reason, then ``hint`` (the next step, where the caller
        knows a better one) or whom to ask."""
        return Forbidden(self.reason, hint or self.ask or None, field_hint=field_hint)


def can_read(actor: Actor, visibility: str, owner_id: int | None, owner: str | None) -> Decision:
    """May ``actor`` read a collection? Private means private, even to cooperative admins."""
    if visibility == "public":
        return Decision(True, "the collection is public")
    if actor.is_operator:
        return Decision(True, "the operator administers this host")
    if visibility == "shared":
        return Decision(True, "the collection is shared with every member of the cooperative")
    if owner_id is not None and owner_id == actor.member_id:
        return Decision(True, f"the collection is private to {owner}, the actor's member")
    return Decision(False, f"the collection is private to {owner or 'another member'}", ASK_OWNER)


def can_curate(actor: Actor, visibility: str, owner_id: int | None, owner: str | None) -> Decision:
    """May ``actor`` (whose role allows curating) curate in a collection? A member's
    collection is curated by that member's people and the cooperative's admins; a private one
    only by its member, whose very name stays hidden from the others."""
    if actor.is_operator:
        return Decision(True, "the operator administers this host")
    if owner_id is None:
        return Decision(True, "the collection belongs to the cooperative as a whole")
    if owner_id == actor.member_id:
        return Decision(True, f"the collection belongs to {owner}, the actor's member")
    if visibility != "private" and actor.at_least("cooperative-admin"):
        return Decision(True, "cooperative admins curate every member's shared collections")
    return Decision(False, f"the collection belongs to {owner or 'another member'}", ASK_OWNER)


def can_share(actor: Actor, sharing: Sharing) -> Decision:
    """May ``actor`` (whose role allows sharing) set who reads a collection?

    A member decides who reads what it owns: its admins make its collections private or
    shared (the operator alone did, so a town that wanted its drafts shared waited for the
    host). Public (everyone with a key, and named on the public transparency page) goes
    beyond the members' own choice: a cooperative admin's decision, for their own member's or
    the cooperative's collections. Another member's collection is never anyone else's to
    open or close; a private one the actor may not read is not even seen. Handing a
    collection to a member (an owner named) stays the operator's: its first owner's people
    lose it."""
    coll = sharing.collection
    kept = _kept_as_left(sharing)
    if actor.is_operator:
        return Decision(True, "the operator administers this host") if kept is None else kept
    read = can_read(actor, coll.visibility, coll.owner_id, coll.owner)
    if not read:
        return read
    if kept is not None:
        return kept
    if sharing.owner is not None and sharing.owner != coll.owner:
        return Decision(
            False,
            f"handing collection {coll.name!r} to a member is the operator's: its owner's "
            "people would lose it",
            ASK_OPERATOR,
        )
    cooperative = actor.at_least("cooperative-admin")
    if coll.owner_id is not None and coll.owner_id == actor.member_id:
        if sharing.visibility == "public" and not cooperative:
            return Decision(
                False,
                "making a collection public (read by everyone with a key) needs a cooperative "
                f"admin; {actor.user} is {actor.role}",
                ASK_MEMBERS_COOPERATIVE,
            )
        return Decision(
            True, f"the collection belongs to {coll.owner}, which {actor.user} administers"
        )
    if coll.owner_id is None:
        if cooperative:
            return Decision(
                True, "cooperative admins decide who reads the cooperative's collections"
            )
        return Decision(
            False,
            "the collection belongs to the cooperative as a whole: its admins decide who "
            f"reads it; {actor.user} is {actor.role}",
            ASK_COOPERATIVE,
        )
    return Decision(
        False, f"the collection belongs to {coll.owner}: its admins decide who reads it", ASK_OWNER
    )


def _kept_as_left(sharing: Sharing) -> Decision | None:
    """The refusal of opening wider a collection whose owner has left the cooperative, by
    anyone, the operator included; None where that is not what is asked. Who reads a
    member's documents was its decision, and it is no longer there to take another: its
    private collections were added in confidence, its shared ones given to the members, not
    to everyone with a key (docs/cooperative.md). Closing one further stays open (a
    takedown may need it), and so does handing it to a member (``owner``), as the member
    joining again under a new name gets it back: that member's admins then decide. Handed
    over as it is, or closed further: opened in the same step, the operator decided in
    their stead, and `--member ANY --transfer` opened any departed member's collection to
    everyone with one flag. The operator, who hands its documents back, is whom to ask."""
    coll = sharing.collection
    if sharing.owner_left is None:
        return None
    if VISIBILITIES.index(sharing.visibility) <= VISIBILITIES.index(coll.visibility):
        return None
    return Decision(
        False,
        f"{coll.owner} left the cooperative on {sharing.owner_left}: nobody opens its "
        f"collection {coll.name!r} wider in its stead",
        ASK_OPERATOR,
    )


def can_give_credentials(actor: Actor, member_id: int | None, member: str | None) -> Decision:
    """May ``actor``, who administers a person of ``member``, give them a key or a password?
    Whoever holds one acts as that person and reads what they read: a cooperative admin who
    minted a key for another member's reader read that member's private collections, private
    even to cooperative admins (can_read). The person's own member's admins give them one,
    or the operator from the host."""
    if actor.is_operator:
        return Decision(True, "the operator administers this host")
    if member_id is not None and member_id == actor.member_id:
        return Decision(True, f"{actor.user} administers the people of {member}")
    return Decision(
        False,
        f"a key or a password acts as its person: {actor.user} would read the private "
        f"collections of {member or 'another member'}",
        ASK_PERSONS,
    )


def above(actor: Actor, role: str) -> bool:
    """Whether ``actor``'s role is strictly above ``role`` (the operator is above every one)."""
    return actor.is_operator or ROLES.index(actor.role) > ROLES.index(role)


def can_act_as(actor: Actor, user: str, role: str) -> Decision:
    """May ``actor`` give ``user``, whose role is ``role``, what acts as them: a password, a
    key, or a role changed (whoever lowers an equal's role may then set their password, and
    raise them back)? One's own, always; someone else's, only from a strictly higher role.
    Between equals, the one who gave it could act as the other, and what they did would be
    recorded as the other's: two member admins of a town could each become the other, and
    the audit log would no longer say which of them did what. The operator, on the host,
    is above every role."""
    if actor.is_operator:
        return Decision(True, "the operator administers this host")
    if user == actor.user:
        return Decision(True, f"{user}'s own credentials")
    if above(actor, role):
        return Decision(True, f"{actor.user} is {actor.role}, above {user}, {role}")
    return Decision(
        False,
        f"{user} is {role}, as {actor.user} is: only a higher role gives them a password or a "
        "key, or changes their role",
    )


def can_cap(actor: Actor, user: str, role: str) -> Decision:
    """May ``actor``, who administers ``user`` (of ``role``), set their caps? A cooperative
    admin (and the operator) sets anyone's they administer; anyone else only those of the
    roles below theirs. One's own caps are set from above, and an equal's alike: the town's
    two member admins each lifted the other's, and a cap a cooperative admin had posed on
    both was gone in two steps."""
    if actor.is_operator or actor.at_least("cooperative-admin"):
        return Decision(True, f"{actor.user} is {actor.role}: cooperative admins set caps")
    if user != actor.user and above(actor, role):
        return Decision(True, f"{actor.user} is {actor.role}, above {user}, {role}")
    return Decision(
        False,
        f"{user} is {role}, as {actor.user} is: their caps are set by a cooperative admin, as "
        "your own are",
        ASK_COOPERATIVE,
    )


def who_acts_for(role: str, member: str | None) -> str:
    """Who may give a person of ``role`` (of ``member``) a password or a key: the roles above
    it in their member, and the operator (can_act_as, can_give_credentials)."""
    if role == "cooperative-admin" or member is None:
        return "the operator"
    return f"a cooperative admin from {member}, or the operator"


def can_set_rules(actor: Actor, coll: Collection) -> Decision:
    """May ``actor`` (whose role allows it) set how many approvals a collection's revisions
    need, and from whom (`commune curation`)? The rules decide what is published in a
    member's name: its admins set them for its collections, the cooperative's admins for the
    cooperative's. Another member's are never anyone else's (a cooperative admin of Ville B
    lowering Ville A's rule to none would publish Ville A's waiting revisions); the operator
    sets any."""
    if actor.is_operator:
        return Decision(True, "the operator administers this host")
    if coll.owner_id is not None and coll.owner_id == actor.member_id:
        return Decision(
            True, f"the collection belongs to {coll.owner}, which {actor.user} administers"
        )
    if coll.owner_id is None:
        if actor.at_least("cooperative-admin"):
            return Decision(
                True, "cooperative admins set the curation rules of the cooperative's collections"
            )
        return Decision(
            False,
            "the collection belongs to the cooperative as a whole: its admins set its curation "
            f"rules; {actor.user} is {actor.role}",
            ASK_COOPERATIVE,
        )
    return Decision(
        False,
        f"the collection belongs to {coll.owner}: its admins set its curation rules",
        ASK_OWNER,
    )


def can_issue(actor: Actor) -> Decision:
    """May ``actor`` issue a month (its statement, its payouts: docs/cooperative.md,
    docs/payouts.md)? The operator's alone, from the host: an issue fixes for good the
    month's figures with the settings of commune.toml, the operator's file, and writes the
    entry of the audit log that the files handed out are checked against. A cooperative
    admin sees the month (`/statement`, `/payouts`) but does not issue it: a web or API face
    that called the library as them would have billed the members with settings they do not
    hold."""
    if actor.is_operator:
        return Decision(
            True, "the operator issues a month from the host, with commune.toml's settings"
        )
    return Decision(
        False,
        "issuing a month is the operator's, from the host, with commune.toml's settings; "
        f"{actor.user} is {actor.role}",
        ASK_OPERATOR,
    )


def check_role(actor: Actor, needed: str, action: str) -> Decision:
    """Whether ``actor``'s role is at least ``needed`` for ``action``. Refused, the asker is
    sent to their member's admins (who do it, or give the role: a member admin gives any up
    to curator), or, for what needs a cooperative admin, to the cooperative's."""
    if actor.at_least(needed):
        return Decision(True, f"{action} needs the role {needed}; {actor.user} is {actor.role}")
    ask = ASK_COOPERATIVE if needed == "cooperative-admin" else ASK_MEMBER
    return Decision(
        False, f"{action} needs the role {needed} or above; {actor.user} is {actor.role}", ask
    )


@dataclass(frozen=True)
class Collection:
    """A collection as permissions see it."""

    name: str
    visibility: str
    owner_id: int | None
    owner: str | None


@dataclass(frozen=True)
class Sharing:
    """Who would read a collection: ``visibility`` to set on ``collection``, and the owner
    named with it (None: the owner stays)."""

    collection: Collection
    visibility: str
    owner: str | None = None
    # The day the collection's owner left the cooperative (members.departed), if it has.
    owner_left: str | None = None


@dataclass(frozen=True)
class Member:
    """A member's records (its usage, its statement line) or people, as permissions see them."""

    name: str | None
    member_id: int | None


@dataclass(frozen=True)
class Role:
    """A role someone would be granted."""

    name: str


# The cooperative as a whole: adding members, seeing every member's records.
COOPERATIVE = Member(None, None)


# The least role each action needs; the resource then decides (a collection's visibility and
# owner, a member's own records).
ACTIONS = {
    "read": "reader",  # search, ask, list, read documents of a collection
    "contribute": "contributor",  # add documents to a collection
    "curate": "curator",  # review revisions (a collection's rules may name another role)
    "retire": "curator",
    "usage": "reader",  # a member's usage: one's own as a reader, the member's as its admin
    "administer": "member-admin",  # a member's people and their keys; the cooperative's members
    "grant": "member-admin",  # give a role (never one above one's own)
    "review": "curator",  # see what waits for curation (each collection then decides)
    "statement": "member-admin",  # a member's line of the monthly bill; every line: COOPERATIVE
    "share": "member-admin",  # a collection's visibility (Sharing: can_share decides)
    "rules": "member-admin",  # a collection's curation rules (can_set_rules decides)
    # Issuing a month (its statement, its payouts): above every role, the operator's alone
    # (can_issue decides; the role here is only the least that could ever be asked).
    "issue": "cooperative-admin",
}

# Why a document was retired, in words that say nothing of whom or what it protects: the
# category travels with the open export (commons/opendata.py) to any commons that imported
# it, where the curator's reason ("M. Dupont asked…") stays in this home's audit log.
RETIRE_CATEGORIES = ("personal-data", "rights", "error", "outdated", "other")
# The categories of a takedown: what a member's retirement does to another member's copies of
# the file (held for their own curators: commons/curation._retire_copies) and to the same file
# added later in another member's collection (held: ingest/pipeline). An "outdated" or "error"
# retirement is the retiring member's view of their own document; applied to other members,
# any curator could take a form every town hall publishes byte for byte offline across the
# cooperative. A takedown's hold is audited and undone by the copy's own curators.
TAKEDOWNS = ("personal-data", "rights")
# The takedowns whose texts are erased, not only withdrawn (store/erasure.py): a person who
# asked for erasure must not stay stored in the document's history. A "rights" takedown (a
# licence, an author's claim) withdraws a text nobody asked to forget: its history stays
# for the curators who may bring it back under another licence.
ERASURES = ("personal-data",)


# How each action reads in a refusal: "retiring a document needs the role curator or above".
WORDS = {
    "read": "reading this collection",
    "contribute": "adding documents",
    "curate": "reviewing in this collection",
    "retire": "retiring a document",
    "usage": "seeing usage",
    "administer": "administering people",
    "grant": "granting roles",
    "review": "curating",
    "statement": "seeing the statement",
    "share": "changing who reads a collection",
    "rules": "setting a collection's curation rules",
    "issue": "issuing a month",
}


def allowed(
    actor: Actor,
    action: str,
    resource: Collection | Member | Role | Sharing,
    role: str | None = None,
) -> Decision:
    """The one permission check: may ``actor`` do ``action`` on ``resource``? With why.

    Every read and write of the library, the API, the CLI's --as and MCP comes here.
    ``role``: the least role, where the resource sets its own (a collection's approver role,
    `commune curation`)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}: one of {', '.join(ACTIONS)}")
    if action == "issue":
        # Before the roles: no role issues, the cooperative admin's included.
        return can_issue(actor)
    # Every member's lines of the statement (the payouts statement among them) are the
    # cooperative's admins': a member admin refused them was told "this member is not their
    # member", and a reader that the member-admin role would do.
    least = "cooperative-admin" if resource == COOPERATIVE and action == "statement" else None
    words = WORDS[action]
    if resource == COOPERATIVE and action == "administer":
        # The cooperative itself (its members, its peers, every contributor's payout):
        # its admins'. A curator sharing a collection with a peer was told that
        # "administering people needs the role member-admin", and a member admin then
        # that it needed cooperative-admin: the role that decides, from the first refusal.
        least, words = "cooperative-admin", "administering the cooperative"
    needed = check_role(actor, role or least or ACTIONS[action], words)
    if not needed:
        return needed
    if isinstance(resource, Sharing):
        if resource.visibility not in VISIBILITIES:
            raise InvalidRequest(
                f"visibility must be one of {', '.join(VISIBILITIES)}, got {resource.visibility!r}"
            )
        return can_share(actor, resource)
    if isinstance(resource, Collection):
        read = can_read(actor, resource.visibility, resource.owner_id, resource.owner)
        if action == "read" or not read:
            return read  # nobody writes where they may not read
        if action == "contribute":
            return Decision(True, f"{read.reason}; {needed.reason}")
        if action == "rules":
            return can_set_rules(actor, resource)
        return can_curate(actor, resource.visibility, resource.owner_id, resource.owner)
    if isinstance(resource, Role):
        # Nobody grants a role above their own: a member admin cannot make a cooperative admin.
        if resource.name not in ROLES:
            raise InvalidRequest(f"role must be one of {', '.join(ROLES)}, got {resource.name!r}")
        if actor.at_least(resource.name):
            return Decision(True, f"{actor.user} is {actor.role}, at least {resource.name}")
        # Nobody but the operator makes a cooperative admin (set_role: never one's own role).
        ask = ASK_OPERATOR if resource.name == "cooperative-admin" else ASK_COOPERATIVE
        return Decision(
            False, f"granting {resource.name} needs that role; {actor.user} is {actor.role}", ask
        )
    if resource == COOPERATIVE and action in ("administer", "usage"):
        if actor.is_operator or actor.at_least("cooperative-admin"):
            return Decision(True, "cooperative admins administer the cooperative")
        return Decision(
            False,
            f"this needs the role cooperative-admin; {actor.user} is {actor.role}",
            ASK_COOPERATIVE,
        )
    if action == "review":
        return Decision(True, f"{needed.reason}; each collection's rules then decide")
    # A member's records and people.
    if actor.is_operator or actor.at_least("cooperative-admin"):
        return Decision(True, "cooperative admins see every member's records")
    if resource.member_id is None or resource.member_id != actor.member_id:
        # Another member's records: the cooperative's admins see every member's.
        return Decision(
            False,
            f"{resource.name or 'this member'} is not {actor.user}'s member",
            ASK_COOPERATIVE,
        )
    if actor.at_least("member-admin"):
        return Decision(True, f"{actor.user} administers {resource.name}")
    return Decision(True, f"{actor.user} sees their own records of {resource.name}")


def require(
    actor: Actor,
    action: str,
    resource: Collection | Member | Role | Sharing,
    hint: str | None = None,
) -> None:
    """Forbidden, with the policy's reason and ``hint`` (the next step, where there is one;
    else whom to ask), unless :func:`allowed` lets ``actor`` do ``action`` on ``resource``."""
    decision = allowed(actor, action, resource)
    if not decision:
        raise decision.refusal(hint)


def collection(row: Mapping[str, Any]) -> Collection:
    """From a `repository.collection_access` row."""
    return Collection(row["name"], row["visibility"], row["member_id"], row["owner"])
