"""Every SQL statement Commune runs, in one place, over SQLAlchemy Core."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, Integer, Text, and_, cast, func, insert, or_, select, update

from commune.store.schema import (
    chunks,
    collections,
    documents,
    embeddings,
    ingest_runs,
    meta,
    reviews,
    revisions,
)

GENERATION = "index_generation"


def new_id(result: Any) -> int:
    """The primary key of the row an INSERT just wrote."""
    key = result.inserted_primary_key
    assert key is not None, "an INSERT of one row has a primary key"
    return int(key[0])


def now() -> datetime:
    return datetime.now(UTC)


def aware(ts: datetime) -> datetime:
    """A stored timestamp in UTC: SQLite hands back naive datetimes, stored in UTC."""
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def zoned(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with each of its timestamps in UTC, its zone said: SQLite hands them back
    naive (stored in UTC), PostgreSQL in its session's zone. The API gave "2026-12-07T10:59:50"
    from one and "…+00:00" from the other, and a browser's Date, as Python's fromisoformat,
    read the first as the reader's own local time (an hour off in Paris)."""
    return {k: aware(v).astimezone(UTC) if isinstance(v, datetime) else v for k, v in row.items()}


def utc_text(ts: datetime) -> str:
    """A stored timestamp as the API's responses write one, its zone said (pydantic's form,
    which FastAPI gives a datetime): "2026-12-07T10:59:50.209994Z"."""
    return aware(ts).astimezone(UTC).isoformat().removesuffix("+00:00") + "Z"


def collection_named(names: Iterable[str], name: str) -> str:
    """The collection among ``names`` that ``name`` writes, compared in Unicode's composed
    form (NFC), or ``name`` composed: "marché" written with a combining acute (macOS's file
    names, text copied from some PDFs) was another string, "no collection named 'marché'
    (known collections: marché)", and a new name refused for its lone accent."""
    wanted = unicodedata.normalize("NFC", name)
    return next((n for n in names if unicodedata.normalize("NFC", n) == wanted), wanted)


def collection_id(conn: Connection, name: str, create: bool = False) -> int | None:
    if create:  # two adds creating one collection at once: the second finds the first's
        from commune.store.db import lock

        lock(conn, "collection", name)
    row = conn.execute(select(collections.c.id).where(collections.c.name == name)).first()
    if row is not None:
        return int(row.id)
    if not create:
        return None
    result = conn.execute(insert(collections).values(name=name, description="", created_at=now()))
    return new_id(result)


def document_key(coll_id: int, source_key: str) -> str:
    """What holds a document (store.db.lock's "document" key) while a transaction writes
    it: by its collection and source key, which an add knows before the document exists."""
    return f"{coll_id} {source_key}"


def hold_documents(conn: Connection, ids: Iterable[int]) -> None:
    """Hold the documents ``ids`` until the transaction ends, in one order, before any
    other lock: an add of a new revision takes its document's first of all (ingest/pipeline
    .store), then its row and the audit log. A change that writes other documents' rows
    after the audit log (a takedown holding another member's copy) took them the other
    way round, and PostgreSQL failed one of the two (deadlock)."""
    from commune.store.db import lock_all

    rows = conn.execute(
        select(documents.c.collection_id, documents.c.source_key).where(
            documents.c.id.in_(set(ids))
        )
    ).all()
    lock_all(conn, "document", [document_key(r.collection_id, r.source_key) for r in rows])


def drop_empty_collection(conn: Connection, coll_id: int) -> bool:
    """Delete a collection that holds no document (not even one waiting for curation);
    whether it was deleted."""
    from sqlalchemy import delete, exists

    held = exists().where(documents.c.collection_id == coll_id)
    return bool(
        conn.execute(delete(collections).where(collections.c.id == coll_id, ~held)).rowcount
    )


def list_collections(conn: Connection) -> list[dict[str, Any]]:
    from commune.store.schema import members

    q = (
        select(
            collections.c.id,
            collections.c.name,
            collections.c.visibility,
            collections.c.member_id,
            members.c.name.label("owner"),
            # What the collection publishes: a document waiting for a curator, rejected or
            # retired is not in it for its readers (the listing shows them none of these).
            func.count(documents.c.id).filter(documents.c.status == "published").label("documents"),
        )
        .select_from(collections.outerjoin(documents).outerjoin(members))
        .group_by(collections.c.id, members.c.name)
        .order_by(collections.c.name)
    )
    return [dict(r._mapping) for r in conn.execute(q)]


