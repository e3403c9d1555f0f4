"""Erasure: what a personal-data takedown removes from the home, and what it keeps.

A document retired for personal data (commons/curation.retire) had its text kept in its
history: every revision's passages, their vectors and its original file in ``blobs/``. The
person who asked for erasure was still stored, only no longer served. Its texts are erased
now, its titles too (often the text's first words); what the audit needs stays: each
revision's SHA-256, size, dates, address, who contributed and who decided. The audit log's
entries are never edited: each entry's hash covers its details, and each entry chains the one
before's hash, so that a "publish" entry's title replaced by its hash would break the chain
from there on (`commune audit verify`). The titles it holds stay there.

In two steps, so that nothing is left half-erased:

1. In the takedown's transaction (:func:`erase`): every passage of the document's revisions
   blanked (text, lexical terms, headings, anchor), their vectors deleted, their titles
   replaced, and the
   erasure recorded in ``meta`` as pending, with the files it must delete. A revision still
   waiting for a curator keeps its text: it may be the corrected one that a curator approves
   to bring the document back (or a member's own text held after a dataset's publisher
   retired theirs), and nothing serves it meanwhile; but not one whose bytes an erasure
   removes (the erased file added again under another address, held for a curator).
2. After the commit (:func:`finish`): each of those files deleted from ``blobs/`` unless a
   revision not erased (another member's copy held for its curators, a waiting revision)
   still holds the same bytes, then the record marked done and an ``erase`` entry appended
   to the audit log. A crash in between leaves the record pending: the next purge, retirement
   or server start finishes it (deleting a file already gone is nothing).

The record stays once done: it tells `commune check` and the backup's verification that these
revisions have no original file by design (:func:`erased_revisions`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from commune.store.schema import chunks, documents, embeddings, meta, revisions

log = logging.getLogger(__name__)


def erased_title(document_id: int) -> str:
    """What an erased revision's title becomes: the document's number, which names it in
    every list and in the audit log, and reads the same in French and English."""
    return f"document {document_id}"


# One meta row per document erased: "erasure <document id>".
PREFIX = "erasure "
PENDING, DONE = "pending", "done"
# The revisions a curator has yet to decide on (commons/curation.WAITING): kept, see above.
_WAITING = ("proposed", "changes-requested")


def _key(document_id: int) -> str:
    return f"{PREFIX}{document_id}"


def _record(conn: Connection, document_id: int) -> dict[str, Any] | None:
    value = conn.execute(select(meta.c.value).where(meta.c.key == _key(document_id))).scalar()
    return None if value is None else dict(json.loads(value))


def erase(conn: Connection, document_id: int, actor: str) -> int:
    """Blank the passages of ``document_id``'s revisions (all but those waiting), delete
    their vectors and record the erasure pending, in the caller's transaction. Returns the
    revisions erased now."""
    earlier = _record(conn, document_id)
    done = set(earlier["revisions"]) if earlier else set()
    every = conn.execute(
        select(revisions.c.id, revisions.c.content_hash, revisions.c.status)
        .where(revisions.c.document_id == document_id)
        .order_by(revisions.c.id)
    ).all()
    # A waiting revision is spared (a corrected text), but not one holding the very bytes
    # this takedown or an earlier one erases: the erased file added again under another
    # address, held for a curator (ingest/pipeline.retired_copy), is the same person's data.
    erased_bytes = {r.content_hash for r in every if r.status not in _WAITING}
    for value in conn.execute(select(meta.c.value).where(meta.c.key.startswith(PREFIX))).scalars():
        erased_bytes.update(json.loads(value)["files"])
    rows = [r for r in every if r.status not in _WAITING or r.content_hash in erased_bytes]
    new = [r for r in rows if r.id not in done]
    ids = [int(r.id) for r in new]
    if ids:
        passages = select(chunks.c.id).where(chunks.c.revision_id.in_(ids))
        conn.execute(delete(embeddings).where(embeddings.c.chunk_id.in_(passages)))
        conn.execute(
            update(chunks)
            .where(chunks.c.revision_id.in_(ids))
            .values(text="", terms="", heading_path="", anchor=None)
        )
        # A title is often the text's first words (a plain text's first line): it goes too,
        # for the document's number. The audit log's "publish" entries keep theirs (above).
        title = erased_title(document_id)
        conn.execute(update(revisions).where(revisions.c.id.in_(ids)).values(title=title))
        # A waiting one erased leaves the curators' queue: approved, it published a blank
        # document (its passages are empty) under the note "approving it brings it back".
        conn.execute(
            update(revisions)
            .where(revisions.c.id.in_(ids), revisions.c.status.in_(_WAITING))
            .values(status="rejected")
        )
        conn.execute(
            update(documents)
            .where(documents.c.id == document_id, documents.c.status == "retired")
            .values(title=title)
        )
    files = sorted({*(earlier["files"] if earlier else ()), *(r.content_hash for r in new)})
    value = json.dumps(
        {
            "state": PENDING if ids or (earlier and earlier["state"] == PENDING) else DONE,
            "revisions": sorted(done | set(ids)),
            "files": files,
            "actor": actor,
        }
    )
    if earlier is None:
        conn.execute(insert(meta).values(key=_key(document_id), value=value))
    else:
        conn.execute(update(meta).where(meta.c.key == _key(document_id)).values(value=value))
    return len(ids)


def erased_revisions(conn: Connection) -> set[int]:
    """Every revision whose texts an erasure removed (pending or done)."""
    found: set[int] = set()
    for value in conn.execute(select(meta.c.value).where(meta.c.key.startswith(PREFIX))).scalars():
        found |= set(json.loads(value)["revisions"])
    return found


def erased_passages(conn: Connection) -> set[int]:
    """Every passage (chunk id) an erasure blanked, pending or done: none is searchable
    again (a document brought back is by a new revision, with passages of its own)."""
    revs = erased_revisions(conn)
    if not revs:
        return set()
    found = conn.execute(select(chunks.c.id).where(chunks.c.revision_id.in_(sorted(revs))))
    return {int(i) for i in found.scalars()}


def pending(conn: Connection) -> list[int]:
    """The documents whose erasure has not finished (its files not yet deleted)."""
    found = []
    for key, value in conn.execute(
        select(meta.c.key, meta.c.value).where(meta.c.key.startswith(PREFIX))
    ):
        if json.loads(value)["state"] == PENDING:
            found.append(int(key[len(PREFIX) :]))
    return sorted(found)


def still_held(conn: Connection, digest: str, erased: set[int]) -> bool:
    """Whether a revision not erased holds the file ``digest``: then it stays in blobs/."""
    holders = conn.execute(
        select(revisions.c.id).where(revisions.c.content_hash == digest)
    ).scalars()
    return any(int(r) not in erased for r in holders)


def erased_file(conn: Connection, digest: str) -> bool:
    """Whether an erasure deleted the file ``digest`` (and no revision still holds it): the
    same file added again must not put it back (ingest/pipeline.one_file)."""
    for value in conn.execute(select(meta.c.value).where(meta.c.key.startswith(PREFIX))).scalars():
        if digest in json.loads(value)["files"]:
            return not still_held(conn, digest, erased_revisions(conn))
    return False


def finish(
    engine: Engine,
    home: Path,
    run: Callable[[Callable[[Connection], bool]], bool] | None = None,
) -> int:
    """Finish every pending erasure: delete its files from ``blobs/`` (those no other
    revision holds), mark it done and audit it. Returns the erasures finished. ``run``:
    runs each erasure's transaction, given its work (the server's purger: in tries its
    shutdown ends, charter/book.CharterBook._in_tries); by default, in one transaction
    that waits for its locks."""
    with engine.connect() as conn:
        todo = pending(conn)
    finished = 0
    for document_id in todo:
        work = partial(_finish_one, document_id=document_id, home=home)
        if run is not None:
            done = run(work)
        else:
            with engine.begin() as conn:
                done = work(conn)
        finished += done
    return finished


def _finish_one(conn: Connection, document_id: int, home: Path) -> bool:
    """:func:`finish` for one document, in ``conn``'s transaction: True if finished now."""
    from commune.store import audit, blobs
    from commune.store.db import lock

    lock(conn, "document", _key(document_id))
    record = _record(conn, document_id)
    if record is None or record["state"] != PENDING:
        return False  # another process finished it meanwhile
    # The files' locks, as a retirement and an add of the same file take them
    # (commons/curation._hold_files, ingest/pipeline.store): an add committing a new
    # revision of these bytes meanwhile keeps its file.
    for digest in record["files"]:
        lock(conn, "file", digest)
    erased = erased_revisions(conn)
    deleted, kept, failed = [], [], False
    for digest in record["files"]:
        if still_held(conn, digest, erased):
            kept.append(digest)
            continue
        try:
            blobs.blob_path(home, digest).unlink(missing_ok=True)
        except OSError as exc:
            # Its texts are erased already: the file waits, pending, for the next
            # try, and the retirement that committed is not reported as failed.
            log.warning("an erased original stays in blobs/ until the next try: %s", exc)
            failed = True
            continue
        deleted.append(digest)
    if failed:
        return False
    conn.execute(
        update(meta)
        .where(meta.c.key == _key(document_id))
        .values(value=json.dumps({**record, "state": DONE}))
    )
    audit.append(
        conn,
        record["actor"],
        "erase",
        f"document {document_id}",
        revisions=record["revisions"],
        files_deleted=deleted,
        files_kept=kept,
    )
    return True
