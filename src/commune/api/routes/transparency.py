"""The transparency data as JSON: ``/transparency.json``, ``/transparency/bom.json`` and
``/transparency/sovereignty.json``. Public unless the charter keeps them to members
(``transparency_public = false``), then a key is needed. The HTML page ``/transparency`` is
served by the web routers (commune/web/), from the same ``Commune.transparency()``."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from commune.api.auth import current_actor
from commune.api.schemas import BillOfMaterials, SovereigntyMap, Transparency, described
from commune.core import Commune
from commune.errors import NotFound
from commune.http.deps import CommuneDep

router = APIRouter()

# The data's addresses: public, any site's page may read them (api/middleware.OpenData).
ADDRESSES = ("/transparency.json", "/transparency/bom.json", "/transparency/sovereignty.json")


def allowed_to_read(request: Request, commune: CommuneDep) -> Commune:
    """The facade, once the charter's rule for transparency is met."""
    if not commune.charter.utility.transparency_public:
        current_actor(request)  # the charter keeps it to members: a key is needed
    return commune


Readable = Annotated[Commune, Depends(allowed_to_read)]


def datasets_shown(request: Request, commune: Commune) -> list[str] | None:
    """The collections whose datasets a bill shows this caller (None: all). Public, the
    transparency pages show the public collections only: a member's private collection is
    named to nobody else, and a shared one to the cooperative's members; kept to members
    by the charter, those the caller's key may read."""
    if commune.charter.utility.transparency_public:
        return [c["name"] for c in commune.library.collections() if c["visibility"] == "public"]
    actor = current_actor(request)
    return None if actor.is_operator else sorted(commune.library.readable(actor))


@router.get(
    "/transparency.json",
    **described(Transparency, "The transparency report."),
)
def transparency_json(commune: Readable) -> dict[str, Any]:
    """The charter in force and its history, the models, energy totals, the share of
    requests at each of the charter's steps, the latest evaluations."""
    return commune.transparency()


@router.get("/transparency/bom.json", **described(BillOfMaterials, "The bill of materials."))
def transparency_bom(request: Request, commune: Readable) -> dict[str, Any]:
    """The latest bill of materials kept by `commune bom` (CycloneDX 1.6), with the datasets
    of the collections the caller may know of."""
    from commune.stack.bom import for_reader

    return for_reader(latest_boms(commune)[-1], datasets_shown(request, commune))


@router.get("/transparency/sovereignty.json", **described(SovereigntyMap, "The sovereignty map."))
def transparency_sovereignty(request: Request, commune: Readable) -> dict[str, Any]:
    """The sovereignty map of the latest bill, with what changed since the one before."""
    from commune.stack.bom import for_reader
    from commune.stack.sovereignty import sovereignty_map

    shown = datasets_shown(request, commune)
    boms = [for_reader(b, shown) for b in latest_boms(commune)]
    previous = boms[-2] if len(boms) > 1 else None
    return sovereignty_map(boms[-1], commune.charter.sovereignty.jurisdictions, previous)


def latest_boms(commune: Commune) -> list[dict[str, Any]]:
    """The two newest bills kept in the home (the newest last); built on the command line,
    not per request: hashing every model file takes seconds."""
    from commune.stack.bom import stored

    kept = stored(commune.settings.home)[-2:]
    if not kept:
        raise NotFound("no bill of materials yet", "the operator runs `commune bom` to make one")
    return [json.loads(p.read_text(encoding="utf-8")) for p in kept]
