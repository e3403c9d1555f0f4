"""`commune check`: is the home whole? After a crash (kill -9, power loss) or a restore.

Each check says what it verified and, when it fails, what to do. Nothing is changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, and_, func, not_, select

from commune.store import blobs, erasure
from commune.store.schema import chunks, documents, embeddings, revisions

# How many repeated documents a check names: enough to act on, the rest named once those
# are retired.
REPEATS_SHOWN = 10


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, ok, detail))


def check(engine: Engine, embedder: str, home: Path | None = None) -> Report:
    """Every check of the home's database, each with what it found; ``embedder`` names the
    model whose vector every published chunk must have; ``home``, where the original files
    the revisions name must be."""
    from commune.store.audit import verify

    report = Report()
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            result = conn.exec_driver_sql("PRAGMA integrity_check").scalars().all()
            report.add(
                "database",
                result == ["ok"],
                "SQLite integrity check: ok"
                if result == ["ok"]
                else f"SQLite integrity check failed: {'; '.join(result[:3])} (restore the "
                "last backup: commune restore DIR)",
            )
        if engine.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'usage'"
            needed = {"usage_append_only_update", "usage_append_only_delete"}
        else:
            query = (
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'usage'::regclass "
                "AND NOT tgisinternal AND tgenabled <> 'D'"
            )
            needed = {f"usage_append_only_{a}" for a in ("update", "delete", "truncate")}
        triggers = set(conn.exec_driver_sql(query).scalars())
        report.add(
            "ledger",
            needed <= triggers,
            "the ledger refuses UPDATE and DELETE (its triggers are in place)"
            if needed <= triggers
            else f"the ledger's append-only triggers are missing: {sorted(needed - triggers)}",
        )
        n_docs = conn.execute(select(func.count()).select_from(documents)).scalar() or 0
        # A document whose newest revision has no chunk was cut off mid-write.
        partial = (
            conn.execute(
                select(documents.c.id)
                .where(
                    not_(
                        select(chunks.c.id)
                        .where(chunks.c.revision_id == documents.c.current_revision_id)
                        .exists()
                    )
                )
                .limit(5)
            )
            .scalars()
            .all()
        )
        dangling = (
            conn.execute(
                select(documents.c.id)
                .outerjoin(
                    revisions,
                    and_(
                        revisions.c.id == documents.c.published_revision_id,
                        revisions.c.document_id == documents.c.id,
                    ),
                )
                .where(documents.c.published_revision_id.is_not(None), revisions.c.id.is_(None))
                .limit(5)
            )
            .scalars()
            .all()
        )
        problems = [f"document {d} has no chunk in its current revision" for d in partial]
        problems += [
            f"document {d} points to a published revision it does not have" for d in dangling
        ]
        report.add(
            "documents",
            not problems,
            f"{n_docs} document{'s' if n_docs != 1 else ''}, none partial"
            if not problems
            else "; ".join(problems),
        )
        model = embedder
        missing = (
            conn.execute(
                select(func.count())
                .select_from(chunks)
                .join(documents, documents.c.id == chunks.c.document_id)
                .where(chunks.c.revision_id == documents.c.published_revision_id)
                # A personal-data takedown erased these passages and their vectors: nothing
                # serves them, and no reindex must embed their blank text.
                .where(chunks.c.revision_id.not_in(erasure.erased_revisions(conn)))
                .where(
                    not_(
                        select(embeddings.c.chunk_id)
                        .where(embeddings.c.chunk_id == chunks.c.id, embeddings.c.model == model)
                        .exists()
                    )
                )
            ).scalar()
            or 0
        )
        report.add(
            "vectors",
            missing == 0,
            f"every published chunk has its {model} vector"
            if not missing
            else f"{missing} published chunks have no {model} vector: run commune reindex",
        )
        # The same bytes at the same address, twice in a collection: stored by a version
        # before `commune add` recognised them (a fiche fetched in two checkouts). Nothing is
        # broken, but each passage is found twice and crowds out the others (bench/README.md,
        # issue 20, item 6: the fiches' answers with every fact 0.565 on such a home, 0.505 on
        # a clean one, the measures wrong both ways). The later copy is the one to retire, alone:
        # retired with its copies, it took the first down too and the fiche left the commons.
        # Each later copy beside the first kept, in one query (a self-join on the three
        # keys), so that a home with many repeats costs one scan, not one per group.
        later, first = documents.alias("later"), documents.alias("first")
        twice = conn.execute(
            select(later.c.id, func.min(first.c.id), func.count().over())
            .join(
                first,
                and_(
                    first.c.collection_id == later.c.collection_id,
                    first.c.content_hash == later.c.content_hash,
                    first.c.source_uri == later.c.source_uri,
                    first.c.id < later.c.id,
                ),
            )
            .where(later.c.status != "retired", first.c.status != "retired")
            .group_by(later.c.id)
            .order_by(later.c.id)
            .limit(REPEATS_SHOWN)
        ).all()
        repeats = [
            f"document {d} repeats document {f} (the same bytes at the same address): "
            f"retire it with commune retire {d} --reason duplicate --keep-copies"
            for d, f, _ in twice
        ]
        if twice and twice[0][2] > len(twice):
            repeats.append(
                f"and {twice[0][2] - len(twice)} more: retire these, then run commune check again"
            )
        report.add(
            "duplicates",
            not repeats,
            "no document stored twice (the same bytes at the same address)"
            if not repeats
            else "; ".join(repeats),
        )
        if home is not None:
            # An interrupted restore once left a database whose original files were not
            # copied, and every check said ok: exports and backups need those files.
            # Shorter than the revision's bytes is absent too: a power cut can leave an
            # original's name with an empty file (store/blobs.py).
            # Not the revisions a personal-data takedown erased: their files are gone by
            # design (store/erasure.py), unless another revision holds the same bytes.
            erased = erasure.erased_revisions(conn)
            rows = conn.execute(
                select(revisions.c.id, revisions.c.content_hash, revisions.c.size_bytes)
            ).all()
            held = {(r.content_hash, r.size_bytes) for r in rows if r.id not in erased}
            absent = sum(1 for r in held if not blobs.whole(blobs.blob_path(home, r[0]), int(r[1])))
            report.add(
                "originals",
                absent == 0,
                "every revision's original file is in blobs/"
                if not absent
                else (
                    "1 revision has no original file"
                    if absent == 1
                    else f"{absent} revisions have no original file"
                )
                + (
                    " in blobs/ (restore the last backup: commune restore DIR --force)"
                    if engine.dialect.name == "sqlite"
                    # commune restore refuses a PostgreSQL home; and a second server on
                    # the same database finds no file until it shares the first's blobs/.
                    else " in blobs/ (copy back the blobs/ kept with the last pg_dump, or "
                    "share the first server's blobs/ with a second one on this database)"
                ),
            )
            # A personal-data takedown whose original files are still in blobs/ (its texts are
            # erased): said only then, as the purge finishes it at once unless it cannot.
            waiting = len(erasure.pending(conn))
            if waiting:
                report.add(
                    "erasures",
                    False,
                    (
                        "1 personal-data takedown still has its original files"
                        if waiting == 1
                        else f"{waiting} personal-data takedowns still have their original files"
                    )
                    + " in blobs/ (run commune charter purge; the server's log says what stops it)",
                )
        audit = verify(conn)
        report.add(
            "audit",
            audit.ok,
            f"audit chain intact ({audit.entries} {'entry' if audit.entries == 1 else 'entries'})"
            if audit.ok
            else "; ".join(audit.problems[:3]),
        )
    return report
