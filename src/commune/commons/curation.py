"""Curation: a revision is proposed, reviewed with reasons, then published or not.

Only published revisions are retrieved. A revision is published on arrival
only when its licence is known, did not change, and its collection asks for no
approval; otherwise it waits, and the reason says what for.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, func, insert, select, update

from commune.errors import CommuneError, Forbidden, InvalidRequest, NotFound
from commune.govern.accounts import check_reason
from commune.govern.licences import (
    TextMissing,
    check_texts,
    normalise,
    terms_for_use,
    terms_of,
)
from commune.govern.policy import (
    ERASURES,
    RETIRE_CATEGORIES,
    ROLES,
    TAKEDOWNS,
    Actor,
    Decision,
)
from commune.ingest.pipeline import OTHER_MEMBERS, for_contributor
from commune.store import audit, erasure
from commune.store import repository as repo
from commune.store.schema import (
    answer_cache,
    audit_log,
    chunks,
    collections,
    documents,
    reviews,
    revisions,
)

DECISIONS = ("approve", "reject", "request-changes")
# A retired document stays retired until a curator decides otherwise: a revision of it, added
# later or waiting since before, is held with this reason, and approving it brings the
# document back (audited as "reinstate"). Retiring may answer a takedown request: a file added
# again must not undo it in silence.
RETIRED_HOLD = "the document was retired: approving this revision brings it back"
# A revision that arrived while its document was retired, in a collection publishing on
# arrival, once the document is reinstated (reinstate): it waits still, a reviewer deciding.
REINSTATED_HOLD = (
    "sent while the document was retired, since reinstated: approving this revision publishes it"
)
# The same file sent again (an "unchanged" upload) of a retired document, nothing waiting.
RETIRED_UNCHANGED = (
    "a curator retired this document: the commons no longer cites it, and the same file sent "
    "again does not bring it back (send a corrected file: a reviewer of the collection will "
    "review it)"
)
# A document an imported dataset's publisher retired, whose text here is this home's own (a
# revision added since the import): retired here too, its text held for a curator rather
# than kept published (it may still hold what the takedown was for) or dropped (it is this
# home's work). Approving it brings the document back with that text.
UPSTREAM_HOLD = (
    "the dataset's publisher retired this document, and its text here is this home's own: "
    "approving this revision brings it back"
)


# The most approvals a collection may ask for. Each is a distinct person's (the member's
# curators, the cooperative's admins; review() counts reviewers, not reviews), and no town
# hall or association has a document signed off by more than a few: two is "four eyes", a
# council's committee a handful. A larger number is a slip (--approvals 1000 for 1) that
# would hold every contribution for good, unseen until someone wonders why nothing is
# published. Not the number of reviewers the collection has today: a member admin sets the
# rule before naming its curators, and people come and go.
MAX_APPROVALS = 10


@dataclass(frozen=True)
class Rules:
    approvals_required: int
    approver_role: str


def rules(conn: Connection, coll_id: int, hold: bool = False) -> Rules:
    """The collection's rules; ``hold``: kept as read until the transaction ends (a shared
    lock on its row, PostgreSQL; SQLite's write lock holds everything already)."""
    query = select(collections.c.approvals_required, collections.c.approver_role).where(
        collections.c.id == coll_id
    )
    row = conn.execute(query.with_for_update(read=True) if hold else query).one()
    return Rules(int(row.approvals_required), row.approver_role)


@dataclass(frozen=True)
class RulesSet:
    """What setting a collection's rules did: how many waiting revisions they published, and
    why ``actor`` might set them (the policy's reason, which the audit row keeps too). True
    when they published any."""

    released: int
    reason: str
    role: str = "curator"  # the least role that approves now: the one kept when none was given

    def __bool__(self) -> bool:
        # True when the rules published something, as the count they replaced said
        # (set_curation_rules returned it): a dataclass is always true, and a caller's
        # `if commune.set_curation_rules(...)` (refresh what readers search) always ran.
        return self.released > 0


