"""The transparency data as JSON: ``/transparency.json``, ``/transparency/bom.json`` and
``/transparency/sovereignty.json``. Public unless the charter keeps them to members
(``transparency_public = false``), then a key is needed. The HTML page ``/transparency`` is
served by the web routers (commune/web/), from the same ``Commune.transparency()``."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from commune.api.auth import current_actor
from commune.core import Commune
from commune.errors import NotFound
from commune.http.deps import CommuneDep

router = APIRouter()


def allowed_to_read(request: Request, commune: CommuneDep) -> Commune:
    """The facade, once the charter's rule for transparency is met."""
    if not commune.charter.utility.transparency_public:
        current_actor(request)  # the charter keeps it to members: a key is needed
    return commune


Readable = Annotated[Commune, Depends(allowed_to_read)]


@router.get("/transparency.json")
def transparency_json(commune: Readable) -> dict[str, Any]:
    """The charter in force and its history, the models, energy totals, the share of
    requests at each of the charter's steps, the latest evaluations."""
    return commune.transparency()


@router.get("/transparency/bom.json")
def transparency_bom(commune: Readable) -> dict[str, Any]:
    """The latest bill of materials kept by `commune bom` (CycloneDX 1.6)."""
    return latest_boms(commune)[-1]


@router.get("/transparency/sovereignty.json")
def transparency_sovereignty(commune: Readable) -> dict[str, Any]:
    """The sovereignty map of the latest bill, with what changed since the one before."""
    from commune.stack.sovereignty import sovereignty_map

    boms = latest_boms(commune)
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
