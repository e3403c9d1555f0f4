"""The commons as readers and contributors see it: collections, documents, who may read
what, and adding to it."""

from __future__ import annotations

import contextlib
import os
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine

from commune.account.metering import ADD, Work
from commune.commons.curation import ArrivalGate
from commune.config import Settings
from commune.errors import CommuneError, ConfigError, InvalidRequest, NotFound, shown
from commune.govern.members import MAX_NAME
from commune.govern.policy import OPERATOR, Actor, allowed, collection
from commune.govern.sources import public_source
from commune.ingest.batch import gather, ingest_paths
from commune.ingest.pipeline import FileOutcome, IngestSummary, Provenance
from commune.store import repository as repo


class Library:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    def collections(self, actor: Actor = OPERATOR) -> list[dict[str, Any]]:
        """Collections the actor may read, with their published documents' counts and visibility."""
        with self.engine.connect() as conn:
            rows = repo.list_collections(conn)
        return [
            {k: v for k, v in r.items() if k not in ("id", "member_id")}
            for r in rows
            if allowed(actor, "read", collection(r))
        ]

    def readable(self, actor: Actor) -> dict[str, dict[str, Any]]:
        """Collections ``actor`` may read, by name (a light query: it runs on every search)."""
        with self.engine.connect() as conn:
            rows = repo.collection_access(conn)
        return {r["name"]: r for r in rows if allowed(actor, "read", collection(r))}

    def readable_ids(self, actor: Actor) -> list[int] | None:
        """Ids of the collections ``actor`` may read; None means all (the operator)."""
        if actor.is_operator:
            return None
        return [r["id"] for r in self.readable(actor).values()]

    def scope(self, name: str | None, actor: Actor = OPERATOR) -> list[int] | None:
        """The collection ids a request about ``name`` (or all) may reach."""
        return self.reach(name, actor)[0]

    def reach(
        self, name: str | None, actor: Actor = OPERATOR
    ) -> tuple[list[int] | None, list[str]]:
        """The ids (None: all, for the operator) and names of the collections a request about
        ``name`` (or all) may reach, from one read of who may read what."""
        readable = self.readable(actor)
        if name is None:
            ids = None if actor.is_operator else [r["id"] for r in readable.values()]
            return ids, sorted(readable)
        name = repo.collection_named(readable, name)
        # A collection the actor may not read is reported as absent: its very name is private.
        if name not in readable:
            known = ", ".join(sorted(readable)) or "none yet"
            raise NotFound(f"no collection named {shown(name)}", f"known collections: {known}")
        return [readable[name]["id"]], [name]

    def declared_use(self, actor: Actor) -> str | None:
        """The use the actor's member declared (e.g. "commercial"), which licences may forbid."""
        if actor.member_id is None:
            return None
        from sqlalchemy import select

        from commune.store.schema import members

        with self.engine.connect() as conn:
            use = conn.execute(
                select(members.c.declared_use).where(members.c.id == actor.member_id)
            ).scalar()
        return None if use is None else str(use)

    def documents(
        self,
        collection: str | None = None,
        limit: int = 100,
        offset: int = 0,
        actor: Actor = OPERATOR,
        after: int | None = None,
    ) -> list[dict[str, Any]]:
        """The documents ``actor`` may list, in id order: ``limit`` from ``offset``, or from
        the first whose id is past ``after`` (a listing's next page that a document leaving
        it meanwhile does not shift)."""
        if limit < 1 or offset < 0:
            # Refused here for every face: a negative limit listed everything (SQL's LIMIT -1).
            raise InvalidRequest(
                f"limit must be 1 or more and offset 0 or more, got {limit}, {offset}"
            )
        from commune.commons.curation import curatable

        ids = self.scope(collection, actor)
        with self.engine.connect() as conn:
            # What waits for curation (or was rejected or retired) is the business of the
            # curators of its collection: a reader sees what the commons publishes. The
            # collections one curates, as the queue reads them (curation.curatable), not the
            # role alone: a curator of Ville A listed the documents waiting in Ville B's shared
            # collections, their unpublished titles and contributors, which the queue and
            # `review show` refuse them; and the titles of documents retired for personal data.
            curated = curatable(conn, actor)
            docs = repo.list_documents(
                conn, ids, limit, offset, curated is not None, after, curated or ()
            )
        return docs if actor.is_operator else [_for_readers(d) for d in docs]

    def document(self, document_id: int, actor: Actor = OPERATOR) -> dict[str, Any]:
        """A published document the actor may read, with its text."""
        from commune.govern.licences import licence_refs, licence_text

        with self.engine.connect() as conn:
            found = repo.published_document(conn, document_id, self.readable_ids(actor))
            if found is None:
                # Absent, unpublished or private to another member: the same answer for all
                # three.
                raise NotFound(
                    f"no document {document_id}",
                    "list them with commune documents",
                    field_hint="check its number",
                )
            # The cooperative's own licence (LicenseRef-…) has no page elsewhere: its recorded
            # text is the only place a reader learns what the document allows them.
            found["licence_texts"] = {
                ref: licence_text(conn, ref) for ref in licence_refs(found.get("licence"))
            }
        return found if actor.is_operator else _for_readers(found)

    def retired_document(self, document_id: int, actor: Actor = OPERATOR) -> dict[str, Any] | None:
        """A retired document, for whoever may retire (so reinstate) it in its collection: the
        curators who decide whether it comes back read it, its revisions and its retirement
        (``retired``: who, when, why, and why it cannot come back, if it cannot). None for
        anyone else, and for a document not retired: they are told it is not found, as of a
        document that does not exist."""
        from commune.commons.curation import history, retirement
        from commune.govern.licences import licence_refs, licence_text

        readable = self.readable_ids(actor)
        with self.engine.connect() as conn:
            found = repo.retired_document(conn, document_id)
            if found is None:
                return None
            coll = next(r for r in repo.collection_access(conn) if r["name"] == found["collection"])
            if readable is not None and coll["id"] not in readable:
                return None
            if not allowed(actor, "retire", collection(coll)):
                return None
            found["retired"] = retirement(conn, document_id, found["retired_category"])
            found["revisions"] = history(conn, document_id)
            found["licence_texts"] = {
                ref: licence_text(conn, ref) for ref in licence_refs(found.get("licence"))
            }
        return found

    def revisions(self, document_id: int, actor: Actor = OPERATOR) -> list[dict[str, Any]]:
        """A readable published document's revisions, each with its diff to the one before.
        Readers see the revisions the commons published (and later superseded); curators
        of the collection see also what waits, was sent back or was refused."""
        from commune.commons.curation import PUBLIC_STATUSES, history, rules

        with self.engine.connect() as conn:
            doc = repo.published_document(conn, document_id, self.readable_ids(actor))
            if doc is None:
                raise NotFound(
                    f"no document {document_id}",
                    "list them with commune documents",
                    field_hint="check its number",
                )
            coll = next(r for r in repo.collection_access(conn) if r["name"] == doc["collection"])
            # The collection's approver role, as review() asks it: a curator where only
            # member admins approve saw the waiting revisions (unpublished text, why each
            # waits) that the queue and `review show` refuse them.
            role = rules(conn, coll["id"]).approver_role
            curator = bool(allowed(actor, "curate", collection(coll), role))
            return history(conn, document_id, None if curator else PUBLIC_STATUSES)

    def standing(self, document_id: int) -> tuple[str | None, str | None]:
        """A file sent again unchanged: why it still waits, or why a curator refused it
        (commons/curation.standing)."""
        from commune.commons.curation import standing

        with self.engine.connect() as conn:
            return standing(conn, document_id)

    def retirable(self, document_id: int, actor: Actor = OPERATOR) -> bool:
        """Whether ``actor`` may retire the published document they read: the check
        curation.retire makes (the action "retire" on its collection), asked before, so that
        the document's page offers the form only to whom it would not refuse."""
        with self.engine.connect() as conn:
            doc = repo.published_document(conn, document_id, self.readable_ids(actor))
            if doc is None:
                return False
            coll = next(r for r in repo.collection_access(conn) if r["name"] == doc["collection"])
            return bool(allowed(actor, "retire", collection(coll)))

    def set_visibility(
        self,
        collection: str,
        visibility: str,
        member: str | None = None,
        transfer: bool = False,
        actor: Actor = OPERATOR,
    ) -> str:
        """Make a collection private to a member, shared with the cooperative, or public, as
        ``actor``: a member's admins for their member's collections, never public without a
        cooperative admin, the operator for any (policy.can_share). Returns the decision's
        reason, which the audit row keeps with who decided.

        ``member`` names the owner (the operator's alone to change). A collection without
        one may be given one; a collection that has one changes hands only with
        ``transfer``: its owner's curators lose it, so a visibility change must never carry
        that out in passing. The transfer is audited with both owners."""
        from commune.commons.governed import governed_collection
        from commune.govern.members import departed
        from commune.govern.policy import Sharing
        from commune.govern.policy import collection as access

        _check_access(visibility, member, transfer)
        with self.engine.begin() as conn:
            row = governed_collection(conn, collection, actor, "share")
            left = departed(conn).get(row["member_id"])
            decision = allowed(actor, "share", Sharing(access(row), visibility, member, left))
            if not decision:
                if actor.is_operator and member is not None and member != row["owner"]:
                    # Handed over and opened at once (policy._kept_as_left): handed over as
                    # it is, its new owner's admins decide who reads it.
                    raise decision.refusal(
                        f"hand it over as it is: commune visibility {row['name']} "
                        f"{row['visibility']} --member {member!r} --transfer; {member}'s "
                        "admins then decide who reads it",
                        field_hint=f"hand it over as it is; {member}'s admins then decide "
                        "who reads it",
                    )
                if actor.is_operator:
                    # The one refusal the operator meets (policy._kept_as_left): "ask the
                    # operator" would send them to themselves; what they may do instead.
                    raise decision.refusal(
                        f"hand its documents back to it with commune export {row['name']}, "
                        "or the collection to the member it joins again as, with --member "
                        "and --transfer",
                        field_hint="hand its documents back to it, or the collection to the "
                        "member it joins again as",
                    )
                raise decision.refusal()
            _write_access(  # the name stored, which row["name"] read composed
                conn, row["name"], visibility, member, transfer, actor.user, decision.reason
            )
        return decision.reason

    def shareable(self, actor: Actor) -> list[dict[str, Any]]:
        """The collections whose readers ``actor`` may change, each with the visibilities
        they may give it (``choices``, from policy.can_share, its current one included): what
        the administration page offers, so that it never offers what the library refuses."""
        from commune.govern.members import departed
        from commune.govern.policy import VISIBILITIES, Sharing
        from commune.govern.policy import collection as access

        with self.engine.connect() as conn:
            rows = repo.collection_access(conn)
            left = departed(conn)
        offered = []
        for row in sorted(rows, key=lambda r: r["name"]):
            coll = access(row)
            if not allowed(actor, "read", coll):
                continue
            gone = None if coll.owner_id is None else left.get(coll.owner_id)
            choices = [
                v
                for v in VISIBILITIES
                # Private needs an owner, which only the operator gives (`--member`).
                if (v != "private" or coll.owner_id is not None)
                and allowed(actor, "share", Sharing(coll, v, owner_left=gone))
            ]
            if any(v != coll.visibility for v in choices):
                offered.append(
                    {
                        "name": coll.name,
                        "visibility": coll.visibility,
                        "owner": coll.owner,
                        "choices": choices,
                    }
                )
        return offered

    def _start_access(self, collection: str, visibility: str, member: str | None, by: str) -> None:
        """Start ``collection`` with its owner and visibility, in one transaction (no decision
        to take: whoever may add starts it, as `add` was told or :meth:`_starts_private`
        says). Made first in a transaction of its own, a kill before its visibility left it
        shared with no owner, and the same add run again was refused ("already shared"); a
        refusal (an unknown member) left it there for the corrected command to find, shared.
        Two adds starting one name at once: the second is told, and never sets the access
        of the collection the first started."""
        from commune.store.db import lock, write_transaction

        _check_access(visibility, member, False)
        with write_transaction(self.engine) as conn:
            lock(conn, "collection", collection)
            if repo.collection_id(conn, collection) is not None:
                raise CommuneError(
                    f"collection {collection!r} was started by another add meanwhile",
                    "run the same command again: it adds to that collection if you may",
                )
            repo.collection_id(conn, collection, create=True)
            _write_access(conn, collection, visibility, member, False, by)

    def _may_contribute(self, actor: Actor, name: str) -> None:
        """A contributor adds to collections it may read; a new one it may create."""
        from commune.govern.policy import check_role

        with self.engine.connect() as conn:
            row = next((r for r in repo.collection_access(conn) if r["name"] == name), None)
        if row is None:  # a new collection: the role is enough, and a name of plain words
            _check_new_name(name)
            decision = check_role(actor, "contributor", "adding documents")
        else:
            decision = allowed(actor, "contribute", collection(row))
        if decision:
            return
        if (
            row is not None
            and row["visibility"] == "private"
            and not allowed(actor, "read", collection(row))
        ):
            # Names are the cooperative's, one namespace for every member: another member's
            # private collection holds this one. "No collection named" hid nothing (a free
            # name is taken at once) and told the person to create what they were creating.
            known = ", ".join(sorted(self.readable(actor))) or "none yet"
            raise NotFound(  # 404 as any collection one may not read, said as it is
                f"the collection name {name!r} is not yours to use",
                f"choose another name for a new collection, or one of yours: {known}",
                field_hint="choose another name for a new collection",
            )
        raise decision.refusal()

    def add(
        self,
        paths: list[str | os.PathLike[str]],
        collection: str | None = None,
        licence: str | None = None,
        contributor: str | None = None,
        publisher: str | None = None,
        source: str | None = None,
        progress: Callable[[FileOutcome, int, int], None] | None = None,
        member: str | None = None,
        visibility: str | None = None,
        actor: Actor = OPERATOR,
        tdm_reserved: bool = False,
        ray_address: str | None = None,
        licence_text: str | None = None,
        exclude: Sequence[str] = (),
        history: bool = False,
        work: Work = ADD,
        notice: Callable[[str], None] | None = None,
    ) -> IngestSummary:
        """Ingest files into ``collection``; a new collection belongs to ``member`` if given
        (then private by default), else is shared with the cooperative by default, unless a
        member's person starts it: then it is their member's, private (:meth:`_starts_private`).
        With ``ray_address``, files are parsed and embedded on that Ray cluster. ``licence_text``:
        the text of the cooperative's own licence, when ``licence`` names one
        (``LicenseRef-…``) whose text is not recorded yet. ``exclude``: globs of files found
        in the directories given to pass over ("*.pdf"; pipeline.excluded). ``history``: the
        files are an exported dataset's revisions replayed in order (curation.ArrivalGate).
        ``work``: the face and kind the ledger rows of its energy name (account/metering.py),
        the member owning ``collection`` paying for it. ``notice``: told in one line (English,
        :func:`text.messages.localise` says it in French) what the add waits for, as it
        starts waiting."""
        from commune.govern.licences import check_texts, normalise
        from commune.ingest.pipeline import check_source

        # Bad input is refused before anything is written, a new collection included.
        if licence is not None:
            licence = normalise(licence)
        if source is not None:
            check_source(source)
        texts = licence is not None or licence_text is not None
        if texts:  # checked here, recorded once every other check has passed (below)
            with self.engine.connect() as conn:
                check_texts(conn, licence, licence_text, actor.user)
                conn.rollback()
        if contributor is None and not actor.is_operator:
            # A user contributing is the contributor the commons credits, unless told otherwise.
            contributor = f"{actor.user} ({actor.member})" if actor.member else actor.user
        if collection is not None and not collection.strip():
            # Not the default in silence: an empty name is a slip (a variable left unset).
            raise InvalidRequest(
                "the collection's name is empty",
                "give one, or leave it out to add to the default collection",
            )
        name = collection or self.settings.default_collection
        with self.engine.connect() as conn:  # the collection it writes, however composed
            if collection is None:
                check_default_collection(conn, name)
            name = repo.collection_named((r["name"] for r in repo.collection_access(conn)), name)
        # The columns that name them hold 200 characters on PostgreSQL (SQLite stores any
        # length): longer, the document was stored and every answer citing it then failed.
        # The API's upload and the contribute page have a collection field, not an option; a
        # contributor they do not name at all (the caller's user and member make it).
        for what, value, hint, field_hint in (
            ("collection", name, "give a shorter --collection", "give a shorter collection"),
            (
                "contributor",
                contributor,
                "give a shorter --contributor",
                "your user and member names make it: ask an admin for a shorter user name",
            ),
        ):
            if value is not None and len(value) > MAX_NAME:
                raise InvalidRequest(
                    f"the {what}'s name is {len(value)} characters long, over {MAX_NAME}",
                    hint,
                    field_hint=field_hint,
                )
        if any(unicodedata.category(ch).startswith("C") for ch in name):
            # A new name is anyone's to give (the contribute page, the API's upload), and the
            # operator's commands print it: a line break forged a line of `commune
            # collections`, an escape sequence drove the terminal. As people's names.
            raise InvalidRequest(
                "a collection's name may not hold tabs, line breaks or other control characters",
                "give a name such as 'deliberations-2026'",
            )
        self._may_contribute(actor, name)
        # Found before anything is written: a folder holding nothing to read is refused with
        # the collection it would start (and its visibility's audit row) never made.
        gathered = gather(list(paths), exclude)
        with self.engine.connect() as conn:
            exists = repo.collection_id(conn, name) is not None
        if (
            not exists
            and member is None
            and visibility is None
            and self._starts_private(actor, name)
        ):
            member, visibility = actor.member, "private"
        elif (
            not exists and not actor.is_operator and (member is not None or visibility is not None)
        ):
            member, visibility = self._may_start(actor, name, member, visibility)
        logged = not exists and (member is not None or visibility is not None)
        if member is not None or visibility is not None:
            if not exists:
                self._start_access(
                    name, visibility or ("private" if member else "shared"), member, actor.user
                )
            else:
                current = next(c for c in self.collections() if c["name"] == name)
                if (visibility and visibility != current["visibility"]) or (
                    member and member != current["owner"]
                ):
                    raise CommuneError(
                        f"collection {name!r} is already {current['visibility']} "
                        f"(owner {current['owner'] or 'none'})",
                        f"change it with: commune visibility {name} VISIBILITY "
                        "(and --member MEMBER --transfer to hand it over)",
                    )
        try:
            if texts:  # the text is recorded, or nothing is
                with self.engine.begin() as conn:
                    check_texts(conn, licence, licence_text, actor.user)
            summary = ingest_paths(
                self.engine,
                self.settings,
                list(paths),
                name,
                Provenance(
                    licence, contributor, publisher, source, tdm_reserved, actor, exact=history
                ),
                ArrivalGate(history=history),
                progress,
                ray_address,
                exclude,
                gathered,
                work,
                notice,
            )
        except BaseException:
            if not exists:
                with contextlib.suppress(Exception):  # the first error is the one to report
                    self._drop_if_empty(name, actor, logged)
            raise
        if not exists:
            self._drop_if_empty(name, actor, logged)
        return summary

    def _may_start(
        self, actor: Actor, name: str, member: str | None, visibility: str | None
    ) -> tuple[str | None, str]:
        """The owner and visibility of a collection ``actor`` starts with ``--member`` or
        ``--visibility`` (`commune add --as`), if :meth:`set_visibility`'s rule lets them
        give it those: `add` took them unchecked, so a contributor started a public
        collection, or one of another member's (and "no member named" listed every
        member). The collection is checked as what it would be without them: their
        member's, private (:meth:`_starts_private`), or the cooperative's."""
        from commune.govern.policy import Collection, Sharing

        if self._starts_private(actor, name):
            start = Collection(name, "private", actor.member_id, actor.member)
        else:
            start = Collection(name, "shared", None, None)
        wanted = visibility or ("private" if member else start.visibility)
        if wanted == start.visibility and member in (None, start.owner):
            return start.owner, wanted  # what they start anyway: nothing to decide
        # The owner named is checked before it is looked up: an unknown member and another
        # member get the same refusal.
        decision = allowed(actor, "share", Sharing(start, wanted, member))
        if not decision:
            raise decision.refusal()
        return member or start.owner, wanted

    def _starts_private(self, actor: Actor, name: str) -> bool:
        """Whether a new collection ``actor`` starts belongs to their member, private to it.

        A person's upload under a new name made a collection shared with every member and
        owned by none: a town's draft deliberations, sent to "deliberations-2026", were read
        by every other member's people, and no curator of the town could curate them apart
        from the cooperative's. A member's person now starts a collection of their member,
        which its admins share when the member wants it shared (:meth:`set_visibility`).
        The operator's own adds,
        and the home's default collection (the cooperative's, which every member's uploads
        reach without naming one), stay shared."""
        return (
            not actor.is_operator
            and actor.member is not None
            and name != self.settings.default_collection
        )

    def _drop_if_empty(self, name: str, actor: Actor, logged: bool) -> None:
        """A collection this add created and left empty (every file failed) is removed: a
        failed add leaves nothing behind, not a collection listed with 0 documents."""
        from commune.store import audit
        from commune.store.db import write_transaction

        with write_transaction(self.engine) as conn:
            cid = repo.collection_id(conn, name)
            if cid is None or not repo.drop_empty_collection(conn, cid):
                return
            if logged:  # its visibility was logged: the log says it is gone, and why
                audit.append(
                    conn,
                    actor.user,
                    "drop-collection",
                    f"collection {name}",
                    reason="the add that created it stored no document",
                )


