"""`commune bom`: a CycloneDX 1.6 bill of materials of the running deployment, built with
cyclonedx-python-lib and checked by its JSON schema validator.

- Software: every distribution installed in Commune's environment, with its version,
  licence (SPDX where its metadata gives one) and the dependency graph from the
  distributions' own metadata.
- Models: the configured embedder and every generator, as ``machine-learning-model``
  components with a model card: parameters, quantisation, licence, openness, file hash,
  hosting (a local path, or an endpoint and its jurisdiction), evaluation scores.
- Datasets: each collection as a ``data`` component: its licence mix, its document count,
  and the hash of its export.

cyclonedx-python-lib does not model ``modelCard`` or component ``data`` yet: both are added
to the library's output, and the whole document is then validated against the 1.6 schema.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine

from commune import __version__
from commune.charter.catalogue import ModelCard
from commune.charter.rules import Charter
from commune.commons.library import Library
from commune.config import Settings
from commune.embed import Embedder
from commune.errors import CommuneError
from commune.text.numbers import plural

BOM_DIR = "bom"
PROPERTY = "commune:"


def _requires() -> None:
    try:
        import cyclonedx  # noqa: F401
    except ImportError:
        raise CommuneError(
            "the bill of materials needs cyclonedx-python-lib", "pip install 'commune-coop[bom]'"
        ) from None


def _prop(name: str, value: Any) -> Any:
    from cyclonedx.model import Property

    return Property(name=PROPERTY + name, value=str(value))


def _licences(expression: str | None, text: str | None = None) -> list[Any]:
    from cyclonedx.contrib.license.factories import LicenseFactory

    if expression:
        return [LicenseFactory().make_from_string(expression)]
    if text:
        return [LicenseFactory().make_with_name(text[:200])]
    return []


def dataset_expression(mix: dict[str, int]) -> str | None:
    """The one expression a collection's licence mix amounts to: its documents' licences
    taken together (AND), a choice kept as one parenthesised term; "unknown" is counted in
    the component's properties, not here. CycloneDX allows one expression or a list of
    plain licences, never both: a list mixing "A OR B" with "C" failed the schema check."""
    known = sorted(e for e in mix if e != "unknown")
    if len(known) <= 1:
        return known[0] if known else None
    return " AND ".join(f"({e})" if " " in e else e for e in known)


def _sha256(digest: str | None) -> list[Any]:
    from cyclonedx.contrib.hash.factories import HashTypeFactory

    return [HashTypeFactory().from_composite_str(f"sha256:{digest}")] if digest else []


@dataclass
class Deployment:
    """What a bill of materials describes: one home's settings, database, charter, models
    and collections."""

    settings: Settings
    engine: Engine
    charter: Charter
    embedder: Embedder
    cards: list[ModelCard]  # the model catalogue (charter/catalogue.py)
    library: Library


def models(deployment: Deployment) -> list[dict[str, Any]]:
    """Every configured model, as the BOM and the sovereignty map describe it."""
    from commune.evaluation.pins import distribution_fingerprint, sha256_file
    from commune.generate.registry import generator_class, model_specs

    charter = deployment.charter
    embedder = deployment.embedder
    out = [
        {
            "name": embedder.name,
            "kind": "embedding",
            "task": "feature-extraction",
            "params_b": embedder.params_b,
            "quantisation": embedder.quantisation,
            "licence": embedder.licence,
            "openness": embedder.openness,
            "origin": embedder.origin,
            "sha256": (distribution_fingerprint(embedder.package) or {}).get("sha256")
            if embedder.package
            else None,
            "hashed": "the RECORD of the package that ships the weights",
            "hosting": "local",
            "jurisdiction": charter.sovereignty.local_jurisdiction,
        }
    ]
    cards = {c.name: c for c in deployment.cards}
    for name, spec in sorted(model_specs(deployment.settings).items()):
        local = generator_class(spec.backend).local
        card = cards.get(name)
        out.append(
            {
                "name": name,
                "kind": "generation",
                "task": "text-generation",
                "params_b": spec.total_params_b,
                "quantisation": _quantisation(spec.path) if local else None,
                "licence": spec.licence,
                "openness": spec.openness,
                "origin": spec.origin,
                "sha256": sha256_file(spec.path) if local and spec.path else None,
                "hashed": "the GGUF file" if local else "not hashed: served by an endpoint",
                "hosting": spec.path if local else spec.base_url,
                "endpoint_model": None if local else spec.model,
                "jurisdiction": charter.sovereignty.local_jurisdiction
                if local
                else spec.jurisdiction,
                "wh_per_1k_tokens": card.wh_per_1k_tokens if card else None,
                # A figure with no word of how it was found reads as a measurement: the
                # catalogue's method (estimated, measured, modelled, configured) goes with it.
                "energy_method": card.energy_method if card else None,
                "wh_per_1k_range": "–".join(f"{w:g}" for w in card.wh_per_1k_range)
                if card and card.wh_per_1k_range
                else None,
            }
        )
    return out


def _quantisation(path: str | None) -> str | None:
    import re

    found = re.search(r"\.(Q\d_[A-Z0-9_]+|Q\d_\d|F16|F32|BF16)\.gguf$", path or "", re.I)
    return found.group(1) if found else None


def datasets(deployment: Deployment) -> list[dict[str, Any]]:
    from commune.commons.opendata import export_digest

    library = deployment.library
    out = []
    for c in library.collections():
        # What the collection publishes: a submission waiting for a curator, or retired, is
        # no part of the dataset (its export leaves it out too).
        docs = [
            d
            for d in library.documents(c["name"], limit=100000)
            if d["status"] == "published" and d["published_revision_id"] is not None
        ]
        mix = Counter(d["licence"] or "unknown" for d in docs)
        out.append(
            {
                "name": c["name"],
                "visibility": c["visibility"],
                "documents": len(docs),
                "licences": dict(sorted(mix.items())),
                "export_sha256": export_digest(deployment.engine, c["name"]) if docs else None,
            }
        )
    return out


def for_reader(bom: dict[str, Any], readable: Collection[str] | None) -> dict[str, Any]:
    """``bom`` as a reader sees it: the datasets of the collections ``readable`` names only
    (None: all, for the operator). A private collection's name is private too: the public
    /transparency/bom.json listed members' private collections, with their document counts
    and licence mix."""
    kept = [
        c
        for c in bom.get("components", [])
        if not str(c.get("bom-ref", "")).startswith("data:")
        or readable is None
        or c.get("name") in readable
    ]
    refs = {c.get("bom-ref") for c in kept} | {
        bom.get("metadata", {}).get("component", {}).get("bom-ref")
    }
    out = {**bom, "components": kept}
    if "dependencies" in bom:
        out["dependencies"] = [
            {**d, "dependsOn": [r for r in d.get("dependsOn", []) if r in refs]}
            for d in bom["dependencies"]
            if d.get("ref") in refs
        ]
    return out


def build(deployment: Deployment) -> dict[str, Any]:
    """The BOM of this deployment, as a validated CycloneDX 1.6 JSON object."""
    _requires()
    from cyclonedx.model import ExternalReference, ExternalReferenceType, XsUri
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6
    from packageurl import PackageURL

    from commune.stack.software import installed, own_distribution

    bom = Bom()
    root = Component(
        type=ComponentType.APPLICATION,
        name="commune",
        version=__version__,
        bom_ref="deployment",
        description=f"Commune deployment at {deployment.settings.home}",
        licenses=_licences("AGPL-3.0-or-later"),
    )
    bom.metadata.component = root
    own = own_distribution()
    dists = installed(own)
    by_ref: dict[str, Any] = {}
    for dist in sorted(dists.values(), key=lambda x: x.name):
        if dist.name == own:
            continue
        comp = Component(
            type=ComponentType.LIBRARY,
            name=dist.display,
            version=dist.version,
            bom_ref=f"pypi:{dist.name}",
            purl=PackageURL("pypi", None, dist.name, dist.version),
            licenses=_licences(dist.licence, dist.licence_text),
            description=dist.summary[:300] or None,
            properties=[_prop("licence_source", dist.licence_source)],
        )
        bom.components.add(comp)
        by_ref[dist.name] = comp
    for dist in dists.values():
        needs = [by_ref[t] for t in sorted(dist.requires)]
        if dist.name == own:
            bom.register_dependency(root, needs)
        elif needs:
            bom.register_dependency(by_ref[dist.name], needs)

    model_rows = models(deployment)
    latest = _scores(deployment.engine)
    for m in model_rows:
        props = [
            _prop(k, m[k])
            for k in ("kind", "openness", "origin", "hosting", "jurisdiction")
            if m.get(k) is not None
        ]
        refs = []
        if m["hosting"] and str(m["hosting"]).startswith("http"):
            refs.append(
                ExternalReference(
                    type=ExternalReferenceType.OTHER,
                    url=XsUri(m["hosting"]),
                    comment="OpenAI-compatible endpoint serving the model",
                )
            )
        comp = Component(
            type=ComponentType.MACHINE_LEARNING_MODEL,
            name=m["name"],
            bom_ref=f"model:{m['name']}",
            licenses=_licences(m["licence"]),
            hashes=_sha256(m["sha256"]),
            properties=props,
            external_references=refs,
            description=m["origin"],
        )
        bom.components.add(comp)
        bom.register_dependency(root, [comp])
    data_rows = datasets(deployment)
    for d in data_rows:
        comp = Component(
            type=ComponentType.DATA,
            name=d["name"],
            bom_ref=f"data:{d['name']}",
            licenses=_licences(dataset_expression(d["licences"])),
            hashes=_sha256(d["export_sha256"]),
            properties=[
                _prop("documents", d["documents"]),
                _prop("visibility", d["visibility"]),
                *(_prop(f"licence:{k}", v) for k, v in d["licences"].items()),
            ],
        )
        bom.components.add(comp)
        bom.register_dependency(root, [comp])

    data = cast(dict[str, Any], json.loads(JsonV1Dot6(bom).output_as_string()))
    for comp in data.get("components", []):
        ref = comp.get("bom-ref", "")
        if ref.startswith("model:"):
            m = next(x for x in model_rows if f"model:{x['name']}" == ref)
            comp["modelCard"] = _model_card(m, latest)
        elif ref.startswith("data:"):
            d = next(x for x in data_rows if f"data:{x['name']}" == ref)
            comp["data"] = [
                {
                    "type": "dataset",
                    "name": d["name"],
                    "description": plural("en", d["documents"], "{n} document", "{n} documents")
                    + " of the commons; licences: "
                    + ", ".join(f"{k} ({v})" for k, v in d["licences"].items()),
                    "classification": d["visibility"],
                }
            ]
    validate(json.dumps(data))
    return data


def _scores(engine: Engine) -> dict[tuple[str, str, str | None], dict[str, Any]]:
    from commune.charter.scores import latest

    with engine.connect() as conn:
        return latest(conn)


def _model_card(m: dict[str, Any], latest: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    props = [
        {"name": PROPERTY + key, "value": str(m[key])}
        for key in (
            "params_b",
            "quantisation",
            "openness",
            "hashed",
            "wh_per_1k_tokens",
            "wh_per_1k_range",
            "energy_method",
        )
        if m.get(key) is not None
    ]
    if m.get("params_b") is None:
        props.append({"name": PROPERTY + "params_b", "value": "unknown"})
    metrics = [
        {
            "type": "share of evaluation questions answered correctly (commune eval)",
            "value": f"{row['correct']:.4f}",
            "slice": f"{row['collection']} ({row['suite']}, {row['split']} split)",
        }
        for (collection, mode, model), row in sorted(latest.items(), key=lambda kv: kv[0][0])
        if mode == "generate" and model == m["name"]
    ]
    card: dict[str, Any] = {
        "modelParameters": {
            "task": m["task"],
            "inputs": [{"format": "text"}],
            "outputs": [{"format": "vector" if m["kind"] == "embedding" else "text"}],
        },
        "properties": props,
    }
    if metrics:
        card["quantitativeAnalysis"] = {"performanceMetrics": metrics}
    return card


def validate(text: str) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise CommuneError(f"the bill of materials is not valid CycloneDX 1.6: {error}")


def store(home: Path, data: dict[str, Any]) -> Path:
    """Keep a copy in the home, so that the next map can say what changed."""
    folder = home / BOM_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"bom-{stamp}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)  # a crash never leaves half a BOM to compare with
    return path


def stored(home: Path) -> list[Path]:
    return sorted((home / BOM_DIR).glob("bom-*.json"))
