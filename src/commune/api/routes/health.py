"""``GET /healthz``: up, which version, which generation of the commons it serves, and
whether the disk holding the home is full. No key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from commune import __version__
from commune.api.errors import language_of
from commune.api.schemas import Health, described
from commune.http.deps import CommuneDep
from commune.text.faults import caller_line

router = APIRouter()


@router.get(
    "/healthz",
    **described(Health, "Up: the version, the commons' generation, and a full disk said."),
)
def healthz(commune: CommuneDep, request: Request) -> dict[str, Any]:
    # It said "ok" while the disk under the home was full and every write failed. A full
    # disk is now said in the body ("disk_full", with the caller's line), and the status
    # stays 200: /healthz is the server's liveness, and a monitor or a supervisor that took
    # a 503 for a dead server would restart it, which frees no disk, or take the one server
    # out of service while its searches and pages still answer. A database out of reach is
    # the 503 (api/errors.py): that one a retry can cure.
    body: dict[str, Any] = {
        "status": "ok",
        "version": __version__,
        "generation": commune.generation(),
    }
    if commune.disk_full():
        body["status"] = "disk_full"
        body["detail"] = caller_line("disk_full", language_of(request))
    return body