def _check_access(visibility: str, member: str | None, transfer: bool) -> None:
    from commune.govern.policy import VISIBILITIES

    if visibility not in VISIBILITIES:
        raise InvalidRequest(
            f"visibility must be one of {', '.join(VISIBILITIES)}, got {visibility!r}"
        )
    if transfer and not member:
        raise InvalidRequest(
            "a transfer needs the new owner", "pass --member MEMBER with --transfer"
        )


def _write_access(
    conn: Connection,
    collection: str,
    visibility: str,
    member: str | None,
    transfer: bool,
    by: str,
    reason: str | None = None,
) -> None:
    """Set ``collection``'s owner and visibility in ``conn``'s transaction, with its audit
    rows (``by``: who did it; ``reason``: why they may)."""
    from commune.govern.members import member_id
    from commune.store import audit

    cid = repo.collection_id(conn, collection)
    if cid is None:
        raise NotFound(f"no collection named {collection!r}")
    current = repo.collection_owner(conn, cid)
    owner = member_id(conn, member) if member else current
    handed = current is not None and owner != current
    was = next(r["owner"] for r in repo.collection_access(conn) if r["id"] == cid)
    if handed and not transfer:
        raise CommuneError(
            f"collection {collection!r} belongs to {was}: --member {member} would "
            f"hand it to another member, and {was}'s curators would lose it",
            f"to hand it over, add --transfer: commune visibility {collection} "
            f"{visibility} --member {member!r} --transfer; to change only its "
            "visibility, drop --member",
        )
    if visibility == "private" and owner is None:
        raise InvalidRequest(
            f"a private collection needs an owner: pass --member for {collection!r}"
        )
    # Its row before the audit log: a new revision arriving holds the row as read (its
    # rules, curation.ArrivalGate) until it commits, and takes the audit log to publish; a
    # transfer logged first waited for it holding the audit log (PostgreSQL failed one).
    repo.set_collection_access(conn, cid, owner, visibility)
    if handed:
        audit.append(
            conn,
            by,
            "transfer",
            f"collection {collection}",
            from_owner=was,
            to_owner=member,
        )
    if visibility == "private":
        from commune.commons.peering.shares import withdraw_private

        withdraw_private(conn, cid, by)
    repo.bump_generation(conn, repo.NO_PASSAGE)  # readers change, passages do not
    # The owner it has now (not only the one named), and why the change was allowed.
    details: dict[str, Any] = {"visibility": visibility, "owner": member or was}
    if reason is not None:
        details["reason"] = reason
    audit.append(conn, by, "visibility", f"collection {collection}", **details)


