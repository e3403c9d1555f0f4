"""Citations that cross between cooperatives, in both directions.

- A peer's answer cited this home's passages: the peer reports them (``POST /peer/cited``)
  and they are credited in ``credits`` like a member's, under the peer's member, with the
  route ``peer/cited``: payouts count them for this home's contributors.
- This home's answer cited a peer's passages: ``peer_citations`` keeps them, marked with the
  peer, for the credits report; this home's payouts leave them to the peer.

A peer's document retired since this home cited it (for personal data, most often: its
title may name the person) is forgotten here: each ``/peer/search`` reply lists the
documents that peer's answers cited and that it has since retired (:func:`retired_cited`),
and the asking home blanks their titles in ``peer_citations`` as it reads the reply
(:func:`forget_titles`), keeping the counts, which the peer's credits need. A home that
asks its peers nothing for a while would keep the titles until its next question: `commune
peer forget` asks each peer for that list alone (``POST /peer/retired``,
:func:`commune.answering.federation.ask_retired`: this module writes, that one talks to peers).

Only citations count, never passages merely returned: a passage a peer fetched and did not
use earned its contributor nothing, as for a member's own answers. And only passages
returned count: each citation is checked against the passages ``/peer/search`` gave that
peer (``peer_returns``), one citation per return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import Connection, Select, delete, func, insert, select, update

from commune.commons.peering.shares import shared
from commune.errors import InvalidRequest
from commune.govern.policy import Actor
from commune.store import repository as repo
from commune.store.repository import now
from commune.store.schema import (
    audit_log,
    credits,
    documents,
    members,
    peer_citations,
    peer_returns,
    peers,
)

ROUTE = "peer/cited"
# A peer reports what its answer cited as soon as the answer is written, once
# (answering/federation.py): a return not cited within a day never will be. Past that it is
# no longer credited, and deleted at the next peer search, or the table would keep every
# passage of every peer search for good.
RETURNS_KEPT = timedelta(days=1)


def record_returned(conn: Connection, chunk_ids: list[int], actor: Actor) -> None:
    """Keep the passages ``/peer/search`` returned to the peer ``actor``: its citation
    reports are credited only against these, for :data:`RETURNS_KEPT`; older returns of
    every peer are deleted here."""
    at = now()
    conn.execute(delete(peer_returns).where(peer_returns.c.created_at < at - RETURNS_KEPT))
    if chunk_ids:
        conn.execute(
            insert(peer_returns),
            [{"created_at": at, "member_id": actor.member_id, "chunk_id": c} for c in chunk_ids],
        )


# Why a passage of a citation report was dropped, by its ``why``: the words sent to the
# peer (English, the machine routes' language), which the asking side says in its
# operator's language from its own catalogue (text/messages.py; answering/federation.py).
DROPPED = {
    "not-shared": "not a passage of a collection shared with peers (any more)",
    "not-returned": "not returned to this peer by /peer/search in the last day, or its "
    "citation already counted",
}


def check_report(counts: dict[int, int]) -> None:
    """Refuse whole a report that is not one: past 100 passages, ids or counts out of range
    (InvalidRequest, before its quota is checked: a malformed report is no request taken)."""
    if len(counts) > 100:
        raise InvalidRequest(f"at most 100 passages per report, got {len(counts)}")
    if any(not 0 < c < 2**62 for c in counts):
        raise InvalidRequest("passage ids are the positive ids /peer/search gave")
    if any(n <= 0 or n > 100 for n in counts.values()):
        raise InvalidRequest("citations per passage must be between 1 and 100")


def record_cited_by_peer(conn: Connection, counts: dict[int, int], actor: Actor) -> dict[str, Any]:
    """Credit the passages (chunk id -> citations) a peer's answer cited. A passage is
    credited only if it is in a collection shared with peers and was returned to this peer
    by ``/peer/search`` within :data:`RETURNS_KEPT` and not yet cited for that return. Each
    passage earns one citation per return, whatever count the peer sends: payouts share
    money by citations, and a peer could otherwise credit any passage, or one passage a
    hundred times, without ever having been given it.

    The others are dropped, each said with why (``dropped``), and the rest credited: a
    report was refused whole for one passage, and this home changes its collections between
    a peer's search and its report (a collection no longer shared, or made private), so an
    answer's citations of what was still shared earned their contributors nothing. A
    passage dropped earns nothing: a peer gains nothing by naming passages it was never
    given. A report that is not one (past 100 passages, ids or counts out of
    range) is still refused whole. Returns ``{"recorded": rows written, "dropped": [{"passage",
    "why", "reason"}]}``; ``why`` is "not-shared" or "not-returned"."""
    check_report(counts)
    dropped: list[dict[str, Any]] = []
    if not counts:
        return {"recorded": 0, "dropped": dropped}
    outward = {s.collection for s in shared(conn)}
    details = repo.chunk_details(conn, list(counts))
    credited: list[int] = []
    at = now()
    for cid in sorted(counts):
        if cid not in details or details[cid]["collection"] not in outward:
            dropped.append({"passage": cid, "why": "not-shared", "reason": DROPPED["not-shared"]})
            continue
        ret = conn.execute(
            select(peer_returns.c.id)
            .where(
                peer_returns.c.member_id == actor.member_id,
                peer_returns.c.chunk_id == cid,
                peer_returns.c.cited_at.is_(None),
                peer_returns.c.created_at >= at - RETURNS_KEPT,
            )
            .order_by(peer_returns.c.id)
            .limit(1)
        ).first()
        # Conditional, so that two reports at once cannot both spend one return.
        spent = (
            ret is not None
            and conn.execute(
                update(peer_returns)
                .where(peer_returns.c.id == ret.id, peer_returns.c.cited_at.is_(None))
                .values(cited_at=at)
            ).rowcount
            == 1
        )
        if not spent:
            dropped.append(
                {"passage": cid, "why": "not-returned", "reason": DROPPED["not-returned"]}
            )
            continue
        credited.append(cid)
    if not credited:
        return {"recorded": 0, "dropped": dropped}
    # One report is one answer of the peer's: its rows share a key, as a member's answer's do
    # (commons/credits.record), or an answer citing two of a contributor's passages counted
    # as two answers on their line of `commune credits`.
    answer = uuid4().hex
    rows = [
        {
            "created_at": now(),
            "route": ROUTE,
            "member_id": actor.member_id,
            "user_id": actor.user_id,
            "document_id": details[cid]["document_id"],
            "revision_id": details[cid]["revision_id"],
            "contributor": details[cid]["contributor"],
            "citations": 1,
            "answer": answer,
        }
        for cid in credited
    ]
    conn.execute(insert(credits), rows)
    return {"recorded": len(rows), "dropped": dropped}


def record_peer_sources(
    conn: Connection, route: str, cited: list[dict[str, Any]], actor: Actor
) -> None:
    """Keep the peers' documents an answer of this home cited (each: peer, document_id,
    title, licence, contributor, citations). What a peer gives is kept as PostgreSQL can
    store it (SQLite stores anything): a contributor's name to the column's 200 characters,
    its texts without NUL characters, and no document whose id is past the column's
    integers (a Commune peer's ids are its database's). Otherwise every answer citing that
    peer's passage failed on PostgreSQL, the asker told of a NUL character they never
    sent, or of an internal error."""
    # One row per document the answer cited, its passages' citations summed, as a member's
    # answer's credits (commons/credits.record): a row per passage counted an answer citing
    # two passages of a peer's document as two answers on its line of `commune credits`.
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for c in cited:
        if not -(2**31) <= int(c["document_id"]) < 2**31:
            continue
        key = (c["peer"], int(c["document_id"]))
        if key in rows:
            rows[key]["citations"] += c["citations"]
            continue
        rows[key] = {
            "created_at": now(),
            "route": route,
            "member_id": actor.member_id,
            "user_id": actor.user_id,
            **c,
            "title": _no_nul(c["title"]),
            "licence": _no_nul(c.get("licence")),
            "contributor": _within(_no_nul(c.get("contributor")), peer_citations.c.contributor),
        }
    if not rows:
        return
    # A peer removed while the answer was under way (its passages gathered, the model still
    # writing): `commune peer remove` blanked its titles and contributors, and the answer's
    # rows, written after, kept them for good, where no takedown of the peer's reaches. Its
    # rows are kept as the removal leaves them. Read under a share lock on PostgreSQL: a
    # removal waits for this answer to commit, then blanks its rows too (SQLite writes one
    # at a time).
    asked = {
        str(name)
        for name in conn.execute(
            select(peers.c.name)
            .where(peers.c.name.in_(sorted({peer for peer, _ in rows})))
            .with_for_update(read=True)
        ).scalars()
    }
    for (peer, _), row in rows.items():
        if peer not in asked:
            row["title"], row["contributor"] = "", None
    conn.execute(insert(peer_citations), list(rows.values()))


def _no_nul(value: str | None) -> str | None:
    return None if value is None else value.replace("\x00", "")


def _within(value: str | None, column: Any) -> str | None:
    """``value`` cut to ``column``'s length."""
    return None if value is None else value[: column.type.length]


