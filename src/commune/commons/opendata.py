"""Open export and import: a collection as an open dataset, described in Croissant and DCAT-AP.

Layout of an export::

    files/<id>-<name>     the original bytes of each published document
    documents.jsonl       one line of metadata and provenance per document
    croissant.json        Croissant 1.0 (ML datasets), built and validated with mlcroissant;
                          its @id the dataset's identity, kept through a rename
    dcat.jsonld           DCAT-AP 3 (the EU standard for data portals), checked with rdflib;
                          the tests validate it against the DCAT-AP 3.0.0 SHACL shapes

    files/history/<id>-r<n>-<name>   the bytes of each earlier published revision
    retired.jsonl         the documents retired since their publication, for the homes that
                          imported an earlier export to retire them too (no names, no reason)

Each line of ``documents.jsonl`` carries, under ``history``, the document's earlier published
revisions (oldest first) with their own file, SHA-256, provenance and date. Import reads
``croissant.json``, checks every file against its SHA-256, and adds each document with its
licence and provenance: a new document with its earlier revisions first, then its published
one, each revision keeping its date and the document its ``added_at``. What stays with the
home that made it: revisions never published (proposed, sent back, rejected), the curators'
reviews and the audit log. mlcroissant and rdflib are optional
(``pip install 'commune-coop[export]'``).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import Engine, select

from commune.account.metering import IMPORT, Work
from commune.commons.library import Library
from commune.errors import CommuneError
from commune.govern.licences import check_texts, licence_refs, licence_text, normalise
from commune.govern.policy import OPERATOR, RETIRE_CATEGORIES, TAKEDOWNS, Actor
from commune.govern.sources import public_source
from commune.ingest.pipeline import FileOutcome
from commune.store import blobs
from commune.store import repository as repo
from commune.store.files import flush, flush_tree
from commune.store.schema import chunks, collections, documents, revisions

# The ledger rows of an import's work: `commune import`'s, of their own kind (ingestion).
IMPORTED = Work("import", IMPORT)

SUFFIX = {
    "text/html": ".html",
    "text/markdown": ".md",
    "text/plain": ".txt",
    "application/pdf": ".pdf",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/xml": ".xml",  # a service-public.fr fiche, whose address has no suffix
    "application/json": ".json",
}
FIELDS = [
    "id",
    "title",
    "file",
    "media_type",
    "sha256",
    "language",
    "licence",
    "contributor",
    "publisher",
    "source_uri",
    "added_at",
    "retrieved_at",
    "revision",
    "tdm_reserved",
]


# What a revision carries into an export: the published one's and each earlier one's.
_REVISION_FIELDS = (
    revisions.c.number,
    revisions.c.title,
    revisions.c.content_hash,
    revisions.c.media_type,
    revisions.c.language,
    revisions.c.licence,
    revisions.c.contributor,
    revisions.c.publisher,
    revisions.c.source_uri,
    revisions.c.created_at,
    revisions.c.tdm_reserved,
)


# What makes two revisions the same file as given: its bytes and its provenance.
_SAME_FILE = ("content_hash", "licence", "contributor", "publisher", "source_uri", "tdm_reserved")


def _requires() -> tuple[Any, Any]:
    try:
        import mlcroissant
        import rdflib
    except ImportError:
        raise CommuneError(
            "open export needs mlcroissant and rdflib", "pip install 'commune-coop[export]'"
        ) from None
    return mlcroissant, rdflib


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _spdx_url(licence: str | None) -> str | None:
    if not licence or " " in licence or licence_refs(licence):
        # Expressions have no single URL, and the cooperative's own licences (LicenseRef-…)
        # none on spdx.org: kept verbatim in documents.jsonl, their texts under licences/.
        return None
    return f"https://spdx.org/licenses/{licence}.html"


def _licence_texts(
    engine: Engine, entries: list[dict[str, Any]], out: Path
) -> list[dict[str, Any]]:
    """Each ``LicenseRef-…`` text the entries' licences name, written to licences/: without
    it a dataset under the cooperative's own licence could not be imported anywhere else."""
    refs = sorted({ref for e in entries for ref in licence_refs(e["licence"])})
    written = []
    with engine.connect() as conn:
        for ref in refs:
            text = licence_text(conn, ref)
            if text is None:  # published under it, so recorded: a home edited by hand
                raise CommuneError(f"no text is recorded for {ref}", "record it before exporting")
            (out / "licences").mkdir(exist_ok=True)
            path = out / "licences" / f"{ref}.txt"
            path.write_text(text, encoding="utf-8")
            written.append(
                {"file": f"licences/{ref}.txt", "media_type": "text/plain", "sha256": _sha256(path)}
            )
    return written