def find_document(conn: Connection, coll_id: int, source_key: str) -> Any:
    return conn.execute(
        select(documents).where(
            and_(documents.c.collection_id == coll_id, documents.c.source_key == source_key)
        )
    ).first()


def same_bytes(
    conn: Connection,
    coll_id: int,
    digest: str,
    source_uri: str | None = None,
    retired_too: bool = False,
) -> Any:
    """A document of the collection whose newest bytes are ``digest`` (and, given
    ``source_uri``, at that address): not retired, or with ``retired_too`` a retired one when
    no other holds them (the same file from another path is that document, and stays retired
    until a curator says otherwise: commons/curation.py)."""
    where = [documents.c.collection_id == coll_id, documents.c.content_hash == digest]
    if not retired_too:
        where.append(documents.c.status != "retired")
    if source_uri is not None:
        where.append(documents.c.source_uri == source_uri)
    return conn.execute(
        select(documents)
        .where(and_(*where))
        .order_by(documents.c.status == "retired", documents.c.id)
    ).first()


def publishing(conn: Connection, coll_id: int, digest: str) -> Any:
    """A document of the collection, not retired, whose published revision holds ``digest``:
    the text its readers find. A document's newest bytes (:func:`same_bytes`) may be a
    revision still waiting for a curator, which nobody reads."""
    return conn.execute(
        select(documents.c.id)
        .join(revisions, revisions.c.id == documents.c.published_revision_id)
        .where(
            documents.c.collection_id == coll_id,
            documents.c.status != "retired",
            revisions.c.content_hash == digest,
        )
        .order_by(documents.c.id)
    ).first()


def retired_holder(conn: Connection, coll_id: int, digest: str, takedowns: tuple[str, ...]) -> Any:
    """A retired document (its ``id`` and ``collection_id``) whose newest bytes are
    ``digest``, the collection's own first, when no document of the collection publishes
    them (a copy waiting for a curator publishes nothing). Any collection of the same
    owner: a takedown answered in one was undone by adding the file to another. Another
    owner's (another member's, or the cooperative's) holds only if retired for one of
    ``takedowns`` (or before its category was kept): another member's "outdated" held every
    member's upload of a form they all publish."""
    owner = collection_owner(conn, coll_id)
    same_owner = (
        collections.c.member_id.is_(None) if owner is None else collections.c.member_id == owner
    )
    retired = conn.execute(
        select(documents.c.id, documents.c.collection_id)
        .join(collections, collections.c.id == documents.c.collection_id)
        .where(documents.c.content_hash == digest, documents.c.status == "retired")
        .where(
            same_owner
            | documents.c.retired_category.is_(None)
            | documents.c.retired_category.in_(takedowns)
        )
        .order_by(documents.c.collection_id != coll_id, documents.c.id)
    ).first()
    if retired is None:
        return None
    return None if publishing(conn, coll_id, digest) is not None else retired


def generation(conn: Connection) -> int:
    row = conn.execute(select(meta.c.value).where(meta.c.key == GENERATION)).first()
    return int(row.value) if row else 0


# bump_generation's ``document_id`` for a change that leaves every passage as it was (who
# may read a collection is decided at query time).
NO_PASSAGE = -1


def bump_generation(conn: Connection, document_id: int | None = None) -> int:
    """Mark the searchable content as changed (same transaction as the change). With
    ``document_id``, log which document's passages changed, so that the index takes in that
    document alone (index/catalog.py) instead of rebuilding; NO_PASSAGE: none changed."""
    from commune.store.schema import index_log

    # Incremented in the database, not read then written: under PostgreSQL's READ COMMITTED
    # two transactions could both write N+1, and one change would never reach the index.
    bumped = conn.execute(
        update(meta)
        .where(meta.c.key == GENERATION)
        .values(value=cast(cast(meta.c.value, Integer) + 1, Text))
        .returning(meta.c.value)
    ).scalar()
    if bumped is None:
        new = generation(conn) + 1
        conn.execute(insert(meta).values(key=GENERATION, value=str(new)))
    else:
        new = int(bumped)
    if document_id is not None:
        doc = None if document_id == NO_PASSAGE else document_id
        conn.execute(insert(index_log).values(generation=new, document_id=doc))
    return new


# The bases of the search index built from this database (index/catalog.py): one meta row
# each, "index_base:<the base's own random name>", written before the base takes its place.
# A database put back by pg_restore, or a commune.db copied back, holds only the rows of the
# bases built before its dump: those built after, from the database it replaced, are told
# apart, though their generations are ones the restored database reaches again.
INDEX_BASE = "index_base:"