# The most retired documents one /peer/search reply names (the newest documents first).
MAX_RETIRED = 1000


def retired_cited(conn: Connection, actor: Actor) -> list[int]:
    """This home's documents the peer ``actor``'s answers cited (its citation reports, in
    ``credits``) that have since been retired: their ids, for the peer to forget their
    titles. Any retirement, not only for personal data: a retired document's title has no
    reason to stay in another cooperative's records, and the category stays this home's."""
    cited = select(credits.c.document_id).where(
        credits.c.route == ROUTE, credits.c.member_id == actor.member_id
    )
    rows = conn.execute(
        select(documents.c.id)
        .where(documents.c.status == "retired", documents.c.id.in_(cited))
        .order_by(documents.c.id.desc())
        .limit(MAX_RETIRED)
    )
    return [int(r.id) for r in rows]


def forget_titles(conn: Connection, peer: str, retired: Any) -> int:
    """Blank the titles of ``peer``'s documents that it says it retired (``retired``: the
    document ids of its reply, as it sent them: anything else than ids is ignored); the
    rows and their counts stay, for the credits report. Returns the documents whose title
    was forgotten: counted by rows, one per answer, `commune peer forget` said "12 titles
    forgotten" of one document cited by twelve answers."""
    if not isinstance(retired, list):
        return 0
    ids = sorted({r for r in retired[:MAX_RETIRED] if type(r) is int and 0 < r < 2**62})
    if not ids:
        return 0
    kept = (
        peer_citations.c.peer == peer,
        peer_citations.c.document_id.in_(ids),
        peer_citations.c.title != "",
    )
    titled = conn.execute(
        select(func.count(func.distinct(peer_citations.c.document_id))).where(*kept)
    ).scalar_one()
    if titled:
        conn.execute(update(peer_citations).where(*kept).values(title=""))
    return int(titled)


