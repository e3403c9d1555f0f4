"""The transparency page: the charter in force and its history, the models, energy and
carbon, the share of requests at each of the charter's steps, the latest evaluations.

Public, like /transparency.json, unless the charter keeps transparency to members
(``[utility] transparency_public = false``): then a person signs in first."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from commune.charter.audience import sees_everything
from commune.web.page import PageOf, TheCommune
from commune.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/transparency", response_class=HTMLResponse)
async def transparency(p: PageOf, commune: TheCommune) -> Response:
    if not commune.charter.utility.transparency_public:
        p.actor  # noqa: B018 -- the charter keeps it to members: SignInNeeded otherwise
    data = await run_in_threadpool(commune.transparency)
    # A model's energy method and the charter's reason may name the command that measures
    # it (« lancez `commune model calibrate smollm2` »): said to those who run the host or
    # ask who does, not to every reader, who has no shell (charter/audience.py).
    everything = p.session is not None and sees_everything(p.session.actor)
    return render(p, "transparency.html", data=data, everything=everything)
