"""``GET /healthz``: up, which version, which generation of the commons it serves. No key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from commune import __version__
from commune.api.schemas import Health, described
from commune.http.deps import CommuneDep

router = APIRouter()


@router.get("/healthz", **described(Health, "Up: the version and the commons' generation."))
def healthz(commune: CommuneDep) -> dict[str, Any]:
    return {"status": "ok", "version": __version__, "generation": commune.generation()}