def _for_readers(doc: dict[str, Any]) -> dict[str, Any]:
    """A document as the web, the API and agents show it: where the operator's disk held
    its file is the operator's to know (govern/sources.py)."""
    return {**doc, "source_uri": public_source(doc["source_uri"])}


# What a new collection's name may hold: letters (any language's), digits, spaces and
# - _ . , ' ( ) (« délibérations 2026 », « Eau d'Avray (2026) »). It is anyone's to give (the
# contribute page, the API's upload), and it is shown in every page, address and command
# after: a slash read as a path (« mairie/../x »), markup (« <b> ») were accepted. A name
# given before stays usable.
NAME_PUNCTUATION = frozenset("-_.,'’() ")


def _marks_a_letter(name: str, i: int) -> bool:
    """Whether ``name[i]`` is a mark (accent, vowel sign) on a letter or a digit: the first
    character before it that is no mark is one."""
    if not unicodedata.category(name[i]).startswith("M"):
        return False
    base = i - 1
    while base >= 0 and unicodedata.category(name[base]).startswith("M"):
        base -= 1
    return base >= 0 and name[base].isalnum()


def check_default_collection(conn: Connection, name: str) -> None:
    """Refuse commune.toml's default_collection where it names no collection here and no new
    one may be given that name: "mairie/2026" passed the start-up, then every add naming no
    collection was refused as "a new collection's name holds only…, not '/'", which said
    nothing of the setting the name came from."""
    names = [r["name"] for r in repo.collection_access(conn)]
    if repo.collection_named(names, name) in names:
        return  # made before the rule, or by hand: still usable
    try:
        _check_new_name(repo.collection_named(names, name))
    except InvalidRequest:
        raise ConfigError(
            f"default_collection in commune.toml names no collection here, and {name!r} "
            "cannot name a new one: a collection's name holds only letters, digits, spaces "
            "and - _ . , ' ( )",
            'give one such as "deliberations-2026", or remove the line',
        ) from None


def _check_new_name(name: str) -> None:
    other = next(
        (
            ch
            for i, ch in enumerate(name)
            if not ch.isalnum()
            and ch not in NAME_PUNCTUATION
            # A mark after a letter is part of it: Hindi's vowel signs and virama, Arabic's
            # vowels, which no composed character holds ("हिन्दी" was refused for its "ि").
            # Alone, at the start or after a space or a dash, it is none.
            and not _marks_a_letter(name, i)
        ),
        None,
    )
    if other is not None or not name.strip():
        raise InvalidRequest(
            f"a new collection's name holds only letters, digits, spaces and - _ . , ' ( ), "
            f"not {other or ' '!r}",
            "give a name such as 'deliberations-2026'",
        )