def index_bases(conn: Connection) -> set[str]:
    """The names of the index bases recorded as built from this database."""
    keys = conn.execute(select(meta.c.key).where(meta.c.key.startswith(INDEX_BASE))).scalars()
    return {str(k)[len(INDEX_BASE) :] for k in keys}


def record_index_base(conn: Connection, name: str, generation: int, model: str) -> None:
    conn.execute(insert(meta).values(key=INDEX_BASE + name, value=f"{generation} {model}"))


def forget_index_bases(conn: Connection, names: Iterable[str]) -> None:
    """Forget the bases removed from the index (another machine's stay recorded)."""
    keys = [INDEX_BASE + n for n in names]
    if keys:
        conn.execute(meta.delete().where(meta.c.key.in_(keys)))


def changed_documents(conn: Connection, after: int, upto: int) -> list[int] | None:
    """Documents whose searchable passages changed after generation ``after``, up to
    ``upto``; None when some change of that span is not logged per document (the index is
    then rebuilt)."""
    from commune.store.schema import index_log

    docs = (
        conn.execute(
            select(index_log.c.document_id)
            .where(index_log.c.generation > after, index_log.c.generation <= upto)
            .where(index_log.c.document_id.is_not(None))
            .distinct()
        )
        .scalars()
        .all()
    )
    logged = conn.execute(
        select(func.count(func.distinct(index_log.c.generation))).where(
            index_log.c.generation > after, index_log.c.generation <= upto
        )
    ).scalar_one()
    return [int(d) for d in docs] if logged == upto - after else None


@dataclass(frozen=True)
class NewChunk:
    text: str
    heading_path: str
    anchor: str | None
    page: int | None
    language: str
    terms: str
    n_words: int


def write_revision(
    conn: Connection,
    *,
    coll_id: int,
    existing: Any,
    source_key: str,
    doc: dict[str, Any],
    media_type: str,
    size_bytes: int,
    new_chunks: Sequence[NewChunk],
    vectors: np.ndarray,
    model: str,
    revision_fields: dict[str, Any] | None = None,
) -> tuple[int, int]:
    """Store one document revision with its chunks and vectors, as proposed.

    Returns (document id, revision id); publishing is curation's decision
    (``commune.commons.curation.publish``). Callers run this inside one
    transaction, so a crash leaves either the whole revision or nothing.
    """
    ts = now()
    if existing is None:
        document_id = int(
            new_id(
                conn.execute(
                    insert(documents).values(
                        collection_id=coll_id,
                        source_key=source_key,
                        status="proposed",
                        added_at=ts,
                        updated_at=ts,
                        **doc,
                    )
                )
            )
        )
        number, parent = 1, None
    else:
        document_id = int(existing.id)
        last = conn.execute(
            select(revisions.c.id, revisions.c.number)
            .where(revisions.c.document_id == document_id)
            .order_by(revisions.c.number.desc())
        ).first()
        number, parent = (last.number + 1, last.id) if last else (1, None)
    revision_id = int(
        new_id(
            conn.execute(
                insert(revisions).values(
                    document_id=document_id,
                    number=number,
                    parent_id=parent,
                    content_hash=doc["content_hash"],
                    title=doc["title"],
                    language=doc["language"],
                    licence=doc["licence"],
                    contributor=doc["contributor"],
                    publisher=doc["publisher"],
                    source_uri=doc["source_uri"],
                    media_type=media_type,
                    size_bytes=size_bytes,
                    created_at=ts,
                    status="proposed",
                    **(revision_fields or {}),
                )
            )
        )
    )
    # A published document keeps showing its published metadata until this revision is.
    shown = doc if existing is None or existing.published_revision_id is None else {}
    values = {**shown, "content_hash": doc["content_hash"]}
    conn.execute(
        update(documents)
        .where(documents.c.id == document_id)
        .values(current_revision_id=revision_id, updated_at=ts, **values)
    )
    ids = []
    for ordinal, c in enumerate(new_chunks):
        ids.append(
            int(
                new_id(
                    conn.execute(
                        insert(chunks).values(
                            revision_id=revision_id,
                            document_id=document_id,
                            ordinal=ordinal,
                            text=c.text,
                            heading_path=c.heading_path,
                            anchor=c.anchor,
                            page=c.page,
                            language=c.language,
                            terms=c.terms,
                            n_words=c.n_words,
                        )
                    )
                )
            )
        )
    store_vectors(conn, list(zip(ids, vectors, strict=True)), model)
    return document_id, revision_id


