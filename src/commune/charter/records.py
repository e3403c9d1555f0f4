"""Responsibility: each request's decisions recorded, kept for the charter's retention.

The charter decides whether a record keeps the question's text or only its SHA-256.
Records past their retention are purged, and each purge is written to the audit log.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from commune.charter.rules import Charter
from commune.commons.payouts import Weights
from commune.govern.accounts import was_removed
from commune.store.repository import new_id, now, utc_text
from commune.store.schema import (
    UNNAMED,
    answer_cache,
    charters,
    credits,
    decisions,
    peer_citations,
    usage,
)


def question_hash(question: str) -> str:
    return hashlib.sha256(question.strip().encode("utf-8")).hexdigest()


def write(
    conn: Connection,
    charter: Charter,
    *,
    route: str,
    actor: Any,
    question: str,
    language: str,
    collection: str | None,
    outcome: str,
    model: str | None,
    steps: list[dict[str, Any]],
    wh: float | None,
) -> int:
    keep = charter.utility.keep_question == "text"
    if keep and actor.user_id is not None and was_removed(conn, actor.user_id):
        # A request already under way when its asker was removed finishes, and its record
        # lands after the removal erased that person's texts (govern/accounts.remove_user):
        # it kept the text the removal said was gone, until the retention's purge. It is
        # written as theirs are left: the SHA-256, the steps and the energy, no text. No lock
        # is held while was_removed waits that the removal wants: it writes their row first,
        # the audit log after, and this is read before the purge that may take the audit log
        # (CharterBook.write); the quota's lock, which the answer's transaction holds, no
        # removal takes.
        keep = False
    result = conn.execute(
        insert(decisions).values(
            created_at=now(),
            route=route,
            member_id=actor.member_id,
            user_id=actor.user_id,
            question=question if keep else None,
            question_sha256=question_hash(question),
            language=language,
            collection=collection,
            outcome=outcome,
            model=model,
            steps=json.dumps(steps, ensure_ascii=False),
            charter_sha256=charter.sha256,
            wh=wh,
        )
    )
    return new_id(result)


def purge(conn: Connection, charter: Charter, actor: str = "charter") -> int:
    """Delete records older than the retention; the purge itself is audited. Under a
    charter that keeps only the question's hash, the texts an earlier charter kept are
    erased too: every asker is told "kept with only the question's hash" (steps.
    responsibility), their own earlier questions included. The web sessions ended before
    the same cutoff go too, the asker's id on the credits and on the ledger's rows before it,
    and the answers cached before it that name their asker. Returns the decision records
    deleted."""
    from commune.govern import guesses
    from commune.govern import sessions as web_sessions
    from commune.govern.quotas import month
    from commune.store import audit
    from commune.store.db import lock

    cutoff = now() - timedelta(days=charter.utility.retention_days)
    # What /metrics counts as answers given (account/observed.py) is the records kept plus
    # those purged, by outcome: the purge's own count keeps that total from falling back.
    by_outcome = {
        str(outcome): int(n)
        for outcome, n in conn.execute(
            select(decisions.c.outcome, func.count())
            .where(decisions.c.created_at < cutoff)
            .group_by(decisions.c.outcome)
        )
    }
    gone = conn.execute(delete(decisions).where(decisions.c.created_at < cutoff)).rowcount
    # The web sessions that ended or expired before the same cutoff: who signed in when is
    # kept as long as what they asked, not for good (govern/sessions.purge).
    sessions = web_sessions.purge(conn, cutoff)
    # The wrong keys' and passwords' counts past a day: no longer any window's.
    guesses.forget_old(conn, time.time())
    # Who asked, on the credits past the same cutoff (their answers' citations of this
    # home's documents, and of a peer's): forgotten, the rows kept. Credits pay contributors
    # by use: the report, the statement and the payouts count citations and answers by
    # contributor, document, month and member, and none reads who asked. The one rule about
    # the asker (a contributor's own questions earn nothing: commons/credits._contributed_by)
    # is applied when the row is written. So no total changes.
    unnamed = sum(
        int(
            conn.execute(
                update(table)
                .where(table.c.created_at < cutoff, table.c.user_id.is_not(None))
                .values(user_id=None)
            ).rowcount
            or 0
        )
        for table in (credits, peer_citations)
    )
    # Who made each request, on the ledger's rows past the same cutoff: forgotten too, the
    # one change its triggers allow (migration 0023). The id becomes UNNAMED, not NULL,
    # which marks ingestion's rows (store/schema.INGESTION): a request stays a request in
    # every total. The member stays, so no member's nor the cooperative's total changes; a
    # person's own usage page stops at the retention. A row of this month stays named until
    # the month is over: a person's quota per month counts their rows (govern/quotas), and a
    # retention under a month would otherwise give them back what they used.
    ledger_cutoff = min(cutoff, month(now()).start)
    usage_unnamed = int(
        conn.execute(
            update(usage)
            .where(
                usage.c.created_at < ledger_cutoff,
                usage.c.user_id.is_not(None),
                usage.c.user_id != UNNAMED,
            )
            .values(user_id=UNNAMED)
        ).rowcount
        or 0
    )
    # Who asked, on the answer cache past the same cutoff: an entry keeps the question's text
    # beside its asker's id (so that their removal deletes it, govern/accounts.remove_user)
    # for cache_ttl_hours, which a charter may set past the retention; a purge left it
    # saying who asked what, after every record had forgotten. The entry goes: without its
    # asker, their removal could no longer find its text. The operator's name nobody, and
    # stay their lifetime. The audit log's lock first, as a removal takes it before deleting
    # entries: each holding what the other waits for was a deadlock on PostgreSQL. Taken
    # only when there is such an entry: an hourly purge with nothing to do waits for nobody.
    named = (answer_cache.c.created_at < cutoff, answer_cache.c.user_id.is_not(None))
    cached = 0
    if conn.execute(select(answer_cache.c.id).where(*named).limit(1)).first() is not None:
        lock(conn, "audit")
        cached = int(conn.execute(delete(answer_cache).where(*named)).rowcount or 0)
    erased = 0
    if charter.utility.keep_question != "text":
        erased = conn.execute(
            update(decisions).where(decisions.c.question.is_not(None)).values(question=None)
        ).rowcount
    if gone or erased or sessions or unnamed or usage_unnamed or cached:
        audit.append(
            conn,
            actor,
            audit.PURGE_DECISIONS,
            "decision records",
            deleted=gone,
            by_outcome=by_outcome,
            before=cutoff.isoformat(),
            retention_days=charter.utility.retention_days,
            charter=charter.sha256,
            **({"questions_erased": erased} if erased else {}),
            **({"sessions_deleted": sessions} if sessions else {}),
            **({"credits_unnamed": unnamed} if unnamed else {}),
            **({"usage_unnamed": usage_unnamed} if usage_unnamed else {}),
            **({"cached_answers_deleted": cached} if cached else {}),
        )
    return int(gone or 0)


def remember_charter(conn: Connection, charter: Charter) -> bool:
    """Record a charter as in force from now (and audit it), unless it is the one already in
    force; True if recorded. An earlier charter brought back is recorded again: the history
    says what was in force when, and the latest entry is the one in force."""
    from commune.store import audit
    from commune.store.db import lock

    def latest() -> str | None:
        return conn.execute(
            select(charters.c.sha256).order_by(charters.c.id.desc()).limit(1)
        ).scalar_one_or_none()

    if latest() == charter.sha256:
        return False  # in force already: every start of every command, without a write lock
    # A server and the CLI seeing the edit at once: the second reads the first's entry
    # instead of both recording the same return.
    lock(conn, "charter")
    if latest() == charter.sha256:
        return False
    conn.execute(
        insert(charters).values(
            sha256=charter.sha256,
            version=charter.version,
            text=charter.text,
            in_force_from=now(),
        )
    )
    audit.append(conn, "operator", "charter", f"charter {charter.version}", sha256=charter.sha256)
    return True


def payout_weights_at(conn: Connection, at: datetime) -> Weights | None:
    """The payout weights of the charter in force at ``at``: the latest recorded before it
    (None if none was). A month is paid by the rule in force when it closed, not by the one
    in force on the day it is issued: issued again after the charter changed, it reads as
    the statement its audit entry hashed."""
    from commune.charter.rules import payout_weights

    row = conn.execute(
        select(charters.c.text, charters.c.version, charters.c.sha256)
        .where(charters.c.in_force_from < at)
        .order_by(charters.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return payout_weights(row.text, f"charter {row.version} ({row.sha256[:12]})")


def history(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(charters.c.version, charters.c.sha256, charters.c.in_force_from).order_by(
            charters.c.id.desc()
        )
    ).all()
    return [
        {"version": r.version, "sha256": r.sha256, "in_force_from": utc_text(r.in_force_from)}
        for r in rows
    ]


def outcome_counts(conn: Connection, exclude_routes: tuple[str, ...] = ("eval",)) -> list[Any]:
    return list(
        conn.execute(
            select(decisions.c.outcome, decisions.c.model, func.count(), func.sum(decisions.c.wh))
            .where(decisions.c.route.not_in(exclude_routes))
            .group_by(decisions.c.outcome, decisions.c.model)
        ).all()
    )
