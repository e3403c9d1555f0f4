"""Attribution credits: which documents and contributors answers cited, per month.

The basis for paying contributors fairly: a citation is counted once per
sentence that cites the source.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, String, cast, func, literal, select

from commune.account.statement import parse_month
from commune.govern.policy import Actor
from commune.govern.quotas import month as month_window
from commune.store.schema import credits, documents


def _answer_key() -> ColumnElement[str]:
    """What tells one answer's rows from another's: its key, or the row itself where none
    was recorded (rows written before it)."""
    return func.coalesce(credits.c.answer, literal("row ") + cast(credits.c.id, String))


def report(conn: Connection, month: str) -> dict[str, Any]:
    window = month_window(parse_month(month))
    base = (credits.c.created_at >= window.start, credits.c.created_at < window.end)
    by_contributor = conn.execute(
        select(
            func.coalesce(credits.c.contributor, "(unknown)").label("contributor"),
            func.count(func.distinct(credits.c.document_id)).label("documents"),
            # An answer citing two of the contributor's documents is one answer for them.
            func.count(func.distinct(_answer_key())).label("answers"),
            func.sum(credits.c.citations).label("citations"),
        )
        .where(*base)
        .group_by(credits.c.contributor)
        .order_by(func.sum(credits.c.citations).desc())
    )
    by_document = conn.execute(
        select(
            credits.c.document_id,
            documents.c.title,
            documents.c.licence,
            func.coalesce(credits.c.contributor, "(unknown)").label("contributor"),
            # A peer's answer has a row per passage it cited: two of one document, one answer.
            func.count(func.distinct(_answer_key())).label("answers"),
            func.sum(credits.c.citations).label("citations"),
        )
        .select_from(credits.join(documents, documents.c.id == credits.c.document_id))
        .where(*base)
        .group_by(
            credits.c.document_id, documents.c.title, documents.c.licence, credits.c.contributor
        )
        .order_by(func.sum(credits.c.citations).desc())
    )
    from commune.commons.peering.citations import report as peering

    return {
        "month": month,
        "contributors": [dict(r._mapping) for r in by_contributor],
        "documents": [dict(r._mapping) for r in by_document],
        # What other cooperatives cited of this home (counted above too), and what this
        # home cited of theirs (theirs to credit): docs/peering.md.
        **peering(conn, window.start, window.end),
    }


def record(
    conn: Connection,
    route: str,
    answer: Any,
    revision_of: dict[int, int | None],
    actor: Any,
) -> None:
    """Credit every document (and its contributor) an answer cited."""
    from uuid import uuid4

    from sqlalchemy import insert

    from commune.store.repository import now

    # A peer's passages are credited by the peer (commons/peering/citations.py).
    own = [s for s in answer.sources if getattr(s, "origin", None) is None]
    if not own:
        return
    counts: dict[int, int] = {}
    for s in answer.sentences:
        for n in s.get("sources", [s.get("source")]):
            counts[n] = counts.get(n, 0) + 1
    # A contributor's own questions earn them nothing: asking about one's own document, as
    # often as one likes, was paid from the fund as a reader's use of it.
    mine = _contributed_by(conn, actor, {revision_of.get(s.chunk_id) for s in own})
    # One row per document the answer cited, its passages' citations summed: a row per
    # passage made "answers" count an answer citing two passages of a document twice.
    rows: dict[int, dict[str, Any]] = {}
    key = uuid4().hex  # the answer's, on each of its rows
    for src in own:
        if revision_of.get(src.chunk_id) in mine:
            continue
        row = rows.setdefault(
            src.document_id,
            {
                "created_at": now(),
                "route": route,
                "member_id": actor.member_id,
                "user_id": actor.user_id,
                "document_id": src.document_id,
                "revision_id": revision_of.get(src.chunk_id),
                "contributor": src.contributor,
                "citations": 0,
                "answer": key,
            },
        )
        row["citations"] += counts.get(src.n, 1)
    if rows:
        conn.execute(insert(credits), list(rows.values()))


def _contributed_by(conn: Connection, actor: Any, revision_ids: set[int | None]) -> set[int]:
    """The revisions among ``revision_ids`` that ``actor`` contributed (none for the
    operator or a peer, who are nobody's contributor here)."""
    from commune.store.schema import revisions

    ids = {r for r in revision_ids if r is not None}
    if getattr(actor, "user_id", None) is None or not ids:
        return set()
    found = conn.execute(
        select(revisions.c.id).where(
            revisions.c.id.in_(ids), revisions.c.contributor_user_id == actor.user_id
        )
    )
    return {int(r) for r in found.scalars()}


class Credits:
    """The contributors' credits of a home: who was cited, and the monthly report."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(
        self,
        route: str,
        answer: Any,
        revision_of: dict[int, int | None],
        actor: Actor,
        conn: Connection | None = None,
    ) -> None:
        """Credit every document an answer cited (``revision_of``: chunk id -> revision);
        ``conn``: the caller's transaction, when the credits land with the answer's ledger
        row or not at all."""
        from commune.store.db import within

        with within(self.engine, conn) as tx:
            record(tx, route, answer, revision_of, actor)

    def report(self, month: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return report(conn, month)