def current_revision(conn: Connection, document_id: int) -> Any:
    return conn.execute(
        select(revisions)
        .select_from(revisions.join(documents, documents.c.current_revision_id == revisions.c.id))
        .where(documents.c.id == document_id)
    ).first()


def same_passages(
    conn: Connection, revision_id: int, passages: Sequence[NewChunk], model: str
) -> bool:
    """Whether the revision holds ``passages``, in their order, each with its section, anchor,
    page and language, and with its vector of ``model``: what searching, embedding and citing
    it read. The terms are left out: they are made of these fields by the analyser, not by a
    reader."""
    stored = conn.execute(
        select(
            chunks.c.text,
            chunks.c.heading_path,
            chunks.c.anchor,
            chunks.c.page,
            chunks.c.language,
            embeddings.c.chunk_id,
        )
        .select_from(
            chunks.outerjoin(
                embeddings, and_(embeddings.c.chunk_id == chunks.c.id, embeddings.c.model == model)
            )
        )
        .where(chunks.c.revision_id == revision_id)
        .order_by(chunks.c.ordinal)
    ).all()
    return len(stored) == len(passages) and all(
        (r.text, r.heading_path, r.anchor, r.page, r.language)
        == (p.text, p.heading_path, p.anchor, p.page, p.language)
        and r.chunk_id is not None
        for r, p in zip(stored, passages, strict=False)
    )


def record_reading(conn: Connection, revision_id: int, reading: str | None) -> None:
    """Name ``reading`` as the one that made the revision's passages (readers.READINGS)."""
    conn.execute(update(revisions).where(revisions.c.id == revision_id).values(reading=reading))


def approved(conn: Connection, document_id: int, content_hash: str, licence: str) -> bool:
    """Whether a curator approved a revision of the document holding these bytes under this
    licence (commons/curation.review). Any of them, not only the newest: a newer reader's
    revision of the same bytes is published as the approved one was, with no review of its
    own, and the next reader upgrade found no approval on it."""
    found = conn.execute(
        select(reviews.c.id)
        .join(revisions, revisions.c.id == reviews.c.revision_id)
        .where(
            revisions.c.document_id == document_id,
            revisions.c.content_hash == content_hash,
            revisions.c.licence == licence,
            reviews.c.decision == "approve",
        )
        .limit(1)
    ).first()
    return found is not None


def published_licence(conn: Connection, document: Any) -> str | None:
    if document is None or document.published_revision_id is None:
        return None
    return conn.execute(
        select(revisions.c.licence).where(revisions.c.id == document.published_revision_id)
    ).scalar()


def published_member(conn: Connection, document: Any) -> int | None:
    """The member whose user contributed ``document``'s published revision (None: the
    operator's, or none published)."""
    if document.published_revision_id is None:
        return None
    return conn.execute(
        select(revisions.c.contributor_member_id).where(
            revisions.c.id == document.published_revision_id
        )
    ).scalar()


def current_vectors(conn: Connection, document_id: int, model: str) -> dict[str, np.ndarray]:
    """Vectors of a document's current chunks, to reuse across revisions, by
    :func:`vector_key`: a passage is embedded with its document's title, so a revision with
    another title embeds it again."""
    q = (
        select(revisions.c.title, chunks.c.text, chunks.c.heading_path, embeddings.c.vector)
        .select_from(
            chunks.join(documents, documents.c.current_revision_id == chunks.c.revision_id)
            .join(revisions, revisions.c.id == chunks.c.revision_id)
            .join(embeddings, embeddings.c.chunk_id == chunks.c.id)
        )
        .where(and_(documents.c.id == document_id, embeddings.c.model == model))
    )
    return {
        vector_key(r.title or "", r.heading_path, r.text): np.frombuffer(r.vector, dtype="<f4")
        for r in conn.execute(q)
    }


def vector_key(title: str, heading_path: str, text: str) -> str:
    """What a passage's vector was made of (ingest/pipeline.embedding_text): the same key, the
    same vector."""
    return "\x00".join((title, heading_path, text))


def searchable_chunks(conn: Connection, document_ids: Sequence[int] | None = None) -> Iterable[Any]:
    """Chunks of the published revision of every document not retired (of the given
    documents only, with ``document_ids``), in id order."""
    q = select(
        chunks.c.id,
        documents.c.id.label("document_id"),
        chunks.c.terms,
        documents.c.collection_id,
        documents.c.title,
        chunks.c.heading_path,
        chunks.c.text,
        chunks.c.language,
    ).order_by(chunks.c.id)
    return conn.execute(_searchable(q, document_ids))


