"""The catalogue of the collections this home shares outward: DCAT-AP JSON-LD (the
vocabulary `commune export` writes, commons/opendata.py), each dataset with its usage policy
in ODRL (policy.py), so that the rules travel with the data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from commune.commons.opendata import EU_LANGUAGE, EU_LANGUAGES
from commune.commons.peering import policy as odrl_policy
from commune.commons.peering.shares import shared
from commune.store.schema import documents


def catalogue(conn: Connection, name: str, url: str) -> dict[str, Any]:
    """``name`` and ``url``: this cooperative as peers know it (commune.toml [peers])."""
    base = url.rstrip("/")
    datasets = []
    for s in shared(conn):
        published = (documents.c.collection_id == s.collection_id) & (
            documents.c.status == "published"
        )
        licences = sorted(
            str(r.licence)
            for r in conn.execute(select(documents.c.licence).where(published).distinct())
            if r.licence
        )
        languages = sorted(
            str(r.language)
            for r in conn.execute(select(documents.c.language).where(published).distinct())
            if r.language in EU_LANGUAGES
        )
        count = conn.execute(select(func.count()).select_from(documents).where(published))
        target = f"{base}/peer/catalogue#{s.collection}" if base else f"urn:commune:{s.collection}"
        datasets.append(
            {
                "@id": target,
                "@type": "dcat:Dataset",
                "dct:identifier": s.collection,
                "dct:title": s.collection,
                "dct:description": s.description or f"{s.collection} ({name})",
                "dct:publisher": {"@type": "foaf:Agent", "foaf:name": name},
                "dct:language": [
                    {"@id": EU_LANGUAGE + EU_LANGUAGES[code], "@type": "dct:LinguisticSystem"}
                    for code in languages
                ],
                # The documents' own licences (SPDX); the policy below adds the sharing
                # cooperative's terms to them, never loosens them.
                "dct:license": [
                    {"@type": "dct:LicenseDocument", "dct:title": lic} for lic in licences
                ],
                "commune:documents": int(count.scalar() or 0),
                "dcat:distribution": [
                    {
                        "@type": "dcat:Distribution",
                        "dct:title": f"{s.collection}: search for peers",
                        "dcat:accessURL": {"@id": f"{base}/peer/search", "@type": "rdfs:Resource"},
                        "dcat:mediaType": {
                            "@id": "https://www.iana.org/assignments/media-types/application/json",
                            "@type": "dct:MediaType",
                        },
                    }
                ],
                "odrl:hasPolicy": odrl_policy.odrl(s.policy, target, name),
                "commune:policy": s.policy.to_json(),
            }
        )
    return {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
            **odrl_policy.context(),
        },
        "@id": f"{base}/peer/catalogue" if base else "urn:commune:peer-catalogue",
        "@type": "dcat:Catalog",
        "dct:title": name,
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": name},
        "dct:modified": {"@value": datetime.now(UTC).isoformat(), "@type": "xsd:dateTime"},
        "dcat:dataset": datasets,
    }