@dataclass(frozen=True)
class Reinstated:
    """A document of this home a peer's answers cited, retired, then brought back: its
    title, for the peer to show again, and what decides whether the peer may have it (the
    fields the serving side judges a passage by: answering/peer_desk.py)."""

    document_id: int
    title: str
    collection: str
    licence: str | None
    tdm_reserved: bool


def reinstatements() -> Select[str]:
    """The subjects of the audit log's reinstatements, each once. Reinstatements are rare:
    their subjects are read through the index on (action, subject) (migration 0026), not
    the whole log, which grows for good, on every /peer/search."""
    return select(audit_log.c.subject).where(audit_log.c.action == "reinstate").distinct()


def reinstated_cited(conn: Connection, actor: Actor) -> list[Reinstated]:
    """This home's documents the peer ``actor``'s answers cited that were brought back after
    a retirement (reinstated, or a revision of the retired document approved: both audited
    "reinstate"), published now in a collection shared outward, at most
    :data:`MAX_RETIRED`, the newest documents first. The peer forgot their titles when they
    were listed in :func:`retired_cited`, and a retirement undone was never undone there:
    each title stayed blank, "(retired by the peer)", for good. Listed whether or not the
    peer forgot it (this home does not know): the peer gives back only a title it forgot
    (:func:`restore_titles`). Only candidates: the peer desk sends those the collection's
    policy and the licence allow to the peer, as it sends passages."""
    back = {
        int(subject[len("document ") :])
        for subject in conn.execute(reinstatements()).scalars()
        if subject.startswith("document ") and subject[len("document ") :].isdigit()
    }
    outward = {s.collection_id: s.collection for s in shared(conn)}
    if not back or not outward:
        return []
    cited = select(credits.c.document_id).where(
        credits.c.route == ROUTE, credits.c.member_id == actor.member_id
    )
    rows = conn.execute(
        select(
            documents.c.id,
            documents.c.title,
            documents.c.collection_id,
            documents.c.licence,
            documents.c.tdm_reserved,
        )
        .where(
            documents.c.status == "published",
            documents.c.id.in_(sorted(back)),
            documents.c.id.in_(cited),
            documents.c.collection_id.in_(sorted(outward)),
        )
        .order_by(documents.c.id.desc())
        .limit(MAX_RETIRED)
    )
    return [
        Reinstated(
            int(r.id),
            str(r.title),
            outward[r.collection_id],
            None if r.licence is None else str(r.licence),
            bool(r.tdm_reserved),
        )
        for r in rows
    ]