def searchable_count(conn: Connection, document_ids: Sequence[int]) -> int:
    """How many chunks :func:`searchable_chunks` gives for ``document_ids``, counted."""
    if not document_ids:
        return 0
    return int(conn.execute(_searchable(select(func.count()), document_ids)).scalar_one())


def _searchable(q: Any, document_ids: Sequence[int] | None) -> Any:
    """``q`` over the chunks of the published revision of every document not retired (of
    ``document_ids`` only, when given): what the search index holds."""
    q = q.select_from(
        chunks.join(documents, documents.c.published_revision_id == chunks.c.revision_id)
    ).where(documents.c.status == "published")
    if document_ids is not None:
        q = q.where(documents.c.id.in_(list(document_ids)))
    return q


def vectors_for(conn: Connection, chunk_ids: Sequence[int], model: str) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    for start in range(0, len(chunk_ids), 900):  # stay under SQLite's bound-parameter cap
        part = chunk_ids[start : start + 900]
        rows = conn.execute(
            select(embeddings.c.chunk_id, embeddings.c.vector).where(
                and_(embeddings.c.model == model, embeddings.c.chunk_id.in_(part))
            )
        )
        out.update({int(r.chunk_id): r.vector for r in rows})
    return out


def store_vectors(conn: Connection, pairs: Sequence[tuple[int, np.ndarray]], model: str) -> None:
    if pairs:
        conn.execute(
            insert(embeddings),
            [
                {
                    "chunk_id": cid,
                    "model": model,
                    "dim": int(v.shape[0]),
                    "vector": np.asarray(v, dtype="<f4").tobytes(),
                }
                for cid, v in pairs
            ],
        )