def _rows(engine: Engine, collection: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        cid = repo.collection_id(conn, collection)
        if cid is None:
            raise CommuneError(f"no collection named {collection!r}")
        q = (
            select(
                documents.c.id,
                documents.c.added_at,
                *_REVISION_FIELDS,
                revisions.c.id.label("revision_id"),
            )
            .select_from(
                documents.join(revisions, revisions.c.id == documents.c.published_revision_id)
            )
            .where(documents.c.collection_id == cid)
            .where(documents.c.status == "published")
            .order_by(documents.c.id)
        )
        rows = [dict(r._mapping) for r in conn.execute(q)]
        for r in rows:
            # The revisions readers saw before (published, then superseded), oldest first.
            earlier = [
                dict(h._mapping)
                for h in conn.execute(
                    select(*_REVISION_FIELDS)
                    .where(revisions.c.document_id == r["id"])
                    .where(revisions.c.status == "superseded")
                    .where(revisions.c.number < r["number"])
                    .order_by(revisions.c.number)
                )
            ]
            # A revision the next one only read again (the same bytes and provenance, a
            # reader that had lost part of them: ingest/readers.READINGS) is not another
            # version of the document: exported once, as the later one.
            r["history"] = [
                h
                for h, after in zip(earlier, [*earlier, r][1:], strict=True)
                if any(h[k] != after[k] for k in _SAME_FILE)
            ]
            r["chunks"] = [
                c.text
                for c in conn.execute(
                    select(chunks.c.text)
                    .where(chunks.c.revision_id == r["revision_id"])
                    .order_by(chunks.c.ordinal)
                )
            ]
    return rows


# What the export says of a document its commons retired (retired.jsonl): enough for a home
# that imported an earlier export to find it by its texts and retire it too, nothing a reader
# of this export alone could learn a name from. No address, not even hashed (a file's address
# may name the person a takedown protects, "plainte-dupont.pdf", and its hash was found again
# from a list of names); the texts' SHA-256 are those the earlier exports listed; the category
# is a word of RETIRE_CATEGORIES, never the curator's reason, which stays in this home's
# audit log.
RETIRED = "retired.jsonl"
# A text's revision was published here: what a document retired here had given readers.
# retired.jsonl lists every document retired after readers were given it, whether or not an
# export carried it: exports are not recorded, and a text published here may have left by a
# dataset, an importer's own export or a public page; a line too many says only that a number
# was retired, in a category, and a line missing leaves a takedown undone. A document never
# published here (a copy a dataset gave that waited for a curator) left by none of them, and
# is not listed, as documents.jsonl lists only what this home publishes.
_GIVEN = ("published", "superseded", "retired")


def _retirements(engine: Engine, collection: str) -> list[dict[str, Any]]:
    """One line per document of ``collection`` retired after it was published, oldest first:
    its number here, the SHA-256 of each text it published, when it was retired and in which
    category (its last retirement's). Outside a takedown, only the texts the collection
    no longer publishes (none left: no line)."""
    from commune.commons.curation import UPSTREAM_HOLD
    from commune.store.schema import audit_log

    lines = []
    key = _export_key(engine)
    with engine.connect() as conn:
        retired = conn.execute(
            select(documents.c.id)
            .select_from(documents.join(collections))
            .where(collections.c.name == collection, documents.c.status == "retired")
            .where(documents.c.published_revision_id.is_not(None))
            .order_by(documents.c.id)
        ).scalars()
        # The texts the collection still publishes: a duplicate retired alone (`commune
        # retire --keep-copies`) leaves its first copy published with the same bytes, and
        # importers find a retired text by its hash in every document the dataset gave
        # them, so its line retired the copy kept there too (and the fiche left the
        # commons). Not for a takedown, whose line must reach every copy.
        still = set(
            conn.execute(
                select(revisions.c.content_hash)
                .select_from(
                    documents.join(collections).join(
                        revisions, revisions.c.id == documents.c.published_revision_id
                    )
                )
                .where(collections.c.name == collection, documents.c.status != "retired")
            ).scalars()
        )
        for doc in retired:
            given = conn.execute(
                select(revisions.c.content_hash, revisions.c.size_bytes)
                .where(revisions.c.document_id == doc)
                .where(
                    revisions.c.status.in_(_GIVEN)
                    # held when an imported dataset's publisher retired it: published before
                    | (revisions.c.hold_reason == UPSTREAM_HOLD)
                )
                .order_by(revisions.c.number)
            ).all()
            last = conn.execute(
                select(audit_log.c.created_at, audit_log.c.details)
                .where(audit_log.c.action == "retire", audit_log.c.subject == f"document {doc}")
                .order_by(audit_log.c.id.desc())
                .limit(1)
            ).first()
            if not given or last is None:  # never published, or a home edited by hand
                continue
            category = json.loads(last.details).get("category") or "other"
            if category not in TAKEDOWNS:
                given = [g for g in given if g.content_hash not in still]
                if not given:
                    continue  # every text it gave, the collection still gives
            salt = _salt(key, doc)
            lines.append(
                {
                    # No address, not even hashed: "2-plainte-dupont.md" was found from its
                    # hash and a list of names. A short text's SHA-256 neither: a notice or a
                    # complaint naming a person is written again from a list of names, and
                    # its SHA-256 says which one it was. Each text is named by its keyed
                    # hash, the document's salt (documents.jsonl's line, which only the
                    # homes given the document have) as key; a long text's SHA-256 too, for
                    # the homes that imported it before salts were exported.
                    "id": doc,
                    "sha256": sorted({g.content_hash for g in given if g.size_bytes >= SHORT}),
                    "keyed": sorted({keyed(salt, g.content_hash) for g in given}),
                    "retired_at": last.created_at,
                    "category": category if category in RETIRE_CATEGORIES else "other",
                }
            )
    return lines


# A text shorter than this (a page of text) is named in retired.jsonl by its keyed hash only:
# one written again from a list of names is found by its SHA-256. A longer one (a report, a
# PDF) is not written again byte for byte, and its SHA-256 still reaches the homes that
# imported it before documents.jsonl gave salts (they hold no salt to key with).
SHORT = 16_384
# The secret salts are drawn from (meta), made at the first export: a salt known only from a
# document's documents.jsonl line, where its text is anyway.
EXPORT_KEY = "export_key"


def _export_key(engine: Engine) -> bytes:
    from secrets import token_hex

    return bytes.fromhex(_made_once(engine, EXPORT_KEY, lambda: token_hex(32)))


def _made_once(engine: Engine, key: str, make: Callable[[], str]) -> str:
    """The home's ``key`` in meta, made by ``make`` if it has none yet. Two first exports
    at once both found none, and the slower failed on the key the other had just written:
    written only where absent (on conflict, nothing), then read back, so that the slower
    takes the value the faster made (PostgreSQL waits for it to commit; SQLite's write
    lock, taken first, makes the check and the write one step)."""
    from sqlalchemy.dialects import postgresql, sqlite

    from commune.store.db import write_transaction
    from commune.store.schema import meta

    with write_transaction(engine) as conn:
        found = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()
        if found is None:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            conn.execute(
                dialect.insert(meta)
                .values(key=key, value=make())
                .on_conflict_do_nothing(index_elements=["key"])
            )
            found = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar_one()
    return str(found)


# This home's own identity (meta), a random UUID made at its first export: with a
# collection's number, it names the collection's dataset (:func:`dataset_identity`).
HOME_ID = "home_id"


def dataset_identity(engine: Engine, collection: str) -> str:
    """The stable identity of ``collection``'s dataset, its croissant.json's ``@id``: a
    UUID of this home's and the collection's number, the same at each export and after the
    collection is renamed, never another home's (two homes both export "mairie"). The homes
    that import it know the dataset by it: by its name alone, a renamed collection's
    retirements stopped reaching what it gave before, and another home's collection of the
    same name retired or published again texts it never gave."""
    import uuid

    home = _made_once(engine, HOME_ID, lambda: str(uuid.uuid4()))
    with engine.connect() as conn:
        cid = repo.collection_id(conn, collection)
    if cid is None:
        raise CommuneError(f"no collection named {collection!r}")
    return f"urn:uuid:{uuid.uuid5(uuid.UUID(str(home)), f'collection {cid}')}"


def _salt(key: bytes, document_id: int) -> str:
    """The document's salt: the same at each export, so that a home given it by an earlier
    export keys the later retirement with it; nobody without the line can compute it."""
    import hmac

    return hmac.new(key, f"document {document_id}".encode(), hashlib.sha256).hexdigest()[:32]


def keyed(salt: str, sha256: str) -> str:
    """A text's SHA-256 keyed with its document's salt, as retired.jsonl names it."""
    import hmac

    return hmac.new(salt.encode(), sha256.encode(), hashlib.sha256).hexdigest()


def _stored_media(data: bytes, media: str) -> str:
    """The media type of a document's stored bytes: ``media``, what it was read as, except
    for a gzipped document (a man page), read as what it holds and stored as gzip."""
    return "application/gzip" if data[:2] == b"\x1f\x8b" else media


def _exported_source(document_id: int, source: str) -> str:
    """What an export says a document came from: its address, or, for a file added from
    the operator's disk without ``--source``, the file's name after the document's number
    (govern/sources.py): one name in two folders stays two documents, and the same
    document has the same source at each export, so an import knows it again."""
    public = public_source(source)
    return source if public == source else f"{document_id}-{public}"


def _name(row: dict[str, Any]) -> str:
    source = str(row["source_uri"])
    if "://" in source:
        # A link's path, decoded (ingest/pipeline.joined encodes it): "procès-verbal.txt",
        # not "proc%C3%A8s-verbal.txt?v=1".
        source = unquote(urlsplit(source).path)
    base = Path(source.split("#")[0].rstrip("/")).name or "document"
    stem = re.sub(r"[^\w.-]+", "-", Path(base).stem)[:60] or "document"
    return f"{row['id']}-{stem}{SUFFIX.get(row['media_type'], Path(base).suffix or '.bin')}"


@dataclass
class ExportResult:
    directory: Path
    documents: int
    reconstructed: int  # documents whose original bytes were not kept (ingested before blobs)
    warnings: list[str]
    retired: int = 0  # documents retired since their publication, listed in retired.jsonl


def _named(engine: Engine, collection: str) -> str:
    """The collection ``collection`` writes, however composed (repository.collection_named):
    `commune export "marché"` typed with a combining accent was "no collection named
    'marché'", and an import under it looked for what a dataset retired in no collection."""
    with engine.connect() as conn:
        return repo.collection_named((r["name"] for r in repo.collection_access(conn)), collection)


def export_collection(
    engine: Engine, home: Path, collection: str, out: Path, description: str | None = None
) -> ExportResult:
    """Write ``collection`` of the database at ``engine`` as an open dataset into ``out``,
    each document's original bytes read from the home's blobs."""
    mlc, _ = _requires()
    collection = _named(engine, collection)
    rows = _rows(engine, collection)
    # A collection whose last document was retired is still exported, empty but for its
    # retired.jsonl: refused, the last retirement never reached the homes that imported the
    # collection, which kept publishing the document taken down here.
    if not rows and not _retirements(engine, collection):
        raise CommuneError(f"collection {collection!r} has no published document to export")
    _finish_swap(out)  # an export killed while its parts took the last one's place
    final = _export_folder(out, collection)
    # Written aside, then put in place of the last export's parts: exported again into the
    # same folder, a document retired since stayed in files/ and was published again with
    # the folder; a failed export leaves the last one whole.
    out = final / PARTIAL
    shutil.rmtree(out, ignore_errors=True)  # a crashed export's, never begun to swap
    try:
        result = _export_into(mlc, engine, home, collection, rows, out, description)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    parts = [name for name in EXPORTED if (out / name).exists()]
    (out / PARTS).write_text("\n".join(parts), encoding="utf-8")
    # On the disk before SWAPPING says it is whole: after a power cut, an empty PARTS read
    # as "no part is new", and the swap moved the last export's parts aside and deleted
    # them with the folder; a part still in memory took its name empty.
    flush_tree(out)
    (out / SWAPPING).mkdir()  # from here on, the new export is whole: the swap goes on
    flush(out)
    _finish_swap(final)
    return ExportResult(
        final, result.documents, result.reconstructed, result.warnings, result.retired
    )


def _finish_swap(final: Path) -> None:
    """Put a whole new export (``final``/PARTIAL, marked by its SWAPPING folder) in place of
    the last one's parts, set aside in that folder first, then deleted: renames on one disk,
    each part the old one or the new one. Run again after a kill midway, it goes on where it
    stopped: it left the folder with some parts of each, which the next export refused as
    "files an export did not write", the last export's parts in a hidden folder."""
    out = final / PARTIAL
    old = out / SWAPPING
    if not old.is_dir():
        return
    parts = (out / PARTS).read_text(encoding="utf-8").split()
    for name in EXPORTED:
        if name not in parts:
            # Not in the new export (no licence texts this time): the last one's goes.
            if (final / name).exists():
                (final / name).replace(old / name)
        elif (out / name).exists():  # else moved in before the kill
            if (final / name).exists():
                (final / name).replace(old / name)
            (out / name).replace(final / name)
    flush(final)  # the new parts' names, before the last export's are deleted with ``out``
    shutil.rmtree(out, ignore_errors=True)


# What an export writes at the top of its folder; anything else there is someone's.
EXPORTED = ("files", "licences", "documents.jsonl", RETIRED, "croissant.json", "dcat.jsonld")
PARTIAL = ".export.partial"
SWAPPING = ".replaced"  # in PARTIAL: the new export is whole, and takes the last one's place
PARTS = ".parts"  # in PARTIAL: the new export's parts, one a line, written before SWAPPING


def _export_folder(out: Path, collection: str) -> Path:
    """``out``, made if new; refused if it holds anything an export did not write, which an
    export into it would otherwise leave beside, or mix with, the dataset it publishes, or
    another collection's export, which it would replace."""
    if out.exists() and not out.is_dir():
        raise CommuneError(f"{out} is a file, not a folder", "give a folder for the export")
    out.mkdir(parents=True, exist_ok=True)
    found = {p.name for p in out.iterdir()} - {PARTIAL}
    # An earlier export has its description; a folder of someone's own files/ has not.
    described = _described(out) if {"documents.jsonl", "croissant.json"} <= found else None
    if described is not None and described != collection:
        raise CommuneError(
            f"{out} holds the export of another collection, {described!r}",
            "give another folder: an export replaces only its own collection's",
        )
    others = sorted(found - set(EXPORTED)) if described else sorted(found)
    if others:
        raise CommuneError(
            f"{out} holds files an export did not write ({', '.join(others[:3])}"
            f"{', …' if len(others) > 3 else ''})",
            "give an empty folder, or the folder of an earlier export, which is replaced",
        )
    return out


def _described(folder: Path) -> str | None:
    """The collection ``folder``'s croissant.json describes, if it is a Commune export's."""
    try:
        data = json.loads((folder / "croissant.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return None
    ours = any(
        isinstance(d, dict) and d.get("contentUrl") == "documents.jsonl"
        for d in data.get("distribution", [])
    )
    return str(data["name"]) if ours else None


def _export_into(
    mlc: Any,
    engine: Engine,
    home: Path,
    collection: str,
    rows: list[dict[str, Any]],
    out: Path,
    description: str | None,
) -> ExportResult:
    out.mkdir(parents=True, exist_ok=True)
    (out / "files").mkdir(exist_ok=True)
    reconstructed = 0
    key = _export_key(engine)
    lines = []
    earlier: list[dict[str, Any]] = []  # every history file, for the Croissant distribution
    for row in rows:
        history = []
        for h in row["history"]:
            old_bytes = blobs.get(home, h["content_hash"])
            if old_bytes is None:  # ingested before blobs were kept: its text is gone too
                continue
            h = {**h, "media_type": _stored_media(old_bytes, h["media_type"])}
            h_name = "history/" + _name({**h, "id": f"{row['id']}-r{h['number']}"})
            (out / "files" / "history").mkdir(exist_ok=True)
            (out / "files" / h_name).write_bytes(old_bytes)
            entry = {
                "revision": h["number"],
                "title": h["title"],
                "file": f"files/{h_name}",
                "media_type": h["media_type"],
                "sha256": hashlib.sha256(old_bytes).hexdigest(),
                "language": h["language"],
                "licence": h["licence"],
                "contributor": h["contributor"],
                "publisher": h["publisher"],
                "source_uri": _exported_source(row["id"], h["source_uri"]),
                "retrieved_at": repo.utc_text(h["created_at"]),
                "tdm_reserved": bool(h["tdm_reserved"]),
            }
            history.append(entry)
            earlier.append(entry)
        data = blobs.get(home, row["content_hash"])
        media = row["media_type"]
        if data is not None:
            media = _stored_media(data, media)
            row = {**row, "media_type": media}
        if data is None:  # keep the text we have rather than nothing
            data = "\n\n".join(row["chunks"]).encode()
            media, reconstructed = "text/plain", reconstructed + 1
            row = {**row, "media_type": media}
        name = _name(row)
        (out / "files" / name).write_bytes(data)
        lines.append(
            {
                "id": row["id"],
                "title": row["title"],
                "file": f"files/{name}",
                "media_type": media,
                "sha256": hashlib.sha256(data).hexdigest(),
                "language": row["language"],
                "licence": row["licence"],
                "contributor": row["contributor"],
                "publisher": row["publisher"],
                "source_uri": _exported_source(row["id"], row["source_uri"]),
                # In UTC, said so ("…Z"), as the API gives them: SQLite's were written without a
                # zone, which a reader's tools take for their own local time, and PostgreSQL's
                # "+00:00", so that one collection's export differed by its database.
                "added_at": repo.utc_text(row["added_at"]),
                "retrieved_at": repo.utc_text(row["created_at"]),
                "revision": row["number"],
                "tdm_reserved": bool(row["tdm_reserved"]),
                "history": history,
                # What keys its texts in a later retired.jsonl (_retirements).
                "salt": _salt(key, row["id"]),
            }
        )
    (out / "documents.jsonl").write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8"
    )
    desc = description or f"The {collection} collection of a Commune documents commons."
    licences = sorted({line["licence"] for line in lines if line["licence"]})
    texts = _licence_texts(engine, [*lines, *earlier], out)
    # The documents retired here: an export listed only what it published, so a home that
    # had imported an earlier one kept publishing a document taken down here, for good.
    retired = _retirements(engine, collection)
    if retired:
        (out / RETIRED).write_text(
            "".join(json.dumps(line) + "\n" for line in retired), encoding="utf-8"
        )
        texts.append(
            {
                "file": RETIRED,
                "media_type": "application/jsonlines",
                "sha256": _sha256(out / RETIRED),
            }
        )
    identity = dataset_identity(engine, collection)
    _write_croissant(mlc, out, collection, identity, desc, lines, licences, [*earlier, *texts])
    _write_dcat(out, collection, identity, desc, lines)
    warnings = validate_export(out)
    return ExportResult(out, len(lines), reconstructed, warnings, len(retired))


def _write_croissant(
    mlc: Any,  # the mlcroissant module, imported only when an export is asked for
    out: Path,
    name: str,
    identity: str,
    desc: str,
    lines: list[dict[str, Any]],
    licences: list[str],
    earlier: list[dict[str, Any]],
) -> None:
    dist = [
        mlc.FileObject(
            id="documents.jsonl",
            name="documents.jsonl",
            content_url="documents.jsonl",
            encoding_formats=["application/jsonlines"],
            sha256=_sha256(out / "documents.jsonl"),
        )
    ]
    for line in [*lines, *earlier]:  # each file with its SHA-256, earlier revisions' too
        dist.append(
            mlc.FileObject(
                id=line["file"],
                name=Path(line["file"]).name,
                content_url=line["file"],
                encoding_formats=[line["media_type"]],
                sha256=line["sha256"],
            )
        )
    types = {
        "id": mlc.DataType.INTEGER,
        "revision": mlc.DataType.INTEGER,
        "added_at": mlc.DataType.DATETIME,
        "retrieved_at": mlc.DataType.DATETIME,
        "tdm_reserved": mlc.DataType.BOOL,
    }
    fields = [
        mlc.Field(
            id=f"documents/{f}",
            name=f,
            data_types=[types.get(f, mlc.DataType.TEXT)],
            source=mlc.Source(file_object="documents.jsonl", extract=mlc.Extract(column=f)),
        )
        for f in FIELDS
    ]
    # Each licence once: its SPDX page, or the expression itself (a compound one, the
    # cooperative's own), which was dropped as soon as another licence had a page.
    urls = [_spdx_url(x) or x for x in licences]
    metadata = mlc.Metadata(
        name=name,
        description=desc,
        url=f"urn:commune:collection:{name}",
        license=urls,
        distribution=dist,
        cite_as=f"{name} (Commune commons), {datetime.now(UTC):%Y}",
        version="1.0.0",
        date_published=datetime.now(UTC),
        record_sets=[
            mlc.RecordSet(id="documents", name="documents", key="documents/id", fields=fields)
        ],
    )
    # mlcroissant writes no @id of its own for the dataset: set here, with schema.org's
    # identifier for the readers that look there, so that importers know it when renamed.
    data = {"@id": identity, **metadata.to_json(), "identifier": identity}
    (out / "croissant.json").write_text(
        json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )


# The EU's language authority table names languages by ISO 639-2/B codes; DCAT-AP 3 wants
# dct:language to be one of its IRIs (a dct:LinguisticSystem), not a "fr" literal.
EU_LANGUAGES = {
    "fr": "FRA",
    "en": "ENG",
    "de": "DEU",
    "es": "SPA",
    "it": "ITA",
    "nl": "NLD",
    "pt": "POR",
}
EU_LANGUAGE = "http://publications.europa.eu/resource/authority/language/"


def _agent(name: str) -> dict[str, Any]:
    return {"@type": "foaf:Agent", "foaf:name": name}


def _write_dcat(
    out: Path, name: str, identity: str, desc: str, lines: list[dict[str, Any]]
) -> None:
    """DCAT-AP 3.0.0, checked against its SHACL shapes (tests/test_opendata.py). Every value
    carries the class or datatype the shapes ask for, so that a validator without RDFS
    inference (pySHACL's default, the EU's own) finds it: a URL is an rdfs:Resource, a media
    type a dct:MediaType, a licence a dct:LicenseDocument, a checksum a hexBinary computed
    by the spdx:ChecksumAlgorithm named."""
    now = datetime.now(UTC).isoformat()
    publishers = sorted({line["publisher"] for line in lines if line["publisher"]})
    languages = sorted({line["language"] for line in lines if line["language"] in EU_LANGUAGES})
    dataset: dict[str, Any] = {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
            "spdx": "http://spdx.org/rdf/terms#",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
        },
        "@id": f"urn:commune:collection:{name}",
        "@type": "dcat:Dataset",
        "dct:identifier": identity,
        "dct:title": name,
        "dct:description": desc,
        "dct:modified": {"@value": now, "@type": "xsd:dateTime"},
        "dct:language": [
            {"@id": EU_LANGUAGE + EU_LANGUAGES[code], "@type": "dct:LinguisticSystem"}
            for code in languages
        ],
        # A dataset has at most one publisher in DCAT-AP; the documents' own publishers are
        # its creators (and each document's is in documents.jsonl).
        "dct:creator": [_agent(p) for p in publishers],
        "dcat:distribution": [_distribution(name, line) for line in lines],
    }
    if len(publishers) == 1:
        dataset["dct:publisher"] = _agent(publishers[0])
    (out / "dcat.jsonld").write_text(
        json.dumps(dataset, indent=2, ensure_ascii=False), encoding="utf-8"
    )


def _distribution(name: str, line: dict[str, Any]) -> dict[str, Any]:
    url = {"@id": f"file:{line['file']}", "@type": "rdfs:Resource"}
    spdx = _spdx_url(line["licence"])
    return {
        "@id": f"urn:commune:collection:{name}:{line['file']}",
        "@type": "dcat:Distribution",
        "dct:title": line["title"],
        "dcat:accessURL": url,
        "dcat:downloadURL": url,
        "dcat:mediaType": {
            "@id": "https://www.iana.org/assignments/media-types/" + line["media_type"],
            "@type": "dct:MediaType",
        },
        "dct:license": (
            {"@id": spdx, "@type": "dct:LicenseDocument"}
            if spdx
            else {"@type": "dct:LicenseDocument", "dct:title": line["licence"] or "unknown"}
        ),
        "dct:source": {"@id": line["source_uri"]}
        if "://" in line["source_uri"]
        else line["source_uri"],
        "spdx:checksum": {
            "@type": "spdx:Checksum",
            "spdx:algorithm": {
                "@id": "spdx:checksumAlgorithm_sha256",
                "@type": "spdx:ChecksumAlgorithm",
            },
            "spdx:checksumValue": {"@value": line["sha256"], "@type": "xsd:hexBinary"},
        },
    }


DCAT_CHECKS = {
    "a dcat:Dataset with dct:title and dct:description": """
        ASK { ?d a dcat:Dataset ; dct:title ?t ; dct:description ?x }""",
    "every dcat:Distribution has a dcat:accessURL": """
        ASK { FILTER NOT EXISTS { ?x a dcat:Distribution .
              FILTER NOT EXISTS { ?x dcat:accessURL ?u } } }""",
    "every dcat:Distribution has a dct:license": """
        ASK { FILTER NOT EXISTS { ?x a dcat:Distribution .
              FILTER NOT EXISTS { ?x dct:license ?l } } }""",
    "every dcat:Distribution carries an SPDX sha256 checksum": """
        ASK { FILTER NOT EXISTS { ?x a dcat:Distribution .
              FILTER NOT EXISTS { ?x spdx:checksum/spdx:checksumValue ?v } } }""",
}


def _croissant(directory: Path) -> dict[str, Any]:
    """The dataset's croissant.json, if it is one: a JSON object with its context and a list
    of distributions, and a dcat.jsonld file beside it; else a line saying what is wrong."""
    hint = "give the folder `commune export` wrote, unchanged"
    for name in ("croissant.json", "dcat.jsonld"):
        if not (directory / name).is_file():
            raise CommuneError(f"{directory} is not an exported dataset: no {name} file", hint)
    try:
        data = json.loads((directory / "croissant.json").read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CommuneError(f"{directory}/croissant.json is not JSON: {exc}", hint) from None
    if (
        not isinstance(data, dict)
        or "@context" not in data
        or not isinstance(data.get("distribution"), list)
    ):
        raise CommuneError(
            f"{directory}/croissant.json is not Croissant metadata (an object with @context "
            "and a list of distributions)",
            hint,
        )
    found = data.get("@id")
    if found is not None and not (
        isinstance(found, str) and len(found) <= 200 and IDENTITY.fullmatch(found)
    ):
        # An @id that is not one (a number, empty, a name, pages long) was taken for none:
        # the dataset then known by its name alone, its retirements reaching what another
        # home's dataset of that name gave. Refused before anything is imported instead.
        shown = json.dumps(found, ensure_ascii=False)
        shown = shown if len(shown) <= 60 else shown[:59] + "…"
        raise CommuneError(
            f"{directory}/croissant.json has an @id that is not a dataset identity (an "
            f"absolute IRI such as urn:uuid:…, at most 200 characters): {shown}",
            hint,
        )
    return data


# A dataset's identity (croissant.json's @id): an absolute IRI, as JSON-LD wants an @id
# (Commune writes urn:uuid:…, another tool may write an address), without spaces or
# control characters, short enough for the audit row and the dataset_texts column.
IDENTITY = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[!-~\u00a0-\U0010ffff]+")


def validate_export(directory: Path) -> list[str]:
    """Raise with the problems if the metadata is invalid; return mlcroissant's warnings."""
    mlc, rdflib = _requires()
    problems = []
    _croissant(directory)  # the shape first: mlcroissant's own failures are tracebacks
    try:
        dataset = mlc.Dataset(jsonld=str(directory / "croissant.json"))
        warnings = [str(w) for w in dataset.metadata.ctx.issues.warnings]
    except mlc.ValidationError as exc:
        raise CommuneError(f"invalid Croissant metadata: {exc}") from None
    except Exception as exc:  # noqa: BLE001 -- the library's assertion on a graph it cannot read
        raise CommuneError(
            f"invalid Croissant metadata: {exc.__class__.__name__}: {exc}",
            "give the folder `commune export` wrote, unchanged",
        ) from None
    graph = rdflib.Graph().parse(directory / "dcat.jsonld", format="json-ld")
    ns = {
        "dcat": rdflib.Namespace("http://www.w3.org/ns/dcat#"),
        "dct": rdflib.Namespace("http://purl.org/dc/terms/"),
        "spdx": rdflib.Namespace("http://spdx.org/rdf/terms#"),
    }
    for check, query in DCAT_CHECKS.items():
        if not graph.query(query, initNs=ns).askAnswer:
            problems.append(f"DCAT-AP: expected {check}")
    if problems:
        raise CommuneError("invalid DCAT-AP metadata: " + "; ".join(problems))
    return warnings


def import_dataset(
    library: Library,
    directory: Path,
    collection: str,
    actor: Actor = OPERATOR,
    progress: Callable[[FileOutcome, int, int], None] | None = None,
) -> dict[str, int]:
    """Add an exported dataset's documents to ``collection`` with their licence, provenance,
    dates and earlier published revisions. Counts are per document (its published revision);
    ``earlier revisions`` counts the history replayed before it. ``progress`` is given each
    document's outcome, as `commune add` gives it (held for curation and why, failed)."""
    validate_export(directory)
    collection = _named(library.engine, collection)
    croissant = _croissant(directory)
    expected = {d.get("contentUrl"): d.get("sha256") for d in croissant.get("distribution", [])}
    # The file of licences and provenance is checked like the documents: an edited licence
    # or contributor, or a list cut short, was imported without a word.
    if _sha256(directory / "documents.jsonl") != expected.get("documents.jsonl"):
        raise CommuneError(
            "documents.jsonl does not match its SHA-256 in croissant.json",
            "the dataset was altered or is incomplete",
        )
    lines = _listing(directory / "documents.jsonl")
    root = directory.resolve()
    for line in lines:  # check everything before adding anything
        for entry in [*line.get("history", []), line]:
            _check_file(directory, root, entry, expected)
    from commune.ingest.pipeline import check_source

    for line in lines:  # the whole dataset is checked before anything of it is added
        for entry in [*line.get("history", []), line]:
            check_source(entry["source_uri"])
            # A licence this home cannot read (an identifier its SPDX list lacks, an edited
            # line) stopped the import midway: the documents before it added, and a document's
            # earlier revision published without the one that supersedes it.
            if entry.get("licence") is not None:
                try:
                    normalise(entry["licence"])
                except CommuneError as exc:
                    raise CommuneError(
                        exc.message, f"in {entry['file']} of the dataset: nothing was imported"
                    ) from None
    texts = _dataset_texts(library, directory, root, lines, expected)
    retired = _retired_listing(directory, root, expected)
    if texts:
        with library.engine.begin() as conn:
            for ref, text in texts.items():
                check_texts(conn, ref, text, actor.user)
    counts = {"added": 0, "updated": 0, "unchanged": 0, "failed": 0, "earlier revisions": 0}
    origin: dict[str, Any] = {
        "origin": str(croissant.get("name") or ""),
        "dataset": str(directory),
        # Recorded beside the name, and in the audit of each retirement it brings.
        "dataset_id": _identity_of(croissant),
    }
    if retired:
        # First: a takedown holds even if an import stopped midway through the documents.
        counts.update(_retire_here(library, collection, retired, origin, actor))
    published = _published_on(croissant)
    for line in lines:
        if _refused(library, line["sha256"], line.get("salt"), origin, published):
            counts[REFUSED] = counts.get(REFUSED, 0) + 1
            continue
        # The history is replayed only into a document this commons does not hold yet: over
        # an existing one, its old texts would come back as new revisions. A document whose
        # revisions here are the first of its history, in order, is one an import stopped in
        # (a crash): the rest of its history is replayed. Replayed only when not held, the
        # revisions after the crash were lost for good, and the newest one's date with them.
        earlier = line.get("history", [])
        held, reached = _held_history(library, collection, line)
        replay = earlier if not held else earlier[reached:] if reached else []
        if held and reached:
            # The newest revision it reached may have been stored without its date.
            _restore(library, held, earlier[reached - 1], line["added_at"])
        # Its revisions are the dataset's history (curation.ArrivalGate): when the document is
        # new here, or what this home publishes of it is one of them (an import stopped before
        # its newest revision, run again).
        history = bool(replay) or _published_from_history(library, collection, line)
        giving = _mark_giving(library, collection, line)
        for entry in replay:
            done = _add_revision(library, directory, collection, entry, actor)
            if done is not None:
                _given(library, done, entry["sha256"], origin, line.get("salt"))
                _restore(library, done, entry, line["added_at"])
                counts["earlier revisions"] += 1
        summary = library.add(
            [directory / line["file"]],
            collection=collection,
            licence=line["licence"],
            contributor=line["contributor"],
            publisher=line["publisher"],
            source=line["source_uri"],
            tdm_reserved=line["tdm_reserved"],
            actor=actor,
            history=history,
            progress=progress,
            work=IMPORTED,
        )
        outcome = summary.outcomes[0] if summary.outcomes else None
        status = outcome.status if outcome else "failed"
        if replay and status in ("updated", "unchanged"):
            # New here: its earlier revisions were added just before (unchanged: the last of
            # them was this very file, from a dataset exported before re-reads were merged).
            status = "added"
        counts[status] += 1
        if outcome is not None and outcome.document_id is not None:
            # Unchanged is not given: the bytes were this home's before (its own original,
            # which a dataset made from its export holds too), or the dataset's already,
            # whose salt is then kept.
            salt = line.get("salt")
            # Unchanged, yet marked as given by this dataset: an import killed between the
            # document and this record stored it (_mark_giving).
            new = status != "unchanged" or line["sha256"] in giving
            _given(library, outcome.document_id, line["sha256"], origin, salt, new)
            for entry in earlier:  # an earlier revision's record, lost the same way
                if entry["sha256"] in giving:
                    _given(library, outcome.document_id, entry["sha256"], origin, salt)
            _given_done(library, giving.values())
            # Unchanged too: an import stopped between a document and its restore (a crash)
            # is repaired by running it again. Nothing is written where all is as exported.
            _restore(library, outcome.document_id, line, line["added_at"])
    return counts


def _retired_listing(directory: Path, root: Path, expected: dict[str, str]) -> list[dict[str, Any]]:
    """The dataset's retired.jsonl (checked against croissant.json, each line checked), or
    nothing from an export that has none (an older Commune's, or nothing retired)."""
    if RETIRED not in expected:
        return []  # a retired.jsonl croissant.json does not list is not the publisher's
    _check_file(directory, root, {"file": RETIRED, "sha256": expected[RETIRED]}, expected)
    found = []
    for number, raw in enumerate((directory / RETIRED).read_text("utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
            ok = (
                isinstance(line, dict)
                and isinstance(line.get("sha256"), list)
                and all(isinstance(x, str) for x in line["sha256"])
            )
            keys = line.get("keyed", []) if isinstance(line, dict) else None
            ok = ok and isinstance(keys, list) and all(isinstance(x, str) for x in keys)
            ok = ok and bool(datetime.fromisoformat(line["retired_at"]))
        except (ValueError, TypeError, KeyError):
            ok = False
        if not ok:
            raise CommuneError(
                f"{RETIRED}, line {number}: not a retired document's line",
                "the dataset was altered or is incomplete: nothing was imported",
            )
        found.append(line)
    return found


# What `commune import` counts of the dataset's documents whose text a publisher retired.
REFUSED = "refused, retired by their publisher"


def _identity_of(croissant: dict[str, Any]) -> str | None:
    """The dataset's identity (its croissant.json's ``@id``), or None for an export made
    before exports had one (or by another tool): that dataset is known by its name alone."""
    found = croissant.get("@id")  # checked by _croissant: None or an identity
    return found if isinstance(found, str) else None


def _same_dataset(origin: dict[str, Any]) -> Any:
    """Which rows of ``dataset_texts`` are the dataset ``origin``'s: those of its identity,
    and those recorded without one under its name (an export made before identities, or a
    text recorded before migration 0021), which had nothing else to be known by. A dataset
    without an identity reaches only the latter: another home's dataset of the same name,
    exported before identities, must not reach what a dataset with one gave."""
    from commune.store.schema import dataset_texts

    unnamed = dataset_texts.c.dataset_id.is_(None) & (dataset_texts.c.origin == origin["origin"])
    identity = origin.get("dataset_id")
    return unnamed if identity is None else (dataset_texts.c.dataset_id == identity) | unnamed


def _given(
    library: Library,
    document_id: int,
    sha256: str,
    origin: dict[str, Any],
    salt: Any,
    new: bool = True,
) -> None:
    """Record that the dataset ``origin`` (its name and identity) gave the text ``sha256`` to
    the document, with the document's ``salt`` there: its publisher's retirements reach only
    the documents it gave (:func:`_retire_here`). Not ``new`` (the text was here already):
    only the salt of a text recorded as given, by it or before migration 0020, which a later
    retirement of a short text needs."""
    from sqlalchemy import insert, update

    from commune.store.repository import now
    from commune.store.schema import dataset_texts

    salt = salt if isinstance(salt, str) and len(salt) <= 32 else None
    identity = origin.get("dataset_id")
    with library.engine.begin() as conn:
        rows = conn.execute(
            select(dataset_texts.c.id, dataset_texts.c.dataset_id, dataset_texts.c.origin).where(
                dataset_texts.c.document_id == document_id,
                dataset_texts.c.content_hash == sha256,
                _same_dataset(origin)
                if new
                else _same_dataset(origin) | (dataset_texts.c.origin == ""),
            )
        ).all()
        known = rows[0] if rows else None
        if (
            identity
            and not any(r.dataset_id == identity for r in rows)
            and any(r.dataset_id is None and r.origin for r in rows)
        ):
            # Given under this name before exports had an identity, and given again by a
            # dataset of this name with one: recorded under the identity too, so that its
            # retirements still reach it once the collection is renamed. Beside the row of
            # the name, not in its place: the name says nothing of which home it was, and
            # another home's "mairie" holding the same texts would otherwise take them from
            # the first, whose retirements would no longer reach them.
            known = None
        if rows and salt is not None:
            conn.execute(
                update(dataset_texts)
                .where(dataset_texts.c.id.in_([r.id for r in rows]), dataset_texts.c.salt.is_(None))
                .values(salt=salt)
            )
        if known is None and (new or rows):
            collection_id = conn.execute(
                select(documents.c.collection_id).where(documents.c.id == document_id)
            ).scalar_one()
            conn.execute(
                insert(dataset_texts).values(
                    collection_id=collection_id,
                    document_id=document_id,
                    content_hash=sha256,
                    origin=origin["origin"],
                    dataset_id=identity,
                    given_at=now(),
                    salt=salt,
                )
            )


def _giving_key(collection: str, source: str, sha256: str) -> str:
    """The ``meta`` key that marks a text as about to be given (hashed: the key has 100
    characters at most, a collection's name 200)."""
    said = json.dumps([collection, source, sha256])
    return "giving:" + hashlib.sha256(said.encode("utf-8")).hexdigest()


def _mark_giving(library: Library, collection: str, line: dict[str, Any]) -> dict[str, str]:
    """Mark, before they are stored, the texts of ``line`` (its history and itself) that its
    document here does not hold yet: the dataset gives them. The record that it gave them
    (:func:`_given`) is written after the document, in another transaction; an import killed
    between the two (kill -9, a power cut) left the document without it, and run again found
    it "unchanged", which reads as this home's own text: the dataset's retirements never
    reached it. A mark left by such a run says otherwise. Returns the marks of the line's
    texts, by SHA-256: the new ones and those a killed run left."""
    from sqlalchemy import insert

    from commune.store.schema import meta

    texts = [entry["sha256"] for entry in [*line.get("history", []), line]]
    keys = {sha: _giving_key(collection, line["source_uri"], sha) for sha in texts}
    with library.engine.begin() as conn:
        held = set(
            conn.execute(
                select(revisions.c.content_hash)
                .select_from(revisions.join(documents).join(collections))
                .where(
                    collections.c.name == collection,
                    documents.c.source_key == line["source_uri"],
                )
            ).scalars()
        )
        marked = set(
            conn.execute(select(meta.c.key).where(meta.c.key.in_(keys.values()))).scalars()
        )
        for sha, key in keys.items():
            if key not in marked and sha not in held:
                conn.execute(insert(meta).values(key=key, value=sha))
                marked.add(key)
    return {sha: key for sha, key in keys.items() if key in marked}


def _given_done(library: Library, keys: Any) -> None:
    """Remove the marks of texts now recorded as given (:func:`_mark_giving`)."""
    from sqlalchemy import delete

    from commune.store.schema import meta

    keys = list(keys)
    if keys:
        with library.engine.begin() as conn:
            conn.execute(delete(meta).where(meta.c.key.in_(keys)))


def _retire_here(
    library: Library,
    collection: str,
    retired: list[dict[str, Any]],
    origin: dict[str, Any],
    actor: Actor,
) -> dict[str, int]:
    """Retire in ``collection`` each document the dataset's publisher retired: (how many
    were retired here, and how many of them were held for review, their text here being
    this home's own). Found by the texts the publisher published (a revision here that
    readers were given holding one of them): by address, a local document fetched from the
    same address was retired too. Only a document the dataset gave that text (an import of
    the same dataset, :func:`_same_dataset`, or any before migration 0020, which kept no
    record): a home's own document holding the same bytes, its original that the publisher
    imported and retired, is its own curators' to retire. One retired here already is left
    as it is; documents of other collections are not the dataset's to retire."""
    from commune.commons.curation import WAITING, retire_from_dataset
    from commune.store.db import scrub, write_transaction
    from commune.store.schema import dataset_texts

    done = {"retired": 0, "held for review": 0}
    # SQLite: the write lock before the documents are read (BEGIN IMMEDIATE), so that two
    # imports at once read them one after the other.
    with write_transaction(library.engine) as conn:
        # Texts readers were given here (a rejected proposal's text is not one), and the
        # texts waiting for a curator: a copy the dataset gave that this home's rules held
        # (approvals asked, terms not in the table) was left waiting, and approving it
        # published the text its publisher had taken down.
        here = conn.execute(
            select(revisions.c.document_id, revisions.c.content_hash)
            .select_from(revisions.join(documents).join(collections))
            .where(collections.c.name == collection, documents.c.status != "retired")
            .where(revisions.c.status.in_((*_GIVEN, *WAITING)))
        ).all()
        rows = conn.execute(
            select(
                dataset_texts.c.document_id, dataset_texts.c.content_hash, dataset_texts.c.salt
            ).where(
                _same_dataset(origin) | (dataset_texts.c.origin == ""),
                dataset_texts.c.document_id.is_not(None),
            )
        ).all()
        given = {(int(r.document_id), str(r.content_hash)) for r in rows}
        # A text the publisher names by its keyed hash only (a short one): its SHA-256 here.
        by_key = {keyed(r.salt, r.content_hash): str(r.content_hash) for r in rows if r.salt}
        by_text: dict[str, set[int]] = {}
        for r in here:
            if (int(r.document_id), str(r.content_hash)) in given:
                by_text.setdefault(str(r.content_hash), set()).add(int(r.document_id))

        def texts_of(line: dict[str, Any]) -> list[str]:
            keys = line.get("keyed", [])
            return sorted({*line["sha256"], *(by_key[k] for k in keys if k in by_key)})

        # Two imports of the dataset at once both found its documents here, and the second
        # failed on those the first retired ("no document N that is not already retired"):
        # held first, all of them in one order (PostgreSQL), and read again once held, one
        # already retired is left as it is. Then each is retired under its hold.
        found_here = {d for ln in retired for h in texts_of(ln) for d in by_text.get(h, ())}
        repo.hold_documents(conn, found_here)
        still = set(
            conn.execute(
                select(documents.c.id).where(
                    documents.c.id.in_(found_here), documents.c.status != "retired"
                )
            ).scalars()
        )
        gone: set[int] = found_here - still
        for line in retired:
            keys = line.get("keyed", [])
            texts = texts_of(line)
            # Two lines may share a text (the publisher's copy of a page, retired with it):
            # a document the first retired is not retired again, which failed the import.
            found = {d for h in texts for d in by_text.get(h, ())} - gone
            gone |= found
            category = line.get("category")
            category = category if category in RETIRE_CATEGORIES else "other"
            when = str(line["retired_at"])
            # A reason is a line of at most 500 characters (accounts.check_reason): a dataset
            # named at length is cut in it, its whole name kept in the audit row's origin.
            named = origin["origin"] if len(origin["origin"]) <= 200 else origin["origin"][:199]
            unknown = [k for k in keys if k not in by_key]
            _record_retirement(conn, origin, texts, unknown, when, category)
            for document_id in sorted(found):
                held = retire_from_dataset(
                    conn,
                    document_id,
                    f"retired by the publisher of the dataset {named!r} on {when[:10]}: {category}",
                    actor,
                    category,
                    set(texts),
                    retired_at=when,
                    **origin,
                )
                done["retired"] += 1
                done["held for review"] += held
    if done["retired"]:
        scrub(library.engine)  # the cached answers quoting them, out of the log too
    return {k: n for k, n in done.items() if n or k == "retired"}


def _record_retirement(
    conn: Any,
    origin: dict[str, Any],
    texts: list[str],
    unknown: list[str],
    when: str,
    category: str,
) -> None:
    """Keep that the dataset ``origin`` (its name and identity) retired ``texts``, whether or
    not a document here held them: an older export of it, or another dataset holding the
    same bytes, imported afterwards, would otherwise bring the document back
    (:func:`_refused`)."""
    from sqlalchemy import insert, update

    from commune.store.repository import aware, now
    from commune.store.schema import dataset_texts

    at = aware(datetime.fromisoformat(when))
    ours = {"origin": origin["origin"], "dataset_id": origin.get("dataset_id")}
    # The texts by their SHA-256, then those named by their keyed hash alone, which no
    # document here held.
    named = [
        *(("content_hash", text) for text in sorted(set(texts))),
        *(("keyed", key) for key in sorted(set(unknown))),
    ]
    for column, value in named:
        mine = _same_dataset(origin) & (dataset_texts.c[column] == value)
        if not conn.execute(
            update(dataset_texts).where(mine).values(retired_at=at, category=category)
        ).rowcount:
            conn.execute(
                insert(dataset_texts).values(
                    **{column: value}, **ours, given_at=now(), retired_at=at, category=category
                )
            )


def _published_on(croissant: dict[str, Any]) -> datetime | None:
    """When the dataset was exported (its croissant.json's datePublished, the publisher's
    clock, as its retirements' dates are), or None when it does not say."""
    from commune.store.repository import aware

    try:
        return aware(datetime.fromisoformat(str(croissant["datePublished"])))
    except (KeyError, ValueError):
        return None


def _refused(
    library: Library, text: str, salt: Any, origin: dict[str, Any], published: datetime | None
) -> bool:
    """Whether the dataset's document of SHA-256 ``text`` is one a dataset's publisher
    retired here: refused, unless this dataset is that publisher's (the same identity, or
    the same name for a retirement recorded without one: :func:`_same_dataset`) and was
    exported after the retirement, which is the publisher publishing it again (then the
    record is cleared). An export of the same dataset from before the retirement, or
    another dataset (an importer's, which may not have taken the retirement in yet, or
    another home's of the same name) is refused: the takedown holds until the one who asked
    for it publishes the text again."""
    from sqlalchemy import update

    from commune.store.repository import aware
    from commune.store.schema import dataset_texts

    with library.engine.begin() as conn:
        named = dataset_texts.c.content_hash == text
        if isinstance(salt, str):  # a short text, retired before this home held it
            named = named | (dataset_texts.c.keyed == keyed(salt, text))
        identity = origin.get("dataset_id")
        rows = conn.execute(
            select(
                dataset_texts.c.origin, dataset_texts.c.dataset_id, dataset_texts.c.retired_at
            ).where(named, dataset_texts.c.retired_at.is_not(None))
        ).all()

        def same(r: Any) -> bool:
            if r.dataset_id is not None:
                return bool(r.dataset_id == identity)
            return bool(r.origin == origin["origin"])

        again = [
            r for r in rows if same(r) and published is not None and published > aware(r.retired_at)
        ]
        if again:
            conn.execute(
                update(dataset_texts)
                .where(_same_dataset(origin), named)
                .values(retired_at=None, category=None)
            )
        return len(again) < len(rows)


def _dataset_texts(
    library: Library,
    directory: Path,
    root: Path,
    lines: list[dict[str, Any]],
    expected: dict[str, str],
) -> dict[str, str]:
    """The ``LicenseRef-…`` texts this commons lacks, read from the dataset's licences/ and
    checked against croissant.json; a refusal, before anything is added, for one that is
    missing or names another text here than in the dataset."""
    from commune.govern.licences import licence_text

    refs = sorted(
        {
            r
            for ln in lines
            for e in [*ln.get("history", []), ln]
            for r in licence_refs(e["licence"])
        }
    )
    wanted: dict[str, str] = {}
    with library.engine.connect() as conn:
        for ref in refs:
            entry = {"file": f"licences/{ref}.txt"}
            path = directory / entry["file"]
            mine = licence_text(conn, ref)
            if not path.is_file():
                if mine is None:
                    raise CommuneError(
                        f"no text is recorded for {ref}, and the dataset does not carry it",
                        f"ask its publisher for {ref}'s text, or for an export from this "
                        "version of Commune, which carries it under licences/",
                    )
                continue
            _check_file(directory, root, {**entry, "sha256": _sha256(path)}, expected)
            theirs = path.read_text(encoding="utf-8")
            if mine is not None and mine != theirs:
                raise CommuneError(
                    f"{ref} names another text here than in the dataset",
                    "import into a commons without it, or ask the publisher to rename theirs",
                )
            if mine is None:
                wanted[ref] = theirs
    return wanted


def _check_file(
    directory: Path, root: Path, entry: dict[str, Any], expected: dict[str, str]
) -> None:
    path = directory / entry["file"]
    # A listed file must be a regular file inside the dataset: "../../etc/passwd" or a
    # symbolic link to it would import a file of this host into the commons.
    if path.is_symlink() or not path.resolve().is_relative_to(root):
        raise CommuneError(
            f"{entry['file']!r} points outside the dataset {directory}",
            "a dataset lists only its own files, under files/",
        )
    if not path.is_file():
        raise CommuneError(f"{entry['file']} is listed but missing from {directory}")
    if _sha256(path) != expected.get(entry["file"]) or _sha256(path) != entry["sha256"]:
        raise CommuneError(
            f"{entry['file']} does not match its SHA-256 in croissant.json",
            "the dataset was altered or is incomplete",
        )


# What import reads of each line of documents.jsonl, and of each earlier revision in its
# history: a dataset written by another tool, or by an older export, may lack one.
LINE_KEYS: tuple[str, ...] = ("file", "sha256", "title", "licence", "contributor", "publisher")
LINE_KEYS += ("source_uri", "retrieved_at", "tdm_reserved")


# What each of those holds, as `commune export` writes it: a dataset is anyone's file, and a
# value of another kind (a number for a file's name, a list for an address, "yes" for a
# reservation) ended the import in a traceback, after the documents before it were added.
_TEXT, _MAYBE_TEXT, _DATE = (str,), (str, type(None)), "date"
LINE_TYPES: dict[str, tuple[type, ...] | str] = {
    "file": _TEXT,
    "sha256": _TEXT,
    "title": _TEXT,
    "licence": _MAYBE_TEXT,
    "contributor": _MAYBE_TEXT,
    "publisher": _MAYBE_TEXT,
    "source_uri": _TEXT,
    "retrieved_at": _DATE,
    "tdm_reserved": (bool,),
    "added_at": _DATE,
}


def _storable(value: str) -> bool:
    """Whether a text can be stored: JSON's "\\ud800" is a lone surrogate, which no UTF-8
    encodes (SQLite's driver raised UnicodeEncodeError writing a title or an address, after
    the documents before it were added), and PostgreSQL refuses a text holding NUL."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def _ill_typed(entry: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    """The fields of ``keys`` whose value in ``entry`` is not of the kind an export writes."""
    wrong = []
    for key in keys:
        kind, value = LINE_TYPES[key], entry[key]
        if isinstance(kind, str):  # _DATE
            try:
                datetime.fromisoformat(value)
            except (TypeError, ValueError):
                wrong.append(key)
        elif not isinstance(value, kind) or (isinstance(value, str) and not _storable(value)):
            wrong.append(key)
    return wrong


def _listing(path: Path) -> list[dict[str, Any]]:
    """documents.jsonl's lines, each checked to hold what import reads, each value of the
    kind an export writes: a missing one ended the import midway in a KeyError's traceback,
    the documents before it added."""
    lines: list[dict[str, Any]] = []
    text = path.read_text(encoding="utf-8")
    altered = "the dataset was altered or is incomplete: nothing was imported"
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            line = None
        history = line.get("history", []) if isinstance(line, dict) else []
        if not isinstance(history, list):
            raise CommuneError(f"documents.jsonl, line {number}: history is not a list", altered)
        entries = [line, *history]
        for i, entry in enumerate(entries):
            keys = (*LINE_KEYS, "added_at") if i == 0 else LINE_KEYS
            missing = [k for k in keys if not isinstance(entry, dict) or k not in entry]
            where = f"documents.jsonl, line {number}" + (f", history {i}" if i else "")
            if missing:
                raise CommuneError(f"{where}: no {', '.join(missing)}", altered)
            wrong = _ill_typed(entry, keys)
            if wrong:
                message = f"{where}: {', '.join(wrong)} not of the type an export writes"
                raise CommuneError(message, altered)
        lines.append(line)
    return lines


def _held_history(library: Library, collection: str, line: dict[str, Any]) -> tuple[int, int]:
    """(the id of the document ``line`` is in ``collection`` here, or 0 when it holds none;
    how many entries of the line's history its revisions here are, in order: 0 when they are
    anything else). Revisions are told by their bytes' SHA-256, as the dataset lists them."""
    with library.engine.connect() as conn:
        found = conn.execute(
            select(documents.c.id)
            .select_from(documents.join(collections))
            .where(collections.c.name == collection, documents.c.source_key == line["source_uri"])
        ).scalar()
        if found is None:
            return 0, 0
        mine = list(
            conn.execute(
                select(revisions.c.content_hash)
                .where(revisions.c.document_id == found)
                .order_by(revisions.c.number)
            ).scalars()
        )
    theirs = [entry["sha256"] for entry in line.get("history", [])]
    return int(found), len(mine) if mine and mine == theirs[: len(mine)] else 0


def _published_from_history(library: Library, collection: str, line: dict[str, Any]) -> bool:
    """Whether this home publishes the document at one of the dataset's earlier revisions."""
    earlier = {h["sha256"] for h in line.get("history", [])}
    if not earlier:
        return False
    with library.engine.connect() as conn:
        row = conn.execute(
            select(revisions.c.content_hash)
            .select_from(documents.join(collections))
            .join(revisions, revisions.c.id == documents.c.published_revision_id)
            .where(collections.c.name == collection, documents.c.source_key == line["source_uri"])
        ).first()
    return row is not None and row.content_hash in earlier


def _add_revision(
    library: Library, directory: Path, collection: str, entry: dict[str, Any], actor: Actor
) -> int | None:
    """Add one earlier revision; the id of its document, or None if it was not stored."""
    summary = library.add(
        [directory / entry["file"]],
        collection=collection,
        licence=entry["licence"],
        contributor=entry["contributor"],
        publisher=entry["publisher"],
        source=entry["source_uri"],
        tdm_reserved=entry["tdm_reserved"],
        actor=actor,
        history=True,
        work=IMPORTED,
    )
    outcome = summary.outcomes[0] if summary.outcomes else None
    if outcome is None or outcome.status not in ("added", "updated"):
        return None
    return outcome.document_id


def _restore(library: Library, document_id: int, entry: dict[str, Any], added_at: str) -> None:
    """Give the document's newest revision the date and title it had where it was exported
    from, and the document its first addition's date: an import is not when the text was
    written, and a title read from the exported file's name (a PDF without one) is not the
    title it had."""
    from sqlalchemy import update

    from commune.store.repository import aware

    when = datetime.fromisoformat(entry["retrieved_at"])
    first = datetime.fromisoformat(added_at)
    with library.engine.begin() as conn:
        doc = conn.execute(
            select(
                documents.c.current_revision_id,
                documents.c.published_revision_id,
                documents.c.added_at,
            ).where(documents.c.id == document_id)
        ).one()
        rev = conn.execute(
            select(revisions.c.created_at, revisions.c.title).where(
                revisions.c.id == doc.current_revision_id
            )
        ).one()
        if (
            rev.title == entry["title"][:500]
            and aware(rev.created_at) == aware(when)
            and aware(doc.added_at) == aware(first)
        ):
            return  # as exported already (an import run again)
        conn.execute(
            update(revisions)
            .where(revisions.c.id == doc.current_revision_id)
            .values(created_at=when, title=entry["title"][:500])
        )
        shown = {"title": entry["title"][:500], "retrieved_at": when}
        published = doc.published_revision_id == doc.current_revision_id
        conn.execute(
            update(documents)
            .where(documents.c.id == document_id)
            .values(added_at=first, **(shown if published else {}))
        )
        if published:  # the title is indexed with the passages
            from commune.store.repository import bump_generation

            bump_generation(conn, document_id)


def export_digest(engine: Engine, collection: str) -> str:
    """SHA-256 of what `commune export` would write for a collection: each published file's
    SHA-256 and name, sorted, one per line (timestamps of the export itself left out)."""
    rows = _rows(engine, _named(engine, collection))
    lines = sorted(f"{row['content_hash']}  files/{_name(row)}" for row in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
