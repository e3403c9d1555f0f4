"""Open export and import: a collection as an open dataset, described in Croissant and DCAT-AP.

Layout of an export::

    files/<id>-<name>     the original bytes of each published document
    documents.jsonl       one line of metadata and provenance per document
    croissant.json        Croissant 1.0 (ML datasets), built and validated with mlcroissant
    dcat.jsonld           DCAT-AP (the EU standard for data portals), checked with rdflib

Import reads ``croissant.json``, checks every file against its SHA-256, and
adds each document with its licence and provenance, so a round trip loses
nothing. mlcroissant and rdflib are optional (``pip install 'commune-coop[export]'``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from commune.commons.library import Library
from commune.errors import CommuneError
from commune.govern.policy import OPERATOR, Actor
from commune.store import blobs
from commune.store.schema import chunks, collections, documents, revisions

SUFFIX = {
    "text/html": ".html",
    "text/markdown": ".md",
    "text/plain": ".txt",
    "application/pdf": ".pdf",
    "application/vnd.oasis.opendocument.text": ".odt",
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
    if not licence or " " in licence:
        return None  # expressions have no single URL; kept verbatim in documents.jsonl
    return f"https://spdx.org/licenses/{licence}.html"


def _rows(engine: Engine, collection: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        cid = conn.execute(
            select(collections.c.id).where(collections.c.name == collection)
        ).scalar()
        if cid is None:
            raise CommuneError(f"no collection named {collection!r}")
        q = (
            select(
                documents.c.id,
                documents.c.added_at,
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
            r["chunks"] = [
                c.text
                for c in conn.execute(
                    select(chunks.c.text)
                    .where(chunks.c.revision_id == r["revision_id"])
                    .order_by(chunks.c.ordinal)
                )
            ]
    return rows


def _name(row: dict[str, Any]) -> str:
    base = Path(row["source_uri"].split("#")[0].rstrip("/")).name or "document"
    stem = re.sub(r"[^\w.-]+", "-", Path(base).stem)[:60] or "document"
    return f"{row['id']}-{stem}{SUFFIX.get(row['media_type'], Path(base).suffix or '.bin')}"


@dataclass
class ExportResult:
    directory: Path
    documents: int
    reconstructed: int  # documents whose original bytes were not kept (ingested before blobs)
    warnings: list[str]


def export_collection(
    engine: Engine, home: Path, collection: str, out: Path, description: str | None = None
) -> ExportResult:
    """Write ``collection`` of the database at ``engine`` as an open dataset into ``out``,
    each document's original bytes read from the home's blobs."""
    mlc, _ = _requires()
    rows = _rows(engine, collection)
    if not rows:
        raise CommuneError(f"collection {collection!r} has no published document to export")
    out.mkdir(parents=True, exist_ok=True)
    (out / "files").mkdir(exist_ok=True)
    reconstructed = 0
    lines = []
    for row in rows:
        data = blobs.get(home, row["content_hash"])
        media = row["media_type"]
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
                "source_uri": row["source_uri"],
                "added_at": row["added_at"].isoformat(),
                "retrieved_at": row["created_at"].isoformat(),
                "revision": row["number"],
                "tdm_reserved": bool(row["tdm_reserved"]),
            }
        )
    (out / "documents.jsonl").write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8"
    )
    desc = description or f"The {collection} collection of a Commune documents commons."
    licences = sorted({line["licence"] for line in lines if line["licence"]})
    _write_croissant(mlc, out, collection, desc, lines, licences)
    _write_dcat(out, collection, desc, lines)
    warnings = validate_export(out)
    return ExportResult(out, len(lines), reconstructed, warnings)


def _write_croissant(
    mlc: Any,  # the mlcroissant module, imported only when an export is asked for
    out: Path,
    name: str,
    desc: str,
    lines: list[dict[str, Any]],
    licences: list[str],
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
    for line in lines:
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
    urls = [u for u in (_spdx_url(x) for x in licences) if u] or licences
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
    (out / "croissant.json").write_text(
        json.dumps(metadata.to_json(), indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )


def _write_dcat(out: Path, name: str, desc: str, lines: list[dict[str, Any]]) -> None:
    now = datetime.now(UTC).isoformat()
    publishers = sorted({line["publisher"] for line in lines if line["publisher"]})
    dataset = {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "spdx": "http://spdx.org/rdf/terms#",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
        },
        "@id": f"urn:commune:collection:{name}",
        "@type": "dcat:Dataset",
        "dct:title": name,
        "dct:description": desc,
        "dct:modified": {"@value": now, "@type": "xsd:dateTime"},
        "dct:language": sorted({line["language"] for line in lines}),
        "dct:publisher": [{"@type": "foaf:Agent", "foaf:name": p} for p in publishers],
        "dcat:distribution": [
            {
                "@id": f"urn:commune:collection:{name}:{line['file']}",
                "@type": "dcat:Distribution",
                "dct:title": line["title"],
                "dcat:accessURL": {"@id": f"file:{line['file']}"},
                "dcat:downloadURL": {"@id": f"file:{line['file']}"},
                "dcat:mediaType": {
                    "@id": "https://www.iana.org/assignments/media-types/" + line["media_type"]
                },
                "dct:license": (
                    {"@id": _spdx_url(line["licence"])}
                    if _spdx_url(line["licence"])
                    else {"@type": "dct:LicenseDocument", "dct:title": line["licence"] or "unknown"}
                ),
                "dct:source": {"@id": line["source_uri"]}
                if "://" in line["source_uri"]
                else line["source_uri"],
                "spdx:checksum": {
                    "@type": "spdx:Checksum",
                    "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
                    "spdx:checksumValue": line["sha256"],
                },
            }
            for line in lines
        ],
    }
    (out / "dcat.jsonld").write_text(
        json.dumps(dataset, indent=2, ensure_ascii=False), encoding="utf-8"
    )


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


def validate_export(directory: Path) -> list[str]:
    """Raise with the problems if the metadata is invalid; return mlcroissant's warnings."""
    mlc, rdflib = _requires()
    problems = []
    try:
        dataset = mlc.Dataset(jsonld=str(directory / "croissant.json"))
        warnings = [str(w) for w in dataset.metadata.ctx.issues.warnings]
    except mlc.ValidationError as exc:
        raise CommuneError(f"invalid Croissant metadata: {exc}") from None
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
    library: Library, directory: Path, collection: str, actor: Actor = OPERATOR
) -> dict[str, int]:
    """Add an exported dataset's documents to ``collection`` with their licence and provenance."""
    validate_export(directory)
    croissant = json.loads((directory / "croissant.json").read_text(encoding="utf-8"))
    expected = {d.get("contentUrl"): d.get("sha256") for d in croissant.get("distribution", [])}
    lines = [
        json.loads(x)
        for x in (directory / "documents.jsonl").read_text(encoding="utf-8").splitlines()
        if x.strip()
    ]
    root = directory.resolve()
    for line in lines:  # check everything before adding anything
        path = directory / line["file"]
        # A listed file must be a regular file inside the dataset: "../../etc/passwd" or a
        # symbolic link to it would import a file of this host into the commons.
        if path.is_symlink() or not path.resolve().is_relative_to(root):
            raise CommuneError(
                f"{line['file']!r} points outside the dataset {directory}",
                "a dataset lists only its own files, under files/",
            )
        if not path.is_file():
            raise CommuneError(f"{line['file']} is listed but missing from {directory}")
        if _sha256(path) != expected.get(line["file"]) or _sha256(path) != line["sha256"]:
            raise CommuneError(
                f"{line['file']} does not match its SHA-256 in croissant.json",
                "the dataset was altered or is incomplete",
            )
    from commune.ingest.pipeline import check_source

    for line in lines:  # the whole dataset is checked before anything of it is added
        check_source(line["source_uri"])
    counts = {"added": 0, "updated": 0, "unchanged": 0, "failed": 0}
    for line in lines:
        summary = library.add(
            [directory / line["file"]],
            collection=collection,
            licence=line["licence"],
            contributor=line["contributor"],
            publisher=line["publisher"],
            source=line["source_uri"],
            tdm_reserved=line["tdm_reserved"],
            actor=actor,
        )
        for key in counts:
            counts[key] += getattr(summary, key)
    return counts


def export_digest(engine: Engine, collection: str) -> str:
    """SHA-256 of what `commune export` would write for a collection: each published file's
    SHA-256 and name, sorted, one per line (timestamps of the export itself left out)."""
    lines = sorted(
        f"{row['content_hash']}  files/{_name(row)}" for row in _rows(engine, collection)
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