def chunk_details(conn: Connection, chunk_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    q = (
        select(
            chunks.c.id.label("chunk_id"),
            chunks.c.document_id,
            chunks.c.text,
            chunks.c.heading_path,
            chunks.c.anchor,
            chunks.c.page,
            chunks.c.language,
            chunks.c.terms,
            chunks.c.revision_id,
            documents.c.tdm_reserved,
            documents.c.title,
            documents.c.source_uri,
            documents.c.licence,
            documents.c.contributor,
            documents.c.publisher,
            collections.c.name.label("collection"),
        )
        .select_from(chunks.join(documents).join(collections))
        .where(chunks.c.id.in_(list(chunk_ids)))
    )
    return {int(r.chunk_id): dict(r._mapping) for r in conn.execute(q)}


def collection_access(conn: Connection) -> list[dict[str, Any]]:
    """What a visibility decision needs about every collection, and nothing more.

    Kept apart from :func:`list_collections` because it runs on every search:
    it must not count documents.
    """
    from commune.store.schema import members

    q = select(
        collections.c.id,
        collections.c.name,
        collections.c.visibility,
        collections.c.member_id,
        members.c.name.label("owner"),
    ).select_from(collections.outerjoin(members))
    return [dict(r._mapping) for r in conn.execute(q)]


def collection_owner(conn: Connection, coll_id: int) -> int | None:
    return conn.execute(select(collections.c.member_id).where(collections.c.id == coll_id)).scalar()


def collection_owner_and_name(conn: Connection, coll_id: int) -> tuple[int | None, str | None]:
    """The member owning the collection (None: the cooperative's) and its name, in one read
    (None, None for a collection that is not there)."""
    row = conn.execute(
        select(collections.c.member_id, collections.c.name).where(collections.c.id == coll_id)
    ).first()
    return (row.member_id, row.name) if row is not None else (None, None)


def set_collection_access(
    conn: Connection, coll_id: int, owner: int | None, visibility: str
) -> None:
    conn.execute(
        update(collections)
        .where(collections.c.id == coll_id)
        .values(member_id=owner, visibility=visibility)
    )


def list_documents(
    conn: Connection,
    collection_ids: list[int] | None = None,
    limit: int = 100,
    offset: int = 0,
    published_only: bool = False,
    after: int | None = None,
    unpublished_in: Sequence[int] = (),
) -> list[dict[str, Any]]:
    """Documents in id order, ``limit`` of them from ``offset``, or after the id ``after``;
    ``published_only``: the published ones, but in the collections ``unpublished_in``."""
    n_chunks = (
        select(func.count(chunks.c.id))
        .where(chunks.c.revision_id == documents.c.current_revision_id)
        .scalar_subquery()
    )
    q = (
        _documents_query(collection_ids, published_only, unpublished_in)
        .add_columns(n_chunks.label("chunks"))
        .order_by(documents.c.id)
        .limit(limit)
        .offset(offset)
    )
    if after is not None:
        q = q.where(documents.c.id > after)
    return [zoned(dict(r._mapping)) for r in conn.execute(q)]


def _documents_query(
    collection_ids: list[int] | None, published_only: bool, unpublished_in: Sequence[int] = ()
) -> Any:
    """Documents with their licence, provenance and collection: what listings show (the
    published ones only, with ``published_only``, but in the collections ``unpublished_in``).

    A published document's fields are its published revision's, its ``content_hash`` too.
    The row's own is its newest file's (store_revision keeps it so: a file added again is
    known by it), and a revision waiting for a curator had its hash listed and served beside
    the published text: a re-user checking the file against it, or it against the open-data
    export's sha256 in documents.jsonl (the published file's), found them apart, and a reader
    could confirm a guess of the waiting file's bytes, which only its curators may read."""
    published_file = revisions.alias("published_file")
    q = select(
        documents.c.id,
        documents.c.title,
        documents.c.source_uri,
        documents.c.language,
        documents.c.licence,
        documents.c.contributor,
        documents.c.publisher,
        func.coalesce(published_file.c.content_hash, documents.c.content_hash).label(
            "content_hash"
        ),
        documents.c.status,
        documents.c.published_revision_id,
        documents.c.current_revision_id,
        documents.c.tdm_reserved,
        documents.c.added_at,
        documents.c.updated_at,
        collections.c.name.label("collection"),
    ).select_from(
        documents.join(collections).outerjoin(
            published_file, published_file.c.id == documents.c.published_revision_id
        )
    )
    if collection_ids is not None:
        q = q.where(collections.c.id.in_(collection_ids))
    if published_only:
        published = and_(
            documents.c.status == "published", documents.c.published_revision_id.is_not(None)
        )
        q = q.where(or_(published, collections.c.id.in_(unpublished_in)))
    return q


def published_document(
    conn: Connection, document_id: int, collection_ids: list[int] | None
) -> dict[str, Any] | None:
    """A published document with the text of its published revision, or None when it does
    not exist, is not published, or is outside ``collection_ids`` (None: any)."""
    q = _documents_query(collection_ids, published_only=True).where(documents.c.id == document_id)
    return _with_text(conn, conn.execute(q).first())


def retired_document(conn: Connection, document_id: int) -> dict[str, Any] | None:
    """A retired document with the text it was retired with (none left for a personal-data
    takedown, whose texts are erased), or None when it is not retired: for its curators."""
    q = _documents_query(None, published_only=False).where(
        documents.c.id == document_id, documents.c.status == "retired"
    )
    found = _with_text(conn, conn.execute(q).first())
    if found is not None:
        category = select(documents.c.retired_category).where(documents.c.id == document_id)
        found["retired_category"] = conn.execute(category).scalar()
    return found


def _with_text(conn: Connection, row: Any) -> dict[str, Any] | None:
    """``row`` of _documents_query with its published revision's text and passages."""
    if row is None:
        return None
    parts = conn.execute(
        select(chunks.c.id, chunks.c.text, chunks.c.heading_path, chunks.c.page)
        .where(chunks.c.revision_id == row.published_revision_id)
        .order_by(chunks.c.ordinal)
    ).all()
    return {
        **zoned(dict(row._mapping)),
        "text": "\n\n".join(p.text for p in parts),
        # Each passage with its chunk id: citations link to it (the web document view).
        "passages": [
            {"chunk_id": p.id, "section": p.heading_path, "page": p.page, "text": p.text}
            for p in parts
        ],
    }


def record_ingest_run(conn: Connection, started: datetime, seconds: float, **counts: int) -> None:
    conn.execute(insert(ingest_runs).values(started_at=started, seconds=seconds, **counts))


def ingest_run_recorded(conn: Connection, started: datetime) -> bool:
    """Whether the ingest run started at ``started`` has its row (a run's start, to the
    microsecond, is its own)."""
    found = conn.execute(select(ingest_runs.c.id).where(ingest_runs.c.started_at == started))
    return found.first() is not None


def record_usage(conn: Connection, **values: Any) -> None:
    from commune.store.schema import usage

    conn.execute(insert(usage).values(created_at=now(), **values))