def set_rules(
    conn: Connection, collection: str, approvals: int, role: str | None, actor: Actor
) -> RulesSet:
    """Set ``collection``'s rules as ``actor``: its member's admins, the cooperative's admins
    for the cooperative's collections, the operator for any (policy.can_set_rules). The
    library checks it whichever face calls: it checked nothing, and only the operator's CLI
    reached it. ``role`` None keeps the approvers named before."""
    from commune.commons.governed import governed_collection
    from commune.govern.policy import allowed
    from commune.govern.policy import collection as access

    if approvals < 0:
        raise InvalidRequest(f"approvals must be 0 or more, got {approvals}")
    if approvals > MAX_APPROVALS:
        raise InvalidRequest(
            f"approvals must be at most {MAX_APPROVALS}, got {approvals}",
            "each is a distinct reviewer's, and a revision waits for all of them: ask for fewer",
        )
    if role is not None and role not in ROLES:
        raise InvalidRequest(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    row = governed_collection(conn, collection, actor, "rules")
    decision = allowed(actor, "rules", access(row))
    if not decision:
        raise decision.refusal()
    cid = int(row["id"])
    named = rules(conn, cid).approver_role
    if role is None:
        # Only the number changes: `commune curation X --approvals 1` put the approvers back
        # to curators, undoing the cooperative admins someone above had named, unasked.
        role = named or "curator"
    if not actor.at_least(role) and role != named:
        # Naming the approvers gives them the say over what is published in the member's
        # name, as a role gives its powers, and nobody grants a role above their own
        # (policy.allowed): a member admin who named cooperative admins handed their member's
        # shared collection to the cooperative admins of every member (policy.can_curate),
        # and could no longer approve in it themselves. Approvers named by someone above
        # (the operator) stay as they are when only the number of approvals changes.
        raise Forbidden(
            f"approvers of role {role} would be above {actor.user}'s own role, {actor.role}",
            f"name {actor.role} or a role below it",
        )
    _hold_waiting(conn, cid)
    conn.execute(
        update(collections)
        .where(collections.c.id == cid)
        .values(approvals_required=approvals, approver_role=role)
    )
    audit.append(
        conn,
        actor.user,
        "curation-rules",
        f"collection {collection}",
        approvals_required=approvals,
        approver_role=role,
        reason=decision.reason,
    )
    return RulesSet(_release(conn, cid, Rules(approvals, role), actor), decision.reason, role)


def rules_offered(conn: Connection, actor: Actor) -> list[dict[str, Any]]:
    """The collections whose curation rules ``actor`` may set (policy.can_set_rules), each
    with its rules now: what the administration page offers, so that it never offers what
    :func:`set_rules` refuses. Member admins mostly use the pages: rules the CLI alone set
    were ones they had to ask the operator for."""
    from commune.govern.policy import allowed
    from commune.govern.policy import collection as access
    from commune.store.schema import members

    query = (
        select(
            collections.c.name,
            collections.c.visibility,
            collections.c.member_id,
            members.c.name.label("owner"),
            collections.c.approvals_required,
            collections.c.approver_role,
        )
        .select_from(collections.outerjoin(members))
        .order_by(collections.c.name)
    )
    return [
        {
            "name": row["name"],
            "owner": row["owner"],
            "approvals": int(row["approvals_required"] or 0),
            "role": row["approver_role"] or "curator",
        }
        for row in (dict(r._mapping) for r in conn.execute(query))
        if allowed(actor, "rules", access(row))
    ]


def _hold_waiting(conn: Connection, coll_id: int) -> None:
    """Hold the collection's waiting revisions as a review holds the one it decides, before
    this transaction takes the audit log's lock: on PostgreSQL a curator's rejection and
    the rules lowered at once deadlocked (one failed), or the release published what the
    curator was rejecting. In id order, so that two changes of rules never wait for each
    other; a review holds one revision only."""
    _hold_proposed(conn, documents.c.collection_id == coll_id)


def _hold_proposed(conn: Connection, where: ColumnElement[bool]) -> None:
    """Hold the waiting revisions of the documents ``where`` selects, in id order."""
    from commune.store.db import lock

    waiting = conn.execute(
        select(revisions.c.id)
        .join(documents, documents.c.id == revisions.c.document_id)
        .where(where, revisions.c.status == "proposed")
        .order_by(revisions.c.id)
    ).scalars()
    for revision_id in waiting.all():
        lock(conn, "document", f"revision {revision_id}")


def _release(conn: Connection, coll_id: int, new: Rules, actor: Actor) -> int:
    """Publish what the collection's new rules no longer hold: a revision with the approvals
    now asked (2 of 3, the rule lowered to 2) waited for an approval nobody was asked to give
    any more, and one held only for approvals (none asked now) waited for a curator's
    decision the rules no longer call for. What waits for anything else (a licence, a retired
    document, a newer text published) still waits. Newest first: a document's older waiting
    revisions become outdated when its newer one is published."""
    waiting = conn.execute(
        select(revisions, documents.c.status.label("document_status"))
        .select_from(revisions.join(documents, revisions.c.document_id == documents.c.id))
        .where(documents.c.collection_id == coll_id, revisions.c.status == "proposed")
        .order_by(revisions.c.id.desc())
    ).all()
    released = 0
    why = "{n} approval(s): the collection now asks for " + str(new.approvals_required)
    for rev in waiting:
        still = conn.execute(select(revisions.c.status).where(revisions.c.id == rev.id))
        doc = conn.execute(select(documents).where(documents.c.id == rev.document_id)).one()
        if still.scalar_one() != "proposed" or rev.document_status == "retired":
            continue  # a retired document comes back only by a curator's decision (review)
        if _newer_published(conn, doc, rev.number) is not None:
            continue
        # Its newer upload still waits for something (a licence): publishing this one would
        # put out the text that upload replaces, as an approval would (review). It is not
        # published, but its reason still says the new rules' numbers, as any other's.
        held = _newer_waiting(conn, rev) is not None
        approvals = _approvals(conn, rev.id)
        if approvals:
            decision = approved(approvals, rev.licence, new)
            if decision and not held:
                publish(conn, rev.id, actor.user, why.format(n=approvals))
                released += 1
            elif terms_for_use(rev.licence) is not None:
                # What it waits for, in the new rules' numbers ("1 of 1": enough, and held
                # by its newer upload, which the refusal of an approval names).
                count = f"{approvals} of {max(1, new.approvals_required)} approvals"
                conn.execute(
                    update(revisions)
                    .where(revisions.c.id == rev.id)
                    .values(
                        hold_reason=_counted(
                            count if decision else decision.reason, rev.hold_reason
                        )
                    )
                )
        elif (
            not held
            and new.approvals_required == 0
            and _APPROVALS_HOLD.fullmatch(rev.hold_reason or "")
        ):
            # Held for approvals alone (not for a licence, nor a file a reader doubts), and
            # the rule asks for none any more: no curator's decision is called for.
            if _replaces_another_members(conn, doc, rev):
                # Except to replace another member's published text, which arrival holds
                # when no approval is asked (ingest/pipeline.OTHER_MEMBERS): Ville B's upload
                # over Ville A's document replaced it, unseen by any curator, once the rule
                # was lowered. It waits for that decision now, and says so.
                conn.execute(
                    update(revisions)
                    .where(revisions.c.id == rev.id)
                    .values(hold_reason=OTHER_MEMBERS)
                )
                continue
            publish(conn, rev.id, actor.user, why.format(n=0))
            released += 1
        elif _APPROVALS_HOLD.fullmatch(rev.hold_reason or ""):
            # Still held for approvals, under other numbers: the reason says the rules now
            # asked. A rule raised from 2 to 3 left "needs 2 approval(s)" on revisions nobody
            # had approved yet, and their curators stopped one approval short.
            conn.execute(
                update(revisions)
                .where(revisions.c.id == rev.id)
                .values(
                    hold_reason=re.sub(_APPROVALS, needs_approvals(new), rev.hold_reason, count=1)
                )
            )
        elif rev.hold_reason:
            # Held for something else (a licence changed, none given): the reason says the
            # approvals now asked too, or no longer. Raised to 2, a revision held for its
            # licence said only that until its first approval, and its curators took one
            # approval to be enough. One approval is what such a hold asks anyway (approved:
            # a curator decides), so a rule of 0 or 1 leaves the first reason alone.
            first = re.sub(f"^{_APPROVALS}; ", "", rev.hold_reason)
            both = f"{needs_approvals(new)}; {first}" if new.approvals_required > 1 else first
            if both != rev.hold_reason:
                conn.execute(
                    update(revisions).where(revisions.c.id == rev.id).values(hold_reason=both)
                )
    return released


def _replaces_another_members(conn: Connection, doc: Any, rev: Any) -> bool:
    """Whether a user's revision would replace a published one another member's user (or the
    operator) contributed, as ingest/pipeline judges it on arrival."""
    if rev.contributor_user_id is None or doc.published_revision_id is None:
        return False  # the operator's own, or nothing published
    return _rival(rev.contributor_member_id, repo.published_member(conn, doc))


def needs_approvals(rules: Rules) -> str:
    """Why a revision whose licence is in order waits, under ``rules``: on arrival, and
    again in the numbers of rules changed since (_release)."""
    return (
        f"the collection needs {rules.approvals_required} approval(s) "
        f"by a {rules.approver_role} or above"
    )


# on_arrival's reason for holding a revision whose licence is in order (needs_approvals); and
# with it, that the revision replaces another member's published text
# (ingest/pipeline.OTHER_MEMBERS).
_APPROVALS = r"the collection needs \d+ approval\(s\) by a [\w-]+ or above"
_APPROVALS_HOLD = re.compile(f"{_APPROVALS}(?:; {re.escape(OTHER_MEMBERS)})?")
# approved()'s count of a revision still waiting for approvals, and what it was held for first.
_COUNTED = re.compile(r"\d+ of \d+ approvals")
_FIRST = "; held first because "


def _counted(count: str, stored: str | None) -> str:
    """Why a revision approved, and not yet enough, still waits: ``count`` ("1 of 2
    approvals"), and what it was held for first, unless that was approvals alone. The count
    alone replaced the first reason ("the licence changed ...", "the published revision was
    contributed by another member ...", a retired file's copy), and the second curator of a
    four-eyes rule approved without being told of it."""
    # What it was held for beside the approvals asked (another member's text replaced).
    first = re.sub(f"^{_APPROVALS}; ", "", (stored or "").split(_FIRST, 1)[-1])
    if not first or _APPROVALS_HOLD.fullmatch(first) or _COUNTED.fullmatch(first):
        return count
    return f"{count}{_FIRST}{first}"


def _approvals(conn: Connection, revision_id: int) -> int:
    """How many distinct reviewers approved the revision."""
    return int(
        conn.execute(
            select(func.count(func.distinct(reviews.c.reviewer))).where(
                and_(reviews.c.revision_id == revision_id, reviews.c.decision == "approve")
            )
        ).scalar_one()
    )


def _approved_by(conn: Connection, revision_id: int, reviewer: str) -> bool:
    """Whether ``reviewer`` approved the revision already (_approvals counts them once)."""
    found = conn.execute(
        select(reviews.c.id)
        .where(reviews.c.revision_id == revision_id)
        .where(reviews.c.decision == "approve")
        .where(reviews.c.reviewer == reviewer)
        .limit(1)
    ).first()
    return found is not None


def _newer_published(conn: Connection, doc: Any, number: int) -> int | None:
    """The published revision's number when it is newer than revision ``number``: publishing
    the older would replace newer text, and adding the current file again would change
    nothing (unchanged). None otherwise."""
    if doc.published_revision_id is None:
        return None
    newest = conn.execute(
        select(revisions.c.number).where(revisions.c.id == doc.published_revision_id)
    ).scalar_one()
    return int(newest) if newest > number else None


def _newer_waiting(conn: Connection, rev: Any) -> int | None:
    """The id of the newest revision of ``rev``'s document that waits too, newer than it and
    of the same member's (the operator's: of the operator's): the text its contributor, or
    their member, uploaded to replace it. None when there is none. Another member's newer
    upload is another text beside it, not a later draft of it (_rival)."""
    newer = conn.execute(
        select(revisions.c.id, revisions.c.contributor_member_id)
        .where(
            revisions.c.document_id == rev.document_id,
            revisions.c.number > rev.number,
            revisions.c.status.in_(WAITING),
        )
        .order_by(revisions.c.number.desc())
    ).all()
    for row in newer:
        if not _rival(rev.contributor_member_id, row.contributor_member_id):
            return int(row.id)
    return None


def approved(approvals: int, licence: str | None, rules: Rules) -> Decision:
    """Whether a revision with ``approvals`` distinct approvals may be published under the
    collection's ``rules``, with the reason either way: the one rule that a curator's
    approval (review) and a lowered rule (set_rules) both apply. At least one approval
    whatever the rule says: a curator decided; and a licence whose terms answers can read."""
    if terms_for_use(licence) is None:
        return Decision(False, f"licence {licence} has no terms answers can read")
    needed = max(1, rules.approvals_required)
    if approvals >= needed:
        return Decision(
            True, f"{approvals} approval(s): the collection asks for {rules.approvals_required}"
        )
    return Decision(False, f"{approvals} of {rules.approvals_required} approvals")


def on_arrival(
    licence: str | None,
    published_licence: str | None,
    has_published: bool,
    collection_rules: Rules,
    retired: bool = False,
    held: str | None = None,
) -> Decision:
    """Publish now (allowed) or hold for curation (not), with the reason either way.
    ``retired``: the revision is of a retired document. ``held``: why ingest holds it
    whatever its licence (the copy of a retired document's file), said in place of the
    licence's reason. Held for its licence in a collection asking more than one approval, it
    says both, as _release says it when the rules are raised later: the licence alone read
    as one curator's decision to make."""
    decision = _on_arrival(licence, published_licence, has_published, collection_rules, retired)
    if held is not None and not retired:
        decision = Decision(False, held)
    if decision or retired or collection_rules.approvals_required <= 1:
        return decision
    if decision.reason.startswith(needs_approvals(collection_rules)):
        return decision
    return Decision(False, f"{needs_approvals(collection_rules)}; {decision.reason}")


def _on_arrival(
    licence: str | None,
    published_licence: str | None,
    has_published: bool,
    collection_rules: Rules,
    retired: bool,
) -> Decision:
    if retired:
        return Decision(False, RETIRED_HOLD)
    if licence is None:
        return Decision(False, "no licence given: a reviewer must set one before publication")
    if terms_of(licence) is None:
        return Decision(
            False,
            f"the terms of licence {licence} are not in the licence table: "
            "a reviewer must check them",
        )
    if has_published and licence != published_licence:
        return Decision(
            False,
            f"the licence changed from {published_licence} to {licence}: a reviewer must confirm",
        )
    if collection_rules.approvals_required > 0:
        return Decision(False, needs_approvals(collection_rules))
    return Decision(True, f"licence {licence} is known and the collection publishes on arrival")


def publish(conn: Connection, revision_id: int, actor: str, reason: str) -> None:
    rev = conn.execute(select(revisions).where(revisions.c.id == revision_id)).one()
    doc = conn.execute(select(documents).where(documents.c.id == rev.document_id)).one()
    if doc.published_revision_id:
        conn.execute(
            update(revisions)
            .where(revisions.c.id == doc.published_revision_id)
            .where(revisions.c.status == "published")  # not one withdrawn (review, reinstate)
            .values(status="superseded")
        )
    conn.execute(
        update(revisions)
        .where(revisions.c.id == revision_id)
        .values(status="published", hold_reason=None)
    )
    conn.execute(
        update(documents)
        .where(documents.c.id == rev.document_id)
        .values(
            published_revision_id=revision_id,
            status="published",
            # What listings, results and attribution lines show follows the published
            # revision: a document renamed in its new revision is cited under its new title.
            title=rev.title,
            source_uri=rev.source_uri,
            language=rev.language,
            licence=rev.licence,
            contributor=rev.contributor,
            publisher=rev.publisher,
            tdm_reserved=rev.tdm_reserved,
        )
    )
    audit.append(
        conn,
        actor,
        "publish",
        f"document {rev.document_id} revision {rev.number}",
        reason=reason,
        licence=rev.licence,
        title=rev.title,
    )
    _outdate_waiting(conn, rev, actor)  # logged after the publication that outdates them
    repo.bump_generation(conn, rev.document_id)


def rival_hold(number: int) -> str:
    """Why a revision another member contributed still waits once revision ``number`` was
    published after it (_outdate_waiting)."""
    return (
        f"revision {number}, contributed by another member, was published after it: a reviewer "
        "must confirm that this one replaces it"
    )


def _rival(old_member: int | None, published_member: int | None) -> bool:
    """Whether a waiting revision (its contributor's member, None: the operator's) is another
    member's text beside a published one rather than an older draft of it: uploads are
    addressed by collection and file name, and two members' "compte-rendu.pdf" are more
    often two texts than one (ingest/pipeline.OTHER_MEMBERS)."""
    return old_member != published_member


def _outdate_waiting(conn: Connection, rev: Any, actor: str) -> None:
    """The document's revisions older than ``rev`` that still wait leave the queue: approving
    one is refused (it would replace newer text), so it waited for ever, and its contributor
    kept reading "changes requested" for a text their newer revision replaced. Never
    published, it is not "superseded", which readers see in the history and the export.

    Except another member's: Ville B's upload held over Ville A's document is not a draft of
    the text Ville A then publishes, and it left the queue with no curator's decision. It
    keeps waiting, its reason saying what approving it now does (the curator may, review)."""
    older = conn.execute(
        select(revisions.c.id, revisions.c.number, revisions.c.contributor_member_id).where(
            revisions.c.document_id == rev.document_id,
            revisions.c.number < rev.number,
            revisions.c.status.in_(WAITING),
        )
    ).all()
    why = f"revision {rev.number} was published after it"
    for old in older:
        if _rival(old.contributor_member_id, rev.contributor_member_id):
            still = rival_hold(rev.number)
            conn.execute(
                update(revisions).where(revisions.c.id == old.id).values(hold_reason=still)
            )
            subject = f"document {rev.document_id} revision {old.number}"
            audit.append(conn, actor, "hold", subject, reason=still)
            continue
        conn.execute(
            update(revisions)
            .where(revisions.c.id == old.id)
            .values(status="outdated", hold_reason=why)
        )
        subject = f"document {rev.document_id} revision {old.number}"
        audit.append(conn, actor, "outdate", subject, reason=why)


class ArrivalGate:
    """The curation rules as ingest's ``Gate`` (ingest/pipeline.py): the library hands it down
    to ingest, which calls it inside each new revision's transaction.

    ``history``: the revisions arrive as an exported dataset's history, replayed in order
    (commons/opendata.py). A licence that differs from the previous revision's is then a past
    fact the exporting commons decided, not a change to confirm here: without this, the
    import served the first text under its first licence, and the revision the dataset
    publishes waited as a licence change. Every other rule holds (unknown terms, approvals
    asked, a retired document, a licence the file contradicts)."""

    def __init__(self, history: bool = False) -> None:
        self.history = history

    def decide(
        self,
        conn: Connection,
        coll_id: int,
        licence: str | None,
        existing: Any,
        held: str | None = None,
    ) -> Decision:
        published = existing is not None and existing.published_revision_id is not None
        return on_arrival(
            licence,
            repo.published_licence(conn, existing),
            published and not self.history,
            # Held until the revision is stored: rules lowered meanwhile looked for what
            # waited before this one committed, while this one read the rules before they
            # changed, and it waited for approvals nobody was asked for any more. The
            # change (set_rules, which writes this row) now waits for this revision, or
            # this for the new rules. After the document's lock (ingest/pipeline.store),
            # as every writer takes a document before its collection's row.
            rules(conn, coll_id, hold=True),
            retired=existing is not None and existing.status == "retired",
            held=held,
        )

    def publish(self, conn: Connection, revision_id: int, actor: str, reason: str) -> None:
        publish(conn, revision_id, actor, reason)


# A revision that waits for a curator (or for its contributor, sent back). One still waiting
# when a newer revision of its document is published becomes "outdated" (_outdate_waiting).
WAITING = ("proposed", "changes-requested")


# A hold reason stored before whoever approves was "a reviewer" (a collection may name member
# admins or contributors as its approvers): "a curator must confirm", "a curator of the
# collection must check". Read in today's words, so that every face (the pages, the CLI, the
# API) says the same and the catalogues have them; "by a curator or above" names the role.
STORED_BEFORE = re.compile(r"\ba curator (?=must |of the collection must )")


def stored_reason(stored: str | None) -> str | None:
    """A hold reason as stored, in today's words (:data:`STORED_BEFORE`)."""
    return STORED_BEFORE.sub("a reviewer ", stored) if stored else stored


def _hold_reason(status: str, document_status: str, stored: str | None) -> str | None:
    """Why a revision waits, as the curator must read it: a revision held before its
    document was retired now waits on that too, and approving it brings the document back."""
    if status in WAITING and document_status == "retired" and stored != UPSTREAM_HOLD:
        return RETIRED_HOLD
    return stored_reason(stored)


# What a listing of revisions shows first, pending()'s and contributions()'s alike.
_LISTED = (
    revisions.c.id,
    revisions.c.number,
    revisions.c.status,
    revisions.c.hold_reason,
    documents.c.status.label("document_status"),
    revisions.c.title,
    revisions.c.language,  # a title in another language than the page's says so
)


def _listed(conn: Connection, query: Any) -> list[dict[str, Any]]:
    """``query`` (a select of :data:`_LISTED` and more) over each revision's document and
    collection, each row's hold reason as :func:`_hold_reason` reads it."""
    found = conn.execute(
        query.select_from(
            revisions.join(documents, revisions.c.document_id == documents.c.id).join(collections)
        )
    )
    rows = [repo.zoned(dict(r._mapping)) for r in found]
    for r in rows:
        r["hold_reason"] = _hold_reason(r["status"], r["document_status"], r["hold_reason"])
    return rows


def curatable(conn: Connection, actor: Actor) -> list[int] | None:
    """Ids of the collections whose revisions ``actor`` may review (None: all, the operator).
    Not those they may read: a curator of Ville B read, in the queue, the revisions waiting in
    Ville A's shared collections (unpublished titles, their contributors, why they wait), which
    only Ville A's people curate, and each one opened a refusal."""
    from commune.govern.policy import allowed, collection

    if actor.is_operator:
        return None
    roles = dict(conn.execute(select(collections.c.id, collections.c.approver_role)).all())
    return [
        r["id"]
        for r in repo.collection_access(conn)
        if allowed(actor, "curate", collection(r), roles[r["id"]])
    ]


def pending(conn: Connection, collection_ids: list[int] | None = None) -> list[dict[str, Any]]:
    q = (
        select(
            *_LISTED,
            revisions.c.licence,
            revisions.c.contributor,
            revisions.c.created_at,
            documents.c.id.label("document_id"),
            collections.c.name.label("collection"),
        )
        .where(revisions.c.status.in_(WAITING))
        .order_by(revisions.c.id)
    )
    if collection_ids is not None:
        q = q.where(collections.c.id.in_(collection_ids))
    return _listed(conn, q)


def contributions(conn: Connection, user_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The revisions ``user_id`` contributed, newest first, each with where it stands and the
    last review's decision and reason: the person who contributed reads why a curator sent
    it back or refused it (docs/fr/guide.md), not only the audit log."""
    rows = _listed(
        conn,
        select(
            *_LISTED,
            revisions.c.created_at,
            collections.c.name.label("collection"),
            documents.c.id.label("document_id"),
        )
        .where(revisions.c.contributor_user_id == user_id)
        .order_by(revisions.c.id.desc())
        .limit(limit),
    )
    # Each revision's last review, read at once for the page's rows (ordered by id: the
    # last one read is the last one given).
    last: dict[int, dict[str, Any]] = {}
    for v in conn.execute(
        select(reviews.c.revision_id, reviews.c.decision, reviews.c.reason, reviews.c.reviewer)
        .where(reviews.c.revision_id.in_([r["id"] for r in rows]))
        .order_by(reviews.c.id)
    ):
        last[v.revision_id] = {"decision": v.decision, "reason": v.reason, "reviewer": v.reviewer}
    # A published revision whose document a curator retired is no longer read nor cited: the
    # person reads that, and the curator's reason (kept in the audit log), not "published".
    retired = {
        r["document_id"]
        for r in rows
        if r["document_status"] == "retired" or r["status"] == "retired"
    }
    why_retired: dict[int, dict[str, Any]] = {}
    for e in conn.execute(
        select(audit_log.c.subject, audit_log.c.actor, audit_log.c.details)
        .where(
            audit_log.c.action == "retire",
            audit_log.c.subject.in_([f"document {d}" for d in retired]),
        )
        .order_by(audit_log.c.id)
    ):
        reason = json.loads(e.details).get("reason", "")
        why_retired[int(e.subject.split()[-1])] = {
            "decision": "retire",
            "reason": reason,
            "reviewer": e.actor,
        }
    for r in rows:
        # Not that the file was retired in a collection the contributor may not read.
        r["hold_reason"] = for_contributor(r["hold_reason"])
        r["review"] = last.get(r["id"])
        if r["status"] == "published" and r["document_status"] == "retired":
            r["status"] = "retired"
        if r["status"] == "retired":  # withdrawn, its document brought back since
            r["review"] = why_retired.get(r["document_id"])
    return rows


def standing(conn: Connection, document_id: int) -> tuple[str | None, str | None]:
    """What a file sent again as it is (an "unchanged" upload) still is, for its contributor:
    ``(held, refused)``, why its newest revision still waits for a curator, or that a curator
    sent it back or rejected it, with their reason and what to do; (None, None) when the
    commons publishes it. The upload said "unchanged: the commons already has this version"
    of a file a curator had rejected, and of one still waiting, which nobody reads yet."""
    doc = conn.execute(
        select(
            documents.c.current_revision_id, documents.c.published_revision_id, documents.c.status
        ).where(documents.c.id == document_id)
    ).first()
    if doc is None or doc.current_revision_id is None:
        return None, None
    if doc.current_revision_id == doc.published_revision_id:
        if doc.status == "retired":
            # Said "unchanged: the commons already has this version" of a file whose
            # document a curator had retired: the commons cites it no more, and sending it
            # again brings nothing back.
            return None, RETIRED_UNCHANGED
        return None, None
    rev = conn.execute(
        select(revisions.c.status, revisions.c.hold_reason).where(
            revisions.c.id == doc.current_revision_id
        )
    ).one()
    last = conn.execute(
        select(reviews.c.reviewer, reviews.c.reason)
        .where(reviews.c.revision_id == doc.current_revision_id)
        .order_by(reviews.c.id.desc())
        .limit(1)
    ).first()
    said = f"{last.reviewer}: {last.reason}" if last is not None else ""
    if rev.status == "rejected" and last is not None:
        return None, f"a reviewer rejected this file ({said}): change it before sending it again"
    if rev.status == "changes-requested" and last is not None:
        return None, (
            f"a reviewer asked for changes to this file ({said}): change it before sending it again"
        )
    if rev.status == "proposed":
        return for_contributor(_hold_reason(rev.status, doc.status, rev.hold_reason)), None
    return None, None


def _text(conn: Connection, revision_id: int | None) -> list[str]:
    if revision_id is None:
        return []
    rows = conn.execute(
        select(chunks.c.heading_path, chunks.c.text)
        .where(chunks.c.revision_id == revision_id)
        .order_by(chunks.c.ordinal)
    )
    out: list[str] = []
    for r in rows:
        if r.heading_path:
            out.append(f"## {r.heading_path}")
        out.extend(r.text.splitlines())
    return out


def _revision(conn: Connection, revision_id: int) -> Any:
    """The revision's row; NotFound, with where to find the pending ones, when there is none."""
    rev = conn.execute(select(revisions).where(revisions.c.id == revision_id)).first()
    if rev is None:
        raise NotFound(
            f"no revision {revision_id}",
            "list pending ones with commune review list",
            field_hint="the Curation page lists the pending ones",
        )
    return rev


def show(conn: Connection, revision_id: int, actor: Actor | None = None) -> dict[str, Any]:
    """A revision with its reviews and the diff against the published revision; with
    ``actor``, only one that actor may curate."""
    rev = _revision(conn, revision_id)
    doc = conn.execute(select(documents).where(documents.c.id == rev.document_id)).one()
    if actor is not None:
        _check_collection(
            conn,
            doc.collection_id,
            actor,
            f"no revision {revision_id}",
            role=rules(conn, doc.collection_id).approver_role,
        )
    base = doc.published_revision_id if doc.published_revision_id != revision_id else rev.parent_id
    diff = list(
        difflib.unified_diff(
            _text(conn, base),
            _text(conn, revision_id),
            f"revision {base or '(none)'}",
            f"revision {revision_id}",
            lineterm="",
        )
    )
    before = conn.execute(select(revisions).where(revisions.c.id == base)).first() if base else None
    changed = changed_between(before._mapping if before else None, rev._mapping)
    revs = conn.execute(
        select(reviews).where(reviews.c.revision_id == revision_id).order_by(reviews.c.id)
    )
    shown = dict(rev._mapping)
    shown["hold_reason"] = _hold_reason(rev.status, doc.status, rev.hold_reason)
    return {
        "revision": shown,
        "document_id": doc.id,
        "published_revision_id": doc.published_revision_id,
        "reviews": [dict(r._mapping) for r in revs],
        "diff": diff,
        "changed": changed,
    }


# What is recorded with a revision beside its text, in the order a curator reads it: the
# fields :func:`show` compares with the revision it diffs against (``content_hash``: the file).
# Each makes a new revision on its own (ingest/pipeline._same_file): the same file sent by
# another person, or with text and data mining reserved since, read "Nothing changed".
RECORDED = (
    "licence",
    "publisher",
    "contributor",
    "title",
    "source_uri",
    "tdm_reserved",
    "content_hash",
)


def changed_between(before: Mapping[Any, Any] | None, after: Mapping[Any, Any]) -> list[str]:
    """What differs from ``before`` to ``after`` (two revisions' rows), beside the text:
    the :data:`RECORDED` fields, in their order; nothing after no revision. A file sent again
    with the same text (a PDF saved anew, a heading with nothing under it) was said to have
    changed "its licence, its publisher" when neither had, and its reader looked for a
    change: the review page, `commune review show` and a document's history each name what
    did change from this one list."""
    if before is None:
        return []
    return [field for field in RECORDED if before[field] != after[field]]


# The revisions a reader may see in a document's history: those the commons published.
PUBLIC_STATUSES = ("published", "superseded")


def history(
    conn: Connection, document_id: int, statuses: tuple[str, ...] | None = None
) -> list[dict[str, Any]]:
    """A document's revisions (only those in ``statuses``, when given), each with its
    unified diff against the one shown before it."""
    q = (
        select(
            revisions.c.id,
            revisions.c.number,
            revisions.c.status,
            revisions.c.licence,
            revisions.c.content_hash,
            revisions.c.created_at,
            revisions.c.contributor,
            revisions.c.hold_reason,
        )
        .where(revisions.c.document_id == document_id)
        .order_by(revisions.c.number)
    )
    if statuses is not None:
        q = q.where(revisions.c.status.in_(statuses))
    rows = [dict(r._mapping) for r in conn.execute(q)]
    if not rows:
        raise NotFound(f"no document {document_id}")
    # A retired document's published revision is no longer read nor cited: its history says
    # so, as its contributor's page does (contributions), where `commune history` of the
    # document a curator had just retired still read "publiée".
    status = conn.execute(
        select(documents.c.status).where(documents.c.id == document_id)
    ).scalar_one()
    for r in rows:
        if status == "retired" and r["status"] == "published":
            r["status"] = "retired"
        r["hold_reason"] = stored_reason(r["hold_reason"])
    # What each records beside its text, read whole, for what changed from the one before.
    recorded = {
        r.id: r._mapping
        for r in conn.execute(
            select(revisions.c.id, *(revisions.c[f] for f in RECORDED)).where(
                revisions.c.id.in_([r["id"] for r in rows])
            )
        )
    }
    for prev, cur in zip([None, *rows], rows, strict=False):
        before = _text(conn, prev["id"]) if prev else []
        cur["diff"] = list(difflib.unified_diff(before, _text(conn, cur["id"]), lineterm="", n=1))
        # The same as `review show` says, against the revision this diff is made with.
        cur["changed"] = changed_between(
            recorded[prev["id"]] if prev else None, recorded[cur["id"]]
        )
    return rows


def _check_collection(
    conn: Connection,
    collection_id: int,
    actor: Actor,
    what: str,
    action: str = "curate",
    role: str | None = None,
) -> None:
    """Refuse curating outside the actor's remit; a private collection of another member
    is reported as absent, as everywhere else."""
    from commune.govern.policy import allowed, collection

    access = next(r for r in repo.collection_access(conn) if r["id"] == collection_id)
    decision = allowed(actor, action, collection(access), role)
    if decision:
        return
    if access["visibility"] == "private" and access["member_id"] != actor.member_id:
        raise NotFound(
            what,
            "list what you may curate with commune review list",
            field_hint="the Curation page lists what you may curate",
        )
    raise decision.refusal()


def review(
    conn: Connection,
    revision_id: int,
    decision: str,
    reason: str,
    actor: Actor,
    licence: str | None = None,
) -> str:
    """Record a curator's decision; returns the revision's new status."""
    if decision not in DECISIONS:
        raise InvalidRequest(f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}")
    if not reason.strip():
        raise InvalidRequest("a review needs a reason: say why, for the contributor and the log")
    # Two curators at once (an approval and a rejection): the second reads the status the
    # first left, instead of both acting on "proposed".
    from commune.store.db import lock

    # Its document before anything (repo.hold_documents), as an add of a new revision holds
    # it: an approval while the document's newer text arrived held the published revision
    # and waited for the document's row, which the arrival held while it waited to
    # supersede that revision (PostgreSQL failed one). It now waits for the arrival, and
    # finds its revision outdated by the newer text.
    of = conn.execute(select(revisions.c.document_id).where(revisions.c.id == revision_id))
    repo.hold_documents(conn, of.scalars().all())
    lock(conn, "document", f"revision {revision_id}")
    rev = _revision(conn, revision_id)
    if rev.status not in WAITING:
        # Mostly a second curator, whose page was opened before the first decided: the page
        # names the revision by its number in its document, never by this id, and said
        # "revision 2 is published" of the page's "Revision 1", with no next step.
        raise CommuneError(
            f"revision {revision_id} is {rev.status}, not awaiting review",
            field_hint=f"revision {rev.number} of this document: nothing is left to decide on "
            "it; the Curation page lists what still waits",
        )
    doc = conn.execute(select(documents).where(documents.c.id == rev.document_id)).one()
    r = rules(conn, doc.collection_id)
    _check_collection(
        conn, doc.collection_id, actor, f"no revision {revision_id}", "curate", r.approver_role
    )
    if rev.contributor_user_id is not None and rev.contributor_user_id == actor.user_id:
        raise CommuneError(
            "contributors do not review their own revisions",
            "ask another reviewer of the collection: two pairs of eyes",
        )
    if decision == "approve" and _approved_by(conn, revision_id, actor.user):
        # Approvals are counted by distinct reviewer (_approvals): a second one from the same
        # person counted nothing, yet was stored as another review and the page said
        # "Decision recorded", so the curator believed their second click had helped.
        raise CommuneError(
            f"you approved revision {revision_id} already ({_approvals(conn, revision_id)} of "
            f"{max(1, r.approvals_required)} approvals)",
            "another reviewer of the collection's approver role must approve it too",
        )
    if decision == "approve":
        newest = _newer_published(conn, doc, rev.number)
        # Another member's text held beside the published one (rival_hold): replacing the
        # newer text is what the curator is asked to decide.
        if newest is not None and not _rival(
            rev.contributor_member_id, repo.published_member(conn, doc)
        ):
            raise CommuneError(
                f"revision {revision_id} is older than the published revision {newest} of "
                f"document {doc.id}: approving it would replace newer text",
                "reject it; to bring its text back, add that file again",
            )
        # A newer upload of the same text waits too: the curator meant to publish the text
        # as its contributor left it, and approving the older one published the text that
        # upload replaces (and, later approved, the newer one replaced it again). The newer
        # is decided first; rejected, it leaves this one to approve.
        later = _newer_waiting(conn, rev)
        if later is not None:
            # The pages name a revision by its number in its document ("revision 3"), and
            # its id only in links: the id alone told a curator on the page nothing to find.
            number = conn.execute(
                select(revisions.c.number).where(revisions.c.id == later)
            ).scalar_one()
            raise CommuneError(
                f"revision {revision_id} is older than revision {later} of document {doc.id}, "
                "which waits too: approving it would publish the text that upload replaces",
                f"review revision {later} first; to publish this one, reject that one",
                field_hint=f"decide revision {later} first (revision {number} of this document, "
                "in the Curation page's list); to publish this one, reject that one",
            )
    if licence is not None:
        licence = normalise(licence)
        try:  # a LicenseRef-… must have its text, which a review cannot give
            check_texts(conn, licence, None, actor.user)
        except TextMissing as exc:
            raise exc.elsewhere() from None
        if licence != rev.licence:
            conn.execute(
                update(revisions).where(revisions.c.id == revision_id).values(licence=licence)
            )
            audit.append(
                conn,
                actor.user,
                "licence-change",
                f"document {doc.id} revision {rev.number}",
                old=rev.licence,
                new=licence,
                reason=reason,
            )
            rev = conn.execute(select(revisions).where(revisions.c.id == revision_id)).one()
    conn.execute(
        insert(reviews).values(
            revision_id=revision_id,
            reviewer=actor.user,
            reviewer_user_id=actor.user_id,
            decision=decision,
            reason=reason,
            created_at=repo.now(),
        )
    )
    subject = f"document {doc.id} revision {rev.number}"
    if decision == "reject":
        conn.execute(
            update(revisions).where(revisions.c.id == revision_id).values(status="rejected")
        )
        audit.append(conn, actor.user, "reject", subject, reason=reason)
        return "rejected"
    if decision == "request-changes":
        conn.execute(
            update(revisions)
            .where(revisions.c.id == revision_id)
            .values(status="changes-requested")
        )
        audit.append(conn, actor.user, "request-changes", subject, reason=reason)
        return "changes-requested"
    # The cooperative's own licence (LicenseRef-…, its text recorded) has no terms in the
    # table: the curator who approves it has read its text, and answers read it at its
    # strictest (govern/licences.terms_for_use).
    if terms_for_use(rev.licence) is None:
        hint = (
            "approve it with a known SPDX licence, given with --licence or in the page's "
            "licence field"
        )
        # The page names the revision by its number in its document, not by this id, and
        # has no --licence: « La révision 7 n'a pas de licence » on the page of « Révision 1 ».
        in_fields = (
            f"revision {rev.number} of this document: approve it with a known SPDX licence in "
            "the licence field"
        )
        if rev.licence is None:
            raise CommuneError(f"revision {revision_id} has no licence", hint, field_hint=in_fields)
        raise CommuneError(
            f"revision {revision_id} has licence {rev.licence} with unknown terms",
            hint,
            field_hint=in_fields,
        )
    counted = approved(_approvals(conn, revision_id), rev.licence, r)
    if counted:
        if doc.status == "retired":
            # Brought back with a new text: the texts it was retired with stay withdrawn.
            # Retiring may answer a takedown (personal data), and a corrected revision
            # approved showed the retired text again in the history readers see, and put it
            # in the open export's files/history/.
            conn.execute(
                update(revisions)
                .where(revisions.c.document_id == doc.id)
                .where(revisions.c.status.in_(PUBLIC_STATUSES))
                .values(status="retired")
            )
        publish(conn, revision_id, actor.user, reason)
        if doc.status == "retired":  # publish() made it "published": the curator's decision
            conn.execute(
                update(documents).where(documents.c.id == doc.id).values(retired_category=None)
            )
            audit.append(conn, actor.user, "reinstate", f"document {doc.id}", reason=reason)
        return "published"
    still = _counted(counted.reason, rev.hold_reason)
    conn.execute(update(revisions).where(revisions.c.id == revision_id).values(hold_reason=still))
    return "proposed"


def retire(
    conn: Connection,
    document_id: int,
    reason: str,
    actor: Actor,
    category: str = "other",
    copies: bool = True,
    **details: Any,
) -> list[int]:
    """Retire a document (no longer retrieved nor cited; its history stays, but for a
    personal-data takedown, whose texts are erased: store/erasure.py). ``details`` go
    to its audit row beside the reason and the category (an import: the dataset it came
    from, and when its publisher retired it). The copies of its file are taken down too
    (_retire_copies); returns the copies retired with it, which ``actor`` may retire, so
    may see."""
    if not reason.strip():
        raise InvalidRequest("retiring a document needs a reason")
    # The rule of a user's removal (govern/accounts.check_reason): "retire 3 --reason" took
    # a line break, which the audit log and the contributor's list then showed as two rows.
    check_reason(reason.strip())
    if category not in RETIRE_CATEGORIES:
        raise InvalidRequest(
            f"category must be one of {', '.join(RETIRE_CATEGORIES)}, got {category!r}"
        )
    coll = conn.execute(
        select(documents.c.collection_id).where(documents.c.id == document_id)
    ).scalar()
    if coll is None:
        raise NotFound(f"no document {document_id} that is not already retired")
    _check_collection(
        conn, coll, actor, f"no document {document_id} that is not already retired", "retire"
    )
    # The documents it may write, first (repo.hold_documents): a new revision of another
    # member's copy arriving at once held the copy's row and waited for the audit log,
    # which this held while it waited to hold the copy (PostgreSQL failed one).
    repo.hold_documents(conn, {document_id, *(_copies(conn, document_id) if copies else ())})
    _hold_files(conn, document_id)
    # And its waiting revisions, before its row is written: rules lowered at once held the
    # audit log and waited to publish one of them on that row, while this waited for the
    # audit log (on PostgreSQL, a deadlock: one failed). The rules' change now waits here,
    # or this for it, and finds the document retired (or the text published).
    _hold_proposed(conn, documents.c.id == document_id)
    done = conn.execute(
        update(documents)
        .where(documents.c.id == document_id)
        .where(documents.c.status != "retired")
        .values(status="retired", retired_category=category)
    )
    if not done.rowcount:
        raise NotFound(f"no document {document_id} that is not already retired")
    erased = category in ERASURES
    audit.append(
        conn,
        actor.user,
        "retire",
        f"document {document_id}",
        reason=reason,
        category=category,
        # Its texts erased in this transaction, its files once it commits (erasure.finish):
        # the "erase" entry that follows says it is done.
        **({"erasure": erasure.PENDING} if erased else {}),
        **details,
    )
    generation = repo.bump_generation(conn, document_id)
    # The answers cached before it quote its passages (a resident's address, for a
    # personal-data takedown): none can be served on the new generation, but each stayed in
    # the database, the retired text in it, until the next answer was cached, which on a
    # quiet home may never come. They go with the retirement, in its transaction.
    conn.execute(delete(answer_cache).where(answer_cache.c.generation != generation))
    retired = _retire_copies(conn, document_id, category, actor) if copies else []
    if erased:
        # The copies retired with it too: the same person's data, in the same owner's
        # collections. Another member's copy, held for its curators, is theirs to decide.
        for each in (document_id, *retired):
            erasure.erase(conn, each, actor.user)
    return retired


def reinstate(conn: Connection, document_id: int, reason: str, actor: Actor) -> list[int]:
    """Undo a retirement: a curator of the collection brings a retired document back as it
    was (its published text retrieved again, or its revision waiting again), audited as
    "reinstate", as approving a revision of a retired document is. The copies of its file
    retired with it, in the same action, come back with it when ``actor`` may retire them
    (the check retire() makes of them); returns those copies. Refused for a personal-data
    takedown, whose texts are erased (store/erasure.py), and for a document an imported
    dataset's publisher retired: their takedown stands here (_not_reinstated)."""
    if not reason.strip():
        raise InvalidRequest("reinstating a document needs a reason")
    check_reason(reason.strip())
    absent = f"no retired document {document_id}"
    doc = conn.execute(select(documents).where(documents.c.id == document_id)).first()
    if doc is None or doc.status != "retired":
        raise NotFound(absent, "list them with commune documents")
    _check_collection(conn, doc.collection_id, actor, absent, "retire")
    row = _retirement(conn, document_id)
    refusal = _not_reinstated(conn, document_id, _category(doc.retired_category, row), row)
    if refusal is not None:
        raise refusal
    copies = _retired_with(conn, document_id, row.id if row is not None else None)
    repo.hold_documents(conn, {document_id, *copies})
    access = {r["id"]: r for r in repo.collection_access(conn)}
    from commune.govern.policy import allowed, collection

    back = [
        c for c, coll_id in copies.items() if allowed(actor, "retire", collection(access[coll_id]))
    ]
    for each in (document_id, *back):
        published = conn.execute(
            select(documents.c.published_revision_id).where(documents.c.id == each)
        ).scalar()
        done = conn.execute(
            update(documents)
            .where(documents.c.id == each)
            .where(documents.c.status == "retired")
            .values(
                status="published" if published is not None else "proposed",
                retired_category=None,
            )
        )
        if not done.rowcount:
            raise NotFound(absent, "list them with commune documents")
        audit.append(
            conn,
            actor.user,
            "reinstate",
            f"document {each}",
            reason=reason if each == document_id else f"the same file as document {document_id}",
            **({} if each == document_id else {"copy_of": document_id}),
        )
        _unretired_waiting(conn, each)
        generation = repo.bump_generation(conn, each)
    # As retire(): the answers cached before it were given without its passages.
    conn.execute(delete(answer_cache).where(answer_cache.c.generation != generation))
    return sorted(back)


def _unretired_waiting(conn: Connection, document_id: int) -> None:
    """The revisions of a reinstated document that arrived while it was retired said "the
    document was retired: approving this revision brings it back", which was no longer
    true: each now says why it waits as it would have on arrival, or, where the collection
    publishes on arrival, that it came while the document was retired (a reviewer decides
    whether it replaces the reinstated text)."""
    doc = conn.execute(select(documents).where(documents.c.id == document_id)).one()
    published = conn.execute(
        select(revisions.c.licence).where(revisions.c.id == doc.published_revision_id)
    ).first()
    held = conn.execute(
        select(revisions.c.id, revisions.c.licence)
        .where(revisions.c.document_id == document_id)
        .where(revisions.c.status.in_(WAITING), revisions.c.hold_reason == RETIRED_HOLD)
    ).all()
    r = rules(conn, doc.collection_id) if held else None
    for rev in held:
        assert r is not None
        decision = on_arrival(
            rev.licence, published.licence if published else None, published is not None, r
        )
        why = REINSTATED_HOLD if decision else decision.reason
        conn.execute(update(revisions).where(revisions.c.id == rev.id).values(hold_reason=why))


def _retirement(conn: Connection, document_id: int) -> Any:
    """The audit row of the document's last retirement (its own, or as a copy)."""
    return conn.execute(
        select(audit_log.c.id, audit_log.c.details, audit_log.c.actor, audit_log.c.created_at)
        .where(audit_log.c.action == "retire", audit_log.c.subject == f"document {document_id}")
        .order_by(audit_log.c.id.desc())
        .limit(1)
    ).first()


def _category(stored: str | None, row: Any) -> str | None:
    """A retirement's category: the document's, or its audit row's for a retirement made
    before documents kept it (migration 0017 left those None): a personal-data takedown of
    an upgraded home was reinstated, its text, never erased then, found again."""
    if stored is not None or row is None:
        return stored
    found = json.loads(row.details).get("category")
    return str(found) if found is not None else None


def _not_reinstated(
    conn: Connection, document_id: int, category: str | None, row: Any
) -> CommuneError | None:
    """Why a retired document cannot be reinstated, if it cannot: its texts are erased (a
    personal-data takedown), or the publisher of the dataset it came from retired it and
    has not published its text again since (_upstream_stands)."""
    if category in ERASURES:
        return CommuneError(
            f"document {document_id} was retired for personal data: its texts are erased and "
            "cannot come back",
            "add a corrected file without the personal data: a reviewer of the collection "
            "will review it",
        )
    details = json.loads(row.details) if row is not None else {}
    if "dataset_id" in details and _upstream_stands(conn, document_id, details):
        return CommuneError(
            f"document {document_id} was retired by the publisher of the dataset it was "
            "imported from",
            "their takedown stands here: to bring the text back, add a corrected file (a "
            "reviewer of the collection will review it)",
        )
    return None


def _upstream_stands(conn: Connection, document_id: int, details: dict[str, Any]) -> bool:
    """Whether a dataset publisher's takedown of the document still stands: its text here
    was held for a curator (retire_from_dataset), or a dataset still records its published
    text as retired. A publisher who published the text again clears that record at the
    next import of their export (opendata._refused), which leaves the document retired
    here ("unchanged"): its curators were refused « their takedown stands here » though
    the publisher had lifted it, and no way brought the same text back."""
    from commune.store.schema import dataset_texts

    if details.get("held"):
        return True
    published = conn.execute(
        select(revisions.c.content_hash)
        .join(documents, documents.c.published_revision_id == revisions.c.id)
        .where(documents.c.id == document_id)
    ).scalar()
    if published is None:
        return True
    still = conn.execute(
        select(dataset_texts.c.id)
        .where(dataset_texts.c.content_hash == published, dataset_texts.c.retired_at.is_not(None))
        .limit(1)
    ).first()
    return still is not None


def retirement(conn: Connection, document_id: int, category: str | None) -> dict[str, Any]:
    """A retired document's retirement as its curators read it: who, when, why, in which
    category, and why it cannot be reinstated (None: it can)."""
    row = _retirement(conn, document_id)
    details = json.loads(row.details) if row is not None else {}
    category = _category(category, row)
    refused = _not_reinstated(conn, document_id, category, row)
    return {
        "by": row.actor if row is not None else None,
        "at": row.created_at if row is not None else None,
        "reason": details.get("reason"),
        "category": category,
        "refusal": str(refused) if refused is not None else None,
    }


def _retired_with(conn: Connection, document_id: int, since: int | None) -> dict[int, int]:
    """The copies retired in the same action as the document (their audit rows follow its
    own, copy_of it) and retired since: each with its collection."""
    if since is None:
        return {}
    rows = conn.execute(
        select(audit_log.c.id, audit_log.c.subject, audit_log.c.details)
        .where(audit_log.c.action == "retire", audit_log.c.id > since)
        .order_by(audit_log.c.id)
    ).all()
    found: dict[int, int] = {}
    for r in rows:
        if json.loads(r.details).get("copy_of") != document_id:
            break  # the copies' rows come right after the document's, in its transaction
        copy = int(r.subject.removeprefix("document "))
        last = _retirement(conn, copy)
        coll = conn.execute(
            select(documents.c.collection_id)
            .where(documents.c.id == copy)
            .where(documents.c.status == "retired")
        ).scalar()
        if coll is not None and last is not None and last.id == r.id:
            found[copy] = int(coll)
    return found


def _copies(conn: Connection, document_id: int) -> set[int]:
    """The documents _retire_copies may write: those holding the document's files (its
    newest bytes, and those readers read), published or waiting. Read before they are held:
    a new revision of the document itself arriving meanwhile may change its files, and
    their copies are then written unheld, as before (holding them after the document
    would take the documents out of one order, and two takedowns could wait in a circle)."""
    files = _files(conn, document_id)
    published = select(documents.c.id).join(
        revisions, revisions.c.id == documents.c.published_revision_id
    )
    waiting = (
        select(documents.c.id)
        .join(revisions, revisions.c.document_id == documents.c.id)
        .where(revisions.c.status.in_(WAITING))
    )
    found: set[int] = set()
    for query in (published, waiting):
        found |= set(
            conn.execute(
                query.where(
                    documents.c.id != document_id,
                    documents.c.status != "retired",
                    revisions.c.content_hash.in_(files),
                )
            ).scalars()
        )
    return found


def _hold_files(conn: Connection, document_id: int) -> None:
    """Hold the files a retirement takes down (its newest bytes, and those readers read)
    until it commits, as an add of the same file holds it (ingest/pipeline.store): on
    PostgreSQL an add into another collection found no retired document, the retirement
    found no published copy (the add had not committed), and the copy was published after
    a takedown. In one order, so that two retirements never wait for each other."""
    from commune.store.db import lock

    for digest in sorted(_files(conn, document_id)):
        lock(conn, "file", digest)


def _files(conn: Connection, document_id: int) -> set[str]:
    """The files a retirement takes down: the document's newest bytes, and those readers
    read (its published revision's)."""
    newest = select(documents.c.content_hash).where(documents.c.id == document_id)
    read = (
        select(revisions.c.content_hash)
        .join(documents, documents.c.published_revision_id == revisions.c.id)
        .where(documents.c.id == document_id)
    )
    return {*conn.execute(newest).scalars(), *conn.execute(read).scalars()}


def retire_from_dataset(
    conn: Connection,
    document_id: int,
    reason: str,
    actor: Actor,
    category: str,
    theirs: set[str],
    **details: Any,
) -> bool:
    """Retire a document because the publisher of the dataset it was imported from retired
    it (commons/opendata.py); ``theirs``: the SHA-256 of every text they published of it.
    True when its published text here is not one of them: then it is held for a curator
    (UPSTREAM_HOLD). Not published: a takedown must not wait for a curator to act, and a
    local correction (a date, a typo) most often keeps what the takedown removed. Not
    dropped either: approving it brings the document back, the publisher's texts withdrawn."""
    doc = conn.execute(select(documents).where(documents.c.id == document_id)).one()
    held = False
    if doc.published_revision_id is not None:
        mine = conn.execute(
            select(revisions.c.content_hash).where(revisions.c.id == doc.published_revision_id)
        ).scalar_one()
        if mine not in theirs:
            held = bool(
                conn.execute(
                    update(revisions)
                    .where(revisions.c.id == doc.published_revision_id)
                    .where(revisions.c.status == "published")
                    .values(status="proposed", hold_reason=UPSTREAM_HOLD)
                ).rowcount
            )
    # Only this document: the dataset's publisher has no say over the other collections of
    # this home, whose copies of the same text their own curators answer for.
    retire(conn, document_id, reason, actor, category, copies=False, held=held, **details)
    return held


def _retire_copies(conn: Connection, document_id: int, category: str, actor: Actor) -> list[int]:
    """Take down the other documents that hold the retired one's file (the same bytes).

    Retiring may answer a takedown (personal data), and a copy published in another collection
    before it stayed published: the takedown missed it. A copy of the same owner's (the same
    member's collections, or the cooperative's) that ``actor`` may retire is retired with it.
    A copy of another member's is theirs: it is held for its own curators (its published
    revision back in their queue, with the reason a copy added after the retirement has,
    ingest/pipeline.retired_copy, which names no collection) only for a takedown
    (TAKEDOWNS), whoever retires; otherwise it is left as it is. A copy still
    waiting that the same rule reaches takes that reason too: its curators would otherwise
    approve it unaware. Each is audited. The copies' reason says the category, never the
    curator's words, which may name the person a takedown protects and would reach the
    copy's contributor (contributions)."""
    from commune.govern.policy import allowed, collection
    from commune.ingest.pipeline import retired_copy

    doc = conn.execute(select(documents).where(documents.c.id == document_id)).one()
    files = _files(conn, document_id)
    access = {r["id"]: r for r in repo.collection_access(conn)}
    owner = access[doc.collection_id]["member_id"]
    takedown = category in TAKEDOWNS

    def reached(coll_id: int) -> str | None:
        """What is done with a copy in collection ``coll_id``: retire, hold, or nothing."""
        row = access[coll_id]
        if row["member_id"] == owner and allowed(actor, "retire", collection(row)):
            return "retire"
        return "hold" if takedown else None

    published = conn.execute(
        select(documents.c.id, documents.c.collection_id, revisions.c.id.label("revision_id"))
        .select_from(documents.join(revisions, revisions.c.id == documents.c.published_revision_id))
        .where(
            documents.c.id != document_id,
            documents.c.status != "retired",
            revisions.c.content_hash.in_(files),
        )
        .order_by(documents.c.id)
    ).all()
    retired: list[int] = []
    why = f"the same file as a retired document ({category})"
    for copy in published:
        action = reached(copy.collection_id)
        if action == "retire":
            conn.execute(
                update(documents)
                .where(documents.c.id == copy.id)
                .values(status="retired", retired_category=category)
            )
            # The document it copies in the log's details only: it may be in a collection
            # the copy's contributor may not read.
            audit.append(
                conn,
                actor.user,
                "retire",
                f"document {copy.id}",
                reason=why,
                category=category,
                copy_of=document_id,
                **({"erasure": erasure.PENDING} if category in ERASURES else {}),
            )
            retired.append(int(copy.id))
        elif action == "hold":
            conn.execute(
                update(revisions)
                .where(revisions.c.id == copy.revision_id)
                .values(status="proposed")
            )
            conn.execute(
                update(documents)
                .where(documents.c.id == copy.id)
                .values(status="proposed", published_revision_id=None)
            )
        else:
            continue
        repo.bump_generation(conn, copy.id)
    # Those held above wait now, and take the reason below with those that already waited.
    waiting = conn.execute(
        select(
            revisions.c.id, revisions.c.number, revisions.c.document_id, documents.c.collection_id
        )
        .select_from(revisions.join(documents, revisions.c.document_id == documents.c.id))
        .where(
            revisions.c.document_id != document_id,
            documents.c.status != "retired",
            revisions.c.content_hash.in_(files),
            revisions.c.status.in_(WAITING),
        )
        .order_by(revisions.c.document_id, revisions.c.number)
    ).all()
    for rev in waiting:
        if reached(rev.collection_id) is None:
            continue  # another member's, and no takedown: theirs to decide, untold
        here = rev.collection_id == doc.collection_id
        why = retired_copy(document_id if here else None)
        conn.execute(update(revisions).where(revisions.c.id == rev.id).values(hold_reason=why))
        audit.append(
            conn,
            actor.user,
            "hold",
            f"document {rev.document_id} revision {rev.number}",
            reason=why,
            copy_of=document_id,
        )
    return retired