def restore_titles(conn: Connection, peer: str, reinstated: Any) -> int:
    """Give back the titles of ``peer``'s documents it says it brought back after retiring
    them (``reinstated``: ``[{"document_id", "title"}]`` of its reply, as it sent them:
    anything else is ignored), where this home forgot them (:func:`forget_titles`): on the
    rows cited since the peer was last added, with a blank title. A title forgotten
    because the peer was removed (registry.forget_peer: the rows from before it was added
    again) stays forgotten, as does its contributor. The title given back is the
    document's now, cut as a passage's title is (answering/federation.py). Returns the
    documents whose title came back."""
    if not isinstance(reinstated, list):
        return 0
    titles: dict[int, str] = {}
    for r in reinstated[:MAX_RETIRED]:
        if not isinstance(r, dict):
            continue
        doc, title = r.get("document_id"), r.get("title")
        if type(doc) is not int or not 0 < doc < 2**31 or not isinstance(title, str):
            continue
        title = (_no_nul(title) or "")[:500]
        try:
            title.encode("utf-8")  # a lone surrogate: no title PostgreSQL or a page can show
        except UnicodeEncodeError:
            continue
        if title.strip():
            titles[doc] = title
    # A peer removed between this read and the writes below (commune peer remove blanks only
    # the titles it sees) would have them back for good, where no takedown of its own
    # reaches: on PostgreSQL the removal waits for this transaction under a share lock, as
    # record_peer_sources makes it wait; on SQLite, where a transaction takes its lock at
    # its first write, each write asks again whether the peer is there, and since when.
    registered = select(peers.c.added_at).where(peers.c.name == peer)
    added = conn.execute(registered.with_for_update(read=True)).scalar()
    if not titles or added is None:
        return 0
    blank = (
        peer_citations.c.peer == peer,
        peer_citations.c.document_id.in_(sorted(titles)),
        peer_citations.c.title == "",
        peer_citations.c.created_at >= registered.scalar_subquery(),
    )
    # Read first, then written: listed in every reply, a title given back once is not
    # written again at each search.
    forgotten = conn.execute(select(peer_citations.c.document_id).where(*blank).distinct())
    ids = sorted(int(d) for d in forgotten.scalars())
    for doc in ids:
        conn.execute(
            update(peer_citations)
            .where(*blank, peer_citations.c.document_id == doc)
            .values(title=titles[doc])
        )
    return len(ids)


def report(conn: Connection, start: Any, end: Any) -> dict[str, list[dict[str, Any]]]:
    """Between ``start`` and ``end``: this home's documents the peers cited (by peer), and
    the peers' documents this home cited."""
    by_peers = conn.execute(
        select(
            members.c.name.label("peer"),
            func.coalesce(credits.c.contributor, "(unknown)").label("contributor"),
            func.count(func.distinct(credits.c.document_id)).label("documents"),
            func.sum(credits.c.citations).label("citations"),
        )
        .select_from(credits.join(members, members.c.id == credits.c.member_id))
        .where(credits.c.route == ROUTE, credits.c.created_at >= start, credits.c.created_at < end)
        .group_by(members.c.name, credits.c.contributor)
        .order_by(members.c.name, func.sum(credits.c.citations).desc())
    )
    from_peers = conn.execute(
        select(
            peer_citations.c.peer,
            peer_citations.c.document_id,
            peer_citations.c.title,
            peer_citations.c.licence,
            func.coalesce(peer_citations.c.contributor, "(unknown)").label("contributor"),
            func.count(peer_citations.c.id).label("answers"),
            func.sum(peer_citations.c.citations).label("citations"),
            func.max(peer_citations.c.created_at).label("last_cited"),
        )
        .where(peer_citations.c.created_at >= start, peer_citations.c.created_at < end)
        .group_by(
            peer_citations.c.peer,
            peer_citations.c.document_id,
            peer_citations.c.title,
            peer_citations.c.licence,
            peer_citations.c.contributor,
        )
        .order_by(peer_citations.c.peer, func.sum(peer_citations.c.citations).desc())
    )
    # Why a title is blank: the peer retired the document (forget_titles), or the peer was
    # removed since (forget_peer): it is no longer registered, or was added again after
    # these citations (a removal blanked every title it had).
    added = {str(r.name): r.added_at for r in conn.execute(select(peers.c.name, peers.c.added_at))}

    def forgotten(r: Any) -> str | None:
        if r.title:
            return None
        since = added.get(r.peer)
        return "retired" if since is not None and r.last_cited >= since else "peer removed"

    return {
        "cited_by_peers": [dict(r._mapping) for r in by_peers],
        "from_peers": [
            {
                **{k: v for k, v in r._mapping.items() if k != "last_cited"},
                "forgotten": forgotten(r),
            }
            for r in from_peers
        ],
    }
